//! Written-page tracking by the kernel, for `coarse` and asynchronous
//! `fine` attestation.
//!
//! `coarse` only looks at memory at the module boundary (asynchronous
//! `fine` at the hooks the verifier arms), so it does not
//! need to know about each store as it happens: it needs, at each hook,
//! the pages written since the last one. Linux (6.7+) keeps exactly that
//! for us. In a memory registered with a userfaultfd in asynchronous
//! write-protect mode, the `PAGEMAP_SCAN` ioctl lists the pages written
//! since they were last write-protected and write-protects them again, in
//! one call; the first write to a protected page clears the protection
//! inside the kernel (a minor fault, no signal, no thread of ours
//! involved). Pages never touched stay unpopulated and unprotected (their
//! first write is an ordinary page fault, and makes them written); pages
//! only ever read map the shared zero page, which the scan leaves out. Generated code then carries no store barrier at all: a
//! store costs what it costs without attestation, and the price moves to
//! one page-table walk per hook, plus, when a scan protects, a TLB flush
//! and one fault per protected page the guest writes again (hooks leave
//! pages written while few are carried: `session::PEEK_LIMIT`;
//! benches/RESULTS.md has the figures).
//!
//! Where the kernel lacks the feature (older kernels, seccomp filters,
//! `userfaultfd` denied), [`available`] says so and both fall back to
//! the store barrier.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::OnceLock;

use walmart_jit::vmctx::DIRTY_PAGE_SIZE;

// The kernel ABI (include/uapi/linux/userfaultfd.h and fs.h), which the
// libc crate does not carry yet.
const UFFD_API: u64 = 0xaa;
const UFFD_USER_MODE_ONLY: libc::c_int = 1;
const UFFD_FEATURE_WP_ASYNC: u64 = 1 << 15;
const UFFDIO_REGISTER_MODE_WP: u64 = 1 << 1;
const UFFDIO_API: libc::c_ulong = 0xc018_aa3f;
const UFFDIO_REGISTER: libc::c_ulong = 0xc020_aa00;
const UFFDIO_WRITEPROTECT: libc::c_ulong = 0xc018_aa06;
const UFFDIO_WRITEPROTECT_MODE_WP: u64 = 1 << 0;
const PAGEMAP_SCAN: libc::c_ulong = 0xc060_6610;
const PM_SCAN_WP_MATCHING: u64 = 1 << 0;
const PM_SCAN_CHECK_WPASYNC: u64 = 1 << 1;
const PAGE_IS_WRITTEN: u64 = 1 << 1;
const PAGE_IS_PRESENT: u64 = 1 << 3;
const PAGE_IS_SWAPPED: u64 = 1 << 4;
const PAGE_IS_PFNZERO: u64 = 1 << 5;

#[repr(C)]
struct UffdioApi {
    api: u64,
    features: u64,
    ioctls: u64,
}

#[repr(C)]
struct UffdioRegister {
    start: u64,
    len: u64,
    mode: u64,
    ioctls: u64,
}

