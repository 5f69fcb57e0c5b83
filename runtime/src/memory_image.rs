//! Copy-on-write memory images: a module whose data segments all land at
//! constant offsets in its own first memory gets an image of that
//! memory's initial contents, from the first page a segment writes to the
//! last. Instantiation maps it privately over those pages instead of
//! copying every segment, so pages are shared until written and untouched
//! ones are never copied. A module compiled here keeps its image in a
//! memfd; one loaded from a precompiled file maps the image the file holds
//! (the page cache's pages, shared by every process that loads the file),
//! so loading writes nothing.

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::{Arc, OnceLock};

use walmart_jit::module_info::{ConstOp, ModuleInfo, SegmentMode};

use crate::attest::image_pages::ImagePages;
use crate::memory::{MemoryData, PAGE_SIZE};

/// A module's initial memory contents, ready to map.
#[derive(Debug)]
pub(crate) struct MemoryImage {
    /// Unique over the process's images: a pooled slot that still holds
    /// this image's mapping is known by it.
    id: u64,
    /// A memfd of the image alone, or the precompiled file that holds it.
    fd: OwnedFd,
    /// Where in `fd` the image begins.
    offset: u64,
    /// The memory's bytes the image covers: from the first page a segment
    /// writes to (below it the memory starts as zeros, as fresh pages
    /// are) to the end of the last, in whole OS pages.
    start: usize,
    end: usize,
    /// Its pages as attestation sees them, made at the first attested
    /// instantiation (`None` inside if that failed).
    attest: OnceLock<Option<Arc<ImagePages>>>,
}

fn os_page() -> usize {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

/// What an image of `info`'s memory 0 holds: the segments' places, and
/// the range of memory the image covers (whole OS pages).
struct Placement {
    segments: Vec<(usize, std::ops::Range<usize>)>,
    start: usize,
    end: usize,
    /// The first byte a segment writes and the end of the last (`start`
    /// and `end` before rounding to pages).
    written: std::ops::Range<u64>,
}

/// Where `info`'s data segments go in an image, or `None` when they are
/// not all constant and in bounds of memory 0 (its own, of 64 KiB pages),
/// write nothing, or lie so far apart that the image would be mostly
/// zeros.
fn placement(info: &ModuleInfo) -> Option<Placement> {
    if info.num_imported_memories != 0
        || info.memories.is_empty()
        || info.memories[0].memory64
        || !info.memories[0].default_pages()
    {
        return None;
    }
    let limit = info.memories[0].min.checked_mul(PAGE_SIZE)?;
    let (mut start, mut end, mut data) = (u64::MAX, 0u64, 0u64);
    let mut segments = Vec::new();
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
                if seg_end > at {
                    start = start.min(at);
                    end = end.max(seg_end);
                    data += seg_end - at;
                    segments.push((at as usize, seg.bytes.clone()));
                }
            }
            SegmentMode::Active { .. } => return None,
            _ => {}
        }
    }
    if end == 0 {
        return None;
    }
    // Mostly zeros (segments far apart: one at the start of a large
    // memory, one at its end): gigabytes of image, in the memfd and in a
    // precompiled file, for a few bytes of data. Copied instead.
    if end - start > 2 * data + (1 << 20) {
        return None;
    }
    let page = os_page();
    Some(Placement {
        segments,
        start: start as usize / page * page,
        end: (end as usize).next_multiple_of(page),
        written: start..end,
    })
}

/// The image of `info`'s memory 0 (`wasm` its binary): where in memory it
/// begins, and its bytes (whole OS pages) from there. `None` where
/// [`MemoryImage::build`] makes none. What a precompiled file keeps.
pub(crate) fn contents(info: &ModuleInfo, wasm: &[u8]) -> Option<(usize, Vec<u8>)> {
    let Placement {
        segments,
        start,
        end,
        ..
    } = placement(info)?;
    let mut bytes = vec![0u8; end - start];
    for (at, range) in segments {
        let at = at - start;
        bytes[at..at + range.len()].copy_from_slice(&wasm[range]);
    }
    Some((start, bytes))
}

