//! The tag monitor's inline checks: one per access, except where a check
//! earlier in the same straight-line run already covers the bytes.

mod common;

use common::function_ir;
use walmart_jit::translate::tags::TagCodegen;
use walmart_jit::TranslateConfig;

fn ir(wat: &str) -> String {
    ir_with(wat, true)
}

/// The IR of function 1 of `wat` under the tag monitor, with or without
/// the stack frames' guards.
fn ir_with(wat: &str, stack_guards: bool) -> String {
    let config = TranslateConfig {
        guard_size: Some(2 << 30),
        tags: Some(TagCodegen {
            pointer_colours: false,
            check_loads: true,
            trace_accesses: false,
            stack_guards,
        }),
        ..Default::default()
    };
    function_ir(config, wat, 1)
}

/// A frame of clang's shape is 16 bytes larger in both its prologue and
/// its epilogue, and the guard's shadow byte is painted (the redzone
/// colour, `0xf0`) and cleared; without guards the frame is the module's.
#[test]
fn a_frame_of_clangs_shape_gets_its_guard() {
    let wat = r#"(module
      (memory 1)
      (global $sp (mut i32) (i32.const 4096))
      (func $leaf (param i32))
      (func (result i32) (local i32)
        global.get $sp i32.const 32 i32.sub local.tee 0 global.set $sp
        local.get 0 call $leaf
        local.get 0 i32.load
        local.get 0 i32.const 32 i32.add global.set $sp))"#;
    let guarded = ir_with(wat, true);
    // Prologue and epilogue; the guard's own address is `$fp + 32`.
    assert_eq!(guarded.matches("iconst.i32 48").count(), 2, "{guarded}");
    assert!(guarded.contains("iconst.i8 -16"), "{guarded}");
    assert!(guarded.contains("iconst.i8 0"), "{guarded}");
    // Painted at `$fp + N` (32), cleared at the caller's `$sp - 16`.
    assert!(guarded.contains("iconst.i32 32"), "{guarded}");
    assert!(guarded.contains("iconst.i32 -16"), "{guarded}");
    assert!(guarded.contains("umin"), "{guarded}");
    let plain = ir_with(wat, false);
    assert!(plain.contains("iconst.i32 32"), "{plain}");
    assert!(!plain.contains("iconst.i32 48"), "{plain}");
    assert!(!plain.contains("iconst.i8 -16"), "{plain}");
}

/// Shadow loads: two per multi-byte check (first and last granule).
fn shadow_loads(text: &str) -> usize {
    text.matches("uload8.i32 notrap aligned").count()
}

#[test]
fn covered_accesses_are_checked_once_per_run() {
    let text = ir(r#"(module
      (memory 1)
      (func $other)
      (func (param $p i32) (result i32)
        (i32.load (local.get $p))              ;; checked
        (i32.load (local.get $p))              ;; covered
        (i32.load8_u offset=2 (local.get $p))  ;; covered: bytes 2..3 of 0..4
        (i32.load offset=4 (local.get $p))     ;; checked: other bytes
        (i32.add) (i32.add) (i32.add)
        (i32.store (local.get $p) (i32.const 1)) ;; checked: a load's check is laxer
        (i32.load (local.get $p))              ;; covered by the store
        (call $other)                          ;; may recolour memory
        (i32.load (local.get $p))              ;; checked again
        (i32.add) (i32.add)))"#);
    assert_eq!(shadow_loads(&text), 4 * 2, "{text}");
}

#[test]
fn branches_end_the_run() {
    let text = ir(r#"(module
      (memory 1)
      (func $other)
      (func (param $p i32) (result i32)
        (i32.load (local.get $p))
        (block (br_if 0 (local.get $p)))
        (i32.load (local.get $p))
        (i32.add)))"#);
    assert_eq!(shadow_loads(&text), 2 * 2, "{text}");
}
