//! The CNN as a [`Verifier`]: scores every page written since the last
//! snapshot and flags those at or above the model's threshold as `cnn`
//! events. Where the network runs is a [`PageScorer`]: [`CpuScorer`]
//! here, the WebAssembly sandbox in the runtime crate.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use crate::input_runs::zero_spans;
use crate::snapshot::{PageKind, PageSnapshot, PAGE_SIZE};
use crate::verifier::{Verdict, Verifier};
use crate::{EventKind, InputRuns};

use super::{InferencePlan, Model};

/// Final-flush batches with at least this many pages to score are split
/// across threads (the guest has stopped; its core is idle). Pages are
/// scored one at a time, so a split pays off as soon as the work outweighs
/// waking a pooled thread (some microseconds; a page takes two to ten).
/// On lz4's runs, 8 and 40 measured the same as 16 within noise.
const PARALLEL_MIN: usize = 16;

/// Scores remembered by contents; the memory is dropped and begun again
/// when it reaches this many pages (20 bytes each).
const MEMO_MAX: usize = 1 << 16;

/// Most threads one batch is split across.
const MAX_THREADS: usize = 4;

/// The threads a back end may split a batch across on this machine.
pub fn scoring_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_THREADS)
}

/// The threads that score the shares of a final flush other than the
/// calling thread's: a pool of walmart's own, started on first use and
/// kept. Not rayon's global pool: an embedder that runs guests on that
/// pool's threads could have every one of them waiting for a verdict, and
/// nobody free to help (a verdict never waits for a share nobody took,
/// see [`Split`], but it then takes one thread's time). `None` if it
/// cannot be started (flushes are then scored on one thread).
fn scoring_pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(scoring_threads().saturating_sub(1).max(1))
            .thread_name(|i| format!("walmart-cnn-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}

/// How many shares a batch of `pages` is split into on `threads` threads:
/// one, unless it is the final flush (`all_cores`) and large enough to pay
/// for waking the others.
pub fn scoring_shares(pages: usize, all_cores: bool, threads: usize) -> usize {
    if all_cores && pages >= PARALLEL_MIN {
        threads.clamp(1, pages)
    } else {
        1
    }
}

/// A verifier back end: runs a model's network on whole pages.
pub trait PageScorer: Send {
    /// The verifier's name in logs and summaries (`cnn`, `cnn-wasm`).
    fn name(&self) -> &str;

    /// The probability of class 1 (corrupted) for each of `pages`, in
    /// order, or why it could not be had. `all_cores`: the guest has
    /// stopped (the final flush), so every core may be used.
    fn score(&mut self, pages: &[&[u8]], all_cores: bool) -> Result<Vec<f32>, String>;
}

/// The CPU back end: the model's [`InferencePlan`]s, one for the calling
/// thread and one for each pooled thread a batch has been split across.
pub struct CpuScorer {
    model: Arc<Model>,
    plan: InferencePlan,
    helpers: Vec<Arc<Mutex<InferencePlan>>>,
    threads: usize,
}

impl CpuScorer {
    /// `model` on this machine's cores.
    pub fn new(model: Model) -> CpuScorer {
        let plan = model.plan();
        CpuScorer::planned(model, plan)
    }

    /// [`Self::new`] computing in floats on every CPU, the 16-bit integer
    /// build left out: the scores the `gpu` back end computes, and the
    /// `wasm` one where the widths do not fit 16 bits (for comparing
    /// them).
    pub fn in_floats(model: Model) -> CpuScorer {
        let plan = model.plan_in_floats();
        CpuScorer::planned(model, plan)
    }

    /// A scorer of `model` around `plan`, one of its plans.
    fn planned(model: Model, plan: InferencePlan) -> CpuScorer {
        let threads = scoring_threads();
        if threads > 1 {
            // Started now rather than in the first final flush.
            scoring_pool();
        }
        CpuScorer::around(Arc::new(model), plan, threads)
    }

    /// A scorer of `model` with `plan` (one of the model's) for the
    /// calling thread, and a plan of its own for each other thread a final
    /// flush may use, made now: forked (and their buffers faulted in) in
    /// the flush, they cost a short run's verdict tens of microseconds.
    fn around(model: Arc<Model>, plan: InferencePlan, threads: usize) -> CpuScorer {
        let helpers = (1..threads)
            .map(|_| Arc::new(Mutex::new(model.fork_plan(&plan))))
            .collect();
        CpuScorer {
            plan,
            helpers,
            threads,
            model,
        }
    }

    /// A scorer of the same network for another run: the weights are not
    /// rearranged again, the buffers are its own.
    pub fn fork(&self) -> CpuScorer {
        let plan = self.model.fork_plan(&self.plan);
        CpuScorer::around(Arc::clone(&self.model), plan, self.threads)
    }

    /// How many threads' plans it holds, the calling thread's included.
    #[cfg(test)]
    fn lanes(&self) -> usize {
        1 + self.helpers.len()
    }
}

/// A batch split across threads. Pages are claimed a chunk at a time from
/// `cursor`, and every thread that claims pages reports their scores
/// before the caller may return, which it does once all `len` pages are
/// reported: a pooled thread that wakes after the others took every page
/// (on a virtual machine tens of microseconds, at times milliseconds
/// later, when the caller has long been done) finds nothing to claim, and
/// nobody waits for it.
struct Split {
    pages: SharedPages,
    cursor: AtomicUsize,
    chunk: usize,
    done: Mutex<SplitDone>,
    all_done: Condvar,
}

/// What the threads of a [`Split`] reported.
#[derive(Default)]
struct SplitDone {
    pages: usize,
    scores: Vec<(usize, Vec<f32>)>,
    /// A thread's scoring panicked.
    failed: bool,
}

/// The caller's pages, for threads of the pool, which outlive the call
/// (see [`Split::claim`] and [`Claimed`]).
struct SharedPages {
    pages: *const &'static [u8],
    len: usize,
}

// SAFETY: the pages are only read, and only while the caller waits for
// their scores (see `Split::claim` and `Claimed`).
unsafe impl Send for SharedPages {}
unsafe impl Sync for SharedPages {}

impl Split {
    /// The next chunk of pages no thread has claimed yet: their index and
    /// bytes, to be scored and handed to [`Split::report`].
    fn claim(&self) -> Option<(usize, &[&[u8]])> {
        let at = self.cursor.fetch_add(self.chunk, Ordering::Relaxed);
        if at >= self.pages.len {
            return None;
        }
        let end = (at + self.chunk).min(self.pages.len);
        // SAFETY: `pages` points to `len` slices the caller of
        // `CpuScorer::score` borrowed, and it returns, by any path, only
        // once every page claimed is reported (`Claimed`); this chunk is
        // not yet, so they are alive, and the chunk is inside them. A
        // thread that comes later fails the test above and reads nothing.
        let all = unsafe { std::slice::from_raw_parts(self.pages.pages, self.pages.len) };
        Some((at, &all[at..end]))
    }

    /// The scores of the `count` pages claimed at `at`, or `None` if their
    /// scoring panicked.
    fn report(&self, at: usize, count: usize, scores: Option<Vec<f32>>) {
        let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        done.pages += count;
        match scores {
            Some(scores) => done.scores.push((at, scores)),
            None => done.failed = true,
        }
        // The caller waits for every page, or, once it has closed the
        // cursor (`Claimed`), for those claimed.
        if done.pages == self.pages.len || self.cursor.load(Ordering::Relaxed) >= CLOSED {
            self.all_done.notify_all();
        }
    }

    /// Claims and scores chunks with `plan` until none is left.
    fn work(&self, model: &Model, plan: &mut InferencePlan) {
        while let Some((at, pages)) = self.claim() {
            let scored = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                model.score_pages(plan, pages)
            }));
            // A panic's payload is not dropped here: its `Drop` could
            // panic again, out of this loop with the chunk unreported.
            self.report(at, pages.len(), scored.map_err(std::mem::forget).ok());
        }
    }
}

