//! `walmart attest evaluate`: a corpus of applications with real exploit
//! inputs, run under every policy; detection, false positives, latency and
//! overhead, written as a Markdown report.
//!
//! A corpus is a folder of application folders. Each holds one `.wasm`
//! (a WASI command reading its input from standard input), `benign/*.in`
//! with the native build's output beside each as `*.out`, `exploit/*.in`
//! (inputs that trigger a real memory-corruption bug), optionally
//! `control/*.in` (per exploit of the same name, the input with the bug's
//! trigger taken out, its native output beside it: what the CNN flags
//! in both is the input's bytes, not the corruption), `train/*.in`
//! (benign inputs used only to train the application's CNN) and, once
//! trained, `model.wcnn`. A `README.md` naming a `CVE-YYYY-N` gives the
//! report its CVE column.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use walmart::attest::collect::{fillers_in_clean_runs, DEFAULT_FILLERS};
use walmart::attest::dataset::{Dataset, Label};
use walmart::attest::model::default;
use walmart::attest::model::Model;
use walmart::attest::{Event, EventKind, OnDetect, Policy};
use walmart::wasi::WasiCtx;
use walmart::{AttestOptions, Config, Engine, Module};

use crate::attest::{collect, files_in, start_command, train_cmd, CollectArgs, TrainArgs};
use crate::backend::{available, prepare, verifier, Backend};
use walmart::attest::model::gpu::probe;
use walmart::attest::PreparedCnn;

#[derive(clap::Args)]
pub struct EvaluateArgs {
    /// The corpus: one folder per application (APP/APP.wasm, benign/,
    /// exploit/, control/, train/; see the README).
    corpus: PathBuf,
    /// Only these applications (folder names), comma-separated.
    #[arg(long, value_delimiter = ',')]
    apps: Vec<String>,
    /// Policies to evaluate against `off`, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "coarse,fine,tags")]
    policies: Vec<Policy>,
    /// Verifier back ends the CNN of `coarse` and `fine` runs on, each
    /// its own rows, comma-separated [default: cpu, gpu where a CUDA
    /// device is, wasm].
    #[arg(long, value_delimiter = ',')]
    backends: Vec<Backend>,
    /// Train every application's CNN again, even where APP/model.wcnn
    /// exists (missing models are always trained).
    #[arg(long)]
    retrain: bool,
    /// Training epochs for the models this run trains.
    #[arg(long, default_value_t = 12)]
    epochs: usize,
    /// The CNN beside the exact checks: `app` (each application's own,
    /// APP/model.wcnn), `default` (the built-in model), a model file, or
    /// `none` (the exact checks only).
    #[arg(long, value_name = "app|default|none|FILE", default_value = "app")]
    model: String,
    /// Timed runs of each benign input per policy (the fastest counts).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Keep the bytes of every page a verifier flags in DIR (as `walmart
    /// run --attest-evidence`); a false positive's note names its files.
    #[arg(long, value_name = "DIR")]
    evidence: Option<PathBuf>,
    /// Write the report to FILE (Markdown) instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// One application of the corpus.
struct App {
    name: String,
    dir: PathBuf,
    wasm: PathBuf,
    cve: String,
    benign: Vec<PathBuf>,
    exploits: Vec<PathBuf>,
    /// Per exploit, its control (`control/NAME.in`: the exploit with its
    /// bug's trigger taken out), where the corpus has one.
    controls: Vec<Option<PathBuf>>,
}

impl App {
    fn load(dir: &Path) -> anyhow::Result<App> {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let wasms = files_with(dir, "wasm")?;
        let wasm = match wasms.as_slice() {
            [one] => one.clone(),
            [] => bail!("{}: no .wasm application", dir.display()),
            _ => bail!("{}: more than one .wasm file", dir.display()),
        };
        let benign = files_with(&dir.join("benign"), "in")?;
        let exploits = files_with(&dir.join("exploit"), "in")?;
        if benign.is_empty() || exploits.is_empty() {
            bail!(
                "{}: needs benign/*.in and exploit/*.in inputs",
                dir.display()
            );
        }
        let controls: Vec<Option<PathBuf>> = exploits
            .iter()
            .map(|e| {
                let c = dir.join("control").join(e.file_name().unwrap_or_default());
                c.is_file().then_some(c)
            })
            .collect();
        // A control whose exploit is missing (a misspelt name) would be
        // ignored, and that exploit's CNN flags credited unchecked.
        for c in files_with(&dir.join("control"), "in")? {
            if !controls.iter().flatten().any(|k| *k == c) {
                bail!(
                    "{}: a control with no exploit/ input of its name",
                    c.display()
                );
            }
        }
        for b in benign.iter().chain(controls.iter().flatten()) {
            if !b.with_extension("out").is_file() {
                bail!("{}: no native output beside it (.out)", b.display());
            }
        }
        let cve = std::fs::read_to_string(dir.join("README.md"))
            .ok()
            .and_then(|t| find_cve(&t))
            .unwrap_or_else(|| "-".into());
        Ok(App {
            name,
            dir: dir.to_path_buf(),
            wasm,
            cve,
            benign,
            exploits,
            controls,
        })
    }

    fn model_path(&self) -> PathBuf {
        self.dir.join("model.wcnn")
    }
}

/// The CVE ids (`CVE-YYYY-NNNN`) of a README: every one its title line
/// names (an application may be run against several of its library's
/// bugs), else the first anywhere in `text`.
fn find_cve(text: &str) -> Option<String> {
    let title = text.lines().next().unwrap_or("");
    let named = cve_ids(title);
    if !named.is_empty() {
        return Some(named.join(", "));
    }
    cve_ids(text).into_iter().next()
}

/// Each distinct `CVE-YYYY-NNNN` in `text`, in order.
fn cve_ids(text: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for (i, _) in text.match_indices("CVE-") {
        let id: String = text[i + 4..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '-')
            .collect();
        let mut parts = id.split('-');
        let ok = matches!((parts.next(), parts.next()), (Some(y), Some(n)) if y.len() == 4 && n.len() >= 4);
        let id = format!("CVE-{}", id.trim_end_matches('-'));
        if ok && !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// The files in `dir` ending in `.ext`, sorted; none if `dir` is missing.
fn files_with(dir: &Path, ext: &str) -> anyhow::Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    files_in(dir, Some(ext)).with_context(|| dir.display().to_string())
}

/// How one run went.
struct Outcome {
    stdout: Vec<u8>,
    /// `exit N` or the trap's first line.
    status: String,
    events: Vec<Event>,
    elapsed: Duration,
    /// Calls the module made to its allocator functions
    /// ([`walmart::attest::AttestStats::allocator_calls`]; 0 under `off`).
    allocator_calls: u64,
    /// When the run entered the allocator call its options marked.
    marked_at: Option<f64>,
}

impl Outcome {
    /// Detections by the policy's own checks: the CNN and the exact
    /// checks for coarse and fine, the tag monitor for tags.
    fn detections(&self, policy: Policy) -> impl Iterator<Item = &Event> {
        self.events.iter().filter(move |e| match policy {
            Policy::Tags => e.kind == EventKind::TagViolation,
            _ => e.kind != EventKind::TagViolation,
        })
    }

    /// The policy's detections of one kind.
    fn detections_of(&self, policy: Policy, kind: EventKind) -> impl Iterator<Item = &Event> {
        self.detections(policy).filter(move |e| e.kind == kind)
    }
}

/// A policy, with the back end its CNN runs on (none for `off`, `tags`
/// and runs with the exact checks only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Variant {
    policy: Policy,
    backend: Option<Backend>,
}

/// `coarse`, or `coarse, wasm` with a back end.
impl std::fmt::Display for Variant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.backend {
            Some(b) => write!(f, "{}, {b}", self.policy),
            None => write!(f, "{}", self.policy),
        }
    }
}

