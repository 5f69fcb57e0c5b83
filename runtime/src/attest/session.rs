//! One store's attestation: hooks, snapshots and the host/module
//! transitions where memory is write-protected and checked.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use walmart_attest::{
    page_digest, AttestStats, Backpressure, Event, EventKind, EventLog, HookKind, HookSite,
    InputRuns, OnDetect, PageKind, Policy, RunsSeen, PAGE_SIZE,
};
use walmart_jit::vmctx::VMAttestState;
use walmart_jit::TrapKind;

use super::dirty::DirtyBitmap;
use super::image_pages::{ImageHeap, ImagePages};
use super::kernel_dirty;
use super::tamper::TamperGuard;
use super::threads;
use super::worker::{self, Counters, EventSink, Pacing, Shared};
use super::AttestOptions;
use crate::error::{Error, Result, Trap};
use crate::store::StoreOpaque;

/// Who finds the pages generated code writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DirtySource {
    /// The store barrier compiled after every store.
    Barrier,
    /// The kernel ([`kernel_dirty`]); hooks collect its findings.
    Kernel,
}

/// What a store's session gives each memory it attests.
pub(crate) struct MemorySource {
    pub(crate) dirty: DirtySource,
    /// The session's record of the input's runs ([`MemoryAttest::supplied`]),
    /// where something follows them.
    pub(crate) input_runs: Option<Arc<InputRuns>>,
}

/// The attestation parts of one memory.
pub(crate) struct MemoryAttest {
    pub(crate) bitmap: DirtyBitmap,
    pub(crate) guard: TamperGuard,
    pub(crate) source: DirtySource,
    /// Pages walmart's API (WASI's reads, `Memory::write`) filled whole
    /// with the host's input since their last snapshot, and pages the data
    /// segments wrote at instantiation ([`Self::initialized`]), with the
    /// digest of those bytes: the snapshot that finds a page still holding
    /// them takes it as [`PageKind::Input`].
    inputs: RefCell<HashMap<u32, u128>>,
    /// The [`walmart_attest::block_digest`]s of the blocks of each page the
    /// data segments wrote at instantiation, as they left them: a later
    /// snapshot of such a page tells the CNN which blocks still hold the
    /// module file's bytes
    /// ([`PageSnapshot::shipped`](walmart_attest::PageSnapshot)).
    shipped: RefCell<HashMap<u32, Box<[u64]>>>,
    /// Runs of one byte in what the host handed the store, shared with
    /// the session's verifiers (where one follows them).
    input_runs: Option<Arc<InputRuns>>,
    /// The pages instantiation mapped from the module's image, where it
    /// did ([`Self::start_pristine`]).
    pristine: RefCell<Option<Pristine>>,
}

/// Pages of an image a snapshot takes: the image, and each page with its
/// digest.
type TakenPristine = (Arc<ImagePages>, Vec<(u32, u128)>);

/// The pages a memory's image gave it, and which of them no snapshot has
/// taken yet: the next one takes those as [`PageKind::Input`] from the
/// image's view if nothing wrote them since (no dirty bit), as the
/// segments' pages are taken ([`MemoryAttest::initialized`]).
struct Pristine {
    image: Arc<ImagePages>,
    /// One bit per page of `image.pages()`: not taken yet.
    pending: Vec<u64>,
    left: usize,
    /// One bit per page of `image.pages()`: a snapshot took it dirty
    /// since (its bytes may differ from the image's).
    written: Vec<u64>,
}

impl Pristine {
    /// Takes `page`'s pending bit: its digest in the image, if it was
    /// pending.
    fn take(&mut self, page: u32) -> Option<u128> {
        let i = self.image.position(page)?;
        let (word, bit) = (i / 64, 1u64 << (i % 64));
        if self.pending[word] & bit == 0 {
            return None;
        }
        self.pending[word] &= !bit;
        self.left -= 1;
        Some(self.image.digest(i))
    }
}

impl MemoryAttest {
    /// For a memory at `base` of `len` bytes inside a reservation of
    /// `reserved` bytes, with its dirty `bitmap`.
    pub(crate) fn new(
        bitmap: DirtyBitmap,
        base: *mut u8,
        len: usize,
        reserved: usize,
        MemorySource {
            dirty: source,
            input_runs,
        }: MemorySource,
    ) -> Result<MemoryAttest> {
        let a = MemoryAttest {
            bitmap,
            guard: TamperGuard::register(base, len)?,
            source,
            inputs: RefCell::default(),
            shipped: RefCell::default(),
            input_runs,
            pristine: RefCell::default(),
        };
        if source == DirtySource::Kernel {
            kernel_dirty::register(base as usize, reserved).map_err(tracking_error)?;
        }
        Ok(a)
    }

    /// Kernel tracking: the memory moved to a reservation of `reserved`
    /// bytes at `base` (its first `len` bytes accessible), which the
    /// kernel no longer tracks. Call [`Self::collect_written`] before the
    /// move; this registers the new place and write-protects its pages,
    /// whose writes are already in the bitmap.
    pub(crate) fn moved(&self, base: *mut u8, reserved: usize, len: usize) -> Result<()> {
        if self.source != DirtySource::Kernel {
            return Ok(());
        }
        kernel_dirty::register(base as usize, reserved).map_err(tracking_error)?;
        kernel_dirty::collect(base as usize, len, true, |_| {}).map_err(tracking_error)
    }

    /// Kernel tracking: a file's pages were mapped privately at `[at, at +
    /// len)` of the memory (its copy-on-write image), replacing tracked
    /// pages; this tracks them, none written yet (the caller marks what
    /// instantiation wrote, as for copied segments).
    pub(crate) fn mapped(&self, at: *mut u8, len: usize) -> Result<()> {
        if self.source != DirtySource::Kernel {
            return Ok(());
        }
        kernel_dirty::track_mapping(at as usize, len).map_err(tracking_error)
    }

    /// Kernel tracking: moves the pages written since the last call with
    /// `protect` (of the first `len` bytes at `base`) into the bitmap;
    /// with `protect`, their next writes count again from now (see
    /// [`kernel_dirty::collect`]).
    pub(crate) fn collect_written(&self, base: *mut u8, len: usize, protect: bool) {
        if self.source != DirtySource::Kernel {
            return;
        }
        let found = kernel_dirty::collect(base as usize, len, protect, |p| {
            self.bitmap.mark(p * PAGE_SIZE, 1)
        });
        if found.is_err() {
            // Never lose a write: without the kernel's answer every page
            // may have changed.
            self.bitmap.mark(0, len);
        }
    }

