//! Anonymous mappings and protection changes, the two system calls
//! linear memories, dirty bitmaps and write protection are built from,
//! and the anonymous files memory images are mapped from.

/// A new empty file in memory (`memfd_create`), named `name` in
/// `/proc/self/fd`, closed on exec.
pub(crate) fn memfd(name: &std::ffi::CStr) -> std::io::Result<std::fs::File> {
    // SAFETY: a valid C string; the result is checked.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor nothing else owns.
    Ok(std::fs::File::from(unsafe {
        <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd)
    }))
}

/// A fresh private anonymous mapping of `len` bytes with protection `prot`,
/// reserved lazily (`MAP_NORESERVE`): pages cost nothing until touched.
pub(crate) fn map_anonymous(len: usize, prot: libc::c_int) -> std::io::Result<*mut u8> {
    // SAFETY: a new mapping chosen by the kernel overlaps nothing of ours.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            prot,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(ptr as *mut u8)
    }
}

/// Replaces `[start, start + len)`, which must lie in a reservation the
/// caller owns and nothing uses, with fresh zero pages of protection
/// `prot` (one system call: contents, protection and any file mapping
/// there go).
pub(crate) fn map_fixed_anonymous(
    start: *mut u8,
    len: usize,
    prot: libc::c_int,
) -> std::io::Result<()> {
    // SAFETY: MAP_FIXED over a range of the caller's own reservation that
    // nothing uses (the function's contract).
    let ptr = unsafe {
        libc::mmap(
            start as *mut libc::c_void,
            len,
            prot,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED,
            -1,
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Sets the protection of `[start, start + len)`.
///
/// # Safety
/// The range must belong to a mapping the caller owns, and nothing may
/// rely on access the new protection removes.
pub(crate) unsafe fn protect(start: usize, len: usize, prot: libc::c_int) -> std::io::Result<()> {
    if len == 0 {
        return Ok(());
    }
    // SAFETY: per the function contract.
    if unsafe { libc::mprotect(start as *mut libc::c_void, len, prot) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
