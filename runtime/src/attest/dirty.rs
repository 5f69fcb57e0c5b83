//! The dirty-page bitmap of an attested memory: one byte per 4 KiB page,
//! written by the store barrier in generated code and by walmart's own
//! writers (WASI, `Memory::write`, bulk-memory builtins), read and cleared
//! by hooks. All on the store's thread.

use walmart_jit::vmctx::{
    DIRTY_PAGES_4G, DIRTY_PAGE_SHIFT, DIRTY_PAGE_SIZE, DIRTY_SLACK, GUARDED_DIRTY_PREFIX,
};

use crate::error::{Error, Result};

/// A bitmap covering the largest size its memory may reach.
///
/// One page of slack lies on each side. Generated code marks a group of
/// stores through one base index from one of them (jit `hooks.rs`), and
/// when 32-bit indexes wrapped around within a group, that mark lands on
/// the byte before the bitmap (meaning the top page of a 4 GiB memory) or
/// on the two bytes after it (meaning pages 0 and 1); hooks fold those
/// back.
pub(crate) struct DirtyBitmap {
    ptr: *mut u8,
    len: usize,
}

/// Bytes of slack mapped before and after the bitmap.
const SLACK: usize = DIRTY_SLACK;
/// Pages of a 4 GiB memory.
const PAGES_4G: usize = DIRTY_PAGES_4G;

impl DirtyBitmap {
    /// A clean bitmap for a memory of at most `max_bytes`. The mapping is
    /// reserved lazily by the kernel: a 4 GiB memory costs 1 MiB of address
    /// space and only the bitmap pages its writes touch.
    pub(crate) fn new(max_bytes: u64) -> Result<DirtyBitmap> {
        let pages = max_bytes.div_ceil(DIRTY_PAGE_SIZE as u64) as usize;
        // Whole u64 words, so scanning never reads past the end.
        let len = pages.max(1).next_multiple_of(8);
        let map =
            crate::vm::mmap::map_anonymous(len + 2 * SLACK, libc::PROT_READ | libc::PROT_WRITE)
                .map_err(|e| {
                    Error::Resource(format!("cannot map a {len}-byte dirty-page bitmap: {e}"))
                })?;
        // SAFETY: inside the mapping, which is SLACK bytes longer.
        let ptr = unsafe { map.add(SLACK) };
        Ok(DirtyBitmap { ptr, len })
    }

    /// The bitmap of a guarded memory, placed in the `GUARDED_DIRTY_PREFIX`
    /// bytes at `prefix`, just below the memory (see
    /// `vmctx::GUARDED_DIRTY_BELOW`): one byte for each page of 4 GiB.
    /// `prefix` must be the start of an address range the caller reserved
    /// and hands over; the bitmap maps over it and unmaps it when dropped.
    pub(crate) fn below_guarded(prefix: *mut u8) -> Result<DirtyBitmap> {
        // SAFETY: MAP_FIXED replaces the caller's own reservation of
        // exactly this range (the function contract) and nothing else.
        let map = unsafe {
            libc::mmap(
                prefix as *mut libc::c_void,
                GUARDED_DIRTY_PREFIX,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if map == libc::MAP_FAILED {
            let e = std::io::Error::last_os_error();
            // SAFETY: the range was handed to us; give it back.
            unsafe { libc::munmap(prefix as *mut libc::c_void, GUARDED_DIRTY_PREFIX) };
            return Err(Error::Resource(format!(
                "cannot map the dirty-page bitmap of a guarded memory: {e}"
            )));
        }
        debug_assert_eq!(GUARDED_DIRTY_PREFIX, PAGES_4G + 2 * SLACK);
        Ok(DirtyBitmap {
            // SAFETY: inside the mapping, which is SLACK bytes longer.
            ptr: unsafe { prefix.add(SLACK) },
            len: PAGES_4G,
        })
    }

    /// The pointer the store barrier adds `addr >> 12` to, for a memory
    /// whose byte 0 is at `base` (page-aligned).
    pub(crate) fn biased(&self, base: *mut u8) -> *mut u8 {
        self.ptr
            .wrapping_sub(base as usize >> DIRTY_PAGE_SHIFT as usize)
    }

    /// Marks the pages of `[offset, offset + len)` dirty.
    pub(crate) fn mark(&self, offset: usize, len: usize) {
        if len == 0 {
            return;
        }
        let first = offset >> DIRTY_PAGE_SHIFT;
        let last = ((offset + len - 1) >> DIRTY_PAGE_SHIFT).min(self.len - 1);
        for page in first..=last {
            // SAFETY: page < len, inside our mapping.
            unsafe { *self.ptr.add(page) = 1 };
        }
    }

    /// Whether `page` is dirty.
    pub(crate) fn is_dirty(&self, page: usize) -> bool {
        // SAFETY: bounds checked first.
        page < self.len && unsafe { *self.ptr.add(page) != 0 }
    }

    /// Marks `page` clean.
    pub(crate) fn clear(&self, page: usize) {
        if page < self.len {
            // SAFETY: bounds checked.
            unsafe { *self.ptr.add(page) = 0 };
        }
    }

    /// Moves marks that landed in the slack (see [`DirtyBitmap`]) onto
    /// the pages they stand for.
    fn fold_slack(&self) {
        // SAFETY: the slack bytes are inside our mapping.
        unsafe {
            let before = self.ptr.sub(1);
            if *before != 0 {
                *before = 0;
                self.mark((PAGES_4G - 1) << DIRTY_PAGE_SHIFT, 1);
            }
            for page in 0..2 {
                let after = self.ptr.add(self.len + page);
                if *after != 0 {
                    *after = 0;
                    self.mark(page << DIRTY_PAGE_SHIFT, 1);
                }
            }
        }
    }

    /// Calls `found` with each dirty page among the first `pages`, in order.
    pub(crate) fn for_each_dirty(&self, pages: usize, mut found: impl FnMut(u32)) {
        self.fold_slack();
        let words = pages.min(self.len).div_ceil(8);
        // SAFETY: the mapping is `len` bytes, a multiple of 8 and page
        // aligned, so `words` u64 reads stay inside it.
        let bits = unsafe { std::slice::from_raw_parts(self.ptr as *const u64, words) };
        for (w, word) in bits.iter().enumerate() {
            let mut word = *word;
            while word != 0 {
                let byte = word.trailing_zeros() as usize / 8;
                let page = w * 8 + byte;
                if page < pages {
                    found(page as u32);
                }
                word &= !(0xffu64 << (byte * 8));
            }
        }
    }
}

impl Drop for DirtyBitmap {
    fn drop(&mut self) {
        // SAFETY: our own mapping, no longer referenced by any memory.
        unsafe {
            libc::munmap(
                self.ptr.sub(SLACK) as *mut libc::c_void,
                self.len + 2 * SLACK,
            )
        };
    }
}

// SAFETY: the bitmap is plain memory owned by one memory of one store; the
// store (and its thread discipline) decides who touches it.
unsafe impl Send for DirtyBitmap {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_collects_and_clears_exact_pages() {
        let b = DirtyBitmap::new(1 << 20).unwrap();
        b.mark(4095, 2); // straddles pages 0 and 1
        b.mark(40 * 4096, 1);
        b.mark(100, 0);
        let dirty = |pages| {
            let mut out = Vec::new();
            b.for_each_dirty(pages, |p| out.push(p));
            out
        };
        assert_eq!(dirty(256), [0, 1, 40]);
        b.clear(1);
        assert_eq!(dirty(256), [0, 40]);
        // Pages past the memory's current size are not reported.
        assert_eq!(dirty(10), [0]);
    }
}
