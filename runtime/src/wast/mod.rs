//! The `.wast` script runner: executes spec-test scripts against walmart
//! (`walmart wast`, and the `walmart-spec-tests` crate over the official suite).
//!
//! Every directive of a script is executed and classified as passed, failed or
//! skipped. Directives are identified by their 0-based position in the
//! script's directive list; the expectations file (see [`load_expectations`])
//! records, per script, which directives are known to pass so that any
//! regression is caught while not-yet-supported features are tolerated.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::panic::{self, AssertUnwindSafe};

use crate::{
    Engine, Error, Extern, ExternRef, Func, FuncType, Global, GlobalType, Instance, Linker, Memory,
    MemoryType, Module, Mutability, RefType, Store, Table, TableType, Val, ValType,
};
use anyhow::{bail, Context as _};
use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::token::{Id, F32, F64};
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet, Wat};

/// Options controlling a spec-test run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Print every failing directive to stderr as soon as it fails.
    pub verbose: bool,
    /// Print a one-line summary to stderr after each file.
    pub progress: bool,
    /// Only run files whose path (e.g. `wasm-v1/i32.wast`) contains this
    /// substring. Used by [`run_suite`].
    pub filter: Option<String>,
    /// Engine configuration the scripts run under (guarded memory or
    /// explicit bounds checks, stack size...).
    pub config: crate::Config,
    /// Every module, once compiled, is saved as a precompiled module and
    /// loaded back ([`Module::serialize`], [`Module::deserialize`]) before
    /// it is used: the scripts then check code that went through the
    /// precompiled format.
    pub precompiled: bool,
}

/// The result of one directive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The directive behaved as the script asserts.
    Pass,
    /// The directive did not behave as asserted (or walmart panicked).
    Fail,
    /// The directive uses a feature this runner does not model (threads,
    /// exceptions, components, GC references, ...).
    Skip,
}

/// One failing directive.
#[derive(Debug, Clone)]
pub struct Failure {
    /// 1-based source line of the directive.
    pub line: usize,
    /// 0-based index of the directive in the script.
    pub directive_index: usize,
    /// Directive kind, e.g. `"assert_return"`, or `"parse"` when the script
    /// itself could not be parsed.
    pub kind: &'static str,
    /// What went wrong.
    pub message: String,
}

/// The results of running one `.wast` script.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// Path of the script within the testsuite, e.g. `wasm-v1/i32.wast`.
    pub name: String,
    /// Number of passing directives.
    pub passed: usize,
    /// Number of failing directives (plus one if the script failed to parse).
    pub failed: usize,
    /// Number of skipped directives.
    pub skipped: usize,
    /// Details of every failure, in directive order.
    pub failures: Vec<Failure>,
    /// The outcome of every directive that ran, as `(directive index, outcome)`.
    pub outcomes: Vec<(usize, Outcome)>,
    /// 1-based source line of every directive, indexed by directive index.
    pub lines: Vec<usize>,
    /// Why directives were skipped (directive kind or missing feature) and
    /// how often.
    pub skip_reasons: BTreeMap<&'static str, usize>,
}

impl FileReport {
    fn new(name: &str) -> Self {
        FileReport {
            name: name.to_string(),
            passed: 0,
            failed: 0,
            skipped: 0,
            failures: Vec::new(),
            outcomes: Vec::new(),
            lines: Vec::new(),
            skip_reasons: BTreeMap::new(),
        }
    }

    /// Indices of the directives that passed.
    pub fn passing(&self) -> BTreeSet<usize> {
        self.outcomes
            .iter()
            .filter(|(_, outcome)| *outcome == Outcome::Pass)
            .map(|(index, _)| *index)
            .collect()
    }

    fn record(&mut self, index: usize, kind: &'static str, verdict: Verdict, opts: &RunOptions) {
        let outcome = match verdict {
            Verdict::Pass => {
                self.passed += 1;
                Outcome::Pass
            }
            Verdict::Skip(reason) => {
                self.skipped += 1;
                *self.skip_reasons.entry(reason).or_default() += 1;
                Outcome::Skip
            }
            Verdict::Fail(message) => {
                let line = self.lines[index];
                if opts.verbose {
                    eprintln!(
                        "{}:{line}: {kind} (directive {index}): {message}",
                        self.name
                    );
                }
                self.failed += 1;
                self.failures.push(Failure {
                    line,
                    directive_index: index,
                    kind,
                    message,
                });
                Outcome::Fail
            }
        };
        self.outcomes.push((index, outcome));
    }

    fn parse_failure(mut self, mut error: wast::Error, source: &str) -> Self {
        error.set_text(source);
        self.failed += 1;
        self.failures.push(Failure {
            line: error.span().linecol_in(source).0 + 1,
            directive_index: 0,
            kind: "parse",
            message: error.to_string(),
        });
        self
    }
}

/// Runs every directive of one `.wast` script against a fresh engine, store
/// and linker.
///
/// Never panics because of walmart: a panic inside a directive is caught and
/// recorded as a failure of that directive.
pub fn run_wast(name: &str, source: &str, opts: &RunOptions) -> FileReport {
    let report = FileReport::new(name);

    // The testsuite deliberately contains confusable unicode in names and
    // strings; the default lexer would reject those scripts.
    let mut lexer = Lexer::new(source);
    lexer.allow_confusing_unicode(true);
    let buffer = match ParseBuffer::new_with_lexer(lexer) {
        Ok(buffer) => buffer,
        Err(error) => return report.parse_failure(error, source),
    };
    let wast = match parser::parse::<Wast<'_>>(&buffer) {
        Ok(wast) => wast,
        Err(error) => return report.parse_failure(error, source),
    };
    run_directives(report, source, wast.directives, opts)
}