#[repr(C)]
struct UffdioWriteprotect {
    start: u64,
    len: u64,
    mode: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct PageRegion {
    start: u64,
    end: u64,
    categories: u64,
}

#[repr(C)]
struct PmScanArg {
    size: u64,
    flags: u64,
    start: u64,
    end: u64,
    walk_end: u64,
    vec: u64,
    vec_len: u64,
    max_pages: u64,
    category_inverted: u64,
    category_mask: u64,
    category_anyof_mask: u64,
    return_mask: u64,
}

/// The process's userfaultfd (no events are ever read from it: the
/// asynchronous mode resolves every fault in the kernel) and its pagemap.
struct Tracker {
    uffd: OwnedFd,
    pagemap: File,
}

static TRACKER: OnceLock<Option<Tracker>> = OnceLock::new();

fn open() -> io::Result<Tracker> {
    // SAFETY: a plain system call; the result is a new descriptor or -1.
    // User-mode-only faults are all unprivileged processes may ask for,
    // and all we need: asynchronous write-protect faults are resolved in
    // the kernel whoever writes (the guest, or a system call like `read`).
    let fd = unsafe {
        libc::syscall(
            libc::SYS_userfaultfd,
            libc::O_CLOEXEC | libc::O_NONBLOCK | UFFD_USER_MODE_ONLY,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned to us and is owned by nobody else.
    let uffd = unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) };
    let mut api = UffdioApi {
        api: UFFD_API,
        features: UFFD_FEATURE_WP_ASYNC,
        ioctls: 0,
    };
    // SAFETY: UFFDIO_API reads and writes a `struct uffdio_api`.
    if unsafe { libc::ioctl(uffd.as_raw_fd(), UFFDIO_API, &mut api) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let tracker = Tracker {
        uffd,
        pagemap: File::open("/proc/self/pagemap")?,
    };
    tracker.self_test()?;
    Ok(tracker)
}

impl Tracker {
    /// Tracks one scratch page end to end, so a kernel that accepts the
    /// calls but lacks `PAGEMAP_SCAN` (or scans wrongly) is found once,
    /// here, and not at the first hook.
    fn self_test(&self) -> io::Result<()> {
        let len = DIRTY_PAGE_SIZE * 2;
        let page = crate::vm::mmap::map_anonymous(len, libc::PROT_READ | libc::PROT_WRITE)?;
        let result = (|| {
            self.register(page as usize, len)?;
            // SAFETY: `page` is our fresh read-write mapping of two pages.
            unsafe {
                page.read_volatile();
                page.add(DIRTY_PAGE_SIZE).write_volatile(1);
            }
            let mut seen = Vec::new();
            // Looked at without protecting, then protected: reported both
            // times; then no more.
            self.collect(page as usize, len, false, |p| seen.push(p))?;
            self.collect(page as usize, len, true, |p| seen.push(p))?;
            self.collect(page as usize, len, true, |p| seen.push(p))?;
            if seen == [1, 1] {
                Ok(())
            } else {
                Err(io::Error::other(format!(
                    "PAGEMAP_SCAN reported pages {seen:?} after a read of page 0 \
                     and a write to page 1"
                )))
            }
        })();
        // SAFETY: our own mapping, referenced by nothing else.
        unsafe { libc::munmap(page as *mut libc::c_void, len) };
        result
    }

    fn register(&self, start: usize, len: usize) -> io::Result<()> {
        // A transparent huge page would be reported (and protected) whole:
        // 512 pages for one write. Advisory, so failure does not matter.
        // SAFETY: only changes how the kernel backs the range.
        unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_NOHUGEPAGE) };
        let mut reg = UffdioRegister {
            start: start as u64,
            len: len as u64,
            mode: UFFDIO_REGISTER_MODE_WP,
            ioctls: 0,
        };
        // SAFETY: UFFDIO_REGISTER reads and writes a `struct
        // uffdio_register`; registering only changes how faults in the
        // range are handled.
        if unsafe { libc::ioctl(self.uffd.as_raw_fd(), UFFDIO_REGISTER, &mut reg) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Write-protects every page of `[start, start + len)` (registered),
    /// present or not: a page of a file's mapping that is only read then
    /// maps the file's page protected, and does not count as written.
    fn protect(&self, start: usize, len: usize) -> io::Result<()> {
        let mut wp = UffdioWriteprotect {
            start: start as u64,
            len: len as u64,
            mode: UFFDIO_WRITEPROTECT_MODE_WP,
        };
        // SAFETY: UFFDIO_WRITEPROTECT reads a `struct uffdio_writeprotect`;
        // protecting pages of a registered range only makes their next
        // write fault (resolved in the kernel: asynchronous mode).
        if unsafe { libc::ioctl(self.uffd.as_raw_fd(), UFFDIO_WRITEPROTECT, &mut wp) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn collect(
        &self,
        start: usize,
        len: usize,
        protect: bool,
        mut written: impl FnMut(usize),
    ) -> io::Result<()> {
        const REGIONS: usize = 256;
        let mut regions = [PageRegion::default(); REGIONS];
        let end = (start + len) as u64;
        let mut at = start as u64;
        while at < end {
            let mut arg = PmScanArg {
                size: std::mem::size_of::<PmScanArg>() as u64,
                flags: if protect {
                    PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC
                } else {
                    PM_SCAN_CHECK_WPASYNC
                },
                start: at,
                end,
                walk_end: 0,
                vec: regions.as_mut_ptr() as u64,
                vec_len: REGIONS as u64,
                max_pages: 0,
                // Written, not the zero page, and populated: holes are
                // skipped, not protected (that would cost a page table
                // entry and a slower first fault for every page).
                category_inverted: PAGE_IS_PFNZERO,
                category_mask: PAGE_IS_WRITTEN | PAGE_IS_PFNZERO,
                category_anyof_mask: PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
                return_mask: PAGE_IS_WRITTEN,
            };
            // SAFETY: PAGEMAP_SCAN reads `arg` and writes at most
            // `vec_len` regions into `regions`; write-protecting pages of
            // a registered range only makes their next write fault.
            let n = unsafe { libc::ioctl(self.pagemap.as_raw_fd(), PAGEMAP_SCAN, &mut arg) };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            for r in &regions[..n as usize] {
                let first = (r.start as usize - start) / DIRTY_PAGE_SIZE;
                let last = (r.end as usize - start).div_ceil(DIRTY_PAGE_SIZE);
                (first..last).for_each(&mut written);
            }
            if arg.walk_end <= at {
                return Err(io::Error::other("PAGEMAP_SCAN made no progress"));
            }
            at = arg.walk_end;
        }
        Ok(())
    }
}

fn tracker() -> Option<&'static Tracker> {
    TRACKER.get_or_init(|| open().ok()).as_ref()
}

/// Whether this kernel tracks written pages for us (checked once per
/// process).
pub(crate) fn available() -> bool {
    tracker().is_some()
}

/// Whether a private mapping of a file is tracked as anonymous memory is
/// ([`track_mapping`]): its pages only read not reported, its written
/// ones reported (checked once per process on a scratch memfd). Not where
/// the kernel cannot write-protect pages not yet mapped (no PTE markers):
/// every page read would count as written.
pub(crate) fn tracks_file_mappings() -> bool {
    static TRACKS: OnceLock<bool> = OnceLock::new();
    *TRACKS.get_or_init(|| available() && file_mapping_test().is_ok())
}

/// An unlinked file of `len` zero bytes, to map in a self-test.
fn scratch_file(len: usize) -> io::Result<File> {
    let file = crate::vm::mmap::memfd(c"walmart-tracking-test")?;
    file.set_len(len as u64)?;
    Ok(file)
}

fn file_mapping_test() -> io::Result<()> {
    let len = DIRTY_PAGE_SIZE * 2;
    let file = scratch_file(len)?;
    // SAFETY: a new private mapping of our own file, chosen by the kernel.
    let page = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE,
            file.as_raw_fd(),
            0,
        )
    };
    if page == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    let page = page as *mut u8;
    let result = (|| {
        track_mapping(page as usize, len)?;
        // SAFETY: `page` is our fresh read-write mapping of two pages.
        unsafe {
            page.read_volatile();
            page.add(DIRTY_PAGE_SIZE).write_volatile(1);
        }
        let mut seen = Vec::new();
        collect(page as usize, len, true, |p| seen.push(p))?;
        if seen == [1] {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "PAGEMAP_SCAN reported pages {seen:?} of a file's mapping after a read of \
                 page 0 and a write to page 1"
            )))
        }
    })();
    // SAFETY: our own mapping, referenced by nothing else.
    unsafe { libc::munmap(page as *mut libc::c_void, len) };
    result
}

