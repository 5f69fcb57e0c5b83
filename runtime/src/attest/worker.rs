//! The snapshot ring and the verifier thread.
//!
//! Hooks fill [`Batch`]es (the pages of one hook) and queue them; the
//! verifier thread judges them in order and reports detections. A hook
//! that waits for a verdict (synchronous mode, the final flush) judges
//! what is queued itself instead of waking the verifier thread and
//! sleeping. The ring
//! is bounded in pages: a hook that finds no room either defers (its pages
//! stay dirty for a later hook) or blocks, as configured. Buffers are
//! recycled, so a steady run allocates no page memory.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use walmart_attest::{
    page_digest, AttestStats, Event, EventLog, HookKind, HookSite, OnDetect, PageKind,
    PageSnapshot, Policy, Verdict, Verifier, PAGE_SIZE,
};
use walmart_jit::vmctx::VMAttestState;

use super::image_pages::ImagePages;

/// Called with every event, on the thread that found it.
pub type EventCallback = Arc<dyn Fn(&Event) + Send + Sync>;

/// The pages one hook captured.
pub(crate) struct Batch {
    pub(crate) epoch: u64,
    /// [`VMAttestState::allocator_calls`] as the hook took the pages.
    pub(crate) allocator_calls: u64,
    pub(crate) site: HookSite,
    /// (memory, page, kind, shipped blocks, runs beyond) of each page, in
    /// `bytes` (or `direct`) order (`PageSnapshot::shipped`,
    /// `PageSnapshot::runs_beyond`).
    pub(crate) pages: Vec<(u32, u32, PageKind, u32, [u32; 2])>,
    pub(crate) bytes: Vec<u8>,
    /// Pages read in place instead of copied into `bytes`: only for a
    /// hook that waits for this batch's verdict before memory can change
    /// again (synchronous hooks and the final flush). Such a batch takes
    /// no room in the ring.
    pub(crate) direct: Vec<*const u8>,
    /// The digests of the first pages, where the hook computed them (see
    /// `PageSnapshot::digest`); the others' are computed when judged.
    pub(crate) digests: Vec<u128>,
    /// Pages taken from their module's image instead of from memory
    /// (`MemoryAttest::start_pristine`), judged before `pages` as
    /// `PageKind::Input`: (memory, page, digest, bytes in the image's
    /// view). They take no room in the ring.
    pub(crate) image_pages: Vec<(u32, u32, u128, *const u8)>,
    /// What keeps `image_pages`' bytes mapped.
    pub(crate) images: Vec<Arc<ImagePages>>,
    /// Taken when the guest had stopped (the final flush, the return of
    /// the outermost export call): the verifier may use every core.
    pub(crate) guest_stopped: bool,
}

// SAFETY: `direct` pointers are only read by the verifier while the hook
// that queued them waits for the verdict, with the memory mapped and
// unchanged (see `Batch::direct`); `image_pages` point into read-only
// views the batch's `images` keep mapped.
unsafe impl Send for Batch {}

/// Batches of ended sessions, for later ones. A fresh buffer faults on
/// each of its pages at its first snapshot: about 65 faults at the exit
/// of each of the CVE corpus's lz4 runs, a tenth of its `coarse` overhead
/// (`perf`), and the `munmap` of large buffers at the end cost a TLB
/// flush more.
static SPARE: Mutex<Vec<Batch>> = Mutex::new(Vec::new());

/// Most buffer capacity [`SPARE`] holds (four default rings).
const SPARE_BYTES: usize = 16 << 20;

impl Batch {
    /// A batch for `pages` copied pages (none for a direct batch): of
    /// `free`, else of [`SPARE`], the one whose buffer holds them with the
    /// least to spare, else the largest; else a new one. A buffer that
    /// must grow is a fresh allocation, with a fault at each page's first
    /// copy.
    fn fitting(free: &mut Vec<Batch>, pages: usize) -> Batch {
        let bytes = pages * PAGE_SIZE;
        let pick = |list: &mut Vec<Batch>| {
            let fits = list
                .iter()
                .enumerate()
                .filter(|(_, b)| b.bytes.capacity() >= bytes)
                .min_by_key(|(_, b)| b.bytes.capacity())
                .or_else(|| {
                    list.iter()
                        .enumerate()
                        .max_by_key(|(_, b)| b.bytes.capacity())
                })
                .map(|(i, _)| i)?;
            Some(list.swap_remove(fits))
        };
        pick(free)
            .or_else(|| pick(&mut lock(&SPARE)))
            .unwrap_or_else(Batch::new)
    }

