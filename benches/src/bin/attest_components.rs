//! What attestation costs a component against the same program as a core
//! module, side by side in one run: `wc` (`tests/fixtures/c/wc.c`) over
//! generated text on standard input, as a preview 1 module and as the
//! WASI 0.2 command wit-component makes of it
//! (`tests/fixtures/components/wc.wasm`), unattested and under `coarse`,
//! `fine` (each with the built-in CNN beside the exact checks, as
//! `walmart run --attest` has them) and `tags`. Each run is whole:
//! instantiation, the command, the final verdict.
//!
//! `cargo run --release -p walmart-benches --bin attest_components [-- --runs N]`
//!
//! Prints the median of `--runs` runs (default 9, after one warm-up) per
//! row, and its ratio to the unattested run of the same form. With the
//! `wasmtime` feature, wasmtime runs both forms too (unattested, with
//! wasmtime-wasi's preview 1 and WASI 0.2), as a ratio to walmart's
//! unattested run of the same form.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use walmart::attest::model::default;
use walmart::attest::{AttestOptions, Policy, PreparedCnn};
use walmart::wasi::{MemoryInputPipe, MemoryOutputPipe, WasiCtx};
use walmart::{Config, Engine, Module, Store};
use walmart_benches::{die, run_wasi_start, runs_argument};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(path)
}

/// Mebibytes of input.
const MIB: usize = 12;

/// Lines of twelve words from a small vocabulary, about `mib` MiB.
fn text(mib: usize) -> Vec<u8> {
    const WORDS: [&str; 8] = [
        "alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta",
    ];
    let mut out = Vec::with_capacity(mib << 20);
    let mut x: u32 = 1;
    while out.len() < mib << 20 {
        for w in 0..12 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            out.extend_from_slice(WORDS[(x >> 16) as usize % WORDS.len()].as_bytes());
            out.push(if w == 11 { b'\n' } else { b' ' });
        }
    }
    out
}

/// The program in one form, compiled for one policy.
enum Program {
    Module(Module),
    Component(walmart::component::Component),
}

/// One run of `program` on `input`: instantiated, run, judged.
fn run(engine: &Engine, program: &Program, policy: Policy, input: &[u8]) -> Duration {
    let began = Instant::now();
    let out = MemoryOutputPipe::new(1 << 16);
    let mut ctx = WasiCtx::new();
    ctx.args(["wc"])
        .stdin(MemoryInputPipe::new(input.to_vec()))
        .stdout(out.clone());
    let mut store = Store::new(engine, ctx);
    if policy != Policy::Off {
        let mut opts = AttestOptions::new();
        if matches!(policy, Policy::Coarse | Policy::Fine) {
            let model = default::named("default").unwrap_or_else(|e| die(&e.to_string()));
            let cnn = PreparedCnn::cpu(model).unwrap_or_else(|e| die(&e.to_string()));
            opts = opts.also_verify(cnn.verifier().unwrap_or_else(|e| die(&e.to_string())));
        }
        store
            .configure_attestation(opts)
            .unwrap_or_else(|e| die(&e.to_string()));
    }
    match program {
        Program::Module(module) => run_wasi_start(&mut store, module, "wc.wasm"),
        Program::Component(component) => {
            let mut linker = walmart::component::Linker::new(engine);
            walmart::component::wasi::add_to_linker(&mut linker, |c| c).unwrap();
            let instance = linker
                .instantiate(&mut store, component)
                .unwrap_or_else(|e| die(&e.to_string()));
            let f = walmart::component::wasi::command_run(&instance, &mut store)
                .unwrap()
                .unwrap_or_else(|| die("wc's component has no wasi:cli/run"));
            let (status,) = f
                .call(&mut store, ())
                .unwrap_or_else(|e| die(&format!("components/wc.wasm: {e}")));
            if status.is_err() {
                die("components/wc.wasm failed");
            }
        }
    }
    if policy != Policy::Off {
        let stats = store
            .finish_attestation()
            .unwrap_or_else(|e| die(&e.to_string()));
        if stats.is_some_and(|s| s.detections > 0) {
            die("a detection in a benign run");
        }
    }
    if out.contents().is_empty() {
        die("wc printed nothing");
    }
    began.elapsed()
}

