//! The exact verifier: page digests.
//!
//! It keeps a 128-bit digest (seeded XXH3) of every page's last legitimate
//! contents. `Dirty` and `Input` pages carry new legitimate contents and
//! replace the digest; `Audit` pages were not written through any tracked path since,
//! so a different digest means someone changed the page behind the
//! module's back (another thread, or a host writing while it was not
//! write-protected). Such a page is flagged once, and its new contents
//! become the reference.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::OnceLock;

use crate::snapshot::{PageKind, PageSnapshot};
use crate::verifier::{Verdict, Verifier};

/// A page's 128-bit digest: XXH3, seeded once per process with a random
/// seed. The exact checks keep it, hooks skip pages whose digest did not
/// change, and the CNN remembers scores by it: XXH3 is fast but not a
/// cryptographic hash, and the secret seed is what keeps anyone from
/// preparing contents that collide with a page already judged.
pub fn page_digest(bytes: &[u8]) -> u128 {
    twox_hash::XxHash3_128::oneshot_with_seed(secret_seed(), bytes)
}

/// A block's 64-bit digest ([`crate::SHIPPED_BLOCK`] bytes of a page, to
/// tell which still hold what the module shipped): XXH3 with the same
/// secret seed as [`page_digest`], so that the module cannot write other
/// bytes with a shipped block's digest.
pub fn block_digest(bytes: &[u8]) -> u64 {
    twox_hash::XxHash3_64::oneshot_with_seed(secret_seed(), bytes)
}

/// The per-process random seed of the digests.
fn secret_seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(unguessable)
}

/// 64 bits a module cannot know before it runs: the standard library's
/// randomly keyed hasher (seeded from the operating system), fresh at
/// each call. For secrets the attestation keeps from the guest (digest
/// seeds, the slack marks' key), not for cryptography.
pub fn unguessable() -> u64 {
    std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64)
}

/// Exact change detection by digest; see the module documentation.
#[derive(Default)]
pub struct DigestVerifier {
    digests: HashMap<(u32, u32), u128>,
}

impl DigestVerifier {
    /// A verifier that has seen no page yet.
    pub fn new() -> DigestVerifier {
        DigestVerifier::default()
    }

    /// Pages with a recorded digest.
    pub fn pages_known(&self) -> usize {
        self.digests.len()
    }
}

impl Verifier for DigestVerifier {
    fn name(&self) -> &str {
        "digest"
    }

    fn event_kind(&self) -> crate::EventKind {
        crate::EventKind::HostTamper
    }

    fn verify(&mut self, pages: &[PageSnapshot<'_>], out: &mut Vec<Verdict>) {
        for p in pages {
            let digest = p.digest;
            let previous = self.digests.insert((p.memory, p.page), digest);
            let changed = p.kind == PageKind::Audit && previous.is_some_and(|d| d != digest);
            out.push(if changed {
                Verdict {
                    score: 1.0,
                    flagged: true,
                }
            } else {
                Verdict::CLEAN
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(kind: PageKind, page: u32, bytes: &[u8]) -> PageSnapshot<'_> {
        PageSnapshot::new(0, page, 0, kind, bytes)
    }

    #[test]
    fn audits_flag_only_untracked_changes() {
        let mut v = DigestVerifier::new();
        let (a, b) = (vec![1u8; 4096], vec![2u8; 4096]);
        let mut out = Vec::new();
        // First sight of an audited page is its baseline.
        v.verify(&[page(PageKind::Audit, 3, &a)], &mut out);
        // A tracked write changes it legitimately.
        v.verify(&[page(PageKind::Dirty, 3, &b)], &mut out);
        v.verify(&[page(PageKind::Audit, 3, &b)], &mut out);
        assert!(out.iter().all(|v| !v.flagged));
        // An untracked change is caught once, then becomes the reference.
        v.verify(&[page(PageKind::Audit, 3, &a)], &mut out);
        v.verify(&[page(PageKind::Audit, 3, &a)], &mut out);
        assert_eq!(
            out.iter().map(|v| v.flagged).collect::<Vec<_>>(),
            [false, false, false, true, false]
        );
        assert_eq!(v.pages_known(), 1);
    }
}