    /// Empties the batch, keeping its buffers.
    fn clear(&mut self) {
        self.pages.clear();
        self.bytes.clear();
        self.direct.clear();
        self.digests.clear();
        self.image_pages.clear();
        self.images.clear();
    }

    fn new() -> Batch {
        Batch {
            epoch: 0,
            allocator_calls: 0,
            site: HookSite::new(HookKind::Finish),
            pages: Vec::new(),
            bytes: Vec::new(),
            direct: Vec::new(),
            digests: Vec::new(),
            image_pages: Vec::new(),
            images: Vec::new(),
            guest_stopped: false,
        }
    }
}

#[derive(Default)]
struct Queue {
    pending: VecDeque<Batch>,
    free: Vec<Batch>,
    pages_in_flight: usize,
    done_epoch: u64,
    shutdown: bool,
}

/// Where events go.
pub(crate) struct EventSink {
    pub(crate) log: Option<EventLog>,
    /// Where flagged pages' bytes go ([`crate::AttestOptions::evidence_dir`]).
    pub(crate) evidence: Option<Evidence>,
    pub(crate) callback: Option<EventCallback>,
    /// The first failure to write the log or to call the callback,
    /// reported at the end.
    pub(crate) failure: Option<String>,
}

/// The evidence a store keeps ([`crate::AttestOptions::evidence_dir`]).
pub(crate) struct Evidence {
    dir: std::path::PathBuf,
    /// The session's prefix of the file names (`PID.N`).
    session: String,
    /// Files written so far, by memory, page and digest: a page flagged
    /// again with the same bytes names the file it already has.
    kept: std::collections::HashMap<(u32, u32, u128), String>,
}

impl Evidence {
    /// Evidence kept in `dir` (which exists) by a new session. Epochs
    /// restart per session: names carry the session (`PID.N`, N counting
    /// the process's sessions), so two stores of a process never aim at
    /// one name, and a name an earlier process left gets a suffix
    /// ([`Evidence::keep`]).
    pub(crate) fn new(dir: std::path::PathBuf) -> Evidence {
        static SESSIONS: AtomicU64 = AtomicU64::new(0);
        let n = SESSIONS.fetch_add(1, Ordering::Relaxed);
        Evidence {
            dir,
            session: format!("{}.{n}", std::process::id()),
            kept: Default::default(),
        }
    }

    /// The file holding `bytes` of `page` of `memory`, written now unless
    /// the same bytes were kept before. Files are created, never replaced
    /// (nor followed, if a link of that name is there): a name taken gets
    /// a suffix.
    fn keep(
        &mut self,
        memory: u32,
        page: u32,
        digest: u128,
        bytes: &[u8],
        stem: &str,
    ) -> std::io::Result<String> {
        use std::io::Write;
        if let Some(path) = self.kept.get(&(memory, page, digest)) {
            return Ok(path.clone());
        }
        let mut k = 0;
        let (path, mut file) = loop {
            let name = match k {
                0 => format!("{}-{stem}.page", self.session),
                _ => format!("{}-{stem}.{k}.page", self.session),
            };
            let path = self.dir.join(name);
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(f) => break (path, f),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && k < 100 => k += 1,
                Err(e) => return Err(e),
            }
        };
        file.write_all(bytes)?;
        let path = path.display().to_string();
        self.kept.insert((memory, page, digest), path.clone());
        Ok(path)
    }
}

/// When the verifier asks hooks for snapshots.
pub(crate) struct Pacing {
    /// Arm hooks when the verifier is idle (asynchronous mode).
    pub(crate) arm_when_idle: bool,
    /// Least time between two armings.
    pub(crate) interval: Duration,
    /// Share of the guest's time snapshot copies may take.
    pub(crate) budget: f64,
}