    /// Walmart's own API wrote the host's input (a read, random bytes)
    /// into `memory[start..start + len]`, which it marked dirty: the pages
    /// it covers whole are remembered with their digests, for the next
    /// snapshot to tell input from what the module wrote.
    ///
    /// Only whole pages: the rest of a partly covered page may hold bytes
    /// the module wrote since the last snapshot, which must be judged.
    /// The bytes' runs of one value are recorded for the CNN
    /// ([`InputRuns`]), going on with the runs `stream`'s last bytes
    /// ended in where they are read in order from one.
    pub(crate) fn supplied(&self, memory: &[u8], start: usize, len: usize, stream: Option<u64>) {
        let end = start.saturating_add(len).min(memory.len());
        if let (Some(runs), Some(bytes)) = (&self.input_runs, memory.get(start..end)) {
            match stream {
                Some(stream) => runs.note_stream(stream, bytes),
                None => runs.note(bytes),
            }
        }
        for page in start.div_ceil(PAGE_SIZE)..end / PAGE_SIZE {
            if let Some(bytes) = memory.get(page * PAGE_SIZE..(page + 1) * PAGE_SIZE) {
                self.remember_input(page, bytes);
            }
        }
    }

    /// Remembers that `page` holds `bytes` from outside the module, for
    /// its next snapshot ([`Self::inputs`]).
    fn remember_input(&self, page: usize, bytes: &[u8]) {
        self.inputs
            .borrow_mut()
            .insert(page as u32, page_digest(bytes));
    }

    /// Instantiation wrote active data segments into `page` of a memory it
    /// also created (whole or in part: the rest of a fresh memory is
    /// zeros or other segments), so the page holds only what the module
    /// file says, and no code of the module has run yet: none of it can
    /// be corruption. It is remembered with its digest, as the host's
    /// input is ([`Self::supplied`]), for the first snapshot
    /// to take it as [`PageKind::Input`] if nothing wrote it since (a
    /// start function or the embedder that did makes it a dirty page
    /// again). Called once every segment is applied. Its blocks' digests
    /// are kept for every later snapshot ([`Self::shipped_blocks`]).
    pub(crate) fn initialized(&self, memory: &[u8], page: usize) {
        if let Some(bytes) = memory.get(page * PAGE_SIZE..(page + 1) * PAGE_SIZE) {
            self.remember_input(page, bytes);
            let blocks = walmart_attest::shipped_digests(bytes);
            self.shipped.borrow_mut().insert(page as u32, blocks);
        }
    }

    /// Instantiation mapped the module's `image` into this memory, which
    /// it created: its segments' pages hold the module file's bytes, as
    /// for [`Self::initialized`], with the digests computed once per
    /// module. Nothing marks them dirty: the next snapshot takes each
    /// page nothing wrote since from `image` (neither read nor copied
    /// from this memory, nor digested), and judges the others as
    /// `initialized` pages are. Not while a dataset collector follows the
    /// hooks (it is handed the dirty pages).
    pub(crate) fn start_pristine(&self, image: Arc<ImagePages>) {
        let n = image.pages().len();
        let mut pending = vec![u64::MAX; n.div_ceil(64)];
        if !n.is_multiple_of(64) {
            if let Some(last) = pending.last_mut() {
                *last = (1u64 << (n % 64)) - 1;
            }
        }
        *self.pristine.borrow_mut() = Some(Pristine {
            image,
            written: vec![0; pending.len()],
            pending,
            left: n,
        });
    }

    /// Whether the memory started from its module's image
    /// ([`Self::start_pristine`]).
    pub(crate) fn started_from_image(&self) -> bool {
        self.pristine.borrow().is_some()
    }

    /// A snapshot took `page` dirty and clears its dirty bit: where it is
    /// a page of the image, it may no longer hold the image's bytes.
    fn note_taken_dirty(&self, page: u32) {
        if let Some(p) = self.pristine.borrow_mut().as_mut() {
            if let Some(i) = p.image.position(page) {
                p.written[i / 64] |= 1 << (i % 64);
            }
        }
    }

    /// The dlmalloc heap the module image this memory started with holds
    /// ([`Self::start_pristine`], `heap_walk::image_heap`), found once per
    /// module from the second ask whose `state` says where dlmalloc's
    /// state is ([`ImagePages::heap`]), else as found before.
    pub(crate) fn image_heap(&self, state: Option<u32>) -> Option<Arc<ImageHeap>> {
        self.pristine.borrow().as_ref()?.image.heap(state)
    }

    /// One bit per 4 KiB page of memory for the pages that still hold the
    /// bytes of the module image this memory (at `base`, `len` bytes
    /// accessible) started with ([`Self::start_pristine`], kernel
    /// tracking): nothing wrote them since (no snapshot took them dirty,
    /// no dirty bit, and the kernel saw no write since the last hook).
    pub(crate) fn unchanged_image_pages(&self, base: *mut u8, len: usize) -> Option<Vec<u64>> {
        let pristine = self.pristine.borrow();
        let p = pristine.as_ref()?;
        let pages = p.image.pages();
        let mut bits = vec![0u64; pages.last().map_or(0, |&l| l as usize / 64 + 1)];
        for (i, &page) in pages.iter().enumerate() {
            if p.written[i / 64] & (1 << (i % 64)) == 0 && !self.bitmap.is_dirty(page as usize) {
                bits[page as usize / 64] |= 1 << (page % 64);
            }
        }
        // The kernel's findings since the last hook, looked at and left
        // where they are: in the bitmap they would make the next hook
        // digest the pages it carries, which it need not (`sealed`).
        let mut clear = |page: usize| {
            if let Some(w) = bits.get_mut(page / 64) {
                *w &= !(1 << (page % 64));
            }
        };
        match self.source {
            DirtySource::Kernel => {
                kernel_dirty::collect(base as usize, len, false, &mut clear).ok()?
            }
            DirtySource::Barrier => return None,
        }
        Some(bits)
    }

    /// Whether pages of the image are left for a snapshot to take
    /// ([`Self::start_pristine`]).
    fn pristine_left(&self) -> bool {
        self.pristine.borrow().as_ref().is_some_and(|p| p.left > 0)
    }