/// Held by the caller of a split: when dropped, on return or while
/// unwinding, it stops any further claim and waits until every page
/// claimed so far is reported, so no thread reads the caller's pages
/// after it has returned, whatever the path.
struct Claimed<'a>(&'a Split);

/// A cursor at or past this is closed: no page is left to claim (claims
/// that come later only add to it).
const CLOSED: usize = usize::MAX / 2;

impl Claimed<'_> {
    /// Waits for the pages claimed to be reported; what was reported.
    fn wait(&self) -> std::sync::MutexGuard<'_, SplitDone> {
        let split = self.0;
        let claimed = split
            .cursor
            .swap(CLOSED, Ordering::Relaxed)
            .min(split.pages.len);
        let mut done = split.done.lock().unwrap_or_else(|e| e.into_inner());
        while done.pages < claimed {
            done = split.all_done.wait(done).unwrap_or_else(|e| e.into_inner());
        }
        done
    }
}

impl Drop for Claimed<'_> {
    fn drop(&mut self) {
        drop(self.wait());
    }
}

impl PageScorer for CpuScorer {
    fn name(&self) -> &str {
        "cnn"
    }

    fn score(&mut self, pages: &[&[u8]], all_cores: bool) -> Result<Vec<f32>, String> {
        let parts = scoring_shares(pages.len(), all_cores, self.threads);
        let pool = if parts > 1 { scoring_pool() } else { None };
        let Some(pool) = pool else {
            return Ok(self.model.score_pages(&mut self.plan, pages));
        };
        while self.helpers.len() + 1 < parts {
            let plan = self.model.fork_plan(&self.plan);
            self.helpers.push(Arc::new(Mutex::new(plan)));
        }
        // Pages one at a time on the one-page path, batches on the
        // batched one.
        let chunk = if self.plan.tiled.is_some() {
            1
        } else {
            super::INFERENCE_BATCH
        };
        let split = Arc::new(Split {
            pages: SharedPages {
                // Only the lifetime changes; `Claimed` below keeps every
                // read of the pages within this call.
                pages: pages.as_ptr().cast::<&'static [u8]>(),
                len: pages.len(),
            },
            cursor: AtomicUsize::new(0),
            chunk,
            done: Mutex::default(),
            all_done: Condvar::new(),
        });
        let claimed = Claimed(&split);
        for helper in &self.helpers[..parts - 1] {
            let (split, model, helper) = (split.clone(), self.model.clone(), helper.clone());
            pool.spawn(move || {
                let mut plan = helper.lock().unwrap_or_else(|e| e.into_inner());
                split.work(&model, &mut plan);
            });
        }
        split.work(&self.model, &mut self.plan);
        // Every page is claimed by now: this waits for all of them.
        let mut done = claimed.wait();
        if done.failed {
            return Err("a scoring thread panicked".into());
        }
        let mut scores = vec![0.0; pages.len()];
        for (at, part) in done.scores.drain(..) {
            scores[at..at + part.len()].copy_from_slice(&part);
        }
        Ok(scores)
    }
}

