//! Compiling a module against loading it precompiled, side by side in one
//! run: `Module::new` (validation and Cranelift), `Module::deserialize`
//! of what `Module::serialize` wrote, and `Module::deserialize_file` of
//! the same bytes saved to a file (mapped, as the module cache and
//! `walmart run --allow-precompiled` load), for real workloads, in walmart
//! and, with the `wasmtime` feature, in wasmtime.
//!
//! `cargo run --release -p walmart-benches --bin precompiled [--features wasmtime] [-- --runs N] [--compile-runs N] [MODULE.wasm...]`
//!
//! Prints the median of `--runs` (default 9, after one warm-up; compiling
//! `--compile-runs` times, default the same) in milliseconds, the
//! precompiled size in KiB, and loading a file against compiling as a
//! ratio. Modules named on the command line replace the default
//! workloads (a large one: `--compile-runs 1`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use walmart_benches::{die, median, ms};

const WORKLOADS: [&str; 4] = ["sqlite.wasm", "lua.wasm", "sodium_sign.wasm", "lz4.wasm"];

/// What one engine measured of one module.
struct Measured {
    compile: Duration,
    load: Duration,
    load_file: Duration,
    size: usize,
}

/// Where the precompiled bytes are saved for `deserialize_file`.
fn saved_path(engine: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "walmart-bench-{engine}-{}.cwasm",
        std::process::id()
    ))
}

/// Ends the run on an engine's error.
fn fail<T>(e: impl std::fmt::Display) -> T {
    die(&e.to_string())
}

/// Times one engine's `compile` of the module, `load` of the bytes `save`
/// gives (the module compiled and serialized), and `load_file` of them
/// written to a file.
fn measure(
    engine: &str,
    (runs, compile_runs): (usize, usize),
    compile: impl Fn(),
    save: impl FnOnce() -> Vec<u8>,
    load: impl Fn(&[u8]),
    load_file: impl Fn(&Path),
) -> Measured {
    let compile_time = median(compile_runs, compile);
    let saved = save();
    let load = median(runs, || load(&saved));
    let path = saved_path(engine);
    std::fs::write(&path, &saved).unwrap_or_else(|e| die(&e.to_string()));
    let load_file = median(runs, || load_file(&path));
    let _ = std::fs::remove_file(&path);
    Measured {
        compile: compile_time,
        load,
        load_file,
        size: saved.len(),
    }
}

fn walmart(wasm: &[u8], runs: usize, compile_runs: usize) -> Measured {
    use walmart::{Config, Engine, Module};
    let engine = Engine::new(&Config::new()).unwrap_or_else(|e| die(&e.to_string()));
    measure(
        "walmart",
        (runs, compile_runs),
        || drop(Module::new(&engine, wasm).unwrap_or_else(fail)),
        || {
            Module::new(&engine, wasm)
                .and_then(|m| m.serialize())
                .unwrap_or_else(fail)
        },
        // SAFETY: written by this engine just now.
        |saved| drop(unsafe { Module::deserialize(&engine, saved) }.unwrap_or_else(fail)),
        // SAFETY: as above, and not changed while loaded.
        |path| drop(unsafe { Module::deserialize_file(&engine, path) }.unwrap_or_else(fail)),
    )
}

/// The same in wasmtime.
#[cfg(feature = "wasmtime")]
fn wasmtime(wasm: &[u8], runs: usize, compile_runs: usize) -> Measured {
    use wasmtime::{Config, Engine, Module};
    // Exception handling, on by default in walmart, for modules that use
    // it (C++ programs: YoWASP's yosys).
    let mut config = Config::new();
    config.wasm_exceptions(true);
    let engine = Engine::new(&config).unwrap_or_else(|e| die(&e.to_string()));
    measure(
        "wasmtime",
        (runs, compile_runs),
        || drop(Module::new(&engine, wasm).unwrap_or_else(fail)),
        || {
            Module::new(&engine, wasm)
                .and_then(|m| m.serialize())
                .unwrap_or_else(fail)
        },
        // SAFETY: written by this engine just now.
        |saved| drop(unsafe { Module::deserialize(&engine, saved) }.unwrap_or_else(fail)),
        // SAFETY: as above, and not changed while loaded.
        |path| drop(unsafe { Module::deserialize_file(&engine, path) }.unwrap_or_else(fail)),
    )
}

fn row(engine: &str, name: &str, m: Measured) {
    println!(
        "{name:<20} {engine:<9} {:>10.2} {:>10.3} {:>10.3} {:>9} {:>8.4}",
        ms(m.compile),
        ms(m.load),
        ms(m.load_file),
        m.size / 1024,
        m.load_file.as_secs_f64() / m.compile.as_secs_f64()
    );
}

fn main() {
    let (mut runs, mut compile_runs, mut modules) = (9usize, None, Vec::new());
    let mut args = std::env::args().skip(1);
    let count = |n: Option<String>, what: &str| {
        n.and_then(|n| n.parse().ok())
            .filter(|&n: &usize| n > 0)
            .unwrap_or_else(|| die(&format!("{what} needs a positive number")))
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = count(args.next(), "--runs"),
            "--compile-runs" => compile_runs = Some(count(args.next(), "--compile-runs")),
            flag if flag.starts_with('-') => die(&format!(
                "unknown argument `{flag}` (--runs N, --compile-runs N, MODULE.wasm...)"
            )),
            path => modules.push(PathBuf::from(path)),
        }
    }
    let compile_runs = compile_runs.unwrap_or(runs);
    if modules.is_empty() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads");
        modules = WORKLOADS.iter().map(|w| dir.join(w)).collect();
    }
    println!(
        "{:<20} {:<9} {:>10} {:>10} {:>10} {:>9} {:>8}",
        "workload", "engine", "compile ms", "load ms", "file ms", "size KiB", "file/cmp"
    );
    for path in &modules {
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let wasm = std::fs::read(path).unwrap_or_else(|e| die(&format!("{}: {e}", path.display())));
        row("walmart", &name, walmart(&wasm, runs, compile_runs));
        #[cfg(feature = "wasmtime")]
        row("wasmtime", &name, wasmtime(&wasm, runs, compile_runs));
    }
}