    /// Takes the image's pages left that nothing wrote since (no dirty
    /// bit): the image, and each page with its digest (the bytes are the
    /// image's, [`ImagePages::bytes`]).
    fn take_pristine(&self) -> Option<TakenPristine> {
        let mut pristine = self.pristine.borrow_mut();
        let p = pristine.as_mut().filter(|p| p.left > 0)?;
        let mut taken = Vec::new();
        for (word, bits) in p.pending.iter_mut().enumerate() {
            let mut left = *bits;
            while left != 0 {
                let i = word * 64 + left.trailing_zeros() as usize;
                left &= left - 1;
                let page = p.image.pages()[i];
                if !self.bitmap.is_dirty(page as usize) {
                    taken.push((page, p.image.digest(i)));
                    *bits &= !(1u64 << (i % 64));
                }
            }
        }
        p.left -= taken.len();
        Some((p.image.clone(), taken))
    }

    /// The blocks of `bytes`, page `page`'s contents, that still hold what
    /// instantiation's data segments wrote there, one bit each (see
    /// `PageSnapshot::shipped`); 0 for a page they did not write.
    fn shipped_blocks(&self, page: u32, bytes: &[u8]) -> u32 {
        if let Some(image) = self.shipped.borrow().get(&page) {
            return walmart_attest::shipped_mask(image, bytes);
        }
        self.pristine
            .borrow()
            .as_ref()
            .and_then(|p| p.image.shipped(page))
            .map_or(0, |image| walmart_attest::shipped_mask(image, bytes))
    }

    /// The digests of the blocks instantiation's data segments left, by
    /// page ([`Self::shipped`]), for a dataset collector to judge pages as
    /// the CNN does.
    pub(crate) fn shipped_image(&self) -> HashMap<u32, Box<[u64]>> {
        let mut all = self.shipped.borrow().clone();
        if let Some(p) = self.pristine.borrow().as_ref() {
            for &page in p.image.pages() {
                if let Some(blocks) = p.image.shipped(page) {
                    all.entry(page).or_insert_with(|| blocks.into());
                }
            }
        }
        all
    }

    /// The digest of the input last supplied into `page`, if any since
    /// its last snapshot (or of the image's bytes, for a page of the
    /// image no snapshot took yet); forgotten once asked for.
    fn take_input(&self, page: u32) -> Option<u128> {
        let from_image = match self.pristine.borrow_mut().as_mut() {
            Some(p) if p.left > 0 => p.take(page),
            _ => None,
        };
        let mut inputs = self.inputs.borrow_mut();
        if inputs.is_empty() {
            return from_image;
        }
        inputs.remove(&page).or(from_image)
    }
}

fn tracking_error(e: std::io::Error) -> Error {
    Error::Resource(format!("cannot track the written pages of a memory: {e}"))
}

/// Host tampering on purpose ([`AttestOptions::inject_host_tamper`]).
pub(crate) struct HostTamperInjector {
    rate: f64,
    rng: walmart_attest::rng::Rng,
}

impl HostTamperInjector {
    pub(crate) fn new(rate: f64, seed: u64) -> HostTamperInjector {
        HostTamperInjector {
            rate: rate.clamp(0.0, 1.0),
            rng: walmart_attest::rng::Rng::new(seed),
        }
    }

    fn next(&mut self) -> u64 {
        self.rng.next_u64()
    }

    fn fires(&mut self) -> bool {
        self.rng.unit() < self.rate
    }
}

/// A store's attestation session.
pub(crate) struct AttestSession {
    pub(crate) shared: Arc<Shared>,
    sync: bool,
    backpressure: Backpressure,
    audit_pages: usize,
    epoch: u64,
    /// Next page to audit: (memory index in the store, page).
    audit_cursor: (usize, usize),
    /// Memories are write-protected (control is in an untrusted host).
    protected: bool,
    /// Since the last hook, memory has been write-protected against a host
    /// whose every write is recorded: walmart's API marks the pages it
    /// writes, and the protection's faults are marked when it ends. The
    /// carried pages not marked then still hold what the hook saw, and
    /// the next hook takes them as unchanged without digesting them.
    sealed: bool,
    /// The outermost export returned to the embedder and its boundary
    /// snapshot was left to the next thing that looks at memory or may
    /// change it ([`settle_exit`]): the next call's entry hook, the final
    /// flush, a write through [`crate::Memory::write`] or an
    /// instantiation. The site is the exit's, for what the snapshot finds.
    exit_deferred: Option<HookSite>,
    /// The heap walk found the chain broken (reported once).
    pub(crate) heap_broken: bool,
    /// Pages of the first memory that a module without an allocator of
    /// its own grew while another module in the store has one
    /// ([`super::heap_walk::note_grow`]).
    pub(crate) foreign_grows: Vec<super::heap_walk::ForeignGrow>,
    /// The heap was found to take in memory another module grew
    /// (reported once).
    pub(crate) foreign_grow_reported: bool,
    /// A walk of the heap ran ([`AttestStats::heap_walked`]).
    pub(crate) heap_walked: bool,
    /// Where emmalloc's statics lie, once found
    /// ([`super::emmalloc_walk::find`]).
    pub(crate) emmalloc: Option<super::emmalloc_walk::Emmalloc>,
    /// `free` or `realloc` was handed a pointer dlmalloc refuses (reported
    /// once).
    pub(crate) bad_free_reported: bool,
    /// The returns (function, offset) whose written stack guard was
    /// reported: each once, as an overflow in a loop would repeat.
    pub(crate) stack_smash_reported: std::collections::HashSet<(Option<u32>, Option<u32>)>,
    /// A walk during the run waits until then (its pacing).
    pub(crate) heap_walk_after: Option<std::time::Instant>,
    /// When the marked allocator call was entered (Unix seconds,
    /// [`AttestOptions::mark_allocator_call`]).
    allocator_call_marked: Option<f64>,
    /// Times the heap walk has looked for dlmalloc's state.
    pub(crate) heap_state_tries: u32,
    /// Times an allocator's entry in a module without names found no
    /// state where the module's code reads it.
    pub(crate) heap_hint_tries: u32,
    dirty: Vec<(u32, u32)>,
    /// Pages the kernel still reports as written because no scan since
    /// protected them (see [`PEEK_LIMIT`]), with the digest of the
    /// contents last snapshotted, sorted: the next scan reports them
    /// whether or not they were written since, and those unchanged are not
    /// snapshotted again.
    carried: Vec<(u32, u32, u128)>,
    inject: Option<HostTamperInjector>,
    pub(crate) collector: Option<Arc<std::sync::Mutex<super::collect::Collector>>>,
    /// Pages written by the injector: (memory, page).
    pub(crate) injected: Vec<(u32, u32)>,
    worker: Option<threads::Running>,
    /// Runs of one byte the host's input held, recorded by the store's
    /// memories and passed over by its CNN verifiers; `None` where none
    /// follows them (nor a dataset collector).
    pub(crate) input_runs: Option<Arc<InputRuns>>,
}

