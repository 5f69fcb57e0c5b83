//! Memories shared between threads (the threads proposal). A shared
//! memory's mapping and its `VMMemory` live in one [`SharedStorage`] that
//! every store using it holds; the instances of each store point their
//! vmctx at that one `VMMemory`, so a `memory.grow` in one thread shows in
//! every other's `memory.size` and bounds checks. A shared memory never
//! moves: it reserves its maximum (or all 4 GiB and the guard, where
//! memories are guarded) when it is made.
//!
//! Attestation tracks one store's writes, so a store that attests keeps
//! its shared memories to itself ([`Memory::shared`] has none to give),
//! and [`SharedMemory`] refuses such stores.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use walmart_jit::vmctx::VMMemory;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::memory::{commit, growth, host_pages, Memory, MemoryData};
use crate::store::{AsContext, AsContextMut};
use crate::types::MemoryType;
use crate::vm::parking::{self, WaitResult};

/// The mapping of a shared memory, and the `VMMemory` generated code of
/// every instance using it reads.
pub(crate) struct SharedStorage {
    /// `length` changes under `grow` while other threads read it: it is
    /// written and read as an atomic.
    def: UnsafeCell<VMMemory>,
    reserved: usize,
    max_pages: u64,
    pub(crate) ty: MemoryType,
    /// A guarded reservation (all 4 GiB and the guard): code compiled for
    /// guarded memories may use it.
    pub(crate) guarded: bool,
    grow_lock: Mutex<()>,
}

// SAFETY: the mapping is process-wide; `def`'s only changing field,
// `length`, is accessed atomically, and its base never changes.
unsafe impl Send for SharedStorage {}
// SAFETY: as above; growth is serialised by `grow_lock`.
unsafe impl Sync for SharedStorage {}

impl SharedStorage {
    /// Takes over a memory's mapping, `reserved` bytes at `def.base` of
    /// which `def.length` are accessible.
    pub(crate) fn adopt(
        def: VMMemory,
        reserved: usize,
        max_pages: u64,
        ty: MemoryType,
        guarded: bool,
    ) -> SharedStorage {
        SharedStorage {
            def: UnsafeCell::new(def),
            reserved,
            max_pages,
            ty,
            guarded,
            grow_lock: Mutex::new(()),
        }
    }

    /// The `VMMemory` generated code reads.
    pub(crate) fn vm_ptr(&self) -> *const VMMemory {
        self.def.get()
    }

    fn length_cell(&self) -> &AtomicU64 {
        // SAFETY: `length` is a naturally aligned u64 that lives as long as
        // `self`, and is only ever accessed atomically once shared.
        unsafe { AtomicU64::from_ptr(std::ptr::addr_of_mut!((*self.def.get()).length)) }
    }

    /// The base address (fixed for the memory's life) and the accessible
    /// length now.
    pub(crate) fn base_len(&self) -> (*mut u8, u64) {
        // SAFETY: `base` is written only before the storage is shared.
        let base = unsafe { (*self.def.get()).base };
        (base, self.length_cell().load(Ordering::SeqCst))
    }

    /// The most pages it may have.
    pub(crate) fn max_pages(&self) -> u64 {
        self.max_pages
    }

    /// Bytes reserved at the base.
    pub(crate) fn reserved(&self) -> usize {
        self.reserved
    }

    /// [`Self::grow`] if it still has `expected` pages; `None` where
    /// another thread grew it since they were read.
    pub(crate) fn grow_from(&self, expected: u64, delta: u64) -> Option<Option<u64>> {
        let _grow = self.grow_lock.lock().unwrap_or_else(|e| e.into_inner());
        if self.base_len().1 >> self.ty.page_size_log2 != expected {
            return None;
        }
        Some(self.grow_locked(delta))
    }

    /// Grows by `delta` pages; the old size in pages, or `None` past the
    /// maximum.
    pub(crate) fn grow(&self, delta: u64) -> Option<u64> {
        let _grow = self.grow_lock.lock().unwrap_or_else(|e| e.into_inner());
        self.grow_locked(delta)
    }

