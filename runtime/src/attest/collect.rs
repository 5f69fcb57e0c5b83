//! `walmart attest collect`: labelled page snapshots for training the CNN.
//!
//! At every hook the collector records the dirty pages of the store's
//! first memory as benign examples. With the injection rate, it also makes
//! corrupted examples the way each attack corrupts memory, using the heap
//! as the module's own allocator reports it (allocator interposition,
//! [`super::heap`]) and the shadow stack pointer:
//!
//! * `heap-overflow`: attacker bytes written from the end of a live chunk
//!   on, over the next chunk's header and data;
//! * `use-after-free`: fake list pointers and attacker bytes written into
//!   a freed chunk;
//! * `stack-smash`: a saved frame above the shadow stack pointer overwritten;
//! * `host-tamper`: random bytes at a random place.
//!
//! The corruption is applied to a copy of the pages it touches, which are
//! recorded with the attack's label; the guest's memory is not changed, so
//! the run goes on as it would have and every page label is exact.
//!
//! With the colour-tag monitor alongside (`--policy tags`), real
//! violations label pages too: each page a violating *write* touched is
//! recorded at the next hook as the violation's attack (overflows,
//! underflows and wild writes as `heap-overflow`, writes through dangling
//! pointers as `use-after-free`), and is never again recorded as benign in
//! that run, since the corruption may still be there. Violating reads
//! change no memory and label nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use walmart_attest::dataset::{DatasetError, DatasetWriter, Label, Record};
use walmart_attest::rng::Rng;
use walmart_attest::{InputRuns, PAGE_SIZE};

use super::heap::HeapView;

/// Fillers attackers use: `A`/`B`/`a` padding, NOP sleds, breakpoints;
/// the rest of a payload is addresses. Zero fill is left out on purpose:
/// zeroes over a chunk are what `calloc` writes, so no snapshot can tell
/// them from legitimate contents. [`Collector::fillers`] picks others.
pub const DEFAULT_FILLERS: [u8; 5] = [0x41, 0x90, 0xCC, 0x42, 0x61];

/// The shortest filler run an injected payload carries. Runs of a letter
/// as short as a word are ordinary text (`aaaa`, `AB`), and a network
/// shown attacks with such runs learns to flag text: the Oniguruma
/// corpus's subjects (`aaaa aaaa`) were flagged whenever a snapshot caught
/// them in the input buffer.
const MIN_FILLER: usize = 16;

/// The fillers among `fillers` that clean pages of `records` hold in runs
/// as long as an injected payload's (`MIN_FILLER` bytes or more): base64
/// of zero-filled tables is lines of `A`. An application whose own memory
/// holds such runs cannot be taught to flag them as padding (its clean
/// pages then score like attacks and set the threshold above most of
/// them), so its model is trained with the other fillers. Near misses
/// hold runs of at most `MIN_FILLER / 4` and are not counted.
pub fn fillers_in_clean_runs(
    records: &[walmart_attest::dataset::Record],
    fillers: &[u8],
) -> Vec<u8> {
    let mut seen = Vec::new();
    for r in records.iter().filter(|r| r.label == Label::Benign) {
        let (mut prev, mut run) = (None, 0);
        for &b in &r.bytes {
            run = if prev == Some(b) { run + 1 } else { 1 };
            prev = Some(b);
            if run == MIN_FILLER && fillers.contains(&b) && !seen.contains(&b) {
                seen.push(b);
            }
        }
    }
    fillers
        .iter()
        .copied()
        .filter(|f| seen.contains(f))
        .collect()
}

/// The smallest freed chunk a use-after-free payload goes into: its two
/// fake list pointers and at least 16 attacker bytes. Smaller chunks hold
/// only what the allocator itself keeps there (list pointers), which no
/// snapshot can tell from the real thing.
const UAF_MIN: usize = 24;

