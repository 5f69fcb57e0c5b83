//! A real WASI 0.2 program side by side: Python (componentize-py's
//! CPython 3.14, `tests/fixtures/python/net_app.py`, built by
//! `scripts/build-python-component.sh`), 18 MB of Wasm. Compiling it,
//! loading it precompiled, and running it whole (instantiated, its
//! `wasi:cli/run` called): the `tcp` mode, a server and a client of its
//! own exchanging 10 KB through `wasi:sockets`, and the `udp` mode.
//!
//! `cargo run --release -p walmart-benches --bin python_component [--features wasmtime] [-- --runs N]`
//!
//! Prints medians of `--runs` (default 9; compiles take `--runs` / 3 + 1)
//! for walmart and, with the `wasmtime` feature, for wasmtime.

use std::path::PathBuf;

use walmart_benches::{die, median, runs_argument};

fn component_path() -> PathBuf {
    walmart_benches::python_component("net_app")
}

const MODES: [&str; 2] = ["tcp", "udp"];

/// Milliseconds: compile, load precompiled (from memory, from its file),
/// then a run of each mode.
type Times = [f64; 3 + MODES.len()];

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Milliseconds to compile a component (`compile`), to load its
/// precompiled form from memory (`load`) and from its file (`load_file`),
/// as one runtime does them; the compiled component for the runs.
fn load_times<C>(
    runs: usize,
    tag: &str,
    compile: impl Fn() -> C,
    serialize: impl Fn(&C) -> Vec<u8>,
    load: impl Fn(&[u8]),
    load_file: impl Fn(&std::path::Path),
) -> (C, [f64; 3]) {
    let t_compile = median(runs / 3 + 1, || drop(compile()));
    let component = compile();
    let precompiled = serialize(&component);
    let t_load = median(runs, || load(&precompiled));
    let path = std::env::temp_dir().join(format!("python-{tag}-{}.cwasm", std::process::id()));
    std::fs::write(&path, &precompiled).unwrap_or_else(|e| die(&e.to_string()));
    let t_file = median(runs, || load_file(&path));
    let _ = std::fs::remove_file(&path);
    (component, [ms(t_compile), ms(t_load), ms(t_file)])
}

fn walmart(runs: usize, bytes: &[u8]) -> Times {
    use walmart::component::{Component, Linker};
    use walmart::{Engine, Store};
    let engine = Engine::default();
    let (component, [t_compile, t_load, t_file]) = load_times(
        runs,
        "walmart",
        || Component::new(&engine, bytes).unwrap_or_else(|e| die(&e.to_string())),
        |c| c.serialize().unwrap_or_else(|e| die(&e.to_string())),
        // SAFETY: serialized by this process (`load_times`).
        |b| {
            drop(
                unsafe { Component::deserialize(&engine, b) }
                    .unwrap_or_else(|e| die(&e.to_string())),
            )
        },
        // SAFETY: written by this process (`load_times`).
        |p| {
            drop(
                unsafe { Component::deserialize_file(&engine, p) }
                    .unwrap_or_else(|e| die(&e.to_string())),
            )
        },
    );
    let mut linker = Linker::<walmart::wasi::WasiCtx>::new(&engine);
    walmart::component::wasi::add_to_linker(&mut linker, |c| c).unwrap();
    let mut times: Times = [t_compile, t_load, t_file, 0.0, 0.0];
    for (i, mode) in MODES.iter().enumerate() {
        let t = median(runs, || {
            let out = walmart::wasi::MemoryOutputPipe::new(1 << 16);
            let mut ctx = walmart::wasi::WasiCtx::new();
            ctx.args(["net_app", mode])
                .stdout(out.clone())
                .allow_tcp(true)
                .allow_udp(true)
                .inherit_network();
            let mut store = Store::new(&engine, ctx);
            let instance = linker.instantiate(&mut store, &component).unwrap();
            let run = walmart::component::wasi::command_run(&instance, &mut store)
                .unwrap()
                .unwrap();
            assert_eq!(run.call(&mut store, ()).unwrap(), (Ok(()),));
            let o = out.contents();
            assert!(
                !o.starts_with(b"error"),
                "{mode}: {}",
                String::from_utf8_lossy(&o)
            );
        });
        times[3 + i] = ms(t);
    }
    times
}

#[cfg(feature = "wasmtime")]
fn wasmtime(runs: usize, bytes: &[u8]) -> Times {
    use walmart_benches::WasmtimeP2 as Ctx;
    use wasmtime::component::{Component, Linker};
    use wasmtime::{Engine, Store};
    use wasmtime_wasi::WasiCtxBuilder;
    let engine = Engine::default();
    let (component, [t_compile, t_load, t_file]) = load_times(
        runs,
        "wasmtime",
        || Component::new(&engine, bytes).unwrap_or_else(|e| die(&e.to_string())),
        |c| c.serialize().unwrap_or_else(|e| die(&e.to_string())),
        // SAFETY: serialized by this process (`load_times`).
        |b| {
            drop(
                unsafe { Component::deserialize(&engine, b) }
                    .unwrap_or_else(|e| die(&e.to_string())),
            )
        },
        // SAFETY: written by this process (`load_times`).
        |p| {
            drop(
                unsafe { Component::deserialize_file(&engine, p) }
                    .unwrap_or_else(|e| die(&e.to_string())),
            )
        },
    );
    let mut linker = Linker::<Ctx>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    let mut times: Times = [t_compile, t_load, t_file, 0.0, 0.0];
    for (i, mode) in MODES.iter().enumerate() {
        let t = median(runs, || {
            let out = wasmtime_wasi::p2::pipe::MemoryOutputPipe::new(1 << 16);
            let ctx = WasiCtxBuilder::new()
                .args(&["net_app", mode])
                .stdout(out.clone())
                .allow_tcp(true)
                .allow_udp(true)
                .inherit_network()
                .build();
            let mut store = Store::new(&engine, Ctx::new(ctx));
            let cmd = wasmtime_wasi::p2::bindings::sync::Command::instantiate(
                &mut store, &component, &linker,
            )
            .unwrap();
            assert_eq!(cmd.wasi_cli_run().call_run(&mut store).unwrap(), Ok(()));
            let o = out.contents();
            assert!(
                !o.starts_with(b"error"),
                "{mode}: {}",
                String::from_utf8_lossy(&o)
            );
        });
        times[3 + i] = ms(t);
    }
    times
}

fn main() {
    let runs = runs_argument();
    let bytes = std::fs::read(component_path()).unwrap_or_else(|e| die(&e.to_string()));
    let ours = walmart(runs, &bytes);
    #[cfg(feature = "wasmtime")]
    let theirs = Some(wasmtime(runs, &bytes));
    #[cfg(not(feature = "wasmtime"))]
    let theirs: Option<Times> = None;
    println!(
        "{:<28} {:>10} {:>10} {:>7}",
        "python component (ms)", "walmart", "wasmtime", "ratio"
    );
    let names = [
        "compile",
        "load precompiled",
        "load precompiled file",
        "run tcp",
        "run udp",
    ];
    for (i, name) in names.iter().enumerate() {
        match theirs {
            Some(t) => println!(
                "{name:<28} {:>10.2} {:>10.2} {:>7.2}",
                ours[i],
                t[i],
                ours[i] / t[i]
            ),
            None => println!("{name:<28} {:>10.2} {:>10} {:>7}", ours[i], "-", "-"),
        }
    }
}