    /// [`Self::grow`], with the growth lock held.
    fn grow_locked(&self, delta: u64) -> Option<u64> {
        let (base, old_len) = self.base_len();
        let (old, new_len) = growth(old_len, delta, self.ty.page_size_log2, self.max_pages)?;
        if host_pages(new_len) > self.reserved {
            return None;
        }
        if delta > 0 {
            // SAFETY: the new pages lie inside the reservation (checked),
            // not yet accessible to anyone.
            unsafe { commit(base, old_len as usize, new_len)? };
            self.length_cell().store(new_len as u64, Ordering::SeqCst);
        }
        Some(old)
    }
}

impl Drop for SharedStorage {
    fn drop(&mut self) {
        let base = self.def.get_mut().base;
        // SAFETY: the reservation is ours, and with the last holder gone no
        // code uses it any more.
        unsafe {
            libc::munmap(base as *mut libc::c_void, self.reserved);
        }
    }
}

/// A memory of a [`MemoryType::shared`] type that several threads use at
/// once, each through a store of its own: `Send`, `Sync` and cheap to
/// clone. [`Memory::from_shared`] makes it a store's memory, to import;
/// [`Memory::shared`] gives the one a module defined.
///
/// The host's reads and writes here ([`SharedMemory::read`],
/// [`SharedMemory::write`]) are plain byte copies: they may interleave
/// with other threads' writes, as Wasm's own non-atomic accesses do.
#[derive(Clone)]
pub struct SharedMemory {
    pub(crate) storage: Arc<SharedStorage>,
}

impl std::fmt::Debug for SharedMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedMemory")
            .field("ty", &self.storage.ty)
            .field("pages", &self.size())
            .finish()
    }
}

impl SharedMemory {
    /// A new shared memory of type `ty` (which must be shared: see
    /// [`MemoryType::shared`]) for stores of `engine`'s configuration.
    /// Refused where that configuration attests.
    pub fn new(engine: &Engine, ty: MemoryType) -> Result<SharedMemory> {
        if !ty.shared {
            return Err(Error::Usage(
                "SharedMemory::new needs a shared memory type (MemoryType::shared)".into(),
            ));
        }
        refuse_attestation(engine)?;
        let data = MemoryData::new(ty, engine.config().guarded_memory, None, None, None)?;
        let storage = data
            .shared
            .clone()
            .expect("a shared type without attestation makes shared storage");
        Ok(SharedMemory { storage })
    }

    /// The memory's type (with its current size as minimum).
    pub fn ty(&self) -> MemoryType {
        MemoryType {
            min: self.size(),
            ..self.storage.ty
        }
    }

    /// Size in pages now (another thread may grow it at any time).
    pub fn size(&self) -> u64 {
        self.data_size() as u64 >> self.storage.ty.page_size_log2
    }

    /// Size in bytes now.
    pub fn data_size(&self) -> usize {
        self.storage.base_len().1 as usize
    }

    /// Grows by `delta` pages, returning the old size.
    pub fn grow(&self, delta: u64) -> Result<u64> {
        self.storage
            .grow(delta)
            .ok_or_else(|| Error::Usage(format!("shared memory cannot grow by {delta} pages")))
    }

