//! Linear memories: a reservation of address space made accessible page by
//! page as the memory grows. Guarded memories reserve all 4 GiB a 32-bit
//! index can reach plus a guard region, so their base never moves and
//! generated code needs no bounds checks; small reservations hold just the
//! declared maximum (or current size) and move when they must grow past it.

use walmart_jit::vmctx::{VMMemory, GUARDED_DIRTY_PREFIX};

use crate::attest::dirty::DirtyBitmap;
use crate::attest::session::{MemoryAttest, MemorySource};
use crate::error::{Error, Result};
use crate::memory_image::MemoryImage;
use crate::pooling::{MemoryPool, PoolSlot};
use crate::store::{AsContext, AsContextMut, StoreOpaque};
use crate::types::MemoryType;
use crate::vm::mmap;

/// Bytes in a Wasm page.
pub const PAGE_SIZE: u64 = 65536;
/// Bytes a 32-bit memory can have at most.
const MAX_BYTES_32: u64 = 1 << 32;

/// The host's page size, the unit of protection and reservation.
const HOST_PAGE: usize = 4096;

/// `len` rounded up to whole host pages.
pub(crate) fn host_pages(len: usize) -> usize {
    len.div_ceil(HOST_PAGE) * HOST_PAGE
}

/// A `VMMemory` nothing uses: a shared memory's own `def`, whose
/// storage holds the one instances read.
fn unused_def() -> VMMemory {
    VMMemory {
        base: std::ptr::null_mut(),
        length: 0,
        dirty: std::ptr::null_mut(),
        tags: std::ptr::null_mut(),
        tag_floor: u64::MAX,
    }
}

/// A growth by `delta` pages of `1 << log2` bytes of a memory `length`
/// bytes long: its old size in pages and its new length in bytes, or
/// `None` past `max_pages`.
pub(crate) fn growth(length: u64, delta: u64, log2: u8, max_pages: u64) -> Option<(u64, usize)> {
    let old = length >> log2;
    let new = old.checked_add(delta).filter(|n| *n <= max_pages)?;
    let new_len = usize::try_from(new.checked_shl(u32::from(log2))?).ok()?;
    Some((old, new_len))
}

/// Makes the host pages a memory at `base` grows into, from `old_len`
/// bytes to `new_len`, readable and writable (protection is by host
/// pages: a memory of one-byte pages may have its last one already).
///
/// # Safety
/// `[base, base + host_pages(new_len))` must lie inside the memory's
/// reservation, accessible to no one past `host_pages(old_len)`.
pub(crate) unsafe fn commit(base: *mut u8, old_len: usize, new_len: usize) -> Option<()> {
    let (from, to) = (host_pages(old_len), host_pages(new_len));
    if to > from {
        // SAFETY: per the contract.
        unsafe {
            mmap::protect(
                base as usize + from,
                to - from,
                libc::PROT_READ | libc::PROT_WRITE,
            )
        }
        .ok()?;
    }
    Some(())
}

/// The most pages of `ty`'s size a memory may have here: 4 GiB (less one
/// byte for one-byte pages, as the proposal bounds them) or the declared
/// maximum.
pub(crate) fn max_pages_of(ty: &MemoryType) -> u64 {
    let limit = match ty.page_size_log2 {
        16 => MAX_BYTES_32 >> 16,
        log2 => (MAX_BYTES_32 >> log2) - 1,
    };
    ty.max.unwrap_or(limit).min(limit)
}
/// Address space reserved past the largest 32-bit memory, so an access at
/// any 32-bit index plus a small offset faults instead of reaching other data.
pub(crate) const GUARD_SIZE: usize = 2 << 30;