/// Classifies pages with a model's network on a [`PageScorer`]. It scores
/// what the module wrote (`Dirty` pages) only, leaves audited ones to the
/// exact digest check and the host's input and the module's data segments
/// (`Input` pages) alone, and judges a dirty page's blocks that still hold
/// the data segments' bytes as zeros ([`PageSnapshot::shipped`]), so it
/// belongs beside the digest verifier (`AttestOptions::also_verify`), not
/// in its place.
pub struct CnnVerifier<S: PageScorer = CpuScorer> {
    scorer: S,
    threshold: f32,
    /// Scores of contents already scored, by a 128-bit hash of the page:
    /// programs rewrite pages with what they held before (a fifth of jq's
    /// pages under `fine`), and the score is a function of the bytes.
    /// Keyed by [`crate::page_digest`], seeded so that nobody can prepare
    /// contents that collide with a page scored clean, and by the page's
    /// [`PageSnapshot::shipped`] blocks, which the network does not see,
    /// and by the runs the input held that were zeroed in it
    /// ([`InputRuns::held_in`]; they depend on the memory beside it too).
    memo: HashMap<MemoKey, f32>,
    /// Runs of one byte the store's input holds: zeroed in the pages
    /// before scoring ([`crate::InputRuns`]).
    input: Option<Arc<InputRuns>>,
    /// The runs zeroed in each page the last batch flagged, by memory,
    /// page and digest: its evidence ([`Verifier::judged`]) is what was
    /// scored, though more input may have come since.
    flagged_held: HashMap<(u32, u32, u128), Vec<Range<usize>>>,
    /// Set once the scorer failed: its pages are flagged from then on (a
    /// verifier that cannot judge must not pass pages as clean).
    failed: bool,
}

