//! The pooling allocator for linear memories (wasmtime's
//! `InstanceAllocationStrategy::Pooling`): the engine reserves address
//! space for a fixed number of memories once, and instantiation takes a
//! slot instead of mapping a fresh reservation. A released slot is reset
//! with one `madvise` (its pages read as zeros, or as the module's
//! copy-on-write image again), and keeps its image and its accessible
//! size for the next memory: a module instantiated again and again gets
//! back a slot already laid out for it, with no system call at all.
//!
//! Memories a store attests (dirty bitmaps, write protection, the tag
//! shadow) and shared memories are made on demand as before: their
//! mappings belong to attestation or to other threads.

use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::memory::{host_pages, GUARD_SIZE};
use crate::memory_image::MemoryImage;
use crate::vm::mmap;

/// How an engine allocates instances' memories.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum InstanceAllocationStrategy {
    /// A fresh reservation for each memory, unmapped when it is dropped
    /// (the default).
    #[default]
    OnDemand,
    /// Memories taken from a pool the engine reserves up front.
    Pooling(PoolingAllocationConfig),
}

/// The pool's size and the limits it sets on each memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolingAllocationConfig {
    total_memories: u32,
    max_memory_size: usize,
}

impl Default for PoolingAllocationConfig {
    fn default() -> PoolingAllocationConfig {
        PoolingAllocationConfig {
            total_memories: 1000,
            max_memory_size: 1 << 32,
        }
    }
}

impl PoolingAllocationConfig {
    /// The defaults: 1000 memories of up to 4 GiB.
    pub fn new() -> PoolingAllocationConfig {
        PoolingAllocationConfig::default()
    }

    /// How many memories may be live at once, over all the engine's
    /// stores (default 1000). Each takes 6 GiB of address space with
    /// guarded memory (4 GiB and the guard), reserved when the engine is
    /// made; making one more fails instantiation until another is dropped.
    pub fn total_memories(&mut self, n: u32) -> &mut PoolingAllocationConfig {
        self.total_memories = n;
        self
    }

    /// The most bytes one memory may have (default 4 GiB): a module whose
    /// memory starts larger fails to instantiate, and `memory.grow` past
    /// it returns -1. Rounded down to whole pages of the memory's size.
    pub fn max_memory_size(&mut self, bytes: usize) -> &mut PoolingAllocationConfig {
        self.max_memory_size = bytes;
        self
    }
}

/// What a free slot holds, so the next memory can reuse it as it is.
#[derive(Clone, Copy, Debug, Default)]
struct SlotState {
    /// Bytes from the slot's start that are readable and writable.
    accessible: usize,
    /// The image mapped over the slot's start, and its length.
    image: Option<(u64, usize)>,
}

struct PoolState {
    slots: Vec<SlotState>,
    /// Free slots; the most recently released last.
    free: Vec<u32>,
    /// Slots withheld because they could not be reset (never handed out
    /// again; counted for the error that says the pool is full).
    lost: u32,
}

/// The engine's reservation of memory slots.
pub(crate) struct MemoryPool {
    base: *mut u8,
    slot_size: usize,
    config: PoolingAllocationConfig,
    state: Mutex<PoolState>,
}

// SAFETY: `base` is the start of a reservation the pool owns; slots are
// handed to one memory at a time under the mutex.
unsafe impl Send for MemoryPool {}
// SAFETY: as above.
unsafe impl Sync for MemoryPool {}

impl std::fmt::Debug for MemoryPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryPool")
            .field("config", &self.config)
            .finish()
    }
}

/// A slot a memory holds; given back to the pool when the memory drops.
pub(crate) struct PoolSlot {
    pool: Arc<MemoryPool>,
    index: u32,
    /// The image the slot held when it was handed out (mapped and
    /// pristine), if any.
    image: Option<(u64, usize)>,
}

