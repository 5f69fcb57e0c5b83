//! Real workloads in walmart and in wasmtime, side by side in one run.
//!
//! ```text
//! cargo run --release -p walmart-benches --features wasmtime --bin compare [-- OPTIONS] [WORKLOAD...]
//!   --runs N                   timed runs per child (default 3, after one warm-up)
//!   --rounds R                 children per workload and engine, alternating engines (default 5)
//!   --explicit-bounds-checks   walmart without guarded memory
//!   --attest P1,P2,...         instead of wasmtime, compare walmart with these
//!                              attestation policies (coarse, fine, fine-sync,
//!                              coarse-barrier: coarse without kernel dirty
//!                              tracking; coarse-noheap, fine-noheap: without
//!                              the walk of the allocator's chunk chain; fine-cnn: the built-in CNN beside
//!                              the digest checks; fine-gpu: the same
//!                              on the gpu back end; tags: the tag monitor,
//!                              temporal with memory colours; tags-pointer,
//!                              tags-spatial, tags-relaxed (pointer colours),
//!                              tags-write-only: its other settings; a
//!                              `-nostack` suffix on any policy: without
//!                              the stack frames' guards; `-noexceptions`:
//!                              exception handling off, so calls are not
//!                              followed by the test for a thrown
//!                              exception) against walmart with
//!                              `--attest off`; a tag violation, and under
//!                              coarse and fine a heap check's or a stack
//!                              guard's find, fails the run; `-fuel`,
//!                              `-epoch`, `-fuel-epoch` suffixes: fuel
//!                              counted, epoch checks compiled in (with a
//!                              budget and a deadline never reached);
//!                              a final `-nan`: NaN canonicalization
//!   --engines E1,E2,...        a table of these engines' times and their
//!                              ratios to E1's: `walmart`, `walmart:SPEC`
//!                              (as --attest's), `wasmtime`,
//!                              `wasmtime:fuel`, `wasmtime:epoch`,
//!                              `wasmtime:fuel-epoch`, `wasmtime:nan` (and
//!                              `-nan` after the others)
//! ```
//!
//! Each (engine, workload) pair runs in a child process of this binary so
//! peak memory is measured per pair (`getrusage` of the child). The child
//! compiles the module once, then instantiates and runs `_start` (a WASI
//! command, output discarded) `1 + runs` times, and reports compile time,
//! median instantiation and median execution. The machines we run on are
//! noisy (shared cores), so each workload gets R rounds that alternate the
//! engines, and each figure is the best round: noise only ever adds time.
//! The parent prints a table of execution times, walmart/wasmtime ratios
//! and their geometric mean.
//! Without the `wasmtime` feature only walmart runs.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

/// A workload: a WASI command in `benches/workloads` with its arguments.
struct Workload {
    name: &'static str,
    file: &'static str,
    args: &'static [&'static str],
}

const WORKLOADS: &[Workload] = &[
    Workload {
        name: "sodium_aead_chacha20poly1305",
        file: "sodium_aead_chacha20poly1305.wasm",
        args: &[],
    },
    Workload {
        name: "sodium_box",
        file: "sodium_box.wasm",
        args: &[],
    },
    Workload {
        name: "sodium_generichash",
        file: "sodium_generichash.wasm",
        args: &[],
    },
    Workload {
        name: "sodium_kdf",
        file: "sodium_kdf.wasm",
        args: &[],
    },
    Workload {
        name: "sodium_scalarmult",
        file: "sodium_scalarmult.wasm",
        args: &[],
    },
    Workload {
        name: "sodium_secretbox",
        file: "sodium_secretbox.wasm",
        args: &[],
    },
    Workload {
        name: "sodium_sign",
        file: "sodium_sign.wasm",
        args: &[],
    },
    Workload {
        name: "sodium_stream",
        file: "sodium_stream.wasm",
        args: &[],
    },
    Workload {
        name: "sqlite",
        file: "sqlite.wasm",
        args: &[],
    },
    Workload {
        name: "lua",
        file: "lua.wasm",
        args: &["bench.lua"],
    },
    Workload {
        name: "lz4",
        file: "lz4.wasm",
        args: &[],
    },
    Workload {
        name: "matmul",
        file: "matmul.wasm",
        args: &[],
    },
    Workload {
        name: "sort",
        file: "sort.wasm",
        args: &[],
    },
    Workload {
        name: "hash",
        file: "hash.wasm",
        args: &[],
    },
    Workload {
        name: "nbody",
        file: "nbody.wasm",
        args: &[],
    },
];

