//! `walmart run`: instantiate a module and call `_start` or an export.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::backend::{cnn_verifier, Backend};
use crate::compile::CodeArgs;
use anyhow::{anyhow, bail};
use walmart::attest::model::default;
use walmart::attest::tags::TraceOptions;
use walmart::attest::{Backpressure, OnDetect, Policy, TagColours};
use walmart::wasi::{self, WasiCtx};
use walmart::{AttestOptions, Engine, Linker, Module, Store, UnknownImports, Val, ValType};

/// Exit status of a run that trapped (as wasmtime: 128 + SIGABRT).
const TRAP_EXIT: u8 = 134;
/// Exit status when attestation detected corruption and `--on-detect trap`
/// stopped the guest.
pub const ATTEST_EXIT: u8 = 86;

#[derive(clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    code: CodeArgs,
    /// Run a precompiled module (`walmart compile`'s `.cwasm`), whose
    /// machine code is trusted as it is.
    #[arg(long)]
    allow_precompiled: bool,
    /// Instantiate the module at PATH first (its `_initialize` called when
    /// it exports one) and link its exports under the import module name
    /// NAME, for the main module to import. Repeatable, in order.
    #[arg(long, value_name = "NAME=PATH")]
    preload: Vec<String>,
    #[command(flatten)]
    cache: crate::cache_args::CacheArgs,
    /// Define the function imports WASI does not offer as functions that
    /// fail (a trap naming the import) when called, so the module runs
    /// until it calls one.
    #[arg(long, conflicts_with = "default_values_unknown_imports")]
    trap_unknown_imports: bool,
    /// Define the function imports WASI does not offer as functions that
    /// return zeros and nulls.
    #[arg(long)]
    default_values_unknown_imports: bool,
    /// Call this export instead of `_start`; ARGS are parsed by its
    /// parameter types. For a component, a call written in WAVE, as
    /// wasmtime's: `--invoke 'add(1, 2)'`, `--invoke 'greet("you")'`, an
    /// interface's function as `'INTERFACE#NAME(...)'`; the result is
    /// printed in WAVE.
    #[arg(long, value_name = "NAME")]
    invoke: Option<String>,
    /// Preopen host directory HOST for the guest, as GUEST (default: HOST);
    /// with `::ro` after GUEST, read only (the guest opens and lists what
    /// is beneath it, and changes nothing: EPERM). Repeatable.
    #[arg(long = "dir", value_name = "HOST[::GUEST[::ro]]")]
    dirs: Vec<String>,
    /// Set an environment variable for the guest, or with KEY alone pass
    /// the host's value of KEY (if it has one). Repeatable.
    #[arg(long = "env", value_name = "KEY[=VALUE]")]
    envs: Vec<String>,
    /// Profile the run: `perfmap` makes generated code known to `perf`
    /// (each compiled function in /tmp/perf-PID.map, for `perf report`);
    /// `jitdump` writes each function with its machine code to
    /// ./jit-PID.dump (`perf record -k mono`, then `perf inject --jit`, for
    /// `perf annotate` of Wasm functions);
    /// `guest[,PATH[,INTERVAL]]` samples the guest's own Wasm stack every
    /// INTERVAL (default 10ms) and writes the profile to PATH (default
    /// walmart-guest-profile.json) for https://profiler.firefox.com/.
    #[arg(long, value_name = "perfmap|jitdump|guest[,PATH[,INTERVAL]]")]
    profile: Option<String>,
    /// Debugging options, as wasmtime's `-D`: `coredump=PATH` writes a
    /// Wasm coredump of the store (memories, globals, frames) to PATH
    /// when the guest traps; `debug-info` lists the compiled functions
    /// for native debuggers (gdb names Wasm frames: `gdb --args walmart
    /// run -D debug-info app.wasm`). Repeatable.
    #[arg(short = 'D', long = "debug", value_name = "coredump=PATH|debug-info")]
    debug_options: Vec<String>,
    /// Where `-D coredump=PATH` writes a trap's coredump (set from
    /// `debug_options` as the run is configured).
    #[arg(skip)]
    coredump: Option<PathBuf>,
    /// The guest's `argv[0]` (default: FILE as given).
    #[arg(long, value_name = "NAME")]
    argv0: Option<String>,
    /// Listen on the TCP address ADDR (`127.0.0.1:8080`) and give the
    /// guest the listening socket, non-blocking as wasmtime's, after the
    /// --dir directories (descriptor 3 without them): it accepts
    /// connections with `sock_accept`. Repeatable.
    #[arg(long = "tcplisten", value_name = "ADDR")]
    tcplisten: Vec<String>,
    /// WASI options, as wasmtime's `-S`: `tcplisten=ADDR` (as
    /// --tcplisten), `inherit-env[=y|n]` (pass the host's whole
    /// environment, before --env's), `clock-resolution=DURATION` (every
    /// clock the guest reads rounded down to a multiple of it: `100us`,
    /// `1ms`; against timing side channels), `preview2=n` (accepted:
    /// a core module's WASI is walmart's preview 1; a component's is WASI
    /// 0.2), and for a component's own sockets (`wasi:sockets`):
    /// `inherit-network[=y|n]` (any address; none by default),
    /// `allow-ip-name-lookup[=y|n]`, `tcp[=y|n]`, `udp[=y|n]`.
    /// Repeatable.
    #[arg(
        short = 'S',
        long = "wasi",
        value_name = "tcplisten=ADDR|inherit-env[=y|n]|clock-resolution=DURATION"
    )]
    wasi_options: Vec<String>,
    /// `--attest tags`: write the trace of allocations and frees to FILE.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// With --trace-accesses: keep one read or write in N.
    #[arg(long, value_name = "N", default_value_t = 1)]
    trace_sample: u64,
    /// The CNN that scores written pages beside the exact digest checks
    /// (detections are `cnn` events): a model file from `walmart attest
    /// train`, `default` (the built-in model, used when this is left out)
    /// or `none` (exact checks only).
    #[arg(long, value_name = "FILE|default|none")]
    model: Option<String>,
    /// Have the CNN score the runs of one byte (8 or more) that the
    /// program's input held, as it scores the rest of what the program
    /// wrote. By default it passes over them: a flag on one says what the
    /// input holds, not that memory was corrupted.
    #[arg(long)]
    cnn_score_input_runs: bool,
    /// Where the CNN runs: `cpu`, `wasm` (the network as WebAssembly in a
    /// sandbox of its own) or `gpu` (CUDA device 0; needs the NVIDIA
    /// driver and NVRTC on the library path)
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    backend: Backend,
    /// Write attestation events to FILE as JSON lines.
    #[arg(long, value_name = "FILE")]
    attest_log: Option<PathBuf>,
    /// Write a JSON report of the attested run to FILE as it ends: the
    /// module's SHA-256, the policy and verifier, how the guest ended, the
    /// summary's counters, the detections by kind and source, a verdict
    /// and what limits it, and the event log's SHA-256.
    #[arg(long, value_name = "FILE")]
    attest_report: Option<PathBuf>,
    /// Keep the evidence of each page a verifier flags: its 4096 bytes as
    /// judged, one file per page in DIR (created if missing), named by the
    /// event (`evidence` in --attest-log). Rescore with `walmart attest score`.
    #[arg(long, value_name = "DIR")]
    attest_evidence: Option<PathBuf>,
    /// What a detection does: `log` it and run on, or `trap` (exit status 86).
    #[arg(long, value_name = "log|trap", default_value = "log")]
    on_detect: OnDetect,
    /// When the snapshot ring is full: `defer` the pages to a later hook, or `block`.
    #[arg(long, value_name = "defer|block", default_value = "defer")]
    attest_backpressure: Backpressure,
    /// Asynchronous `coarse` and `fine`: the shortest time between two
    /// snapshots taken at the verifier's pace, in milliseconds (default 5
    /// under `coarse`, 1 under `fine`): shorter finds corruption sooner and
    /// costs more.
    #[arg(long, value_name = "MS", value_parser = parse_interval)]
    attest_interval: Option<Duration>,
    /// Simulate an attack to test detection: `host-tamper` (a host writing
    /// guest memory behind walmart's back during host calls).
    #[arg(long, value_name = "KIND")]
    inject: Option<String>,
    /// Probability that an injection fires at each host call.
    #[arg(long, value_name = "R", default_value_t = 1.0)]
    inject_rate: f64,
    /// Seed of the injection's random choices.
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,
    /// The module to run, then the arguments for the module (or for the
    /// invoked export): everything after the module is the guest's, as in
    /// wasmtime, even what looks like walmart's own options (`--help`).
    #[arg(
        value_name = "FILE [ARGS]",
        required = true,
        num_args = 1..,
        trailing_var_arg = true
    )]
    module_and_args: Vec<std::ffi::OsString>,
    /// The module to run (the first of `module_and_args`).
    #[arg(skip)]
    file: PathBuf,
    /// Arguments for the module (the rest of `module_and_args`).
    #[arg(skip)]
    args: Vec<String>,
}