impl AttestSession {
    /// Starts a session and its verifier thread.
    pub(crate) fn start(policy: Policy, sync: bool, opts: AttestOptions) -> Result<AttestSession> {
        let log = match &opts.log {
            Some(path) => Some(EventLog::create(path).map_err(|e| {
                Error::Usage(format!(
                    "cannot create the attestation log {}: {e}",
                    path.display()
                ))
            })?),
            None => None,
        };
        let evidence = match opts.evidence {
            Some(dir) => {
                std::fs::create_dir_all(&dir).map_err(|e| {
                    Error::Usage(format!(
                        "cannot create the evidence folder {}: {e}",
                        dir.display()
                    ))
                })?;
                Some(worker::Evidence::new(dir))
            }
            None => None,
        };
        // Recorded only where something passes over them: no work for
        // `--model none` or a CNN told to score them.
        let runs = Arc::new(InputRuns::default());
        let mut verifiers = opts.verifiers;
        let mut followed = opts.collector.is_some();
        if !opts.score_input_runs {
            for v in &mut verifiers {
                followed |= v.follow_input(runs.clone());
            }
        }
        let input_runs = followed.then_some(runs);
        let shared = Arc::new(Shared::new(
            policy,
            opts.on_detect,
            Pacing {
                // Function hooks (fine) and hooks around WASI calls (both)
                // snapshot when the verifier asks.
                arm_when_idle: !sync,
                interval: opts
                    .interval
                    .unwrap_or_else(|| AttestOptions::default_interval(policy)),
                budget: opts.snapshot_budget,
            },
            opts.ring_pages,
            EventSink {
                log,
                evidence,
                callback: opts.on_event,
                failure: None,
            },
            verifiers,
        ));
        // A key nobody can name before the run.
        let slack_key = opts.slack_key.map_or_else(
            || walmart_jit::vmctx::slack_key_from(walmart_attest::unguessable()),
            u32::from,
        );
        shared
            .state
            .heap_slack_key
            .store(slack_key, Ordering::Relaxed);
        shared
            .state
            .allocator_call_mark
            .store(opts.allocator_call_mark, Ordering::Relaxed);
        let for_thread = shared.clone();
        let worker = threads::start(move || worker::run(for_thread))
            .map_err(|e| Error::Resource(format!("cannot start the verifier thread: {e}")))?;
        Ok(AttestSession {
            shared,
            sync,
            backpressure: opts.backpressure,
            audit_pages: opts.audit_pages,
            epoch: 0,
            audit_cursor: (0, 0),
            protected: false,
            sealed: false,
            exit_deferred: None,
            heap_broken: false,
            foreign_grows: Vec::new(),
            foreign_grow_reported: false,
            heap_walked: false,
            emmalloc: None,
            bad_free_reported: false,
            stack_smash_reported: Default::default(),
            heap_walk_after: None,
            allocator_call_marked: None,
            heap_state_tries: 0,
            heap_hint_tries: 0,
            dirty: Vec::new(),
            carried: Vec::new(),
            inject: opts.inject,
            collector: opts.collector,
            injected: Vec::new(),
            worker: Some(worker),
            input_runs,
        })
    }

    /// What the vmctx `attest` slot points to.
    pub(crate) fn state_ptr(&self) -> *const VMAttestState {
        &self.shared.state
    }

    /// Under `--on-detect trap`: a detection since the last time this
    /// was asked, so the guest must stop now.
    pub(crate) fn stop_requested(&self) -> bool {
        self.shared.on_detect == OnDetect::Trap
            && self.shared.detected.swap(false, Ordering::AcqRel)
    }

    /// Snapshots taken so far (the epoch of the latest).
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The counters so far.
    pub(crate) fn stats(&self) -> AttestStats {
        AttestStats {
            allocator_call_marked: self.allocator_call_marked,
            heap_walked: self.heap_walked,
            ..self.shared.stats()
        }
    }

    /// [`VMAttestState::allocator_calls`] now.
    pub(crate) fn allocator_calls(&self) -> u64 {
        self.shared.state.allocator_calls.load(Ordering::Relaxed)
    }
}

impl Drop for AttestSession {
    fn drop(&mut self) {
        self.shared.shutdown();
        if let Some(w) = self.worker.take() {
            w.wait();
        }
    }
}

fn trap(kind: TrapKind) -> Error {
    Error::Trap(Trap::new(kind, Vec::new()))
}

/// Which hook [`hook`] runs, as far as it changes what the hook does.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum HookAt {
    /// The final flush, which waits for the verdicts.
    Flush,
    /// Any other hook.
    Other,
}

/// Pages a scan may leave written (reported again by every later scan,
/// until one protects them) before a scan protects.
///
/// Under kernel tracking a scan that write-protects what it reports
/// costs a TLB flush: on a 2-core VM about 15-25 us, most of it the
/// interrupt to the other core, which the verifier thread often holds
/// just then (it arms the hook that scans). It also costs a fault at the
/// guest's next write to each protected page. A scan that leaves the
/// pages written costs neither; the price is that every later hook finds
/// those pages again and digests them (about 0.2 us a page) to snapshot
/// only the ones that changed. Up to this many pages, digesting is the
/// cheaper; past it, the next scan protects and the carried set starts
/// afresh.
pub(crate) const PEEK_LIMIT: usize = 64;

