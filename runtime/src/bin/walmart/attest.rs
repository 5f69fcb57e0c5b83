//! `walmart attest collect | train | eval`: datasets of labelled pages, CNN
//! training and evaluation.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, bail, Context};
use walmart::attest::collect::Collector;
use walmart::attest::dataset::{Dataset, DatasetMeta, DatasetWriter, Label};
use walmart::attest::model::{batch_of, default};
use walmart::attest::train::{self, EvalReport, TrainOptions};
use walmart::attest::{Backpressure, Policy};
use walmart::wasi::{self, WasiCtx};
use walmart::{AttestOptions, Config, Engine, Linker, Module, Store};
use walmart_attest::rng::Rng;
use walmart_attest::PAGE_SIZE;

#[derive(clap::Subcommand)]
pub enum AttestCommand {
    /// Run an app and store labelled page snapshots taken at its hooks.
    Collect(CollectArgs),
    /// Train a CNN on datasets.
    Train(TrainArgs),
    /// Evaluate a model on datasets.
    Eval(EvalArgs),
    /// Score page files (the evidence `walmart run --attest-evidence`
    /// keeps) with a model.
    Score(ScoreArgs),
    /// Run a corpus of applications with real exploit inputs under every
    /// policy and write the detection and overhead table.
    Evaluate(crate::evaluate::EvaluateArgs),
}

#[derive(clap::Args)]
pub struct CollectArgs {
    /// The application.
    pub(crate) app: PathBuf,
    /// Run the app once per file in DIR, the file as its standard input
    /// (and `{}` in --args replaced by the file's name, DIR preopened as `.`).
    #[arg(long, value_name = "DIR")]
    pub(crate) inputs: Option<PathBuf>,
    /// Attestation policy whose hooks take the snapshots. `tags`: fine
    /// hooks with the colour-tag monitor alongside, whose real violating
    /// writes label the pages they touch.
    #[arg(long, value_name = "coarse|fine|tags", default_value = "fine")]
    pub(crate) policy: Policy,
    /// Synchronous hooks: every hook after a write snapshots (more pages).
    #[arg(long)]
    pub(crate) sync: bool,
    /// The dataset file to write.
    #[arg(long, value_name = "DATASET")]
    pub(crate) out: PathBuf,
    /// Attacks to simulate, comma-separated: heap-overflow,
    /// use-after-free, stack-smash, host-tamper.
    #[arg(long, value_name = "KINDS", value_delimiter = ',')]
    pub(crate) inject: Vec<Label>,
    /// Injections per hook on average: below 1 a probability, above 1
    /// that many (rounded at random), each on its own copy of the pages.
    #[arg(long, value_name = "R", default_value_t = 0.2)]
    pub(crate) rate: f64,
    /// Seed of the injections, of the slack marks' key and of what the
    /// program reads of the clock and the random source (virtual time, a
    /// seeded generator): `coarse`, `fine --sync` and `tags --sync`
    /// collections with the same seed write the same dataset.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub(crate) seed: u64,
    /// Share of later versions of clean pages recorded (the first version
    /// of every page always is).
    #[arg(long, value_name = "P", default_value_t = 1.0)]
    pub(crate) keep: f64,
    /// Beside each corrupted page, a benign near miss: the clean page with
    /// a few filler runs of 1-4 bytes where the attack wrote, so that the
    /// network learns an attack's runs rather than single `0x90`/`0xCC`/`A`
    /// bytes.
    #[arg(long)]
    pub(crate) near_misses: bool,
    /// The bytes injected payloads and near misses pad with, two hex
    /// digits each (`41,42,90,cc`); default `41,90,cc,42,61` (`A`, NOP,
    /// breakpoint, `B`, `a`). Zero is refused: `calloc` writes zeroes,
    /// which no snapshot tells from an attack.
    #[arg(long, value_name = "HEX,...", value_delimiter = ',', value_parser = filler_byte)]
    pub(crate) fillers: Vec<u8>,
    /// Stop recording pages of a label after this many per run (near
    /// misses have a budget of their own).
    #[arg(long, value_name = "N", default_value_t = 20000)]
    pub(crate) max_pages: usize,
    /// Arguments for the app.
    #[arg(long, num_args = 0.., allow_hyphen_values = true)]
    pub(crate) args: Vec<String>,
}