fn parse_arg(text: &str, ty: ValType) -> anyhow::Result<Val> {
    let bad = || anyhow!("cannot parse `{text}` as {ty}");
    Ok(match ty {
        ValType::I32 => Val::I32(
            text.parse::<i32>()
                .or_else(|_| text.parse::<u32>().map(|v| v as i32))
                .map_err(|_| bad())?,
        ),
        ValType::I64 => Val::I64(
            text.parse::<i64>()
                .or_else(|_| text.parse::<u64>().map(|v| v as i64))
                .map_err(|_| bad())?,
        ),
        ValType::F32 => Val::from(text.parse::<f32>().map_err(|_| bad())?),
        ValType::F64 => Val::from(text.parse::<f64>().map_err(|_| bad())?),
        other => bail!("cannot pass a {other} argument from the command line"),
    })
}

fn format_val(v: &Val) -> String {
    match v {
        Val::I32(x) => x.to_string(),
        Val::I64(x) => x.to_string(),
        Val::F32(b) => f32::from_bits(*b).to_string(),
        Val::F64(b) => f64::from_bits(*b).to_string(),
        Val::V128(x) => format!("{x:#034x}"),
        Val::FuncRef(None) | Val::ExternRef(None) | Val::ExnRef(None) | Val::AnyRef(None) => {
            "null".into()
        }
        Val::FuncRef(Some(_)) => "funcref".into(),
        Val::ExternRef(Some(e)) => match e.id() {
            Some(id) => format!("externref({id})"),
            None => "externref(anyref)".into(),
        },
        Val::ExnRef(Some(_)) => "exnref".into(),
        Val::AnyRef(Some(a)) => match a.i31_s() {
            Some(v) => format!("i31ref({v})"),
            None if a.is_struct() => "structref".into(),
            None if a.is_array() => "arrayref".into(),
            None => "anyref".into(),
        },
    }
}

/// `--attest-interval`: milliseconds, at least a microsecond and at most
/// an hour.
fn parse_interval(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(ms) if (0.001..=3_600_000.0).contains(&ms) => Ok(Duration::from_secs_f64(ms / 1e3)),
        _ => Err(format!(
            "`{text}` is not a number of milliseconds from 0.001 to 3600000"
        )),
    }
}

