//! What the exact heap checks cost on an allocation-heavy program, for
//! each allocator walmart checks, side by side in one run:
//! `tests/fixtures/c/heap_stress.c` (every allocator function at random,
//! each allocation's bytes written and read back) built with wasi-libc's
//! dlmalloc (`heap_stress.wasm`) and with zig's wasi-libc, whose
//! allocator is emmalloc (`heap_stress_emmalloc.wasm`), unattested and
//! under `coarse` and `fine` with the exact checks alone (no CNN, whose
//! cost is the same for both and measured elsewhere). Each run is whole:
//! instantiation, the program, the final verdict (the last walk).
//!
//! `cargo run --release -p walmart-benches --bin attest_allocators [-- --runs N]`
//!
//! Prints the median of `--runs` runs (default 9, after one warm-up) per
//! row, the allocator calls and heap chunks or regions checked, and the
//! ratio to the unattested run of the same build.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use walmart::attest::{AttestOptions, Policy};
use walmart::wasi::{MemoryInputPipe, MemoryOutputPipe, WasiCtx};
use walmart::{Config, Engine, Module, Store};
use walmart_benches::{die, run_wasi_start, runs_argument};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/c")
        .join(name)
}

/// heap_stress's rounds: about a million allocator calls.
const ROUNDS: &str = "800000";

/// One run of `module` (compiled for `policy`): its time, and the
/// allocator calls and heap chunks checked where attested.
fn run(engine: &Engine, module: &Module, policy: Policy, input: &[u8]) -> (Duration, u64, u64) {
    let began = Instant::now();
    let out = MemoryOutputPipe::new(1 << 16);
    let mut ctx = WasiCtx::new();
    ctx.args(["heap_stress", ROUNDS])
        .stdin(MemoryInputPipe::new(input.to_vec()))
        .stdout(out.clone());
    let mut store = Store::new(engine, ctx);
    if policy != Policy::Off {
        store
            .configure_attestation(AttestOptions::new())
            .unwrap_or_else(|e| die(&e.to_string()));
    }
    run_wasi_start(&mut store, module, "heap_stress");
    let (calls, chunks) = match policy {
        Policy::Off => (0, 0),
        _ => {
            let stats = store
                .finish_attestation()
                .unwrap_or_else(|e| die(&e.to_string()))
                .unwrap_or_else(|| die("no attestation statistics"));
            if stats.detections > 0 {
                die("a detection in a benign run");
            }
            (stats.allocator_calls, stats.heap_chunks)
        }
    };
    if out.contents().is_empty() {
        die("heap_stress printed nothing");
    }
    (began.elapsed(), calls, chunks)
}

fn main() {
    let runs = runs_argument();
    let input = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
        .unwrap_or_else(|e| die(&e.to_string()));
    println!(
        "heap_stress {ROUNDS} rounds, median of {runs} runs (ms, and x the unattested run of its build)"
    );
    for (allocator, name) in [
        ("dlmalloc", "heap_stress.wasm"),
        ("emmalloc", "heap_stress_emmalloc.wasm"),
    ] {
        let bytes = std::fs::read(fixture(name)).unwrap_or_else(|e| die(&e.to_string()));
        let mut off = None;
        for policy in [Policy::Off, Policy::Coarse, Policy::Fine] {
            let mut config = Config::new();
            config.attest(policy);
            let engine = Engine::new(&config).unwrap_or_else(|e| die(&e.to_string()));
            let module = Module::new(&engine, &bytes).unwrap_or_else(|e| die(&e.to_string()));
            run(&engine, &module, policy, &input);
            let mut results: Vec<(Duration, u64, u64)> = (0..runs)
                .map(|_| run(&engine, &module, policy, &input))
                .collect();
            results.sort();
            let (t, calls, chunks) = results[results.len() / 2];
            let base = *off.get_or_insert(t);
            println!(
                "{allocator:9} {:7} {:8.1} ms  {:.3}x  (allocator calls {calls}, heap chunks checked {chunks})",
                policy.to_string(),
                t.as_secs_f64() * 1e3,
                t.as_secs_f64() / base.as_secs_f64()
            );
        }
    }
}