/// State shared by the store's thread and the verifier thread.
pub(crate) struct Shared {
    /// What generated code reads through the vmctx `attest` slot.
    pub(crate) state: VMAttestState,
    pub(crate) policy: Policy,
    pub(crate) on_detect: OnDetect,
    /// A detection the guest has not yet been stopped for.
    pub(crate) detected: AtomicBool,
    /// The store is in its final flush: the guest has stopped, so every
    /// batch (those still in the ring too) is judged with
    /// `Verifier::verify_final`, which may use every core.
    pub(crate) finishing: AtomicBool,
    /// Arm hooks when the verifier is idle (asynchronous mode): function
    /// hooks, and boundary hooks around calls to walmart's WASI.
    arm_when_idle: bool,
    interval: Duration,
    /// Share of the guest's time snapshot copies may take.
    budget: f64,
    /// Least time between two armings, from the last snapshot's cost.
    paced_nanos: AtomicU64,
    capacity: usize,
    queue: Mutex<Queue>,
    work: Condvar,
    done: Condvar,
    /// The verifiers, held by whichever thread is judging: the verifier
    /// thread, or a hook waiting for a verdict (see [`Shared::wait_done`]).
    /// Batches are only taken from the queue under this lock, so they are
    /// judged in order.
    judges: Mutex<Judges>,
    sink: Mutex<EventSink>,
    pub(crate) counters: Counters,
}

/// The verifiers and their scratch.
struct Judges {
    verifiers: Vec<Box<dyn Verifier>>,
    /// Which verifiers panicked: their pages are flagged from then on
    /// (failing closed, as the CNN does when its back end fails).
    broken: Vec<bool>,
    verdicts: Vec<Verdict>,
}

/// The live counters behind [`AttestStats`], bumped by both threads.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) hooks: AtomicU64,
    pub(crate) snapshots: AtomicU64,
    pub(crate) pages_snapshotted: AtomicU64,
    pub(crate) pages_input: AtomicU64,
    pub(crate) pages_audited: AtomicU64,
    pub(crate) deferred: AtomicU64,
    pub(crate) tamper_checks: AtomicU64,
    pub(crate) heap_chunks: AtomicU64,
    pub(crate) free_checks_unconfirmed: AtomicU64,
    detections: AtomicU64,
    bytes_verified: AtomicU64,
    verifier_nanos: AtomicU64,
}

