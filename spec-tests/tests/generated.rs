//! Generated modules run alike under every attestation policy and memory
//! strategy, and every page they write reaches a verifier
//! (`walmart_spec_tests::generated`). More seeds, and wasmtime beside
//! them: `cargo run --release -p walmart-spec-tests --features wasmtime
//! --bin generated -- 0 5000 --wasmtime`.

use walmart_spec_tests::generated::{check, compile_mutants, variants};

/// Seeds each test checks on every `cargo test`; four tests, so that the
/// test harness spreads them over the cores.
const SEEDS: u64 = 50;

fn seeds_run_alike(first: u64) {
    let variants = variants().expect("every variant's engine");
    let mut failures = Vec::new();
    for seed in first..first + SEEDS {
        match check(seed, &variants, false) {
            Ok(m) => failures.extend(m.iter().map(|m| m.to_string())),
            Err(e) => failures.push(e.to_string()),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn generated_modules_run_alike_seeds_0_to_49() {
    seeds_run_alike(0);
}

#[test]
fn generated_modules_run_alike_seeds_50_to_99() {
    seeds_run_alike(50);
}

#[test]
fn generated_modules_run_alike_seeds_100_to_149() {
    seeds_run_alike(100);
}

#[test]
fn generated_modules_run_alike_seeds_150_to_199() {
    seeds_run_alike(150);
}

#[test]
fn mutated_modules_compile_or_are_refused_never_panic() {
    let variants = variants().expect("every variant's engine");
    let mut compiled = 0;
    for seed in 0..40 {
        compiled += compile_mutants(seed, &variants, 8).unwrap_or_else(|e| panic!("{e}"));
    }
    // Some mutants stay valid (a changed constant): they were compiled,
    // not only refused.
    assert!(compiled > 0);
}
