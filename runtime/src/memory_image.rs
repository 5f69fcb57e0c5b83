//! Copy-on-write memory images: a module whose data segments all land at
//! constant offsets in its own first memory gets, at compile time, a memfd
//! holding that memory's initial contents. Instantiation maps it privately
//! over the start of the memory instead of copying every segment, so pages
//! are shared until written and untouched ones are never copied.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use walmart_jit::module_info::{ConstOp, ModuleInfo, SegmentMode};

use crate::memory::{MemoryData, PAGE_SIZE};

/// A module's initial memory contents, ready to map.
#[derive(Debug)]
pub(crate) struct MemoryImage {
    /// Unique over the process's images: a pooled slot that still holds
    /// this image's mapping is known by it.
    id: u64,
    fd: OwnedFd,
    /// Bytes to map: the image rounded up to whole OS pages.
    len: usize,
}

fn os_page() -> usize {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

impl MemoryImage {
    /// The image for `info`, or `None` when segments are not all constant
    /// and in bounds of memory 0, or there is nothing to gain.
    pub(crate) fn build(info: &ModuleInfo, wasm: &[u8]) -> Option<MemoryImage> {
        if info.num_imported_memories != 0
            || info.memories.is_empty()
            || info.memories[0].memory64
            || !info.memories[0].default_pages()
        {
            return None;
        }
        let limit = info.memories[0].min.checked_mul(PAGE_SIZE)?;
        let mut end = 0u64;
        let mut placed = Vec::new();
        for seg in &info.data {
            match &seg.mode {
                SegmentMode::Active { index: 0, offset } => {
                    let [ConstOp::I32(at)] = offset.as_slice() else {
                        return None;
                    };
                    let at = *at as u32 as u64;
                    let seg_end = at + (seg.bytes.end - seg.bytes.start) as u64;
                    if seg_end > limit {
                        // Instantiation must trap part-way: copy instead.
                        return None;
                    }
                    end = end.max(seg_end);
                    placed.push((at as usize, seg.bytes.clone()));
                }
                SegmentMode::Active { .. } => return None,
                _ => {}
            }
        }
        if end == 0 {
            return None;
        }
        let len = (end as usize).next_multiple_of(os_page());
        let mut bytes = vec![0u8; len];
        for (at, range) in placed {
            bytes[at..at + range.len()].copy_from_slice(&wasm[range]);
        }
        // SAFETY: a valid C string; the result is checked.
        let fd = unsafe { libc::memfd_create(c"walmart-memory-image".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return None;
        }
        // SAFETY: a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut file = std::fs::File::from(fd);
        std::io::Write::write_all(&mut file, &bytes).ok()?;
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Some(MemoryImage {
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            fd: OwnedFd::from(file),
            len,
        })
    }

    /// Its unique id.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The bytes it maps: the image rounded up to whole host pages.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Maps the image over the start of `memory`, which must be a fresh
    /// guarded memory at least as large. False if the mapping failed (the
    /// caller then copies the segments).
    pub(crate) fn map_into(&self, memory: &MemoryData) -> bool {
        let (base, length) = memory.base_len();
        // SAFETY: the memory is fresh (the contract) and ours.
        (length as usize) >= self.len && unsafe { self.map_at(base) }.is_ok()
    }

    /// Maps the image read-write, copy-on-write, over `[base, base +
    /// len)`, replacing what was there.
    ///
    /// # Safety
    /// The range must lie in a memory's reservation the caller owns, and
    /// nothing may rely on the bytes it held.
    pub(crate) unsafe fn map_at(&self, base: *mut u8) -> std::io::Result<()> {
        // SAFETY: per the contract; MAP_FIXED replaces those pages with a
        // private copy-on-write view of the image.
        let p = unsafe {
            libc::mmap(
                base as *mut libc::c_void,
                self.len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_FIXED,
                self.fd.as_raw_fd(),
                0,
            )
        };
        if p == base as *mut libc::c_void {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }
}