/// A hook: snapshots every dirty page of the store's memories into the
/// ring (plus a few clean pages to audit) and clears their bits. Does no
/// copying when nothing is dirty. `Err` asks the guest to stop.
pub(crate) fn hook(
    store: &mut StoreOpaque,
    at: HookAt,
    site: &dyn Fn(&StoreOpaque) -> HookSite,
) -> std::result::Result<(), TrapKind> {
    let flush = at == HookAt::Flush;
    let Some(s) = store.attest.as_deref_mut() else {
        return Ok(());
    };
    Counters::add(&s.shared.counters.hooks, 1);
    // Armed: the verifier asked for this snapshot and waits for it.
    let asked = s.shared.state.armed.swap(0, Ordering::Relaxed) != 0;
    let mut dirty = std::mem::take(&mut s.dirty);
    dirty.clear();
    let carried = std::mem::take(&mut s.carried);
    let protect = carried.len() >= PEEK_LIMIT;
    // Carried pages nothing wrote since the last hook (the bitmap holds
    // only tracked writes until the scan below adds the kernel's findings).
    let untouched: Vec<bool> = if std::mem::take(&mut s.sealed) {
        carried
            .iter()
            .map(|&(mi, page, _)| {
                store.memories[mi as usize]
                    .attest
                    .as_ref()
                    .is_some_and(|a| !a.bitmap.is_dirty(page as usize))
            })
            .collect()
    } else {
        Vec::new()
    };
    for (mi, m) in store.memories.iter().enumerate() {
        if let Some(a) = &m.attest {
            a.collect_written(m.def.base, m.def.length as usize, protect);
            a.bitmap
                .for_each_dirty(m.def.length as usize / PAGE_SIZE, |p| {
                    dirty.push((mi as u32, p))
                });
        }
    }
    // Carried pages holding what was last snapshotted are not snapshotted
    // again; left written, they are carried on.
    let mut unchanged = Vec::new();
    if !carried.is_empty() {
        dirty.retain(
            |&(mi, page)| match unchanged_since(store, &carried, &untouched, mi, page) {
                Some(entry) => {
                    unchanged.push(entry);
                    false
                }
                None => true,
            },
        );
    }
    let collector = store.attest.as_deref().and_then(|s| s.collector.clone());
    if let Some(c) = collector {
        collect_at_hook(store, &c, &dirty);
    }
    let pristine = store
        .memories
        .iter()
        .any(|m| m.attest.as_ref().is_some_and(MemoryAttest::pristine_left));
    let fresh = if dirty.is_empty() && !pristine {
        Vec::new()
    } else {
        snapshot(store, &dirty, flush, asked, !protect, site)
    };
    // A scan that protected starts the carried set afresh: later writes
    // are tracked again.
    let carried = if protect {
        Vec::new()
    } else {
        unchanged.extend(fresh);
        unchanged.sort_unstable_by_key(|p| (p.0, p.1));
        unchanged
    };
    let s = store.attest.as_deref_mut().expect("checked above");
    s.carried = carried;
    s.dirty = dirty;
    if s.stop_requested() {
        Err(TrapKind::AttestationViolation)
    } else {
        Ok(())
    }
}

/// The entry of `carried` for `page` of memory `mi` if the page holds
/// what it held when last snapshotted (known without digesting it where
/// `untouched`, parallel to `carried`, says so); its dirty bit is then
/// cleared.
fn unchanged_since(
    store: &StoreOpaque,
    carried: &[(u32, u32, u128)],
    untouched: &[bool],
    mi: u32,
    page: u32,
) -> Option<(u32, u32, u128)> {
    let at = carried
        .binary_search_by_key(&(mi, page), |p| (p.0, p.1))
        .ok()?;
    let digest = carried[at].2;
    let known = untouched.get(at).copied().unwrap_or(false);
    if !known && page_digest(store.memories[mi as usize].page(page as usize)) != digest {
        return None;
    }
    if let Some(a) = &store.memories[mi as usize].attest {
        a.bitmap.clear(page as usize);
        a.note_taken_dirty(page);
        // Input that wrote back what the page held is judged as it was.
        a.take_input(page);
    }
    Some(carried[at])
}

/// Hands the first memory's dirty pages, the heap and the shadow stack
/// pointer to the dataset collector.
fn collect_at_hook(
    store: &StoreOpaque,
    collector: &std::sync::Mutex<super::collect::Collector>,
    dirty: &[(u32, u32)],
) {
    let Some(m) = store.memories.first() else {
        return;
    };
    let pages: Vec<u32> = dirty
        .iter()
        .filter(|(mi, _)| *mi == 0)
        .map(|(_, p)| *p)
        .collect();
    let sp = store
        .instances
        .first()
        .and_then(|i| super::shadow_stack_pointer(store, i));
    // The tag monitor owns the allocator calls when it runs.
    let heap: &dyn super::heap::HeapView =
        match store.instances.first().and_then(|i| i.tags.as_deref()) {
            Some(tags) => tags,
            None => &store.heap,
        };
    let mut collector = collector.lock().unwrap_or_else(|e| e.into_inner());
    if !collector.knows_shipped() {
        if let Some(a) = &m.attest {
            collector.set_shipped(a.shipped_image());
            if let Some(runs) = &a.input_runs {
                collector.follow_input(runs.clone());
            }
        }
    }
    collector.at_hook(m.bytes(), &pages, heap, sp);
}

