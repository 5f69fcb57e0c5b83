//! The CNN as a [`Verifier`]: scores every page written since the last
//! snapshot and flags those at or above the model's threshold as `cnn`
//! events.

use crate::snapshot::{PageKind, PageSnapshot, PAGE_SIZE};
use crate::verifier::{Verdict, Verifier};
use crate::EventKind;

use super::{batch_of, InferencePlan, Model};

/// Pages scored per forward pass: large enough for the matrix multiplies
/// to run at speed, small enough to keep activations in cache-sized chunks.
const BATCH: usize = 64;

/// Classifies pages with a [`Model`].
pub struct CnnVerifier {
    model: Model,
    plan: InferencePlan,
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
        Ok(CnnVerifier {
            plan: model.plan(),
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

    /// Scores the `Dirty` pages. `Audit` pages come back clean: they
    /// were scored when last written, and any change since is the exact
    /// digest check's to find, with certainty.
    fn verify(&mut self, pages: &[PageSnapshot<'_>], out: &mut Vec<Verdict>) {
        let first = out.len();
        out.resize(first + pages.len(), Verdict::CLEAN);
        let dirty: Vec<usize> = (0..pages.len())
            .filter(|&i| pages[i].kind == PageKind::Dirty)
            .collect();
        for chunk in dirty.chunks(BATCH) {
            let bytes: Vec<&[u8]> = chunk.iter().map(|&i| pages[i].bytes).collect();
            let batch = batch_of(&bytes, PAGE_SIZE);
            let scores = self
                .model
                .scores_planned(&mut self.plan, batch.view())
                .expect("input length checked at construction");
            for (&i, score) in chunk.iter().zip(scores) {
                out[first + i] = Verdict {
                    score,
                    flagged: score >= self.model.threshold,
                };
            }
        }
    }
}