/// Writes labelled pages while a module runs.
pub struct Collector {
    writer: Option<DatasetWriter>,
    inject: Vec<Label>,
    rate: f64,
    keep: f64,
    max_records: usize,
    rng: Rng,
    group: u32,
    seed: u32,
    /// Records written, by label.
    pub counts: BTreeMap<Label, usize>,
    /// Injections that found nothing to corrupt (no live chunk, ...).
    pub skipped: usize,
    /// Pages recorded at least once in this run.
    seen: std::collections::HashSet<u32>,
    /// Pages recorded clean at the current hook.
    kept_now: std::collections::HashSet<u32>,
    /// Pages real violating writes touched since the last hook, with the
    /// attack they count as.
    violated: BTreeMap<u32, Label>,
    /// Pages a real violation wrote in this run: never benign again.
    tainted: std::collections::HashSet<u32>,
    /// Real violating writes seen.
    pub violations: usize,
    /// Record a near miss beside each corrupted page ([`Collector::near_misses`]).
    near_misses: bool,
    /// Near misses written (counted in `counts` as benign too).
    near_count: usize,
    /// The bytes injected payloads pad with ([`Collector::fillers`]).
    fillers: Vec<u8>,
    /// The block digests instantiation's data segments left, by page
    /// ([`Collector::set_shipped`]); `None` until handed.
    shipped: Option<std::collections::HashMap<u32, Box<[u64]>>>,
    /// The runs of one byte the store's input held
    /// ([`Collector::follow_input`]).
    input: Option<Arc<InputRuns>>,
    error: Option<DatasetError>,
}

impl Collector {
    /// A collector writing to `writer`, runs numbered `group`. `inject`:
    /// the attacks to simulate, `rate` of them at each hook on average
    /// (each kind chosen at random, each applied to its own copy of the
    /// pages); `keep`: the share of later versions of benign pages
    /// recorded (a page's first version always is);
    /// at most `max_records` of each label.
    pub fn new(
        writer: DatasetWriter,
        group: u32,
        seed: u64,
        inject: Vec<Label>,
        rate: f64,
        keep: f64,
        max_records: usize,
    ) -> Collector {
        Collector {
            writer: Some(writer),
            inject,
            rate,
            keep,
            max_records,
            rng: Rng::new(seed ^ u64::from(group) << 32),
            group,
            seed: seed as u32,
            counts: BTreeMap::new(),
            skipped: 0,
            seen: Default::default(),
            kept_now: Default::default(),
            violated: BTreeMap::new(),
            tainted: Default::default(),
            violations: 0,
            near_misses: false,
            near_count: 0,
            fillers: DEFAULT_FILLERS.to_vec(),
            shipped: None,
            input: None,
            error: None,
        }
    }

    /// Beside each corrupted page, a benign near miss of the same page:
    /// where the attack wrote, a few stray filler bytes, in runs a quarter
    /// of `MIN_FILLER` (16) or shorter. Without them a network can learn a single
    /// `0x90` or `0xCC` as the mark of an attack, since the programs' own
    /// pages rarely hold one, and flag a page whose random bytes (a hash
    /// salt, a compressed stream of machine code) happen to include it:
    /// expat's page 35 was flagged so in 2 benign runs of 14,880.
    pub fn near_misses(mut self, on: bool) -> Collector {
        self.near_misses = on;
        self
    }

    /// The bytes injected payloads and near misses pad with, instead of
    /// [`DEFAULT_FILLERS`] (zeroes are dropped, as `calloc` writes them;
    /// a list of none keeps the default). Why: a model meant for any
    /// program cannot learn `a` as an attacker's padding without flagging
    /// English's one-letter words where allocators with size classes pack
    /// them side by side (Zig's general-purpose allocator: a page of `a`s,
    /// each in its own byte).
    pub fn fillers(mut self, fillers: &[u8]) -> Collector {
        let fillers: Vec<u8> = fillers.iter().copied().filter(|&b| b != 0).collect();
        if !fillers.is_empty() {
            self.fillers = fillers;
        }
        self
    }

    /// The digests of the blocks the module's data segments wrote, by page
    /// (the session's, taken at instantiation): every record is written
    /// with the blocks that still hold them zeroed, as the CNN judges a
    /// page at run time (`PageSnapshot::unshipped`), so that a model learns
    /// from what it will be shown. A block an attack changed no longer
    /// matches and is kept.
    pub fn set_shipped(&mut self, image: std::collections::HashMap<u32, Box<[u64]>>) {
        self.shipped = Some(image);
    }

    /// The store's record of the runs of one byte its input held: every
    /// page is recorded with those runs zeroed before any injected write
    /// lands on it, as the CNN judges a page at run time
    /// ([`InputRuns::held_in`]), so that a model learns from what it will
    /// be shown. An injected payload is written over the page so zeroed
    /// and kept whole.
    pub fn follow_input(&mut self, runs: Arc<InputRuns>) {
        self.input = Some(runs);
    }

