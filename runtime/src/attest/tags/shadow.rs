//! The shadow of a monitored memory: one byte per 16-byte granule,
//! `colour << 4 | valid` (see `walmart_jit::translate::tags`).

use walmart_jit::vmctx::TAG_GRANULE_SHIFT;

use crate::error::{Error, Result};
use crate::vm::mmap;

/// Colour of memory the monitor does not manage (and, with memory
/// colours, of live heap memory).
pub(crate) const UNMANAGED: u8 = 0;
/// Highest colour given to allocations (pointer colours).
pub(crate) const MAX_ALLOC_COLOUR: u8 = 13;
/// Colour of freed memory in quarantine.
pub(crate) const FREED: u8 = 14;
/// Colour of redzones.
pub(crate) const REDZONE: u8 = 15;

/// Bytes of shadow a guarded 32-bit memory needs: a byte per granule of
/// its 4 GiB and of its guard region, because the check reads the shadow
/// before an out-of-bounds access faults.
pub(crate) const SHADOW_BYTES: usize = ((4usize << 30) + crate::memory::GUARD_SIZE) >> 4;

/// A memory's shadow mapping (lazily committed: untouched granules are
/// zero, i.e. unmanaged).
pub(crate) struct ShadowMap {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the mapping is plain memory owned by this value; the store that
// owns the memory serialises its users.
unsafe impl Send for ShadowMap {}

impl ShadowMap {
    /// A fresh shadow of `len` bytes.
    pub(crate) fn new(len: usize) -> Result<ShadowMap> {
        let ptr = mmap::map_anonymous(len, libc::PROT_READ | libc::PROT_WRITE).map_err(|e| {
            Error::Resource(format!(
                "cannot reserve {len} bytes for the colour-tag shadow: {e}"
            ))
        })?;
        Ok(ShadowMap { ptr, len })
    }

    /// The pointer generated code uses: biased so that the granule of
    /// native address `a` is at `biased + (a >> 4)` for a memory at `base`.
    pub(crate) fn biased(&self, base: *mut u8) -> *mut u8 {
        self.ptr.wrapping_sub(base as usize >> TAG_GRANULE_SHIFT)
    }

    /// A view for reading and painting.
    pub(crate) fn view(&self) -> Shadow {
        Shadow {
            ptr: self.ptr,
            granules: self.len,
        }
    }
}

impl Drop for ShadowMap {
    fn drop(&mut self) {
        // SAFETY: we own the mapping; generated code using it ran in the
        // store that is dropping its memories.
        unsafe { libc::munmap(self.ptr as *mut libc::c_void, self.len) };
    }
}

/// Reads and paints a shadow by Wasm address. Copies share the mapping,
/// which outlives them (it belongs to the memory, the memory to the
/// store, and views live in the store's instances).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shadow {
    ptr: *mut u8,
    granules: usize,
}

impl Shadow {
    /// The shadow byte of the granule holding address `a`.
    pub(crate) fn byte(&self, a: u32) -> u8 {
        let g = (a >> TAG_GRANULE_SHIFT) as usize;
        debug_assert!(g < self.granules);
        // SAFETY: every 32-bit address has a granule inside the mapping.
        unsafe { *self.ptr.add(g) }
    }

    /// The colour of the granule holding address `a`.
    pub(crate) fn colour(&self, a: u32) -> u8 {
        self.byte(a) >> 4
    }

    /// Sets every granule of `[lo, hi)` (granule-aligned) to `value`.
    pub(crate) fn fill(&self, lo: u32, hi: u32, value: u8) {
        if hi <= lo {
            return;
        }
        let g0 = (lo >> TAG_GRANULE_SHIFT) as usize;
        let g1 = (hi >> TAG_GRANULE_SHIFT) as usize;
        assert!(g1 <= self.granules, "shadow range inside the mapping");
        // SAFETY: [g0, g1) lies inside the mapping (asserted).
        unsafe { std::ptr::write_bytes(self.ptr.add(g0), value, g1 - g0) };
    }

    /// Colours `size` bytes at granule-aligned `p`: full granules get
    /// `colour`, a last partial one also the count of its valid bytes.
    pub(crate) fn paint_object(&self, p: u32, size: u32, colour: u8) {
        let full_end = p + (size & !15);
        self.fill(p, full_end, colour << 4);
        if size & 15 != 0 {
            self.fill(full_end, full_end + 16, colour << 4 | (size & 15) as u8);
        }
    }

    /// Whether a `size`-byte access at `a` with pointer colour `colour`
    /// passes: the rule generated code applies to stores (loads may also
    /// read an aligned word on past a string's end).
    fn allows(&self, a: u32, size: u32, colour: u8) -> bool {
        let last = a.saturating_add(size.max(1) - 1);
        let (s1, s2) = (self.byte(a), self.byte(last));
        let valid = s2 & 15;
        s1 >> 4 == colour && s2 >> 4 == colour && (valid == 0 || (last & 15) < u32::from(valid))
    }

    /// The first byte of `[a, a + len)` that may not be accessed with
    /// pointer colour `colour`, if any. A range past 4 GiB is left to the
    /// bounds check.
    pub(crate) fn first_denied(&self, a: u32, len: u32, colour: u8) -> Option<u32> {
        let end = a.checked_add(len)?;
        let mut at = a;
        while at < end {
            let next = ((at >> 4) + 1) << 4;
            let chunk = next.min(end) - at;
            if !self.allows(at, chunk, colour) {
                return Some(at);
            }
            at = next;
        }
        None
    }
}
