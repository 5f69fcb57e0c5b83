//! `walmart compile`: compile a module ahead of time into a `.cwasm` that
//! `walmart run --allow-precompiled` (or `Module::deserialize`) loads
//! without compiling; and the flags, shared with `walmart run`, that
//! decide what code is generated.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context};
use walmart::attest::tags::TagConfig;
use walmart::attest::{Policy, TagColours, TagMode};
use walmart::{CacheOutcome, Config, Engine, Module, ModuleCache};

use crate::features::RunBounds;

/// The flags that change the code walmart generates: a precompiled
/// module runs only under the same ones.
#[derive(clap::Args)]
pub struct CodeArgs {
    /// Cranelift's optimisation: `opt-level=0` (none: compiles fastest),
    /// `1` or `2` (for speed, the default) or `s` (for speed and size);
    /// `pooling-allocator[=y|n]`: take memories from a pool reserved up
    /// front (`pooling-total-memories=N`, default 1000,
    /// `pooling-max-memory-size=BYTES`, default 4G). Repeatable.
    #[arg(
        short = 'O',
        long = "optimize",
        value_name = "opt-level=0|1|2|s|pooling-allocator[=y|n]|pooling-total-memories=N|..."
    )]
    pub optimize: Vec<String>,
    /// Switch a Wasm proposal on or off: simd, relaxed-simd, bulk-memory,
    /// reference-types, multi-value, gc, multi-memory, tail-call,
    /// extended-const, memory64, function-references, exceptions, threads
    /// (all on by default), wide-arithmetic, custom-page-sizes,
    /// custom-descriptors, legacy-exceptions (off by default); or set
    /// max-wasm-stack=BYTES, max-gc-heap=BYTES (K, M, G suffixes),
    /// gc-stress=y|n, nan-canonicalization=y|n; or bound the run: fuel=N
    /// (operators, trapping when spent), timeout=DURATION (500ms, 2s, 1m;
    /// trapping with `interrupt`), max-memory-size=BYTES,
    /// max-table-elements=N (growth past them fails), max-instances=N,
    /// max-memories=N, max-tables=N, trap-on-grow-failure=y|n. Repeatable.
    #[arg(short = 'W', long = "wasm", value_name = "FEATURE[=y|n]|LIMIT=VALUE")]
    pub wasm_features: Vec<String>,
    /// Attestation policy: hooks woven into the generated code, or `tags`,
    /// the colour-tag memory-safety monitor.
    #[arg(long, value_name = "off|coarse|fine|tags", default_value = "off")]
    pub attest: Policy,
    /// `--attest tags`: which violations are checked.
    #[arg(long, value_name = "spatial|temporal|relaxed-temporal|write-only")]
    pub tags: Option<TagMode>,
    /// `--attest tags`: colours in memory only (the default), or in
    /// pointers too (limits memory to 256 MiB; see the README's caveats).
    #[arg(long, value_name = "memory|pointer")]
    pub tag_colours: Option<TagColours>,
    /// `--attest tags`: MiB of freed memory held back from reuse.
    #[arg(long, value_name = "MIB")]
    pub tag_quarantine: Option<u64>,
    /// `--attest coarse|fine|tags`: no guards above the C stack's frames
    /// (faster; a buffer that runs out of its frame goes unseen).
    #[arg(long)]
    pub no_stack_guards: bool,
    /// `--attest tags`: the code reports reads and writes to the trace
    /// too (slow; `walmart run` needs --trace FILE with it), optionally
    /// only those in [LO, HI) and one in --trace-sample.
    #[arg(long, value_name = "all|LO-HI", num_args = 0..=1, default_missing_value = "all")]
    pub trace_accesses: Option<String>,
    /// Function hooks snapshot after every write and wait for the verdict
    /// (exact blame; slower).
    #[arg(long)]
    pub attest_sync: bool,
    /// Do not walk the chain of the allocator's heap chunks (dlmalloc's)
    /// as control leaves the module and at the end (`heap-corrupt`
    /// events).
    #[arg(long)]
    pub no_heap_check: bool,
}