#[derive(clap::Args)]
pub struct TrainArgs {
    /// Dataset files (merged).
    #[arg(required = true)]
    pub(crate) datasets: Vec<PathBuf>,
    /// The model file to write.
    #[arg(long, value_name = "MODEL")]
    pub(crate) out: PathBuf,
    #[arg(long, default_value_t = 12)]
    pub(crate) epochs: usize,
    #[arg(long, default_value_t = 2e-3)]
    pub(crate) lr: f32,
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    #[arg(long, default_value_t = 64)]
    pub(crate) batch: usize,
    /// Epochs without improvement before stopping early.
    #[arg(long, default_value_t = 3)]
    pub(crate) patience: usize,
    /// False-positive rate the decision threshold is chosen for.
    #[arg(long, default_value_t = 0.001)]
    pub(crate) max_fpr: f64,
    /// The network, layers separated by commas (default: the built-in
    /// one, printed by training), e.g.
    /// `embed4,conv16k8s8,relu,conv32k4s4,relu,gavg,dense16,relu,dense2`.
    #[arg(long, value_name = "LAYERS")]
    pub(crate) arch: Option<String>,
    /// Start from this model's weights (fine-tuning): a model file or
    /// `default`. Its architecture is the one trained (no --arch).
    #[arg(long, value_name = "MODEL|default", conflicts_with = "arch")]
    pub(crate) init: Option<String>,
    /// Show each clean training page the model scored as corrupted after
    /// an epoch this many extra times in the next (0: never), so that the
    /// few clean pages unlike the rest stop setting the threshold. The
    /// model learns to pass over what they hold: where clean pages hold
    /// the attacks' own padding, it learns to miss those attacks.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(crate) hard_negatives: usize,
    /// Cut every run into K consecutive stretches and hold out the end of
    /// each for validation (1: the run's end only), so that content only
    /// a run's end holds is trained on too.
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub(crate) validation_stretches: u32,
    /// What the model's metadata names its datasets by (`None`: their
    /// paths). `walmart attest evaluate` names its own, whose paths lie in
    /// a scratch folder named for the process, so that the same recipe
    /// writes the same model file.
    #[arg(skip)]
    pub(crate) dataset_name: Option<String>,
}

#[derive(clap::Args)]
pub struct EvalArgs {
    /// The model file, or `default` for the built-in model.
    model: String,
    /// Dataset files (merged).
    #[arg(required = true)]
    datasets: Vec<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Also list the worst false positives and misses, and the clean pages
    /// closest to the threshold (record, run, page, score), to look at
    /// with the dataset.
    #[arg(long)]
    misses: bool,
}

#[derive(clap::Args)]
pub struct ScoreArgs {
    /// The model file, or `default` for the built-in model.
    model: String,
    /// Files of 4096 bytes, one page each.
    #[arg(required = true)]
    pages: Vec<PathBuf>,
}

pub fn run(cmd: AttestCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AttestCommand::Collect(a) => collect(a),
        AttestCommand::Train(a) => train_cmd(a),
        AttestCommand::Eval(a) => eval(a),
        AttestCommand::Score(a) => score(a),
        AttestCommand::Evaluate(a) => crate::evaluate::run(a),
    }
}

/// The slack marks' key for a collection's run seeded `seed`: from the
/// seed rather than unguessable, so that the same collection writes the
/// same pages byte for byte (with a key per store, the marks made every
/// dataset, and every model trained on it, differ from run to run), while
/// the runs of one collection still see different keys.
fn collection_slack_key(seed: u64) -> u8 {
    let draw = Rng::new(seed ^ 0x51ac_6e11).next_u64();
    walmart_jit::vmctx::slack_key_from(draw) as u8
}