fn unavailable() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "the kernel does not offer userfaultfd asynchronous write-protection with PAGEMAP_SCAN",
    )
}

/// Puts `[start, start + len)` (whole pages of one anonymous mapping, any
/// protection) under tracking; a mapping that moves (`mremap`) must be
/// registered again, and its pages then all count as written.
pub(crate) fn register(start: usize, len: usize) -> io::Result<()> {
    tracker().ok_or_else(unavailable)?.register(start, len)
}

/// Puts a fresh private mapping of a file at `[start, start + len)` (whole
/// pages, over part of a tracked range: a memory's copy-on-write image)
/// under tracking, none of its pages written. Unlike anonymous memory,
/// whose pages only read map the zero page (left out of scans), a file's
/// page that is read maps the file's page, which the kernel would report
/// as written: every page is write-protected first, so only writes count.
pub(crate) fn track_mapping(start: usize, len: usize) -> io::Result<()> {
    let tracker = tracker().ok_or_else(unavailable)?;
    tracker.register(start, len)?;
    tracker.protect(start, len)
}

/// Calls `written` with the index (from `start`, in pages) of every page of
/// `[start, start + len)` written since the last call that covered it
/// with `protect`, and with `protect` write-protects them again. Without,
/// the pages stay writable and count as written at the next call: no TLB
/// flush (the costly part of a scan, see `session::PEEK_LIMIT`).
pub(crate) fn collect(
    start: usize,
    len: usize,
    protect: bool,
    written: impl FnMut(usize),
) -> io::Result<()> {
    tracker()
        .ok_or_else(unavailable)?
        .collect(start, len, protect, written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_written_pages_once() {
        if !available() {
            eprintln!("kernel dirty tracking unavailable here; nothing to check");
            return;
        }
        let len = 64 * DIRTY_PAGE_SIZE;
        let base = crate::vm::mmap::map_anonymous(len, libc::PROT_READ | libc::PROT_WRITE).unwrap();
        let at = base as usize;
        register(at, len).unwrap();
        let scan = |range, protect| {
            let mut out = Vec::new();
            collect(at, range, protect, |p| out.push(p)).unwrap();
            out
        };
        let pages = |range| scan(range, true);
        // SAFETY: inside our fresh read-write mapping.
        unsafe {
            base.add(2 * DIRTY_PAGE_SIZE).read_volatile();
            base.add(3 * DIRTY_PAGE_SIZE + 7).write_volatile(1);
            base.add(40 * DIRTY_PAGE_SIZE - 1)
                .cast::<u16>()
                .write_unaligned(7);
        }
        // Looked at, left writable: still written at the next scan.
        assert_eq!(scan(len, false), [3, 39, 40]);
        assert_eq!(pages(len), [3, 39, 40]);
        assert_eq!(pages(len), [] as [usize; 0]);
        assert_eq!(scan(len, false), [] as [usize; 0]);
        // Written again after a scan; the zero page read before is written
        // now too.
        // SAFETY: as above.
        unsafe {
            base.add(3 * DIRTY_PAGE_SIZE).write_volatile(2);
            base.add(2 * DIRTY_PAGE_SIZE).write_volatile(2);
        }
        assert_eq!(pages(len), [2, 3]);
        // SAFETY: as above.
        unsafe { libc::munmap(base as *mut libc::c_void, len) };
    }

    #[test]
    fn a_files_mapping_reports_only_written_pages() {
        if !tracks_file_mappings() {
            eprintln!("kernel dirty tracking of file mappings unavailable here; nothing to check");
            return;
        }
        let pages = 32;
        let len = pages * DIRTY_PAGE_SIZE;
        let mut file = scratch_file(0).unwrap();
        std::io::Write::write_all(&mut file, &vec![7u8; 8 * DIRTY_PAGE_SIZE]).unwrap();
        let base = crate::vm::mmap::map_anonymous(len, libc::PROT_READ | libc::PROT_WRITE).unwrap();
        let at = base as usize;
        register(at, len).unwrap();
        // Eight pages of the file over pages 4-11, as a memory image is.
        let image = at + 4 * DIRTY_PAGE_SIZE;
        // SAFETY: replaces pages of our own fresh mapping.
        let mapped = unsafe {
            libc::mmap(
                image as *mut libc::c_void,
                8 * DIRTY_PAGE_SIZE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_FIXED,
                std::os::fd::AsRawFd::as_raw_fd(&file),
                0,
            )
        };
        assert_eq!(mapped as usize, image);
        track_mapping(image, 8 * DIRTY_PAGE_SIZE).unwrap();
        let scan = || {
            let mut out = Vec::new();
            collect(at, len, true, |p| out.push(p)).unwrap();
            out
        };
        // SAFETY: inside our mapping.
        unsafe {
            assert_eq!(base.add(5 * DIRTY_PAGE_SIZE).read_volatile(), 7);
            assert_eq!(base.add(6 * DIRTY_PAGE_SIZE + 9).read_volatile(), 7);
            base.add(7 * DIRTY_PAGE_SIZE).write_volatile(1);
            base.add(20 * DIRTY_PAGE_SIZE).write_volatile(1);
        }
        // Pages 5 and 6, only read, are not written.
        assert_eq!(scan(), [7, 20]);
        assert_eq!(scan(), [] as [usize; 0]);
        // SAFETY: as above.
        unsafe { base.add(5 * DIRTY_PAGE_SIZE).write_volatile(2) };
        assert_eq!(scan(), [5]);
        // SAFETY: as above.
        unsafe { libc::munmap(base as *mut libc::c_void, len) };
    }
}
