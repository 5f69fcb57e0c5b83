//! With guarded memory, loads and stores on a 32-bit memory compile to
//! `base + zext(index) + offset` with no compare and no trap instruction;
//! without it, each access is checked.

mod common;

use common::function_ir;
use walmart_jit::TranslateConfig;

const LOAD_STORE_HEAVY: &str = r#"(module
  (memory 1)
  (func (param $n i32) (result i32) (local $i i32) (local $acc i32)
    (loop $l
      (i32.store offset=8 (local.get $i)
        (i32.add (i32.load (local.get $i)) (i32.load8_u offset=3 (local.get $i))))
      (i64.store16 (local.get $i) (i64.load32_s offset=100 (local.get $i)))
      (f64.store (local.get $i) (f64.load offset=16 (local.get $i)))
      (local.set $acc (i32.add (local.get $acc) (i32.load16_s (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc)))"#;

fn ir(guard_size: Option<u64>) -> String {
    let config = TranslateConfig {
        guard_size,
        ..Default::default()
    };
    function_ir(config, LOAD_STORE_HEAVY, 0)
}

#[test]
fn guarded_memory_accesses_have_no_bounds_check() {
    let text = ir(Some(2 << 30));
    assert!(text.contains("load.i32"), "{text}");
    assert!(
        !text.contains("icmp ugt"),
        "bounds check compare found:\n{text}"
    );
    assert!(!text.contains("trapnz"), "conditional trap found:\n{text}");
    assert!(text.contains("uextend.i64"), "{text}");
}

#[test]
fn explicit_mode_checks_every_access() {
    let text = ir(None);
    // Eight accesses, eight compares against the memory length.
    assert_eq!(text.matches("icmp ugt").count(), 8, "{text}");
    assert_eq!(text.matches("trapnz").count(), 8, "{text}");
}

#[test]
fn offsets_beyond_the_guard_keep_their_check() {
    let config = TranslateConfig {
        guard_size: Some(4096),
        ..Default::default()
    };
    let text = function_ir(
        config,
        r#"(module (memory 1) (func (param i32) (result i32)
            (i32.add (i32.load offset=100 (local.get 0)) (i32.load offset=8192 (local.get 0)))))"#,
        0,
    );
    assert_eq!(text.matches("icmp ugt").count(), 1, "{text}");
}
