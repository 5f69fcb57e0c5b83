//! `fd_*`: reading, writing, seeking, metadata and directory listing on
//! open descriptors (`fd_write` is here); sockets' own calls are in
//! `sock.rs`.

use std::ffi::CStr;
use std::os::fd::RawFd;

use super::ctx::{FdEntry, WasiCtx};
use super::perms::{DirPerms, FilePerms};
use super::types::{fdflags, filetype, fstflags, Errno, GuestMemory, WasiResult};

/// Checks a host call's `-1` result.
pub(crate) fn check(rc: libc::c_int) -> WasiResult<libc::c_int> {
    if rc < 0 {
        Err(Errno::last())
    } else {
        Ok(rc)
    }
}

fn check_size(rc: isize) -> WasiResult<usize> {
    if rc < 0 {
        Err(Errno::last())
    } else {
        Ok(rc as usize)
    }
}

/// Writes a 64-byte `filestat` for `st` at `ptr`, its times rounded as
/// the guest's clocks are ([`WasiCtx::clock_resolution`]): a file touched
/// "now" is a clock too.
// `st_nlink` is u64 on x86_64 but u32 elsewhere.
#[allow(clippy::unnecessary_cast)]
pub(crate) fn write_filestat(
    ctx: &WasiCtx,
    mem: &mut GuestMemory<'_>,
    ptr: u32,
    st: &libc::stat,
) -> WasiResult<()> {
    let mut buf = [0u8; 64];
    buf[0..8].copy_from_slice(&(st.st_dev).to_le_bytes());
    buf[8..16].copy_from_slice(&(st.st_ino).to_le_bytes());
    buf[16] = filetype::from_mode(st.st_mode);
    buf[24..32].copy_from_slice(&(st.st_nlink as u64).to_le_bytes());
    buf[32..40].copy_from_slice(&(st.st_size as u64).to_le_bytes());
    let ns = |s: i64, n: i64| {
        ctx.coarsened(
            (s as u64)
                .wrapping_mul(1_000_000_000)
                .wrapping_add(n as u64),
        )
    };
    buf[40..48].copy_from_slice(&ns(st.st_atime, st.st_atime_nsec).to_le_bytes());
    buf[48..56].copy_from_slice(&ns(st.st_mtime, st.st_mtime_nsec).to_le_bytes());
    buf[56..64].copy_from_slice(&ns(st.st_ctime, st.st_ctime_nsec).to_le_bytes());
    mem.write(ptr, &buf)
}

pub(crate) fn fstat(fd: i32) -> WasiResult<libc::stat> {
    // SAFETY: fstat fills a zeroed struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    check(unsafe { libc::fstat(fd, &mut st) })?;
    Ok(st)
}

impl WasiCtx {
    /// Sets a file's times through `apply` (`futimens`, `utimensat`),
    /// "now" being the guest's wall clock where it is not the host's (a
    /// deterministic run's, or the embedder's). Explicit times need the
    /// file's owner where `UTIME_NOW` needs only write access: refused
    /// (`EPERM`), such a "now" falls back to the host's, as wasmtime's
    /// always is.
    pub(crate) fn set_times(
        &mut self,
        (atim, mtim, flags): (u64, u64, u16),
        apply: impl Fn(&[libc::timespec; 2]) -> libc::c_int,
    ) -> WasiResult<()> {
        let asks_now = flags & (fstflags::ATIM_NOW | fstflags::MTIM_NOW) != 0;
        let own_now = asks_now && (self.replay.is_some() || self.host_time.has_wall_clock());
        let now = match own_now {
            true => Some(self.clock_reading(0, false)?),
            false => None,
        };
        match check(apply(&timespecs(atim, mtim, flags, now)?)) {
            Err(e) if e == Errno::PERM && own_now => {
                check(apply(&timespecs(atim, mtim, flags, None)?))?;
            }
            r => {
                r?;
            }
        }
        Ok(())
    }
}