/// Copies `dirty` pages (as many as the ring takes) and some audit pages
/// into a batch and queues it. A hook that waits for the verdict anyway
/// (synchronous mode, the final flush) lets the verifier read the pages in
/// place: nothing is copied and the ring is not involved.
///
/// With `digest`, the pages taken are digested here (for the verifiers
/// too), and those of memories the kernel tracks are returned with their
/// digests: the hook leaves them written and carries them (see
/// [`PEEK_LIMIT`]).
fn snapshot(
    store: &mut StoreOpaque,
    dirty: &[(u32, u32)],
    flush: bool,
    asked: bool,
    digest: bool,
    site: &dyn Fn(&StoreOpaque) -> HookSite,
) -> Vec<(u32, u32, u128)> {
    let started = std::time::Instant::now();
    let site = site(store);
    let outermost = store.wasm_depth == 0;
    let s = store.attest.as_deref_mut().expect("attested store");
    let direct = flush || s.sync;
    let want = dirty.len() + s.audit_pages;
    let (granted, batch) = if direct {
        (want, Some(s.shared.direct_batch()))
    } else if want == 0 {
        // Only pages of an image, which take no room in the ring.
        (0, Some(s.shared.direct_batch()))
    } else {
        s.shared
            .reserve(want, s.backpressure == Backpressure::Block)
    };
    let Some(mut batch) = batch else {
        Counters::add(&s.shared.counters.deferred, 1);
        return Vec::new();
    };
    if !direct {
        batch.bytes.reserve(granted * PAGE_SIZE);
    }
    let take = granted.min(dirty.len());
    if take < dirty.len() {
        Counters::add(&s.shared.counters.deferred, 1);
    }
    let mut fresh = Vec::new();
    let mut inputs = 0;
    // Runs measured in the memory of the pages so far (`runs_beyond`).
    let mut seen = (u32::MAX, RunsSeen::default());
    for &(mi, page) in &dirty[..take] {
        let m = &store.memories[mi as usize];
        let a = m
            .attest
            .as_ref()
            .expect("dirty pages come from attested memories");
        let bytes = m.page(page as usize);
        add_page(&mut batch, direct, bytes);
        a.bitmap.clear(page as usize);
        a.note_taken_dirty(page);
        let input = a.take_input(page);
        let d = (digest || input.is_some()).then(|| page_digest(bytes));
        let (kind, shipped, beyond) = if input.is_some() && input == d {
            inputs += 1;
            (PageKind::Input, 0, [0, 0])
        } else {
            if seen.0 != mi {
                seen = (mi, RunsSeen::default());
            }
            let at = page as usize * PAGE_SIZE;
            let beyond = a.input_runs.as_ref().map_or([0, 0], |runs| {
                runs.runs_beyond(m.bytes(), at..at + PAGE_SIZE, &mut seen.1)
            });
            (PageKind::Dirty, a.shipped_blocks(page, bytes), beyond)
        };
        batch.pages.push((mi, page, kind, shipped, beyond));
        if let Some(d) = d.filter(|_| digest) {
            batch.digests.push(d);
            if a.source == DirtySource::Kernel {
                fresh.push((mi, page, d));
            }
        }
    }
    // The pages of images nothing wrote since instantiation, from the
    // images (`MemoryAttest::start_pristine`).
    let mut pristine = 0u64;
    for (mi, m) in store.memories.iter().enumerate() {
        if let Some((image, pages)) = m.attest.as_ref().and_then(|a| a.take_pristine()) {
            for (page, digest) in pages {
                if let Some(bytes) = image.bytes(page) {
                    batch
                        .image_pages
                        .push((mi as u32, page, digest, bytes.as_ptr()));
                    pristine += 1;
                }
            }
            batch.images.push(image);
        }
    }
    inputs += pristine;
    // Audit clean pages round-robin with what room is left.
    let mut audits = granted - take;
    let mut budget = store
        .memories
        .iter()
        .map(|m| m.def.length as usize / PAGE_SIZE)
        .sum::<usize>();
    let (mut mi, mut page) = s.audit_cursor;
    while audits > 0 && budget > 0 {
        if mi >= store.memories.len() {
            (mi, page) = (0, 0);
            continue;
        }
        let m = &store.memories[mi];
        let pages = m.def.length as usize / PAGE_SIZE;
        let Some(a) = m.attest.as_ref().filter(|_| page < pages) else {
            (mi, page) = (mi + 1, 0);
            continue;
        };
        budget -= 1;
        if !a.bitmap.is_dirty(page) {
            add_page(&mut batch, direct, m.page(page));
            batch
                .pages
                .push((mi as u32, page as u32, PageKind::Audit, 0, [0, 0]));
            audits -= 1;
        }
        page += 1;
    }
    s.audit_cursor = (mi, page);
    s.epoch += 1;
    batch.epoch = s.epoch;
    batch.allocator_calls = s.allocator_calls();
    // The last pages of a call from the embedder are judged like the
    // final flush's, and by the final flush when it comes first: usually
    // the run is over (a command's `_start` has returned) and the store's
    // next step is to wait for them, on all cores, its own included.
    batch.guest_stopped = flush || (site.kind == HookKind::ExportExit && outermost);
    batch.site = site;
    let audited = batch.pages.len() - take;
    let c = &s.shared.counters;
    Counters::add(&c.snapshots, 1);
    Counters::add(&c.pages_snapshotted, take as u64 + pristine);
    Counters::add(&c.pages_input, inputs);
    Counters::add(&c.pages_audited, audited as u64);
    s.shared
        .submit(batch, if direct { 0 } else { granted }, asked);
    if direct {
        // Also what keeps the pages read in place unchanged and mapped.
        s.shared.wait_done(s.epoch);
    } else {
        s.shared.pace(started.elapsed());
    }
    fresh
}

/// Adds `page` (of an attested memory) to `batch`: its address, or a copy
/// of its bytes.
fn add_page(batch: &mut worker::Batch, direct: bool, page: &[u8]) {
    if direct {
        batch.direct.push(page.as_ptr());
    } else {
        batch.bytes.extend_from_slice(page);
    }
}

/// Leaves the boundary hook of a command's return to the embedder (its
/// `_start`, the outermost call: the program has ended, memory is about
/// to be write-protected) for later ([`AttestSession::exit_deferred`];
/// [`to_host`] then takes no snapshot). Why: what follows a command is
/// the final verdict ([`finish`]), whose flush takes every written page
/// in place, across all cores; a snapshot at the exit copied the same
/// pages (20-50 us on lz4's 0.1-0.4 ms runs) and left the flush waiting
/// for the verifier thread judging them alone. Nothing is lost by
/// waiting: memory is protected, so a raw write by the host is
/// tampering, found exactly, and the written pages stay written until a
/// scan takes them; what could change them legitimately, or a store
/// dropped without its final verdict, settles the snapshot first
/// ([`settle_exit`]). Other exports (a library's, called
/// again and again) keep their exit snapshot, whose verdict must not
/// wait for the embedder's next call. Not in synchronous mode (each hook
/// waits for its verdict), nor while a dataset is collected (it records
/// each hook's state). Counted as a hook, as a skipped one is.
pub(crate) fn defer_exit(store: &mut StoreOpaque, site: &dyn Fn(&StoreOpaque) -> HookSite) {
    let defer = store
        .attest
        .as_deref()
        .is_some_and(|s| s.shared.policy != Policy::Tags && !s.sync && s.collector.is_none());
    if defer {
        let at = site(store);
        let s = store.attest.as_deref_mut().expect("checked above");
        Counters::add(&s.shared.counters.hooks, 1);
        s.exit_deferred = Some(at);
    }
}

/// The marked allocator call ([`AttestOptions::mark_allocator_call`]) is
/// being entered: remembers when.
pub(crate) fn allocator_call_marked(store: &mut StoreOpaque) {
    if let Some(s) = store.attest.as_deref_mut() {
        s.allocator_call_marked.get_or_insert_with(Event::now);
    }
}

/// Takes the snapshot an export's return deferred ([`defer_exit`]), with
/// the exit's site, before the embedder writes into memory through
/// walmart's API or instantiates a module into the store (either may
/// overwrite what the guest left, and such pages are judged as input),
/// or drops the store without the final verdict.
/// A detection it asks to stop for stops the next call into the module.
pub(crate) fn settle_exit(store: &mut StoreOpaque) {
    let Some(at) = store
        .attest
        .as_deref_mut()
        .and_then(|s| s.exit_deferred.take())
    else {
        return;
    };
    if hook(store, HookAt::Other, &|_| at.clone()).is_err() {
        if let Some(s) = store.attest.as_deref() {
            s.shared.detected.store(true, Ordering::Release);
        }
    }
}