pub(crate) fn collect(a: CollectArgs) -> anyhow::Result<ExitCode> {
    if a.policy == Policy::Off {
        bail!("--policy off: collect takes coarse, fine or tags");
    }
    if !(0.0..=1.0).contains(&a.keep) {
        bail!("--keep {}: a share from 0 to 1", a.keep);
    }
    if !(0.0..=64.0).contains(&a.rate) {
        bail!("--rate {}: injections per hook, from 0 to 64", a.rate);
    }
    if a.inject.contains(&Label::Benign) {
        bail!("--inject benign: name attacks (heap-overflow, use-after-free, stack-smash, host-tamper)");
    }
    // `tags` labels with the monitor; the snapshots come from fine hooks.
    let tags = a.policy == Policy::Tags;
    let hooks = if tags { Policy::Fine } else { a.policy };
    let mut config = Config::new();
    config
        .attest(hooks)
        .tags_alongside(tags)
        .attest_sync(a.sync)
        .track_allocations(true);
    let engine = Engine::new(&config)?;
    let module =
        Module::from_file(&engine, &a.app).map_err(|e| anyhow!("{}: {e}", a.app.display()))?;
    let inputs: Vec<Option<PathBuf>> = match &a.inputs {
        None => vec![None],
        Some(dir) => {
            let files =
                files_in(dir, None).with_context(|| format!("--inputs {}", dir.display()))?;
            if files.is_empty() {
                bail!("--inputs {}: no files", dir.display());
            }
            files.into_iter().map(Some).collect()
        }
    };
    let meta = DatasetMeta {
        app: a
            .app
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        policy: if tags {
            "fine, labelled by the tag monitor".into()
        } else {
            a.policy.to_string()
        },
        groups: inputs
            .iter()
            .map(|i| match i {
                Some(p) => format!("input {}, seed {}", p.display(), a.seed),
                None => format!("no input, seed {}", a.seed),
            })
            .collect(),
        heap_source: if tags {
            "the tag monitor's allocator wrappers".into()
        } else {
            "allocator interposition (malloc/free/calloc/realloc by name)".into()
        },
    };
    let mut writer = Some(DatasetWriter::create(&a.out, &meta).map_err(|e| anyhow!("{e}"))?);
    let mut totals = std::collections::BTreeMap::<Label, usize>::new();
    let mut heap_events = 0;
    let mut violations = 0;
    let mut near_misses = 0;
    for (group, input) in inputs.iter().enumerate() {
        let run_seed = a.seed.wrapping_add(group as u64);
        let collector = Arc::new(Mutex::new(
            Collector::new(
                writer.take().expect("writer returned after each run"),
                group as u32,
                run_seed,
                a.inject.clone(),
                a.rate,
                a.keep,
                a.max_pages,
            )
            .near_misses(a.near_misses)
            .fillers(&a.fillers),
        ));
        // The same collection, the same pages: what the program reads of
        // the clock and the random source is fixed by the seed too.
        let mut ctx = WasiCtx::new();
        ctx.deterministic(run_seed);
        let name = input
            .as_ref()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned());
        let args = a.args.iter().map(|s| match &name {
            Some(n) => s.replace("{}", n),
            None => s.clone(),
        });
        ctx.args(std::iter::once(a.app.display().to_string()).chain(args));
        ctx.redirect(1, std::fs::File::create("/dev/null")?);
        if let (Some(dir), Some(file)) = (&a.inputs, input) {
            ctx.preopen_dir(dir, ".")
                .map_err(|e| anyhow!("--inputs {}: {e}", dir.display()))?;
            let f = std::fs::File::open(file).with_context(|| file.display().to_string())?;
            ctx.redirect(0, f);
        }
        // Snapshots wait for room in the verifier's ring rather than leave
        // pages for a later hook: where they are taken then depends on how
        // fast the verifier drains it, and so would the dataset.
        let opts = AttestOptions::new()
            .collector(collector.clone())
            .slack_key(collection_slack_key(run_seed))
            .backpressure(Backpressure::Block);
        let (mut store, called, _) = start_command(&engine, &module, ctx, Some(opts), &a.app)?;
        match called {
            Ok(()) => {}
            Err(e) if e.exit_status() == Some(0) => {}
            Err(e) => bail!("{} on {}: {e}", a.app.display(), describe(input.as_deref())),
        }
        store.finish_attestation()?;
        heap_events += match store.tag_stats() {
            Some(t) => t.allocations + t.frees,
            None => store.heap().events,
        };
        let mut c = collector.lock().unwrap_or_else(|e| e.into_inner());
        violations += c.violations;
        for (l, n) in &c.counts {
            *totals.entry(*l).or_default() += n;
        }
        near_misses += c.near_misses_written();
        writer = Some(c.finish().map_err(|e| anyhow!("{e}"))?);
    }
    let records = writer
        .take()
        .expect("writer kept")
        .finish()
        .map_err(|e| anyhow!("{e}"))?;
    let counts: Vec<String> = totals
        .iter()
        .map(|(l, n)| match l {
            Label::Benign if a.near_misses => format!("benign {n} ({near_misses} near misses)"),
            _ => format!("{} {n}", l.name()),
        })
        .collect();
    eprintln!(
        "walmart: {records} pages from {} run(s) to {} ({}; {heap_events} allocator calls seen)",
        inputs.len(),
        a.out.display(),
        counts.join(", ")
    );
    if tags {
        eprintln!("walmart: {violations} violating write(s) seen by the tag monitor");
    }
    if heap_events == 0
        && a.inject
            .iter()
            .any(|k| matches!(k, Label::HeapOverflow | Label::UseAfterFree))
    {
        eprintln!("walmart: warning: no allocator calls seen (no function named malloc/free in the module): heap attacks were skipped");
    }
    Ok(ExitCode::SUCCESS)
}

