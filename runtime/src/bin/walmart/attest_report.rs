//! `walmart run --attest-report FILE`: one JSON document, written as an
//! attested run ends, that says what was attested and what was found:
//! the module (its SHA-256), the policy and its settings, the verifier
//! and its model, how the guest ended, the counters of the exit summary,
//! the detections by kind and source with the first of them, a verdict
//! with what limits it, and the event log by its SHA-256 so a reader can
//! tell the log beside it is the one the run wrote. An empty event log
//! cannot say whether a run was clean or never got to write; the report
//! can.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::Context;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The run's detections as they were reported.
#[derive(Default)]
pub struct Tally {
    total: u64,
    by_kind: BTreeMap<String, u64>,
    by_source: BTreeMap<String, u64>,
    first: Option<Value>,
}

impl Tally {
    fn add(&mut self, e: &walmart::attest::Event) {
        self.total += 1;
        let value = serde_json::to_value(e).unwrap_or(Value::Null);
        let kind = value["kind"].as_str().unwrap_or("unknown").to_string();
        *self.by_kind.entry(kind).or_default() += 1;
        *self.by_source.entry(e.source.clone()).or_default() += 1;
        if self.first.is_none() {
            self.first = Some(value);
        }
    }
}

/// The process's tally: `walmart run` runs one guest per process, and the
/// event callback is made long before the run's end reads it.
fn tally() -> &'static Arc<Mutex<Tally>> {
    static TALLY: OnceLock<Arc<Mutex<Tally>>> = OnceLock::new();
    TALLY.get_or_init(Arc::default)
}

/// Counts an event into the process's tally.
pub fn count(e: &walmart::attest::Event) {
    tally().lock().unwrap_or_else(|p| p.into_inner()).add(e);
}

/// What the report notes as the attestation begins.
struct Begun {
    /// Unix seconds.
    started: f64,
    /// The module file's SHA-256, or why there is none.
    module: Result<String, String>,
    /// The model file's SHA-256 (`None` for the built-in model or none).
    model: Option<String>,
}

static BEGUN: OnceLock<Begun> = OnceLock::new();

/// Notes the attestation's start: the time, the module's and the model's
/// digests as their files are then, and the report's file made, empty, so
/// that a path it cannot be written to fails the run before the guest
/// runs, and a run that dies leaves no older report to be taken for its.
pub fn begin(report: &Path, module: &Path, model: Option<&str>) -> anyhow::Result<()> {
    std::fs::write(report, b"")
        .map_err(|e| anyhow::anyhow!("--attest-report: cannot write {}: {e}", report.display()))?;
    let module = match sha256_of_file(module)? {
        Some(sha) => Ok(sha),
        None => Err(format!(
            "the module was read from {}, not a file: not hashed",
            module.display()
        )),
    };
    let model = match model {
        None | Some("default") | Some("none") => None,
        Some(path) => sha256_of_file(Path::new(path))?,
    };
    let _ = BEGUN.set(Begun {
        started: walmart::attest::Event::now(),
        module,
        model,
    });
    Ok(())
}

/// The SHA-256 of the model file `--model` named, as the run began.
pub fn model_sha256() -> Option<String> {
    BEGUN.get().and_then(|b| b.model.clone())
}

/// How the guest failed, as `walmart run` reported it: `None` for an exit
/// (of any status); `Some(true)` in the first slot for a detection's stop.
static GUEST_ERROR: Mutex<Option<(bool, String)>> = Mutex::new(None);

/// Notes a guest failure `walmart run` reports (a trap, a host error, an
/// exit through `proc_exit`, a detection's stop).
pub fn note_guest_error(e: &walmart::Error) {
    if e.exit_status().is_some() {
        return;
    }
    let detection =
        matches!(e, walmart::Error::Trap(t) if t.kind() == walmart::TrapKind::AttestationViolation);
    *GUEST_ERROR.lock().unwrap_or_else(|p| p.into_inner()) = Some((detection, e.to_string()));
}

/// The guest's failure, if it had one other than an exit status.
pub fn guest_error() -> Option<String> {
    GUEST_ERROR
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
        .map(|(_, e)| e.clone())
}

