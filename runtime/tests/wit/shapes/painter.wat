;; The core module of the `painter` world's test component
;; (`runtime/tests/bindgen.rs` wraps it with wit-component): each function
;; of `api` calls `canvas`'s of the same type, its flat values passed on and
;; a result through memory returned where the import wrote it; `run` logs
;; "run" and returns its argument plus one.
(module
  (import "example:shapes/canvas@1.0.0" "describe"
    (func $describe (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "example:shapes/canvas@1.0.0" "sum" (func $sum (param i32 i32) (result f64)))
  (import "example:shapes/canvas@1.0.0" "mirror" (func $mirror (param i32 i32 i32 i32 i32)))
  (import "example:shapes/canvas@1.0.0" "flip" (func $flip (param i32) (result i32)))
  (import "example:shapes/canvas@1.0.0" "[constructor]pen" (func $pen_new (param i32) (result i32)))
  (import "example:shapes/canvas@1.0.0" "[method]pen.draw" (func $pen_draw (param i32 i32 i32) (result i32)))
  (import "example:shapes/canvas@1.0.0" "[static]pen.count" (func $pen_count (result i32)))
  (import "example:shapes/canvas@1.0.0" "[resource-drop]pen" (func $pen_drop (param i32)))
  (import "$root" "log" (func $log (param i32 i32)))
  (import "[export]example:shapes/counters@1.0.0" "[resource-new]counter"
    (func $counter_new (param i32) (result i32)))

  (memory (export "memory") 2)
  (data (i32.const 16) "run")
  (global $heap (mut i32) (i32.const 4096))
  (global $live (mut i32) (i32.const 0))
  ;; Counters' cells, below the allocator's memory (512 of them at most).
  (global $cells (mut i32) (i32.const 2048))

  ;; A bump allocator that starts over at 4096 when the memory's end is
  ;; near: nothing it gives outlives the call it was given for.
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $at i32)
    (local.set $at
      (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get 2))))
    (if (i32.gt_u (i32.add (local.get $at) (local.get 3)) (i32.const 131072))
      (then (local.set $at (i32.const 4096))))
    (global.set $heap (i32.add (local.get $at) (local.get 3)))
    (local.get $at))

  (func (export "example:shapes/api@1.0.0#describe")
    (param i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    (call $describe (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4)
      (local.get 5) (local.get 6) (local.get 7) (local.get 8) (i32.const 1024))
    (i32.const 1024))
  (func (export "example:shapes/api@1.0.0#sum") (param i32 i32) (result f64)
    (call $sum (local.get 0) (local.get 1)))
  (func (export "example:shapes/api@1.0.0#mirror") (param i32 i32 i32 i32) (result i32)
    (call $mirror (local.get 0) (local.get 1) (local.get 2) (local.get 3) (i32.const 1024))
    (i32.const 1024))
  (func (export "example:shapes/api@1.0.0#flip") (param i32) (result i32)
    (call $flip (local.get 0)))
  (func (export "example:shapes/api@1.0.0#new-pen") (param i32) (result i32)
    (call $pen_new (local.get 0)))
  ;; A borrowed handle of the host's resource is dropped before returning,
  ;; as the canonical ABI asks.
  (func (export "example:shapes/api@1.0.0#draw-with") (param i32 i32 i32) (result i32)
    (call $pen_draw (local.get 0) (local.get 1) (local.get 2))
    (call $pen_drop (local.get 0)))
  (func (export "example:shapes/api@1.0.0#pens") (result i32)
    (call $pen_count))
  (func (export "example:shapes/api@1.0.0#discard") (param i32)
    (call $pen_drop (local.get 0)))
;; A counter is a cell of memory; its address is its representation.
  (func (export "example:shapes/counters@1.0.0#[constructor]counter") (param i32) (result i32)
    (local $cell i32)
    (local.set $cell (global.get $cells))
    (if (i32.ge_u (local.get $cell) (i32.const 4096)) (then unreachable))
    (global.set $cells (i32.add (global.get $cells) (i32.const 4)))
    (i32.store (local.get $cell) (local.get 0))
    (global.set $live (i32.add (global.get $live) (i32.const 1)))
    (call $counter_new (local.get $cell)))
  (func (export "example:shapes/counters@1.0.0#[method]counter.add") (param i32 i32) (result i32)
    (i32.store (local.get 0) (i32.add (i32.load (local.get 0)) (local.get 1)))
    (i32.load (local.get 0)))
  (func (export "example:shapes/counters@1.0.0#[static]counter.live") (result i32)
    (global.get $live))
  (func (export "example:shapes/counters@1.0.0#[dtor]counter") (param i32)
    (global.set $live (i32.sub (global.get $live) (i32.const 1))))
  (func (export "example:shapes/counters@1.0.0#peek") (param i32) (result i32)
    (i32.load (local.get 0)))

  (func (export "run") (param i32) (result i32)
    (call $log (i32.const 16) (i32.const 3))
    (i32.add (local.get 0) (i32.const 1))))