fn run_directives(
    mut report: FileReport,
    source: &str,
    directives: Vec<WastDirective<'_>>,
    opts: &RunOptions,
) -> FileReport {
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(source.match_indices('\n').map(|(at, _)| at + 1))
        .collect();
    report.lines = directives
        .iter()
        .map(|directive| line_starts.partition_point(|&start| start <= directive.span().offset()))
        .collect();

    let mut runner = match panic::catch_unwind(AssertUnwindSafe(|| {
        Runner::new(&opts.config, opts.precompiled)
    })) {
        Ok(Ok(runner)) => Ok(runner),
        Ok(Err(error)) => Err(format!("setting up the `spectest` module failed: {error}")),
        Err(payload) => Err(format!("panic: {}", panic_message(&*payload))),
    };

    for (index, directive) in directives.into_iter().enumerate() {
        let kind = directive_kind(&directive);
        let verdict = match &mut runner {
            Ok(runner) => panic::catch_unwind(AssertUnwindSafe(|| runner.run(directive)))
                .unwrap_or_else(|payload| {
                    Verdict::Fail(format!("panic: {}", panic_message(&*payload)))
                }),
            Err(setup_error) => Verdict::Fail(setup_error.clone()),
        };
        report.record(index, kind, verdict, opts);
    }

    if opts.progress {
        eprintln!(
            "{}: {} passed, {} failed, {} skipped",
            report.name, report.passed, report.failed, report.skipped
        );
    }
    report
}

/// Runs every `(path, contents)` script whose path matches `opts.filter`.
pub fn run_suite<'a>(
    files: impl IntoIterator<Item = (String, &'a str)>,
    opts: &RunOptions,
) -> Vec<FileReport> {
    files
        .into_iter()
        .filter(|(name, _)| {
            opts.filter
                .as_deref()
                .is_none_or(|filter| name.contains(filter))
        })
        .map(|(name, source)| run_wast(&name, source, opts))
        .collect()
}

/// Formats one row per file (`path passed failed skipped`, under a header)
/// followed by the totals line `N passed, N failed, N skipped`.
pub fn format_table(reports: &[FileReport]) -> String {
    let width = reports
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(0)
        .max("file".len());
    let mut out = format!(
        "{:<width$}  {:>7} {:>7} {:>7}\n",
        "file", "passed", "failed", "skipped"
    );
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for report in reports {
        out.push_str(&format!(
            "{:<width$}  {:>7} {:>7} {:>7}\n",
            report.name, report.passed, report.failed, report.skipped
        ));
        passed += report.passed;
        failed += report.failed;
        skipped += report.skipped;
    }
    out.push_str(&format!(
        "{passed} passed, {failed} failed, {skipped} skipped"
    ));
    out
}

/// Directive indices expected to pass, keyed by script path.
pub type Expectations = BTreeMap<String, BTreeSet<usize>>;

/// Parses an expectations file.
///
/// Each non-comment line is `path: ranges`, e.g. `wasm-v1/i32.wast: 0-12,14`,
/// where ranges are inclusive and list the 0-based indices of the directives
/// expected to pass; `path:` alone means none is expected to pass. `#` starts
/// a comment. Malformed lines are an error rather than being ignored, since
/// silently dropping an entry would hide regressions.
pub fn load_expectations(text: &str) -> anyhow::Result<Expectations> {
    let mut expectations = Expectations::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let parse_line = || -> anyhow::Result<(String, BTreeSet<usize>)> {
            let (path, ranges) = line.split_once(':').context("expected `path: ranges`")?;
            let mut indices = BTreeSet::new();
            for range in ranges.split(',').map(str::trim).filter(|r| !r.is_empty()) {
                let (start, end) = range.split_once('-').unwrap_or((range, range));
                let start: usize = start
                    .trim()
                    .parse()
                    .with_context(|| format!("bad index in `{range}`"))?;
                let end: usize = end
                    .trim()
                    .parse()
                    .with_context(|| format!("bad index in `{range}`"))?;
                if start > end {
                    bail!("empty range `{range}`");
                }
                indices.extend(start..=end);
            }
            Ok((path.trim().to_string(), indices))
        };
        let (path, indices) =
            parse_line().with_context(|| format!("expectations line {}", number + 1))?;
        if expectations.insert(path.clone(), indices).is_some() {
            bail!(
                "expectations line {}: duplicate entry for `{path}`",
                number + 1
            );
        }
    }
    Ok(expectations)
}

/// The passing directives of every report, as [`Expectations`].
pub fn passing(reports: &[FileReport]) -> Expectations {
    reports
        .iter()
        .map(|report| (report.name.clone(), report.passing()))
        .collect()
}

/// Renders expectations in the format read by [`load_expectations`], one
/// line per file, sorted by path, after a short explanatory header.
pub fn render_expectation_map(expectations: &Expectations) -> String {
    let mut out = String::from(
        "# Spec-test directives known to pass: `path: indices` (0-based directive\n\
         # indices, inclusive ranges). Regenerate with\n\
         # `cargo run --release -p walmart-spec-tests -- --suite all --update-expectations`.\n",
    );
    for (path, indices) in expectations {
        if indices.is_empty() {
            out.push_str(&format!("{path}:\n"));
        } else {
            out.push_str(&format!("{path}: {}\n", format_ranges(indices)));
        }
    }
    out
}

/// Renders the passing directives of `reports` as an expectations file.
pub fn render_expectations(reports: &[FileReport]) -> String {
    render_expectation_map(&passing(reports))
}

