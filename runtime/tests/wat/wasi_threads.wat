;; A wasi-threads program: `_start` spawns four threads that each add to a
;; shared counter 10,000 times and print a line, then waits for all four
;; and prints the total. Its first argument, if any, is what a thread does
;; at the end instead: `trap` (unreachable), `exit` (proc_exit 7) or
;; `spin` (loop for ever).
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get"
    (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (export "memory" (memory 0))
  ;; 0: counter; 4: threads done; 8: the end's mode (0 none, 1 trap, 2 exit,
;; 3 spin)
  (data (i32.const 1024) "a thread is done\n")
  (data (i32.const 1056) "total 40000\n")
  (data (i32.const 1088) "total wrong\n")

  (func $print (param $at i32) (param $len i32) (param $slot i32)
    (i32.store (i32.add (i32.const 2048) (i32.mul (local.get $slot) (i32.const 16)))
      (local.get $at))
    (i32.store (i32.add (i32.const 2052) (i32.mul (local.get $slot) (i32.const 16)))
      (local.get $len))
    (drop (call $fd_write (i32.const 1)
      (i32.add (i32.const 2048) (i32.mul (local.get $slot) (i32.const 16)))
      (i32.const 1)
      (i32.add (i32.const 2056) (i32.mul (local.get $slot) (i32.const 16))))))

  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (local $n i32)
    (local.set $n (i32.const 10000))
    (loop $add
      (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
      (br_if $add (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (call $print (i32.const 1024) (i32.const 17) (local.get $arg))
    (if (i32.eq (i32.atomic.load (i32.const 8)) (i32.const 1)) (then unreachable))
    (if (i32.eq (i32.atomic.load (i32.const 8)) (i32.const 2))
      (then (call $proc_exit (i32.const 7))))
    (if (i32.eq (i32.atomic.load (i32.const 8)) (i32.const 3))
      (then (loop $forever (br $forever))))
    (drop (i32.atomic.rmw.add (i32.const 4) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 4) (i32.const -1))))

  (func (export "_start")
    (local $i i32) (local $done i32)
    ;; argv[1]'s first letter: `t` trap, `e` exit, `s` spin.
    (drop (call $args_sizes_get (i32.const 3000) (i32.const 3004)))
    (if (i32.ge_u (i32.load (i32.const 3000)) (i32.const 2))
      (then
        (drop (call $args_get (i32.const 3100) (i32.const 3200)))
        (if (i32.eq (i32.load8_u (i32.load (i32.const 3104))) (i32.const 116))
          (then (i32.atomic.store (i32.const 8) (i32.const 1))))
        (if (i32.eq (i32.load8_u (i32.load (i32.const 3104))) (i32.const 101))
          (then (i32.atomic.store (i32.const 8) (i32.const 2))))
        (if (i32.eq (i32.load8_u (i32.load (i32.const 3104))) (i32.const 115))
          (then (i32.atomic.store (i32.const 8) (i32.const 3))))))
    (loop $spawn_all
      (if (i32.lt_s (call $spawn (i32.add (local.get $i) (i32.const 1))) (i32.const 1))
        (then unreachable))
      (br_if $spawn_all (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
        (i32.const 4))))
    (loop $wait
      (local.set $done (i32.atomic.load (i32.const 4)))
      (if (i32.lt_u (local.get $done) (i32.const 4))
        (then
          (drop (memory.atomic.wait32 (i32.const 4) (local.get $done) (i64.const -1)))
          (br $wait))))
    (if (i32.eq (i32.atomic.load (i32.const 0)) (i32.const 40000))
      (then (call $print (i32.const 1056) (i32.const 12) (i32.const 0)))
      (else (call $print (i32.const 1088) (i32.const 12) (i32.const 0)) (unreachable)))))