impl Variant {
    /// The report's back-end column.
    fn backend_name(&self) -> String {
        match (self.policy, self.backend) {
            (Policy::Off, _) => "-".into(),
            (Policy::Tags, _) => "exact".into(),
            (_, None) => "exact only".into(),
            (_, Some(b)) => b.to_string(),
        }
    }
}

/// An application compiled for one policy.
struct Runner {
    engine: Engine,
    module: Module,
    policy: Policy,
    /// The CNN, ready for its back end.
    cnn: Option<PreparedCnn>,
    program: String,
    wasm: PathBuf,
    /// Where flagged pages' bytes go (`--evidence`).
    evidence: Option<PathBuf>,
}

impl Runner {
    /// `alongside`: the tag monitor watches a coarse or fine run too, to
    /// tell when the corruption happened.
    fn new(
        app: &App,
        variant: Variant,
        model: Option<&Model>,
        alongside: bool,
        evidence: Option<&Path>,
    ) -> anyhow::Result<Runner> {
        let policy = variant.policy;
        let mut config = Config::new();
        config.attest(policy).tags_alongside(alongside);
        let engine = Engine::new(&config)?;
        let module = Module::from_file(&engine, &app.wasm)
            .map_err(|e| anyhow!("{}: {e}", app.wasm.display()))?;
        Ok(Runner {
            engine,
            module,
            policy,
            cnn: model
                .cloned()
                .zip(variant.backend)
                .map(|(m, b)| prepare(m, b))
                .transpose()?,
            program: app.name.clone(),
            wasm: app.wasm.clone(),
            evidence: evidence.map(Path::to_path_buf),
        })
    }

    fn run(&self, input: &Path, scratch: &Path) -> anyhow::Result<Outcome> {
        self.run_with(input, scratch, None)
    }

    /// A run that records when it entered allocator call `mark`, if any
    /// ([`AttestOptions::mark_allocator_call`]; not under the tag monitor).
    fn run_with(&self, input: &Path, scratch: &Path, mark: Option<u64>) -> anyhow::Result<Outcome> {
        let out_path = scratch.join("stdout");
        let mut ctx = WasiCtx::new();
        ctx.args([self.program.as_str()]);
        ctx.redirect(
            0,
            std::fs::File::open(input).with_context(|| input.display().to_string())?,
        );
        ctx.redirect(1, std::fs::File::create(&out_path)?);
        ctx.redirect(2, std::fs::File::create("/dev/null")?);
        let events = Arc::new(Mutex::new(Vec::new()));
        let opts = if self.policy == Policy::Off {
            None
        } else {
            let sink = events.clone();
            let mut opts = AttestOptions::new()
                .on_detect(OnDetect::Log)
                .on_event(move |e| {
                    sink.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(e.clone())
                });
            if let Some(cnn) = &self.cnn {
                opts = opts.also_verify(verifier(cnn)?);
            }
            if let Some(dir) = &self.evidence {
                opts = opts.evidence_dir(dir);
            }
            if let Some(n) = mark {
                opts = opts.mark_allocator_call(n);
            }
            Some(opts)
        };
        // Execution, as the benchmarks time it: from `_start` to the final
        // verdict (instantiation and compilation are the same for every
        // policy).
        let (mut store, called, started) =
            start_command(&self.engine, &self.module, ctx, opts, &self.wasm)?;
        let status = match called {
            Ok(()) => "exit 0".to_string(),
            Err(e) => match e.exit_status() {
                Some(code) => format!("exit {code}"),
                None => first_line(&e.to_string()),
            },
        };
        let stats = if self.policy != Policy::Off {
            store.finish_attestation()?
        } else {
            None
        };
        let elapsed = started.elapsed();
        drop(store);
        let events = std::mem::take(&mut *events.lock().unwrap_or_else(|p| p.into_inner()));
        Ok(Outcome {
            stdout: std::fs::read(&out_path)?,
            status,
            events,
            elapsed,
            allocator_calls: stats.as_ref().map_or(0, |s| s.allocator_calls),
            marked_at: stats.and_then(|s| s.allocator_call_marked),
        })
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}

/// One application's evaluation: its rows by policy (`off` first) and
/// the CNN it used.
struct AppResult<'a> {
    app: &'a App,
    rows: Vec<(Variant, Row)>,
    model: Option<Model>,
}

/// One application under one policy.
#[derive(Default)]
struct Row {
    benign_runs: usize,
    benign_matching: usize,
    fp_runs: usize,
    fp_pages: usize,
    exploits: usize,
    detected: usize,
    /// Exploit runs with a detection by the CNN, and by the walk of the
    /// allocator's chunk chain (a run may have both).
    detected_cnn: usize,
    detected_heap: usize,
    /// Exploit runs where a stack frame's guard was found written.
    detected_stack: usize,
    /// Exploit runs the CNN flagged only on pages it flagged in the
    /// control's runs too: the input's bytes, not the corruption, so not
    /// credited to it ([`cnn_credited`]).
    cnn_not_credited: usize,
    /// Runs of the exploits' controls; those with any detection (false
    /// positives on inputs that differ from an exploit only in its
    /// bug's trigger); those whose output or exit status is not the
    /// native build's.
    control_runs: usize,
    control_fp_runs: usize,
    control_not_native: usize,
    /// Per exploit detected in the latency run: (hooks, milliseconds).
    latency: Vec<(u64, f64)>,
    /// Exploit runs the exact checks (heap walk, stack guards) detected,
    /// under `coarse` and `fine`.
    detected_exact: usize,
    /// Per exploit an exact check detected: allocator calls from the
    /// corrupting write to the detection ([`exact_latency`]), where it
    /// could be dated, and milliseconds from the entry of the last
    /// allocator call before the write ([`marked_latency`]).
    exact_latency: Vec<Option<(u64, Option<f64>)>>,
    /// Fastest time per benign input.
    best: Vec<Duration>,
    notes: Vec<String>,
}

/// An event's pages with their scores, for a note: "page 97 (score
/// 0.9999545) of memory 0, by the cnn verifier"; its own detail where it
/// has no score per page (the exact checks).
fn flagged_pages(e: &Event) -> String {
    if e.scores.len() != e.pages.len() || e.pages.is_empty() || e.kind == EventKind::HeapCorrupt {
        return e.detail.clone();
    }
    let pages: Vec<String> = e
        .pages
        .iter()
        .zip(&e.scores)
        .map(|(p, s)| format!("{p} (score {s:.2})"))
        .collect();
    let kept: Vec<&str> = e
        .evidence
        .iter()
        .map(String::as_str)
        .filter(|f| !f.is_empty())
        .collect();
    let evidence = if kept.is_empty() {
        String::new()
    } else {
        format!(" (evidence: {})", kept.join(", "))
    };
    format!(
        "page {} of memory {}, by the {} verifier{evidence}",
        pages.join(", "),
        e.memory,
        e.source
    )
}