/// Formats a set of indices as comma-separated inclusive ranges (`0-12,14`).
fn format_ranges(indices: &BTreeSet<usize>) -> String {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for &index in indices {
        match ranges.last_mut() {
            Some((_, end)) if *end + 1 == index => *end = index,
            _ => ranges.push((index, index)),
        }
    }
    ranges
        .iter()
        .map(|&(start, end)| {
            if start == end {
                start.to_string()
            } else {
                format!("{start}-{end}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Lists every directive that `expected` says passes but that did not pass in
/// `reports`, as `file: directive N (line L) expected to pass, now: message`.
///
/// Files without a report (not run, e.g. filtered out) are ignored.
pub fn regressions(expected: &Expectations, reports: &[FileReport]) -> Vec<String> {
    let mut out = Vec::new();
    for report in reports {
        let Some(indices) = expected.get(&report.name) else {
            continue;
        };
        let outcomes: HashMap<usize, Outcome> = report.outcomes.iter().copied().collect();
        let failures: HashMap<usize, &Failure> = report
            .failures
            .iter()
            .map(|f| (f.directive_index, f))
            .collect();
        for &index in indices {
            let now = match outcomes.get(&index) {
                Some(Outcome::Pass) => continue,
                Some(Outcome::Fail) => failures
                    .get(&index)
                    .map_or_else(|| "failed".to_string(), |f| f.message.clone()),
                Some(Outcome::Skip) => "skipped".to_string(),
                // The script no longer has this directive, or failed to parse.
                None => match report.failures.iter().find(|f| f.kind == "parse") {
                    Some(parse) => format!("not run (parse error: {})", parse.message),
                    None => "not run (no such directive)".to_string(),
                },
            };
            let line = report.lines.get(index).copied().unwrap_or(0);
            out.push(format!(
                "{}: directive {index} (line {line}) expected to pass, now: {now}",
                report.name
            ));
        }
    }
    out
}

/// Lists, per file, directives that pass but are not in `expected`: a hint
/// that the expectations file can be updated. Files absent from `expected`
/// are reported too.
pub fn improvements(expected: &Expectations, reports: &[FileReport]) -> Vec<String> {
    reports
        .iter()
        .filter_map(|report| {
            let passing = report.passing();
            let new = match expected.get(&report.name) {
                Some(indices) => passing.difference(indices).count(),
                None => passing.len(),
            };
            (new > 0).then(|| {
                format!(
                    "{}: {new} directives pass but are not expected to",
                    report.name
                )
            })
        })
        .collect()
}

/// How one directive went, before being recorded.
enum Verdict {
    Pass,
    Fail(String),
    /// Skipped, with the reason (directive kind or unsupported feature).
    Skip(&'static str),
}

/// Why an action requested by a directive did not produce values.
enum ExecError {
    /// walmart reported an error: a trap, a link error, ...
    Wasm(Error),
    /// The script could not be carried out: unknown module or export, module
    /// failed to encode or compile, ...
    Script(String),
    /// The action needs a feature this runner does not model.
    Unsupported(&'static str),
}

impl ExecError {
    /// The verdict for a directive that expected this action to succeed.
    fn into_verdict(self, context: &str) -> Verdict {
        match self {
            ExecError::Wasm(error) => Verdict::Fail(format!("{context}: {error}")),
            ExecError::Script(message) => Verdict::Fail(message),
            ExecError::Unsupported(what) => Verdict::Skip(what),
        }
    }
}

/// The state of one script: its store, the linker holding `spectest` and
/// registered instances, and the instances and module definitions so far.
struct Runner {
    engine: Engine,
    store: Store<()>,
    linker: Linker<()>,
    /// Instances declared with a `$name`.
    named: HashMap<String, Instance>,
    /// The most recently instantiated module: the target of directives that
    /// name no module. `None` after a failed instantiation, so that later
    /// directives fail instead of silently using an older instance.
    current: Option<Instance>,
    /// `(module definition ...)`s in script order; `None` where compilation
    /// failed, so that a later `(module instance ...)` fails too.
    definitions: Vec<(Option<String>, Option<Module>)>,
    /// [`RunOptions::precompiled`].
    precompiled: bool,
}

impl Runner {
    fn new(config: &crate::Config, precompiled: bool) -> Result<Self, Error> {
        let engine = Engine::new(config)?;
        let mut store = Store::new(&engine, ());
        // Under fuel and epochs, a budget and a deadline never reached: the
        // scripts' results must not change.
        if config.consume_fuel {
            store.set_fuel(u64::MAX)?;
        }
        store.set_epoch_deadline(u64::MAX);
        let mut linker = Linker::new(&engine);
        // Scripts register instances under names used before.
        linker.allow_shadowing(true);
        define_spectest(&mut linker, &mut store)?;
        Ok(Runner {
            engine,
            store,
            linker,
            named: HashMap::new(),
            current: None,
            definitions: Vec::new(),
            precompiled,
        })
    }

    /// Runs a directive. The GC objects its results named are released
    /// after it (each is compared within its directive).
    fn run(&mut self, directive: WastDirective<'_>) -> Verdict {
        let mark = self.store.inner.opaque.gc_roots.mark();
        let verdict = self.run_directive(directive);
        self.store.inner.opaque.gc_roots.release_to(mark);
        verdict
    }

    fn run_directive(&mut self, directive: WastDirective<'_>) -> Verdict {
        match directive {
            WastDirective::Module(module) => self.module(module),
            WastDirective::ModuleDefinition(module) => self.module_definition(module),
            WastDirective::ModuleInstance {
                instance, module, ..
            } => self.module_instance(instance, module),
            WastDirective::Register { name, module, .. } => match self.instance(module) {
                Ok(instance) => match self.linker.instance(&mut self.store, name, instance) {
                    Ok(_) => Verdict::Pass,
                    Err(error) => Verdict::Fail(format!("register `{name}`: {error}")),
                },
                Err(error) => error.into_verdict("register"),
            },
            WastDirective::Invoke(invoke) => match self.invoke(&invoke) {
                Ok(_) => Verdict::Pass,
                Err(error) => error.into_verdict(&format!("invoke `{}`", invoke.name)),
            },
            WastDirective::AssertReturn { exec, results, .. } => self.assert_return(exec, &results),
            WastDirective::AssertTrap { exec, message, .. } => {
                let result = self.execute(exec);
                expect_trap(result, message)
            }
            WastDirective::AssertExhaustion { call, message, .. } => {
                let result = self.invoke(&call);
                expect_trap(result, message)
            }
            WastDirective::AssertInvalid {
                module, message, ..
            } => self.assert_rejected(module, "invalid", message),
            WastDirective::AssertMalformed {
                module, message, ..
            } => self.assert_rejected(module, "malformed", message),
            WastDirective::AssertUnlinkable {
                module, message, ..
            } => self.assert_unlinkable(module, message),
            WastDirective::AssertInvalidCustom { .. } => Verdict::Skip("assert_invalid_custom"),
            WastDirective::AssertMalformedCustom { .. } => Verdict::Skip("assert_malformed_custom"),
            WastDirective::AssertException { exec, .. } => match self.execute(exec) {
                Err(ExecError::Wasm(Error::Exception(_))) => Verdict::Pass,
                Ok(values) => Verdict::Fail(format!(
                    "expected an uncaught exception, got [{}]",
                    fmt_vals(&values)
                )),
                Err(error) => error.into_verdict("expected an uncaught exception"),
            },
            WastDirective::AssertSuspension { .. } => Verdict::Skip("assert_suspension"),
            WastDirective::Thread(_) => Verdict::Skip("thread"),
            WastDirective::Wait { .. } => Verdict::Skip("wait"),
        }
    }

    /// `(module ...)`: compile, instantiate and make it the current instance.
    fn module(&mut self, mut module: QuoteWat<'_>) -> Verdict {
        let name = module.name().map(|id| id.name().to_string());
        // Forget the previous holder of this name before trying, so that a
        // failure here is not masked by directives reaching the old instance.
        self.current = None;
        if let Some(name) = &name {
            self.named.remove(name);
        }
        let instance = self
            .compile(&mut module)
            .and_then(|module| self.instantiate(&module));
        match instance {
            Ok(instance) => {
                self.current = Some(instance);
                if let Some(name) = name {
                    self.named.insert(name, instance);
                }
                Verdict::Pass
            }
            Err(error) => error.into_verdict("instantiation failed"),
        }
    }

    /// `(module definition ...)`: compile only.
    fn module_definition(&mut self, mut module: QuoteWat<'_>) -> Verdict {
        let name = module.name().map(|id| id.name().to_string());
        match self.compile(&mut module) {
            Ok(compiled) => {
                self.definitions.push((name, Some(compiled)));
                Verdict::Pass
            }
            Err(error) => {
                self.definitions.push((name, None));
                error.into_verdict("module definition")
            }
        }
    }

    /// `(module instance $i $m)`: instantiate a module definition.
    fn module_instance(&mut self, instance: Option<Id<'_>>, module: Option<Id<'_>>) -> Verdict {
        let instance_name = instance.map(|id| id.name().to_string());
        self.current = None;
        if let Some(name) = &instance_name {
            self.named.remove(name);
        }
        let definition = match module {
            Some(id) => self
                .definitions
                .iter()
                .rev()
                .find(|(name, _)| name.as_deref() == Some(id.name())),
            None => self.definitions.last(),
        };
        let compiled = match definition {
            Some((_, Some(compiled))) => compiled,
            Some((_, None)) => return Verdict::Fail("module definition failed to compile".into()),
            None => return Verdict::Fail("unknown module definition".into()),
        };
        match self.linker.instantiate(&mut self.store, compiled) {
            Ok(instance) => {
                self.current = Some(instance);
                if let Some(name) = instance_name {
                    self.named.insert(name, instance);
                }
                Verdict::Pass
            }
            Err(error) => Verdict::Fail(format!("instantiation failed: {error}")),
        }
    }

    fn assert_return(&mut self, exec: WastExecute<'_>, expected: &[WastRet<'_>]) -> Verdict {
        let mut patterns = Vec::with_capacity(expected.len());
        for ret in expected {
            match ret {
                WastRet::Core(core) => patterns.push(core),
                _ => return Verdict::Skip("component model"),
            }
        }
        if let Some(reason) = patterns.iter().find_map(|p| unsupported_pattern(p)) {
            return Verdict::Skip(reason);
        }
        let actual = match self.execute(exec) {
            Ok(actual) => actual,
            Err(error) => return error.into_verdict("expected a return"),
        };
        if actual.len() != patterns.len() {
            return Verdict::Fail(format!(
                "expected {} result(s) [{}], got {} [{}]",
                patterns.len(),
                patterns
                    .iter()
                    .map(|p| fmt_pattern(p))
                    .collect::<Vec<_>>()
                    .join(", "),
                actual.len(),
                fmt_vals(&actual)
            ));
        }
        for (index, (pattern, value)) in patterns.iter().zip(&actual).enumerate() {
            if !matches_pattern(pattern, value) {
                return Verdict::Fail(format!(
                    "result {index}: expected {}, got {}",
                    fmt_pattern(pattern),
                    fmt_val(value)
                ));
            }
        }
        Verdict::Pass
    }

    /// `assert_invalid` / `assert_malformed`: the module must be rejected.
    ///
    /// A module the text toolchain already refuses to encode never reaches
    /// walmart but is still rejected as the script demands, so it passes.
    /// Error messages are not compared: walmart's validator wording is not
    /// the reference interpreter's.
    fn assert_rejected(&mut self, mut module: QuoteWat<'_>, what: &str, message: &str) -> Verdict {
        if is_component(&module) {
            return Verdict::Skip("component model");
        }
        let Ok(bytes) = module.encode() else {
            return Verdict::Pass;
        };
        match Module::new(&self.engine, &bytes) {
            Ok(_) => Verdict::Fail(format!(
                "expected {what} module (`{message}`), but it compiled"
            )),
            Err(_) => Verdict::Pass,
        }
    }

    /// `assert_unlinkable`: the module must compile, then fail to link with a
    /// (non-trap) error mentioning `message`.
    fn assert_unlinkable(&mut self, mut module: Wat<'_>, message: &str) -> Verdict {
        let compiled = match self.compile_wat(&mut module) {
            Ok(compiled) => compiled,
            Err(error) => return error.into_verdict("assert_unlinkable"),
        };
        match self.linker.instantiate(&mut self.store, &compiled) {
            Ok(_) => Verdict::Fail(format!(
                "expected link error `{message}`, but it instantiated"
            )),
            Err(error) if error.trap().is_some() => Verdict::Fail(format!(
                "expected link error `{message}`, got trap: {error}"
            )),
            Err(error) => {
                let actual = error.to_string();
                if actual.contains(message) {
                    Verdict::Pass
                } else {
                    Verdict::Fail(format!("expected link error `{message}`, got: {actual}"))
                }
            }
        }
    }

    /// Runs the action of an `assert_return` / `assert_trap`.
    fn execute(&mut self, exec: WastExecute<'_>) -> Result<Vec<Val>, ExecError> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(module)?;
                let global = instance
                    .get_global(&mut self.store, global)
                    .ok_or_else(|| ExecError::Script(format!("no exported global `{global}`")))?;
                Ok(vec![global.get(&mut self.store)])
            }
            // `(assert_trap (module ...) msg)`: instantiation itself must
            // trap, e.g. from an out-of-bounds segment or the start function.
            WastExecute::Wat(mut module) => {
                let compiled = self.compile_wat(&mut module)?;
                self.instantiate(&compiled)?;
                Ok(Vec::new())
            }
        }
    }

    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Vec<Val>, ExecError> {
        let instance = self.instance(invoke.module)?;
        let func = instance
            .get_func(&mut self.store, invoke.name)
            .ok_or_else(|| ExecError::Script(format!("no exported function `{}`", invoke.name)))?;
        let params = invoke
            .args
            .iter()
            .map(arg_to_val)
            .collect::<Result<Vec<_>, _>>()?;
        let ty = func.ty(&self.store);
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        func.call(&mut self.store, &params, &mut results)
            .map_err(ExecError::Wasm)?;
        Ok(results)
    }

    /// The named instance, or the current one when `id` is `None`.
    fn instance(&self, id: Option<Id<'_>>) -> Result<Instance, ExecError> {
        match id {
            Some(id) => self
                .named
                .get(id.name())
                .copied()
                .ok_or_else(|| ExecError::Script(format!("unknown module `${}`", id.name()))),
            None => self
                .current
                .ok_or_else(|| ExecError::Script("no current module instance".to_string())),
        }
    }

    /// Encodes a script module to binary and compiles it. Binary is always
    /// handed to walmart so that text parsing is not what is being tested.
    fn compile(&self, module: &mut QuoteWat<'_>) -> Result<Module, ExecError> {
        if is_component(module) {
            return Err(ExecError::Unsupported("component model"));
        }
        let bytes = module.encode().map_err(|error| {
            ExecError::Script(format!("failed to encode module: {}", error.message()))
        })?;
        self.compile_binary(&bytes)
    }

    fn compile_wat(&self, module: &mut Wat<'_>) -> Result<Module, ExecError> {
        if matches!(module, Wat::Component(_)) {
            return Err(ExecError::Unsupported("component model"));
        }
        let bytes = module.encode().map_err(|error| {
            ExecError::Script(format!("failed to encode module: {}", error.message()))
        })?;
        self.compile_binary(&bytes)
    }

    fn compile_binary(&self, bytes: &[u8]) -> Result<Module, ExecError> {
        let module = Module::new(&self.engine, bytes)
            .map_err(|error| ExecError::Script(format!("module failed to compile: {error}")))?;
        if !self.precompiled {
            return Ok(module);
        }
        let saved = module
            .serialize()
            .map_err(|error| ExecError::Script(format!("module failed to serialize: {error}")))?;
        // SAFETY: the bytes were just written by this engine's compiler.
        unsafe { Module::deserialize(&self.engine, &saved) }
            .map_err(|error| ExecError::Script(format!("module failed to deserialize: {error}")))
    }

    fn instantiate(&mut self, module: &Module) -> Result<Instance, ExecError> {
        self.linker
            .instantiate(&mut self.store, module)
            .map_err(ExecError::Wasm)
    }
}

/// Defines the `spectest` host module the testsuite imports from.
fn define_spectest(linker: &mut Linker<()>, store: &mut Store<()>) -> Result<(), Error> {
    let functions = [
        ("print", vec![]),
        ("print_i32", vec![ValType::I32]),
        ("print_i64", vec![ValType::I64]),
        ("print_f32", vec![ValType::F32]),
        ("print_f64", vec![ValType::F64]),
        ("print_i32_f32", vec![ValType::I32, ValType::F32]),
        ("print_f64_f64", vec![ValType::F64, ValType::F64]),
    ];
    for (name, params) in functions {
        // The scripts never check what is printed, so stay silent and keep
        // test output readable.
        let func = Func::new(
            &mut *store,
            FuncType::new(params, Vec::new()),
            |_caller, _params, _results| Ok(()),
        );
        linker.define(&mut *store, "spectest", name, Extern::Func(func))?;
    }

    let globals = [
        ("global_i32", ValType::I32, Val::I32(666)),
        ("global_i64", ValType::I64, Val::I64(666)),
        ("global_f32", ValType::F32, Val::F32(666.6f32.to_bits())),
        ("global_f64", ValType::F64, Val::F64(666.6f64.to_bits())),
    ];
    for (name, ty, value) in globals {
        let global = Global::new(&mut *store, GlobalType::new(ty, Mutability::Const), value)?;
        linker.define(&mut *store, "spectest", name, Extern::Global(global))?;
    }

    let table = Table::new(
        &mut *store,
        TableType::new(RefType::FuncRef, 10, Some(20)),
        Val::FuncRef(None),
    )?;
    linker.define(&mut *store, "spectest", "table", Extern::Table(table))?;

    let memory = Memory::new(&mut *store, MemoryType::new(1, Some(2)))?;
    linker.define(&mut *store, "spectest", "memory", Extern::Memory(memory))?;
    let shared = Memory::new(&mut *store, MemoryType::shared(1, 2))?;
    linker.define(
        &mut *store,
        "spectest",
        "shared_memory",
        Extern::Memory(shared),
    )?;
    Ok(())
}

/// `assert_trap` / `assert_exhaustion`: the action must fail with an error
/// whose message contains `expected` (see [`trap_message_matches`]).
fn expect_trap(result: Result<Vec<Val>, ExecError>, expected: &str) -> Verdict {
    match result {
        Ok(values) => Verdict::Fail(format!(
            "expected trap `{expected}`, got [{}]",
            fmt_vals(&values)
        )),
        Err(ExecError::Wasm(error)) => {
            let actual = error.to_string();
            if trap_message_matches(&actual, expected) {
                Verdict::Pass
            } else {
                Verdict::Fail(format!("expected trap `{expected}`, got: {actual}"))
            }
        }
        Err(other) => other.into_verdict("expected a trap"),
    }
}

/// Spec trap messages that may legitimately be worded differently, as
/// `(expected, also accepted)`.
const TRAP_ALIASES: &[(&str, &str)] = &[
    // `call_indirect` past the end of the table: the spec says "undefined
    // element", engines commonly report the table bounds check that caught it.
    ("undefined element", "out of bounds table access"),
    // Stack overflow is reported as such by most native engines.
    ("call stack exhausted", "stack overflow"),
];

/// Whether an error message satisfies the message expected by the script.
/// Trap displays may carry extra context (e.g. a backtrace), hence `contains`.
fn trap_message_matches(actual: &str, expected: &str) -> bool {
    if actual.contains(expected) {
        return true;
    }
    // Newer scripts append the element index ("uninitialized element 2");
    // reporting it is not required.
    if let Some(index) = expected.strip_prefix("uninitialized element ") {
        if !index.is_empty()
            && index.bytes().all(|b| b.is_ascii_digit())
            && actual.contains("uninitialized element")
        {
            return true;
        }
    }
    TRAP_ALIASES
        .iter()
        .any(|(spec, alias)| *spec == expected && actual.contains(alias))
}

/// Which reference hierarchy a heap type belongs to, for those this
/// runner models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefFamily {
    Func,
    Extern,
    Exn,
    Any,
}

fn ref_family(heap: &HeapType<'_>) -> Option<RefFamily> {
    match heap {
        HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Func | AbstractHeapType::NoFunc,
        } => Some(RefFamily::Func),
        HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Extern | AbstractHeapType::NoExtern,
        } => Some(RefFamily::Extern),
        HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Exn | AbstractHeapType::NoExn,
        } => Some(RefFamily::Exn),
        HeapType::Abstract {
            shared: false,
            ty:
                AbstractHeapType::Any
                | AbstractHeapType::Eq
                | AbstractHeapType::I31
                | AbstractHeapType::Struct
                | AbstractHeapType::Array
                | AbstractHeapType::None,
        } => Some(RefFamily::Any),
        // A script's null of a defined type is taken for a function
        // reference's (the script does not say which kind of type it is).
        HeapType::Concrete(_) | HeapType::Exact(_) => Some(RefFamily::Func),
        _ => None,
    }
}

