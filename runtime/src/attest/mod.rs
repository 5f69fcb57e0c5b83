//! The attestation driver: the runtime side of `--attest`.
//!
//! * `dirty`: the per-memory dirty-page bitmap the store barrier writes;
//! * `kernel_dirty`: written-page tracking by the kernel (`coarse`);
//! * `image_pages`: a module image's pages, digested once for every
//!   attested instance;
//! * `tamper`: write protection of memory while the host runs;
//! * `worker`: the bounded snapshot ring and the verifier thread;
//! * `threads`: the threads verifiers run on, parked between sessions;
//! * `session`: one store's attestation: hooks, snapshots, transitions;
//! * [`wasm_verifier`]: the CNN run as WebAssembly (the `wasm` back end);
//! * [`prepared`]: a CNN ready for its back end, a verifier per run.
//!
//! The policy is an [`crate::Config`] setting (it changes generated code);
//! what happens to snapshots and events is a per-store [`AttestOptions`].

pub mod collect;
pub(crate) mod dirty;
pub(crate) mod emmalloc_walk;
pub mod heap;
pub(crate) mod heap_walk;
pub(crate) mod image_pages;
pub(crate) mod kernel_dirty;
pub mod prepared;
pub(crate) mod session;
pub(crate) mod stack_guard;
pub mod tags;
pub(crate) mod tamper;
pub(crate) mod threads;
pub(crate) mod tree_take;
pub mod wasm_verifier;
pub(crate) mod worker;

use std::path::PathBuf;
use std::time::Duration;

pub use prepared::PreparedCnn;
pub use walmart_attest::{dataset, metrics, model, train};
pub use walmart_attest::{
    page_digest, AttestStats, Backpressure, DigestVerifier, Event, EventKind, HookKind, HookSite,
    OnDetect, PageKind, PageSnapshot, Policy, TagAccess, TagAllocation, TagColours, TagMode,
    TagReport, Verdict, Verifier, ViolationKind, PAGE_SIZE,
};
pub use worker::EventCallback;

/// The shadow stack pointer of instance `inst` of `store`: wasi-libc keeps
/// it in the first global, a mutable i32 (`__stack_pointer`).
pub(crate) fn shadow_stack_pointer(
    store: &crate::store::StoreOpaque,
    inst: &crate::instance::InstanceData,
) -> Option<u32> {
    let g = &store.globals[inst.globals.first()?.index as usize];
    (g.ty.content() == crate::ValType::I32 && g.ty.mutability() == crate::types::Mutability::Var)
        .then(|| u32::from_le_bytes(g.cell.bytes[..4].try_into().expect("4 bytes")))
}

/// How a store attests: the verifiers, what a detection does, where events go.
pub struct AttestOptions {
    /// Each judges every batch and reports its own events, in this order.
    pub(crate) verifiers: Vec<Box<dyn Verifier>>,
    pub(crate) on_detect: OnDetect,
    pub(crate) backpressure: Backpressure,
    pub(crate) log: Option<PathBuf>,
    pub(crate) evidence: Option<PathBuf>,
    pub(crate) on_event: Option<EventCallback>,
    pub(crate) ring_pages: usize,
    /// `None`: the policy's own ([`AttestOptions::default_interval`]).
    pub(crate) interval: Option<Duration>,
    pub(crate) snapshot_budget: f64,
    pub(crate) audit_pages: usize,
    pub(crate) inject: Option<session::HostTamperInjector>,
    pub(crate) collector: Option<std::sync::Arc<std::sync::Mutex<collect::Collector>>>,
    pub(crate) tag_trace: Option<tags::TraceOptions>,
    /// `None`: a random key per store (`VMAttestState::heap_slack_key`).
    pub(crate) slack_key: Option<u8>,
    /// [`AttestOptions::mark_allocator_call`]; 0: none.
    pub(crate) allocator_call_mark: u64,
    /// [`AttestOptions::score_input_runs`].
    pub(crate) score_input_runs: bool,
}