/// Trains `app`'s CNN on its benign training inputs with injected attacks
/// (never on the exploit inputs): fine and coarse snapshots, merged.
/// The attacks pad with the default fillers (`a` among them: unlike the
/// built-in model, an application's model judges only its own pages)
/// but for those its own clean pages hold in runs as long as a payload's
/// ([`fillers_in_clean_runs`]), found in both sets, which are then
/// collected again without them.
fn train_model(app: &App, epochs: usize, scratch: &Path) -> anyhow::Result<()> {
    let train = app.dir.join("train");
    if files_with(&train, "in")?.is_empty() {
        bail!(
            "{}: no train/*.in inputs to train its CNN on",
            app.dir.display()
        );
    }
    let set = |policy: Policy, fillers: &[u8]| -> anyhow::Result<PathBuf> {
        let out = scratch.join(format!("{}-{policy}.wds", app.name));
        collect(CollectArgs {
            app: app.wasm.clone(),
            inputs: Some(train.clone()),
            policy,
            // Synchronous fine hooks: every written version of a page,
            // the clean examples the threshold is set on.
            sync: policy == Policy::Fine,
            out: out.clone(),
            inject: vec![Label::HeapOverflow, Label::UseAfterFree, Label::StackSmash],
            rate: if policy == Policy::Fine { 1.0 } else { 4.0 },
            seed: 1,
            keep: 1.0,
            near_misses: true,
            fillers: fillers.to_vec(),
            max_pages: if policy == Policy::Fine { 500 } else { 8000 },
            args: Vec::new(),
        })?;
        Ok(out)
    };
    let mut sets = vec![
        set(Policy::Fine, &DEFAULT_FILLERS)?,
        set(Policy::Coarse, &DEFAULT_FILLERS)?,
    ];
    let mut both = Dataset::load(&sets[0])?;
    both.merge(Dataset::load(&sets[1])?);
    let clash = fillers_in_clean_runs(&both.records, &DEFAULT_FILLERS);
    drop(both);
    let fillers: Vec<u8> = DEFAULT_FILLERS
        .into_iter()
        .filter(|f| !clash.contains(f))
        .collect();
    if fillers.is_empty() {
        bail!(
            "{}: its clean pages hold long runs of every filler ({}); no attack padding is left to train on",
            app.name,
            hex_list(&DEFAULT_FILLERS)
        );
    }
    if !clash.is_empty() {
        eprintln!(
            "walmart: {}'s own pages hold runs of {}: its attacks pad with {} only",
            app.name,
            hex_list(&clash),
            hex_list(&fillers)
        );
        sets = vec![set(Policy::Fine, &fillers)?, set(Policy::Coarse, &fillers)?];
    }
    train_cmd(TrainArgs {
        datasets: sets,
        out: app.model_path(),
        epochs,
        // Four times `attest train`'s fine-tuning rate of 2026-12-02:
        // at 5e-4 the built-in model's own leanings (long runs of one
        // byte are padding) outlasted twelve epochs on an application's
        // pages (jq: threshold 17 in log-odds, recall 0.82; at 2e-3, 5.6
        // and 0.99 on the same sets).
        lr: 2e-3,
        seed: 1,
        batch: 64,
        patience: 3,
        max_fpr: 0.0,
        arch: None,
        init: Some("default".into()),
        // Tried (2026-12-03, seventeenth session; benches/RESULTS.md):
        // mining hard negatives lifts zlib and blinds expat and jq to
        // `A` padding, validation from several stretches of a run lifts
        // zlib and raises c-ares's threshold, and both flag real files
        // the committed models pass; so the recipe keeps the defaults.
        hard_negatives: 0,
        validation_stretches: 1,
        dataset_name: Some(format!(
            "{}'s train/ inputs as `walmart attest evaluate` collects them (fine --sync, coarse)",
            app.name
        )),
    })?;
    Ok(())
}

/// Bytes as `41,90` (the form `collect --fillers` takes).
fn hex_list(bytes: &[u8]) -> String {
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    hex.join(",")
}

/// The back ends evaluated when `--backends` names none.
fn default_backends() -> Vec<Backend> {
    let mut all = vec![Backend::Cpu, Backend::Wasm];
    if available(Backend::Gpu).is_ok() {
        all.insert(1, Backend::Gpu);
    }
    all
}

