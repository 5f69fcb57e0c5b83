//! `walmart-benches`: benchmark harnesses that compare walmart side by side
//! (with wasmtime, between configurations) and print ratios. See
//! `benches/RESULTS.md` for recorded figures.

/// Ends a harness on bad arguments or input: one line, exit status 2.
pub fn die(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(2)
}

/// `target/python-component/NAME.wasm` (componentize-py's CPython, from
/// `tests/fixtures/python/NAME.py`); dies naming the script that builds
/// it where it is missing.
pub fn python_component(name: &str) -> std::path::PathBuf {
    let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../target/python-component/{name}.wasm"));
    if !p.exists() {
        die(&format!(
            "{} is missing: run scripts/build-python-component.sh",
            p.display()
        ));
    }
    p
}

use std::time::{Duration, Instant};

use walmart::{Config, Engine, Linker, Module, Store};

/// The median of `runs` timed calls of the exported `run(arg)` of `wat`
/// under walmart's default configuration (after one warm-up), each
/// checked to give `expect`.
pub fn time_walmart(wat: &str, arg: i32, expect: i32, runs: usize) -> Duration {
    time_walmart_with(&Config::new(), wat, arg, expect, runs)
}

/// [`time_walmart`] with `config`.
pub fn time_walmart_with(
    config: &Config,
    wat: &str,
    arg: i32,
    expect: i32,
    runs: usize,
) -> Duration {
    time_walmart_linked(config, wat, arg, expect, runs, |_| {})
}

/// [`time_walmart_with`], the module's imports defined by `define`.
pub fn time_walmart_linked(
    config: &Config,
    wat: &str,
    arg: i32,
    expect: i32,
    runs: usize,
    define: impl FnOnce(&mut Linker<()>),
) -> Duration {
    let engine = Engine::new(config).unwrap_or_else(|e| die(&e.to_string()));
    let module = Module::new(&engine, wat).unwrap_or_else(|e| die(&e.to_string()));
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    define(&mut linker);
    let instance = linker
        .instantiate(&mut store, &module)
        .unwrap_or_else(|e| die(&e.to_string()));
    let run = instance
        .get_typed_func::<i32, i32>(&mut store, "run")
        .unwrap_or_else(|e| die(&e.to_string()));
    median(runs, || {
        let got = run.call(&mut store, arg).map_err(|e| e.to_string());
        check("walmart", got, arg, expect)
    })
}

/// [`time_walmart`] for wasmtime, with `config`.
#[cfg(feature = "wasmtime")]
pub fn time_wasmtime(
    wat: &str,
    arg: i32,
    expect: i32,
    runs: usize,
    config: &wasmtime::Config,
) -> Duration {
    time_wasmtime_linked(wat, arg, expect, runs, config, |_| {})
}

/// [`time_wasmtime`], the module's imports defined by `define`.
#[cfg(feature = "wasmtime")]
pub fn time_wasmtime_linked(
    wat: &str,
    arg: i32,
    expect: i32,
    runs: usize,
    config: &wasmtime::Config,
    define: impl FnOnce(&mut wasmtime::Linker<()>),
) -> Duration {
    let engine = wasmtime::Engine::new(config).unwrap_or_else(|e| die(&e.to_string()));
    let module = wasmtime::Module::new(&engine, wat).unwrap_or_else(|e| die(&e.to_string()));
    let mut store = wasmtime::Store::new(&engine, ());
    let mut linker = wasmtime::Linker::new(&engine);
    define(&mut linker);
    let instance = linker
        .instantiate(&mut store, &module)
        .unwrap_or_else(|e| die(&e.to_string()));
    let run = instance
        .get_typed_func::<i32, i32>(&mut store, "run")
        .unwrap_or_else(|e| die(&e.to_string()));
    median(runs, || {
        let got = run.call(&mut store, arg).map_err(|e| e.to_string());
        check("wasmtime", got, arg, expect)
    })
}

/// Ends the harness unless `engine`'s `run(arg)` gave `expect`.
pub fn check(engine: &str, got: Result<i32, String>, arg: i32, expect: i32) {
    match got {
        Ok(v) if v == expect => {}
        Ok(v) => die(&format!("{engine}: run({arg}) gave {v}, expected {expect}")),
        Err(e) => die(&format!("{engine}: run({arg}): {e}")),
    }
}

/// The median of `runs` timed calls of `call`, after one warm-up.
pub fn median(runs: usize, mut call: impl FnMut()) -> Duration {
    call();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            call();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

/// Milliseconds.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Instantiates `module` with WASI preview 1 in `store` and runs its
/// `_start`; exits the bench, naming `what`, where either fails (an exit
/// of status 0 is a success).
pub fn run_wasi_start(store: &mut Store<walmart::wasi::WasiCtx>, module: &Module, what: &str) {
    let mut linker = Linker::new(store.engine());
    walmart::wasi::add_to_linker(&mut linker, |c| c).unwrap();
    let instance = linker
        .instantiate(&mut *store, module)
        .unwrap_or_else(|e| die(&format!("{what}: {e}")));
    let start = instance
        .get_func(&mut *store, "_start")
        .unwrap_or_else(|| die(&format!("{what} has no _start")));
    if let Err(e) = start.call(&mut *store, &[], &mut []) {
        if e.exit_status() != Some(0) {
            die(&format!("{what}: {e}"));
        }
    }
}

/// The harness's only argument, `--runs N` (timed calls per row; 9 when
/// not given).
pub fn runs_argument() -> usize {
    let mut runs = 9usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => {
                runs = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .unwrap_or_else(|| die("--runs needs a positive number"))
            }
            other => die(&format!("unknown argument `{other}` (--runs N)")),
        }
    }
    runs
}

/// A store's data for wasmtime-wasi's WASI 0.2: its context and resource
/// table.
#[cfg(feature = "wasmtime")]
pub struct WasmtimeP2 {
    pub ctx: wasmtime_wasi::WasiCtx,
    pub table: wasmtime::component::ResourceTable,
}

#[cfg(feature = "wasmtime")]
impl WasmtimeP2 {
    /// Data holding `ctx` and an empty table.
    pub fn new(ctx: wasmtime_wasi::WasiCtx) -> WasmtimeP2 {
        WasmtimeP2 {
            ctx,
            table: wasmtime::component::ResourceTable::new(),
        }
    }
}

#[cfg(feature = "wasmtime")]
impl wasmtime_wasi::WasiView for WasmtimeP2 {
    fn ctx(&mut self) -> wasmtime_wasi::WasiCtxView<'_> {
        wasmtime_wasi::WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}