/// Whether a boundary hook around a call to walmart's own host functions
/// (WASI: writes only through walmart's API, which marks them) leaves its
/// snapshot to a later hook: in asynchronous mode these hooks snapshot at
/// the verifier's pace, as function hooks do (when it has armed them).
/// I/O-bound guests cross into WASI thousands of times a second; a
/// snapshot at each crossing re-read the same few pages and paid a
/// page-table scan and a wake-up of the verifier each time. The pages
/// stay dirty, so the next snapshot (at the latest the final flush)
/// judges their contents then; as with function hooks, a version that
/// lives less than the interval may go unjudged. A detection under
/// `--on-detect trap` arms the hooks, so the stop is not delayed.
fn skip_trusted_boundary(store: &mut StoreOpaque) -> bool {
    let Some(s) = store.attest.as_deref() else {
        return false;
    };
    let skip =
        !s.sync && s.collector.is_none() && s.shared.state.armed.load(Ordering::Acquire) == 0;
    if skip {
        Counters::add(&s.shared.counters.hooks, 1);
    }
    skip
}

/// Control leaves the module for the host: a boundary hook, then, when
/// the host is not walmart's own (`protect`), write protection. `import`:
/// the module calls a host function (where injected tampering happens).
pub(crate) fn to_host(
    store: &mut StoreOpaque,
    protect: bool,
    import: bool,
    site: &dyn Fn(&StoreOpaque) -> HookSite,
) -> Result<()> {
    // The tag monitor checks in generated code, not at boundaries.
    if store
        .attest
        .as_deref()
        .is_none_or(|s| s.shared.policy == Policy::Tags)
    {
        return Ok(());
    }
    // A command's deferred exit takes no snapshot ([`defer_exit`]).
    let deferred = !import
        && store
            .attest
            .as_deref()
            .is_some_and(|s| s.exit_deferred.is_some());
    // Into a trusted host function, or back to one that called into Wasm
    // (the canonical ABI's `realloc` in a component's lowered import):
    // the boundary of walmart's own code, skipped alike.
    let trusted = !protect && (import || store.in_trusted_host);
    let r = if deferred || (trusted && skip_trusted_boundary(store)) {
        Ok(())
    } else {
        hook(store, HookAt::Other, site).map_err(trap)
    };
    super::heap_walk::check(store, site, super::heap_walk::WalkAt::Boundary);
    // A broken chain found here stops the guest here, not at its next hook.
    let r = match store.attest.as_deref() {
        Some(s) if r.is_ok() && s.stop_requested() => Err(trap(TrapKind::AttestationViolation)),
        _ => r,
    };
    let inject = import
        && store
            .attest
            .as_deref_mut()
            .and_then(|s| s.inject.as_mut())
            .is_some_and(|i| i.fires());
    // An injected tampering plays an untrusted host: memory is protected
    // (and a trusted host's own writes stay allowed, see below).
    if protect || inject {
        for m in store.memories.iter() {
            if let Some(a) = &m.attest {
                a.guard.protect()?;
            }
        }
        if let Some(s) = store.attest.as_deref_mut() {
            s.protected = true;
            // Not when only an injection protected: a trusted host's
            // writes then go unrecorded (`trust_faults` below). Nor when
            // the exit's snapshot was deferred: the guest's writes since
            // the last hook are in no bitmap yet.
            s.sealed = protect && s.exit_deferred.is_none();
        }
    }
    if inject {
        tamper_now(store);
        if !protect {
            for m in store.memories.iter() {
                if let Some(a) = &m.attest {
                    a.guard.trust_faults();
                }
            }
        }
    }
    r
}

/// The injector's write: 16 random bytes through a raw pointer.
fn tamper_now(store: &mut StoreOpaque) {
    let targets: Vec<usize> = (0..store.memories.len())
        .filter(|i| store.memories[*i].attest.is_some() && store.memories[*i].def.length >= 16)
        .collect();
    let Some(s) = store.attest.as_deref_mut() else {
        return;
    };
    let Some(inj) = s.inject.as_mut() else {
        return;
    };
    if targets.is_empty() {
        return;
    }
    let mi = targets[(inj.next() % targets.len() as u64) as usize];
    let m = &store.memories[mi];
    let at = (inj.next() % (m.def.length - 15)) as usize;
    let bytes = inj.next().to_le_bytes();
    for (i, b) in bytes.iter().chain(bytes.iter().rev()).enumerate() {
        // SAFETY: at + 16 <= length: inside the accessible memory. The
        // write faults on the protected page and the fault handler records
        // it: exactly what a tampering host's write does.
        unsafe { std::ptr::write_volatile(m.def.base.add(at + i), *b) };
    }
    for page in [at / PAGE_SIZE, (at + 15) / PAGE_SIZE] {
        if !s.injected.contains(&(mi as u32, page as u32)) {
            s.injected.push((mi as u32, page as u32));
        }
    }
}

/// Control comes back from the host: memory is made writable, any page
/// written behind walmart's back is reported as `host-tamper`, then a
/// boundary hook. `import`: a host function returns to the module.
/// Returns whether memory was protected.
pub(crate) fn from_host(
    store: &mut StoreOpaque,
    import: bool,
    site: &dyn Fn(&StoreOpaque) -> HookSite,
) -> Result<bool> {
    // The entry hook below takes the pages the deferred exit would have.
    if let Some(s) = store.attest.as_deref_mut().filter(|_| !import) {
        s.exit_deferred = None;
    }
    let Some(was) = end_protection(store, site, false)? else {
        return Ok(false);
    };
    // Back from a trusted host function, or into Wasm from one: see
    // [`to_host`].
    let trusted = !was && (import || store.in_trusted_host);
    if !(trusted && skip_trusted_boundary(store)) {
        hook(store, HookAt::Other, site).map_err(trap)?;
    }
    Ok(was)
}