pub fn run(mut a: EvaluateArgs) -> anyhow::Result<ExitCode> {
    if a.rounds == 0 || a.epochs == 0 {
        bail!("--rounds and --epochs must be positive");
    }
    if a.policies.contains(&Policy::Off) {
        bail!("--policies off: every policy is compared with off already");
    }
    if a.backends.is_empty() {
        a.backends = default_backends();
    }
    for &b in &a.backends {
        available(b)?;
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&a.corpus)
        .with_context(|| format!("corpus {}", a.corpus.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        // Folders named `.x` or `_x` (`__pycache__` of the generators'
        // shared module) are not applications.
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| !n.starts_with(['.', '_']))
        })
        .collect();
    dirs.sort();
    if !a.apps.is_empty() {
        for name in &a.apps {
            if !dirs
                .iter()
                .any(|d| d.file_name().is_some_and(|n| n == name.as_str()))
            {
                bail!("--apps {name}: no such folder in {}", a.corpus.display());
            }
        }
        dirs.retain(|d| {
            d.file_name()
                .is_some_and(|n| a.apps.iter().any(|x| n == x.as_str()))
        });
    }
    let apps = dirs
        .iter()
        .map(|d| App::load(d))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if apps.is_empty() {
        bail!("{}: no application folders", a.corpus.display());
    }
    let scratch = std::env::temp_dir().join(format!("walmart-evaluate-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let result = evaluate(&a, &apps, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    let report = result?;
    match &a.out {
        Some(path) => {
            std::fs::write(path, report).with_context(|| path.display().to_string())?;
            eprintln!("walmart: report written to {}", path.display());
        }
        None => print!("{report}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn evaluate(a: &EvaluateArgs, apps: &[App], scratch: &Path) -> anyhow::Result<String> {
    let uses_cnn = a.policies.iter().any(|p| *p != Policy::Tags);
    let mut results: Vec<AppResult> = Vec::new();
    for app in apps {
        let model = if !uses_cnn || a.model == "none" {
            None
        } else if a.model != "app" {
            Some(default::named(&a.model).map_err(|e| anyhow!("--model: {e}"))?)
        } else {
            if a.retrain || !app.model_path().is_file() {
                eprintln!("walmart: training {}'s CNN", app.name);
                train_model(app, a.epochs, scratch)?;
            }
            let path = app.model_path();
            Some(
                default::named(&path.display().to_string())
                    .map_err(|e| anyhow!("{}: {e}", path.display()))?,
            )
        };
        eprintln!("walmart: evaluating {}", app.name);
        let rows = evaluate_app(a, app, model.as_ref(), scratch)?;
        results.push(AppResult { app, rows, model });
    }
    Ok(render(a, &results))
}

fn evaluate_app(
    a: &EvaluateArgs,
    app: &App,
    model: Option<&Model>,
    scratch: &Path,
) -> anyhow::Result<Vec<(Variant, Row)>> {
    let exact = |policy| Variant {
        policy,
        backend: None,
    };
    let mut policies = vec![exact(Policy::Off)];
    for &policy in &a.policies {
        match (policy, model) {
            (Policy::Coarse | Policy::Fine, Some(_)) => {
                policies.extend(a.backends.iter().map(|&b| Variant {
                    policy,
                    backend: Some(b),
                }))
            }
            _ => policies.push(exact(policy)),
        }
    }
    let runners = policies
        .iter()
        .map(|&v| Runner::new(app, v, model, false, a.evidence.as_deref()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // The same policies with the tag monitor alongside, to date the
    // corruption in the exploit runs (compiled once, like the runners).
    let watchers = policies
        .iter()
        .map(|&v| {
            matches!(v.policy, Policy::Coarse | Policy::Fine)
                .then(|| Runner::new(app, v, model, true, None))
                .transpose()
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut rows: Vec<Row> = policies.iter().map(|_| Row::default()).collect();
    let native_output = |input: &Path| {
        let out = input.with_extension("out");
        std::fs::read(&out).with_context(|| out.display().to_string())
    };
    let expected: Vec<Vec<u8>> = app
        .benign
        .iter()
        .map(|b| native_output(b))
        .collect::<anyhow::Result<_>>()?;
    let controls: Vec<Option<(&Path, Vec<u8>)>> = app
        .controls
        .iter()
        .map(|c| {
            c.as_deref()
                .map(|c| native_output(c).map(|out| (c, out)))
                .transpose()
        })
        .collect::<anyhow::Result<_>>()?;
    for row in rows.iter_mut() {
        row.best = vec![Duration::MAX; app.benign.len()];
    }
    // Rounds interleave the policies, so a slow spell of a shared machine
    // falls on all of them.
    // Every round's runs count for outputs and false positives too (the
    // verifier's batches depend on timing).
    for _ in 0..a.rounds {
        for (i, input) in app.benign.iter().enumerate() {
            for (runner, row) in runners.iter().zip(rows.iter_mut()) {
                let o = runner.run(input, scratch)?;
                row.best[i] = row.best[i].min(o.elapsed);
                row.benign_runs += 1;
                if row.native(&o, &expected[i], "benign", input) {
                    row.benign_matching += 1;
                }
                let fps: Vec<&Event> = o.detections(runner.policy).collect();
                if !fps.is_empty() {
                    row.fp_runs += 1;
                    row.fp_pages += fps.iter().map(|e| e.pages.len()).sum::<usize>();
                    row.false_positive("benign", input, fps[0]);
                }
            }
        }
    }
    for (exploit, control) in app.exploits.iter().zip(&controls) {
        for ((runner, row), watcher) in runners.iter().zip(rows.iter_mut()).zip(&watchers) {
            let o = runner.run(exploit, scratch)?;
            row.exploits += 1;
            let (control_cnn, control_calls) = match control {
                Some((c, out)) if runner.policy != Policy::Off => {
                    run_control(runner, c, out, row, scratch)?
                }
                None if runner.cnn.is_some() => {
                    row.notes.push(format!(
                        "exploit {}: no control/ input of its name, so every CNN flag is credited",
                        file_name(exploit)
                    ));
                    (Vec::new(), Vec::new())
                }
                _ => (Vec::new(), Vec::new()),
            };
            let by = |kind: EventKind| o.detections_of(runner.policy, kind).next();
            let flagged: Vec<&Event> = o.detections_of(runner.policy, EventKind::Cnn).collect();
            let cnn_counts = cnn_credited(&flagged, &control_cnn);
            if cnn_counts {
                row.detected_cnn += 1;
            } else if let (Some(e), Some(c)) = (flagged.first(), control_cnn.first()) {
                row.cnn_not_credited += 1;
                row.notes.push(format!(
                    "exploit {}: the CNN flagged {}, only pages it flagged in its control too \
                     ({}): the input's bytes, not the corruption; not credited",
                    file_name(exploit),
                    flagged_pages(e),
                    flagged_pages(c)
                ));
            }
            let found = o
                .detections(runner.policy)
                .any(|e| e.kind != EventKind::Cnn || cnn_counts);
            if found {
                row.detected += 1;
            }
            // The exact checks' finds get a note each (dated below).
            for (kind, check, count) in [
                (EventKind::HeapCorrupt, "heap walk", &mut row.detected_heap),
                (
                    EventKind::StackSmash,
                    "stack guard",
                    &mut row.detected_stack,
                ),
            ] {
                if let Some(e) = by(kind) {
                    *count += 1;
                    row.notes.push(format!(
                        "exploit {}: {check} at {} (snapshot {}): {}",
                        file_name(exploit),
                        e.hook.describe(),
                        e.epoch,
                        e.detail
                    ));
                }
            }
            if runner.policy == Policy::Off {
                row.notes
                    .push(format!("exploit {}: {}", file_name(exploit), o.status));
                continue;
            }
            if runner.policy == Policy::Tags {
                if let Some(e) = o.detections(Policy::Tags).next() {
                    row.latency.push((0, 0.0));
                    row.notes
                        .push(format!("exploit {}: {}", file_name(exploit), e.detail));
                }
                continue;
            }
            // When did the corruption happen? The same policy with the tag
            // monitor alongside dates it by snapshot epoch.
            let Some(watcher) = watcher else { continue };
            let watched = watcher.run(exploit, scratch)?;
            if o.events.iter().any(is_exact) {
                row.detected_exact += 1;
                // Whether the two runs count allocator calls alike, checked
                // on the control (the exploit's runs part at the bug).
                let alongside = match control {
                    Some((c, _)) if !control_calls.is_empty() => {
                        Some(watcher.run(c, scratch)?.allocator_calls)
                    }
                    _ => None,
                };
                let dated = exact_latency(&o, &watched, alongside.map(|a| (&control_calls[..], a)));
                match dated {
                    Ok((calls, write)) => {
                        // A third run times the same stretch: from the
                        // call the write followed to the detection.
                        let ms = match write {
                            0 => Err("the write came before any allocator call".to_string()),
                            _ => {
                                let timing = runner.run_with(exploit, scratch, Some(write))?;
                                marked_latency(&timing, write, &o)
                            }
                        };
                        let timed = match &ms {
                            Ok(ms) => format!(", at most {ms:.3} ms"),
                            Err(why) => format!("; not timed: {why}"),
                        };
                        row.exact_latency.push(Some((calls, ms.ok())));
                        row.notes.push(format!(
                            "exploit {}: the exact checks' detection came {calls} allocator \
                             call(s) after the first violating write (made after call {write}, \
                             as the tag monitor alongside saw it){timed}",
                            file_name(exploit)
                        ));
                    }
                    Err(why) => {
                        row.exact_latency.push(None);
                        row.notes.push(format!(
                            "exploit {}: the exact checks' detection is not dated: {why}",
                            file_name(exploit)
                        ))
                    }
                }
            }
            // The heap walk's and the stack guards' finds have their own
            // notes (above).
            let found_by_pages = o.detections(runner.policy).any(|e| {
                !matches!(e.kind, EventKind::HeapCorrupt | EventKind::StackSmash)
                    && (e.kind != EventKind::Cnn || cnn_counts)
            });
            // The run alongside lays the heap out its own way, so its pages
            // cannot be matched with the control's: its CNN events date
            // the corruption only where no control run was flagged.
            match latency(&watched, cnn_counts && control_cnn.is_empty()) {
                Ok(l) => row.latency.push(l),
                Err(why) if found_by_pages => row.notes.push(format!(
                    "exploit {}: detected; no latency: {why}",
                    file_name(exploit)
                )),
                Err(_) => {}
            }
        }
    }
    Ok(policies.into_iter().zip(rows).collect())
}

/// Runs of an exploit's control per runner with a CNN: a CNN verdict
/// depends on how the pages fell into batches, so one clean run would not
/// show that the control's bytes pass.
const CONTROL_RUNS: usize = 3;

/// Whether the CNN's flags on an exploit run (`flagged`, its `cnn`
/// events) are its detection: only where one flags a page that none of
/// the control's runs (`control`, their `cnn` events) flagged. The pages
/// both were flagged on hold the input's bytes, whatever the bug did.
/// Pages are matched by memory and number, so an exploit and its control
/// of about the same length keep their buffers on the same pages.
fn cnn_credited(flagged: &[&Event], control: &[Event]) -> bool {
    flagged.iter().any(|e| {
        e.pages.iter().any(|p| {
            !control
                .iter()
                .any(|c| c.memory == e.memory && c.pages.contains(p))
        })
    })
}

impl Row {
    /// Whether a run of `input` (a `what` input) gave the native build's
    /// output (`expected`) and exit status; a note where not.
    fn native(&mut self, o: &Outcome, expected: &[u8], what: &str, input: &Path) -> bool {
        if o.stdout == expected && o.status == "exit 0" {
            return true;
        }
        self.notes.push(format!(
            "{what} {} (a run): {} and output {} the native build's",
            file_name(input),
            o.status,
            if o.stdout == expected {
                "equal to"
            } else {
                "different from"
            }
        ));
        false
    }

    /// Notes a false positive on `input` (a `what` input): its first
    /// only, as the same pages' scores differ a little from run to run.
    fn false_positive(&mut self, what: &str, input: &Path, e: &Event) {
        let head = format!("false positive on {what} {}: ", file_name(input));
        if !self.notes.iter().any(|n| n.starts_with(&head)) {
            self.notes.push(format!("{head}{}", flagged_pages(e)));
        }
    }
}

/// Runs `control` under `runner` ([`CONTROL_RUNS`] times where a CNN
/// judges, once where only exact checks do), counting the runs, their
/// false positives and outputs other than the native build's
/// (`expected`) in `row`. Returns the CNN's events of those runs, and
/// each run's allocator calls.
fn run_control(
    runner: &Runner,
    control: &Path,
    expected: &[u8],
    row: &mut Row,
    scratch: &Path,
) -> anyhow::Result<(Vec<Event>, Vec<u64>)> {
    let runs = if runner.cnn.is_some() {
        CONTROL_RUNS
    } else {
        1
    };
    let mut cnn = Vec::new();
    let mut calls = Vec::new();
    for _ in 0..runs {
        let o = runner.run(control, scratch)?;
        calls.push(o.allocator_calls);
        row.control_runs += 1;
        if !row.native(&o, expected, "control", control) {
            row.control_not_native += 1;
        }
        if let Some(e) = o.detections(runner.policy).next() {
            row.control_fp_runs += 1;
            row.false_positive("control", control, e);
        }
        cnn.extend(o.detections_of(runner.policy, EventKind::Cnn).cloned());
    }
    Ok((cnn, calls))
}

/// Hooks and milliseconds from the first violating write the tag
/// monitor saw to the first detection by the other checks, after it, of
/// the page it touched (a detection of another page is not this bug's;
/// the CNN's only where `cnn`: credited, with no control run flagged).
fn latency(o: &Outcome, cnn: bool) -> Result<(u64, f64), &'static str> {
    let corrupted = first_violating_write(o)?;
    let page = corrupted.pages.first().copied();
    let found = o
        .events
        .iter()
        .filter(|e| e.kind != EventKind::TagViolation && e.epoch > corrupted.epoch)
        .filter(|e| cnn || e.kind != EventKind::Cnn)
        .filter(|e| e.memory == corrupted.memory && page.is_some_and(|p| e.pages.contains(&p)))
        .min_by_key(|e| e.epoch)
        .ok_or("no detection of the corrupted page after the violation in the run with the tag monitor alongside")?;
    Ok((
        found.epoch - corrupted.epoch,
        ((found.time - corrupted.time) * 1e3).max(0.0),
    ))
}

/// The tag monitor's report of the first violating write in a run with
/// it alongside: only a write corrupts, a violating read leaves nothing to
/// find.
fn first_violating_write(o: &Outcome) -> Result<&Event, &'static str> {
    o.events
        .iter()
        .find(|e| {
            e.tag
                .as_ref()
                .and_then(|t| t.access.as_ref())
                .is_some_and(|a| a.write)
        })
        .ok_or("the tag monitor alongside saw no violating write (nothing was corrupted)")
}

/// A detection by an exact check (the heap checks, the stack guards).
fn is_exact(e: &Event) -> bool {
    matches!(e.kind, EventKind::HeapCorrupt | EventKind::StackSmash)
}

/// The first detection by an exact check in `o` at allocator call `from`
/// or later: the lowest count, the earliest of those.
fn first_exact_detection(o: &Outcome, from: u64) -> Option<&Event> {
    o.events
        .iter()
        .filter(|e| is_exact(e) && e.allocator_calls >= from)
        .min_by(|a, b| {
            (a.allocator_calls, a.time)
                .partial_cmp(&(b.allocator_calls, b.time))
                .unwrap_or(std::cmp::Ordering::Equal)
        })
}

/// Allocator calls from the first violating write the tag monitor saw in
/// `watched` (the same policy with the monitor alongside) to the first
/// exact detection in `o` not before it, and the calls made before that
/// write. The monitor's wrappers lay the heap out their own way, so the
/// heap checks are off alongside and pages do not match between the
/// runs; the calls do: both count the program's calls to its allocator
/// alike ([`walmart::attest::AttestStats::allocator_calls`]), and up to
/// the bug both runs take the same path. A detection between the same
/// two calls as the write may have come before it (a corruption the
/// monitor does not see); it is taken as this bug's. `control`: the
/// allocator calls of the control's runs without the monitor and of its
/// run with it, which must all agree (else the program's path depends
/// on more than its input) and not be 0 (an allocator the count does not
/// know by name).
fn exact_latency(
    o: &Outcome,
    watched: &Outcome,
    control: Option<(&[u64], u64)>,
) -> Result<(u64, u64), String> {
    let Some((plain, alongside)) = control else {
        return Err("no control to check that the runs count allocator calls alike".into());
    };
    if plain.iter().any(|&p| p != alongside) {
        let plain: Vec<String> = plain.iter().map(u64::to_string).collect();
        return Err(format!(
            "the control's runs made {} allocator calls without the tag monitor and {alongside} \
             with it",
            plain.join(", ")
        ));
    }
    if alongside == 0 {
        return Err(
            "the control made no call to an allocator function known by name or export".into(),
        );
    }
    let corrupted = first_violating_write(watched)?;
    let found = first_exact_detection(o, corrupted.allocator_calls)
        .map(|e| e.allocator_calls)
        .ok_or_else(|| {
            format!(
                "no exact detection after allocator call {}, where the first violating write \
                 was",
                corrupted.allocator_calls
            )
        })?;
    Ok((found - corrupted.allocator_calls, corrupted.allocator_calls))
}

/// Milliseconds, in a run `o` that marked allocator call `write` (the
/// last before the corrupting write, [`exact_latency`]'s second), from
/// that call's entry to the first exact detection not before it: an
/// upper bound on the time from the write to the detection, as the write
/// came later. `first`: the run that was dated; the timing run must
/// detect at the same call and make as many calls in all, or it timed
/// another path.
fn marked_latency(o: &Outcome, write: u64, first: &Outcome) -> Result<f64, String> {
    let found = first_exact_detection(o, write)
        .ok_or("the timing run had no exact detection after the write's call")?;
    let dated = first_exact_detection(first, write).map(|e| e.allocator_calls);
    if dated != Some(found.allocator_calls) || o.allocator_calls != first.allocator_calls {
        return Err(format!(
            "the timing run detected at allocator call {} of {}, the dated run at {} of {}",
            found.allocator_calls,
            o.allocator_calls,
            dated.map_or("-".into(), |d| d.to_string()),
            first.allocator_calls
        ));
    }
    let marked = o
        .marked_at
        .ok_or_else(|| format!("the timing run made no allocator call {write}"))?;
    Ok(((found.time - marked) * 1e3).max(0.0))
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn total(d: &[Duration]) -> f64 {
    d.iter().map(|d| d.as_secs_f64()).sum()
}

/// `row`'s execution time against `off`'s (the first of `rows`).
fn overhead(rows: &[(Variant, Row)], row: &Row) -> f64 {
    total(&row.best) / total(&rows[0].1.best)
}

/// ` --NAME a,b` for the command line the report quotes, or nothing when
/// `values` are the default.
fn list_flag<T: PartialEq + std::fmt::Display>(name: &str, values: &[T], default: &[T]) -> String {
    if values == default {
        return String::new();
    }
    let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    format!(" --{name} {}", values.join(","))
}

fn render(a: &EvaluateArgs, results: &[AppResult]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "# Real-exploit evaluation\n");
    let _ = writeln!(
        s,
        "Written by `walmart attest evaluate {}{}{}{}{} --rounds {}` on {}, walmart {}.\n",
        a.corpus.display(),
        if a.model == "app" {
            String::new()
        } else {
            format!(" --model {}", a.model)
        },
        list_flag("apps", &a.apps, &[]),
        list_flag(
            "policies",
            &a.policies,
            &[Policy::Coarse, Policy::Fine, Policy::Tags]
        ),
        list_flag("backends", &a.backends, &default_backends()),
        a.rounds,
        today(),
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(s, "Machine: {}.\n", machine());
    let gpu = match probe() {
        Ok(dev) if a.backends.contains(&Backend::Gpu) => format!("`gpu` ran on {}", dev.name),
        Ok(dev) => format!("`gpu` ({}) was not asked for", dev.name),
        Err(e) => format!("`gpu` has no rows: {e}"),
    };
    let _ = writeln!(
        s,
        "Verifier back ends: {}. {gpu}.\n",
        a.backends
            .iter()
            .map(|b| format!("`{b}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        s,
        "| app | CVE | policy | back end | benign runs = native | false positives (runs / pages) | exploit runs with a detection | controls flagged (runs) | corrupted page detected, latency (hooks / ms) | heap walk / stack guard latency (allocator calls / ms) | overhead vs off |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|");
    for AppResult { app, rows, .. } in results {
        for (variant, row) in rows {
            let off = variant.policy == Policy::Off;
            let ratio = overhead(rows, row);
            let latency = if off || row.latency.is_empty() {
                "-".to_string()
            } else {
                row.latency
                    .iter()
                    .map(|(h, ms)| format!("{h} / {ms:.1}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let exact_latency = if row.exact_latency.is_empty() {
                "-".to_string()
            } else {
                let calls: Vec<String> = row
                    .exact_latency
                    .iter()
                    .map(|c| match c {
                        None => "-".into(),
                        Some((calls, Some(ms))) => format!("{calls} / {ms:.3}"),
                        Some((calls, None)) => format!("{calls} / -"),
                    })
                    .collect();
                calls.join(", ")
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {}/{} | {} | {} | {} | {} | {} | {} |",
                app.name,
                app.cve,
                variant.policy,
                variant.backend_name(),
                row.benign_matching,
                row.benign_runs,
                if off {
                    "-".to_string()
                } else {
                    format!("{} / {}", row.fp_runs, row.fp_pages)
                },
                if off {
                    "-".to_string()
                } else if variant.policy == Policy::Tags {
                    format!("{}/{}", row.detected, row.exploits)
                } else {
                    format!(
                        "{}/{} (cnn {}{}, heap walk {}, stack guard {})",
                        row.detected,
                        row.exploits,
                        row.detected_cnn,
                        if row.cnn_not_credited > 0 {
                            format!(" (not credited: {})", row.cnn_not_credited)
                        } else {
                            String::new()
                        },
                        row.detected_heap,
                        row.detected_stack
                    )
                },
                if off || row.control_runs == 0 {
                    "-".to_string()
                } else if row.control_not_native > 0 {
                    format!(
                        "{}/{} ({} not the native output)",
                        row.control_fp_runs, row.control_runs, row.control_not_native
                    )
                } else {
                    format!("{}/{}", row.control_fp_runs, row.control_runs)
                },
                latency,
                exact_latency,
                if off {
                    format!("{:.2} ms", total(&row.best) * 1e3)
                } else {
                    format!("{ratio:.3}")
                },
            );
        }
    }
    let _ = writeln!(s, "\n## Summary\n");
    let mut variants: Vec<Variant> = Vec::new();
    for (v, _) in results.iter().flat_map(|r| &r.rows) {
        if v.policy != Policy::Off && !variants.contains(v) {
            variants.push(*v);
        }
    }
    for variant in &variants {
        // Each application's row for this variant, with its overhead.
        let rows: Vec<(&Row, f64)> = results
            .iter()
            .filter_map(|r| {
                let (_, row) = r.rows.iter().find(|(v, _)| v == variant)?;
                Some((row, overhead(&r.rows, row)))
            })
            .collect();
        let geo = (rows.iter().map(|(_, x)| x.ln()).sum::<f64>() / rows.len() as f64).exp();
        let apps = rows.iter().filter(|(r, _)| r.detected > 0).count();
        let on_page = rows.iter().filter(|(r, _)| !r.latency.is_empty()).count();
        let fps: usize = rows.iter().map(|(r, _)| r.fp_runs).sum();
        let control_fps: usize = rows.iter().map(|(r, _)| r.control_fp_runs).sum();
        let control_runs: usize = rows.iter().map(|(r, _)| r.control_runs).sum();
        let controls = if control_runs > 0 {
            format!(", and {control_fps} of {control_runs} control runs")
        } else {
            String::new()
        };
        let n = rows.len();
        // Applications, and exploit inputs (an application may have
        // several: the same bug with other attacker bytes).
        let inputs: usize = rows.iter().map(|(r, _)| r.exploits).sum();
        let inputs_found: usize = rows.iter().map(|(r, _)| r.detected).sum();
        let pages_found: usize = rows.iter().map(|(r, _)| r.latency.len()).sum();
        let caught = if variant.policy == Policy::Tags {
            format!(
                "stopped at the violating access in {on_page} of {n} ({pages_found} of {inputs} \
                 inputs)"
            )
        } else {
            format!(
                "the corrupted page itself detected in {on_page} of {n} ({pages_found} of \
                 {inputs} inputs)"
            )
        };
        let by_whom = if variant.policy == Policy::Tags {
            String::new()
        } else {
            let cnn_apps = rows.iter().filter(|(r, _)| r.detected_cnn > 0).count();
            let cnn_inputs: usize = rows.iter().map(|(r, _)| r.detected_cnn).sum();
            let heap_apps = rows.iter().filter(|(r, _)| r.detected_heap > 0).count();
            let heap_inputs: usize = rows.iter().map(|(r, _)| r.detected_heap).sum();
            let stack_apps = rows.iter().filter(|(r, _)| r.detected_stack > 0).count();
            let stack_inputs: usize = rows.iter().map(|(r, _)| r.detected_stack).sum();
            let not_credited: usize = rows.iter().map(|(r, _)| r.cnn_not_credited).sum();
            let not_counted = if not_credited > 0 {
                format!(
                    "; the CNN's flags not credited on {not_credited} input(s): only pages \
                     flagged in their controls too"
                )
            } else {
                String::new()
            };
            let exact_found: usize = rows.iter().map(|(r, _)| r.detected_exact).sum();
            let dated: Vec<(u64, Option<f64>)> = rows
                .iter()
                .flat_map(|(r, _)| r.exact_latency.iter().flatten().copied())
                .collect();
            let slowest = dated
                .iter()
                .filter_map(|d| d.1)
                .fold(None, |m: Option<f64>, ms| Some(m.map_or(ms, |m| m.max(ms))));
            let dated = match dated.iter().map(|d| d.0).max() {
                _ if exact_found == 0 => String::new(),
                Some(most) => format!(
                    "; the exact checks' detections dated in {} of {exact_found} inputs, at most \
                     {most} allocator call(s){} after the corrupting write",
                    dated.len(),
                    match (slowest, dated.iter().filter(|d| d.1.is_none()).count()) {
                        (None, _) => String::new(),
                        (Some(ms), 0) => format!(" and {ms:.3} ms"),
                        (Some(ms), untimed) => format!(" and {ms:.3} ms ({untimed} not timed)"),
                    }
                ),
                None => {
                    format!("; the exact checks' detections dated in 0 of {exact_found} inputs")
                }
            };
            format!(
                " (the CNN in {cnn_apps} ({cnn_inputs} inputs), the heap walk in {heap_apps} \
                 ({heap_inputs} inputs), the stack guards in {stack_apps} ({stack_inputs} \
                 inputs){not_counted}{dated})"
            )
        };
        let _ = writeln!(
            s,
            "* `{}` ({}): a detection in the exploit runs of {apps} of {n} \
             applications ({inputs_found} of {inputs} exploit inputs){by_whom}, {caught}; {fps} \
             benign run(s) with a false positive{controls}; overhead vs off, geometric mean \
             {geo:.3}.",
            variant.policy,
            variant.backend_name()
        );
    }
    let _ = writeln!(
        s,
        "\nColumns: *benign runs = native*: runs (every input, {} rounds) \
         whose output and exit status equal the native build's; *false \
         positives*: benign runs with any detection, and the pages flagged \
         (summed over the runs); *exploit runs with a detection*: by any \
         check, and of those the runs where the CNN flagged a page (credited \
         only where it flagged a page it flagged in none of {} runs of the \
         exploit's control, `control/NAME.in`: the same input with the \
         bug's trigger taken out; where it flagged only pages it flagged in \
         the control too, it saw the attacker's bytes, not the corruption: \
         *not credited*, and the run counts as detected only if an exact \
         check found it; an exploit with no control has every flag \
         credited) and where \
         the walk of the allocator's chunk chain found it broken (exact; \
         `Config::attest_heap_check`) and where a stack frame's guard was \
         found written as its function returned (exact; \
         `Config::attest_stack_guards`); *controls flagged*: runs of the \
         controls with any detection (one run each where no CNN judges), \
         false positives on inputs that differ from the exploits only in \
         the bugs' triggers; *latency*: snapshotting hooks \
         from the first violating write (dated by the tag monitor run \
         alongside the same policy in a separate run) to the first \
         detection of the corrupted page after it (the CNN's only where it \
         is credited and no control run was flagged), 1 meaning the first \
         snapshot that held the corrupted bytes, and the wall-clock milliseconds between the two \
         events; the tag monitor itself stops at the access (0). *heap walk / \
         stack guard latency*: for each exploit input the exact checks \
         detected, the calls the program made to its allocator functions \
         from the first violating write to the detection (the write dated \
         by the tag monitor run alongside, as the CNN's latency is; the two \
         runs lay the heap out differently, but count the program's \
         allocator calls alike, which is checked on the exploit's control: \
         `-` and a note where a detection is not dated); 0 is a detection \
         before the program's next allocator call, 1 at the entry of that \
         call; and the milliseconds, in a third run without the monitor, \
         from the entry of the last allocator call before the write to the \
         detection (an upper bound on the time from the write, which came \
         later; `-` \
         where the write came before any allocator call). *overhead*: \
         execution time (from `_start` to the final verdict, as in \
         `benches/`) summed over the benign inputs, each input's fastest \
         of {} runs, against `off` (whose row gives that sum).\n",
        a.rounds, CONTROL_RUNS, a.rounds
    );
    let _ = writeln!(s, "## Models\n");
    let _ = writeln!(
        s,
        "Each application's CNN (`APP/model.wcnn`) was trained only on its \
         benign `train/` inputs with injected heap-overflow, use-after-free \
         and stack-smash attacks (fine and coarse snapshots), never on an \
         exploit input or a benign evaluation input.\n"
    );
    for AppResult { app, model, .. } in results {
        if let Some(m) = model {
            let _ = writeln!(
                s,
                "* {}: threshold {:.2} (log-odds), epoch {}; validation {}",
                app.name,
                m.threshold,
                m.meta.epochs,
                m.meta
                    .metrics
                    .iter()
                    .map(|(k, v)| format!("{k} {v:.4}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    let notes: Vec<String> = results
        .iter()
        .flat_map(|AppResult { app, rows, .. }| {
            rows.iter().flat_map(move |(p, r)| {
                r.notes
                    .iter()
                    .map(move |n| format!("* {} ({p}): {n}", app.name))
            })
        })
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(s, "\n## Notes per run\n");
        for n in notes {
            let _ = writeln!(s, "{n}");
        }
    }
    s
}

/// The machine, in words: CPU model, cores, memory, kernel.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')))
        .map(|(_, m)| m.trim().to_string())
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map(|kb| format!(", {:.1} GiB memory", kb as f64 / (1 << 20) as f64))
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| format!(", {} {}", std::env::consts::OS, k.trim()))
        .unwrap_or_default();
    format!("{cpu}, {cores} core(s){mem}{kernel}")
}

/// Today's date (UTC) as YYYY-MM-DD.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cve_ids_are_found_in_readmes() {
        assert_eq!(
            find_cve("# zlib\nCVE-2022-37434: inflate").as_deref(),
            Some("CVE-2022-37434")
        );
        assert_eq!(find_cve("no CVE- here, CVE-12 either"), None);
        assert_eq!(
            find_cve("# jq: CVE-2023-50246, CVE-2023-50268\nsee CVE-2023-50246 and CVE-2015-8863")
                .as_deref(),
            Some("CVE-2023-50246, CVE-2023-50268")
        );
    }

    #[test]
    fn a_false_positive_note_names_its_pages_and_scores() {
        let mut e = cnn_event(0, &[97, 80]);
        e.epoch = 3;
        e.scores = vec![9.998, 10.3];
        e.source = "cnn-wasm".into();
        e.detail = "2 page(s) of memory 0 flagged by the cnn-wasm verifier".into();
        assert_eq!(
            flagged_pages(&e),
            "page 97 (score 10.00), 80 (score 10.30) of memory 0, \
             by the cnn-wasm verifier"
        );
        // With evidence kept, its files (a page whose file could not be
        // written has none).
        e.evidence = vec!["ev/1.0-3-m0-p97-cnn-wasm.page".into(), String::new()];
        assert_eq!(
            flagged_pages(&e),
            "page 97 (score 10.00), 80 (score 10.30) of memory 0, \
             by the cnn-wasm verifier (evidence: ev/1.0-3-m0-p97-cnn-wasm.page)"
        );
        // Without a score per page, its own sentence.
        e.scores.clear();
        assert_eq!(flagged_pages(&e), e.detail);
    }

    /// A CNN event flagging `pages` of `memory`.
    fn cnn_event(memory: u32, pages: &[u32]) -> Event {
        event(EventKind::Cnn, memory, pages)
    }

    fn event(kind: EventKind, memory: u32, pages: &[u32]) -> Event {
        use walmart::attest::{HookKind, HookSite};
        Event {
            time: 0.0,
            policy: Policy::Fine,
            kind,
            hook: HookSite::new(HookKind::ExportExit),
            epoch: 1,
            allocator_calls: 0,
            memory,
            pages: pages.to_vec(),
            scores: vec![9.0; pages.len()],
            source: "cnn".into(),
            detail: String::new(),
            tag: None,
            evidence: Vec::new(),
        }
    }

    #[test]
    fn a_cnn_flag_is_credited_only_on_a_page_its_control_was_not_flagged_on() {
        let exploit = [cnn_event(0, &[17]), cnn_event(0, &[3, 40])];
        let flagged: Vec<&Event> = exploit.iter().collect();
        // No control run flagged (or no control): every flag counts.
        assert!(cnn_credited(&flagged, &[]));
        // Nothing flagged: nothing to credit.
        assert!(!cnn_credited(&[], &[cnn_event(0, &[17])]));
        // Every page flagged in some control run: the input's bytes.
        let control = [cnn_event(0, &[17, 3]), cnn_event(0, &[40])];
        assert!(!cnn_credited(&flagged, &control));
        // One page of its own (40), though the control was flagged elsewhere.
        let control = [cnn_event(0, &[17, 3, 41])];
        assert!(cnn_credited(&flagged, &control));
        // The same page number of another memory is another page.
        let control = [cnn_event(1, &[17, 3, 40])];
        assert!(cnn_credited(&flagged, &control));
    }

    /// An outcome with `events`, and `calls` allocator calls in all.
    fn outcome(events: Vec<Event>, calls: u64) -> Outcome {
        Outcome {
            stdout: Vec::new(),
            status: "exit 0".into(),
            events,
            elapsed: Duration::ZERO,
            allocator_calls: calls,
            marked_at: None,
        }
    }

    /// The tag monitor's report of a `write` (or a read) after `calls`
    /// allocator calls.
    fn violation(write: bool, calls: u64) -> Event {
        use walmart::attest::{TagAccess, TagReport, ViolationKind};
        Event {
            allocator_calls: calls,
            tag: Some(TagReport {
                violation: ViolationKind::Overflow,
                access: Some(TagAccess {
                    write,
                    address: 0x11000,
                    size: 1,
                    colour: 0,
                }),
                allocation: None,
                backtrace: Vec::new(),
            }),
            ..event(EventKind::TagViolation, 0, &[17])
        }
    }

    fn exact(kind: EventKind, calls: u64) -> Event {
        Event {
            allocator_calls: calls,
            ..event(kind, 0, &[17])
        }
    }

    #[test]
    fn exact_detections_are_dated_in_allocator_calls_from_the_first_violating_write() {
        // A read before the write corrupts nothing: the write dates it.
        let watched = outcome(vec![violation(false, 3), violation(true, 5)], 40);
        let o = outcome(
            vec![
                exact(EventKind::HeapCorrupt, 4),
                exact(EventKind::StackSmash, 6),
                exact(EventKind::HeapCorrupt, 9),
                cnn_event(0, &[17]),
            ],
            40,
        );
        // The first exact detection at or after the write's count: one
        // call on. The one before it is not this bug's.
        let same: &[u64] = &[40, 40, 40];
        assert_eq!(exact_latency(&o, &watched, Some((same, 40))), Ok((1, 5)));
        // Found before the next allocator call.
        let o = outcome(vec![exact(EventKind::HeapCorrupt, 5)], 40);
        assert_eq!(exact_latency(&o, &watched, Some((same, 40))), Ok((0, 5)));
        // The control's runs counted differently: the counts do not line
        // up, so nothing is dated.
        let err = exact_latency(&o, &watched, Some((same, 41))).unwrap_err();
        assert!(
            err.contains("made 40, 40, 40 allocator calls without the tag monitor and 41"),
            "{err}"
        );
        let err = exact_latency(&o, &watched, Some((&[40, 39, 40], 40))).unwrap_err();
        assert!(err.contains("made 40, 39, 40 allocator calls"), "{err}");
        assert!(exact_latency(&o, &watched, None).is_err());
        // No allocator known by name: nothing counted, nothing dated.
        let err = exact_latency(&o, &watched, Some((&[0], 0))).unwrap_err();
        assert!(err.contains("no call to an allocator function"), "{err}");
        // Only reads seen: nothing was corrupted.
        let reads = outcome(vec![violation(false, 3)], 40);
        let err = exact_latency(&o, &reads, Some((same, 40))).unwrap_err();
        assert!(err.contains("no violating write"), "{err}");
        // Every exact detection came before the write.
        let early = outcome(vec![exact(EventKind::HeapCorrupt, 2)], 40);
        let err = exact_latency(&early, &watched, Some((same, 40))).unwrap_err();
        assert!(err.contains("after allocator call 5"), "{err}");
    }

    #[test]
    fn the_marked_call_times_the_first_exact_detection_after_it() {
        let at = |kind, calls, time| Event {
            time,
            ..exact(kind, calls)
        };
        let events = vec![
            at(EventKind::HeapCorrupt, 4, 99.0),
            at(EventKind::StackSmash, 6, 100.5),
            at(EventKind::HeapCorrupt, 5, 101.0),
            at(EventKind::StackSmash, 5, 100.8),
            Event {
                time: 100.1,
                ..cnn_event(0, &[17])
            },
        ];
        let first = outcome(events.clone(), 40);
        let mut o = outcome(events, 40);
        o.marked_at = Some(100.0);
        // Call 5's earliest detection, not the one before the write nor
        // the CNN's.
        let ms = marked_latency(&o, 5, &first).unwrap();
        assert!((ms - 800.0).abs() < 1e-6, "{ms}");
        o.marked_at = None;
        let err = marked_latency(&o, 5, &first).unwrap_err();
        assert!(err.contains("no allocator call 5"), "{err}");
        o.marked_at = Some(100.0);
        assert!(marked_latency(&o, 7, &first).is_err());
        // The timing run took another path: more calls in all, or its
        // detection at another call.
        o.allocator_calls = 41;
        let err = marked_latency(&o, 5, &first).unwrap_err();
        assert!(
            err.contains("at allocator call 5 of 41, the dated run at 5 of 40"),
            "{err}"
        );
        o.allocator_calls = 40;
        o.events.retain(|e| e.allocator_calls != 5);
        let err = marked_latency(&o, 5, &first).unwrap_err();
        assert!(
            err.contains("at allocator call 6 of 40, the dated run at 5 of 40"),
            "{err}"
        );
    }
}