/// What [`CnnVerifier`] remembers a score by: the page's digest, its
/// shipped blocks, and the input's runs zeroed in it.
type MemoKey = (u128, u32, Vec<Range<usize>>);

/// A page a verifier that cannot judge flags (whatever the threshold).
const FAILED: Verdict = Verdict {
    score: 1.0,
    flagged: true,
};

/// Refuses a model that does not take whole pages.
pub fn check_page_model(model: &Model) -> Result<(), super::ModelError> {
    if model.arch.input_len != PAGE_SIZE {
        return Err(super::ModelError::InputLength {
            expected: PAGE_SIZE,
            found: model.arch.input_len,
        });
    }
    Ok(())
}

impl CnnVerifier {
    /// A verifier for `model` on the CPU; the model must take whole pages.
    pub fn new(model: Model) -> Result<CnnVerifier, super::ModelError> {
        check_page_model(&model)?;
        let threshold = model.threshold;
        Ok(CnnVerifier::with_scorer(CpuScorer::new(model), threshold))
    }

    /// A verifier like this one for another run (what
    /// `walmart::attest::PreparedCnn` hands each run): the same network and
    /// threshold, buffers of its own, no score remembered, not failed.
    pub fn fresh(&self) -> CnnVerifier {
        CnnVerifier::with_scorer(self.scorer.fork(), self.threshold)
    }
}

impl<S: PageScorer> CnnVerifier<S> {
    /// A verifier flagging pages that `scorer` scores at or above
    /// `threshold`.
    pub fn with_scorer(scorer: S, threshold: f32) -> CnnVerifier<S> {
        CnnVerifier {
            scorer,
            threshold,
            memo: HashMap::new(),
            input: None,
            flagged_held: HashMap::new(),
            failed: false,
        }
    }

    /// The runs of `page` that the input held ([`InputRuns::held_in`]).
    fn held_runs(&self, page: &PageSnapshot<'_>) -> Vec<Range<usize>> {
        self.input
            .as_ref()
            .map_or_else(Vec::new, |runs| runs.held_in(page.bytes, page.runs_beyond))
    }