/// Converts WASI set-times arguments to the two `timespec`s of
/// `utimensat`/`futimens`.
/// `now`: the time "now" stands for, in nanoseconds since the epoch; the
/// host's (`UTIME_NOW`) where `None`.
pub(crate) fn timespecs(
    atim: u64,
    mtim: u64,
    flags: u16,
    now: Option<u64>,
) -> WasiResult<[libc::timespec; 2]> {
    let at = |t: u64| libc::timespec {
        tv_sec: (t / 1_000_000_000) as i64,
        tv_nsec: (t % 1_000_000_000) as i64,
    };
    let one = |t: u64, set: u16, now_flag: u16| -> WasiResult<libc::timespec> {
        match (flags & set != 0, flags & now_flag != 0) {
            (true, true) => Err(Errno::INVAL),
            (true, false) => Ok(at(t)),
            (false, true) => Ok(match now {
                Some(t) => at(t),
                None => libc::timespec {
                    tv_sec: 0,
                    tv_nsec: libc::UTIME_NOW,
                },
            }),
            (false, false) => Ok(libc::timespec {
                tv_sec: 0,
                tv_nsec: libc::UTIME_OMIT,
            }),
        }
    };
    Ok([
        one(atim, fstflags::ATIM, fstflags::ATIM_NOW)?,
        one(mtim, fstflags::MTIM, fstflags::MTIM_NOW)?,
    ])
}

impl WasiCtx {
    /// The host descriptor of `fd` for what only a file has (advice,
    /// allocation): a stream in host memory is a pipe (`ESPIPE`).
    fn file_fd(&self, fd: u32) -> WasiResult<RawFd> {
        let e = self.get(fd)?;
        if e.pipe.is_some() {
            return Err(Errno::SPIPE);
        }
        Ok(e.fd)
    }

    /// The host descriptor of `fd` for a change to the file itself (its
    /// size, times, allocation): a file beneath a directory preopened
    /// without `FilePerms::WRITE`, or a directory without
    /// `DirPerms::MUTATE`, is refused (`EPERM`).
    fn changeable(&self, fd: u32) -> WasiResult<RawFd> {
        let e = self.get(fd)?;
        let allowed = if e.is_directory() {
            e.perms.dir.contains(DirPerms::MUTATE)
        } else {
            e.perms.file.contains(FilePerms::WRITE)
        };
        if !allowed {
            return Err(Errno::PERM);
        }
        Ok(e.fd)
    }

    /// The entry of `fd` for reading or writing bytes.
    fn stream(&mut self, fd: u32) -> WasiResult<&mut FdEntry> {
        let e = self.get_mut(fd)?;
        if e.is_directory() {
            return Err(Errno::ISDIR);
        }
        Ok(e)
    }

    pub(crate) fn fd_advise(
        &mut self,
        fd: u32,
        offset: u64,
        len: u64,
        advice: u8,
    ) -> WasiResult<()> {
        let host = self.file_fd(fd)?;
        if advice > 5 {
            return Err(Errno::INVAL);
        }
        // WASI advice numbering matches POSIX_FADV_* on Linux.
        // SAFETY: plain syscall on a descriptor we hold.
        let rc = unsafe { libc::posix_fadvise(host, offset as i64, len as i64, advice as i32) };
        if rc != 0 {
            return Err(Errno::from_host(rc));
        }
        Ok(())
    }

    pub(crate) fn fd_allocate(&mut self, fd: u32, offset: u64, len: u64) -> WasiResult<()> {
        let host = self.file_fd(fd)?;
        self.changeable(fd)?;
        // SAFETY: plain syscall on a descriptor we hold.
        let rc = unsafe { libc::posix_fallocate(host, offset as i64, len as i64) };
        if rc != 0 {
            return Err(Errno::from_host(rc));
        }
        Ok(())
    }

    pub(crate) fn fd_close(&mut self, fd: u32) -> WasiResult<()> {
        self.fds.remove(&fd).map(drop).ok_or(Errno::BADF)
    }

    /// `fd_sync` and `fd_datasync`: waits for the disk, or for an
    /// embedder's writer to flush, holding no shared context meanwhile.
    pub(crate) fn fd_sync(&mut self, fd: u32, data_only: bool) -> WasiResult<()> {
        self.unlocked_io(
            |c| {
                let e = c.get(fd)?;
                Ok((e.fd, e.pipe.clone()))
            },
            |host, pipe| match pipe {
                Some(pipe) => pipe.sync(),
                None => {
                    // SAFETY: plain syscalls on a descriptor we hold.
                    check(unsafe {
                        if data_only {
                            libc::fdatasync(host)
                        } else {
                            libc::fsync(host)
                        }
                    })?;
                    Ok(())
                }
            },
        )
    }