impl Default for AttestOptions {
    fn default() -> AttestOptions {
        AttestOptions {
            verifiers: vec![Box::new(DigestVerifier::new())],
            on_detect: OnDetect::Log,
            backpressure: Backpressure::Defer,
            log: None,
            evidence: None,
            on_event: None,
            ring_pages: 1024,
            interval: None,
            snapshot_budget: 0.05,
            audit_pages: 4,
            inject: None,
            collector: None,
            tag_trace: None,
            slack_key: None,
            allocator_call_mark: 0,
            score_input_runs: false,
        }
    }
}

impl AttestOptions {
    /// The exact digest verifier, events logged, back-pressure `defer`, a
    /// 1024-page (4 MiB) ring, hooks armed at the policy's interval
    /// ([`AttestOptions::default_interval`]).
    pub fn new() -> AttestOptions {
        AttestOptions::default()
    }

    /// The only verifier that judges snapshots, in place of the digest
    /// verifier (and any added with [`AttestOptions::also_verify`]). Audited
    /// pages then get only this verifier's judgement: a CNN, which skips
    /// them, belongs in `also_verify`.
    pub fn verifier(mut self, v: impl Verifier + 'static) -> AttestOptions {
        self.verifiers = vec![Box::new(v)];
        self
    }

    /// Another verifier beside those set so far: each is shown every
    /// snapshot and reports its detections as its own events (the CNN
    /// beside the exact digest checks, say).
    pub fn also_verify(mut self, v: impl Verifier + 'static) -> AttestOptions {
        self.verifiers.push(Box::new(v));
        self
    }

    /// What a detection does to the guest.
    pub fn on_detect(mut self, action: OnDetect) -> AttestOptions {
        self.on_detect = action;
        self
    }

    /// What a hook does when the ring is full.
    pub fn backpressure(mut self, b: Backpressure) -> AttestOptions {
        self.backpressure = b;
        self
    }

    /// Writes events as JSON lines to `path`.
    pub fn log_file(mut self, path: impl Into<PathBuf>) -> AttestOptions {
        self.log = Some(path.into());
        self
    }

    /// Keeps the evidence of page verdicts: each page a verifier flags
    /// (the CNN's or the digest checks') is written, 4096 bytes as they
    /// were judged, to `dir/S-E-mM-pP-SOURCE.page` (S the session,
    /// `PID.N`, N counting the process's attested stores; E the snapshot
    /// epoch, M the memory, P the page), and its event names the files
    /// ([`Event::evidence`]). Files are created, never replaced: a name
    /// an earlier run left gets a suffix (`.1.page`). A page flagged
    /// again with the same bytes names the file it has. The folder is
    /// created if missing; a file that cannot be written is reported when
    /// the run ends, as a log failure is. Rescore them with `walmart
    /// attest score`.
    pub fn evidence_dir(mut self, dir: impl Into<PathBuf>) -> AttestOptions {
        self.evidence = Some(dir.into());
        self
    }

    /// Whether the CNN verifiers score the runs of one byte that the
    /// host's input held as they score the rest of what the module wrote.
    /// By default they pass over them ([`walmart_attest::InputRuns`]): a
    /// flag on such a run says what the input holds, not that memory was
    /// corrupted, and benign inputs hold them (a name of one letter,
    /// base64 of zeros, padding). The price is that a run of a byte is
    /// passed over wherever it came from when the input held one as long
    /// (docs/DESIGN.md); `true` gives that up for the CNN's false
    /// positives on such inputs.
    pub fn score_input_runs(mut self, score: bool) -> AttestOptions {
        self.score_input_runs = score;
        self
    }

    /// Calls `f` with every event (on the thread that found it).
    pub fn on_event(mut self, f: impl Fn(&Event) + Send + Sync + 'static) -> AttestOptions {
        self.on_event = Some(std::sync::Arc::new(f));
        self
    }

    /// Capacity of the snapshot ring, in 4 KiB pages.
    pub fn ring_pages(mut self, pages: usize) -> AttestOptions {
        self.ring_pages = pages.max(1);
        self
    }

    /// Asynchronous mode: the shortest time between two armings of the
    /// hooks that snapshot at the verifier's pace: function hooks (`fine`)
    /// and boundary hooks around calls to walmart's own WASI (other
    /// boundary hooks always snapshot). Default: the policy's
    /// ([`AttestOptions::default_interval`]).
    pub fn interval(mut self, d: Duration) -> AttestOptions {
        self.interval = Some(d);
        self
    }

