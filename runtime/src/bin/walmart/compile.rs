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
    /// Code generation, as wasmtime's `-C`: `parallel-compilation[=y|n]`
    /// (every core compiles, the default), `cranelift-debug-verifier[=y|n]`
    /// (Cranelift checks its IR: slower, the same code),
    /// `compiler=cranelift`, and for `walmart run` `cache[=y|n]` (as
    /// --cache). Repeatable.
    #[arg(
        short = 'C',
        long = "codegen",
        value_name = "parallel-compilation[=y|n]|cranelift-debug-verifier[=y|n]|cache[=y|n]|..."
    )]
    pub codegen: Vec<String>,
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
    /// only those in [LO, HI) (`--trace-accesses=LO-HI`: with `=`, so that
    /// a module after the bare flag is not taken for its range) and one in
    /// --trace-sample.
    #[arg(
        long,
        value_name = "all|LO-HI",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "all"
    )]
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
        // `-C cache` is taken and has nothing to do here (no cache is
        // read or written but `walmart run`'s), as wasmtime's common
        // options are taken by each of its commands.
        let (config, bounds, _) = self.config_and_choices()?;
        Ok((config, bounds))
    }

    /// [`CodeArgs::config`], with what `-C` asks of a run besides
    /// (`walmart run`'s cache).
    pub fn config_and_choices(
        &self,
    ) -> anyhow::Result<(Config, RunBounds, crate::features::CodegenChoices)> {
        let mut config = Config::new();
        config
            .attest(self.attest)
            .attest_sync(self.attest_sync)
            .attest_heap_check(!self.no_heap_check)
            .attest_stack_guards(!self.no_stack_guards);
        let bounds = crate::features::apply(&mut config, &self.wasm_features)?;
        crate::features::apply_optimize(&mut config, &self.optimize)?;
        let choices = crate::features::apply_codegen(&mut config, &self.codegen)?;
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
        Ok((config, bounds, choices))
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
    /// Also write each Wasm function's Cranelift IR, as translated (the
    /// attestation hooks and barriers of --attest included) and before
    /// Cranelift optimises it, into DIR as `wasm_func_N.clif` (created if
    /// missing), as wasmtime's `compile --emit-clif`.
    #[arg(long, value_name = "DIR")]
    emit_clif: Option<PathBuf>,
    /// Also write each Wasm function's machine code, as Cranelift prints
    /// its instructions, into DIR as `wasm_func_N.s` (created if missing).
    #[arg(long, value_name = "DIR")]
    emit_asm: Option<PathBuf>,
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
    let (mut config, _) = args.code.config()?;
    let made = |dir: &Path, flag: &str| {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{flag} {}: cannot create it", dir.display()))
    };
    if let Some(dir) = &args.emit_clif {
        made(dir, "--emit-clif")?;
        config.emit_clif(dir);
    }
    if let Some(dir) = &args.emit_asm {
        made(dir, "--emit-asm")?;
        config.emit_asm(dir);
    }
    let engine = Engine::new(&config)?;
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    if let Some(kind) = engine.detect_precompiled(&bytes) {
        let what = match kind {
            walmart::Precompiled::Module => "module",
            walmart::Precompiled::Component => "component",
        };
        bail!("{}: already a precompiled {what}", args.file.display());
    }
    let compiled = match crate::run_component::component_source(&args.file, &bytes) {
        Some(component) => engine.precompile_component(&component),
        None => engine.precompile_module(&bytes),
    }
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
/// not read) keeps the old file's pages intact; the new file keeps the
/// old one's permissions. A symbolic link is followed and the file it
/// names replaced so (the link stays); a path that is not a regular file
/// (a pipe, a device: `/dev/stdout`) is written into as it is.
fn write_replacing(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let target = final_target(path)?;
    let old = match std::fs::metadata(&target) {
        Ok(m) if !m.is_file() => return std::fs::write(&target, bytes),
        Ok(m) => m.permissions(),
        // A new file: as `fs::write` would make it.
        // SAFETY: umask has no preconditions; it is set back at once.
        Err(_) => std::fs::Permissions::from_mode(
            0o666
                & !unsafe {
                    let mask = libc::umask(0o022);
                    libc::umask(mask);
                    mask
                },
        ),
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let file_name = target.file_name().unwrap_or_default();
    remove_abandoned_temporaries(&target, file_name);
    let temporary = target.with_file_name(temporary_name(file_name, std::process::id(), nanos));
    // A name nobody else uses, created here (never through a link),
    // readable by the user alone until its permissions are set.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.set_permissions(old))
        .and_then(|()| file.sync_data())
        .and_then(|()| std::fs::rename(&temporary, &target));
    if written.is_err() {
        // Only the file made above.
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// The name `write_replacing` writes `file_name`'s new contents under
/// first: hidden, `.NAME.PID-NANOS.tmp`, with as much of the name as keeps
/// it within the 255 bytes a file name may have.
fn temporary_name(file_name: &std::ffi::OsStr, pid: u32, nanos: u128) -> std::ffi::OsString {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let suffix = format!(".{pid}-{nanos}.tmp");
    let keep = 255 - 1 - suffix.len();
    let name = file_name.as_bytes();
    let mut temporary = vec![b'.'];
    temporary.extend_from_slice(&name[..name.len().min(keep)]);
    temporary.extend_from_slice(suffix.as_bytes());
    std::ffi::OsString::from_vec(temporary)
}

/// Removes the temporary files of earlier writes of `target` (named
/// `file_name`) whose process is gone: a `walmart compile` killed while
/// writing. Only names [`temporary_name`] makes for it, with the process
/// id of no running process, unchanged for an hour, are touched.
fn remove_abandoned_temporaries(target: &Path, file_name: &std::ffi::OsStr) {
    use std::os::unix::ffi::OsStrExt;
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some((pid, nanos)) = temporary_parts(name.as_bytes()) else {
            continue;
        };
        if temporary_name(file_name, pid, nanos) != name {
            continue;
        }
        // SAFETY: signal 0 checks that the process exists; nothing is sent.
        let gone = unsafe { libc::kill(pid as libc::pid_t, 0) } != 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        // Old too: a process of another machine or container sharing the
        // directory is not seen by `kill`; none writes for an hour.
        let stale = entry.metadata().is_ok_and(|m| {
            m.is_file()
                && m.modified()
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age >= std::time::Duration::from_secs(3600))
        });
        if gone && stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The process id and time a temporary name ends with
/// (`.PID-NANOS.tmp`).
fn temporary_parts(name: &[u8]) -> Option<(u32, u128)> {
    let rest = name.strip_suffix(b".tmp")?;
    let dash = rest.iter().rposition(|&b| b == b'-')?;
    let dot = rest[..dash].iter().rposition(|&b| b == b'.')?;
    fn number<T: std::str::FromStr>(digits: &[u8]) -> Option<T> {
        std::str::from_utf8(digits).ok()?.parse().ok()
    }
    Some((number(&rest[dot + 1..dash])?, number(&rest[dash + 1..])?))
}

/// `path` with its symbolic links followed (a relative link against its
/// own directory), to the file or the free name the last one names.
fn final_target(path: &Path) -> std::io::Result<PathBuf> {
    let mut at = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                let next = std::fs::read_link(&at)?;
                at = match at.parent() {
                    Some(dir) => dir.join(next),
                    None => next,
                };
            }
            _ => return Ok(at),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

/// An error unless the user allowed precompiled code to run.
pub fn refuse_precompiled(path: &Path, allowed: bool) -> anyhow::Result<()> {
    if !allowed {
        bail!(
            "{} is precompiled: pass --allow-precompiled to run it \
             (its machine code is trusted as it is)",
            path.display()
        );
    }
    Ok(())
}

/// The module the cache gave, warning when it could not save it.
pub fn warn_unsaved<T>((compiled, outcome): (T, CacheOutcome)) -> T {
    if let CacheOutcome::Compiled { saved: Err(e), .. } = outcome {
        eprintln!("walmart: warning: the compiled code was not cached: {e}");
    }
    compiled
}

/// Reads `path`, a module's binary or text (through `cache` when given),
/// or a precompiled module when `allow_precompiled` (refused otherwise:
/// its code would run unchecked).
/// The module of `bytes` read whole from `path` (a pipe): compiled, taken
/// from the cache, or loaded precompiled.
pub fn module_of_bytes(
    engine: &Engine,
    path: &Path,
    bytes: &[u8],
    allow_precompiled: bool,
    cache: Option<&ModuleCache>,
) -> anyhow::Result<Module> {
    let module = if engine.detect_precompiled(bytes).is_some() {
        refuse_precompiled(path, allow_precompiled)?;
        // SAFETY: the user vouched for the bytes with --allow-precompiled.
        unsafe { Module::deserialize(engine, bytes) }
    } else if let Some(cache) = cache {
        cache.module(engine, bytes).map(warn_unsaved)
    } else {
        Module::new(engine, bytes)
    };
    module.map_err(|e| anyhow!("{}: {e}", path.display()))
}

pub fn load_module(
    engine: &Engine,
    path: &Path,
    allow_precompiled: bool,
    cache: Option<&ModuleCache>,
) -> anyhow::Result<Module> {
    let unreadable = || format!("cannot read {}", path.display());
    let mut file = std::fs::File::open(path).with_context(unreadable)?;
    if !file.metadata().with_context(unreadable)?.is_file() {
        // A pipe or a device (`/dev/stdin`) is read once, whole.
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).with_context(unreadable)?;
        return module_of_bytes(engine, path, &bytes, allow_precompiled, cache);
    }
    // A regular file: its first bytes say what it is; it is read whole
    // only when it must be compiled.
    let mut head = [0u8; 8];
    let n = std::os::unix::fs::FileExt::read_at(&file, &mut head, 0).with_context(unreadable)?;
    let module = if engine.detect_precompiled(&head[..n]).is_some() {
        refuse_precompiled(path, allow_precompiled)?;
        // SAFETY: the user vouched for the file with --allow-precompiled;
        // `walmart compile` replaces a file by renaming, never writing
        // into it, so it stays as mapped.
        unsafe { Module::deserialize_open_file(engine, &file) }
    } else if let Some(cache) = cache {
        cache.module_from_open_file(engine, &file).map(warn_unsaved)
    } else {
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).with_context(unreadable)?;
        Module::new(engine, &bytes)
    };
    module.map_err(|e| anyhow!("{}: {e}", path.display()))
}