    pub(crate) fn fd_fdstat_get(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        out: u32,
    ) -> WasiResult<()> {
        let e = self.get(fd)?;
        let mut buf = [0u8; 24];
        buf[0] = e.filetype();
        buf[2..4].copy_from_slice(&e.flags.to_le_bytes());
        let (base, inheriting) = e.rights();
        buf[8..16].copy_from_slice(&base.to_le_bytes());
        buf[16..24].copy_from_slice(&inheriting.to_le_bytes());
        mem.write(out, &buf)
    }

    pub(crate) fn fd_fdstat_set_flags(&mut self, fd: u32, flags: u16) -> WasiResult<()> {
        let e = self.get_mut(fd)?;
        if e.pipe.is_some() {
            // Nothing to tell a host descriptor: the flags are the
            // guest's to read back.
            e.flags = flags;
            return Ok(());
        }
        let mut host = 0;
        if flags & fdflags::APPEND != 0 {
            host |= libc::O_APPEND;
        }
        if flags & fdflags::NONBLOCK != 0 {
            host |= libc::O_NONBLOCK;
        }
        // SAFETY: plain syscall on a descriptor we hold.
        check(unsafe { libc::fcntl(e.fd, libc::F_SETFL, host) })?;
        e.flags = flags;
        Ok(())
    }

    pub(crate) fn fd_fdstat_set_rights(&mut self, fd: u32) -> WasiResult<()> {
        // Rights are not narrowed: walmart grants all and enforces the
        // sandbox and open modes instead.
        self.get(fd).map(|_| ())
    }

    pub(crate) fn fd_filestat_get(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        out: u32,
    ) -> WasiResult<()> {
        let e = self.get(fd)?;
        if e.pipe.is_some() {
            // No inode: a file type of `unknown` and zeros.
            mem.write(out, &[0u8; 64])?;
            return Ok(());
        }
        let st = fstat(e.fd)?;
        write_filestat(self, mem, out, &st)
    }

    pub(crate) fn fd_filestat_set_size(&mut self, fd: u32, size: u64) -> WasiResult<()> {
        let e = self.get(fd)?;
        if e.pipe.is_some() {
            return Err(Errno::INVAL);
        }
        let host = self.changeable(fd)?;
        // SAFETY: plain syscall on a descriptor we hold.
        check(unsafe { libc::ftruncate(host, size as i64) })?;
        Ok(())
    }

    pub(crate) fn fd_filestat_set_times(
        &mut self,
        fd: u32,
        atim: u64,
        mtim: u64,
        flags: u16,
    ) -> WasiResult<()> {
        let e = self.get(fd)?;
        if e.pipe.is_some() {
            return Err(Errno::NOTSUP);
        }
        let host = self.changeable(fd)?;
        // SAFETY: a descriptor the entry holds and two timespecs.
        self.set_times((atim, mtim, flags), |ts| unsafe {
            libc::futimens(host, ts.as_ptr())
        })
    }

    /// Reads into the guest's iovecs, from the current position or `at`.
    pub(crate) fn fd_read(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        count: u32,
        at: Option<u64>,
        out: u32,
    ) -> WasiResult<()> {
        let once = self.bounded_io;
        self.unlocked_io(
            |c| {
                let e = c.stream(fd)?;
                // A read at an offset does not go on from the last one.
                Ok((e.fd, (at.is_none().then_some(e.stream), e.pipe.clone())))
            },
            |host, (stream, pipe)| match pipe {
                Some(_) if at.is_some() => Err(Errno::SPIPE),
                Some(pipe) => pipe.read(mem, stream.unwrap_or(0), (iovs, count), out),
                None => read_into(mem, host, stream, (iovs, count), at, out, once),
            },
        )
    }

    pub(crate) fn fd_write(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        count: u32,
        at: Option<u64>,
        out: u32,
    ) -> WasiResult<()> {
        let bounded = self.bounded_io;
        self.unlocked_io(
            |c| {
                let e = c.stream(fd)?;
                if at.is_none() {
                    // The position moves: a read after this one is
                    // another stream.
                    e.stream = super::ctx::new_stream();
                }
                Ok((e.fd, (e.is_socket(), e.pipe.clone())))
            },
            |host, (socket, pipe)| match pipe {
                Some(_) if at.is_some() => Err(Errno::SPIPE),
                Some(pipe) => pipe.write(mem, (iovs, count), out),
                None => write_from(mem, host, socket, (iovs, count), at, out, bounded),
            },
        )
    }