/// A memory's storage. `def` comes first: generated code reaches it
/// through the vmctx as a `VMMemory`.
#[repr(C)]
pub(crate) struct MemoryData {
    pub(crate) def: VMMemory,
    reserved: usize,
    pub(crate) ty: MemoryType,
    /// Dirty bitmap and write protection, when the store attests.
    pub(crate) attest: Option<MemoryAttest>,
    /// The colour-tag shadow, under the tag monitor.
    pub(crate) shadow: Option<crate::attest::tags::shadow::ShadowMap>,
    /// Host code masks guest pointers with this: pointer colours keep a
    /// colour in the top bits, which are not address bits.
    pub(crate) addr_mask: u32,
    /// The most pages this memory may have (below the type's maximum when
    /// pointer colours limit it).
    max_pages: u64,
    /// A shared memory's storage, which other stores may hold too: its
    /// `VMMemory` is what instances use, and `def` is unused. `None` for
    /// an unshared memory, and for a shared one its store attests (which
    /// then is the store's alone).
    pub(crate) shared: Option<std::sync::Arc<crate::shared_memory::SharedStorage>>,
    /// The pooling allocator's slot this memory lives in; `None` for a
    /// reservation of its own.
    pooled: Option<PoolSlot>,
}

impl MemoryData {
    /// A memory of type `ty`; `guarded` picks the full 4 GiB + guard
    /// reservation that lets generated code skip bounds checks; `attest`
    /// gives it a dirty bitmap fed from `attest`, and write protection;
    /// `tags` a colour-tag shadow (guarded 32-bit memories only). `pool`,
    /// when the engine pools memories, is where an unattested, unshared
    /// memory takes its slot, with the image it will start with (see
    /// [`MemoryData::start_with_image`]).
    pub(crate) fn new(
        ty: MemoryType,
        guarded: bool,
        attest: Option<MemorySource>,
        tags: Option<&crate::attest::tags::TagConfig>,
        pool: Option<(&std::sync::Arc<MemoryPool>, Option<&MemoryImage>)>,
    ) -> Result<Box<MemoryData>> {
        // Guarded 32-bit memories never move (generated code relies on it).
        // One-byte pages end where no host page does: no guard catches
        // an access past them, and generated code checks each.
        let fixed = guarded && !ty.memory64 && ty.page_size_log2 == 16;
        // Attestation follows this store's writes only: such a shared
        // memory stays the store's own.
        let attested = attest.is_some() || tags.is_some();
        if attested && ty.page_size_log2 != 16 {
            return Err(Error::Usage(
                "attestation does not cover memories of one-byte pages (custom page sizes)".into(),
            ));
        }
        let tags = tags.filter(|_| fixed);
        let addr_mask = crate::attest::tags::host_mask(tags);
        let mut max_pages = max_pages_of(&ty);
        if addr_mask != u32::MAX {
            let limit = crate::attest::tags::POINTER_COLOUR_MAX_PAGES;
            if ty.min > limit {
                return Err(Error::Resource(format!(
                    "memory minimum of {} pages exceeds the {limit} pages (256 MiB) pointer colours \
                     leave free (use memory colours: --tag-colours memory)",
                    ty.min
                )));
            }
            max_pages = max_pages.min(limit);
        }
        // Attestation and other threads own their memories' mappings.
        let pool = pool.filter(|_| !attested && !ty.shared);
        if let Some((pool, _)) = pool {
            let limit = pool.max_pages(ty.page_size_log2);
            if ty.min > limit {
                return Err(Error::Resource(format!(
                    "memory minimum of {} pages exceeds the pooling allocator's limit of {limit} \
                     pages (PoolingAllocationConfig::max_memory_size)",
                    ty.min,
                )));
            }
            max_pages = max_pages.min(limit);
        }
        if ty.shared && ty.max.is_none() {
            return Err(Error::Usage(
                "a shared memory must declare a maximum size".into(),
            ));
        }
        if ty.min > max_pages {
            return Err(Error::Resource(format!(
                "memory minimum of {} pages exceeds the limit of {max_pages}",
                ty.min
            )));
        }
        if let Some((pool, image)) = pool {
            let len = usize::try_from(ty.min << ty.page_size_log2)
                .map_err(|_| Error::Resource("memory minimum exceeds the address space".into()))?;
            let (slot, base) = pool.acquire(len, image)?;
            let mut mem = MemoryData::bare(base, pool.slot_size(), ty, addr_mask, max_pages);
            mem.def.length = len as u64;
            mem.pooled = Some(slot);
            return Ok(mem);
        }
        let reserved = if fixed {
            MAX_BYTES_32 as usize + GUARD_SIZE
        } else {
            host_pages(
                (ty.max.unwrap_or(ty.min).min(max_pages).max(1) << ty.page_size_log2) as usize,
            )
        };
        // A guarded memory with attestation has its dirty bitmap right
        // below byte 0 (generated code addresses it from the heap base).
        let prefix = if fixed && attest.is_some() {
            GUARDED_DIRTY_PREFIX
        } else {
            0
        };
        let map = mmap::map_anonymous(prefix + reserved, libc::PROT_NONE).map_err(|e| {
            Error::Resource(format!(
                "cannot reserve {reserved} bytes of address space for a memory: {e}"
            ))
        })?;
        // SAFETY: inside the fresh reservation.
        let base = unsafe { map.add(prefix) };
        let mut mem = MemoryData::bare(base, reserved, ty, addr_mask, max_pages);
        if tags.is_some() {
            let shadow = crate::attest::tags::shadow::ShadowMap::new(
                crate::attest::tags::shadow::SHADOW_BYTES,
            )?;
            mem.def.tags = shadow.biased(base);
            mem.shadow = Some(shadow);
        }
        if let Some(source) = attest {
            // The bitmap owns the prefix from here on (the memory's drop
            // unmaps `[base, base + reserved)` only).
            let bitmap = if prefix > 0 {
                DirtyBitmap::below_guarded(map)?
            } else {
                DirtyBitmap::new(max_pages * PAGE_SIZE)?
            };
            let a = MemoryAttest::new(bitmap, base, 0, reserved, source)?;
            mem.def.dirty = a.bitmap.biased(base);
            mem.attest = Some(a);
        }
        if mem.grow(ty.min).is_none() {
            return Err(Error::Resource(format!(
                "cannot commit {} pages of memory",
                ty.min
            )));
        }
        if ty.shared && !attested {
            // The mapping moves to storage other stores can share (its
            // reservation already holds the maximum: it never moves).
            let def = std::mem::replace(&mut mem.def, unused_def());
            let storage =
                crate::shared_memory::SharedStorage::adopt(def, reserved, max_pages, ty, fixed);
            mem.shared = Some(std::sync::Arc::new(storage));
        }
        Ok(mem)
    }

