//! Host-tamper detection by write protection.
//!
//! While control is outside the module (in an embedder's host function, or
//! back in the embedder between export calls) every attested memory is
//! read-only. A write that does not go through walmart's API faults; the
//! signal handler records the page, makes that page writable so the host
//! carries on, and the next entry into the module reports the pages.
//!
//! Why protection and not digests: a digest check must hash the whole
//! memory on every exit and entry (a 16 MiB memory is ~2 ms per crossing
//! at 10 GB/s), while `mprotect` costs two system calls per crossing
//! whatever the size (`cargo run --release -p walmart-benches --bin
//! attest_boundary` measures both; see benches/RESULTS.md). Pages are
//! reported exactly, and nothing is paid while the module runs.
//!
//! The signal handler cannot take locks or allocate, so protected regions
//! live in a fixed static table it scans.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

use walmart_jit::vmctx::{DIRTY_PAGE_SHIFT, DIRTY_PAGE_SIZE};

use crate::error::{Error, Result};

/// Memories that can be attested at once, process-wide.
const SLOTS: usize = 1024;
/// Faulting pages recorded per memory between two checks; more are
/// counted, not listed.
const LOG: usize = 256;

struct Region {
    in_use: AtomicBool,
    protected: AtomicBool,
    /// Faults are walmart's own WASI writing (allowed, not recorded).
    trusted: AtomicBool,
    start: AtomicUsize,
    len: AtomicUsize,
    faults: AtomicUsize,
    pages: [AtomicU32; LOG],
}

impl Region {
    /// Where the memory lies: (start address, length in bytes).
    fn span(&self) -> (usize, usize) {
        (
            self.start.load(Ordering::Acquire),
            self.len.load(Ordering::Acquire),
        )
    }

    const fn new() -> Region {
        Region {
            in_use: AtomicBool::new(false),
            protected: AtomicBool::new(false),
            trusted: AtomicBool::new(false),
            start: AtomicUsize::new(0),
            len: AtomicUsize::new(0),
            faults: AtomicUsize::new(0),
            pages: [const { AtomicU32::new(0) }; LOG],
        }
    }
}

static REGIONS: [Region; SLOTS] = [const { Region::new() }; SLOTS];
/// One past the highest slot ever used, to bound the handler's scan.
static HIGH: AtomicUsize = AtomicUsize::new(0);

/// Pages written behind walmart's back since protection began.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    /// Distinct page numbers, sorted.
    pub(crate) pages: Vec<u32>,
    /// Faults beyond those listed.
    pub(crate) unlisted: usize,
}

/// One memory's entry in the protected-region table.
pub(crate) struct TamperGuard {
    slot: usize,
}

/// `mprotect` on a range of an attested memory.
fn mprotect(start: usize, len: usize, prot: libc::c_int) -> std::io::Result<()> {
    // SAFETY: callers pass ranges of registered memories, which their
    // owners keep mapped while registered; only write access changes.
    unsafe { crate::vm::mmap::protect(start, len, prot) }
}

/// Makes `[start, start + len)` (of a registered memory) read-only.
fn read_only(start: usize, len: usize) -> Result<()> {
    mprotect(start, len, libc::PROT_READ)
        .map_err(|e| Error::Resource(format!("cannot write-protect an attested memory: {e}")))
}