    /// What the network scores of `page`: its bytes with the blocks the
    /// module file shipped zeroed ([`PageSnapshot::unshipped`]), and
    /// `held`, the runs the input held.
    fn scored_bytes<'a>(page: &PageSnapshot<'a>, held: &[Range<usize>]) -> Cow<'a, [u8]> {
        let bytes = page.unshipped();
        if held.is_empty() {
            return bytes;
        }
        let mut owned = bytes.into_owned();
        zero_spans(&mut owned, held);
        Cow::Owned(owned)
    }

    /// Keeps what was zeroed in `page` when `verdict` flags it, for its
    /// evidence.
    fn keep_held(&mut self, page: &PageSnapshot<'_>, verdict: Verdict, held: &[Range<usize>]) {
        if verdict.flagged {
            self.flagged_held
                .insert((page.memory, page.page, page.digest), held.to_vec());
        }
    }

    /// The model's decision threshold.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// The back end.
    pub fn scorer_mut(&mut self) -> &mut S {
        &mut self.scorer
    }

    /// Scores the dirty pages of `pages`, every core allowed when
    /// `all_cores`.
    fn judge(&mut self, pages: &[PageSnapshot<'_>], out: &mut Vec<Verdict>, all_cores: bool) {
        let first = out.len();
        out.resize(first + pages.len(), Verdict::CLEAN);
        let threshold = self.threshold;
        let verdict = |score: f32| Verdict {
            score,
            flagged: score >= threshold,
        };
        self.flagged_held.clear();
        // Pages whose contents were scored before take that score.
        let mut todo: Vec<(usize, MemoKey)> = Vec::new();
        for (i, page) in pages.iter().enumerate() {
            if page.kind != PageKind::Dirty {
                continue;
            }
            // The same bytes with other blocks shipped, or other runs
            // held, are scored otherwise.
            let key = (page.digest, page.shipped, self.held_runs(page));
            match self.memo.get(&key).copied() {
                Some(score) => {
                    out[first + i] = verdict(score);
                    self.keep_held(page, out[first + i], &key.2);
                }
                None => todo.push((i, key)),
            }
        }
        if todo.is_empty() {
            return;
        }
        // Shipped blocks are not the module's writes, nor the input's
        // runs: zeroed, as a page the module never touched there.
        let unshipped: Vec<Cow<'_, [u8]>> = todo
            .iter()
            .map(|(i, key)| Self::scored_bytes(&pages[*i], &key.2))
            .collect();
        let written: Vec<&[u8]> = unshipped.iter().map(|b| &b[..]).collect();
        let scores = if self.failed {
            Err(String::new())
        } else {
            self.scorer.score(&written, all_cores)
        };
        match scores {
            Ok(scores) => {
                if self.memo.len() + todo.len() > MEMO_MAX {
                    self.memo.clear();
                }
                for ((i, key), score) in todo.into_iter().zip(scores) {
                    out[first + i] = verdict(score);
                    self.keep_held(&pages[i], out[first + i], &key.2);
                    self.memo.insert(key, score);
                }
            }
            Err(e) => {
                if !self.failed {
                    eprintln!(
                        "walmart: the {} verifier failed ({e}); its pages are flagged",
                        self.scorer.name()
                    );
                    self.failed = true;
                }
                for (i, key) in todo {
                    out[first + i] = FAILED;
                    // Its evidence: what the scorer was handed.
                    self.keep_held(&pages[i], FAILED, &key.2);
                }
            }
        }
    }
}

impl<S: PageScorer> Verifier for CnnVerifier<S> {
    fn name(&self) -> &str {
        self.scorer.name()
    }

    fn event_kind(&self) -> EventKind {
        EventKind::Cnn
    }

    /// Scores the `Dirty` pages on this thread. `Audit` pages come back
    /// clean: they were scored when last written (unless they were input),
    /// and any change since is the exact digest check's to find, with
    /// certainty. So do `Input` pages: the host's input or the module's
    /// data segments as instantiation wrote them, not what the module
    /// wrote.
    fn verify(&mut self, pages: &[PageSnapshot<'_>], out: &mut Vec<Verdict>) {
        self.judge(pages, out, false);
    }

    /// As [`Verifier::verify`], split across the cores when the batch is
    /// large.
    fn verify_final(&mut self, pages: &[PageSnapshot<'_>], out: &mut Vec<Verdict>) {
        self.judge(pages, out, true);
    }

    /// With its shipped blocks and the input's runs zeroed, as the last
    /// batch scored it.
    fn judged<'a>(&self, page: &PageSnapshot<'a>) -> Cow<'a, [u8]> {
        match self
            .flagged_held
            .get(&(page.memory, page.page, page.digest))
        {
            Some(held) => Self::scored_bytes(page, held),
            None => Self::scored_bytes(page, &self.held_runs(page)),
        }
    }