/// The files in `dir` (with extension `ext`, when given), sorted.
pub(crate) fn files_in(dir: &Path, ext: Option<&str>) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && ext.is_none_or(|x| p.extension().is_some_and(|e| e == x)))
        .collect();
    files.sort();
    Ok(files)
}

/// Instantiates the WASI command `module` (at `app`) in a fresh store
/// with `ctx` and attestation configured by `opts`, and calls `_start`.
/// The store, the call's result and when the call began.
pub(crate) fn start_command(
    engine: &Engine,
    module: &Module,
    ctx: WasiCtx,
    opts: Option<AttestOptions>,
    app: &Path,
) -> anyhow::Result<(Store<WasiCtx>, walmart::Result<()>, std::time::Instant)> {
    let mut store = Store::new(engine, ctx);
    if let Some(opts) = opts {
        store.configure_attestation(opts)?;
    }
    let mut linker = Linker::new(engine);
    wasi::add_to_linker(&mut linker, |c| c)?;
    let instance = linker
        .instantiate(&mut store, module)
        .map_err(|e| anyhow!("{}: {e}", app.display()))?;
    let start = instance
        .get_func(&mut store, "_start")
        .ok_or_else(|| anyhow!("{}: no `_start` export", app.display()))?;
    let began = std::time::Instant::now();
    let called = start.call(&mut store, &[], &mut []);
    Ok((store, called, began))
}

fn describe(input: Option<&Path>) -> String {
    input.map_or("no input".into(), |p| p.display().to_string())
}

fn load_datasets(paths: &[PathBuf]) -> anyhow::Result<(Dataset, String)> {
    let mut all = Dataset::default();
    for p in paths {
        all.merge(Dataset::load(p).map_err(|e| anyhow!("{e}"))?);
    }
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    Ok((all, names.join(",")))
}

