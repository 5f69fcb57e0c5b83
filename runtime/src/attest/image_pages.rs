//! What attestation knows of a module's memory image once, for every
//! attested instance: the pages its data segments write, their digests
//! and their blocks' digests, and a read-only view of their bytes.
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

use std::collections::HashMap;
use std::os::fd::{AsRawFd, BorrowedFd};

use walmart_attest::{block_digest, page_digest, PAGE_SIZE, SHIPPED_BLOCK};

/// A module image's pages as attestation sees them.
pub(crate) struct ImagePages {
    /// A private read-only mapping of the image: `len` bytes holding the
    /// memory's bytes from `start` on.
    view: *const u8,
    len: usize,
    start: usize,
    /// The 4 KiB pages the data segments write, ascending, and each one's
    /// [`page_digest`].
    pages: Vec<u32>,
    digests: Vec<u128>,
    /// The [`block_digest`]s of each of those pages' blocks
    /// (`PageSnapshot::shipped`).
    shipped: HashMap<u32, Box<[u64]>>,
}

// SAFETY: the view is read-only and never unmapped while the value lives;
// the rest is plain data.
unsafe impl Send for ImagePages {}
// SAFETY: as above: nothing is ever written through `view`.
unsafe impl Sync for ImagePages {}

impl ImagePages {
    /// Maps `len` bytes of `fd` from `offset` (the image of the memory's
    /// bytes from `start`) and digests `pages` (ascending, all inside it).
    /// `None` if the mapping fails: attestation then copies and digests
    /// as for a module without an image.
    pub(crate) fn new(
        fd: BorrowedFd<'_>,
        offset: u64,
        start: usize,
        len: usize,
        pages: Vec<u32>,
    ) -> Option<ImagePages> {
        let offset = libc::off_t::try_from(offset).ok()?;
        // SAFETY: a new private read-only mapping chosen by the kernel; it
        // overlaps nothing of ours.
        let view = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                fd.as_raw_fd(),
                offset,
            )
        };
        if view == libc::MAP_FAILED {
            return None;
        }
        let mut image = ImagePages {
            view: view as *const u8,
            len,
            start,
            pages: Vec::new(),
            digests: Vec::new(),
            shipped: HashMap::new(),
        };
        let mut digests = Vec::with_capacity(pages.len());
        let mut shipped = HashMap::with_capacity(pages.len());
        for &page in &pages {
            let bytes = image.bytes(page)?;
            digests.push(page_digest(bytes));
            let blocks = bytes.chunks(SHIPPED_BLOCK).map(block_digest).collect();
            shipped.insert(page, blocks);
        }
        image.pages = pages;
        image.digests = digests;
        image.shipped = shipped;
        Some(image)
    }

    /// The bytes of 4 KiB page `page` of the memory, as the image holds
    /// them; `None` outside it.
    pub(crate) fn bytes(&self, page: u32) -> Option<&[u8]> {
        let at = (page as usize * PAGE_SIZE).checked_sub(self.start)?;
        if at + PAGE_SIZE > self.len {
            return None;
        }
        // SAFETY: inside the view, mapped read-only while `self` lives.
        Some(unsafe { std::slice::from_raw_parts(self.view.add(at), PAGE_SIZE) })
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

    /// The block digests of `page`, one the segments wrote.
    pub(crate) fn shipped(&self, page: u32) -> Option<&[u64]> {
        self.shipped.get(&page).map(|b| &b[..])
    }

    /// Every page's block digests.
    pub(crate) fn all_shipped(&self) -> &HashMap<u32, Box<[u64]>> {
        &self.shipped
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