impl Counters {
    /// Adds `n` to a counter.
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The counters, with the snapshot interval in force beside them.
    fn read(&self, interval: Option<Duration>) -> AttestStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        AttestStats {
            hooks: get(&self.hooks),
            allocator_calls: 0,
            allocator_call_marked: None,
            snapshots: get(&self.snapshots),
            pages_snapshotted: get(&self.pages_snapshotted),
            pages_input: get(&self.pages_input),
            pages_audited: get(&self.pages_audited),
            bytes_verified: get(&self.bytes_verified),
            detections: get(&self.detections),
            deferred: get(&self.deferred),
            ring_drops: 0,
            tamper_checks: get(&self.tamper_checks),
            heap_chunks: get(&self.heap_chunks),
            // The session's to say.
            heap_walked: false,
            heap_state: None,
            free_checks_unconfirmed: get(&self.free_checks_unconfirmed),
            verifier_time: Duration::from_nanos(get(&self.verifier_nanos)),
            interval,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic on the other side must not hide events: take the data anyway.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub(crate) fn new(
        policy: Policy,
        on_detect: OnDetect,
        pacing: Pacing,
        capacity: usize,
        sink: EventSink,
        verifiers: Vec<Box<dyn Verifier>>,
    ) -> Shared {
        let Pacing {
            arm_when_idle,
            interval,
            budget,
        } = pacing;
        Shared {
            state: VMAttestState::default(),
            policy,
            on_detect,
            detected: AtomicBool::new(false),
            finishing: AtomicBool::new(false),
            arm_when_idle,
            interval,
            budget,
            paced_nanos: AtomicU64::new(0),
            capacity: capacity.max(1),
            queue: Mutex::default(),
            work: Condvar::new(),
            done: Condvar::new(),
            judges: Mutex::new(Judges {
                broken: vec![false; verifiers.len()],
                verifiers,
                verdicts: Vec::new(),
            }),
            sink: Mutex::new(sink),
            counters: Counters::default(),
        }
    }

    /// Records an event: log, callback, counters, and the stop request
    /// when the policy is to trap.
    pub(crate) fn report(&self, event: Event) {
        Counters::add(&self.counters.detections, 1);
        {
            let mut sink = lock(&self.sink);
            if let Some(log) = sink.log.as_mut() {
                if let Err(e) = log.write(&event) {
                    sink.failure
                        .get_or_insert(format!("cannot write the attestation log: {e}"));
                }
            }
            if let Some(cb) = sink.callback.clone() {
                drop(sink);
                // The embedder's code, called from a hook that may sit
                // between generated code frames: a panic must not unwind
                // through them. It is reported when the run ends.
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cb(&event))).is_err() {
                    lock(&self.sink)
                        .failure
                        .get_or_insert("the attestation event callback panicked".into());
                }
            }
        }
        self.detected.store(true, Ordering::Release);
        if self.on_detect == OnDetect::Trap {
            // The next function hook must reach the runtime to stop.
            self.state.armed.store(1, Ordering::Release);
        }
    }

    /// Room for up to `want` pages: how many were granted, with a buffer.
    /// Never grants more than the ring holds; `block` waits for room.
    pub(crate) fn reserve(&self, want: usize, block: bool) -> (usize, Option<Batch>) {
        let mut q = lock(&self.queue);
        loop {
            let room = self.capacity.saturating_sub(q.pages_in_flight);
            if room > 0 || !block {
                let granted = room.min(want);
                if granted == 0 {
                    return (0, None);
                }
                q.pages_in_flight += granted;
                let batch = Batch::fitting(&mut q.free, granted);
                return (granted, Some(batch));
            }
            q = self.done.wait(q).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// A buffer for a batch of pages read in place (`Batch::direct`),
    /// which needs no room in the ring.
    pub(crate) fn direct_batch(&self) -> Batch {
        Batch::fitting(&mut lock(&self.queue).free, 0)
    }

    /// Queues a filled batch. `granted` pages were reserved (none for a
    /// direct batch, which the hook judges itself next, see
    /// [`Shared::wait_done`]).
    ///
    /// The verifier thread is woken only for a batch it `asked` for (it
    /// armed the hook, and is waiting to judge while the guest runs on)
    /// or when the ring is half full. Otherwise it takes the batch when
    /// it next wakes by itself, within the arming interval: a wake-up per
    /// snapshot cost the guest's thread a system call and an interrupt to
    /// the other core, and the verifier running there a TLB shootdown at
    /// the next page-table scan. A run shorter than the interval (most of
    /// the CVE corpus's) leaves its batches to the final flush, judged on
    /// all cores.
    pub(crate) fn submit(&self, batch: Batch, granted: usize, asked: bool) {
        let mut q = lock(&self.queue);
        // Give back what the hook reserved but did not fill.
        if batch.direct.is_empty() {
            q.pages_in_flight -= granted - batch.pages.len();
        }
        let wake = batch.direct.is_empty() && (asked || 2 * q.pages_in_flight >= self.capacity);
        q.pending.push_back(batch);
        if wake {
            self.work.notify_one();
        }
    }

    /// A snapshot took `copying`: hooks wait in proportion before the
    /// verifier arms them again (see `AttestOptions::snapshot_budget`).
    pub(crate) fn pace(&self, copying: Duration) {
        let gap = copying.as_nanos() as f64 / self.budget;
        self.paced_nanos.store(gap as u64, Ordering::Relaxed);
    }

    /// Returns once every batch up to `epoch` is judged. The caller judges
    /// what is queued itself: its thread would only wait, and handing the
    /// batch to the verifier thread cost two wake-ups across cores (tens
    /// of microseconds on a virtual machine, more than judging the last
    /// pages of a short run). If the verifier thread is judging, the
    /// caller waits for it and then takes what it left.
    pub(crate) fn wait_done(&self, epoch: u64) {
        loop {
            if self.judged(epoch) {
                return;
            }
            self.judge_pending();
        }
    }

    fn judged(&self, epoch: u64) -> bool {
        let q = lock(&self.queue);
        q.done_epoch >= epoch || q.shutdown
    }

    /// Judges queued batches, in order, until none is left.
    fn judge_pending(&self) {
        let mut judges = lock(&self.judges);
        loop {
            // (Not in a `while let`: the queue's lock would be held while
            // judging, and judging ends by taking it.)
            let next = lock(&self.queue).pending.pop_front();
            let Some(batch) = next else { return };
            self.judge(&mut judges, batch);
        }
    }

    /// Every verifier's verdicts on `batch`, and their events.
    fn judge(&self, judges: &mut Judges, batch: Batch) {
        // An image's pages first: an audit of one of them in the same
        // batch then checks memory against the image's digest.
        let snaps: Vec<PageSnapshot<'_>> = batch
            .image_pages
            .iter()
            .map(|&(memory, page, digest, bytes)| PageSnapshot {
                memory,
                page,
                epoch: batch.epoch,
                kind: PageKind::Input,
                // SAFETY: a page of an image view `batch.images` keeps
                // mapped (and nothing writes).
                bytes: unsafe { std::slice::from_raw_parts(bytes, PAGE_SIZE) },
                digest,
                shipped: 0,
                runs_beyond: [0, 0],
            })
            .chain(batch.pages.iter().enumerate().map(
                |(i, &(memory, page, kind, shipped, runs_beyond))| {
                    let bytes = match batch.direct.get(i) {
                        // SAFETY: the hook that queued a direct batch keeps
                        // the page mapped and unchanged until this batch is
                        // done.
                        Some(&page) => unsafe { std::slice::from_raw_parts(page, PAGE_SIZE) },
                        None => &batch.bytes[i * PAGE_SIZE..(i + 1) * PAGE_SIZE],
                    };
                    PageSnapshot {
                        memory,
                        page,
                        epoch: batch.epoch,
                        kind,
                        bytes,
                        digest: match batch.digests.get(i) {
                            Some(&d) => d,
                            None => page_digest(bytes),
                        },
                        shipped,
                        runs_beyond,
                    }
                },
            ))
            .collect();
        let Judges {
            verifiers,
            broken,
            verdicts,
        } = judges;
        let last = batch.guest_stopped || self.finishing.load(Ordering::Acquire);
        for (verifier, broken) in verifiers.iter_mut().zip(broken.iter_mut()) {
            let t = Instant::now();
            verdicts.clear();
            // A verifier may run on the guest's thread, inside a hook
            // between generated code frames: a panic must not unwind
            // through them, and must not leave its batch unfinished (the
            // store would wait for it forever).
            if !*broken {
                let judged = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    if last {
                        verifier.verify_final(&snaps, verdicts);
                    } else {
                        verifier.verify(&snaps, verdicts);
                    }
                }));
                if judged.is_err() {
                    eprintln!(
                        "walmart: the {} verifier panicked; its pages are flagged from now on",
                        verifier.name()
                    );
                    *broken = true;
                }
            }
            if *broken {
                verdicts.clear();
                verdicts.resize(
                    snaps.len(),
                    Verdict {
                        score: 1.0,
                        flagged: true,
                    },
                );
            }
            let c = &self.counters;
            Counters::add(&c.verifier_nanos, t.elapsed().as_nanos() as u64);
            report_flagged(self, &batch, verifier.as_ref(), *broken, &snaps, verdicts);
        }
        Counters::add(
            &self.counters.bytes_verified,
            (snaps.len() * PAGE_SIZE) as u64,
        );
        drop(snaps);
        self.finish_batch(batch);
    }

    pub(crate) fn shutdown(&self) {
        lock(&self.queue).shutdown = true;
        self.work.notify_all();
        self.done.notify_all();
    }

    /// The counters so far.
    pub(crate) fn stats(&self) -> AttestStats {
        let state = self.state.heap_state.load(Ordering::Relaxed);
        AttestStats {
            heap_state: (state > walmart_jit::vmctx::HEAP_STATE_NONE).then_some(state),
            allocator_calls: self.state.allocator_calls.load(Ordering::Relaxed),
            ..self
                .counters
                .read(self.arm_when_idle.then_some(self.interval))
        }
    }

    /// The first event-log write or callback failure, if any.
    pub(crate) fn failure(&self) -> Option<String> {
        lock(&self.sink).failure.clone()
    }

    /// Waits until a batch is queued (true) or the session ends (false),
    /// arming hooks while idle.
    fn await_work(&self, last_arm: &mut Instant) -> bool {
        let mut q = lock(&self.queue);
        loop {
            if !q.pending.is_empty() {
                return true;
            }
            if q.shutdown {
                return false;
            }
            let wait = if self.arm_when_idle {
                // Idle: ask the next function hook for a snapshot, at most
                // once per interval so hooks never call out more often.
                let gap = self.interval.max(Duration::from_nanos(
                    self.paced_nanos.load(Ordering::Relaxed),
                ));
                let since = last_arm.elapsed();
                if since >= gap {
                    self.state.armed.store(1, Ordering::Release);
                    *last_arm = Instant::now();
                    gap
                } else {
                    gap - since
                }
            } else {
                Duration::from_millis(50)
            };
            q = self
                .work
                .wait_timeout(q, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn finish_batch(&self, mut batch: Batch) {
        let mut q = lock(&self.queue);
        if batch.direct.is_empty() {
            q.pages_in_flight -= batch.pages.len();
        }
        q.done_epoch = q.done_epoch.max(batch.epoch);
        batch.clear();
        q.free.push(batch);
        self.done.notify_all();
    }
}

impl Drop for Shared {
    /// Hands the session's batches to [`SPARE`], as far as it has room.
    fn drop(&mut self) {
        let q = self.queue.get_mut().unwrap_or_else(|e| e.into_inner());
        let mut spare = lock(&SPARE);
        let mut held: usize = spare.iter().map(|b| b.bytes.capacity()).sum();
        for mut batch in q.free.drain(..).chain(q.pending.drain(..)) {
            if held + batch.bytes.capacity() > SPARE_BYTES {
                continue;
            }
            held += batch.bytes.capacity();
            batch.clear();
            spare.push(batch);
        }
    }
}

/// The verifier thread: judges batches as they are queued, until the
/// session ends.
pub(crate) fn run(shared: Arc<Shared>) {
    let mut last_arm = Instant::now();
    while shared.await_work(&mut last_arm) {
        shared.judge_pending();
    }
}

/// One event per memory with pages `verifier` flagged in this batch,
/// with their evidence when the store keeps it (none for a `broken`
/// verifier, whose verdicts judged nothing).
fn report_flagged(
    shared: &Shared,
    batch: &Batch,
    verifier: &dyn Verifier,
    broken: bool,
    snaps: &[PageSnapshot<'_>],
    verdicts: &[Verdict],
) {
    let mut flagged: Vec<(&PageSnapshot<'_>, f32)> = snaps
        .iter()
        .zip(verdicts)
        .filter(|(_, v)| v.flagged)
        .map(|(p, v)| (p, v.score))
        .collect();
    if flagged.is_empty() {
        return;
    }
    flagged.sort_by_key(|(p, _)| (p.memory, p.page));
    // A page audited in the batch that also took it dirty is judged twice.
    flagged.dedup_by_key(|(p, _)| (p.memory, p.page));
    // File names carry the verifier's name: only characters safe in one.
    let source: String = verifier
        .name()
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' => c,
            _ => '_',
        })
        .collect();
    for mine in flagged.chunk_by(|a, b| a.0.memory == b.0.memory) {
        let memory = mine[0].0.memory;
        let mut evidence = Vec::new();
        if !broken {
            let mut sink = lock(&shared.sink);
            let EventSink {
                evidence: kept,
                failure,
                ..
            } = &mut *sink;
            if let Some(kept) = kept {
                for (p, _) in mine {
                    let stem = format!("{}-m{memory}-p{}-{source}", batch.epoch, p.page);
                    // The page as the verifier judged it.
                    let bytes = verifier.judged(p);
                    evidence.push(
                        kept.keep(memory, p.page, p.digest, &bytes, &stem)
                            .unwrap_or_else(|e| {
                                failure.get_or_insert(format!(
                                    "cannot write the evidence of page {} in {}: {e}",
                                    p.page,
                                    kept.dir.display()
                                ));
                                String::new()
                            }),
                    );
                }
            }
        }
        shared.report(Event {
            time: Event::now(),
            policy: shared.policy,
            kind: verifier.event_kind(),
            hook: batch.site.clone(),
            epoch: batch.epoch,
            allocator_calls: batch.allocator_calls,
            memory,
            pages: mine.iter().map(|(p, _)| p.page).collect(),
            scores: mine.iter().map(|&(_, s)| s).collect(),
            source: verifier.name().to_string(),
            detail: format!(
                "{} page(s) of memory {memory} flagged by the {} verifier",
                mine.len(),
                verifier.name()
            ),
            tag: None,
            evidence,
        });
    }
}