impl TamperGuard {
    /// Registers the memory at `[start, start + len)`.
    pub(crate) fn register(start: *mut u8, len: usize) -> Result<TamperGuard> {
        for (slot, r) in REGIONS.iter().enumerate() {
            if r.in_use
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                r.start.store(start as usize, Ordering::Release);
                r.len.store(len, Ordering::Release);
                r.faults.store(0, Ordering::Release);
                HIGH.fetch_max(slot + 1, Ordering::AcqRel);
                return Ok(TamperGuard { slot });
            }
        }
        Err(Error::Resource(format!(
            "more than {SLOTS} attested memories at once"
        )))
    }

    fn region(&self) -> &'static Region {
        &REGIONS[self.slot]
    }

    /// The memory moved or grew. A protected memory's new pages are
    /// protected too, so a host cannot write into memory it grew.
    pub(crate) fn resize(&self, start: *mut u8, old_len: usize, len: usize) {
        let r = self.region();
        r.start.store(start as usize, Ordering::Release);
        r.len.store(len, Ordering::Release);
        if r.protected.load(Ordering::Acquire) && len > old_len {
            let _ = mprotect(start as usize + old_len, len - old_len, libc::PROT_READ);
        }
    }

    /// Makes the memory read-only.
    pub(crate) fn protect(&self) -> Result<()> {
        let r = self.region();
        r.protected.store(true, Ordering::Release);
        let (start, len) = r.span();
        read_only(start, len).inspect_err(|_| r.protected.store(false, Ordering::Release))
    }

    /// Makes the memory writable again and returns what was written.
    pub(crate) fn unprotect(&self) -> Result<Findings> {
        let r = self.region();
        let (start, len) = r.span();
        mprotect(start, len, libc::PROT_READ | libc::PROT_WRITE)
            .map_err(|e| Error::Resource(format!("cannot unprotect an attested memory: {e}")))?;
        r.protected.store(false, Ordering::Release);
        r.trusted.store(false, Ordering::Release);
        Ok(self.drain())
    }

    /// What was written so far, the memory staying read-only: the pages
    /// whose faults made them writable are protected again (the whole
    /// memory when more faulted than were listed).
    pub(crate) fn findings(&self) -> Result<Findings> {
        let r = self.region();
        let (start, len) = r.span();
        let f = self.drain();
        if f.unlisted > 0 {
            read_only(start, len)?;
        } else {
            for &p in &f.pages {
                read_only(start + ((p as usize) << DIRTY_PAGE_SHIFT), DIRTY_PAGE_SIZE)?;
            }
        }
        Ok(f)
    }

    /// Takes the faults recorded since the last call.
    fn drain(&self) -> Findings {
        let r = self.region();
        let faults = r.faults.swap(0, Ordering::AcqRel);
        let listed = faults.min(LOG);
        let mut pages: Vec<u32> = r.pages[..listed]
            .iter()
            .map(|p| p.load(Ordering::Acquire))
            .collect();
        pages.sort_unstable();
        pages.dedup();
        Findings {
            pages,
            unlisted: faults - listed,
        }
    }

    /// Until the next [`TamperGuard::unprotect`], faults come from a
    /// trusted writer (walmart's WASI running while an injected tampering
    /// left memory protected): they unprotect the page without a report.
    pub(crate) fn trust_faults(&self) {
        self.region().trusted.store(true, Ordering::Release);
    }

    /// Lets walmart's own API write `[offset, offset + len)` of a protected
    /// memory: the pages become writable for `write`, then read-only again.
    pub(crate) fn write_through<R>(
        &self,
        offset: usize,
        len: usize,
        write: impl FnOnce() -> R,
    ) -> R {
        let r = self.region();
        if !r.protected.load(Ordering::Acquire) || len == 0 {
            return write();
        }
        let start = r.start.load(Ordering::Acquire);
        let first = (offset >> DIRTY_PAGE_SHIFT) << DIRTY_PAGE_SHIFT;
        let end = (offset + len).next_multiple_of(DIRTY_PAGE_SIZE);
        let _ = mprotect(
            start + first,
            end - first,
            libc::PROT_READ | libc::PROT_WRITE,
        );
        let out = write();
        let _ = mprotect(start + first, end - first, libc::PROT_READ);
        out
    }
}

impl Drop for TamperGuard {
    fn drop(&mut self) {
        let r = self.region();
        r.protected.store(false, Ordering::Release);
        r.len.store(0, Ordering::Release);
        r.in_use.store(false, Ordering::Release);
    }
}

/// Called by the signal handler for every fault: if `addr` lies in a
/// protected memory, records the page, makes it writable and returns true
/// (the faulting write is then retried and succeeds).
pub(crate) fn handle_fault(addr: usize) -> bool {
    let high = HIGH.load(Ordering::Acquire);
    for r in &REGIONS[..high] {
        if !r.in_use.load(Ordering::Acquire) || !r.protected.load(Ordering::Acquire) {
            continue;
        }
        let (start, len) = r.span();
        if addr < start || addr - start >= len {
            continue;
        }
        let page = (addr - start) >> DIRTY_PAGE_SHIFT;
        if !r.trusted.load(Ordering::Acquire) {
            let i = r.faults.fetch_add(1, Ordering::AcqRel);
            if i < LOG {
                r.pages[i].store(page as u32, Ordering::Release);
            }
        }
        let at = start + (page << DIRTY_PAGE_SHIFT);
        return mprotect(at, DIRTY_PAGE_SIZE, libc::PROT_READ | libc::PROT_WRITE).is_ok();
    }
    false
}