/// `--trace-accesses`'s range: `all` or `LO-HI` (decimal or 0x hex).
fn trace_range(text: &str) -> anyhow::Result<Option<(u32, u32)>> {
    if text == "all" {
        return Ok(None);
    }
    let num = |t: &str| match t.strip_prefix("0x") {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None => t.parse::<u32>().ok(),
    };
    let (lo, hi) = text
        .split_once('-')
        .and_then(|(a, b)| Some((num(a)?, num(b)?)))
        .filter(|(a, b)| a < b)
        .ok_or_else(|| anyhow!("--trace-accesses {text}: expected `all` or LO-HI with LO < HI"))?;
    Ok(Some((lo, hi)))
}

pub fn run(mut args: RunArgs) -> anyhow::Result<ExitCode> {
    let mut rest = std::mem::take(&mut args.module_and_args)
        .into_iter()
        .peekable();
    args.file = rest.next().map(PathBuf::from).unwrap_or_default();
    // `app.wasm -- ARGS`: the separator scripts write is not the guest's.
    rest.next_if(|a| a == "--");
    args.args = rest
        .map(|a| {
            a.into_string()
                .map_err(|a| anyhow!("a guest argument is not UTF-8: {}", a.to_string_lossy()))
        })
        .collect::<anyhow::Result<_>>()?;
    // `-S help` and `-D help` before anything that could fail first.
    use crate::option_help::{check, DEBUG, WASI};
    let name = |o: &String| o.split_once('=').map_or(o.clone(), |(n, _)| n.to_string());
    for o in &args.wasi_options {
        check("-S", &name(o), WASI)?;
    }
    for o in &args.debug_options {
        check("-D", &name(o), DEBUG)?;
    }
    if args.code.trace_accesses.is_some() && args.trace.is_none() {
        bail!("--trace-accesses needs --trace FILE");
    }
    if args.trace.is_some() && args.code.attest != Policy::Tags {
        bail!("--trace needs --attest tags");
    }
    let (mut config, bounds, choices) = args.code.config_and_choices()?;
    for option in &args.debug_options {
        match option.split_once('=') {
            Some(("coredump", "")) => bail!("-D {option}: expected coredump=PATH"),
            // The last one given wins.
            Some(("coredump", path)) => args.coredump = Some(PathBuf::from(path)),
            None if option == "debug-info" => {
                config.debug_info(true);
            }
            Some(("debug-info", v)) => {
                config.debug_info(crate::features::yes_no("-D", option, "debug-info", v)?);
            }
            _ => bail!(
                "-D {option}: unknown debugging option (known: {}; `-D help` says what each does)",
                crate::option_help::names(crate::option_help::DEBUG)
            ),
        }
    }
    config.coredump_on_trap(args.coredump.is_some());
    let mut guest_profile = None;
    match args.profile.as_deref() {
        None => {}
        Some("perfmap") => {
            config.profiler(walmart::ProfilingStrategy::PerfMap);
        }
        Some("jitdump") => {
            config.profiler(walmart::ProfilingStrategy::JitDump);
        }
        Some(p) if p.starts_with("guest") => {
            guest_profile = Some(crate::guest_profile::parse(&p["guest".len()..])?);
            // Samples are taken where Wasm checks the epoch.
            config.epoch_interruption(true);
        }
        Some(other) => bail!(
            "--profile {other}: unsupported profiler (known: perfmap, jitdump, guest[,PATH[,INTERVAL]])"
        ),
    }
    let engine = Engine::new(&config)?;
    let attesting = args.code.attest != Policy::Off;
    let hooks = matches!(args.code.attest, Policy::Coarse | Policy::Fine);
    if !hooks
        && ((args.attest_log.is_some() && !attesting)
            || args.attest_evidence.is_some()
            || args.inject.is_some()
            || args.attest_interval.is_some()
            || args.cnn_score_input_runs
            || args.model.as_deref().is_some_and(|m| m != "none"))
    {
        bail!(
            "--attest-log, --attest-evidence, --attest-interval, --model, --cnn-score-input-runs and --inject need --attest coarse or fine"
        );
    }
    if args.attest_report.is_some() && !attesting {
        bail!("--attest-report reports an attested run: it needs --attest coarse, fine or tags");
    }
    if args.cnn_score_input_runs && args.model.as_deref() == Some("none") {
        bail!("--cnn-score-input-runs tells the CNN what to score; --model none runs none");
    }
    if args.code.attest_sync && args.attest_interval.is_some() {
        bail!("--attest-interval paces asynchronous snapshots; --attest-sync snapshots at every hook after a write");
    }
    let cache = args.cache.open(choices.cache)?;
    let mut piped = None;
    if let Some(file) = crate::run_component::component_file(&engine, &args.file, &mut piped)? {
        if let crate::run_component::ComponentFile::Precompiled(_)
        | crate::run_component::ComponentFile::PrecompiledBytes(_) = file
        {
            crate::compile::refuse_precompiled(&args.file, args.allow_precompiled)?;
        }
        let refused = [
            (!args.preload.is_empty(), "--preload"),
            (args.coredump.is_some(), "-D coredump"),
            (
                args.default_values_unknown_imports,
                "--default-values-unknown-imports",
            ),
            (
                !args.tcplisten.is_empty()
                    || args.wasi_options.iter().any(|o| o.starts_with("tcplisten")),
                "--tcplisten (sockets are WASI preview 1's)",
            ),
        ];
        if let Some((_, flag)) = refused.iter().find(|(given, _)| *given) {
            bail!(
                "{}: {flag} is not supported for components yet (walmart runs a component's \
                 `wasi:cli/run`)",
                args.file.display()
            );
        }
        if args.invoke.is_some() && !args.args.is_empty() {
            bail!(
                "{}: a component's --invoke takes its arguments inside the call \
                 (--invoke 'NAME(ARG, ...)'), not after the file",
                args.file.display()
            );
        }
        let component = crate::run_component::load(&engine, &args.file, &file, cache.as_ref())?;
        let ctx = wasi_ctx(&args)?;
        let mut store = Store::new(&engine, ctx);
        // The guest profile's sampling keeps the timeout, as a module's.
        let timeout = bounds.timeout;
        let bounds = if guest_profile.is_some() {
            crate::features::RunBounds {
                timeout: None,
                ..bounds
            }
        } else {
            bounds
        };
        bound_run(&engine, &mut store, bounds)?;
        let invoke = args.invoke.as_deref();
        if attesting {
            store.configure_attestation(attest_options(&args, hooks)?)?;
        }
        // Started last, once the component is compiled: the profile's
        // frames are its core modules', named by their name sections.
        let profiling = match &guest_profile {
            Some(p) => {
                let main = crate::guest_profile::module_name(&args.file);
                Some(crate::guest_profile::start(
                    p,
                    &engine,
                    &mut store,
                    &main,
                    Vec::new(),
                    timeout,
                )?)
            }
            None => None,
        };
        let outcome = match crate::run_component::run(
            &engine,
            &args.file,
            &component,
            &mut store,
            invoke,
            args.trap_unknown_imports,
            wants_http(&args),
        ) {
            Ok(code) => Ok(code),
            Err(crate::run_component::Failed::Guest(e)) => report(e, &args),
            Err(crate::run_component::Failed::Other(e)) => Err(e),
        };
        return conclude(outcome, profiling, &engine, &mut store, &args);
    }
    let module = match piped {
        Some(bytes) => crate::compile::module_of_bytes(
            &engine,
            &args.file,
            &bytes,
            args.allow_precompiled,
            cache.as_ref(),
        )?,
        None => crate::compile::load_module(
            &engine,
            &args.file,
            args.allow_precompiled,
            cache.as_ref(),
        )?,
    };
    let mut preloads = Vec::new();
    for p in &args.preload {
        let (name, path) = p
            .split_once('=')
            .filter(|(n, p)| !n.is_empty() && !p.is_empty())
            .ok_or_else(|| anyhow!("--preload {p}: expected NAME=PATH"))?;
        let m = crate::compile::load_module(
            &engine,
            std::path::Path::new(path),
            args.allow_precompiled,
            cache.as_ref(),
        )
        .map_err(|e| anyhow!("--preload {name}: {e}"))?;
        preloads.push((name.to_string(), m));
    }
    if wants_http(&args) {
        bail!(
            "-S http: wasi:http is for components (WASI 0.2); {} is a core module",
            args.file.display()
        );
    }
    let ctx = wasi_ctx(&args)?;
    let mut store = Store::new(&engine, ctx);
    let timeout = bounds.timeout;
    if guest_profile.is_some() {
        crate::guest_profile::check_supported(&module, &args.file)?;
        // The sampling keeps the timeout (`guest_profile::start`).
        let untimed = crate::features::RunBounds {
            timeout: None,
            ..bounds
        };
        bound_run(&engine, &mut store, untimed)?;
    } else {
        bound_run(&engine, &mut store, bounds)?;
    }
    if attesting {
        store.configure_attestation(attest_options(&args, hooks)?)?;
    }
    // Started last, so that nothing after it fails before the guest runs
    // (the profile's file is made here).
    let profiling = match &guest_profile {
        Some(p) => {
            let main = crate::guest_profile::module_name(&args.file);
            let mut modules = vec![(main.clone(), module.clone())];
            modules.extend(preloads.iter().cloned());
            Some(crate::guest_profile::start(
                p, &engine, &mut store, &main, modules, timeout,
            )?)
        }
        None => None,
    };
    let outcome = call_module(&args, &engine, &preloads, &module, &mut store);
    conclude(outcome, profiling, &engine, &mut store, &args)
}