fn arg_to_val(arg: &WastArg<'_>) -> Result<Val, ExecError> {
    let WastArg::Core(arg) = arg else {
        return Err(ExecError::Unsupported("component model"));
    };
    Ok(match arg {
        WastArgCore::I32(value) => Val::I32(*value),
        WastArgCore::I64(value) => Val::I64(*value),
        WastArgCore::F32(value) => Val::F32(value.bits),
        WastArgCore::F64(value) => Val::F64(value.bits),
        WastArgCore::V128(value) => Val::V128(u128::from_le_bytes(value.to_le_bytes())),
        WastArgCore::RefNull(heap) => match ref_family(heap) {
            Some(RefFamily::Func) => Val::FuncRef(None),
            Some(RefFamily::Extern) => Val::ExternRef(None),
            Some(RefFamily::Any) => Val::AnyRef(None),
            Some(RefFamily::Exn) => Val::ExnRef(None),
            None => return Err(ExecError::Unsupported("this reference type")),
        },
        WastArgCore::RefExtern(payload) => {
            Val::ExternRef(Some(ExternRef::new(u64::from(*payload))))
        }
        WastArgCore::RefHost(payload) => Val::AnyRef(Some(crate::AnyRef::from_extern(
            ExternRef::new(u64::from(*payload)),
        ))),
    })
}

