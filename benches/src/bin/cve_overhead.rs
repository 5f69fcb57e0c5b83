//! Attestation overhead on one application of the CVE corpus
//! (`attest/cve/APP`), several configurations side by side: every round
//! runs each benign input under each configuration in turn, so a slow
//! spell of a shared machine falls on all of them. Prints, per
//! configuration, the sum over the inputs of each input's fastest run
//! (from `_start` to the final verdict, as `walmart attest evaluate`
//! times it), its ratio to the first configuration, the per-input times
//! and the final verdict's share (its shortest), then the final verdict's
//! mean and longest over every run, the first (cold) round included
//! (what a single run may wait for), and the verifiers' judging time
//! (`AttestStats::verifier_time`), mean a run.
//!
//! `cargo run --release -p walmart-benches --bin cve_overhead -- APP ROUNDS CONFIG...`
//!
//! A CONFIG is a policy (`off`, `coarse`, `fine`) with optional suffixes:
//! `+cnn` (the application's `model.wcnn` on the `cpu` back end beside the
//! exact checks), `+floats` (the same computing in floats on every CPU,
//! the 16-bit build left out), `+wasm` (the same on the `wasm` back end),
//! `+gpu` (on the `gpu` back end, where a CUDA device is), each
//! optionally with
//! `=FILE` for another model file (`fine+cnn=/tmp/small.wcnn`; a FILE
//! holding `@` or ending in one of the suffixes below is misread), `-barrier`
//! (the store barrier instead of the kernel's written-page tracking),
//! `-noheap` (no heap checks), `-nostack` (no stack frame guards; last),
//! `@US` (the verifier arms hooks at most every US microseconds instead of
//! `AttestOptions`' default). Example:
//! `cve_overhead lz4 20 off coarse fine fine-barrier fine+cnn fine+cnn@250`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use walmart::attest::model::verifier::{CnnVerifier, CpuScorer};
use walmart::attest::model::Model;
use walmart::attest::{OnDetect, Policy, PreparedCnn};
use walmart::wasi::{self, WasiCtx};
use walmart::{AttestOptions, Config, Engine, Linker, Module, Store};
use walmart_benches::die;

struct Setup {
    name: String,
    policy: Policy,
    cnn: Option<PreparedCnn>,
    interval: Option<Duration>,
    engine: Engine,
    module: Module,
    best: Vec<Duration>,
    verdict: Vec<Duration>,
    /// Every run's final verdict, for its mean and longest.
    verdicts: Vec<Duration>,
    /// The verifiers' judging time (`AttestStats::verifier_time`), summed
    /// over every run.
    judging: Duration,
}

fn setup(spec: &str, app: &Path, name: &str) -> Setup {
    let (rest, interval) = match spec.split_once('@') {
        Some((r, us)) => {
            let us: u64 = us
                .parse()
                .unwrap_or_else(|_| die(&format!("{spec}: @ takes microseconds")));
            (r, Some(Duration::from_micros(us)))
        }
        None => (spec, None),
    };
    let (rest, stack_guards) = match rest.strip_suffix("-nostack") {
        Some(r) => (r, false),
        None => (rest, true),
    };
    let (rest, heap_check) = match rest.strip_suffix("-noheap") {
        Some(r) => (r, false),
        None => (rest, true),
    };
    let (rest, barrier) = match rest.strip_suffix("-barrier") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let (policy, cnn) = match rest.split_once('+') {
        Some((p, b)) => (p, Some(b)),
        None => (rest, None),
    };
    let policy: Policy = policy.parse().unwrap_or_else(|e: String| die(&e));
    let mut config = Config::new();
    config
        .attest(policy)
        .attest_kernel_dirty(!barrier)
        .attest_heap_check(heap_check)
        .attest_stack_guards(stack_guards);
    let engine = Engine::new(&config).unwrap_or_else(|e| die(&e.to_string()));
    let wasm = app.join(format!("{name}.wasm"));
    let module = Module::from_file(&engine, &wasm)
        .unwrap_or_else(|e| die(&format!("{}: {e}", wasm.display())));
    let cnn = cnn.map(|backend| {
        let (backend, path) = match backend.split_once('=') {
            Some((b, file)) => (b, PathBuf::from(file)),
            None => (backend, app.join("model.wcnn")),
        };
        let model = Model::load(&path).unwrap_or_else(|e| die(&format!("{}: {e}", path.display())));
        match backend {
            "cnn" => PreparedCnn::cpu(model).unwrap_or_else(|e| die(&e.to_string())),
            "floats" => {
                let threshold = model.threshold;
                PreparedCnn::Cpu(Box::new(CnnVerifier::with_scorer(
                    CpuScorer::in_floats(model),
                    threshold,
                )))
            }
            "wasm" => PreparedCnn::wasm(&model).unwrap_or_else(|e| die(&e.to_string())),
            "gpu" => PreparedCnn::gpu(&model).unwrap_or_else(|e| die(&e.to_string())),
            other => die(&format!(
                "{spec}: unknown back end `{other}` (expected cnn, floats, wasm or gpu)"
            )),
        }
    });
    Setup {
        name: spec.to_string(),
        policy,
        cnn,
        interval,
        engine,
        module,
        best: Vec::new(),
        verdict: Vec::new(),
        verdicts: Vec::new(),
        judging: Duration::ZERO,
    }
}

