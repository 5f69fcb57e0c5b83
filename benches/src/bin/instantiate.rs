//! Instantiating a WASI program, side by side in one run: through the
//! linker (`Linker::instantiate`, each import looked up by name) and from
//! imports resolved once (`Linker::instantiate_pre`, then
//! `InstancePre::instantiate`), each in a fresh store, in walmart and, with
//! the `wasmtime` feature, in wasmtime; each with memories made on demand
//! and taken from the pooling allocator (rows `-pool`).
//!
//! `cargo run --release -p walmart-benches --bin instantiate [--features wasmtime] [-- --runs N]`
//!
//! Prints the median of `--runs` (default 9; each the mean of 200
//! instantiations) in microseconds.

use std::path::Path;
use std::time::Duration;

use walmart_benches::{die, median, runs_argument};

const WORKLOADS: [&str; 3] = ["sqlite.wasm", "lua.wasm", "sodium_sign.wasm"];
/// Memory slots of the pooled engines (the stores are dropped as they
/// go: one is in use at a time).
const POOLED_MEMORIES: u32 = 100;
/// Instantiations a timed run averages over.
const EACH: u32 = 200;

/// The mean time of `EACH` calls of `make`.
fn mean(runs: usize, mut make: impl FnMut()) -> Duration {
    median(runs, || {
        for _ in 0..EACH {
            make();
        }
    }) / EACH
}

/// (through the linker, from an `InstancePre`) in walmart, with memories
/// made on demand or taken from a pool.
fn walmart(wasm: &[u8], runs: usize, pooled: bool) -> (Duration, Duration) {
    use walmart::wasi::{self, WasiCtx};
    use walmart::{Config, Engine, InstanceAllocationStrategy, Linker, Module, Store};
    let mut config = Config::new();
    if pooled {
        let mut pool = walmart::PoolingAllocationConfig::new();
        pool.total_memories(POOLED_MEMORIES);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    let engine = Engine::new(&config).unwrap_or_else(|e| die(&e.to_string()));
    let module = Module::new(&engine, wasm).unwrap_or_else(|e| die(&e.to_string()));
    let mut linker = Linker::new(&engine);
    wasi::add_to_linker(&mut linker, |c: &mut WasiCtx| c).unwrap_or_else(|e| die(&e.to_string()));
    let linked = mean(runs, || {
        let mut store = Store::new(&engine, WasiCtx::new());
        linker
            .instantiate(&mut store, &module)
            .unwrap_or_else(|e| die(&e.to_string()));
    });
    let pre = linker
        .instantiate_pre(&module)
        .unwrap_or_else(|e| die(&e.to_string()));
    let resolved = mean(runs, || {
        let mut store = Store::new(&engine, WasiCtx::new());
        pre.instantiate(&mut store)
            .unwrap_or_else(|e| die(&e.to_string()));
    });
    (linked, resolved)
}

/// The same in wasmtime.
#[cfg(feature = "wasmtime")]
fn wasmtime(wasm: &[u8], runs: usize, pooled: bool) -> (Duration, Duration) {
    use wasmtime::{Config, Engine, InstanceAllocationStrategy, Linker, Module, Store};
    use wasmtime_wasi::p1::WasiP1Ctx;
    let mut config = Config::new();
    if pooled {
        let mut pool = wasmtime::PoolingAllocationConfig::new();
        pool.total_memories(POOLED_MEMORIES);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    let engine = Engine::new(&config).unwrap_or_else(|e| die(&e.to_string()));
    let module = Module::new(&engine, wasm).unwrap_or_else(|e| die(&e.to_string()));
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |c: &mut WasiP1Ctx| c)
        .unwrap_or_else(|e| die(&e.to_string()));
    let ctx = || wasmtime_wasi::WasiCtxBuilder::new().build_p1();
    let linked = mean(runs, || {
        let mut store = Store::new(&engine, ctx());
        linker
            .instantiate(&mut store, &module)
            .unwrap_or_else(|e| die(&e.to_string()));
    });
    let pre = linker
        .instantiate_pre(&module)
        .unwrap_or_else(|e| die(&e.to_string()));
    let resolved = mean(runs, || {
        let mut store = Store::new(&engine, ctx());
        pre.instantiate(&mut store)
            .unwrap_or_else(|e| die(&e.to_string()));
    });
    (linked, resolved)
}

fn row(engine: &str, name: &str, (linked, resolved): (Duration, Duration)) {
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "{name:<20} {engine:<14} {:>10.1} {:>10.1}",
        us(linked),
        us(resolved)
    );
}

fn main() {
    let runs = runs_argument();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads");
    println!(
        "{:<20} {:<14} {:>10} {:>10}",
        "workload", "engine", "linker us", "pre us"
    );
    for name in WORKLOADS {
        let wasm = std::fs::read(dir.join(name)).unwrap_or_else(|e| die(&format!("{name}: {e}")));
        for (pooled, suffix) in [(false, ""), (true, "-pool")] {
            row(
                &format!("walmart{suffix}"),
                name,
                walmart(&wasm, runs, pooled),
            );
            #[cfg(feature = "wasmtime")]
            row(
                &format!("wasmtime{suffix}"),
                name,
                wasmtime(&wasm, runs, pooled),
            );
        }
    }
}
