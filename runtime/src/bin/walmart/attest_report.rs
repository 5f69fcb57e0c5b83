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

/// When the attested run began (Unix seconds).
static STARTED: OnceLock<f64> = OnceLock::new();

/// Notes the attested run's start.
pub fn mark_started() {
    let _ = STARTED.set(walmart::attest::Event::now());
}

/// When [`mark_started`] was called.
pub fn started() -> f64 {
    STARTED.get().copied().unwrap_or(0.0)
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
    pub started: f64,
    pub ending: Ending<'a>,
    /// `--on-detect trap` ended the run for a detection (exit status
    /// 86): the guest stopped at a hook, or the detection came at its end.
    pub stopped_by_detection: bool,
    pub stats: Value,
    pub caveats: Vec<String>,
    pub log: Option<&'a Path>,
}

/// The SHA-256 of a file, in hex.
fn sha256_of(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(hex(&Sha256::digest(&bytes)))
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
    if !matches!(facts.ending, Ending::Success | Ending::Failure) && !facts.stopped_by_detection {
        caveats.push(
            "the guest did not run to its end: the checks judged what it did until it stopped"
                .to_string(),
        );
    }
    let log = match facts.log {
        Some(path) => json!({
            "path": path.display().to_string(),
            "sha256": sha256_of(path)?,
            "events": tally.total,
        }),
        None => Value::Null,
    };
    Ok(json!({
        "walmart": env!("CARGO_PKG_VERSION"),
        "module": {
            "path": facts.module.display().to_string(),
            "sha256": sha256_of(facts.module)?,
        },
        "policy": facts.policy,
        "settings": facts.settings,
        "verifier": facts.verifier,
        "started": facts.started,
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
        "verdict": if tally.total > 0 { "corruption-detected" } else { "no-corruption-detected" },
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

/// The SHA-256 of a model file `--model` names (`None` for the built-in
/// one and for none).
pub fn model_sha256(model: Option<&str>) -> anyhow::Result<Option<String>> {
    match model {
        None | Some("default") | Some("none") => Ok(None),
        Some(path) => sha256_of(Path::new(path)).map(Some),
    }
}