pub(crate) fn train_cmd(a: TrainArgs) -> anyhow::Result<ExitCode> {
    if a.epochs == 0 || a.batch == 0 || !a.lr.is_finite() || a.lr <= 0.0 {
        bail!("--epochs, --batch and --lr must be positive");
    }
    let init = match &a.init {
        Some(name) => Some(default::named(name).map_err(|e| anyhow!("--init: {e}"))?),
        None => None,
    };
    let arch = match (&a.arch, &init) {
        (_, Some(m)) => m.arch.clone(),
        (Some(text), None) => {
            walmart::attest::model::Architecture::parse(text).map_err(|e| anyhow!("--arch: {e}"))?
        }
        (None, None) => walmart::attest::model::Architecture::default_cnn(),
    };
    let (data, paths) = load_datasets(&a.datasets)?;
    let name = a.dataset_name.unwrap_or(paths);
    let opts = TrainOptions {
        arch,
        epochs: a.epochs,
        learning_rate: a.lr,
        seed: a.seed,
        batch: a.batch,
        patience: a.patience.max(1),
        max_fpr: a.max_fpr,
        init,
        hard_negative_repeats: a.hard_negatives,
        validation_stretches: a.validation_stretches as usize,
        ..TrainOptions::default()
    };
    let positives = data.records.iter().filter(|r| r.label.is_attack()).count();
    eprintln!(
        "walmart: training {} on {} pages ({positives} corrupted) from {}",
        opts.arch.describe(),
        data.records.len(),
        name
    );
    let started = std::time::Instant::now();
    let model = train::train(&data, &name, &opts, |r| {
        let bar = "#".repeat(r.epoch * 20 / opts.epochs) + &".".repeat(20 - r.epoch * 20 / opts.epochs);
        eprintln!(
            "[{bar}] epoch {}/{}: train loss {:.4}, validation loss {:.4}, AUC {:.4}, recall {:.4} at FPR <= {}",
            r.epoch, opts.epochs, r.train_loss, r.validation_loss, r.validation_auc, r.validation_recall, opts.max_fpr
        );
    })
    .map_err(|e| anyhow!("{e}"))?;
    model.save(&a.out).map_err(|e| anyhow!("{e}"))?;
    eprintln!(
        "walmart: model from epoch {} (threshold {:.2}, in log-odds) written to {} in {:.1} s",
        model.meta.epochs,
        model.threshold,
        a.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

fn eval(a: EvalArgs) -> anyhow::Result<ExitCode> {
    let model = default::named(&a.model).map_err(|e| anyhow!("{e}"))?;
    let (data, _) = load_datasets(&a.datasets)?;
    if data.records.is_empty() {
        bail!("the dataset holds no pages");
    }
    let report = train::evaluate(&model, &data);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
        if a.misses {
            let list = |title: &str, pages: &[walmart::attest::train::PageScore]| {
                println!("{title}: {}", if pages.is_empty() { "none" } else { "" });
                for p in pages {
                    println!(
                        "  record {:>7}  run {:>3}  page {:>6}  {:<14} score {:.3}",
                        p.record,
                        p.group,
                        p.page,
                        p.label.name(),
                        p.score
                    );
                }
            };
            list("worst false positives", &report.false_positives);
            list("worst misses", &report.misses);
            list(
                "closest clean pages (below the threshold)",
                &report.closest_clean,
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per page file: its score and whether the model flags it.
fn score(a: ScoreArgs) -> anyhow::Result<ExitCode> {
    let model = default::named(&a.model).map_err(|e| anyhow!("{e}"))?;
    let pages = a
        .pages
        .iter()
        .map(|path| {
            // The size first: a device or a huge file is not read whole.
            let size = std::fs::metadata(path)
                .with_context(|| format!("{}", path.display()))?
                .len();
            if size != PAGE_SIZE as u64 {
                bail!(
                    "{}: {size} bytes, expected a page of {PAGE_SIZE}",
                    path.display()
                );
            }
            let bytes = std::fs::read(path).with_context(|| format!("{}", path.display()))?;
            if bytes.len() != PAGE_SIZE {
                bail!("{}: changed while read", path.display());
            }
            Ok(bytes)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let refs: Vec<&[u8]> = pages.iter().map(Vec::as_slice).collect();
    let scores = model
        .scores(batch_of(&refs, PAGE_SIZE).view())
        .map_err(|e| anyhow!("{}: {e}", a.model))?;
    for (path, s) in a.pages.iter().zip(&scores) {
        let verdict = if *s >= model.threshold {
            "flagged"
        } else {
            "clean"
        };
        println!("{s:>8.3}  {verdict:<7}  {}", path.display());
    }
    println!("threshold {:.3} (scores are log-odds)", model.threshold);
    Ok(ExitCode::SUCCESS)
}

fn print_table(r: &EvalReport) {
    println!(
        "{:<16} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "attack", "pages", "positive", "accuracy", "precision", "recall", "FPR", "ROC AUC"
    );
    let row = |name: &str, m: &walmart::attest::metrics::Metrics| {
        println!(
            "{:<16} {:>8} {:>9} {:>9.4} {:>9.4} {:>9.4} {:>9.5} {:>9.4}",
            name,
            m.examples,
            m.positives,
            m.accuracy,
            m.precision,
            m.recall,
            m.false_positive_rate,
            m.roc_auc
        );
    };
    row("all", &r.overall);
    for (k, m) in &r.per_attack {
        row(k.name(), m);
    }
    println!("threshold {:.3} (log-odds)", r.overall.threshold);
}

/// One `--fillers` byte: two hex digits (`41`, `0xcc`), not zero.
fn filler_byte(text: &str) -> Result<u8, String> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    let byte = (digits.len() == 2 && digits.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| u8::from_str_radix(digits, 16).ok())
        .flatten();
    match byte {
        Some(0) => Err(
            "0 is not a filler: calloc writes zeroes, which no snapshot tells from an attack"
                .into(),
        ),
        Some(b) => Ok(b),
        None => Err(format!(
            "`{text}` is not a byte as two hex digits (41 for `A`, 0x90, cc)"
        )),
    }
}