    /// The interval a policy arms at unless [`AttestOptions::interval`]
    /// says otherwise: 1 ms under `fine`, whose point is to judge memory
    /// close to where it was written, and 5 ms under `coarse`, whose point
    /// is a cost near zero. A snapshot in the middle of a run of a few
    /// milliseconds judges pages the run writes again before it ends, so
    /// they are scored twice: on the CVE corpus, `coarse` with the CNN
    /// cost c-ares 1.03-1.04x at 1 ms and 1.01-1.02x at 5 ms, zlib
    /// 1.25-1.26x and 1.18x, with expat, jq and Oniguruma within noise
    /// (`benches/RESULTS.md`). The price: a corruption between boundaries
    /// waits up to the interval for its snapshot, and for its verdict as
    /// long again (batches the verifier did not ask for wait for its next
    /// wake-up); a page version that lives less than the interval may go
    /// unjudged (the write-protection and digest checks are not paced).
    pub fn default_interval(policy: Policy) -> Duration {
        match policy {
            Policy::Coarse => Duration::from_millis(5),
            _ => Duration::from_millis(1),
        }
    }

    /// Asynchronous `fine`: the share of the guest's time that copying
    /// pages for function-hook snapshots may take (default 0.05). After a
    /// snapshot that took `t` to copy, hooks are armed again no sooner
    /// than `t / budget` later (and never sooner than the interval), so a
    /// guest that rewrites many pages is snapshotted less often instead of
    /// slowed down. Boundary hooks do not wait for it.
    pub fn snapshot_budget(mut self, fraction: f64) -> AttestOptions {
        self.snapshot_budget = if fraction > 0.0 {
            fraction.min(1.0)
        } else {
            1.0
        };
        self
    }

    /// Simulates a malicious host, to test detection end to end: at each
    /// call into a host function, with probability `rate`, 16 random bytes
    /// are written at a random place of a random attested memory through a
    /// raw pointer (not walmart's API), as a tampering host would.
    pub fn inject_host_tamper(mut self, rate: f64, seed: u64) -> AttestOptions {
        self.inject = Some(session::HostTamperInjector::new(rate, seed));
        self
    }

    /// Records labelled pages at every hook for training (`walmart attest
    /// collect`); see [`collect::Collector`].
    pub fn collector(
        mut self,
        c: std::sync::Arc<std::sync::Mutex<collect::Collector>>,
    ) -> AttestOptions {
        self.collector = Some(c);
        self
    }

    /// The tag monitor writes its trace of allocations and frees (and of
    /// reads and writes, with [`tags::TagConfig::trace_accesses`]) to a
    /// file (format in `docs/DESIGN.md`, "Tag trace").
    pub fn tag_trace(mut self, t: tags::TraceOptions) -> AttestOptions {
        self.tag_trace = Some(t);
        self
    }

    /// Clean pages re-read per snapshot to audit their digests (0: none).
    pub fn audit_pages(mut self, n: usize) -> AttestOptions {
        self.audit_pages = n;
        self
    }

    /// Fixes the key of the slack marks (1 to 254; others are taken
    /// to the nearest) instead of a random one per store, so that a test
    /// can name the marks' bytes, and a collection (`walmart attest
    /// collect`, keys drawn from its seed) writes the same pages each
    /// time. A key known in advance lets a program write the very byte a
    /// mark holds: not for real runs.
    #[doc(hidden)]
    pub fn slack_key(mut self, key: u8) -> AttestOptions {
        self.slack_key = Some(key.clamp(1, 254));
        self
    }

    /// Records when the module enters its `n`th counted allocator call
    /// ([`AttestStats::allocator_calls`], counted from 1;
    /// [`AttestStats::allocator_call_marked`]): with the count at which
    /// another run of the same program and input saw a corruption, the
    /// time from that point to this run's detection. Refused under the
    /// tag monitor (`tags`, or alongside another policy), whose wrappers
    /// count the calls ([`crate::Store::configure_attestation`]). 0 marks
    /// none.
    pub fn mark_allocator_call(mut self, n: u64) -> AttestOptions {
        self.allocator_call_mark = n;
        self
    }
}
