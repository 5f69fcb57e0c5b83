//! Compiling a module against loading it precompiled, side by side in one
//! run: `Module::new` (validation and Cranelift) and `Module::deserialize`
//! of what `Module::serialize` wrote, for real workloads, in walmart and,
//! with the `wasmtime` feature, in wasmtime.
//!
//! `cargo run --release -p walmart-benches --bin precompiled [--features wasmtime] [-- --runs N]`
//!
//! Prints the median of `--runs` (default 9, after one warm-up) in
//! milliseconds, the precompiled size in KiB, and load against compile as
//! a ratio.

use std::path::Path;
use std::time::Duration;

use walmart_benches::{die, median, ms, runs_argument};

const WORKLOADS: [&str; 4] = ["sqlite.wasm", "lua.wasm", "sodium_sign.wasm", "lz4.wasm"];

/// (compile, load, precompiled bytes) in walmart.
fn walmart(wasm: &[u8], runs: usize) -> (Duration, Duration, usize) {
    use walmart::{Config, Engine, Module};
    let engine = Engine::new(&Config::new()).unwrap_or_else(|e| die(&e.to_string()));
    let compile = median(runs, || {
        Module::new(&engine, wasm).unwrap_or_else(|e| die(&e.to_string()));
    });
    let saved = Module::new(&engine, wasm)
        .and_then(|m| m.serialize())
        .unwrap_or_else(|e| die(&e.to_string()));
    let load = median(runs, || {
        // SAFETY: written by this engine just now.
        unsafe { Module::deserialize(&engine, &saved) }.unwrap_or_else(|e| die(&e.to_string()));
    });
    (compile, load, saved.len())
}

/// The same in wasmtime.
#[cfg(feature = "wasmtime")]
fn wasmtime(wasm: &[u8], runs: usize) -> (Duration, Duration, usize) {
    use wasmtime::{Config, Engine, Module};
    let engine = Engine::new(&Config::new()).unwrap_or_else(|e| die(&e.to_string()));
    let compile = median(runs, || {
        Module::new(&engine, wasm).unwrap_or_else(|e| die(&e.to_string()));
    });
    let saved = Module::new(&engine, wasm)
        .and_then(|m| m.serialize())
        .unwrap_or_else(|e| die(&e.to_string()));
    let load = median(runs, || {
        // SAFETY: written by this engine just now.
        unsafe { Module::deserialize(&engine, &saved) }.unwrap_or_else(|e| die(&e.to_string()));
    });
    (compile, load, saved.len())
}

fn row(engine: &str, name: &str, (compile, load, size): (Duration, Duration, usize)) {
    println!(
        "{name:<20} {engine:<9} {:>10.2} {:>10.3} {:>9} {:>8.4}",
        ms(compile),
        ms(load),
        size / 1024,
        load.as_secs_f64() / compile.as_secs_f64()
    );
}

fn main() {
    let runs = runs_argument();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads");
    println!(
        "{:<20} {:<9} {:>10} {:>10} {:>9} {:>8}",
        "workload", "engine", "compile ms", "load ms", "size KiB", "load/cmp"
    );
    for name in WORKLOADS {
        let wasm = std::fs::read(dir.join(name)).unwrap_or_else(|e| die(&format!("{name}: {e}")));
        row("walmart", name, walmart(&wasm, runs));
        #[cfg(feature = "wasmtime")]
        row("wasmtime", name, wasmtime(&wasm, runs));
    }
}