    pub(crate) fn fd_prestat_get(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        out: u32,
    ) -> WasiResult<()> {
        let name = self.get(fd)?.preopen.as_ref().ok_or(Errno::BADF)?;
        let len = name.len() as u32;
        mem.write_u32(out, 0)?; // tag 0: directory
        mem.write_u32(out + 4, len)
    }

    pub(crate) fn fd_prestat_dir_name(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        ptr: u32,
        len: u32,
    ) -> WasiResult<()> {
        let name = self.get(fd)?.preopen.as_ref().ok_or(Errno::BADF)?;
        if (len as usize) < name.len() {
            return Err(Errno::NAMETOOLONG);
        }
        mem.write(ptr, name.as_bytes())
    }

    pub(crate) fn fd_renumber(&mut self, from: u32, to: u32) -> WasiResult<()> {
        self.get(from)?;
        self.get(to)?;
        if from == to {
            return Ok(());
        }
        let entry = self.fds.remove(&from).ok_or(Errno::BADF)?;
        self.fds.insert(to, entry);
        Ok(())
    }

    pub(crate) fn fd_seek(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        offset: i64,
        whence: u8,
        out: u32,
    ) -> WasiResult<()> {
        let e = self.get_mut(fd)?;
        if e.is_directory() {
            return Err(Errno::BADF);
        }
        if e.pipe.is_some() {
            return Err(Errno::SPIPE);
        }
        let whence = match whence {
            0 => libc::SEEK_SET,
            1 => libc::SEEK_CUR,
            2 => libc::SEEK_END,
            _ => return Err(Errno::INVAL),
        };
        // SAFETY: plain syscall on a descriptor we hold.
        let pos = unsafe { libc::lseek(e.fd, offset, whence) };
        if pos < 0 {
            return Err(Errno::last());
        }
        // `ftell` asks where it is by a seek of 0 from here: that moves
        // nothing, and the next read goes on from the last.
        if !(whence == libc::SEEK_CUR && offset == 0) {
            e.stream = super::ctx::new_stream();
        }
        mem.write_u64(out, pos as u64)
    }

