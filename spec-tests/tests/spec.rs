//! Checks that every spec-test directive recorded as passing in
//! `expectations.txt` still passes.

use std::path::Path;

use walmart::attest::Policy;

use walmart_spec_tests::{
    format_table, improvements, load_expectations, regressions, run_files, RunOptions, Suite,
};

/// Deep recursion in `assert_exhaustion` tests and in walmart's compiler
/// needs far more than the default test-thread stack.
const STACK_SIZE: usize = 256 << 20;

#[test]
fn spec_expectations_hold() {
    let worker = std::thread::Builder::new()
        .name("spec-tests".to_string())
        .stack_size(STACK_SIZE)
        .spawn(check_expectations)
        .expect("failed to spawn the spec-test thread");
    if let Err(panic) = worker.join() {
        std::panic::resume_unwind(panic);
    }
}

fn check_expectations() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("expectations.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "cannot read {}: {error}\ncreate it with \
             `cargo run --release -p walmart-spec-tests -- --suite all --update-expectations`",
            path.display()
        )
    });
    let expected = load_expectations(&text).expect("malformed expectations file");

    // Only files listed in the expectations are checked; new or deliberately
    // unlisted files are ignored.
    let files: Vec<(String, &'static str)> = Suite::ALL
        .into_iter()
        .flat_map(Suite::files)
        .filter(|(name, _)| expected.contains_key(name))
        .collect();
    let missing: Vec<&String> = expected
        .keys()
        .filter(|name| !files.iter().any(|(file, _)| file == *name))
        .collect();
    assert!(
        missing.is_empty(),
        "expectations name files not in any suite: {missing:?}"
    );

    // The results must hold with guarded memory (no bounds checks in
    // generated code), with explicit bounds checks, and with the `fine`
    // attestation instrumentation (store barriers, function hooks), and
    // with fuel counted and epoch checks compiled in, none of which may
    // change what any program computes. The last configuration also takes
    // every module through the precompiled format (saved, loaded back).
    let mut regressed = Vec::new();
    // The GC suite also runs with the collector interrupting every
    // allocation it can.
    for (guarded, attest, gc_stress, interrupts) in [
        (true, Policy::Off, false, false),
        (false, Policy::Off, false, false),
        (true, Policy::Fine, false, false),
        (true, Policy::Off, true, false),
        (true, Policy::Off, false, true),
    ] {
        let mut opts = RunOptions {
            precompiled: interrupts,
            ..RunOptions::default()
        };
        opts.config
            .guarded_memory(guarded)
            .attest(attest)
            .gc_stress(gc_stress)
            .consume_fuel(interrupts)
            .epoch_interruption(interrupts);
        let files = files
            .iter()
            .filter(|(name, _)| !gc_stress || name.starts_with("gc/"))
            .cloned();
        let reports = run_files(files, &opts);
        let guarded = format!(
            "{guarded}, attestation {attest}, GC stress {gc_stress}, fuel and epochs {interrupts}, precompiled {interrupts}"
        );
        println!("guarded memory: {guarded}\n{}", format_table(&reports));
        for improvement in improvements(&expected, &reports) {
            println!("improved {improvement}");
        }
        regressed.extend(
            regressions(&expected, &reports)
                .into_iter()
                .map(|r| format!("[guarded memory: {guarded}] {r}")),
        );
    }
    for regression in &regressed {
        println!("REGRESSION {regression}");
    }
    assert!(
        regressed.is_empty(),
        "{} spec directive(s) expected to pass no longer do:\n{}",
        regressed.len(),
        regressed.join("\n")
    );
}