fn workloads_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads")
}

/// What a child reports.
struct Measured {
    compile: Duration,
    instantiate: Duration,
    execute: Duration,
    peak_rss_kib: i64,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Runs one workload `1 + runs` times in `engine`, in this process.
fn measure_here(
    engine: &str,
    w: &Workload,
    runs: usize,
    explicit_checks: bool,
) -> Result<(Duration, Duration, Duration), String> {
    let wasm =
        std::fs::read(workloads_dir().join(w.file)).map_err(|e| format!("{}: {e}", w.file))?;
    match engine {
        "walmart" => walmart_side::run(&wasm, w, runs, explicit_checks, "off"),
        e if e.starts_with("walmart:") => {
            walmart_side::run(&wasm, w, runs, explicit_checks, &e["walmart:".len()..])
        }
        #[cfg(feature = "wasmtime")]
        "wasmtime" => wasmtime_side::run(&wasm, w, runs, ""),
        #[cfg(feature = "wasmtime")]
        e if e.starts_with("wasmtime:") => {
            wasmtime_side::run(&wasm, w, runs, &e["wasmtime:".len()..])
        }
        other => Err(format!("engine `{other}` is not built in")),
    }
}

mod walmart_side {
    use super::*;
    use walmart::attest::model::default::default_model;
    use walmart::attest::{EventKind, Policy, PreparedCnn};
    use walmart::wasi::{self, WasiCtx};
    use walmart::{AttestOptions, Config, Engine, Linker, Module, Store};

    /// The tag monitor's settings a `tags...` policy name asks for.
    fn tag_config(name: &str) -> Result<Option<walmart::attest::tags::TagConfig>, String> {
        use walmart::attest::{TagColours, TagMode};
        let (mode, colours) = match name {
            "tags" => (TagMode::Temporal, TagColours::Memory),
            "tags-pointer" => (TagMode::Temporal, TagColours::Pointer),
            "tags-spatial" => (TagMode::Spatial, TagColours::Memory),
            "tags-relaxed" => (TagMode::RelaxedTemporal, TagColours::Pointer),
            "tags-write-only" => (TagMode::WriteOnly, TagColours::Memory),
            n if n.starts_with("tags") => return Err(format!("unknown tag policy {n}")),
            _ => return Ok(None),
        };
        Ok(Some(walmart::attest::tags::TagConfig {
            mode,
            colours,
            ..Default::default()
        }))
    }