/// wasmtime's runs of the module and the component on `input`:
/// (form, median).
#[cfg(feature = "wasmtime")]
fn wasmtime(runs: usize, input: &[u8]) -> Vec<(&'static str, Duration)> {
    use walmart_benches::WasmtimeP2 as Ctx;
    use wasmtime::component::{Component, Linker};
    use wasmtime::{Engine, Module, Store};
    use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
    use wasmtime_wasi::WasiCtxBuilder;
    let engine = Engine::default();
    let read = |path: &str| std::fs::read(fixture(path)).unwrap_or_else(|e| die(&e.to_string()));
    let module = Module::new(&engine, read("c/wc.wasm")).unwrap_or_else(|e| die(&e.to_string()));
    let mut p1 = wasmtime::Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut p1, |c| c).unwrap();
    let bytes = input.to_vec();
    // A context builder for a run: `wc`, the input, output to memory.
    let context = || {
        let out = MemoryOutputPipe::new(1 << 16);
        let mut b = WasiCtxBuilder::new();
        b.args(&["wc"])
            .stdin(MemoryInputPipe::new(bytes.clone()))
            .stdout(out.clone());
        (b, out)
    };
    let run_module = || {
        let began = Instant::now();
        let (mut b, out) = context();
        let ctx = b.build_p1();
        let mut store = Store::new(&engine, ctx);
        let instance = p1.instantiate(&mut store, &module).unwrap();
        let start = instance
            .get_typed_func::<(), ()>(&mut store, "_start")
            .unwrap();
        let _ = start.call(&mut store, ());
        assert!(!out.contents().is_empty());
        began.elapsed()
    };
    let component =
        Component::new(&engine, read("components/wc.wasm")).unwrap_or_else(|e| die(&e.to_string()));
    let mut p2 = Linker::<Ctx>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut p2).unwrap();
    let run_component = || {
        let began = Instant::now();
        let (mut b, out) = context();
        let mut store = Store::new(&engine, Ctx::new(b.build()));
        let cmd =
            wasmtime_wasi::p2::bindings::sync::Command::instantiate(&mut store, &component, &p2)
                .unwrap();
        assert_eq!(cmd.wasi_cli_run().call_run(&mut store).unwrap(), Ok(()));
        assert!(!out.contents().is_empty());
        began.elapsed()
    };
    let median_of = |f: &dyn Fn() -> Duration| {
        f();
        let mut t: Vec<Duration> = (0..runs).map(|_| f()).collect();
        t.sort();
        t[t.len() / 2]
    };
    vec![
        ("module", median_of(&run_module)),
        ("component", median_of(&run_component)),
    ]
}

fn main() {
    let runs = runs_argument();
    let input = text(MIB);
    let policies = [Policy::Off, Policy::Coarse, Policy::Fine, Policy::Tags];
    println!(
        "wc over {:.1} MiB, median of {runs} runs (ms, and x the unattested run of its form)",
        input.len() as f64 / (1 << 20) as f64
    );
    let mut offs = Vec::new();
    for (form, path) in [("module", "c/wc.wasm"), ("component", "components/wc.wasm")] {
        let mut off = None;
        for policy in policies {
            let mut config = Config::new();
            config.attest(policy);
            let engine = Engine::new(&config).unwrap_or_else(|e| die(&e.to_string()));
            let bytes = std::fs::read(fixture(path)).unwrap_or_else(|e| die(&e.to_string()));
            let program = if form == "module" {
                Program::Module(
                    Module::new(&engine, &bytes).unwrap_or_else(|e| die(&e.to_string())),
                )
            } else {
                Program::Component(
                    walmart::component::Component::new(&engine, &bytes)
                        .unwrap_or_else(|e| die(&e.to_string())),
                )
            };
            run(&engine, &program, policy, &input);
            let mut times: Vec<Duration> = (0..runs)
                .map(|_| run(&engine, &program, policy, &input))
                .collect();
            times.sort();
            let t = times[times.len() / 2];
            let base = *off.get_or_insert_with(|| {
                offs.push((form, t));
                t
            });
            println!(
                "{form:10} {:7} {:8.1} ms  {:.2}x",
                policy.to_string(),
                t.as_secs_f64() * 1e3,
                t.as_secs_f64() / base.as_secs_f64()
            );
        }
    }
    #[cfg(feature = "wasmtime")]
    for ((form, t), (_, ours)) in wasmtime(runs, &input).into_iter().zip(&offs) {
        println!(
            "{form:10} wasmtime {:7.1} ms  walmart/wasmtime {:.2}",
            t.as_secs_f64() * 1e3,
            ours.as_secs_f64() / t.as_secs_f64()
        );
    }
    #[cfg(not(feature = "wasmtime"))]
    let _ = offs;
}