    /// A memory of no length at `base` in a reservation of `reserved`
    /// bytes, with no attestation, shadow, sharing or pool slot yet.
    fn bare(
        base: *mut u8,
        reserved: usize,
        ty: MemoryType,
        addr_mask: u32,
        max_pages: u64,
    ) -> Box<MemoryData> {
        Box::new(MemoryData {
            def: VMMemory {
                base,
                length: 0,
                dirty: std::ptr::null_mut(),
                tags: std::ptr::null_mut(),
                tag_floor: u64::MAX,
            },
            reserved,
            ty,
            attest: None,
            shadow: None,
            addr_mask,
            max_pages,
            shared: None,
            pooled: None,
        })
    }

    /// A store's view of shared storage another store made.
    pub(crate) fn of_shared(
        storage: std::sync::Arc<crate::shared_memory::SharedStorage>,
    ) -> Box<MemoryData> {
        Box::new(MemoryData {
            def: unused_def(),
            reserved: storage.reserved(),
            ty: storage.ty,
            attest: None,
            shadow: None,
            addr_mask: u32::MAX,
            max_pages: storage.max_pages(),
            shared: Some(storage),
            pooled: None,
        })
    }

    /// The accessible bytes, mutably, for the host's API.
    ///
    /// # Panics
    /// As [`Self::refuse_slice_if_shared`].
    pub(crate) fn bytes_unshared(&mut self) -> &mut [u8] {
        self.refuse_slice_if_shared();
        self.bytes_mut()
    }