/// Whether `--on-detect trap` stopped the guest.
pub fn stopped_by_detection() -> bool {
    GUEST_ERROR
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
        .is_some_and(|(d, _)| *d)
}

/// How the guest ended, as the report says it.
pub enum Ending<'a> {
    /// It returned, or exited with status 0.
    Success,
    /// It exited with another status.
    Failure,
    /// It trapped or failed otherwise before its end.
    Error(&'a str),
}

/// What the run itself knows at its end.
pub struct RunFacts<'a> {
    pub module: &'a Path,
    pub policy: &'a str,
    pub settings: Value,
    pub verifier: Value,
    pub ending: Ending<'a>,
    /// `--on-detect trap` ended the run for a detection (exit status
    /// 86): the guest stopped at a hook, or the detection came at its end.
    pub stopped_by_detection: bool,
    /// The attestation's own end failed (its log could not be written...):
    /// not every check ran.
    pub unfinished: bool,
    /// Detections the run's counters have (the summary's), which the
    /// verdict takes as well as the events seen.
    pub counted: u64,
    pub stats: Value,
    pub caveats: Vec<String>,
    pub log: Option<&'a Path>,
}

/// The SHA-256 of a regular file, in hex; `None` for anything else (a
/// pipe read once already, a terminal, a device), which is not read.
fn sha256_of_file(path: &Path) -> anyhow::Result<Option<String>> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("--attest-report: cannot read {}", path.display()))?;
    if !meta.is_file() {
        return Ok(None);
    }
    let bytes = std::fs::read(path)
        .with_context(|| format!("--attest-report: cannot read {}", path.display()))?;
    Ok(Some(hex(&Sha256::digest(&bytes))))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The report's JSON for `facts` and the process's tally.
fn document(facts: &RunFacts<'_>) -> anyhow::Result<Value> {
    let tally = tally().lock().unwrap_or_else(|p| p.into_inner());
    let (guest, error) = match facts.ending {
        Ending::Success => ("success", None),
        Ending::Failure => ("failure", None),
        Ending::Error(e) => ("error", Some(e)),
    };
    let mut caveats = facts.caveats.clone();
    let begun = BEGUN.get();
    let module_sha = match begun.map(|b| &b.module) {
        Some(Ok(sha)) => Some(sha.clone()),
        Some(Err(why)) => {
            caveats.push(why.clone());
            None
        }
        None => None,
    };
    if !matches!(facts.ending, Ending::Success | Ending::Failure) && !facts.stopped_by_detection {
        caveats.push(
            "the guest did not run to its end: the checks judged what it did until it stopped"
                .to_string(),
        );
    }
    let log = match facts.log {
        Some(path) => json!({
            "path": path.display().to_string(),
            "sha256": sha256_of_file(path)?,
            "events": tally.total,
        }),
        None => Value::Null,
    };
    let verdict = if tally.total > 0 || facts.counted > 0 {
        "corruption-detected"
    } else if facts.unfinished {
        "incomplete"
    } else {
        "no-corruption-detected"
    };
    Ok(json!({
        "walmart": env!("CARGO_PKG_VERSION"),
        "module": {
            "path": facts.module.display().to_string(),
            "sha256": module_sha,
        },
        "policy": facts.policy,
        "settings": facts.settings,
        "verifier": facts.verifier,
        "started": begun.map(|b| b.started),
        "finished": walmart::attest::Event::now(),
        "guest": guest,
        "error": error,
        "stopped_by_detection": facts.stopped_by_detection,
        "stats": facts.stats,
        "detections": {
            "total": tally.total,
            "by_kind": tally.by_kind,
            "by_source": tally.by_source,
            "first": tally.first,
        },
        "verdict": verdict,
        "caveats": caveats,
        "log": log,
    }))
}

/// Writes the report to `path` (replacing a file there).
pub fn write(path: &Path, facts: &RunFacts<'_>) -> anyhow::Result<()> {
    let doc = document(facts)?;
    let text = serde_json::to_string_pretty(&doc).context("cannot format the report")?;
    std::fs::write(path, text + "\n")
        .with_context(|| format!("--attest-report: cannot write {}", path.display()))
}
