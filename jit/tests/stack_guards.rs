//! Stack frame guards under `coarse` and `fine` in generated code: a frame
//! of clang's shape is 16 bytes larger, its guard zeroed as the frame is
//! made and checked as it is released; with explicit bounds checks too.

mod common;

use common::function_ir;
use walmart_jit::translate::AttestCodegen;
use walmart_jit::TranslateConfig;

const WAT: &str = r#"(module
  (memory 1)
  (global $sp (mut i32) (i32.const 4096))
  (func $leaf (param i32))
  (func (local i32)
    global.get $sp i32.const 32 i32.sub local.tee 0 global.set $sp
    local.get 0 call $leaf
    local.get 0 i32.const 32 i32.add global.set $sp))"#;

fn ir(stack_guards: bool, guard_size: Option<u64>) -> String {
    let config = TranslateConfig {
        guard_size,
        attest: AttestCodegen {
            heap_floor: false,
            stack_guards,
            ..Default::default()
        },
        ..Default::default()
    };
    function_ir(config, WAT, 1)
}

#[test]
fn a_frame_of_clangs_shape_gets_a_zero_guard_checked_at_its_return() {
    for guard_size in [Some(2 << 30), None] {
        let guarded = ir(true, guard_size);
        // The frame's size in the prologue and the epilogue.
        assert_eq!(guarded.matches("iconst.i32 48").count(), 2, "{guarded}");
        // Two 8-byte stores of zero, two 8-byte loads at the restored
        // stack pointer less 16, and a call out where they are not zero.
        assert_eq!(guarded.matches("store little").count(), 2, "{guarded}");
        assert!(guarded.contains("iconst.i32 -16"), "{guarded}");
        assert_eq!(guarded.matches("load.i64 little").count(), 2, "{guarded}");
        assert!(guarded.contains("preserve_all"), "{guarded}");
        let plain = ir(false, guard_size);
        assert!(!plain.contains("iconst.i32 48"), "{plain}");
        assert!(!plain.contains("preserve_all"), "{plain}");
    }
}
