//! The verifier interface: pages in, per-page scores and verdicts out.

use std::borrow::Cow;
use std::sync::Arc;

use crate::snapshot::PageSnapshot;
use crate::InputRuns;

/// A verifier's judgement of one page.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Verdict {
    /// How suspicious the page is: the CNN's log-odds that it is
    /// corrupted ([`crate::model::class1_log_odds`]); 1.0 for a page an
    /// exact check (or a verifier that failed) flags, 0.0 for one it
    /// passes.
    pub score: f32,
    /// Whether the page counts as a detection.
    pub flagged: bool,
}

impl Verdict {
    /// A clean page.
    pub const CLEAN: Verdict = Verdict {
        score: 0.0,
        flagged: false,
    };
}

/// Judges snapshots of pages. Runs on the attestation thread, one batch
/// (the pages of one hook) at a time, in hook order.
pub trait Verifier: Send {
    /// A short name for logs and summaries (`digest`, `cnn`, ...).
    fn name(&self) -> &str;

    /// The event kind its detections are reported as.
    fn event_kind(&self) -> crate::EventKind;

    /// Appends one verdict per page of `pages` to `out`, in order.
    fn verify(&mut self, pages: &[PageSnapshot<'_>], out: &mut Vec<Verdict>);

    /// [`Verifier::verify`] for batches judged while the store waits in
    /// its final flush (the last pages written, and any still queued):
    /// the guest has stopped, so the verifier may use every core (while
    /// the guest runs, a second busy thread would take the core the guest
    /// needs).
    fn verify_final(&mut self, pages: &[PageSnapshot<'_>], out: &mut Vec<Verdict>) {
        self.verify(pages, out)
    }

    /// The bytes of `page` as this verifier judges them, kept as the
    /// evidence of a page it flags: the page's own, unless it looks past
    /// some of them.
    fn judged<'a>(&self, page: &PageSnapshot<'a>) -> Cow<'a, [u8]> {
        Cow::Borrowed(page.bytes)
    }

    /// The runs of one byte the host's input holds in this store, which
    /// a verifier of what the module wrote may pass over (see
    /// [`crate::InputRuns`]); given once, before the first page. Returns
    /// whether it follows them: the store records them only for a
    /// verifier that does. Ignored by default.
    fn follow_input(&mut self, runs: Arc<InputRuns>) -> bool {
        let _ = runs;
        false
    }
}

/// A boxed verifier, so callers can choose one at run time.
impl<V: Verifier + ?Sized> Verifier for Box<V> {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn event_kind(&self) -> crate::EventKind {
        (**self).event_kind()
    }

    fn verify(&mut self, pages: &[PageSnapshot<'_>], out: &mut Vec<Verdict>) {
        (**self).verify(pages, out)
    }

    fn verify_final(&mut self, pages: &[PageSnapshot<'_>], out: &mut Vec<Verdict>) {
        (**self).verify_final(pages, out)
    }

    fn judged<'a>(&self, page: &PageSnapshot<'a>) -> Cow<'a, [u8]> {
        (**self).judged(page)
    }

    fn follow_input(&mut self, runs: Arc<InputRuns>) -> bool {
        (**self).follow_input(runs)
    }
}