    /// Panics where the memory is shared with another store or a
    /// `SharedMemory` handle: a slice of it would race other threads.
    /// (While this store holds the only reference, no other can be made
    /// without the store.)
    fn refuse_slice_if_shared(&self) {
        if self
            .shared
            .as_ref()
            .is_some_and(|s| std::sync::Arc::strong_count(s) > 1)
        {
            panic!(
                "Memory::data and data_mut: this memory is shared with other threads; \
                 use Memory::read and Memory::write"
            );
        }
    }

    /// Gives a fresh memory `image`'s contents by mapping, if it can: true
    /// when the image is there (a pooled slot may hold it already, reset
    /// to its contents), false when the caller must copy the segments.
    pub(crate) fn start_with_image(&self, image: &MemoryImage) -> Result<bool> {
        match (&self.pooled, &self.attest) {
            // The pool knows what each slot holds: it alone maps images
            // into slots (at `MemoryPool::acquire`).
            (Some(slot), _) => Ok(slot.holds(image)),
            (None, None) => Ok(image.map_into(self)),
            // Mapped as walmart's own write is made (allowed while the
            // memory is write-protected against a host, protected again
            // after), then tracked anew where the kernel tracks writes:
            // the mapping replaced the tracked pages. (Copied where the
            // kernel cannot track a file's mapping as it tracks memory.)
            (None, Some(a)) => {
                if a.source == crate::attest::session::DirtySource::Kernel
                    && !crate::attest::kernel_dirty::tracks_file_mappings()
                {
                    return Ok(false);
                }
                let (start, len) = image.covered();
                if !a.guard.write_through(start, len, || image.map_into(self)) {
                    return Ok(false);
                }
                // SAFETY: `start + len` is within the memory (it was mapped).
                a.mapped(unsafe { self.def.base.add(start) }, len)?;
                Ok(true)
            }
        }
    }

    /// The `VMMemory` generated code reads for this memory.
    pub(crate) fn vm_ptr(&self) -> *const VMMemory {
        match &self.shared {
            Some(s) => s.vm_ptr(),
            None => &self.def,
        }
    }

    /// The base address and the accessible length in bytes now.
    pub(crate) fn base_len(&self) -> (*mut u8, u64) {
        match &self.shared {
            Some(s) => s.base_len(),
            None => (self.def.base, self.def.length),
        }
    }

    /// Size in pages.
    pub(crate) fn pages(&self) -> u64 {
        self.base_len().1 >> self.ty.page_size_log2
    }

    /// The most pages it may have.
    pub(crate) fn max_pages(&self) -> u64 {
        match &self.shared {
            Some(s) => s.max_pages(),
            None => self.max_pages,
        }
    }

    /// [`Self::grow`], if the memory still has `expected` pages: `None`
    /// where another thread grew a shared memory since they were read.
    pub(crate) fn grow_from(&mut self, expected: u64, delta: u64) -> Option<Option<u64>> {
        match &self.shared {
            Some(s) => s.grow_from(expected, delta),
            None => Some(self.grow(delta)),
        }
    }

    /// Grows by `delta` pages; the old size in pages, or `None` if the
    /// memory cannot grow that far.
    pub(crate) fn grow(&mut self, delta: u64) -> Option<u64> {
        if let Some(s) = &self.shared {
            return s.grow(delta);
        }
        let (old, new_len) = growth(
            self.def.length,
            delta,
            self.ty.page_size_log2,
            self.max_pages,
        )?;
        if delta == 0 {
            return Some(old);
        }
        if host_pages(new_len) > self.reserved {
            self.move_to_larger_reservation(host_pages(new_len))?;
        }
        let old_len = self.def.length as usize;
        // SAFETY: the new pages lie inside our reservation, not yet
        // accessible to anyone.
        unsafe { commit(self.def.base, old_len, new_len)? };
        self.def.length = new_len as u64;
        if let Some(a) = &self.attest {
            self.def.dirty = a.bitmap.biased(self.def.base);
            a.guard.resize(self.def.base, old_len, new_len);
        }
        Some(old)
    }