/// Ends a run whose guest gave `outcome`: the guest profile written
/// whatever the guest did (a trap's profile shows where), and an
/// attested run's end ([`finish_attested`]).
fn conclude(
    mut outcome: anyhow::Result<ExitCode>,
    profiling: Option<crate::guest_profile::GuestProfiling>,
    engine: &Engine,
    store: &mut Store<walmart::wasi::WasiCtx>,
    args: &RunArgs,
) -> anyhow::Result<ExitCode> {
    if let Some(Err(e)) = profiling.map(|p| p.finish()) {
        match outcome {
            Ok(_) => outcome = Err(e),
            Err(_) => eprintln!("error: {e}"),
        }
    }
    if args.code.attest == Policy::Off {
        return outcome;
    }
    finish_attested(outcome, engine, store, args)
}

/// The guest's WASI context from the command line: its arguments,
/// environment, preopened directories and sockets, and `-S` options.
/// Whether `-S http` asks for `wasi:http` (the last one says).
fn wants_http(args: &RunArgs) -> bool {
    args.wasi_options
        .iter()
        .filter_map(|o| match o.split_once('=') {
            None if o == "http" => Some(true),
            Some(("http", v)) => Some(!matches!(v, "n" | "no" | "false")),
            _ => None,
        })
        .next_back()
        .unwrap_or(false)
}