    /// Whether [`Collector::set_shipped`] was called.
    pub fn knows_shipped(&self) -> bool {
        self.shipped.is_some()
    }

    /// Near misses written so far (among the benign records of `counts`).
    pub fn near_misses_written(&self) -> usize {
        self.near_count
    }

    /// Records written so far.
    pub fn records(&self) -> usize {
        self.counts.values().sum()
    }

    /// Flushes the dataset; the writer back for the next run, or the first
    /// error met while writing.
    pub fn finish(&mut self) -> Result<DatasetWriter, DatasetError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        Ok(self.writer.take().expect("finished once"))
    }

    fn write(&mut self, page: u32, label: Label, bytes: Vec<u8>) {
        self.push(page, label, bytes, false);
    }

    /// Writes a record. Near misses (benign) have a budget of their own,
    /// so they never take the place of the run's real benign pages.
    fn push(&mut self, page: u32, label: Label, mut bytes: Vec<u8>, near_miss: bool) {
        if let Some(image) = self.shipped.as_ref().and_then(|s| s.get(&page)) {
            let mask = walmart_attest::shipped_mask(image, &bytes);
            // Every block as shipped: the runtime takes the page as input
            // and the CNN does not judge it.
            if mask == u32::MAX {
                return;
            }
            walmart_attest::zero_blocks(&mut bytes, mask);
        }
        let so_far = match (near_miss, label) {
            (true, _) => self.near_count,
            (false, Label::Benign) => self.counts.get(&label).map_or(0, |n| n - self.near_count),
            (false, _) => self.counts.get(&label).copied().unwrap_or(0),
        };
        if so_far >= self.max_records || self.error.is_some() {
            return;
        }
        let Some(w) = self.writer.as_mut() else {
            return;
        };
        let r = Record {
            group: self.group,
            seed: self.seed,
            page,
            label,
            bytes,
        };
        match w.push(&r) {
            Ok(()) => {
                *self.counts.entry(label).or_default() += 1;
                self.near_count += usize::from(near_miss);
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// The tag monitor saw a write of the bytes `[start, end)` of the
    /// first memory that it must not do, as the attack `label`.
    pub(crate) fn violation(&mut self, label: Label, start: u32, end: u32) {
        self.violations += 1;
        if start >= end {
            return;
        }
        let first = start as usize / PAGE_SIZE;
        let last = (end as usize - 1) / PAGE_SIZE;
        for page in first..=last {
            self.violated.entry(page as u32).or_insert(label);
        }
    }

    /// A hook: `memory` is the first memory's bytes, `dirty` its pages
    /// written since the last hook.
    pub(crate) fn at_hook(
        &mut self,
        memory: &[u8],
        dirty: &[u32],
        heap: &dyn HeapView,
        stack_pointer: Option<u32>,
    ) {
        self.kept_now.clear();
        for (page, label) in std::mem::take(&mut self.violated) {
            self.tainted.insert(page);
            self.seen.insert(page);
            if let Some(bytes) = page_as_judged(memory, page as usize, self.input.as_deref()) {
                self.write(page, label, bytes);
            }
        }
        for &page in dirty {
            if self.tainted.contains(&page) {
                continue;
            }
            // A page's first version is always kept: pages written once
            // per run (data segments, start-up tables) would otherwise be
            // missing from training at low `keep`.
            let first = self.seen.insert(page);
            if first || self.keep >= 1.0 || self.rng.unit() < self.keep {
                self.record_clean(memory, page as usize);
            }
        }
        if self.inject.is_empty() {
            return;
        }
        // `rate` injections on average: its whole part always, its
        // fraction as a probability.
        let whole = self.rate.floor();
        let n = whole as usize + usize::from(self.rng.unit() < self.rate - whole);
        for _ in 0..n {
            let kind = self.inject[self.rng.below(self.inject.len() as u64) as usize];
            match self.corruption(kind, memory, heap, stack_pointer) {
                Some((at, payload)) => self.record_corrupted(kind, memory, at, &payload),
                None => self.skipped += 1,
            }
        }
    }

    /// Where `kind` writes and what, or `None` when there is nothing to
    /// attack (no live or freed chunk, no stack).
    fn corruption(
        &mut self,
        kind: Label,
        memory: &[u8],
        heap: &dyn HeapView,
        sp: Option<u32>,
    ) -> Option<(usize, Vec<u8>)> {
        let len = memory.len();
        let r = &mut self.rng;
        let fillers = &self.fillers;
        match kind {
            Label::Benign => None,
            Label::HeapOverflow => {
                let n = heap.live_count();
                let (p, s) = heap.nth_live(r.below(n.max(1) as u64) as usize)?;
                let size = 16 + r.below(240) as usize;
                Some((
                    p as usize + s as usize,
                    attacker_bytes(r, fillers, size, len),
                ))
            }
            Label::UseAfterFree => {
                let n = heap.freed_count().max(1) as u64;
                // A freed chunk with room for a payload: a few tries, as an
                // attacker grooms the heap until one fits.
                let (p, s) = (0..8)
                    .filter_map(|_| heap.nth_freed(r.below(n) as usize))
                    .find(|&(_, s)| s as usize >= UAF_MIN)?;
                // Fake forward/back pointers first (dlmalloc keeps its free
                // list there), then attacker data within the chunk.
                let size = (s as usize).min(128);
                let mut bytes = Vec::with_capacity(size);
                for _ in 0..2 {
                    bytes.extend_from_slice(&(r.below(len as u64) as u32).to_le_bytes());
                }
                bytes.extend(attacker_bytes(r, fillers, size - 8, len));
                Some((p as usize, bytes))
            }
            Label::StackSmash => {
                let sp = sp? as usize;
                // The frames of the active calls lie above the stack pointer.
                let at = sp + r.below(256) as usize;
                let size = 16 + r.below(112) as usize;
                Some((at, attacker_bytes(r, fillers, size, len)))
            }
            Label::HostTamper => {
                let at = r.below(len.saturating_sub(16).max(1) as u64) as usize;
                Some((at, (0..16).map(|_| r.next_u64() as u8).collect()))
            }
        }
    }

    /// Records page `page` as it is, once per hook.
    fn record_clean(&mut self, memory: &[u8], page: usize) {
        if self.tainted.contains(&(page as u32)) || !self.kept_now.insert(page as u32) {
            return;
        }
        if let Some(bytes) = page_as_judged(memory, page, self.input.as_deref()) {
            self.write(page as u32, Label::Benign, bytes);
        }
    }

    /// Records each page `payload` at `at` touches, corrupted, as `kind`.
    fn record_corrupted(&mut self, kind: Label, memory: &[u8], at: usize, payload: &[u8]) {
        let end = (at + payload.len()).min(memory.len());
        if at >= end {
            self.skipped += 1;
            return;
        }
        // Only pages the attack changed: one that wrote what was there
        // already is not a corruption.
        let input = self.input.clone();
        for (page, bytes) in pages_written(memory, at, &payload[..end - at], input.as_deref()) {
            // Its clean twin too: without it, pages attacks favour (the
            // stack's) are seen corrupted far more often than clean, and
            // the network learns where a page lives, not what it holds.
            self.record_clean(memory, page);
            self.write(page as u32, kind, bytes);
        }
        if self.near_misses {
            let near = near_miss(&mut self.rng, &self.fillers, memory, at, end - at);
            for (page, bytes) in pages_written(memory, at, &near, input.as_deref()) {
                // A page a real violation wrote is never benign.
                if !self.tainted.contains(&(page as u32)) {
                    self.push(page as u32, Label::Benign, bytes, true);
                }
            }
        }
    }
}

/// `page` of `memory` as the CNN is shown it at run time: with the runs
/// the input held zeroed (shipped blocks are zeroed as the record is
/// written, after any injected write: [`Collector::push`]).
fn page_as_judged(memory: &[u8], page: usize, input: Option<&InputRuns>) -> Option<Vec<u8>> {
    let (start, end) = (page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
    let mut copy = memory.get(start..end)?.to_vec();
    if let Some(runs) = input {
        // A run at the page's edge goes on in the memory beside it.
        let beyond = runs.runs_beyond(memory, start..end, &mut Default::default());
        let held = runs.held_in(&copy, beyond);
        walmart_attest::zero_spans(&mut copy, &held);
    }
    Some(copy)
}

/// Each page `bytes` written at `at` of `memory` would change, as a copy
/// ([`page_as_judged`]) holding them.
fn pages_written<'a>(
    memory: &'a [u8],
    at: usize,
    bytes: &'a [u8],
    input: Option<&'a InputRuns>,
) -> impl Iterator<Item = (usize, Vec<u8>)> + 'a {
    let end = at + bytes.len();
    (at / PAGE_SIZE..end.div_ceil(PAGE_SIZE)).filter_map(move |page| {
        let start = page * PAGE_SIZE;
        let (lo, hi) = (at.max(start), end.min(start + PAGE_SIZE));
        let new = &bytes[lo - at..hi - at];
        if new == &memory[lo..hi] {
            return None;
        }
        let mut copy = page_as_judged(memory, page, input)?;
        copy[lo - start..hi - start].copy_from_slice(new);
        Some((page, copy))
    })
}

/// The attack's `size` bytes at `at` as a near miss leaves them: what
/// the memory holds there, with one to three stray filler runs of 1 to
/// `MIN_FILLER / 4` bytes (see [`Collector::near_misses`]).
fn near_miss(r: &mut Rng, fillers: &[u8], memory: &[u8], at: usize, size: usize) -> Vec<u8> {
    let mut out = memory[at..at + size].to_vec();
    for _ in 0..1 + r.below(3) {
        let filler = fillers[r.below(fillers.len() as u64) as usize];
        let run = (1 + r.below(MIN_FILLER as u64 / 4) as usize).min(size);
        let from = r.below((size - run + 1) as u64) as usize;
        out[from..from + run].fill(filler);
    }
    out
}

/// `size` bytes an exploit would write: a filler run (at least half the
/// payload and at least [`MIN_FILLER`] bytes: the padding that carries it
/// to the field it aims at), then little-endian addresses into the memory
/// (`memory_len` bytes), as payloads that redirect pointers do. A write of
/// nothing but plausible pointers is a data-only attack no page classifier
/// can tell from the program's own pointer updates; it is not simulated.
fn attacker_bytes(r: &mut Rng, fillers: &[u8], size: usize, memory_len: usize) -> Vec<u8> {
    let filler = fillers[r.below(fillers.len() as u64) as usize];
    let pointers = (size.saturating_sub(MIN_FILLER) / 4)
        .min(size / 8)
        .min(1 + r.below(4) as usize);
    let mut out = vec![filler; size - pointers * 4];
    let target = r.below(memory_len.max(1) as u64) as u32;
    for _ in 0..pointers {
        out.extend_from_slice(&target.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attest::heap::HeapTracker;
    use walmart_jit::vmctx::AllocRole;

    /// The records a collector (injecting `inject`, one per hook) writes
    /// while `run` drives it.
    fn records(
        name: &str,
        inject: Vec<Label>,
        configure: impl FnOnce(Collector) -> Collector,
        run: impl FnOnce(&mut Collector),
    ) -> Vec<walmart_attest::dataset::Record> {
        let dir =
            std::env::temp_dir().join(format!("walmart-collect-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.wds");
        let w = DatasetWriter::create(&path, &Default::default()).unwrap();
        let rate = if inject.is_empty() { 0.0 } else { 1.0 };
        let mut c = configure(Collector::new(w, 0, 1, inject, rate, 1.0, 1000));
        run(&mut c);
        c.finish().unwrap().finish().unwrap();
        let d = walmart_attest::dataset::Dataset::load(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        d.records
    }

    /// Eight pages of varied bytes, none of them a filler, none zero.
    fn filler_free_memory() -> Vec<u8> {
        (0..8 * 4096u32)
            .map(|i| [0x10, 0x20, 0x33, 0x7F][(i * 7 % 13 % 4) as usize])
            .collect()
    }

    fn pages(records: &[walmart_attest::dataset::Record]) -> Vec<(u32, Label)> {
        records.iter().map(|r| (r.page, r.label)).collect()
    }

    #[test]
    fn fillers_in_clean_runs_are_those_clean_pages_hold_as_long_as_a_payload() {
        let page = |label: Label, runs: &[(u8, usize)]| {
            let mut bytes = filler_free_memory()[..PAGE_SIZE].to_vec();
            let mut at = 100;
            for &(b, n) in runs {
                bytes[at..at + n].fill(b);
                at += n + 50;
            }
            walmart_attest::dataset::Record {
                group: 0,
                seed: 0,
                page: 0,
                label,
                bytes,
            }
        };
        let all = DEFAULT_FILLERS;
        // A base64 line of `A`, breakpoints one short of a payload's run,
        // near-miss-sized NOPs; an attacked page's `B` padding is not the
        // application's own.
        let records = [
            page(Label::Benign, &[(0x41, 76), (0xcc, MIN_FILLER - 1)]),
            page(Label::Benign, &[(0x90, 4), (0x90, 4)]),
            page(Label::HeapOverflow, &[(0x42, 200)]),
        ];
        assert_eq!(fillers_in_clean_runs(&records, &all), [0x41]);
        assert!(fillers_in_clean_runs(&records, &[0x90, 0xcc]).is_empty());
        let runs = [page(Label::Benign, &[(0x61, MIN_FILLER), (0xcc, 300)])];
        assert_eq!(fillers_in_clean_runs(&runs, &all), [0xcc, 0x61]);
    }

    #[test]
    fn injections_label_exactly_the_pages_they_touch() {
        let mut heap = HeapTracker::default();
        // A chunk ending 4 bytes before a page boundary: the overflow
        // touches pages 2 and 3.
        heap.event(AllocRole::Malloc, [60, 0, 0], 3 * 4096 - 64, |_| None);
        let memory = vec![7u8; 8 * 4096];
        let records = records(
            "inject",
            vec![Label::HeapOverflow],
            |c| c,
            |c| c.at_hook(&memory, &[5], &heap, None),
        );
        // The dirty page, then each attacked page clean and corrupted.
        assert_eq!(
            pages(&records),
            [
                (5, Label::Benign),
                (2, Label::Benign),
                (2, Label::HeapOverflow),
                (3, Label::Benign),
                (3, Label::HeapOverflow)
            ]
        );
        for r in &records {
            let clean = r.bytes == memory[..4096];
            assert_eq!(
                clean,
                r.label == Label::Benign,
                "only attacked copies differ"
            );
        }
    }

    #[test]
    fn near_misses_are_benign_pages_with_only_short_filler_runs() {
        let mut heap = HeapTracker::default();
        // A chunk whose overflows (16 to 255 bytes) stay within page 2.
        heap.event(AllocRole::Malloc, [60, 0, 0], 2 * 4096 + 1000, |_| None);
        // So that every filler byte of a near miss is one it put there.
        let memory = filler_free_memory();
        let kept = records(
            "near",
            vec![Label::HeapOverflow],
            |c| c.near_misses(true),
            |c| {
                for _ in 0..20 {
                    c.at_hook(&memory, &[], &heap, None);
                }
            },
        );
        let longest_filler_run = |bytes: &[u8]| {
            bytes
                .chunk_by(|a, b| a == b)
                .filter(|run| DEFAULT_FILLERS.contains(&run[0]))
                .map(<[u8]>::len)
                .max()
                .unwrap_or(0)
        };
        let (mut near, mut stray, mut attacked) = (0, 0, 0);
        for r in &kept {
            let at = r.page as usize * 4096;
            let clean = &memory[at..at + 4096];
            match r.label {
                Label::Benign if r.bytes != clean => {
                    near += 1;
                    let run = longest_filler_run(&r.bytes);
                    // Up to three runs of 1-4 bytes (two may abut).
                    assert!(run < MIN_FILLER, "a near miss with a run of {run}");
                    // Only filler bytes were changed.
                    assert!(r
                        .bytes
                        .iter()
                        .zip(clean)
                        .all(|(a, b)| a == b || DEFAULT_FILLERS.contains(a)));
                    stray += usize::from(run > 0);
                }
                Label::Benign => {}
                _ => attacked += 1,
            }
        }
        // Every attacked page has its near miss, each with a stray run.
        assert!(
            attacked == 20 && near == attacked && stray == near,
            "{near} near misses ({stray} with a filler run), {attacked} attacked"
        );
        // Without the option, none.
        let kept = records(
            "no-near",
            vec![Label::HeapOverflow],
            |c| c,
            |c| c.at_hook(&memory, &[], &heap, None),
        );
        assert!(kept.iter().all(
            |r| r.label != Label::Benign || r.bytes == memory[r.page as usize * 4096..][..4096]
        ));
    }

    #[test]
    fn payloads_and_near_misses_pad_only_with_the_fillers_asked_for() {
        let mut heap = HeapTracker::default();
        heap.event(AllocRole::Malloc, [60, 0, 0], 2 * 4096 + 1000, |_| None);
        let memory = filler_free_memory();
        // A freed chunk for the use-after-free payloads, a stack pointer
        // for the smashes: every kind of payload pads.
        heap.event(AllocRole::Malloc, [100, 0, 0], 4 * 4096 + 512, |_| None);
        heap.event(AllocRole::Free, [4 * 4096 + 512, 0, 0], 0, |_| None);
        let padding = |fillers: &'static [u8]| {
            let kept = records(
                "fillers",
                vec![Label::HeapOverflow, Label::UseAfterFree, Label::StackSmash],
                |c| c.near_misses(true).fillers(fillers),
                |c| {
                    for _ in 0..60 {
                        c.at_hook(&memory, &[], &heap, Some(6 * 4096 + 100));
                    }
                },
            );
            let kinds: std::collections::BTreeSet<Label> = kept.iter().map(|r| r.label).collect();
            assert_eq!(kinds.len(), 4, "every kind injected: {kinds:?}");
            // Every byte an attack or a near miss changed that is not
            // part of an address: the runs of one byte value.
            let mut seen = std::collections::BTreeSet::new();
            for r in &kept {
                let at = r.page as usize * 4096;
                let changed: Vec<u8> = r
                    .bytes
                    .iter()
                    .zip(&memory[at..at + 4096])
                    .filter(|(a, b)| a != b)
                    .map(|(a, _)| *a)
                    .collect();
                for run in changed.chunk_by(|a, b| a == b) {
                    if run.len() >= 4 || r.label == Label::Benign {
                        seen.insert(run[0]);
                    }
                }
            }
            seen
        };
        // Zero is dropped.
        let asked = padding(&[0x42, 0x00, 0xCC]);
        assert!(
            asked.iter().all(|b| [0x42, 0xCC].contains(b)) && asked.len() == 2,
            "{asked:x?}"
        );
        // None asked: the default's, `a` among them.
        let default = padding(&[]);
        assert!(default.contains(&0x61) && default.len() > 2, "{default:x?}");
    }

    #[test]
    fn records_hold_pages_as_the_cnn_judges_them_without_shipped_blocks() {
        use walmart_attest::SHIPPED_BLOCK;
        // Page 2 as the data segments left it: varied bytes, no zeros.
        let mut memory: Vec<u8> = (0..4 * 4096u32).map(|i| (i % 251 + 1) as u8).collect();
        let image = walmart_attest::shipped_digests(&memory[2 * 4096..3 * 4096]);
        // Page 3 shipped too, and left as shipped.
        let untouched = walmart_attest::shipped_digests(&memory[3 * 4096..4 * 4096]);
        // The module wrote block 5 since.
        memory[2 * 4096 + 5 * SHIPPED_BLOCK + 7] ^= 0xFF;
        let mut heap = HeapTracker::default();
        heap.event(AllocRole::Malloc, [60, 0, 0], 2 * 4096 + 1000, |_| None);
        let kept = records(
            "shipped",
            vec![Label::HeapOverflow],
            |mut c| {
                c.set_shipped([(2, image), (3, untouched)].into_iter().collect());
                c
            },
            |c| c.at_hook(&memory, &[1, 2, 3], &heap, None),
        );
        let blocks = |bytes: &[u8]| -> Vec<bool> {
            bytes
                .chunks(SHIPPED_BLOCK)
                .map(|b| b.iter().all(|&x| x == 0))
                .collect()
        };
        let mut overflowed = 0;
        for r in &kept {
            let zeroed = blocks(&r.bytes);
            match (r.page, r.label) {
                // Page 1 holds no shipped block: as it is. Page 3 (all
                // its blocks as shipped: input to the runtime, which the
                // CNN does not judge) is not recorded.
                (1, _) => assert!(zeroed.iter().all(|z| !z)),
                // Clean: every block but the written one zeroed.
                (2, Label::Benign) => {
                    assert!(
                        zeroed.iter().enumerate().all(|(i, &z)| z == (i != 5)),
                        "{zeroed:?}"
                    )
                }
                // Attacked: the blocks the overflow reached are judged whole.
                (2, Label::HeapOverflow) => {
                    overflowed += 1;
                    let reached = (1000 + 60) / SHIPPED_BLOCK;
                    assert!(!zeroed[5] && !zeroed[reached], "{zeroed:?}");
                    assert!(zeroed[0] && zeroed[31], "{zeroed:?}");
                }
                other => panic!("unexpected record {other:?}"),
            }
        }
        assert_eq!(overflowed, 1);
    }

    #[test]
    fn records_hold_the_inputs_runs_zeroed_and_payloads_whole() {
        let mut memory = filler_free_memory();
        // Page 2 holds a run of 100 `A`s; the input held a longer one.
        memory[2 * 4096 + 500..2 * 4096 + 600].fill(b'A');
        let runs = Arc::new(InputRuns::default());
        runs.note(&[b'A'; 4096]);
        let mut heap = HeapTracker::default();
        heap.event(AllocRole::Malloc, [60, 0, 0], 2 * 4096 + 1000, |_| None);
        let kept = records(
            "input-runs",
            vec![Label::HeapOverflow],
            |mut c| {
                c.follow_input(runs.clone());
                c.fillers(b"A")
            },
            |c| c.at_hook(&memory, &[2], &heap, None),
        );
        let longest_a = |bytes: &[u8]| {
            bytes
                .split(|&b| b != b'A')
                .map(<[u8]>::len)
                .max()
                .unwrap_or(0)
        };
        let clean: Vec<_> = kept.iter().filter(|r| r.label == Label::Benign).collect();
        let attacked: Vec<_> = kept.iter().filter(|r| r.label != Label::Benign).collect();
        assert_eq!((clean.len(), attacked.len()), (1, 1), "{:?}", pages(&kept));
        let (clean, attacked) = (&clean[0].bytes, &attacked[0].bytes);
        assert!(clean[500..600].iter().all(|&b| b == 0));
        assert_eq!(
            (&clean[..500], &clean[600..]),
            (
                &memory[2 * 4096..2 * 4096 + 500],
                &memory[2 * 4096 + 600..3 * 4096]
            )
        );
        // The payload lands on the page as judged, and its own run of
        // `A`s, as long as the input's or not, stays.
        assert!(attacked[500..600].iter().all(|&b| b == 0));
        assert!(longest_a(attacked) >= MIN_FILLER, "{attacked:?}");
        let changed: Vec<usize> = (0..4096).filter(|&i| attacked[i] != clean[i]).collect();
        assert!(changed.iter().all(|&i| i >= 1000 + 60), "{changed:?}");
    }

    #[test]
    fn near_misses_have_a_budget_of_their_own() {
        let mut heap = HeapTracker::default();
        heap.event(AllocRole::Malloc, [60, 0, 0], 2 * 4096 + 1000, |_| None);
        let memory = vec![7u8; 8 * 4096];
        let dir =
            std::env::temp_dir().join(format!("walmart-collect-budget-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.wds");
        let w = DatasetWriter::create(&path, &Default::default()).unwrap();
        // Three records per label: the dirty pages fill the benign budget.
        let mut c =
            Collector::new(w, 0, 1, vec![Label::HeapOverflow], 1.0, 1.0, 3).near_misses(true);
        c.at_hook(&memory, &[4, 5, 6], &heap, None);
        c.at_hook(&memory, &[], &heap, None);
        assert_eq!(c.near_misses_written(), 2);
        assert_eq!(c.counts[&Label::Benign], 3 + 2);
        c.finish().unwrap().finish().unwrap();
        let kept = walmart_attest::dataset::Dataset::load(&path)
            .unwrap()
            .records;
        std::fs::remove_dir_all(&dir).unwrap();
        let pages: Vec<u32> = kept
            .iter()
            .filter(|r| r.label == Label::Benign && r.bytes == memory[..4096])
            .map(|r| r.page)
            .collect();
        assert_eq!(pages, [4, 5, 6], "the real benign pages all kept");
    }

    #[test]
    fn real_violations_label_their_pages_and_taint_them() {
        let heap = HeapTracker::default();
        let memory = vec![7u8; 8 * 4096];
        let records = records(
            "violation",
            vec![],
            |c| c,
            |c| {
                // A write straddling pages 2 and 3.
                c.violation(Label::HeapOverflow, 3 * 4096 - 2, 3 * 4096 + 4);
                c.at_hook(&memory, &[3, 5], &heap, None);
                // Later versions of a corrupted page are not benign.
                c.at_hook(&memory, &[2, 3, 6], &heap, None);
                c.violation(Label::UseAfterFree, 6 * 4096 + 8, 6 * 4096 + 9);
                c.at_hook(&memory, &[6], &heap, None);
            },
        );
        assert_eq!(
            pages(&records),
            [
                (2, Label::HeapOverflow),
                (3, Label::HeapOverflow),
                (5, Label::Benign),
                (6, Label::Benign),
                (6, Label::UseAfterFree),
            ]
        );
    }
}