static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl MemoryImage {
    /// The image for `info`, in a memfd, or `None` when segments are not
    /// all constant and in bounds of memory 0, or there is nothing to gain.
    pub(crate) fn build(info: &ModuleInfo, wasm: &[u8]) -> Option<MemoryImage> {
        let (start, bytes) = contents(info, wasm)?;
        let mut file = crate::vm::mmap::memfd(c"walmart-memory-image").ok()?;
        std::io::Write::write_all(&mut file, &bytes).ok()?;
        Some(MemoryImage {
            id: next_id(),
            fd: OwnedFd::from(file),
            offset: 0,
            start,
            end: start + bytes.len(),
            attest: OnceLock::new(),
        })
    }

    /// The image `info`'s memory 0 starts with, as `file` holds it: `len`
    /// bytes at `offset`, for the memory from `start` on (what
    /// [`contents`] gave when the file was written). `None` where
    /// it cannot be mapped so on this host: its place and size are not
    /// whole pages of this host's size (the file was written on a host of
    /// smaller pages), or it does not cover the segments (the caller
    /// builds the image instead; the file's checksum vouches for its
    /// bytes).
    pub(crate) fn from_file(
        info: &ModuleInfo,
        file: &File,
        offset: u64,
        start: u64,
        len: u64,
    ) -> Option<MemoryImage> {
        let placement = placement(info)?;
        let page = os_page() as u64;
        let end = start.checked_add(len)?;
        let whole_pages = [offset, start, len].iter().all(|v| v.is_multiple_of(page));
        let covers = start <= placement.written.start && end >= placement.written.end;
        let limit = info.memories[0].min.checked_mul(PAGE_SIZE)?;
        if !whole_pages || !covers || end > limit {
            return None;
        }
        let fd = file.as_fd().try_clone_to_owned().ok()?;
        Some(MemoryImage {
            id: next_id(),
            fd,
            offset,
            start: usize::try_from(start).ok()?,
            end: usize::try_from(end).ok()?,
            attest: OnceLock::new(),
        })
    }

    /// Its unique id.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The bytes from the memory's start to the image's end (whole host
    /// pages): what a memory must have for the image to fit, and what
    /// holds its pages.
    pub(crate) fn len(&self) -> usize {
        self.end
    }

    /// Its pages as attestation sees them (`info` its module's), made
    /// once; `None` if they could not be.
    pub(crate) fn attest_pages(&self, info: &ModuleInfo) -> Option<Arc<ImagePages>> {
        self.attest
            .get_or_init(|| {
                let placement = placement(info)?;
                let page = walmart_attest::PAGE_SIZE;
                let mut pages: Vec<u32> = placement
                    .segments
                    .iter()
                    .filter(|(_, bytes)| !bytes.is_empty())
                    .flat_map(|(at, bytes)| {
                        (at / page) as u32..(at + bytes.len()).div_ceil(page) as u32
                    })
                    .collect();
                pages.sort_unstable();
                pages.dedup();
                ImagePages::new(
                    self.fd.as_fd(),
                    self.offset,
                    self.start,
                    self.end - self.start,
                    pages,
                )
                .map(Arc::new)
            })
            .clone()
    }

    /// The bytes of memory it covers: its first byte and how many.
    pub(crate) fn covered(&self) -> (usize, usize) {
        (self.start, self.end - self.start)
    }

    /// Maps the image over the start of `memory`, which must be a fresh
    /// guarded memory at least as large. False if the mapping failed (the
    /// caller then copies the segments).
    pub(crate) fn map_into(&self, memory: &MemoryData) -> bool {
        let (base, length) = memory.base_len();
        // SAFETY: the memory is fresh (the contract) and ours.
        (length as usize) >= self.end && unsafe { self.map_at(base) }.is_ok()
    }

    /// Maps the image read-write, copy-on-write, over its part of `[base,
    /// base + len)`, replacing what was there (the pages below its start
    /// are left as they are: zeros in a fresh memory).
    ///
    /// # Safety
    /// The range must lie in a memory's reservation the caller owns, and
    /// nothing may rely on the bytes it held.
    pub(crate) unsafe fn map_at(&self, base: *mut u8) -> std::io::Result<()> {
        let at = base.wrapping_add(self.start);
        let offset = libc::off_t::try_from(self.offset).map_err(std::io::Error::other)?;
        // SAFETY: per the contract; MAP_FIXED replaces those pages with a
        // private copy-on-write view of the image.
        let p = unsafe {
            libc::mmap(
                at as *mut libc::c_void,
                self.end - self.start,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_FIXED,
                self.fd.as_raw_fd(),
                offset,
            )
        };
        if p == at as *mut libc::c_void {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }
}
