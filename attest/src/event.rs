//! Attestation events and their JSON-lines log.

use std::io::Write;

use crate::policy::Policy;
use crate::snapshot::HookSite;

/// What was detected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// Linear memory changed while control was outside the module, not
    /// through walmart's API (exact: write protection or digests).
    HostTamper,
    /// The CNN scored pages above its threshold.
    Cnn,
    /// The colour-tag monitor saw a memory-safety violation.
    TagViolation,
    /// The chain of the allocator's heap chunks is broken: bytes were
    /// written over a chunk header or a freed chunk's links (exact: a walk
    /// of dlmalloc's chunks).
    HeapCorrupt,
    /// The guard above a stack frame was written over as its function
    /// returned: a buffer in the frame overflowed (exact: 16 bytes that
    /// stay zero while the frame lives).
    StackSmash,
}

/// One detection, as written to the log (one JSON object per line).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Event {
    /// Seconds since the Unix epoch.
    pub time: f64,
    /// The policy in force.
    pub policy: Policy,
    /// What was detected.
    pub kind: EventKind,
    /// The hook that found it.
    pub hook: HookSite,
    /// Snapshot epoch ([`crate::PageSnapshot::epoch`]). A verifier's
    /// detection carries the epoch of the snapshot it judged; a tag
    /// violation or a tampering, the snapshots taken before it was found
    /// (so the snapshot of epoch + 1 is the first to hold its bytes). The
    /// difference is the detection latency in snapshotting hooks.
    pub epoch: u64,
    /// Calls the module's code had made to its allocator functions when
    /// this was found (a verifier's detection: when its snapshot was
    /// taken; [`crate::AttestStats::allocator_calls`]). Runs of the same
    /// program and input count them alike, whatever their timing or the
    /// checks alongside (where the program's path does not depend on the
    /// time), so a detection in one run can be dated against a violation
    /// seen in another.
    pub allocator_calls: u64,
    /// Attested memory index.
    pub memory: u32,
    /// Page numbers (4 KiB pages) concerned.
    pub pages: Vec<u32>,
    /// One score per page ([`crate::Verdict::score`]: the CNN's log-odds,
    /// 1.0 from the exact checks).
    pub scores: Vec<f32>,
    /// Who judged (`write-protection`, `digest`, `cnn`, ...).
    pub source: String,
    /// A human-readable sentence.
    pub detail: String,
    /// The violation's details, for [`EventKind::TagViolation`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<crate::tags::TagReport>,
    /// Files holding the flagged pages' bytes as they were judged, one per
    /// page in `pages` order (an empty string for a page whose file could
    /// not be written), when the store keeps evidence (`walmart run
    /// --attest-evidence DIR`); empty otherwise, and for the verdicts of a
    /// verifier that had failed (which judged nothing).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

impl Event {
    /// Seconds since the Unix epoch, now.
    pub fn now() -> f64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0)
    }

    /// The event as one line of JSON (no newline).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("events contain only serialisable data")
    }

    /// The event as one line for a person: what, who judged, where, and
    /// the detail (`heap-corrupt (free-check) at the FunctionEntry hook of
    /// `dlfree` (snapshot 2): ...`).
    pub fn one_line(&self) -> String {
        let kind = serde_json::to_value(self.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| format!("{:?}", self.kind));
        format!(
            "{kind} ({}) at {} (snapshot {}): {}",
            self.source,
            self.hook.describe(),
            self.epoch,
            self.detail
        )
    }
}

/// A JSON-lines event file. Each event is flushed as it is written, so
/// the log is complete up to the last detection even if the process dies.
pub struct EventLog {
    out: std::io::BufWriter<std::fs::File>,
}

impl EventLog {
    /// Creates (truncates) the log at `path`.
    pub fn create(path: &std::path::Path) -> std::io::Result<EventLog> {
        Ok(EventLog {
            out: std::io::BufWriter::new(std::fs::File::create(path)?),
        })
    }

    /// Appends one event.
    pub fn write(&mut self, event: &Event) -> std::io::Result<()> {
        writeln!(self.out, "{}", event.to_json())?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::HookKind;

    #[test]
    fn events_serialise_as_one_json_line() {
        let e = Event {
            time: 1.5,
            policy: Policy::Coarse,
            kind: EventKind::HostTamper,
            hook: HookSite {
                kind: HookKind::ImportReturn,
                func: Some(2),
                name: Some("env.poke".into()),
                offset: None,
            },
            epoch: 3,
            allocator_calls: 0,
            memory: 0,
            pages: vec![16, 17],
            scores: vec![1.0, 1.0],
            source: "write-protection".into(),
            detail: "a \"quoted\" word".into(),
            tag: None,
            evidence: Vec::new(),
        };
        let line = e.to_json();
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["kind"], "host-tamper");
        assert_eq!(v["policy"], "coarse");
        assert_eq!(v["hook"]["kind"], "import-return");
        assert_eq!(v["pages"][1], 17);
        assert_eq!(v["epoch"], 3);
        assert_eq!(v["detail"], "a \"quoted\" word");
    }
}
