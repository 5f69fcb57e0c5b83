//! Anonymous mappings and protection changes, the two system calls
//! linear memories, dirty bitmaps and write protection are built from.

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

/// The parts of `bytes` (a slice of a mapping: a linear memory) whose
/// pages are in memory, as ranges of offsets into `bytes`, in order; all
/// of it where the kernel cannot say (`mincore` failed). Pages never
/// touched are left out (a trap's caller marks what may have been
/// written, and a page never touched was not). A page swapped out is
/// left out too.
pub(crate) fn resident_ranges(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    if bytes.is_empty() {
        return Vec::new();
    }
    // SAFETY: sysconf has no preconditions.
    let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        p if p > 0 => p as usize,
        _ => return std::iter::once(0..bytes.len()).collect(),
    };
    let addr = bytes.as_ptr() as usize;
    let skew = addr % page;
    let span = skew + bytes.len();
    let mut flags = vec![0u8; span.div_ceil(page)];
    // SAFETY: [addr - skew, addr + len) lies in the pages of a mapping
    // that `bytes` borrows (mincore takes a page-aligned start); mincore
    // writes one byte per page of it into `flags`, which has that many.
    let ok = unsafe {
        libc::mincore(
            (addr - skew) as *mut libc::c_void,
            bytes.len() + skew,
            flags.as_mut_ptr(),
        )
    } == 0;
    if !ok {
        return std::iter::once(0..bytes.len()).collect();
    }
    let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
    for (k, _) in flags.iter().enumerate().filter(|(_, f)| *f & 1 != 0) {
        let start = (k * page).saturating_sub(skew);
        let end = ((k + 1) * page - skew).min(bytes.len());
        match ranges.last_mut() {
            Some(last) if last.end == start => last.end = end,
            _ => ranges.push(start..end),
        }
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pages_written_are_resident() {
        let page = 4096;
        let len = 64 * page;
        let ptr = map_anonymous(len, libc::PROT_READ | libc::PROT_WRITE).unwrap();
        // SAFETY: the mapping above is ours, readable and writable.
        let bytes = unsafe { std::slice::from_raw_parts_mut(ptr, len) };
        assert_eq!(resident_ranges(bytes), Vec::<std::ops::Range<usize>>::new());
        bytes[3 * page + 10] = 1;
        bytes[4 * page] = 1;
        bytes[40 * page + 4095] = 1;
        assert_eq!(
            resident_ranges(bytes),
            vec![3 * page..5 * page, 40 * page..41 * page]
        );
        // A slice that starts and ends inside pages.
        assert_eq!(
            resident_ranges(&bytes[3 * page + 100..40 * page + 7]),
            vec![0..2 * page - 100, 37 * page - 100..37 * page - 93]
        );
        // SAFETY: nothing borrows the mapping any more.
        unsafe { libc::munmap(ptr as *mut libc::c_void, len) };
    }
}