fn wasi_ctx(args: &RunArgs) -> anyhow::Result<WasiCtx> {
    let mut ctx = WasiCtx::new();
    let program = args
        .argv0
        .clone()
        .unwrap_or_else(|| args.file.display().to_string());
    if args.invoke.is_some() {
        ctx.args([program]);
    } else {
        ctx.args(std::iter::once(program).chain(args.args.iter().cloned()));
    }
    // As `wasmtime run`: TCP and UDP sockets (reaching no address until
    // `-S inherit-network`), unless `-S tcp=n`/`udp=n`.
    ctx.allow_tcp(true).allow_udp(true);
    // `-S` first: the environment it passes comes before --env's.
    let mut listens: Vec<(String, &str)> = Vec::new();
    for option in &args.wasi_options {
        let (name, value) = option.split_once('=').unwrap_or((option, "y"));
        crate::option_help::check("-S", name, crate::option_help::WASI)?;
        match name {
            "tcplisten" if option.contains('=') => {
                listens.push((format!("-S {option}"), value));
            }
            "tcplisten" => bail!("-S {option}: expected tcplisten=ADDR"),
            // A timing side channel's mitigation: every clock the guest
            // reads rounded down to this (`WasiCtx::clock_resolution`).
            "clock-resolution" => {
                // At least a nanosecond: a finer one would round nothing.
                let res = crate::features::parse_duration(value)
                    .filter(|d| !d.is_zero())
                    .ok_or_else(|| {
                        anyhow!(
                            "-S {option}: expected clock-resolution=DURATION of at least 1ns \
                             (100us, 1ms, ...)"
                        )
                    })?;
                ctx.clock_resolution(res);
            }
            // wasmtime's switch to its preview 1 implementation (which its
            // --tcplisten needs): a core module's WASI here is preview 1.
            "preview2" => {
                if !matches!(value, "n" | "no" | "false") {
                    bail!(
                        "-S {option}: a core module's WASI is walmart's preview 1 \
                         implementation only (`preview2=n`; a component's is WASI 0.2)"
                    );
                }
            }
            "inherit-env" => {
                if crate::features::yes_no("-S", option, name, value)? {
                    ctx.inherit_env();
                }
            }
            // A component's own sockets (`wasi:sockets`); preview 1 has
            // none (its guests get --tcplisten's).
            // The last one says, as wasmtime's: `=n` takes it back.
            "inherit-network" => {
                if crate::features::yes_no("-S", option, name, value)? {
                    ctx.inherit_network();
                } else {
                    ctx.deny_network();
                }
            }
            "allow-ip-name-lookup" => {
                ctx.allow_ip_name_lookup(crate::features::yes_no("-S", option, name, value)?);
            }
            // A component's outgoing HTTP requests (`wasi:http`), to any
            // address, as `wasmtime run -S http`.
            "http" => {
                ctx.allow_http_outgoing(crate::features::yes_no("-S", option, name, value)?);
            }
            "tcp" => {
                ctx.allow_tcp(crate::features::yes_no("-S", option, name, value)?);
            }
            "udp" => {
                ctx.allow_udp(crate::features::yes_no("-S", option, name, value)?);
            }
            _ => {
                bail!(
                    "-S {option}: unknown WASI option (known: {}; `-S help` says what each does)",
                    crate::option_help::names(crate::option_help::WASI)
                )
            }
        }
    }
    for kv in &args.envs {
        match kv.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                ctx.env(k, v);
            }
            _ if kv.is_empty() => bail!("--env: expected KEY=VALUE or KEY"),
            Some(_) => bail!("--env {kv}: expected KEY=VALUE or KEY"),
            // KEY alone: the host's value, as wasmtime's `--env KEY`.
            None => {
                if let Some(v) = std::env::var_os(kv) {
                    let v = v
                        .into_string()
                        .map_err(|_| anyhow!("--env {kv}: the host's value is not UTF-8"))?;
                    ctx.env(kv, &v);
                }
            }
        }
    }
    for dir in &args.dirs {
        let (host, guest, read_only) = parse_dir(dir)?;
        let (dir_perms, file_perms) = if read_only {
            (wasi::DirPerms::READ, wasi::FilePerms::READ)
        } else {
            (wasi::DirPerms::all(), wasi::FilePerms::all())
        };
        ctx.preopened_dir(host, guest, dir_perms, file_perms)
            .map_err(|e| anyhow!("--dir {dir}: {e}"))?;
    }
    // Sockets after the directories: wasi-libc finds preopened directories
    // by asking descriptors from 3 up and stops at the first that is not
    // one, so a socket before them would hide them (wasmtime puts its
    // listeners first, and has that problem).
    // --tcplisten's first, then -S tcplisten's.
    let from_s = std::mem::take(&mut listens);
    listens.extend(
        args.tcplisten
            .iter()
            .map(|a| (format!("--tcplisten {a}"), a.as_str())),
    );
    listens.extend(from_s);
    for (flag, addr) in listens {
        let listener =
            std::net::TcpListener::bind(addr).map_err(|e| anyhow!("{flag}: cannot listen: {e}"))?;
        // As wasmtime's: a guest's `accept` with nothing pending says
        // `EAGAIN` (guests poll first, or make it blocking).
        listener
            .set_nonblocking(true)
            .map_err(|e| anyhow!("{flag}: {e}"))?;
        ctx.preopen_socket(listener)
            .map_err(|e| anyhow!("{flag}: {e}"))?;
    }
    Ok(ctx)
}

/// Gives the store its fuel, its bounds on growth and counts, and, for a
/// timeout, a deadline one epoch on and a thread that moves the epoch
/// there when the time is up (the run's threads inherit the deadline and
/// the bounds, and take their fuel from their spawner's: `wasi::threads`).
fn bound_run(
    engine: &Engine,
    store: &mut Store<WasiCtx>,
    bounds: crate::features::RunBounds,
) -> anyhow::Result<()> {
    if let Some(fuel) = bounds.fuel {
        store.set_fuel(fuel)?;
    }
    if let Some(limits) = bounds.limits {
        store.set_limits(limits.build());
    }
    if let Some(timeout) = bounds.timeout {
        store.set_epoch_deadline(1);
        let engine = engine.clone();
        std::thread::Builder::new()
            .name("walmart-timeout".into())
            .spawn(move || {
                std::thread::sleep(timeout);
                engine.increment_epoch();
            })
            .map_err(|e| anyhow!("cannot start the timeout's thread: {e}"))?;
    }
    Ok(())
}