/// The tamper check of [`from_host`] without its hook: memory is made
/// writable (unless `keep`) and pages written behind walmart's back are
/// reported and marked for the next snapshot. `None` where boundaries are
/// not attested (no attestation, or the tag monitor); else whether memory
/// was protected.
fn end_protection(
    store: &mut StoreOpaque,
    site: &dyn Fn(&StoreOpaque) -> HookSite,
    keep: bool,
) -> Result<Option<bool>> {
    let Some(s) = store.attest.as_deref_mut() else {
        return Ok(None);
    };
    if s.shared.policy == Policy::Tags {
        return Ok(None);
    }
    let was = s.protected;
    s.protected = was && keep;
    if was {
        Counters::add(&s.shared.counters.tamper_checks, 1);
        let mut found = Vec::new();
        let mut unlisted = false;
        for (mi, m) in store.memories.iter().enumerate() {
            if let Some(a) = &m.attest {
                let f = if keep {
                    a.guard.findings()?
                } else {
                    a.guard.unprotect()?
                };
                unlisted |= f.unlisted > 0;
                if !f.pages.is_empty() {
                    // The new contents go to the verifier with the next
                    // snapshot, and become the digest reference.
                    for p in &f.pages {
                        a.bitmap.mark(*p as usize * PAGE_SIZE, 1);
                    }
                    found.push((mi as u32, f));
                }
            }
        }
        if unlisted {
            // Pages were written that the guard could not list: the next
            // hook must digest every carried page.
            if let Some(s) = store.attest.as_deref_mut() {
                s.sealed = false;
            }
        }
        if !found.is_empty() {
            let at = site(store);
            let nested = store.wasm_depth > 0;
            let s = store.attest.as_deref().expect("checked above");
            for (memory, f) in found {
                let outside = match at.kind {
                    HookKind::ImportReturn => format!(
                        "during the host call{}",
                        at.name
                            .as_deref()
                            .map(|n| format!(" to `{n}`"))
                            .unwrap_or_default()
                    ),
                    // A host function's call into Wasm (a component's
                    // lowering calling `realloc`): the host wrote first.
                    HookKind::ExportEntry if nested => format!(
                        "during the host call that called{}",
                        at.name
                            .as_deref()
                            .map(|n| format!(" `{n}`"))
                            .unwrap_or_else(|| " into Wasm".to_string())
                    ),
                    _ => "between calls into the module".to_string(),
                };
                let unlisted = if f.unlisted > 0 {
                    format!(" (+{} further writes not listed)", f.unlisted)
                } else {
                    String::new()
                };
                s.shared.report(Event {
                    time: Event::now(),
                    policy: s.shared.policy,
                    kind: EventKind::HostTamper,
                    hook: at.clone(),
                    epoch: s.epoch,
                    allocator_calls: s.allocator_calls(),
                    memory,
                    scores: vec![1.0; f.pages.len()],
                    detail: format!(
                        "{} page(s) of memory {memory} written {outside} without walmart's API{unlisted}",
                        f.pages.len()
                    ),
                    pages: f.pages,
                    source: "write-protection".into(),
                    tag: None,
                    evidence: Vec::new(),
                });
            }
        }
    }
    Ok(Some(was))
}

/// After a call into the module failed: generated code marks the pages of
/// a straight-line run of stores when the run ends, and a trap may end it
/// first, so every resident page of each barrier-tracked memory is marked
/// dirty. Nothing written is missed; after a trap, pages only read may be
/// reported too.
pub(crate) fn after_trap(store: &mut StoreOpaque) {
    if store.attest.is_none() {
        return;
    }
    for m in store.memories.iter() {
        if let Some(a) = m
            .attest
            .as_ref()
            .filter(|a| a.source == DirtySource::Barrier)
        {
            let len = m.def.length as usize;
            let mut resident = vec![0u8; len.div_ceil(PAGE_SIZE)];
            // SAFETY: [base, base + len) is the memory's accessible mapping
            // (page aligned); mincore writes one byte per page of it.
            let ok = len == 0
                || unsafe {
                    libc::mincore(m.def.base as *mut libc::c_void, len, resident.as_mut_ptr())
                } == 0;
            for (page, r) in resident.iter().enumerate() {
                if !ok || r & 1 != 0 {
                    a.bitmap.mark(page * PAGE_SIZE, 1);
                }
            }
        }
    }
}

/// Ends the run's attestation: checks for tampering since the last call,
/// flushes every dirty page through the verifier and waits for its
/// verdicts. Returns the counters, or `None` without attestation.
pub(crate) fn finish(store: &mut StoreOpaque) -> Result<Option<AttestStats>> {
    if store.attest.is_none() {
        return Ok(None);
    }
    if let Some(t) = store.tag_trace.as_mut() {
        t.finish()
            .map_err(|e| Error::Resource(format!("cannot write the tag trace: {e}")))?;
    }
    let site = |_: &StoreOpaque| HookSite::new(HookKind::Finish);
    if let Some(s) = store.attest.as_deref() {
        s.shared.finishing.store(true, Ordering::Release);
    }
    // No boundary hook here: the flush below takes every written page, in
    // place and across all cores, as the run's final verdict.
    // Memory protected against a host whose writes are all recorded stays
    // protected: a later write behind walmart's back is tampering as much
    // as one before (it is reported when the module is next called), and
    // making the whole memory writable cost an `mprotect` (about a
    // twentieth of a 0.2 ms run).
    // A deferred exit protected memory as a sealed one does; the flush
    // below takes its pages.
    let keep = store
        .attest
        .as_deref_mut()
        .is_some_and(|s| s.exit_deferred.take().is_some() || s.sealed);
    let tampered = end_protection(store, &site, keep);
    super::heap_walk::check(store, &site, super::heap_walk::WalkAt::Final);
    // One hook takes every written page: the flush reads them in place,
    // so the ring's room does not limit it.
    let flushed = hook(store, HookAt::Flush, &site);
    if let Some(s) = store.attest.as_deref_mut() {
        s.sealed = keep && s.protected;
    }
    let s = store.attest.as_deref().expect("checked above");
    s.shared.wait_done(s.epoch);
    // The store may run the guest again after this.
    s.shared.finishing.store(false, Ordering::Release);
    tampered?;
    if let Some(e) = s.shared.failure() {
        return Err(Error::Resource(e));
    }
    // Under `OnDetect::Trap`, a detection no hook stopped the guest for
    // (the final heap walk's, or a verdict that came after the guest's
    // last hook) fails the run all the same: whether the guest ended
    // before the verdict came must not decide the run's outcome.
    // Asked after the wait in any case, so that no verdict of this run
    // is left to stop the store's next call.
    let late = s.stop_requested();
    if flushed.is_err() || late {
        return Err(trap(TrapKind::AttestationViolation));
    }
    Ok(Some(s.stats()))
}