    /// Small reservations only: remaps the memory to a reservation of
    /// `len` bytes (contents kept, base may change; generated code for such
    /// memories reloads the base after every call).
    fn move_to_larger_reservation(&mut self, len: usize) -> Option<()> {
        // Waiters are keyed by native address: a shared memory reserves
        // its maximum and never gets here.
        debug_assert!(!self.ty.shared);
        if self.pooled.is_some() {
            // A slot is as large as a pooled memory may grow.
            return None;
        }
        // The kernel forgets a tracked range that moves: what it knows goes
        // to the bitmap first (nothing to protect: tracking restarts at
        // the new place).
        if let Some(a) = &self.attest {
            a.collect_written(self.def.base, self.def.length as usize, false);
        }
        // SAFETY: remapping our own mapping; on success the old range is gone
        // and the new one holds the same pages.
        let base = unsafe {
            libc::mremap(
                self.def.base as *mut libc::c_void,
                self.reserved,
                len,
                libc::MREMAP_MAYMOVE,
            )
        };
        if base == libc::MAP_FAILED {
            return None;
        }
        self.def.base = base as *mut u8;
        self.reserved = len;
        if let Some(a) = &self.attest {
            // The fault handler's table at once: the old addresses are
            // free for any new mapping now (see `Drop for MemoryData`).
            let length = self.def.length as usize;
            a.guard.resize(self.def.base, length, length);
            a.moved(self.def.base, len, length).ok()?;
        }
        Some(())
    }

    /// Copies `buf` to `offset` as walmart's own write (the API's, a data
    /// segment's): marked dirty, and allowed while the memory is
    /// write-protected against a host. False, writing nothing, when it
    /// does not fit.
    pub(crate) fn write(&mut self, offset: usize, buf: &[u8]) -> bool {
        let (base, len) = self.base_len();
        if offset
            .checked_add(buf.len())
            .is_none_or(|end| end > len as usize)
        {
            return false;
        }
        // SAFETY: [offset, offset + len) is inside the accessible memory.
        let copy =
            || unsafe { std::ptr::copy_nonoverlapping(buf.as_ptr(), base.add(offset), buf.len()) };
        match &self.attest {
            Some(a) => {
                a.bitmap.mark(offset, buf.len());
                a.guard.write_through(offset, buf.len(), copy);
            }
            None => copy(),
        }
        true
    }

    /// Records a write by walmart itself (bulk-memory builtins, WASI) to
    /// `[offset, offset + len)` in the dirty bitmap.
    pub(crate) fn mark_dirty(&self, offset: usize, len: usize) {
        if let Some(a) = &self.attest {
            a.bitmap.mark(offset, len);
        }
    }

    /// Whether host address `addr` lies in this memory's reservation, at
    /// or past its accessible end: where an access faults. Its Wasm
    /// address, if so.
    pub(crate) fn beyond_end(&self, addr: usize) -> Option<u64> {
        let (base, length) = self.base_len();
        let offset = addr.checked_sub(base as usize)?;
        (offset >= length as usize && offset < self.reserved).then_some(offset as u64)
    }