    pub fn run(
        wasm: &[u8],
        w: &Workload,
        runs: usize,
        explicit_checks: bool,
        attest: &str,
    ) -> Result<(Duration, Duration, Duration), String> {
        let mut config = Config::default();
        config.guarded_memory(!explicit_checks);
        // `-nan`: NaN canonicalization.
        let (attest, nan) = match attest.strip_suffix("-nan") {
            Some(base) => (base, true),
            None => (attest, false),
        };
        config.cranelift_nan_canonicalization(nan);
        // `-fuel`, `-epoch`, `-fuel-epoch`: interruption compiled in.
        let epoch = attest.ends_with("-epoch");
        let attest = attest.strip_suffix("-epoch").unwrap_or(attest);
        let fuel = attest.ends_with("-fuel");
        let attest = attest.strip_suffix("-fuel").unwrap_or(attest);
        config.consume_fuel(fuel).epoch_interruption(epoch);
        // `-noexceptions`: calls without the test for a thrown exception.
        let attest = match attest.strip_suffix("-noexceptions") {
            Some(base) => {
                config.wasm_exceptions(false);
                base
            }
            None => attest,
        };
        // `-nostack`: without the stack frames' guards.
        let attest = match attest.strip_suffix("-nostack") {
            Some(base) => {
                config.attest_stack_guards(false);
                base
            }
            None => attest,
        };
        let attest = match tag_config(attest)? {
            Some(tags) => {
                config.tags(tags);
                "tags"
            }
            None => attest,
        };
        let (attest, cnn) = match (attest.strip_suffix("-cnn"), attest.strip_suffix("-gpu")) {
            (Some(p), _) => (p, Some(false)),
            (_, Some(p)) => (p, Some(true)),
            _ => (attest, None),
        };
        // The model on its back end once, a verifier per run.
        let cnn = match cnn {
            Some(gpu) => {
                let model = default_model().map_err(|e| e.to_string())?;
                Some(if gpu {
                    PreparedCnn::gpu(&model).map_err(|e| e.to_string())?
                } else {
                    PreparedCnn::cpu(model).map_err(|e| e.to_string())?
                })
            }
            None => None,
        };
        let (attest, heap_check) = match attest.strip_suffix("-noheap") {
            Some(p) => (p, false),
            None => (attest, true),
        };
        let (attest, barrier) = match attest.strip_suffix("-barrier") {
            Some(p) => (p, true),
            None => (attest, false),
        };
        let (policy, sync) = match attest.strip_suffix("-sync") {
            Some(p) => (p, true),
            None => (attest, false),
        };
        config
            .attest(policy.parse()?)
            .attest_sync(sync)
            .attest_kernel_dirty(!barrier)
            .attest_heap_check(heap_check);
        let engine = Engine::new(&config).map_err(|e| e.to_string())?;
        let t = Instant::now();
        let module = Module::from_binary(&engine, wasm).map_err(|e| e.to_string())?;
        let compile = t.elapsed();
        let (mut inst, mut exec) = (Vec::new(), Vec::new());
        for round in 0..=runs {
            let mut ctx = WasiCtx::new();
            ctx.args(std::iter::once(w.name).chain(w.args.iter().copied()));
            ctx.redirect(
                1,
                std::fs::File::create("/dev/null").map_err(|e| e.to_string())?,
            );
            ctx.preopen_dir(workloads_dir(), ".")
                .map_err(|e| e.to_string())?;
            let mut store = Store::new(&engine, ctx);
            if fuel {
                store.set_fuel(u64::MAX).map_err(|e| e.to_string())?;
            }
            store.set_epoch_deadline(u64::MAX / 2);
            // The exact checks' finds (heap, stack guards) in a benign
            // workload fail the run, as tag violations do.
            let exact = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
            if matches!(config.attest, Policy::Coarse | Policy::Fine) {
                let seen = exact.clone();
                let mut options = AttestOptions::new().on_event(move |e| {
                    if matches!(e.kind, EventKind::HeapCorrupt | EventKind::StackSmash) {
                        seen.lock().unwrap().push(e.detail.clone());
                    }
                });
                if let Some(cnn) = &cnn {
                    options = options.also_verify(cnn.verifier().map_err(|e| e.to_string())?);
                }
                store
                    .configure_attestation(options)
                    .map_err(|e| e.to_string())?;
            }
            let mut linker = Linker::new(&engine);
            wasi::add_to_linker(&mut linker, |c| c).map_err(|e| e.to_string())?;
            let t = Instant::now();
            let instance = linker
                .instantiate(&mut store, &module)
                .map_err(|e| e.to_string())?;
            let ti = t.elapsed();
            let start = instance.get_func(&mut store, "_start").ok_or("no _start")?;
            let t = Instant::now();
            match start.call(&mut store, &[], &mut []) {
                Ok(()) => {}
                Err(e) if e.exit_status() == Some(0) => {}
                Err(e) => return Err(format!("{}: {e}", w.name)),
            }
            // Draining the ring is part of an attested run's cost.
            store
                .finish_attestation()
                .map_err(|e| format!("{}: {e}", w.name))?;
            if let Some(t) = store.tag_stats().filter(|t| t.violations > 0) {
                return Err(format!("{}: {} tag violations", w.name, t.violations));
            }
            if let Some(first) = exact.lock().unwrap().first() {
                return Err(format!("{}: an exact check found: {first}", w.name));
            }
            let te = t.elapsed();
            if round > 0 {
                inst.push(ti);
                exec.push(te);
            }
        }
        Ok((compile, median(inst), median(exec)))
    }
}

#[cfg(feature = "wasmtime")]
mod wasmtime_side {
    use super::*;
    use wasmtime_wasi::p1::WasiP1Ctx;

