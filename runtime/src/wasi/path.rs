//! `path_*`: every path a guest names is resolved beneath one of its
//! descriptors with `openat2(RESOLVE_BENEATH)`, so the kernel itself
//! refuses `..`, absolute paths and symlinks that would leave the
//! preopened directory (reported as `ENOTCAPABLE`).

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::ctx::WasiCtx;
use super::fd::{check, fstat, timespecs, write_filestat};
use super::perms::{DirPerms, FilePerms, Perms};
use super::types::{
    fdflags, filetype, oflags, Errno, GuestMemory, WasiResult, RIGHT_FD_ALLOCATE,
    RIGHT_FD_FILESTAT_SET_SIZE, RIGHT_FD_READ, RIGHT_FD_READDIR, RIGHT_FD_WRITE,
};

/// `lookupflags.symlink_follow`.
const SYMLINK_FOLLOW: u32 = 1;

fn c_string(s: &str) -> WasiResult<CString> {
    CString::new(s).map_err(|_| Errno::INVAL)
}

/// Opens `path` beneath `dir`; escapes fail with `ENOTCAPABLE`.
fn open_beneath(dir: RawFd, path: &str, flags: i32, mode: u32) -> WasiResult<OwnedFd> {
    if path.is_empty() {
        return Err(Errno::NOENT);
    }
    if path.starts_with('/') {
        return Err(Errno::NOTCAPABLE);
    }
    let c = c_string(path)?;
    // SAFETY: open_how is plain data; all-zero is its documented default.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u64;
    how.mode = if flags & libc::O_CREAT != 0 {
        mode as u64
    } else {
        0
    };
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: valid C string and open_how of the size passed.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir,
            c.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: a fresh descriptor we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// The directory holding the last component of `path`, and that component.
fn parent_and_name(dir: RawFd, path: &str) -> WasiResult<(OwnedFd, CString)> {
    if path.is_empty() {
        return Err(Errno::NOENT);
    }
    if path.starts_with('/') {
        return Err(Errno::NOTCAPABLE);
    }
    let trimmed = path.trim_end_matches('/');
    let trimmed = if trimmed.is_empty() { "." } else { trimmed };
    let (parent, name) = match trimmed.rfind('/') {
        Some(i) => (&trimmed[..i.max(1)], &trimmed[i + 1..]),
        None => (".", trimmed),
    };
    let parent_fd = open_beneath(dir, parent, libc::O_PATH | libc::O_DIRECTORY, 0)?;
    if name == "." || name == ".." {
        // Still refuse an escape through the last component before saying
        // the operation makes no sense on it.
        open_beneath(dir, trimmed, libc::O_PATH, 0)?;
        return Err(Errno::INVAL);
    }
    Ok((parent_fd, c_string(name)?))
}

impl WasiCtx {
    /// The host descriptor of directory `fd`, where its permissions
    /// allow `need` (else `EPERM`).
    fn dir(&self, fd: u32, need: DirPerms) -> WasiResult<RawFd> {
        self.dir_entry(fd, need).map(|(dir, _)| dir)
    }

    /// [`WasiCtx::dir`] and the directory's permissions.
    fn dir_entry(&self, fd: u32, need: DirPerms) -> WasiResult<(RawFd, Perms)> {
        let e = self.get(fd)?;
        if !e.is_directory() {
            return Err(Errno::NOTDIR);
        }
        if !e.perms.dir.contains(need) {
            return Err(Errno::PERM);
        }
        Ok((e.fd, e.perms))
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn path_open(
        &mut self,
        mem: &mut GuestMemory<'_>,
        dirfd: u32,
        lookup: u32,
        path: &str,
        oflags: u16,
        rights: u64,
        fdflags_in: u16,
        out: u32,
    ) -> WasiResult<()> {
        let read = rights & (RIGHT_FD_READ | RIGHT_FD_READDIR) != 0;
        let write = rights & (RIGHT_FD_WRITE | RIGHT_FD_ALLOCATE | RIGHT_FD_FILESTAT_SET_SIZE) != 0;
        let mut flags = if oflags & oflags::DIRECTORY != 0 {
            libc::O_RDONLY | libc::O_DIRECTORY
        } else {
            match (read, write) {
                (_, false) => libc::O_RDONLY,
                (false, true) => libc::O_WRONLY,
                (true, true) => libc::O_RDWR,
            }
        };
        if oflags & oflags::CREAT != 0 {
            flags |= libc::O_CREAT;
        }
        if oflags & oflags::EXCL != 0 {
            flags |= libc::O_EXCL;
        }
        if oflags & oflags::TRUNC != 0 {
            flags |= libc::O_TRUNC;
        }
        if lookup & SYMLINK_FOLLOW == 0 {
            flags |= libc::O_NOFOLLOW;
        }
        if fdflags_in & fdflags::APPEND != 0 {
            flags |= libc::O_APPEND;
        }
        if fdflags_in & fdflags::NONBLOCK != 0 {
            flags |= libc::O_NONBLOCK;
        }
        if fdflags_in & (fdflags::SYNC | fdflags::RSYNC) != 0 {
            flags |= libc::O_SYNC;
        }
        if fdflags_in & fdflags::DSYNC != 0 {
            flags |= libc::O_DSYNC;
        }
        // Creating is changing the directory; writing or truncating a
        // file needs the files' write permission, reading their read one.
        let need = if oflags & oflags::CREAT != 0 {
            DirPerms::READ | DirPerms::MUTATE
        } else {
            DirPerms::READ
        };
        let file_need = if oflags & oflags::DIRECTORY != 0 {
            FilePerms::empty()
        } else {
            // A file not opened write-only is readable through its
            // descriptor, whatever rights were asked.
            let mut need = FilePerms::empty();
            if write || oflags & oflags::TRUNC != 0 {
                need = need | FilePerms::WRITE;
            }
            if read || !write {
                need = need | FilePerms::READ;
            }
            need
        };
        // Opening a FIFO blocks until its other end opens: a shared
        // context is not held meanwhile.
        let ((fd, ft), perms) = self.unlocked_io(
            |c| {
                let (dir, perms) = c.dir_entry(dirfd, need)?;
                if !perms.file.contains(file_need) {
                    return Err(Errno::PERM);
                }
                Ok((dir, perms))
            },
            |dir, perms| {
                let fd = open_beneath(dir, path, flags, 0o666)?;
                let st = fstat(fd.as_raw_fd())?;
                Ok(((fd, filetype::from_mode(st.st_mode)), perms))
            },
        )?;
        let raw = std::os::fd::IntoRawFd::into_raw_fd(fd);
        // What is opened beneath the directory has its permissions.
        let guest = self.with_state(|c| c.insert(raw, ft, fdflags_in, perms))?;
        mem.write_u32(out, guest)
    }

    pub(crate) fn path_create_directory(&mut self, fd: u32, path: &str) -> WasiResult<()> {
        let (parent, name) = parent_and_name(self.dir(fd, DirPerms::MUTATE)?, path)?;
        // SAFETY: valid descriptor and C string.
        check(unsafe { libc::mkdirat(parent.as_raw_fd(), name.as_ptr(), 0o777) })?;
        Ok(())
    }

    pub(crate) fn path_filestat_get(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        lookup: u32,
        path: &str,
        out: u32,
    ) -> WasiResult<()> {
        let mut flags = libc::O_PATH;
        if lookup & SYMLINK_FOLLOW == 0 {
            flags |= libc::O_NOFOLLOW;
        }
        let target = open_beneath(self.dir(fd, DirPerms::READ)?, path, flags, 0)?;
        let st = fstat(target.as_raw_fd())?;
        write_filestat(self, mem, out, &st)
    }

    pub(crate) fn path_filestat_set_times(
        &mut self,
        fd: u32,
        lookup: u32,
        path: &str,
        atim: u64,
        mtim: u64,
        fst: u16,
    ) -> WasiResult<()> {
        // Checked before anything is opened.
        timespecs(atim, mtim, fst, None)?;
        let mut flags = libc::O_PATH;
        if lookup & SYMLINK_FOLLOW == 0 {
            flags |= libc::O_NOFOLLOW;
        }
        // Resolve beneath first, then touch what was resolved through its
        // /proc handle, so a symlink cannot redirect the update elsewhere.
        let target = open_beneath(self.dir(fd, DirPerms::MUTATE)?, path, flags, 0)?;
        let proc_path = c_string(&format!("/proc/self/fd/{}", target.as_raw_fd()))?;
        let nofollow = if lookup & SYMLINK_FOLLOW == 0 {
            libc::AT_SYMLINK_NOFOLLOW
        } else {
            0
        };
        // SAFETY: valid C string and two timespecs.
        self.set_times((atim, mtim, fst), |ts| unsafe {
            libc::utimensat(libc::AT_FDCWD, proc_path.as_ptr(), ts.as_ptr(), nofollow)
        })
    }

    pub(crate) fn path_link(
        &mut self,
        old_fd: u32,
        lookup: u32,
        old: &str,
        new_fd: u32,
        new: &str,
    ) -> WasiResult<()> {
        if lookup & SYMLINK_FOLLOW != 0 {
            // Following a symlink here could link a file from outside the sandbox.
            return Err(Errno::INVAL);
        }
        // A link is a change to both sides: a file linked out of a
        // directory given read only could be written through the link.
        let (op, on) = parent_and_name(self.dir(old_fd, DirPerms::MUTATE)?, old)?;
        let (np, nn) = parent_and_name(self.dir(new_fd, DirPerms::MUTATE)?, new)?;
        // SAFETY: valid descriptors and C strings.
        check(unsafe {
            libc::linkat(op.as_raw_fd(), on.as_ptr(), np.as_raw_fd(), nn.as_ptr(), 0)
        })?;
        Ok(())
    }

    pub(crate) fn path_readlink(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        path: &str,
        buf: u32,
        len: u32,
        out: u32,
    ) -> WasiResult<()> {
        let (parent, name) = parent_and_name(self.dir(fd, DirPerms::READ)?, path)?;
        let mut target = vec![0u8; 4096];
        // SAFETY: valid descriptor, C string and buffer.
        let n = unsafe {
            libc::readlinkat(
                parent.as_raw_fd(),
                name.as_ptr(),
                target.as_mut_ptr().cast(),
                target.len(),
            )
        };
        if n < 0 {
            return Err(Errno::last());
        }
        let n = (n as usize).min(len as usize);
        mem.write(buf, &target[..n])?;
        mem.write_u32(out, n as u32)
    }

    pub(crate) fn path_remove_directory(&mut self, fd: u32, path: &str) -> WasiResult<()> {
        let (parent, name) = parent_and_name(self.dir(fd, DirPerms::MUTATE)?, path)?;
        // SAFETY: valid descriptor and C string.
        check(unsafe { libc::unlinkat(parent.as_raw_fd(), name.as_ptr(), libc::AT_REMOVEDIR) })?;
        Ok(())
    }

    pub(crate) fn path_rename(
        &mut self,
        fd: u32,
        old: &str,
        new_fd: u32,
        new: &str,
    ) -> WasiResult<()> {
        let (op, on) = parent_and_name(self.dir(fd, DirPerms::MUTATE)?, old)?;
        let (np, nn) = parent_and_name(self.dir(new_fd, DirPerms::MUTATE)?, new)?;
        // SAFETY: valid descriptors and C strings.
        check(unsafe { libc::renameat(op.as_raw_fd(), on.as_ptr(), np.as_raw_fd(), nn.as_ptr()) })?;
        Ok(())
    }

    pub(crate) fn path_symlink(&mut self, target: &str, fd: u32, path: &str) -> WasiResult<()> {
        if target.starts_with('/') {
            // An absolute target could only ever point outside the sandbox.
            return Err(Errno::NOTCAPABLE);
        }
        let (parent, name) = parent_and_name(self.dir(fd, DirPerms::MUTATE)?, path)?;
        let t = c_string(target)?;
        // SAFETY: valid descriptor and C strings.
        check(unsafe { libc::symlinkat(t.as_ptr(), parent.as_raw_fd(), name.as_ptr()) })?;
        Ok(())
    }

    pub(crate) fn path_unlink_file(&mut self, fd: u32, path: &str) -> WasiResult<()> {
        if path.ends_with('/') {
            return Err(Errno::NOTDIR);
        }
        let (parent, name) = parent_and_name(self.dir(fd, DirPerms::MUTATE)?, path)?;
        // SAFETY: valid descriptor and C string.
        check(unsafe { libc::unlinkat(parent.as_raw_fd(), name.as_ptr(), 0) })?;
        Ok(())
    }
}
