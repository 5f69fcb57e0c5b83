//! The count of the program's allocator calls in generated code
//! (`AttestCodegen::allocator_calls`): at the allocator's entries, not
//! in a function that only forwards to another, and not elsewhere.

mod common;

use common::function_ir;
use walmart_jit::translate::AttestCodegen;
use walmart_jit::vmctx::{ATTEST_ALLOCATOR_CALLS, ATTEST_ALLOCATOR_CALL_MARK};
use walmart_jit::TranslateConfig;

/// `free` forwards to `dlfree`, as wasi-libc's does; `run` calls `free`.
const WAT: &str = r#"(module
  (memory 1)
  (func $malloc (export "malloc") (param i32) (result i32) (local.get 0))
  (func $free (export "free") (param i32) (call $dlfree (local.get 0)))
  (func $dlfree (param i32))
  (func $run (export "run") (call $free (call $malloc (i32.const 8)))))"#;

fn ir(allocator_calls: bool, index: u32) -> String {
    let config = TranslateConfig {
        attest: AttestCodegen {
            allocator_calls,
            ..Default::default()
        },
        ..Default::default()
    };
    function_ir(config, WAT, index)
}

/// Whether the IR touches the count (a load or store at its offset in the
/// attestation state), and the mark.
fn counts(ir: &str) -> (bool, bool) {
    let at = |offset: i32| ir.lines().any(|l| l.contains(&format!("+{offset}")));
    (at(ATTEST_ALLOCATOR_CALLS), at(ATTEST_ALLOCATOR_CALL_MARK))
}

#[test]
fn allocator_entries_count_and_forwarders_leave_it_to_their_callee() {
    // `malloc` and `dlfree` count at entry and compare with the mark.
    assert_eq!(counts(&ir(true, 0)), (true, true));
    assert_eq!(counts(&ir(true, 2)), (true, true));
    // `free` only forwards: neither its entry nor its call counts.
    assert_eq!(counts(&ir(true, 1)), (false, false), "{}", ir(true, 1));
    // The program's calls are counted by the callee's entry.
    assert_eq!(counts(&ir(true, 3)), (false, false));
    // Off: nothing anywhere.
    for f in 0..4 {
        assert_eq!(counts(&ir(false, f)), (false, false));
    }
}
