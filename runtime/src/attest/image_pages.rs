//! What attestation knows of a module's memory image once, for every
//! attested instance: the pages its data segments write, their digests
//! and their blocks' digests, a read-only view of their bytes, and the
//! dlmalloc heap they hold (`ImageHeap`, which heap walks step over where
//! it is unchanged).
//!
//! Why: an attested instance of a module with a large image (a Python
//! component's 28 MB) digested every page its segments wrote when it was
//! made (`MemoryAttest::initialized`: a page digest and 32 block digests
//! a page) and again at its first snapshot, which read (and so faulted
//! in) every page of the copy-on-write mapping and copied each into the
//! snapshot ring: about 8 ms for each request `walmart serve --attest`
//! answered, for bytes that are the module file's and the same in every
//! instance. Now the digests are computed once per module, and the first
//! snapshot hands the verifiers the pages nothing wrote since from this
//! view, without touching the instance's memory (see
//! `MemoryAttest::start_pristine`).

use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use walmart_attest::{page_digest, shipped_digests, PAGE_SIZE};

/// A module image's pages as attestation sees them.
pub(crate) struct ImagePages {
    /// A private read-only mapping laid out as the memory starts: `len`
    /// bytes, zeros below `start`, the image from there (so a byte's
    /// address in memory is its offset here, as heap walks read memory).
    view: *const u8,
    len: usize,
    /// The 4 KiB pages the data segments write, ascending, and each one's
    /// [`page_digest`].
    pages: Vec<u32>,
    digests: Vec<u128>,
    /// The [`block_digest`]s of each of those pages' blocks
    /// (`PageSnapshot::shipped`), by position in `pages`, made when first
    /// asked for ([`Self::shipped`]): only a page written since is judged
    /// by blocks, and digesting every page's 32 blocks at once took about
    /// 3.4 ms of CPython's instantiation.
    shipped: Box<[OnceLock<Box<[u64]>>]>,
    /// The chain of chunks of a heap the image holds, found once
    /// ([`Self::heap`]).
    heap: OnceLock<Option<Arc<ImageHeap>>>,
    /// Whether a walk that knew dlmalloc's state asked for it before it
    /// was found.
    heap_asked: AtomicBool,
}

/// The chunks of a dlmalloc heap as a module's image holds them, checked
/// once (`heap_walk::image_heap`): a heap walk in an instance steps over
/// the in-use ones whose bytes are still the image's instead of reading
/// them (`heap_walk::Unchanged`).
#[derive(Debug)]
pub(crate) struct ImageHeap {
    /// Each chunk's address, ascending, the top chunk last.
    pub(crate) chunks: Vec<u32>,
    /// What a walk's checks of each read beyond the chunk itself (up to
    /// its successor's head).
    pub(crate) reads: Vec<ChunkReads>,
}

/// What a heap walk's checks of one chunk of an image's heap read beyond
/// the chunk itself and its successor's head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChunkReads {
    /// Nothing: a chunk in use.
    Nothing,
    /// The words its list's neighbours point back at it with: a small
    /// free chunk in a list (`heap_walk::links_agree`), the addresses of
    /// its `fd`'s `bk` and its `bk`'s `fd`.
    Links(u32, u32),
    /// More than that (a tree chunk, one in no list, the top): always
    /// read.
    Everything,
}

// SAFETY: the view is read-only and never unmapped while the value lives;
// the rest is plain data.
unsafe impl Send for ImagePages {}
// SAFETY: as above: nothing is ever written through `view`.
unsafe impl Sync for ImagePages {}