impl Setup {
    /// One run of `input`: (from `_start` to the verdict, the verdict).
    fn run(&self, program: &str, input: &Path) -> (Duration, Duration, Duration) {
        let fail = |e: &dyn std::fmt::Display| -> ! { die(&format!("{}: {e}", input.display())) };
        let mut ctx = WasiCtx::new();
        ctx.args([program]);
        ctx.redirect(0, std::fs::File::open(input).unwrap_or_else(|e| fail(&e)));
        ctx.redirect(
            1,
            std::fs::File::create("/dev/null").unwrap_or_else(|e| fail(&e)),
        );
        let mut store = Store::new(&self.engine, ctx);
        if self.policy != Policy::Off {
            let mut opts = AttestOptions::new().on_detect(OnDetect::Log);
            if let Some(d) = self.interval {
                opts = opts.interval(d);
            }
            if let Some(cnn) = &self.cnn {
                opts = opts.also_verify(cnn.verifier().unwrap_or_else(|e| fail(&e)));
            }
            store
                .configure_attestation(opts)
                .unwrap_or_else(|e| fail(&e));
        }
        let mut linker = Linker::new(&self.engine);
        wasi::add_to_linker(&mut linker, |c| c).unwrap_or_else(|e| fail(&e));
        let instance = linker
            .instantiate(&mut store, &self.module)
            .unwrap_or_else(|e| fail(&e));
        let start = instance
            .get_func(&mut store, "_start")
            .unwrap_or_else(|| fail(&"no `_start` export"));
        let began = Instant::now();
        // The guest's exit status is the workload's business.
        let _ = start.call(&mut store, &[], &mut []);
        let stopped = Instant::now();
        let mut judging = Duration::ZERO;
        if self.policy != Policy::Off {
            let stats = store.finish_attestation().unwrap_or_else(|e| fail(&e));
            judging = stats.map_or(Duration::ZERO, |s| s.verifier_time);
        }
        (began.elapsed(), stopped.elapsed(), judging)
    }
}

fn micros(d: &[Duration]) -> Vec<u64> {
    d.iter().map(|d| d.as_micros() as u64).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        die("usage: cve_overhead APP ROUNDS CONFIG... (see the source's documentation)");
    }
    let name = &args[0];
    let rounds: usize = args[1].parse().unwrap_or_else(|_| die("ROUNDS: a number"));
    let app: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../attest/cve")
        .join(name);
    let benign = app.join("benign");
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&benign)
        .unwrap_or_else(|e| die(&format!("{}: {e}", benign.display())))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "in"))
        .collect();
    inputs.sort();
    let mut setups: Vec<Setup> = args[2..].iter().map(|s| setup(s, &app, name)).collect();
    for s in &mut setups {
        s.best = vec![Duration::MAX; inputs.len()];
        s.verdict = vec![Duration::MAX; inputs.len()];
    }
    for _ in 0..rounds {
        for (i, input) in inputs.iter().enumerate() {
            for s in &mut setups {
                let (total, verdict, judging) = s.run(name, input);
                s.judging += judging;
                s.best[i] = s.best[i].min(total);
                s.verdict[i] = s.verdict[i].min(verdict);
                s.verdicts.push(verdict);
            }
        }
    }
    let base: Duration = setups[0].best.iter().sum();
    for s in &setups {
        let total: Duration = s.best.iter().sum();
        println!(
            "{name} {:16} {:9.3} ms  x{:.3}  per input (us) {:?}  final verdict (us) {:?}",
            s.name,
            total.as_secs_f64() * 1e3,
            total.as_secs_f64() / base.as_secs_f64(),
            micros(&s.best),
            micros(&s.verdict)
        );
        if let Some(longest) = s.verdicts.iter().max() {
            let runs = s.verdicts.len() as u32;
            let mean = s.verdicts.iter().sum::<Duration>() / runs;
            println!(
                "{name} {:16} final verdict over {} runs: mean {} us, longest {} us; \
                 the verifiers' judging, mean {:.1} us a run",
                s.name,
                runs,
                mean.as_micros(),
                longest.as_micros(),
                (s.judging / runs).as_secs_f64() * 1e6
            );
        }
    }
}