/// Instantiates the module and makes the call; the exit status it earns.
fn call_module(
    args: &RunArgs,
    engine: &Engine,
    preloads: &[(String, Module)],
    module: &Module,
    store: &mut Store<WasiCtx>,
) -> anyhow::Result<ExitCode> {
    let mut linker = Linker::new(engine);
    wasi::add_to_linker(&mut linker, |ctx| ctx)?;
    let unknown_imports = if args.trap_unknown_imports {
        Some(UnknownImports::Trap)
    } else if args.default_values_unknown_imports {
        Some(UnknownImports::DefaultValues)
    } else {
        None
    };
    if wasi::threads::uses_threads(module) && !preloads.is_empty() {
        bail!(
            "{}: --preload is not supported for a wasi-threads program (its threads \
             would be linked without the preloaded modules)",
            args.file.display()
        );
    }
    if wasi::threads::uses_threads(module) {
        // Where the system gives every region huge pages (THP `always`;
        // mimalloc no longer asks for them, its `no_thp` feature), each
        // thread's first allocations would fault in a fresh 2 MiB page
        // (7 ms a thread, measured when mimalloc still asked): none for a
        // program that makes threads.
        // SAFETY: a process-wide flag; no pointers.
        unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
        wasi::threads::add_to_linker_with(&mut linker, store, module, unknown_imports)
            .map_err(|e| anyhow!("{}: {e}", args.file.display()))?;
    }
    for (name, preload) in preloads {
        if let Some(how) = unknown_imports {
            linker.define_unknown_imports(preload, how)?;
        }
        // Failures as the main module's: a trap 134, an exit its status,
        // a detection 86.
        let instance = match linker.instantiate(&mut *store, preload) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("walmart: --preload {name} failed to instantiate");
                return report(e, args);
            }
        };
        if let Some(init) = instance.get_func(&mut *store, "_initialize") {
            if let Err(e) = init.call(&mut *store, &[], &mut []) {
                eprintln!("walmart: --preload {name}: its _initialize failed");
                return report(e, args);
            }
        }
        linker
            .instance(&mut *store, name, instance)
            .map_err(|e| anyhow!("--preload {name}: {e}"))?;
    }
    if let Some(how) = unknown_imports {
        linker.define_unknown_imports(module, how)?;
    }
    let instance = match linker.instantiate(&mut *store, module) {
        Ok(i) => i,
        // The first import nothing defines, where it is a function (not
        // WASI 0.2's, whose error says what to build instead): the flags
        // that run the module anyway.
        Err(walmart::Error::Link(m))
            if m.starts_with("unknown import:")
                && unknown_imports.is_none()
                && module
                    .imports()
                    .find(|(module, name, _)| linker.get(&mut *store, module, name).is_none())
                    .is_some_and(|(module, _, ty)| {
                        matches!(ty, walmart::ExternType::Func(_)) && !module.starts_with("wasi:")
                    }) =>
        {
            bail!(
                "{m}; --trap-unknown-imports runs the module until it calls it, \
                 --default-values-unknown-imports has it return zeros"
            )
        }
        Err(e) => return report(e, args),
    };
    let name = args.invoke.as_deref().unwrap_or("_start");
    let func = instance.get_func(&mut *store, name).ok_or_else(|| {
        if args.invoke.is_some() {
            anyhow!("{}: no exported function `{name}`", args.file.display())
        } else {
            anyhow!(
                "{}: no `_start` export; name an export with --invoke",
                args.file.display()
            )
        }
    })?;
    let ty = func.ty(&*store);
    if args.invoke.is_none() {
        return match func.call(&mut *store, &[], &mut []) {
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(e) => report(e, args),
        };
    }
    if args.args.len() != ty.params().len() {
        bail!(
            "`{name}` takes {} argument(s), {} given",
            ty.params().len(),
            args.args.len()
        );
    }
    let params = args
        .args
        .iter()
        .zip(ty.params())
        .map(|(a, t)| parse_arg(a, *t))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
    match func.call(&mut *store, &params, &mut results) {
        Ok(()) => {
            for r in &results {
                println!("{}", format_val(r));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => report(e, args),
    }
}

/// Detections shown on standard error, one line each as they are found,
/// so a run without `--attest-log` still says what was found and where;
/// past [`SHOWN_DETECTIONS`], only their number (the exit summary's) and
/// the log have them.
pub(crate) fn detections_on_stderr() -> impl Fn(&walmart::attest::Event) + Send + Sync + 'static {
    let shown = std::sync::atomic::AtomicUsize::new(0);
    move |e| match shown.fetch_add(1, std::sync::atomic::Ordering::Relaxed) {
        n if n < SHOWN_DETECTIONS => eprintln!("walmart: detection: {}", e.one_line()),
        SHOWN_DETECTIONS => eprintln!(
            "walmart: further detections are counted in the summary, and written to \
             --attest-log when it is given"
        ),
        _ => {}
    }
}

/// Detections [`detections_on_stderr`] shows.
const SHOWN_DETECTIONS: usize = 10;

/// Writes the trap's coredump where `-D coredump` asked, saying so.
fn write_coredump(e: &walmart::Error, args: &RunArgs) {
    let (Some(path), walmart::Error::Trap(t)) = (&args.coredump, e) else {
        return;
    };
    let Some(dump) = t.coredump() else { return };
    match std::fs::write(path, dump.serialize(&args.file.display().to_string())) {
        Ok(()) => eprintln!("walmart: wasm coredump written to {}", path.display()),
        // The run's failure is the trap's: the coredump is a diagnostic.
        Err(err) => eprintln!(
            "walmart: -D coredump: cannot write {}: {err}",
            path.display()
        ),
    }
}

