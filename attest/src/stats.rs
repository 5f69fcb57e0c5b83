//! Counters of an attestation session, printed as the summary at exit.

use std::time::Duration;

/// What attestation did during a run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AttestStats {
    /// Hooks that reached the runtime: boundary hooks, and function hooks
    /// that were armed (unarmed function hooks cost two instructions and
    /// are not counted).
    pub hooks: u64,
    /// Calls to the module's allocator functions (`malloc`, `free`, ...
    /// defined in the module and found by name or export) from outside the
    /// allocator, directly or through a table: the same in every run of
    /// the same program and input, under any policy, where the program's
    /// path does not depend on the time.
    pub allocator_calls: u64,
    /// When the run entered the allocator call its options marked
    /// (Unix seconds; `AttestOptions::mark_allocator_call` in walmart),
    /// if it did.
    pub allocator_call_marked: Option<f64>,
    /// Hooks that found dirty pages and snapshotted them.
    pub snapshots: u64,
    /// Dirty pages copied into the ring.
    pub pages_snapshotted: u64,
    /// Of those, pages found holding only input the host supplied through
    /// walmart's API (WASI reads, `Memory::write`) or what the module's
    /// data segments wrote at instantiation (`PageKind::Input`), which the
    /// CNN passes over.
    pub pages_input: u64,
    /// Clean pages re-read to audit their digests.
    pub pages_audited: u64,
    /// Bytes the verifier judged.
    pub bytes_verified: u64,
    /// Events reported (host tampering and verifier detections).
    pub detections: u64,
    /// Hooks whose pages stayed dirty for a later hook because the ring
    /// was full (back-pressure `defer`; nothing is lost).
    pub deferred: u64,
    /// Pages dropped: always 0, walmart defers or blocks instead.
    pub ring_drops: u64,
    /// Host-tamper checks made on re-entry into the module.
    pub tamper_checks: u64,
    /// Heap chunks (dlmalloc's) or regions (emmalloc's) the walks of the
    /// allocator's heap checked (0 when no walk ran: the module's
    /// allocator is neither, or it allocated nothing).
    pub heap_chunks: u64,
    /// Whether a walk of the allocator's heap ran: the heap checks found
    /// dlmalloc's or emmalloc's heap (false for another allocator, under
    /// `--no-heap-check`, and for a module that allocated nothing).
    pub heap_walked: bool,
    /// Where the heap checks found dlmalloc's state in memory 0, when they
    /// did: then the top chunk is checked against it, by every walk and
    /// at every entry of an allocator function.
    pub heap_state: Option<u32>,
    /// Calls the generated check at `free` and `realloc` made to the
    /// runtime for a pointer the runtime's own reading of the heap found
    /// nothing wrong with: 0 unless the two disagree (which costs a call,
    /// and reports nothing).
    pub free_checks_unconfirmed: u64,
    /// Time the verifier spent judging pages.
    pub verifier_time: Duration,
    /// Asynchronous mode: the least time between two snapshots taken at
    /// the verifier's pace (the policy's default unless the options set
    /// one); `None` in synchronous mode, where every hook after a write
    /// snapshots.
    pub interval: Option<Duration>,
}

impl std::fmt::Display for AttestStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "hooks {}, allocator calls {}, snapshots {}, pages snapshotted {} ({} input, +{} audited), \
             bytes verified {}, detections {}, ring deferrals {}, ring drops {}, \
             tamper checks {}, heap chunks checked {}{}, verifier time {:.3} ms{}",
            self.hooks,
            self.allocator_calls,
            self.snapshots,
            self.pages_snapshotted,
            self.pages_input,
            self.pages_audited,
            self.bytes_verified,
            self.detections,
            self.deferred,
            self.ring_drops,
            self.tamper_checks,
            self.heap_chunks,
            match self.heap_state {
                Some(at) => format!(" (allocator state at {at:#x})"),
                None => String::new(),
            },
            self.verifier_time.as_secs_f64() * 1e3,
            match self.free_checks_unconfirmed {
                0 => String::new(),
                n => format!(", free checks unconfirmed {n}"),
            } + &match self.interval {
                // From nanoseconds: `as_secs_f64() * 1e3` rounds twice
                // (0.035 ms printed as 0.034999999999999996).
                Some(d) => format!(", snapshot interval {} ms", d.as_nanos() as f64 / 1e6),
                None => String::new(),
            }
        )
    }
}