impl CodeArgs {
    /// The engine configuration these flags ask for, with the run's
    /// bounds (`-W fuel=N`...).
    pub fn config(&self) -> anyhow::Result<(Config, RunBounds)> {
        let mut config = Config::new();
        config
            .attest(self.attest)
            .attest_sync(self.attest_sync)
            .attest_heap_check(!self.no_heap_check)
            .attest_stack_guards(!self.no_stack_guards);
        let bounds = crate::features::apply(&mut config, &self.wasm_features)?;
        crate::features::apply_optimize(&mut config, &self.optimize)?;
        if self.no_stack_guards && self.attest == Policy::Off {
            bail!("--no-stack-guards needs --attest coarse, fine or tags");
        }
        let hooks = matches!(self.attest, Policy::Coarse | Policy::Fine);
        if (self.attest_sync || self.no_heap_check) && !hooks {
            bail!("--attest-sync and --no-heap-check need --attest coarse or fine");
        }
        let tags = self.attest == Policy::Tags;
        let tag_flags = self.tags.is_some()
            || self.tag_colours.is_some()
            || self.tag_quarantine.is_some()
            || self.trace_accesses.is_some();
        if tag_flags && !tags {
            bail!(
                "--tags, --tag-colours, --tag-quarantine and --trace-accesses need --attest tags"
            );
        }
        if tags {
            let defaults = TagConfig::default();
            config.tags(TagConfig {
                mode: self.tags.unwrap_or(defaults.mode),
                colours: self.tag_colours.unwrap_or(defaults.colours),
                quarantine_bytes: self
                    .tag_quarantine
                    .map_or(defaults.quarantine_bytes, |m| m.saturating_mul(1 << 20)),
                trace_accesses: self.trace_accesses.is_some(),
            });
        }
        Ok((config, bounds))
    }
}

#[derive(clap::Args)]
pub struct CompileArgs {
    #[command(flatten)]
    code: CodeArgs,
    /// Where to write the precompiled module (default: the input's name
    /// with `.cwasm`).
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The module to compile (.wasm binary or .wat text).
    file: PathBuf,
}

/// `walmart settings`: what the code would be compiled with.
#[derive(clap::Args)]
pub struct SettingsArgs {
    #[command(flatten)]
    code: CodeArgs,
}

/// Prints the settings an engine of these flags compiles with (the lines a
/// precompiled module must match).
pub fn settings(args: SettingsArgs) -> anyhow::Result<ExitCode> {
    let (config, _) = args.code.config()?;
    let engine = Engine::new(&config)?;
    print!("{}", engine.compiler_settings());
    Ok(ExitCode::SUCCESS)
}

pub fn run(args: CompileArgs) -> anyhow::Result<ExitCode> {
    let (config, _) = args.code.config()?;
    let engine = Engine::new(&config)?;
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    if engine.detect_precompiled(&bytes).is_some() {
        bail!("{}: already a precompiled module", args.file.display());
    }
    let compiled = engine
        .precompile_module(&bytes)
        .map_err(|e| anyhow!("{}: {e}", args.file.display()))?;
    let output = args
        .output
        .unwrap_or_else(|| args.file.with_extension("cwasm"));
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same(&output, &args.file) {
        bail!(
            "{}: the output would overwrite the input; name another with -o",
            args.file.display()
        );
    }
    write_replacing(&output, &compiled)
        .with_context(|| format!("cannot write {}", output.display()))?;
    Ok(ExitCode::SUCCESS)
}

/// Writes `bytes` to `path` through a temporary file renamed over it, so
/// a process running the file there before (precompiled code is mapped,
/// not read) keeps the old file's pages intact. A path that is not a
/// regular file (a pipe, `/dev/stdout`) is written as it is.
fn write_replacing(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        return std::fs::write(path, bytes);
    }
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.tmp", std::process::id()));
    let temporary = path.with_file_name(name);
    let written = std::fs::write(&temporary, bytes).and_then(|_| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// Reads `path`, a module's binary or text (through `cache` when given),
/// or a precompiled module when `allow_precompiled` (refused otherwise:
/// its code would run unchecked).
pub fn load_module(
    engine: &Engine,
    path: &Path,
    allow_precompiled: bool,
    cache: Option<&ModuleCache>,
) -> anyhow::Result<Module> {
    // The first bytes say what the file is; a large one is read whole only
    // when it must be compiled.
    let mut head = Vec::with_capacity(16);
    std::fs::File::open(path)
        .and_then(|f| f.take(16).read_to_end(&mut head))
        .with_context(|| format!("cannot read {}", path.display()))?;
    let module = if engine.detect_precompiled(&head).is_some() {
        if !allow_precompiled {
            bail!(
                "{} is a precompiled module: pass --allow-precompiled to run it \
                 (its machine code is trusted as it is)",
                path.display()
            );
        }
        // SAFETY: the user vouched for the file with --allow-precompiled;
        // `walmart compile` replaces a file by renaming, never writing
        // into it, so it stays as mapped.
        unsafe { Module::deserialize_file(engine, path) }
    } else if let Some(cache) = cache {
        cache
            .module_from_file(engine, path)
            .map(|(module, outcome)| {
                if let CacheOutcome::Compiled { saved: Err(e), .. } = outcome {
                    eprintln!("walmart: warning: the compiled module was not cached: {e}");
                }
                module
            })
    } else {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        Module::new(engine, &bytes)
    };
    module.map_err(|e| anyhow!("{}: {e}", path.display()))
}