impl MemoryPool {
    /// Reserves the pool's address space: `total_memories` slots of 4 GiB
    /// and the guard each with guarded memory, of `max_memory_size`
    /// otherwise.
    pub(crate) fn new(config: &PoolingAllocationConfig, guarded: bool) -> Result<MemoryPool> {
        let max = config.max_memory_size;
        if max > 1 << 32 {
            return Err(Error::Usage(format!(
                "pooling allocator: max_memory_size of {max} bytes exceeds the 4 GiB a memory \
                 may have"
            )));
        }
        let slot_size = if guarded {
            (1usize << 32) + GUARD_SIZE
        } else {
            host_pages(max.max(1))
        };
        let total = config.total_memories as usize;
        let len = slot_size.checked_mul(total).ok_or_else(|| {
            Error::Usage(format!(
                "pooling allocator: {total} memories of {slot_size} bytes overflow the address space"
            ))
        })?;
        let base = if len == 0 {
            std::ptr::NonNull::dangling().as_ptr()
        } else {
            mmap::map_anonymous(len, libc::PROT_NONE).map_err(|e| {
                Error::Resource(format!(
                    "pooling allocator: cannot reserve {len} bytes of address space for \
                     {total} memories: {e}"
                ))
            })?
        };
        Ok(MemoryPool {
            base,
            slot_size,
            config: config.clone(),
            state: Mutex::new(PoolState {
                slots: vec![SlotState::default(); total],
                free: (0..total as u32).rev().collect(),
                lost: 0,
            }),
        })
    }

    /// The bytes each slot reserves (a memory's `reserved`).
    pub(crate) fn slot_size(&self) -> usize {
        self.slot_size
    }

    /// The most pages of `1 << log2` bytes a pooled memory may have.
    pub(crate) fn max_pages(&self, log2: u8) -> u64 {
        self.config.max_memory_size as u64 >> log2
    }

    fn slot_base(&self, index: u32) -> *mut u8 {
        // SAFETY: the offset stays inside the pool's reservation.
        unsafe { self.base.add(index as usize * self.slot_size) }
    }

    /// A slot whose first `len` bytes are accessible and zero, or hold
    /// `image` (when given, and it fits in `len`) over zeros. Prefers a
    /// slot that already holds that image, then one that holds none.
    pub(crate) fn acquire(
        self: &Arc<MemoryPool>,
        len: usize,
        image: Option<&MemoryImage>,
    ) -> Result<(PoolSlot, *mut u8)> {
        let image = image.filter(|i| i.len() <= host_pages(len));
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let wanted = image.map(MemoryImage::id);
        let pick = state
            .free
            .iter()
            .rposition(|&i| state.slots[i as usize].image.map(|(id, _)| id) == wanted)
            .or_else(|| {
                state
                    .free
                    .iter()
                    .rposition(|&i| state.slots[i as usize].image.is_none())
            })
            .or_else(|| state.free.len().checked_sub(1))
            .ok_or_else(|| {
                let lost = match state.lost {
                    0 => String::new(),
                    n => format!(", {n} of them withheld after a failed reset"),
                };
                Error::Resource(format!(
                    "the pooling allocator has no free memory slot: all {} are in use{lost} \
                     (PoolingAllocationConfig::total_memories)",
                    self.config.total_memories
                ))
            })?;
        // `remove`, not `swap_remove`: the order is the release order.
        let index = state.free.remove(pick);
        let slot = state.slots[index as usize];
        // Marked as reset to nothing while the slot is laid out: a failure
        // below leaves it free in a state this record does not overstate.
        state.slots[index as usize] = SlotState::default();
        drop(state);
        let base = self.slot_base(index);
        let prepared = || -> std::io::Result<Option<(u64, usize)>> {
            let mut accessible = slot.accessible;
            let mut held = slot.image;
            if let Some((id, img_len)) = held {
                if Some(id) != wanted {
                    // Another module's image: fresh zero pages over it and
                    // the rest of what was accessible, none accessible.
                    mmap::map_fixed_anonymous(base, accessible.max(img_len), libc::PROT_NONE)?;
                    held = None;
                    accessible = 0;
                }
            }
            let target = host_pages(len);
            // SAFETY: inside our slot, used by no memory now.
            unsafe {
                if target > accessible {
                    mmap::protect(
                        base as usize + accessible,
                        target - accessible,
                        libc::PROT_READ | libc::PROT_WRITE,
                    )?;
                } else if target < accessible {
                    mmap::protect(base as usize + target, accessible - target, libc::PROT_NONE)?;
                }
            }
            if held.is_none() {
                if let Some(image) = image {
                    // SAFETY: the slot's first pages, used by no memory.
                    unsafe { image.map_at(base)? };
                    held = Some((image.id(), image.len()));
                }
            }
            Ok(held)
        };
        match prepared() {
            Ok(held) => Ok((
                PoolSlot {
                    pool: self.clone(),
                    index,
                    image: held,
                },
                base,
            )),
            Err(e) => {
                // Back to the pool as nothing but a reservation.
                let reset = mmap::map_fixed_anonymous(base, self.slot_size, libc::PROT_NONE);
                let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
                if reset.is_ok() {
                    state.free.push(index);
                } else {
                    state.lost += 1;
                }
                Err(Error::Resource(format!(
                    "pooling allocator: cannot prepare a memory slot: {e}"
                )))
            }
        }
    }

