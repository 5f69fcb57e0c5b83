//! The tag monitor's inline checks: one per access, except where a check
//! earlier in the same straight-line run already covers the bytes.

use walmart_jit::translate::tags::TagCodegen;
use walmart_jit::{Compiler, TranslateConfig};

fn ir(wat: &str) -> String {
    let compiler = Compiler::new(TranslateConfig {
        guard_size: Some(2 << 30),
        tags: Some(TagCodegen {
            pointer_colours: false,
            check_loads: true,
            trace_accesses: false,
        }),
        ..Default::default()
    })
    .unwrap();
    let wasm = wat::parse_str(wat).unwrap();
    compiler.function_ir(&wasm, 1).unwrap()
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