/// Result patterns naming features this runner does not model.
fn unsupported_pattern(pattern: &WastRetCore<'_>) -> Option<&'static str> {
    match pattern {
        WastRetCore::RefI31Shared => Some("shared references"),
        WastRetCore::RefNull(Some(heap)) if ref_family(heap).is_none() => {
            Some("this reference type")
        }
        WastRetCore::Either(alternatives) => alternatives.iter().find_map(unsupported_pattern),
        _ => None,
    }
}

fn matches_pattern(pattern: &WastRetCore<'_>, value: &Val) -> bool {
    match (pattern, value) {
        (WastRetCore::I32(expected), Val::I32(actual)) => expected == actual,
        (WastRetCore::I64(expected), Val::I64(actual)) => expected == actual,
        (WastRetCore::F32(expected), Val::F32(bits)) => f32_matches(expected, *bits),
        (WastRetCore::F64(expected), Val::F64(bits)) => f64_matches(expected, *bits),
        (WastRetCore::V128(expected), Val::V128(bits)) => v128_matches(expected, *bits),
        (WastRetCore::RefNull(heap), Val::FuncRef(None)) => heap
            .as_ref()
            .is_none_or(|heap| ref_family(heap) == Some(RefFamily::Func)),
        (WastRetCore::RefNull(heap), Val::ExternRef(None)) => heap
            .as_ref()
            .is_none_or(|heap| ref_family(heap) == Some(RefFamily::Extern)),
        (WastRetCore::RefNull(heap), Val::ExnRef(None)) => heap
            .as_ref()
            .is_none_or(|heap| ref_family(heap) == Some(RefFamily::Exn)),
        (WastRetCore::RefNull(heap), Val::AnyRef(None)) => heap
            .as_ref()
            .is_none_or(|heap| ref_family(heap) == Some(RefFamily::Any)),
        (WastRetCore::RefExtern(None), Val::ExternRef(Some(_))) => true,
        (WastRetCore::RefExtern(Some(payload)), Val::ExternRef(Some(actual))) => {
            actual.id() == Some(u64::from(*payload))
        }
        (WastRetCore::RefHost(payload), Val::AnyRef(Some(actual))) => {
            actual.host_id() == Some(u64::from(*payload))
        }
        (WastRetCore::RefAny, Val::AnyRef(Some(_))) => true,
        (WastRetCore::RefEq, Val::AnyRef(Some(actual))) => actual.is_eq(),
        (WastRetCore::RefI31, Val::AnyRef(Some(actual))) => actual.i31_u().is_some(),
        (WastRetCore::RefStruct, Val::AnyRef(Some(actual))) => actual.is_struct(),
        (WastRetCore::RefArray, Val::AnyRef(Some(actual))) => actual.is_array(),
        // Function identity cannot be observed through the API; any non-null
        // funcref satisfies `(ref.func)`.
        (WastRetCore::RefFunc(_), Val::FuncRef(Some(_))) => true,
        (WastRetCore::Either(alternatives), value) => alternatives
            .iter()
            .any(|alternative| matches_pattern(alternative, value)),
        _ => false,
    }
}

/// Float results compare bit-exactly, except for the NaN patterns:
/// canonical NaN is a quiet NaN with an all-zero payload (either sign),
/// arithmetic NaN any quiet NaN.
fn f32_matches(expected: &NanPattern<F32>, bits: u32) -> bool {
    match expected {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
        NanPattern::Value(value) => value.bits == bits,
    }
}

/// See [`f32_matches`].
fn f64_matches(expected: &NanPattern<F64>, bits: u64) -> bool {
    match expected {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
        NanPattern::ArithmeticNan => bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
        NanPattern::Value(value) => value.bits == bits,
    }
}

/// Lane `index` of a little-endian v128, `N` bytes wide.
fn lane<const N: usize>(bytes: &[u8; 16], index: usize) -> [u8; N] {
    bytes[index * N..(index + 1) * N]
        .try_into()
        .expect("lane lies within the vector")
}

fn v128_matches(expected: &V128Pattern, bits: u128) -> bool {
    let bytes = bits.to_le_bytes();
    match expected {
        V128Pattern::I8x16(lanes) => lanes
            .iter()
            .enumerate()
            .all(|(i, &e)| i8::from_le_bytes(lane(&bytes, i)) == e),
        V128Pattern::I16x8(lanes) => lanes
            .iter()
            .enumerate()
            .all(|(i, &e)| i16::from_le_bytes(lane(&bytes, i)) == e),
        V128Pattern::I32x4(lanes) => lanes
            .iter()
            .enumerate()
            .all(|(i, &e)| i32::from_le_bytes(lane(&bytes, i)) == e),
        V128Pattern::I64x2(lanes) => lanes
            .iter()
            .enumerate()
            .all(|(i, &e)| i64::from_le_bytes(lane(&bytes, i)) == e),
        V128Pattern::F32x4(lanes) => lanes
            .iter()
            .enumerate()
            .all(|(i, e)| f32_matches(e, u32::from_le_bytes(lane(&bytes, i)))),
        V128Pattern::F64x2(lanes) => lanes
            .iter()
            .enumerate()
            .all(|(i, e)| f64_matches(e, u64::from_le_bytes(lane(&bytes, i)))),
    }
}

fn is_component(module: &QuoteWat<'_>) -> bool {
    matches!(
        module,
        QuoteWat::Wat(Wat::Component(_)) | QuoteWat::QuoteComponent(..)
    )
}

fn directive_kind(directive: &WastDirective<'_>) -> &'static str {
    match directive {
        WastDirective::Module(_) => "module",
        WastDirective::ModuleDefinition(_) => "module definition",
        WastDirective::ModuleInstance { .. } => "module instance",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::AssertInvalidCustom { .. } => "assert_invalid_custom",
        WastDirective::Register { .. } => "register",
        WastDirective::Invoke(_) => "invoke",
        WastDirective::AssertTrap {
            exec: WastExecute::Wat(_),
            ..
        } => "assert_trap (module)",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertException { .. } => "assert_exception",
        WastDirective::AssertSuspension { .. } => "assert_suspension",
        WastDirective::Thread(_) => "thread",
        WastDirective::Wait { .. } => "wait",
        WastDirective::AssertMalformedCustom { .. } => "assert_malformed_custom",
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_string()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

fn fmt_f32(bits: u32) -> String {
    format!("{} ({bits:#010x})", f32::from_bits(bits))
}

fn fmt_f64(bits: u64) -> String {
    format!("{} ({bits:#018x})", f64::from_bits(bits))
}

fn fmt_val(value: &Val) -> String {
    match value {
        Val::I32(v) => format!("i32:{v}"),
        Val::I64(v) => format!("i64:{v}"),
        Val::F32(bits) => format!("f32:{}", fmt_f32(*bits)),
        Val::F64(bits) => format!("f64:{}", fmt_f64(*bits)),
        Val::V128(bits) => format!("v128:{bits:#034x}"),
        Val::FuncRef(None) => "ref.null func".to_string(),
        Val::FuncRef(Some(_)) => "ref.func".to_string(),
        Val::ExternRef(None) => "ref.null extern".to_string(),
        Val::ExternRef(Some(r)) => match r.id() {
            Some(id) => format!("ref.extern {id}"),
            None => "ref.extern (from anyref)".to_string(),
        },
        Val::AnyRef(None) => "ref.null any".to_string(),
        Val::AnyRef(Some(r)) => fmt_any(r),
        Val::ExnRef(None) => "ref.null exn".to_string(),
        Val::ExnRef(Some(_)) => "ref.exn".to_string(),
    }
}

fn fmt_any(r: &crate::AnyRef) -> String {
    if let Some(v) = r.i31_u() {
        format!("ref.i31 {v}")
    } else if let Some(id) = r.host_id() {
        format!("ref.host {id}")
    } else if r.is_struct() {
        "ref.struct".to_string()
    } else {
        "ref.array".to_string()
    }
}

fn fmt_vals(values: &[Val]) -> String {
    values.iter().map(fmt_val).collect::<Vec<_>>().join(", ")
}

fn fmt_nan<T>(pattern: &NanPattern<T>, value: impl Fn(&T) -> String) -> String {
    match pattern {
        NanPattern::CanonicalNan => "nan:canonical".to_string(),
        NanPattern::ArithmeticNan => "nan:arithmetic".to_string(),
        NanPattern::Value(v) => value(v),
    }
}

fn fmt_pattern(pattern: &WastRetCore<'_>) -> String {
    match pattern {
        WastRetCore::I32(v) => format!("i32:{v}"),
        WastRetCore::I64(v) => format!("i64:{v}"),
        WastRetCore::F32(p) => format!("f32:{}", fmt_nan(p, |f| fmt_f32(f.bits))),
        WastRetCore::F64(p) => format!("f64:{}", fmt_nan(p, |f| fmt_f64(f.bits))),
        WastRetCore::V128(p) => format!("v128:{p:?}"),
        WastRetCore::RefNull(None) => "ref.null".to_string(),
        WastRetCore::RefNull(Some(heap)) => match ref_family(heap) {
            Some(RefFamily::Func) => "ref.null func".to_string(),
            Some(RefFamily::Extern) => "ref.null extern".to_string(),
            Some(RefFamily::Any) => "ref.null any".to_string(),
            Some(RefFamily::Exn) => "ref.null exn".to_string(),
            None => format!("ref.null {heap:?}"),
        },
        WastRetCore::RefExtern(None) => "ref.extern".to_string(),
        WastRetCore::RefExtern(Some(payload)) => format!("ref.extern {payload}"),
        WastRetCore::RefFunc(_) => "ref.func".to_string(),
        WastRetCore::Either(alternatives) => format!(
            "either({})",
            alternatives
                .iter()
                .map(fmt_pattern)
                .collect::<Vec<_>>()
                .join(" | ")
        ),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_round_trip() {
        let indices: BTreeSet<usize> = [0, 1, 2, 3, 5, 7, 8].into_iter().collect();
        assert_eq!(format_ranges(&indices), "0-3,5,7-8");
        let mut map = Expectations::new();
        map.insert("wasm-v1/b.wast".to_string(), indices.clone());
        map.insert("wasm-v1/a.wast".to_string(), BTreeSet::new());
        let text = render_expectation_map(&map);
        assert!(text.contains("\nwasm-v1/a.wast:\nwasm-v1/b.wast: 0-3,5,7-8\n"));
        assert_eq!(load_expectations(&text).unwrap(), map);
    }

    #[test]
    fn malformed_expectations_are_errors() {
        assert!(load_expectations("wasm-v1/a.wast 1-2").is_err());
        assert!(load_expectations("wasm-v1/a.wast: 3-1").is_err());
        assert!(load_expectations("wasm-v1/a.wast: x").is_err());
        assert!(load_expectations("a: 1\na: 2").is_err());
        assert!(load_expectations("# only a comment\n\n")
            .unwrap()
            .is_empty());
    }

    #[test]
    fn nan_patterns() {
        assert!(f32_matches(&NanPattern::CanonicalNan, 0x7fc0_0000));
        assert!(f32_matches(&NanPattern::CanonicalNan, 0xffc0_0000));
        assert!(!f32_matches(&NanPattern::CanonicalNan, 0x7fc0_0001));
        assert!(f32_matches(&NanPattern::ArithmeticNan, 0x7fc0_0001));
        assert!(!f32_matches(&NanPattern::ArithmeticNan, 0x7fa0_0000));
        assert!(f64_matches(
            &NanPattern::CanonicalNan,
            0xfff8_0000_0000_0000
        ));
        assert!(!f64_matches(
            &NanPattern::ArithmeticNan,
            0x7ff0_0000_0000_0001
        ));
    }

    #[test]
    fn trap_messages() {
        assert!(trap_message_matches(
            "wasm trap: integer divide by zero\nbacktrace",
            "integer divide by zero"
        ));
        assert!(trap_message_matches(
            "uninitialized element",
            "uninitialized element 2"
        ));
        assert!(trap_message_matches(
            "out of bounds table access",
            "undefined element"
        ));
        assert!(!trap_message_matches(
            "out of bounds memory access",
            "undefined element"
        ));
    }

    #[test]
    fn v128_lanes() {
        let bits =
            u128::from_le_bytes([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        assert!(v128_matches(&V128Pattern::I32x4([1, 2, 3, -1]), bits));
        assert!(!v128_matches(&V128Pattern::I32x4([1, 2, 3, 4]), bits));
        assert!(v128_matches(
            &V128Pattern::I16x8([1, 0, 2, 0, 3, 0, -1, -1]),
            bits
        ));
    }
}