    /// Resets a slot whose memory had `accessible` bytes readable and
    /// writable, and frees it.
    fn release(&self, slot: &PoolSlot, accessible: usize) {
        let base = self.slot_base(slot.index);
        let accessible = host_pages(accessible);
        // SAFETY: the memory that used these pages is gone. DONTNEED drops
        // its pages: anonymous ones read as zeros again, the image's as the
        // image (its mapping is private).
        let reset = accessible == 0
            || unsafe { libc::madvise(base as *mut libc::c_void, accessible, libc::MADV_DONTNEED) }
                == 0;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if reset {
            state.slots[slot.index as usize] = SlotState {
                accessible,
                image: slot.image,
            };
            state.free.push(slot.index);
        } else {
            // Never handed out again.
            state.lost += 1;
        }
    }

    /// Gives back the pages of free slots that map image `id`, whose
    /// module is gone: fresh zero pages, none accessible. (A slot in use
    /// keeps the image until its next memory replaces it.)
    pub(crate) fn purge_image(&self, id: u64) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        for i in 0..state.free.len() {
            let index = state.free[i];
            let slot = state.slots[index as usize];
            let Some((held, img_len)) = slot.image else {
                continue;
            };
            if held != id {
                continue;
            }
            let base = self.slot_base(index);
            // The slot is free: no memory uses these pages.
            if mmap::map_fixed_anonymous(base, slot.accessible.max(img_len), libc::PROT_NONE)
                .is_ok()
            {
                state.slots[index as usize] = SlotState::default();
            }
            // Otherwise the record stays true: the image is still there,
            // and the next memory's acquire replaces it.
        }
    }
}

impl PoolSlot {
    /// Whether the slot held `image` when the memory got it (its first
    /// pages are the image's, untouched).
    pub(crate) fn holds(&self, image: &MemoryImage) -> bool {
        self.image.is_some_and(|(id, _)| id == image.id())
    }

    /// Gives the slot back: its memory, `accessible` bytes long, is gone.
    pub(crate) fn release(&self, accessible: usize) {
        self.pool.release(self, accessible);
    }
}

impl Drop for MemoryPool {
    fn drop(&mut self) {
        let len = self.slot_size * self.config.total_memories as usize;
        if len > 0 {
            // SAFETY: every slot's memory holds an `Arc` to the pool: none
            // is left, and the reservation is ours.
            unsafe { libc::munmap(self.base as *mut libc::c_void, len) };
        }
    }
}