    pub fn run(
        wasm: &[u8],
        w: &Workload,
        runs: usize,
        interrupts: &str,
    ) -> Result<(Duration, Duration, Duration), String> {
        let (interrupts, nan) = match interrupts {
            "nan" => ("", true),
            other => match other.strip_suffix("-nan") {
                Some(base) => (base, true),
                None => (other, false),
            },
        };
        let (fuel, epoch) = match interrupts {
            "" => (false, false),
            "fuel" => (true, false),
            "epoch" => (false, true),
            "fuel-epoch" => (true, true),
            other => {
                return Err(format!(
                    "wasmtime:{other}: expected fuel, epoch or fuel-epoch"
                ))
            }
        };
        let mut config = wasmtime::Config::new();
        config
            .consume_fuel(fuel)
            .epoch_interruption(epoch)
            .cranelift_nan_canonicalization(nan);
        let engine = wasmtime::Engine::new(&config).map_err(|e| e.to_string())?;
        let t = Instant::now();
        let module = wasmtime::Module::new(&engine, wasm).map_err(|e| e.to_string())?;
        let compile = t.elapsed();
        let (mut inst, mut exec) = (Vec::new(), Vec::new());
        for round in 0..=runs {
            let mut builder = wasmtime_wasi::WasiCtxBuilder::new();
            builder.args(
                &std::iter::once(w.name)
                    .chain(w.args.iter().copied())
                    .collect::<Vec<_>>(),
            );
            builder
                .preopened_dir(workloads_dir(), ".", wasmtime_wasi::FsPerms::ReadWrite)
                .map_err(|e| e.to_string())?;
            let ctx: WasiP1Ctx = builder.build_p1();
            let mut store = wasmtime::Store::new(&engine, ctx);
            if fuel {
                store.set_fuel(u64::MAX).map_err(|e| e.to_string())?;
            }
            store.set_epoch_deadline(u64::MAX / 2);
            let mut linker = wasmtime::Linker::new(&engine);
            wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |c: &mut WasiP1Ctx| c)
                .map_err(|e| e.to_string())?;
            let t = Instant::now();
            let instance = linker
                .instantiate(&mut store, &module)
                .map_err(|e| e.to_string())?;
            let ti = t.elapsed();
            let start = instance
                .get_typed_func::<(), ()>(&mut store, "_start")
                .map_err(|e| e.to_string())?;
            let t = Instant::now();
            if let Err(e) = start.call(&mut store, ()) {
                match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
                    Some(wasmtime_wasi::I32Exit(0)) => {}
                    _ => return Err(format!("{}: {e:?}", w.name)),
                }
            }
            let te = t.elapsed();
            if round > 0 {
                inst.push(ti);
                exec.push(te);
            }
        }
        Ok((compile, median(inst), median(exec)))
    }
}

/// Runs a pair in a child process and collects its report and peak RSS.
fn measure_child(
    engine: &str,
    w: &Workload,
    runs: usize,
    explicit_checks: bool,
) -> Result<Measured, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(exe);
    cmd.args(["--child", engine, w.name, "--runs", &runs.to_string()]);
    if explicit_checks {
        cmd.arg("--explicit-bounds-checks");
    }
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let pid = child.id() as libc_pid;
    let mut status = 0;
    let mut usage = std::mem::MaybeUninit::<Rusage>::zeroed();
    // SAFETY: waits for our own child; usage is a writable rusage.
    let rc = unsafe { wait4(pid, &mut status, 0, usage.as_mut_ptr()) };
    // SAFETY: wait4 filled it (or we bail out below).
    let usage = unsafe { usage.assume_init() };
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.expect("piped"), &mut out)
        .map_err(|e| e.to_string())?;
    if rc < 0 || status != 0 {
        return Err(format!("{engine}/{}: child failed: {}", w.name, out.trim()));
    }
    let nums: Vec<f64> = out
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect();
    if nums.len() != 3 {
        return Err(format!(
            "{engine}/{}: bad child report `{}`",
            w.name,
            out.trim()
        ));
    }
    Ok(Measured {
        compile: Duration::from_secs_f64(nums[0]),
        instantiate: Duration::from_secs_f64(nums[1]),
        execute: Duration::from_secs_f64(nums[2]),
        peak_rss_kib: usage.ru_maxrss,
    })
}