    fn follow_input(&mut self, runs: Arc<InputRuns>) -> bool {
        self.input = Some(runs);
        self.memo.clear();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Architecture;
    use crate::rng::Rng;
    use crate::snapshot::SHIPPED_BLOCK;

    /// A fresh model of the default architecture (weights from
    /// `model_seed`, threshold at even odds) and `n` pages of random bytes
    /// from `page_seed`, side by side.
    fn model_and_pages(model_seed: u64, page_seed: u64, n: usize) -> (Model, Vec<u8>) {
        let mut model = Model::init(Architecture::default_cnn(), model_seed);
        model.threshold = 0.0;
        let mut rng = Rng::new(page_seed);
        let bytes = (0..n * PAGE_SIZE).map(|_| rng.below(256) as u8).collect();
        (model, bytes)
    }

    #[test]
    fn a_split_batch_does_not_wait_for_pool_threads_that_are_busy() {
        // Every thread of the scoring pool is held until the batch is
        // scored: the calling thread must score it all by itself rather
        // than wait for a share nobody takes.
        let n = 2 * PARALLEL_MIN;
        let (model, bytes) = model_and_pages(5, 6, n);
        let want = model
            .scores(ndarray::ArrayView2::from_shape((n, PAGE_SIZE), &bytes[..]).unwrap())
            .unwrap();
        /// Lets the pool's threads go when dropped, whatever happens.
        struct Hold(Arc<(Mutex<bool>, Condvar)>);
        impl Drop for Hold {
            fn drop(&mut self) {
                let (released, wake) = &*self.0;
                *released.lock().unwrap_or_else(|e| e.into_inner()) = true;
                wake.notify_all();
            }
        }
        let pool = scoring_pool().expect("the scoring pool starts");
        let threads = pool.current_num_threads();
        let hold = Hold(Arc::new((Mutex::new(false), Condvar::new())));
        let (started, running) = std::sync::mpsc::channel();
        for _ in 0..threads {
            let (held, started) = (hold.0.clone(), started.clone());
            pool.spawn(move || {
                let _ = started.send(());
                let (released, wake) = &*held;
                let mut released = released.lock().unwrap_or_else(|e| e.into_inner());
                while !*released {
                    released = wake.wait(released).unwrap_or_else(|e| e.into_inner());
                }
            });
        }
        for _ in 0..threads {
            running.recv().unwrap();
        }
        let (scored, scores) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut scorer = CpuScorer::new(model);
            scorer.threads = 2;
            let pages: Vec<&[u8]> = bytes.chunks(PAGE_SIZE).collect();
            let _ = scored.send(scorer.score(&pages, true));
        });
        let got = scores.recv_timeout(std::time::Duration::from_secs(60));
        drop(hold);
        let got = got
            .expect("scored while every pool thread was busy")
            .unwrap();
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!((g - w).abs() < 1e-5, "page {i}");
        }
    }

    /// Scores what it is shown: the sum of the page's bytes, so that any
    /// byte left unzeroed shows.
    struct SumScorer(Vec<Vec<u8>>);

    impl PageScorer for SumScorer {
        fn name(&self) -> &str {
            "sum"
        }

        fn score(&mut self, pages: &[&[u8]], _all_cores: bool) -> Result<Vec<f32>, String> {
            self.0.extend(pages.iter().map(|p| p.to_vec()));
            Ok(pages
                .iter()
                .map(|p| p.iter().map(|&b| f32::from(b)).sum())
                .collect())
        }
    }

    #[test]
    fn shipped_blocks_are_judged_as_zeros_and_remembered_apart() {
        let bytes: Vec<u8> = (0..PAGE_SIZE)
            .map(|i| (i / SHIPPED_BLOCK) as u8 + 1)
            .collect();
        let mut v = CnnVerifier::with_scorer(SumScorer(Vec::new()), f32::MAX);
        let mut page = PageSnapshot::new(0, 7, 1, PageKind::Dirty, &bytes);
        page.shipped = 1 | 1 << 5 | 1 << 31;
        let mut out = Vec::new();
        v.verify(&[page], &mut out);
        let shown = &v.scorer_mut().0[0];
        for (i, block) in shown.chunks(SHIPPED_BLOCK).enumerate() {
            let want = if [0, 5, 31].contains(&i) {
                0
            } else {
                i as u8 + 1
            };
            assert!(block.iter().all(|&b| b == want), "block {i}");
        }
        // The same bytes, other blocks shipped (or none): scored again.
        page.shipped = 1 << 5;
        v.verify(&[page], &mut out);
        page.shipped = 0;
        v.verify(&[page], &mut out);
        // And remembered by bytes and blocks together.
        page.shipped = 1 << 5;
        v.verify(&[page], &mut out);
        assert_eq!(v.scorer_mut().0.len(), 3);
        assert_eq!(v.scorer_mut().0[2], bytes);
        let sum = |skip: &[usize]| -> f32 {
            (0..32)
                .filter(|i| !skip.contains(i))
                .map(|i| (i as f32 + 1.0) * SHIPPED_BLOCK as f32)
                .sum()
        };
        let scores: Vec<f32> = out.iter().map(|v| v.score).collect();
        assert_eq!(scores, [sum(&[0, 5, 31]), sum(&[5]), sum(&[]), sum(&[5])]);
    }

    #[test]
    fn split_batches_score_like_one_pass_and_audits_and_input_stay_clean() {
        let n = 2 * PARALLEL_MIN + 37;
        let (model, bytes) = model_and_pages(3, 4, n);
        let pages: Vec<PageSnapshot<'_>> = bytes
            .chunks(PAGE_SIZE)
            .enumerate()
            .map(|(i, b)| {
                let kind = match i % 5 {
                    0 => PageKind::Audit,
                    3 => PageKind::Input,
                    _ => PageKind::Dirty,
                };
                PageSnapshot::new(0, i as u32, 0, kind, b)
            })
            .collect();
        let want = model
            .scores(ndarray::ArrayView2::from_shape((n, PAGE_SIZE), &bytes[..]).unwrap())
            .unwrap();
        let mut v = CnnVerifier::new(model).unwrap();
        v.scorer.threads = 3;
        let mut out = vec![Verdict::CLEAN];
        v.verify_final(&pages, &mut out);
        assert_eq!(out.len(), n + 1);
        for (i, verdict) in out[1..].iter().enumerate() {
            if i % 5 == 0 || i % 5 == 3 {
                assert_eq!(*verdict, Verdict::CLEAN, "audit or input page {i}");
            } else {
                assert!((verdict.score - want[i]).abs() < 1e-5, "page {i}");
                assert_eq!(verdict.flagged, want[i] >= 0.5);
            }
        }
        assert_eq!(v.scorer.lanes(), 3);
        // While the guest runs: one thread, the same verdicts.
        let mut again = vec![Verdict::CLEAN];
        v.verify(&pages, &mut again);
        assert_eq!(again, out);
    }

    #[test]
    fn a_fresh_verifier_scores_alike_with_buffers_of_its_own_and_nothing_remembered() {
        let n = 2 * PARALLEL_MIN;
        let (model, bytes) = model_and_pages(8, 9, n);
        let pages: Vec<_> = bytes
            .chunks(PAGE_SIZE)
            .enumerate()
            .map(|(i, b)| PageSnapshot::new(0, i as u32, 0, PageKind::Dirty, b))
            .collect();
        let mut first = CnnVerifier::new(model).unwrap();
        let mut want = Vec::new();
        first.verify(&pages, &mut want);
        assert_eq!(first.memo.len(), n);
        first.failed = true;
        let mut fresh = first.fresh();
        assert!(fresh.memo.is_empty() && !fresh.failed);
        assert_eq!(fresh.threshold(), first.threshold());
        // Every thread a final flush may use has its plan before the flush.
        assert_eq!(fresh.scorer.lanes(), fresh.scorer.threads);
        let mut got = Vec::new();
        fresh.verify_final(&pages, &mut got);
        assert_eq!(got, want, "the same network, split or not");
        assert!(
            Arc::ptr_eq(&fresh.scorer.model, &first.scorer.model),
            "weights shared"
        );
    }

    #[test]
    fn contents_scored_before_take_their_score_and_changed_ones_are_scored() {
        let mut model = Model::init(Architecture::default_cnn(), 6);
        model.threshold = 0.0;
        let mut rng = Rng::new(7);
        // Three distinct contents over six pages.
        let distinct: Vec<Vec<u8>> = (0..3)
            .map(|_| (0..PAGE_SIZE).map(|_| rng.below(256) as u8).collect())
            .collect();
        let want = model
            .scores(
                ndarray::ArrayView2::from_shape((3, PAGE_SIZE), &distinct.concat()[..]).unwrap(),
            )
            .unwrap();
        fn page(i: usize, bytes: &[u8]) -> PageSnapshot<'_> {
            PageSnapshot::new(0, i as u32, 0, PageKind::Dirty, bytes)
        }
        let contents: Vec<&[u8]> = distinct.iter().map(|b| &b[..]).collect();
        let pages: Vec<_> = (0..6).map(|i| page(i, contents[i % 3])).collect();
        let mut v = CnnVerifier::new(model).unwrap();
        let mut out = Vec::new();
        v.verify(&pages, &mut out);
        assert_eq!(v.memo.len(), 3, "each content scored once");
        for (i, verdict) in out.iter().enumerate() {
            assert!((verdict.score - want[i % 3]).abs() < 1e-5, "page {i}");
        }
        // Page 0 written again with page 1's old contents, then with new
        // ones: the first takes the remembered score, the second is scored.
        let mut fresh = contents[0].to_vec();
        fresh[100] ^= 0xff;
        let mut out = Vec::new();
        v.verify(&[page(0, contents[1]), page(0, &fresh)], &mut out);
        assert_eq!(
            out[0],
            Verdict {
                score: want[1],
                flagged: want[1] >= 0.5
            }
        );
        let fresh_score = v
            .scorer
            .model
            .scores(ndarray::ArrayView2::from_shape((1, PAGE_SIZE), &fresh[..]).unwrap())
            .unwrap()[0];
        assert!((out[1].score - fresh_score).abs() < 1e-5);
        assert_eq!(v.memo.len(), 4);
    }

    #[test]
    fn the_same_bytes_are_scored_again_once_the_input_holds_their_run() {
        let model = crate::model::default::default_model().unwrap();
        let mut bytes = vec![b'x'; PAGE_SIZE];
        bytes[1000..1600].fill(b'A');
        let pages = [PageSnapshot::new(0, 1, 0, PageKind::Dirty, &bytes)];
        let runs = Arc::new(InputRuns::default());
        let mut v = CnnVerifier::new(model).unwrap();
        v.follow_input(runs.clone());
        fn verdicts(v: &mut CnnVerifier, pages: &[PageSnapshot<'_>]) -> (Verdict, Vec<u8>) {
            let mut out = Vec::new();
            v.verify(pages, &mut out);
            (out[0], v.judged(&pages[0]).into_owned())
        }
        let (before, seen) = verdicts(&mut v, &pages);
        assert!(before.flagged, "the built-in model flags 600 `A`s");
        assert_eq!(seen, bytes);
        runs.note(&[b'A'; 599]);
        assert_eq!(
            verdicts(&mut v, &pages),
            (before, bytes.clone()),
            "a shorter run"
        );
        runs.note(&[b'A'; 600]);
        // The evidence of the last batch is what it scored.
        assert_eq!(v.judged(&pages[0]), bytes);
        let (after, seen) = verdicts(&mut v, &pages);
        assert!(!after.flagged && after.score < before.score);
        assert!(seen[1000..1600].iter().all(|&b| b == 0));
        assert_eq!(
            (&seen[..1000], &seen[1600..]),
            (&bytes[..1000], &bytes[1600..])
        );
    }
}