    /// The accessible bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: [base, base + length) is mapped read-write and owned by us.
        let (base, length) = self.base_len();
        // (Not for a memory other threads may write: the API refuses to
        // slice one, `refuse_slice_if_shared`, and WASI copies.)
        unsafe { std::slice::from_raw_parts(base, length as usize) }
    }

    /// The bytes of 4 KiB page `page` (attestation's unit), which must be
    /// below the accessible length.
    pub(crate) fn page(&self, page: usize) -> &[u8] {
        let size = walmart_jit::vmctx::DIRTY_PAGE_SIZE;
        &self.bytes()[page * size..][..size]
    }

    /// The accessible bytes, mutably.
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        self.bytes_and_attest().0
    }

    /// The accessible bytes, writable, and the attestation state beside
    /// them (for walmart's own writers: WASI marks and records through it
    /// while it writes the bytes).
    pub(crate) fn bytes_and_attest(&mut self) -> (&mut [u8], Option<&MemoryAttest>) {
        // SAFETY: as in `bytes`, and we hold the only reference: the bytes
        // are the memory's own mapping, not part of `self`, so the shared
        // borrow of `self.attest` beside them aliases nothing.
        let (base, length) = self.base_len();
        let bytes = unsafe { std::slice::from_raw_parts_mut(base, length as usize) };
        (bytes, self.attest.as_ref())
    }
}

impl Drop for MemoryData {
    fn drop(&mut self) {
        // Out of the fault handler's table of protected memories before
        // the pages go: a fields' drop would come after the unmap below,
        // and meanwhile another store's new reservation (its guard pages)
        // could take these addresses, and a fault there be taken for a
        // write to this protected memory and made writable: an access
        // out of bounds there would not trap.
        drop(self.attest.take());
        if self.shared.is_some() {
            // The storage unmaps it when its last holder goes.
            return;
        }
        if let Some(slot) = &self.pooled {
            slot.release(self.def.length as usize);
            return;
        }
        // SAFETY: the reservation is ours and no code uses it any more.
        unsafe {
            libc::munmap(self.def.base as *mut libc::c_void, self.reserved);
        }
    }
}

/// A linear memory handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory {
    pub(crate) store: u64,
    pub(crate) index: u32,
}

impl Memory {
    /// [`Memory::new`] as an asynchronous call (wasmtime's), for a store
    /// whose limiter is asynchronous ([`crate::Store::limiter_async`]).
    pub async fn new_async<S>(mut store: S, ty: MemoryType) -> Result<Memory>
    where
        S: AsContextMut,
        S::Data: Send,
    {
        crate::fiber::on_fiber(store.as_context_mut(), |s| Memory::new(s, ty)).await
    }

    /// Creates a memory in the store.
    pub fn new(mut store: impl AsContextMut, ty: MemoryType) -> Result<Memory> {
        let store = &mut store.as_context_mut().opaque;
        let guarded = store.engine.config().guarded_memory;
        store.memory_may_be_made(&ty)?;
        store.ensure_attest()?;
        let attest = store.memory_source();
        let tags = store.engine.config().tag_monitor().cloned();
        Ok(Memory::push(
            store,
            MemoryData::new(
                ty,
                guarded,
                attest,
                tags.as_ref(),
                // The host's memories are made on demand, as wasmtime's:
                // the pool's slots and limits are for instances.
                None,
            )?,
        ))
    }

    pub(crate) fn push(store: &mut StoreOpaque, data: Box<MemoryData>) -> Memory {
        store.memories.push(data);
        Memory {
            store: store.id,
            index: store.memories.len() as u32 - 1,
        }
    }

    pub(crate) fn data_in(self, store: &StoreOpaque) -> &MemoryData {
        store.check(self.store);
        &store.memories[self.index as usize]
    }

    pub(crate) fn data_in_mut(self, store: &mut StoreOpaque) -> &mut MemoryData {
        store.check(self.store);
        &mut store.memories[self.index as usize]
    }

    /// The memory's type (with its current size as minimum).
    pub fn ty(&self, store: impl AsContext) -> MemoryType {
        let data = self.data_in(&store.as_context().opaque);
        MemoryType {
            min: data.pages(),
            ..data.ty
        }
    }

    /// Size in pages.
    pub fn size(&self, store: impl AsContext) -> u64 {
        self.data_in(&store.as_context().opaque).pages()
    }