/// Prints a guest failure and picks the exit status.
fn report(e: walmart::Error, args: &RunArgs) -> anyhow::Result<ExitCode> {
    crate::attest_report::note_guest_error(&e);
    if let Some(code) = e.exit_status() {
        // Exit statuses beyond a byte are truncated by the OS anyway.
        return Ok(ExitCode::from(code as u8));
    }
    write_coredump(&e, args);
    match &e {
        walmart::Error::Trap(t) if t.kind() == walmart::TrapKind::AttestationViolation => {
            eprintln!("error: {e} (stopped by --on-detect trap: the detection is above)");
            Ok(ExitCode::from(ATTEST_EXIT))
        }
        walmart::Error::Trap(_) | walmart::Error::Host { .. } | walmart::Error::Exception(_) => {
            eprintln!("error: {e}");
            if let (walmart::Error::Host { .. }, Some(bt)) = (&e, e.backtrace()) {
                eprintln!("{bt}");
            }
            Ok(ExitCode::from(TRAP_EXIT))
        }
        _ => Err(e.into()),
    }
}

/// The CNN verifier `--model` names, if any, on `backend`.
fn model_verifier(
    model: Option<&str>,
    backend: Backend,
) -> anyhow::Result<Option<Box<dyn walmart::attest::Verifier>>> {
    let model = match model.unwrap_or("default") {
        "none" => return Ok(None),
        name => default::named(name).map_err(|e| anyhow!("--model: {e}"))?,
    };
    Ok(Some(cnn_verifier(model, backend)?))
}

/// `--dir HOST[::GUEST[::MODE]]`: the host directory, the guest's name for
/// it, and whether it is read only (MODE `ro`; `rw`, the default, is
/// read and write). A third part is always the mode, so a guest name
/// `ro` stays a name (`--dir data::ro`).
pub(crate) fn parse_dir(spec: &str) -> anyhow::Result<(&str, &str, bool)> {
    let Some((host, rest)) = spec.split_once("::") else {
        return Ok((spec, spec, false));
    };
    let Some((guest, mode)) = rest.split_once("::") else {
        if rest == "ro" || rest == "rw" {
            // Most likely meant as the mode: say what it does instead.
            eprintln!(
                "walmart: warning: --dir {spec} gives the guest {host} as the directory \
                 `{rest}`, read and write; for a mode, name the guest's directory first: \
                 --dir {host}::GUEST::{rest}"
            );
        }
        return Ok((host, rest, false));
    };
    match mode {
        "ro" => Ok((host, guest, true)),
        "rw" => Ok((host, guest, false)),
        other => bail!("--dir {spec}: unknown mode `{other}` (expected `ro` or `rw`)"),
    }
}

/// The attestation options the command line asks for (`hooks`: the
/// policy has hooks, `coarse` or `fine`, where a CNN may judge).
fn attest_options(args: &RunArgs, hooks: bool) -> anyhow::Result<AttestOptions> {
    if let Some(path) = &args.attest_report {
        crate::attest_report::begin(path, &args.file, args.model.as_deref())?;
    }
    let mut opts = AttestOptions::new()
        .on_detect(args.on_detect)
        .backpressure(args.attest_backpressure)
        .score_input_runs(args.cnn_score_input_runs)
        .on_event({
            let show = detections_on_stderr();
            let report = args.attest_report.is_some();
            move |e| {
                show(e);
                if report {
                    crate::attest_report::count(e);
                }
            }
        });
    if let Some(interval) = args.attest_interval {
        opts = opts.interval(interval);
    }
    if let Some(log) = &args.attest_log {
        opts = opts.log_file(log);
    }
    if let Some(dir) = &args.attest_evidence {
        opts = opts.evidence_dir(dir);
    }
    if let Some(path) = &args.trace {
        opts = opts.tag_trace(TraceOptions {
            path: path.clone(),
            range: trace_range(args.code.trace_accesses.as_deref().unwrap_or("all"))?,
            sample: args.trace_sample.max(1),
        });
    }
    if hooks {
        if let Some(cnn) = model_verifier(args.model.as_deref(), args.backend)? {
            opts = opts.also_verify(cnn);
        }
    }
    match args.inject.as_deref() {
        None => {}
        Some("host-tamper") => {
            if !(0.0..=1.0).contains(&args.inject_rate) {
                bail!(
                    "--inject-rate {}: expected a probability from 0 to 1",
                    args.inject_rate
                );
            }
            opts = opts.inject_host_tamper(args.inject_rate, args.seed);
        }
        Some(other) => bail!(
            "--inject {other}: `walmart run` injects only host-tamper \
             (heap attacks come with `walmart attest collect`)"
        ),
    }
    Ok(opts)
}