    /// Lists a directory into the guest buffer, starting after `cookie`
    /// entries; the last entry may be cut short, as WASI specifies.
    pub(crate) fn fd_readdir(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        buf: u32,
        len: u32,
        cookie: u64,
        out: u32,
    ) -> WasiResult<()> {
        let e = self.get(fd)?;
        if !e.is_directory() {
            return Err(Errno::NOTDIR);
        }
        if !e.perms.dir.contains(DirPerms::READ) {
            return Err(Errno::PERM);
        }
        // A private descriptor for the stream, so the guest's own offset
        // is untouched and every call starts at the beginning.
        let dot = c".";
        // SAFETY: openat on a directory we hold; checked.
        let dirfd = check(unsafe {
            libc::openat(
                e.fd,
                dot.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        })?;
        // SAFETY: dirfd is ours; fdopendir takes ownership of it.
        let dir = unsafe { libc::fdopendir(dirfd) };
        if dir.is_null() {
            let err = Errno::last();
            // SAFETY: fdopendir failed, so dirfd is still ours.
            unsafe { libc::close(dirfd) };
            return Err(err);
        }
        let mut entries: Vec<u8> = Vec::new();
        let mut index = 0u64;
        loop {
            // SAFETY: dir is a valid stream until closedir below.
            let ent = unsafe { libc::readdir(dir) };
            if ent.is_null() {
                break;
            }
            index += 1;
            if index <= cookie {
                continue;
            }
            // SAFETY: readdir returned a valid entry with a NUL-terminated name.
            let (name, ino, dtype) = unsafe {
                (
                    CStr::from_ptr((*ent).d_name.as_ptr()).to_bytes().to_vec(),
                    (*ent).d_ino,
                    (*ent).d_type,
                )
            };
            let ft = match dtype {
                libc::DT_BLK => filetype::BLOCK_DEVICE,
                libc::DT_CHR => filetype::CHARACTER_DEVICE,
                libc::DT_DIR => filetype::DIRECTORY,
                libc::DT_REG => filetype::REGULAR_FILE,
                libc::DT_SOCK => filetype::SOCKET_STREAM,
                libc::DT_LNK => filetype::SYMBOLIC_LINK,
                _ => filetype::UNKNOWN,
            };
            let mut head = [0u8; 24];
            head[0..8].copy_from_slice(&index.to_le_bytes());
            head[8..16].copy_from_slice(&ino.to_le_bytes());
            head[16..20].copy_from_slice(&(name.len() as u32).to_le_bytes());
            head[20] = ft;
            entries.extend_from_slice(&head);
            entries.extend_from_slice(&name);
            if entries.len() >= len as usize {
                break;
            }
        }
        // SAFETY: closes the stream and its descriptor once.
        unsafe { libc::closedir(dir) };
        let n = entries.len().min(len as usize);
        mem.write(buf, &entries[..n])?;
        mem.write_u32(out, n as u32)
    }

    pub(crate) fn fd_tell(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        out: u32,
    ) -> WasiResult<()> {
        self.fd_seek(mem, fd, 0, 1, out)
    }
}

/// `fd_read`'s reads from host descriptor `host` into the guest's
/// buffers; `stream` is what the input counts as (see `FdEntry::stream`).
fn read_into(
    mem: &mut GuestMemory<'_>,
    host: RawFd,
    stream: Option<u64>,
    (iovs, count): (u32, u32),
    at: Option<u64>,
    out: u32,
    once: bool,
) -> WasiResult<()> {
    let mut total = 0usize;
    let mut offset = at;
    for (ptr, len) in mem.iovecs(iovs, count)? {
        let buf = mem.raw_mut(ptr, len)?;
        let size = len as usize;
        // SAFETY: `len` writable guest bytes at buf (checked).
        let n = check_size(unsafe {
            match offset {
                Some(o) => libc::pread(host, buf.cast(), size, o as i64),
                None => libc::read(host, buf.cast(), size),
            }
        });
        let n = match n {
            Ok(n) => n,
            Err(e) if total > 0 && e == Errno::AGAIN => break,
            Err(e) => return Err(e),
        };
        mem.supplied(ptr, n, stream);
        total += n;
        if let Some(o) = offset.as_mut() {
            *o += n as u64;
        }
        // One read where the call waited for readiness: the next buffer's
        // read could block.
        if n < len as usize || (once && total > 0) {
            break;
        }
    }
    mem.write_u32(out, total as u32)
}

/// `fd_write`'s writes of the guest's buffers to host descriptor `host`
/// (a `socket`'s with `send`, so that a peer gone is `EPIPE` to the guest,
/// never a SIGPIPE to the host).
fn write_from(
    mem: &mut GuestMemory<'_>,
    host: RawFd,
    socket: bool,
    (iovs, count): (u32, u32),
    at: Option<u64>,
    out: u32,
    bounded: bool,
) -> WasiResult<()> {
    let mut total = 0usize;
    let mut offset = at;
    // Where the call waited for readiness: a pipe takes `PIPE_BUF` bytes
    // without blocking, a socket what it takes without waiting.
    let mut room = if bounded && !socket {
        libc::PIPE_BUF
    } else {
        usize::MAX
    };
    let send_flags = libc::MSG_NOSIGNAL | if bounded { libc::MSG_DONTWAIT } else { 0 };
    for (ptr, len) in mem.iovecs(iovs, count)? {
        let buf = mem.raw(ptr, len)?;
        let size = (len as usize).min(room);
        let mut done = 0;
        while done < size {
            // SAFETY: `size - done` readable guest bytes from there (checked).
            let (rest, left) = (unsafe { buf.add(done) }, size - done);
            // SAFETY: as above.
            let n = check_size(unsafe {
                match offset {
                    Some(o) => libc::pwrite(host, rest.cast(), left, o as i64),
                    None if socket => libc::send(host, rest.cast(), left, send_flags),
                    None => libc::write(host, rest.cast(), left),
                }
            });
            let n = match n {
                Ok(n) => n,
                Err(e) if total + done > 0 && e == Errno::AGAIN => break,
                Err(e) => return Err(e),
            };
            done += n;
            if let Some(o) = offset.as_mut() {
                *o += n as u64;
            }
        }
        total += done;
        room -= done;
        if room == 0 || done < len as usize {
            break;
        }
    }
    mem.write_u32(out, total as u32)
}