impl ImagePages {
    /// Maps `len` bytes of `fd` from `offset` (the image of the memory's
    /// bytes from `start`, whole OS pages) and digests `pages` (ascending,
    /// all inside it). `None` if the mapping fails: attestation then
    /// copies and digests as for a module without an image.
    pub(crate) fn new(
        fd: BorrowedFd<'_>,
        offset: u64,
        start: usize,
        len: usize,
        pages: Vec<u32>,
    ) -> Option<ImagePages> {
        let offset = libc::off_t::try_from(offset).ok()?;
        let total = start.checked_add(len)?;
        // Zeros below the image: a read-only anonymous mapping reads as
        // the zero page and costs no memory.
        let view = crate::vm::mmap::map_anonymous(total, libc::PROT_READ).ok()?;
        let mut image = ImagePages {
            view,
            len: total,
            pages: Vec::new(),
            digests: Vec::new(),
            shipped: Box::new([]),
            heap: OnceLock::new(),
            heap_asked: AtomicBool::new(false),
        };
        // SAFETY: replaces pages of our own fresh mapping (unmapped with
        // it at drop) with a private read-only view of the file.
        let mapped = unsafe {
            libc::mmap(
                view.add(start) as *mut libc::c_void,
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_FIXED,
                fd.as_raw_fd(),
                offset,
            )
        };
        if mapped != view.wrapping_add(start) as *mut libc::c_void {
            return None;
        }
        let digests = pages
            .iter()
            .map(|&page| image.bytes(page).map(page_digest))
            .collect::<Option<Vec<u128>>>()?;
        image.shipped = pages.iter().map(|_| OnceLock::new()).collect();
        image.pages = pages;
        image.digests = digests;
        Some(image)
    }

    /// The bytes of 4 KiB page `page` of the memory, as the image holds
    /// them; `None` past it.
    pub(crate) fn bytes(&self, page: u32) -> Option<&[u8]> {
        let at = page as usize * PAGE_SIZE;
        self.memory().get(at..at + PAGE_SIZE)
    }

    /// The memory's first bytes as instantiation leaves them, up to the
    /// image's end.
    pub(crate) fn memory(&self) -> &[u8] {
        // SAFETY: the view, mapped read-only while `self` lives.
        unsafe { std::slice::from_raw_parts(self.view, self.len) }
    }

    /// The heap the image holds, found once (`heap_walk::image_heap`)
    /// where `state` says where dlmalloc's state is, from the second walk
    /// that asks with it; else as found before; `None` where it was not.
    ///
    /// Not at the first: finding it walks the image's whole heap, faulting
    /// in the view's pages (5.5 ms for CPython's 58,000 chunks), where
    /// stepping over it saves at most the walk that asked (about 3 ms of
    /// 3.5): a single run of a command, whose one walk with the state is
    /// its last, would pay more than it saves. A module instantiated
    /// again, or an instance walked again, has it from then on.
    pub(crate) fn heap(&self, state: Option<u32>) -> Option<Arc<ImageHeap>> {
        if let Some(heap) = self.heap.get() {
            return heap.clone();
        }
        let at = state?;
        if !self.heap_asked.swap(true, Ordering::Relaxed) {
            return None;
        }
        self.heap
            .get_or_init(|| super::heap_walk::image_heap(self.memory(), at).map(Arc::new))
            .clone()
    }

    /// The pages the data segments write, ascending.
    pub(crate) fn pages(&self) -> &[u32] {
        &self.pages
    }

    /// The digest of the `i`th of [`Self::pages`].
    pub(crate) fn digest(&self, i: usize) -> u128 {
        self.digests[i]
    }

    /// Where `page` is in [`Self::pages`].
    pub(crate) fn position(&self, page: u32) -> Option<usize> {
        self.pages.binary_search(&page).ok()
    }

    /// The block digests of `page`, one the segments wrote (made at the
    /// first ask, from the view).
    pub(crate) fn shipped(&self, page: u32) -> Option<&[u64]> {
        let blocks = self.shipped.get(self.position(page)?)?;
        let bytes = self.bytes(page)?;
        Some(blocks.get_or_init(|| shipped_digests(bytes)))
    }
}

impl std::fmt::Debug for ImagePages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImagePages")
            .field("pages", &self.pages.len())
            .finish_non_exhaustive()
    }
}

impl Drop for ImagePages {
    fn drop(&mut self) {
        // SAFETY: our own mapping; the slices `bytes` gave borrowed `self`.
        unsafe { libc::munmap(self.view as *mut libc::c_void, self.len) };
    }
}