/// Ends an attested run: its last checks, the summary on standard error,
/// and the exit status a detection earns beside the guest's `outcome`.
fn finish_attested(
    outcome: anyhow::Result<ExitCode>,
    engine: &Engine,
    store: &mut Store<walmart::wasi::WasiCtx>,
    args: &RunArgs,
) -> anyhow::Result<ExitCode> {
    let finish = store.finish_attestation();
    let mut caveats = Vec::new();
    if let Some(t) = store.tag_stats() {
        let c = engine.config();
        eprintln!(
            "walmart: tags ({}, {} colours): {} allocations, {} frees, {} violations",
            c.tags.mode.name(),
            match c.tags.colours {
                TagColours::Memory => "memory",
                TagColours::Pointer => "pointer",
            },
            t.allocations,
            t.frees,
            t.violations
        );
    } else if let Some(stats) = store.attestation_stats() {
        eprintln!(
            "walmart: attestation ({}, {} dirty tracking): {stats}",
            args.code.attest,
            engine.attest_dirty_tracking()
        );
        let c = engine.config();
        if c.attest_heap_check
            && c.tag_monitor().is_none()
            && !stats.heap_walked
            && stats.allocator_calls > 0
        {
            // A user must not take the exact heap checks' silence for a
            // clean heap.
            let note = "the guest's allocator was called but its heap was not walked (an \
                 allocator other than dlmalloc and emmalloc, or a store of several memories or a \
                 64-bit one): the exact heap checks did not run";
            eprintln!("walmart: note: {note}");
            caveats.push(note.to_string());
        }
    }
    // How the guest ended, for the report: what `report` saw of its
    // failure, or its exit status.
    let ending = match &outcome {
        Err(e) => Some(format!("{e:#}")),
        Ok(_) => crate::attest_report::guest_error(),
    };
    let success = matches!(&outcome, Ok(code) if *code == ExitCode::SUCCESS);
    // The checks' own failure (a log or trace that could not be written):
    // they did not all run, whatever they found.
    let unfinished = match &finish {
        Err(walmart::Error::Trap(t)) if t.kind() == walmart::TrapKind::AttestationViolation => None,
        Err(e) => Some(e.to_string()),
        Ok(_) => None,
    };
    let status = match (outcome, finish) {
        (Err(e), _) => Err(e),
        (Ok(code), Ok(_)) => Ok(code),
        (Ok(code), Err(e)) => {
            // A detection fails the run with 86 whatever status the guest
            // chose to exit with; another failure keeps a failing status.
            let detected = matches!(&e, walmart::Error::Trap(t)
                if t.kind() == walmart::TrapKind::AttestationViolation);
            if code != ExitCode::SUCCESS && !detected {
                eprintln!("error: {e}");
                Ok(code)
            } else {
                report(e, args)
            }
        }
    };
    if let Some(path) = &args.attest_report {
        let stopped = crate::attest_report::stopped_by_detection();
        let ending = match (&ending, success) {
            (Some(e), _) => crate::attest_report::Ending::Error(e),
            (None, true) => crate::attest_report::Ending::Success,
            (None, false) => crate::attest_report::Ending::Failure,
        };
        if let Some(e) = &unfinished {
            caveats.push(format!("the attestation did not finish: {e}"));
        }
        let written = write_attest_report(
            path,
            engine,
            store,
            args,
            ending,
            (stopped, unfinished.is_some()),
            caveats,
        );
        if let Err(e) = written {
            // Said, and failing a run that would have succeeded; the run's
            // own failure status stays.
            eprintln!("error: {e:#}");
            if matches!(&status, Ok(code) if *code == ExitCode::SUCCESS) {
                return Ok(ExitCode::from(1));
            }
        }
    }
    status
}

/// Writes `--attest-report`'s document for the run that just ended.
fn write_attest_report(
    path: &std::path::Path,
    engine: &Engine,
    store: &Store<walmart::wasi::WasiCtx>,
    args: &RunArgs,
    ending: crate::attest_report::Ending<'_>,
    (stopped_by_detection, unfinished): (bool, bool),
    caveats: Vec<String>,
) -> anyhow::Result<()> {
    use serde_json::json;
    let c = engine.config();
    let hooks = matches!(args.code.attest, Policy::Coarse | Policy::Fine);
    let mut settings = json!({
        "on_detect": format!("{:?}", args.on_detect).to_lowercase(),
        "heap_checks": c.attest_heap_check,
        "stack_guards": c.attest_stack_guards,
    });
    if hooks {
        settings["sync"] = json!(args.code.attest_sync);
        settings["dirty_tracking"] = json!(engine.attest_dirty_tracking().to_string());
        settings["backpressure"] = json!(format!("{:?}", args.attest_backpressure).to_lowercase());
    } else {
        settings["tags"] = json!(c.tags.mode.name());
        settings["tag_colours"] = json!(match c.tags.colours {
            TagColours::Memory => "memory",
            TagColours::Pointer => "pointer",
        });
    }
    let verifier = match args.model.as_deref() {
        Some("none") => serde_json::Value::Null,
        _ if !hooks => serde_json::Value::Null,
        model => json!({
            "model": model.unwrap_or("default"),
            "sha256": crate::attest_report::model_sha256(),
            "backend": format!("{:?}", args.backend).to_lowercase(),
        }),
    };
    let counted = match (store.tag_stats(), store.attestation_stats()) {
        (Some(t), _) => t.violations,
        (None, Some(s)) => s.detections,
        (None, None) => 0,
    };
    let stats = match (store.tag_stats(), store.attestation_stats()) {
        (Some(t), _) => json!({
            "allocations": t.allocations,
            "frees": t.frees,
            "violations": t.violations,
        }),
        (None, Some(s)) => json!({
            "hooks": s.hooks,
            "allocator_calls": s.allocator_calls,
            "snapshots": s.snapshots,
            "pages_snapshotted": s.pages_snapshotted,
            "pages_input": s.pages_input,
            "pages_audited": s.pages_audited,
            "bytes_verified": s.bytes_verified,
            "detections": s.detections,
            "ring_deferrals": s.deferred,
            "ring_drops": s.ring_drops,
            "tamper_checks": s.tamper_checks,
            "heap_walked": s.heap_walked,
            "heap_chunks_checked": s.heap_chunks,
            "verifier_ms": s.verifier_time.as_secs_f64() * 1e3,
        }),
        (None, None) => serde_json::Value::Null,
    };
    crate::attest_report::write(
        path,
        &crate::attest_report::RunFacts {
            module: &args.file,
            policy: &args.code.attest.to_string(),
            settings,
            verifier,
            ending,
            stopped_by_detection,
            unfinished,
            counted,
            stats,
            caveats,
            log: args.attest_log.as_deref(),
        },
    )
}
