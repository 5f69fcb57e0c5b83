//! The CNN as a [`Verifier`]: scores every page written since the last
//! snapshot and flags those at or above the model's threshold as `cnn`
//! events.

use crate::snapshot::{PageKind, PageSnapshot, PAGE_SIZE};
use crate::verifier::{Verdict, Verifier};
use crate::EventKind;

use super::{InferencePlan, Model, INFERENCE_BATCH};

/// Final-flush batches with at least this many written pages are split
/// across threads (the guest has stopped; its core is idle).
const PARALLEL_MIN: usize = 8 * INFERENCE_BATCH;

/// Most threads one batch is split across.
const MAX_THREADS: usize = 4;

/// Classifies pages with a [`Model`]. It scores written (`Dirty`) pages
/// only and leaves audited ones to the exact digest check, so it belongs
/// beside the digest verifier (`AttestOptions::also_verify`), not in its
/// place.
pub struct CnnVerifier {
    model: Model,
    /// One per thread a batch has been split across so far.
    lanes: Vec<InferencePlan>,
    threads: usize,
}

impl CnnVerifier {
    /// A verifier for `model`, which must take whole pages.
    pub fn new(model: Model) -> Result<CnnVerifier, super::ModelError> {
        if model.arch.input_len != PAGE_SIZE {
            return Err(super::ModelError::InputLength {
                expected: PAGE_SIZE,
                found: model.arch.input_len,
            });
        }
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_THREADS);
        Ok(CnnVerifier {
            lanes: vec![model.plan()],
            threads,
            model,
        })
    }

    /// The model's decision threshold.
    pub fn threshold(&self) -> f32 {
        self.model.threshold
    }
}

impl Verifier for CnnVerifier {
    fn name(&self) -> &str {
        "cnn"
    }

    fn event_kind(&self) -> EventKind {
        EventKind::Cnn
    }

    /// Scores the `Dirty` pages on this thread. `Audit` pages come back
    /// clean: they were scored when last written, and any change since is
    /// the exact digest check's to find, with certainty.
    fn verify(&mut self, pages: &[PageSnapshot<'_>], out: &mut Vec<Verdict>) {
        self.judge(pages, out, 1);
    }

    /// As [`Verifier::verify`], split across the cores when the batch is
    /// large.
    fn verify_final(&mut self, pages: &[PageSnapshot<'_>], out: &mut Vec<Verdict>) {
        self.judge(pages, out, self.threads);
    }
}

impl CnnVerifier {
    /// Scores the dirty pages of `pages` with up to `threads` threads.
    fn judge(&mut self, pages: &[PageSnapshot<'_>], out: &mut Vec<Verdict>, threads: usize) {
        let first = out.len();
        out.resize(first + pages.len(), Verdict::CLEAN);
        let dirty: Vec<usize> = (0..pages.len())
            .filter(|&i| pages[i].kind == PageKind::Dirty)
            .collect();
        let parts = if dirty.len() >= PARALLEL_MIN {
            threads.max(1)
        } else {
            1
        };
        while self.lanes.len() < parts {
            self.lanes.push(self.model.plan());
        }
        let model = &self.model;
        let written: Vec<&[u8]> = dirty.iter().map(|&i| pages[i].bytes).collect();
        let scores: Vec<f32> = if parts == 1 {
            model.score_pages(&mut self.lanes[0], &written)
        } else {
            let per = written.len().div_ceil(parts);
            std::thread::scope(|s| {
                let running: Vec<_> = written
                    .chunks(per)
                    .zip(self.lanes.iter_mut())
                    .map(|(part, plan)| s.spawn(move || model.score_pages(plan, part)))
                    .collect();
                running
                    .into_iter()
                    .flat_map(|t| t.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                    .collect()
            })
        };
        for (&i, score) in dirty.iter().zip(scores) {
            out[first + i] = Verdict {
                score,
                flagged: score >= self.model.threshold,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Architecture;
    use crate::rng::Rng;

    #[test]
    fn split_batches_score_like_one_pass_and_audits_stay_clean() {
        let mut model = Model::init(Architecture::default_cnn(), 3);
        model.threshold = 0.5;
        let mut rng = Rng::new(4);
        let n = 2 * PARALLEL_MIN + 37;
        let bytes: Vec<u8> = (0..n * PAGE_SIZE).map(|_| rng.below(256) as u8).collect();
        let pages: Vec<PageSnapshot<'_>> = bytes
            .chunks(PAGE_SIZE)
            .enumerate()
            .map(|(i, b)| PageSnapshot {
                memory: 0,
                page: i as u32,
                epoch: 0,
                kind: if i % 5 == 0 {
                    PageKind::Audit
                } else {
                    PageKind::Dirty
                },
                bytes: b,
            })
            .collect();
        let want = model
            .scores(ndarray::ArrayView2::from_shape((n, PAGE_SIZE), &bytes[..]).unwrap())
            .unwrap();
        let mut v = CnnVerifier::new(model).unwrap();
        v.threads = 3;
        let mut out = vec![Verdict::CLEAN];
        v.verify_final(&pages, &mut out);
        assert_eq!(out.len(), n + 1);
        for (i, verdict) in out[1..].iter().enumerate() {
            if i % 5 == 0 {
                assert_eq!(*verdict, Verdict::CLEAN, "audit page {i}");
            } else {
                assert!((verdict.score - want[i]).abs() < 1e-5, "page {i}");
                assert_eq!(verdict.flagged, want[i] >= 0.5);
            }
        }
        assert_eq!(v.lanes.len(), 3);
        // While the guest runs: one thread, the same verdicts.
        let mut again = vec![Verdict::CLEAN];
        v.verify(&pages, &mut again);
        assert_eq!(again, out);
    }
}