    /// Copies bytes out of memory at `offset`.
    pub fn read(&self, offset: usize, buf: &mut [u8]) -> Result<()> {
        let at = self.span(offset, buf.len(), "read")?;
        // SAFETY: `span` checked the range against the accessible length,
        // which never shrinks; the destination is the caller's own buffer.
        unsafe { std::ptr::copy(at, buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    /// Copies bytes into memory at `offset`.
    pub fn write(&self, offset: usize, buf: &[u8]) -> Result<()> {
        let at = self.span(offset, buf.len(), "write")?;
        // SAFETY: as in `read`.
        unsafe { std::ptr::copy(buf.as_ptr(), at, buf.len()) };
        Ok(())
    }

    /// `memory.atomic.notify` from the host: wakes at most `count` of
    /// the threads waiting at byte `addr` (4-aligned), and answers how
    /// many it woke.
    pub fn atomic_notify(&self, addr: u64, count: u32) -> Result<u32> {
        let at = self.cell(addr, 4)?;
        Ok(parking::notify(at as usize, count))
    }

    /// `memory.atomic.wait32` from the host: sleeps at byte `addr`
    /// (4-aligned) while it holds `expected`, until a notify or
    /// `timeout`. The answer is 0 woken, 1 not equal, 2 timed out, as
    /// Wasm's.
    pub fn atomic_wait32(
        &self,
        addr: u64,
        expected: u32,
        timeout: Option<Duration>,
    ) -> Result<u32> {
        self.wait(addr, expected.into(), false, timeout)
    }

    /// `memory.atomic.wait64` from the host, as
    /// [`SharedMemory::atomic_wait32`] for an 8-aligned 64-bit cell.
    pub fn atomic_wait64(
        &self,
        addr: u64,
        expected: u64,
        timeout: Option<Duration>,
    ) -> Result<u32> {
        self.wait(addr, expected, true, timeout)
    }

    fn wait(&self, addr: u64, expected: u64, wide: bool, timeout: Option<Duration>) -> Result<u32> {
        let at = self.cell(addr, if wide { 8 } else { 4 })?;
        let ns = timeout.map_or(-1, |t| i64::try_from(t.as_nanos()).unwrap_or(i64::MAX));
        // SAFETY: `cell` checked bounds and alignment; the storage, which
        // never moves or shrinks, lives while `self` does.
        let r: WaitResult = unsafe { parking::wait(at as usize, expected, ns, wide) };
        Ok(r as u32)
    }

    fn span(&self, offset: usize, len: usize, what: &str) -> Result<*mut u8> {
        let (base, length) = self.storage.base_len();
        match offset.checked_add(len) {
            // SAFETY: inside the accessible length.
            Some(end) if end as u64 <= length => Ok(unsafe { base.add(offset) }),
            _ => Err(Error::Usage(format!("shared memory {what} out of bounds"))),
        }
    }

    fn cell(&self, addr: u64, size: u64) -> Result<*mut u8> {
        if !addr.is_multiple_of(size) {
            return Err(Error::Usage(format!(
                "unaligned atomic: address {addr} is not a multiple of {size}"
            )));
        }
        let offset = usize::try_from(addr)
            .map_err(|_| Error::Usage("shared memory access out of bounds".into()))?;
        self.span(offset, size as usize, "access")
    }
}

/// Refuses an engine whose stores attest: their attestation would not see
/// other threads' writes.
fn refuse_attestation(engine: &Engine) -> Result<()> {
    let config = engine.config();
    if config.attest != crate::attest::Policy::Off || config.tag_monitor().is_some() {
        return Err(Error::Usage(
            "a memory shared between threads cannot be attested (attestation follows one \
             store's writes): run it without attestation"
                .into(),
        ));
    }
    Ok(())
}

impl Memory {
    /// `shared` as a memory of `store`, to import into its instances.
    /// Refused where the store attests, or where its engine compiles for
    /// guarded memories and `shared` was made without a guard.
    pub fn from_shared(mut store: impl AsContextMut, shared: &SharedMemory) -> Result<Memory> {
        let store = &mut store.as_context_mut().opaque;
        refuse_attestation(&store.engine)?;
        let storage = &shared.storage;
        // Code compiled for guarded memories checks no bounds of a 32-bit
        // memory of 64 KiB pages (64-bit ones and one-byte pages it
        // checks whatever the engine).
        let unchecked = !storage.ty.memory64 && storage.ty.page_size_log2 == 16;
        if store.engine.config().guarded_memory && unchecked && !storage.guarded {
            return Err(Error::Usage(
                "this shared memory was made for an engine without guarded memory; one that \
                 guards its memories cannot use it"
                    .into(),
            ));
        }
        // One handle per store: a second would name the same bytes as
        // another memory.
        let held = store
            .memories
            .iter()
            .position(|m| m.shared.as_ref().is_some_and(|s| Arc::ptr_eq(s, storage)));
        if let Some(index) = held {
            return Ok(Memory {
                store: store.id,
                index: index as u32,
            });
        }
        Ok(Memory::push(store, MemoryData::of_shared(storage.clone())))
    }

    /// The memory as a [`SharedMemory`] other threads' stores can use:
    /// `None` where it is not shared, or where its store attests.
    pub fn shared(&self, store: impl AsContext) -> Option<SharedMemory> {
        let data = self.data_in(&store.as_context().opaque);
        data.shared.clone().map(|storage| SharedMemory { storage })
    }
}