#[allow(non_camel_case_types)]
type libc_pid = i32;

/// The prefix of `struct rusage` up to `ru_maxrss` (Linux layout), padded.
#[repr(C)]
struct Rusage {
    ru_utime: [i64; 2],
    ru_stime: [i64; 2],
    ru_maxrss: i64,
    rest: [i64; 13],
}

extern "C" {
    fn wait4(pid: libc_pid, status: *mut i32, options: i32, rusage: *mut Rusage) -> libc_pid;
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut runs = 3usize;
    let mut rounds = 5usize;
    let mut explicit_checks = false;
    let mut attest: Option<Vec<String>> = None;
    let mut engines_list: Option<Vec<String>> = None;
    let mut child: Option<(String, String)> = None;
    let mut selected: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runs" => runs = it.next().and_then(|n| n.parse().ok()).unwrap_or(runs),
            "--rounds" => {
                rounds = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(rounds)
                    .max(1)
            }
            "--explicit-bounds-checks" => explicit_checks = true,
            "--attest" => {
                attest = it
                    .next()
                    .map(|l| l.split(',').map(|p| format!("walmart:{p}")).collect())
            }
            "--engines" => {
                engines_list = it
                    .next()
                    .map(|l| l.split(',').map(str::to_string).collect())
            }
            "--child" => {
                let engine = it.next().cloned().unwrap_or_default();
                let name = it.next().cloned().unwrap_or_default();
                child = Some((engine, name));
            }
            "-h" | "--help" => {
                println!("usage: compare [--runs N] [--rounds R] [--explicit-bounds-checks] [WORKLOAD...]");
                return ExitCode::SUCCESS;
            }
            other if other.starts_with('-') => {
                eprintln!("error: unknown option `{other}`");
                return ExitCode::from(2);
            }
            name => selected.push(name.to_string()),
        }
    }
    if let Some((engine, name)) = child {
        let Some(w) = WORKLOADS.iter().find(|w| w.name == name) else {
            println!("unknown workload {name}");
            return ExitCode::FAILURE;
        };
        return match measure_here(&engine, w, runs.max(1), explicit_checks) {
            Ok((c, i, e)) => {
                println!(
                    "{} {} {}",
                    c.as_secs_f64(),
                    i.as_secs_f64(),
                    e.as_secs_f64()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                println!("{e}");
                ExitCode::FAILURE
            }
        };
    }

    if let Some(engines) = engines_list.filter(|e| !e.is_empty()) {
        return attest_table(&engines, &selected, runs, rounds, explicit_checks);
    }
    if let Some(policies) = attest {
        let mut engines = vec!["walmart".to_string()];
        engines.extend(policies);
        return attest_table(&engines, &selected, runs, rounds, explicit_checks);
    }
    let engines: &[&str] = if cfg!(feature = "wasmtime") {
        &["walmart", "wasmtime"]
    } else {
        &["walmart"]
    };
    if !cfg!(feature = "wasmtime") {
        println!("note: wasmtime not built in (use --features wasmtime); walmart only");
    }
    println!(
        "{:<28} {:>11} {:>11} {:>7} | {:>10} {:>10} | {:>8} {:>8} | {:>9} {:>9}",
        "workload",
        "walmart ms",
        "wasmtime ms",
        "ratio",
        "compile w",
        "compile wt",
        "inst w",
        "inst wt",
        "rss w MiB",
        "rss wt"
    );
    let mut ratios = Vec::new();
    let mut failed = false;
    for w in WORKLOADS
        .iter()
        .filter(|w| selected.is_empty() || selected.iter().any(|s| s == w.name))
    {
        let mut results: Vec<Result<Measured, String>> = Vec::new();
        for round in 0..rounds {
            for (i, e) in engines.iter().enumerate() {
                let m = measure_child(e, w, runs, explicit_checks);
                if round == 0 {
                    results.push(m);
                } else if let (Ok(new), Ok(best)) = (m, &mut results[i]) {
                    best.compile = best.compile.min(new.compile);
                    best.instantiate = best.instantiate.min(new.instantiate);
                    best.execute = best.execute.min(new.execute);
                    best.peak_rss_kib = best.peak_rss_kib.max(new.peak_rss_kib);
                }
            }
        }
        let (Some(Ok(a)), b) = (results.first(), results.get(1)) else {
            eprintln!("{}", results[0].as_ref().err().cloned().unwrap_or_default());
            failed = true;
            continue;
        };
        let b = match b {
            Some(Ok(b)) => Some(b),
            Some(Err(e)) => {
                eprintln!("{e}");
                failed = true;
                None
            }
            None => None,
        };
        let ratio = b.map(|b| a.execute.as_secs_f64() / b.execute.as_secs_f64());
        if let Some(r) = ratio {
            ratios.push(r);
        }
        let opt =
            |v: Option<f64>, prec: usize| v.map_or("-".to_string(), |v| format!("{v:.prec$}"));
        println!(
            "{:<28} {:>11.1} {:>11} {:>7} | {:>10.1} {:>10} | {:>8.3} {:>8} | {:>9.1} {:>9}",
            w.name,
            ms(a.execute),
            opt(b.map(|b| ms(b.execute)), 1),
            opt(ratio, 3),
            ms(a.compile),
            opt(b.map(|b| ms(b.compile)), 1),
            ms(a.instantiate),
            opt(b.map(|b| ms(b.instantiate)), 3),
            a.peak_rss_kib as f64 / 1024.0,
            opt(b.map(|b| b.peak_rss_kib as f64 / 1024.0), 1),
        );
    }
    if !ratios.is_empty() {
        let geo = ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64;
        println!(
            "geometric mean walmart/wasmtime (execution): {:.3}",
            geo.exp()
        );
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Execution time of each engine configuration, with ratios against the
/// first (`walmart`, attestation off) and their geometric means.
fn attest_table(
    engines: &[String],
    selected: &[String],
    runs: usize,
    rounds: usize,
    explicit_checks: bool,
) -> ExitCode {
    print!("{:<28}", "workload");
    for e in engines {
        print!(
            " {:>14}",
            format!("{} ms", e.trim_start_matches("walmart:"))
        );
    }
    for e in &engines[1..] {
        print!(
            " {:>10}",
            format!("{}/off", e.trim_start_matches("walmart:"))
        );
    }
    println!();
    let mut ratios = vec![Vec::new(); engines.len() - 1];
    let mut failed = false;
    for w in WORKLOADS
        .iter()
        .filter(|w| selected.is_empty() || selected.iter().any(|s| s == w.name))
    {
        let mut best: Vec<Option<Duration>> = vec![None; engines.len()];
        for _ in 0..rounds {
            for (i, e) in engines.iter().enumerate() {
                match measure_child(e, w, runs, explicit_checks) {
                    Ok(m) => best[i] = Some(best[i].map_or(m.execute, |b| b.min(m.execute))),
                    Err(e) => {
                        eprintln!("{e}");
                        failed = true;
                    }
                }
            }
        }
        print!("{:<28}", w.name);
        for b in &best {
            print!(" {:>14}", b.map_or("-".into(), |b| format!("{:.1}", ms(b))));
        }
        for (i, b) in best[1..].iter().enumerate() {
            let r = match (best[0], b) {
                (Some(base), Some(b)) => Some(b.as_secs_f64() / base.as_secs_f64()),
                _ => None,
            };
            if let Some(r) = r {
                ratios[i].push(r);
            }
            print!(" {:>10}", r.map_or("-".into(), |r| format!("{r:.3}")));
        }
        println!();
    }
    for (e, r) in engines[1..].iter().zip(&ratios) {
        if !r.is_empty() {
            let geo = (r.iter().map(|r| r.ln()).sum::<f64>() / r.len() as f64).exp();
            println!(
                "geometric mean {}/off (execution): {geo:.3}",
                e.trim_start_matches("walmart:")
            );
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