    /// The address of the memory's first byte (wasmtime's
    /// `Memory::data_ptr`): valid until the memory grows (a memory with
    /// a small reservation may move then); writes through it are the
    /// host's raw writes (see [`Memory::write`] under attestation).
    pub fn data_ptr(&self, store: impl AsContext) -> *mut u8 {
        self.data_in(&store.as_context().opaque).base_len().0
    }

    /// Bytes in one of this memory's pages (65536, or 1 under the
    /// custom-page-sizes proposal).
    pub fn page_size(&self, store: impl AsContext) -> u64 {
        self.data_in(&store.as_context().opaque).ty.page_size()
    }

    /// Size in bytes.
    pub fn data_size(&self, store: impl AsContext) -> usize {
        self.data_in(&store.as_context().opaque).base_len().1 as usize
    }

    /// [`Memory::grow`] as an asynchronous call (wasmtime's), for a store
    /// whose limiter is asynchronous ([`crate::Store::limiter_async`]).
    pub async fn grow_async<S>(&self, mut store: S, delta: u64) -> Result<u64>
    where
        S: AsContextMut,
        S::Data: Send,
    {
        crate::fiber::on_fiber(store.as_context_mut(), |s| self.grow(s, delta)).await
    }

    /// Grows by `delta` pages, returning the old size.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64) -> Result<u64> {
        let store = &mut store.as_context_mut().opaque;
        store
            .grow_memory(*self, delta)
            .api(|| format!("memory cannot grow by {delta} pages"))
    }

    /// The memory's bytes.
    ///
    /// # Panics
    /// For a shared memory that another store or a [`SharedMemory`]
    /// holds: other threads may write it meanwhile, so it has no slice
    /// (use [`Memory::read`] and [`Memory::write`], which copy).
    ///
    /// [`SharedMemory`]: crate::SharedMemory
    pub fn data<'a, T: 'a>(&self, store: &'a impl AsContext<Data = T>) -> &'a [u8] {
        let data = self.data_in(&store.as_context().opaque);
        data.refuse_slice_if_shared();
        data.bytes()
    }

    /// The memory's bytes, mutably.
    ///
    /// # Panics
    /// As [`Memory::data`].
    pub fn data_mut<'a, T: 'a>(&self, store: &'a mut impl AsContextMut<Data = T>) -> &'a mut [u8] {
        self.data_in_mut(&mut store.as_context_mut().opaque)
            .bytes_unshared()
    }

    /// Copies bytes out of memory at `offset`.
    pub fn read(&self, store: impl AsContext, offset: usize, buf: &mut [u8]) -> Result<()> {
        let (base, length) = self.data_in(&store.as_context().opaque).base_len();
        match offset.checked_add(buf.len()) {
            Some(end) if end as u64 <= length => {
                // SAFETY: inside the accessible memory (which never
                // shrinks); copied, not borrowed, as other threads may
                // write a shared memory meanwhile.
                unsafe { std::ptr::copy(base.add(offset), buf.as_mut_ptr(), buf.len()) };
                Ok(())
            }
            _ => Err(Error::Usage("memory read out of bounds".into())),
        }
    }

    /// Copies bytes into memory at `offset`. Under attestation this is
    /// the legitimate way for a host to write guest memory: the pages are
    /// marked dirty, and allowed even while the memory is write-protected
    /// (raw writes through [`Memory::data_mut`] then are host tampering).
    /// Pages it fills whole are the host's input, which the CNN does not
    /// judge until the module writes them (`PageKind::Input`).
    pub fn write(&self, mut store: impl AsContextMut, offset: usize, buf: &[u8]) -> Result<()> {
        // What the last call left is judged before the host's bytes land.
        crate::attest::session::settle_exit(&mut store.as_context_mut().opaque);
        let data = self.data_in_mut(&mut store.as_context_mut().opaque);
        if data.write(offset, buf) {
            if let Some(a) = &data.attest {
                a.supplied(data.bytes(), offset, buf.len(), None);
            }
            Ok(())
        } else {
            Err(Error::Usage("memory write out of bounds".into()))
        }
    }
}
