//! WASI preview 1 constants and guest-memory access.

/// A WASI errno (`wasi_snapshot_preview1` numbering).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub u16);

#[allow(missing_docs)]
impl Errno {
    pub const SUCCESS: Errno = Errno(0);
    pub const TOOBIG: Errno = Errno(1);
    pub const ACCES: Errno = Errno(2);
    pub const AGAIN: Errno = Errno(6);
    pub const BADF: Errno = Errno(8);
    pub const BUSY: Errno = Errno(10);
    pub const EXIST: Errno = Errno(20);
    pub const FAULT: Errno = Errno(21);
    pub const FBIG: Errno = Errno(22);
    pub const INTR: Errno = Errno(27);
    pub const INVAL: Errno = Errno(28);
    pub const IO: Errno = Errno(29);
    pub const ISDIR: Errno = Errno(31);
    pub const LOOP: Errno = Errno(32);
    pub const MFILE: Errno = Errno(33);
    pub const MLINK: Errno = Errno(34);
    pub const NAMETOOLONG: Errno = Errno(37);
    pub const NFILE: Errno = Errno(41);
    pub const NODEV: Errno = Errno(43);
    pub const NOENT: Errno = Errno(44);
    pub const NOMEM: Errno = Errno(48);
    pub const NOSPC: Errno = Errno(51);
    pub const NOSYS: Errno = Errno(52);
    pub const NOTDIR: Errno = Errno(54);
    pub const NOTEMPTY: Errno = Errno(55);
    pub const NOTSOCK: Errno = Errno(57);
    pub const NOTSUP: Errno = Errno(58);
    pub const NOTTY: Errno = Errno(59);
    pub const NXIO: Errno = Errno(60);
    pub const OVERFLOW: Errno = Errno(61);
    pub const PERM: Errno = Errno(63);
    pub const PIPE: Errno = Errno(64);
    pub const RANGE: Errno = Errno(68);
    pub const ROFS: Errno = Errno(69);
    pub const SPIPE: Errno = Errno(70);
    pub const TXTBSY: Errno = Errno(74);
    pub const XDEV: Errno = Errno(75);
    pub const NOTCAPABLE: Errno = Errno(76);
    // Sockets' errors.
    pub const ADDRINUSE: Errno = Errno(3);
    pub const ADDRNOTAVAIL: Errno = Errno(4);
    pub const AFNOSUPPORT: Errno = Errno(5);
    pub const ALREADY: Errno = Errno(7);
    pub const CONNABORTED: Errno = Errno(13);
    pub const CONNREFUSED: Errno = Errno(14);
    pub const CONNRESET: Errno = Errno(15);
    pub const DESTADDRREQ: Errno = Errno(17);
    pub const HOSTUNREACH: Errno = Errno(23);
    pub const INPROGRESS: Errno = Errno(26);
    pub const ISCONN: Errno = Errno(30);
    pub const MSGSIZE: Errno = Errno(35);
    pub const NETDOWN: Errno = Errno(38);
    pub const NETRESET: Errno = Errno(39);
    pub const NETUNREACH: Errno = Errno(40);
    pub const NOBUFS: Errno = Errno(42);
    pub const NOTCONN: Errno = Errno(53);
    pub const PROTO: Errno = Errno(65);
    pub const PROTONOSUPPORT: Errno = Errno(66);
    pub const PROTOTYPE: Errno = Errno(67);
    pub const TIMEDOUT: Errno = Errno(73);

    /// The WASI errno for a host `errno`.
    pub fn from_host(e: i32) -> Errno {
        match e {
            libc::E2BIG => Errno::TOOBIG,
            libc::EACCES => Errno::ACCES,
            libc::EAGAIN => Errno::AGAIN,
            libc::EBADF => Errno::BADF,
            libc::EBUSY => Errno::BUSY,
            libc::EEXIST => Errno::EXIST,
            libc::EFAULT => Errno::FAULT,
            libc::EFBIG => Errno::FBIG,
            libc::EINTR => Errno::INTR,
            libc::EINVAL => Errno::INVAL,
            libc::EIO => Errno::IO,
            libc::EISDIR => Errno::ISDIR,
            libc::ELOOP => Errno::LOOP,
            libc::EMFILE => Errno::MFILE,
            libc::EMLINK => Errno::MLINK,
            libc::ENAMETOOLONG => Errno::NAMETOOLONG,
            libc::ENFILE => Errno::NFILE,
            libc::ENODEV => Errno::NODEV,
            libc::ENOENT => Errno::NOENT,
            libc::ENOMEM => Errno::NOMEM,
            libc::ENOSPC => Errno::NOSPC,
            libc::ENOSYS => Errno::NOSYS,
            libc::ENOTDIR => Errno::NOTDIR,
            libc::ENOTEMPTY => Errno::NOTEMPTY,
            libc::ENOTSOCK => Errno::NOTSOCK,
            libc::EOPNOTSUPP => Errno::NOTSUP,
            libc::ENOTTY => Errno::NOTTY,
            libc::ENXIO => Errno::NXIO,
            libc::EOVERFLOW => Errno::OVERFLOW,
            libc::EPERM => Errno::PERM,
            libc::EPIPE => Errno::PIPE,
            libc::ERANGE => Errno::RANGE,
            libc::EROFS => Errno::ROFS,
            libc::ESPIPE => Errno::SPIPE,
            libc::ETXTBSY => Errno::TXTBSY,
            libc::EADDRINUSE => Errno::ADDRINUSE,
            libc::EADDRNOTAVAIL => Errno::ADDRNOTAVAIL,
            libc::EAFNOSUPPORT => Errno::AFNOSUPPORT,
            libc::EALREADY => Errno::ALREADY,
            libc::ECONNABORTED => Errno::CONNABORTED,
            libc::ECONNREFUSED => Errno::CONNREFUSED,
            libc::ECONNRESET => Errno::CONNRESET,
            libc::EDESTADDRREQ => Errno::DESTADDRREQ,
            libc::EHOSTUNREACH => Errno::HOSTUNREACH,
            libc::EINPROGRESS => Errno::INPROGRESS,
            libc::EISCONN => Errno::ISCONN,
            libc::EMSGSIZE => Errno::MSGSIZE,
            libc::ENETDOWN => Errno::NETDOWN,
            libc::ENETRESET => Errno::NETRESET,
            libc::ENETUNREACH => Errno::NETUNREACH,
            libc::ENOBUFS => Errno::NOBUFS,
            libc::ENOTCONN => Errno::NOTCONN,
            libc::EPROTO => Errno::PROTO,
            libc::EPROTONOSUPPORT => Errno::PROTONOSUPPORT,
            libc::EPROTOTYPE => Errno::PROTOTYPE,
            libc::ETIMEDOUT => Errno::TIMEDOUT,
            // RESOLVE_BENEATH reports an escape attempt as EXDEV.
            libc::EXDEV => Errno::NOTCAPABLE,
            _ => Errno::IO,
        }
    }

    /// The WASI errno for the calling thread's last host error.
    pub fn last() -> Errno {
        Errno::from_host(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }

    /// The WASI errno for an I/O error.
    pub fn from_io(e: &std::io::Error) -> Errno {
        e.raw_os_error().map_or(Errno::IO, Errno::from_host)
    }
}

/// Result of a WASI call.
pub type WasiResult<T> = Result<T, Errno>;

/// File types.
pub mod filetype {
    pub const UNKNOWN: u8 = 0;
    pub const BLOCK_DEVICE: u8 = 1;
    pub const CHARACTER_DEVICE: u8 = 2;
    pub const DIRECTORY: u8 = 3;
    pub const REGULAR_FILE: u8 = 4;
    pub const SOCKET_DGRAM: u8 = 5;
    pub const SOCKET_STREAM: u8 = 6;
    pub const SYMBOLIC_LINK: u8 = 7;

    /// The WASI file type of a host `st_mode`.
    pub fn from_mode(mode: u32) -> u8 {
        match mode & libc::S_IFMT {
            libc::S_IFBLK => BLOCK_DEVICE,
            libc::S_IFCHR => CHARACTER_DEVICE,
            libc::S_IFDIR => DIRECTORY,
            libc::S_IFREG => REGULAR_FILE,
            libc::S_IFSOCK => SOCKET_STREAM,
            libc::S_IFLNK => SYMBOLIC_LINK,
            _ => UNKNOWN,
        }
    }
}

/// `oflags` of `path_open`.
pub mod oflags {
    pub const CREAT: u16 = 1;
    pub const DIRECTORY: u16 = 2;
    pub const EXCL: u16 = 4;
    pub const TRUNC: u16 = 8;
}

/// `fdflags`.
pub mod fdflags {
    pub const APPEND: u16 = 1;
    pub const DSYNC: u16 = 2;
    pub const NONBLOCK: u16 = 4;
    pub const RSYNC: u16 = 8;
    pub const SYNC: u16 = 16;
}

/// `fstflags` of the set-times calls.
pub mod fstflags {
    pub const ATIM: u16 = 1;
    pub const ATIM_NOW: u16 = 2;
    pub const MTIM: u16 = 4;
    pub const MTIM_NOW: u16 = 8;
}

/// Every rights bit: what a descriptor outside a restricted preopen
/// reports. walmart enforces access through the open mode, the preopen
/// sandbox and the preopen's permissions (`perms.rs`, which narrows what
/// `fd_fdstat_get` reports to them), not through rights the guest asks.
pub const ALL_RIGHTS: u64 = (1 << 30) - 1;
/// `fd_read` right.
pub const RIGHT_FD_READ: u64 = 1 << 1;
/// `fd_write` right.
pub const RIGHT_FD_WRITE: u64 = 1 << 6;
/// `fd_readdir` right.
pub const RIGHT_FD_READDIR: u64 = 1 << 14;
/// `fd_allocate` right.
pub const RIGHT_FD_ALLOCATE: u64 = 1 << 8;
/// `fd_filestat_set_size` right.
pub const RIGHT_FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
/// `fd_datasync` right.
pub const RIGHT_FD_DATASYNC: u64 = 1 << 0;
/// `fd_seek` right.
pub const RIGHT_FD_SEEK: u64 = 1 << 2;
/// `fd_tell` right.
pub const RIGHT_FD_TELL: u64 = 1 << 5;
/// `path_create_directory` right.
pub const RIGHT_PATH_CREATE_DIRECTORY: u64 = 1 << 9;
/// `path_create_file` right.
pub const RIGHT_PATH_CREATE_FILE: u64 = 1 << 10;
/// `path_link` rights, source and target.
pub const RIGHT_PATH_LINK: u64 = (1 << 11) | (1 << 12);
/// `path_open` right.
pub const RIGHT_PATH_OPEN: u64 = 1 << 13;
/// `path_readlink` right.
pub const RIGHT_PATH_READLINK: u64 = 1 << 15;
/// `path_rename` rights, source and target.
pub const RIGHT_PATH_RENAME: u64 = (1 << 16) | (1 << 17);
/// `path_filestat_get` right.
pub const RIGHT_PATH_FILESTAT_GET: u64 = 1 << 18;
/// `path_filestat_set_size` right.
pub const RIGHT_PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
/// `path_filestat_set_times` right.
pub const RIGHT_PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
/// `fd_filestat_set_times` right.
pub const RIGHT_FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
/// `path_symlink` right.
pub const RIGHT_PATH_SYMLINK: u64 = 1 << 24;
/// `path_remove_directory` right.
pub const RIGHT_PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
/// `path_unlink_file` right.
pub const RIGHT_PATH_UNLINK_FILE: u64 = 1 << 26;

/// Bounds-checked access to the guest's linear memory. Held as a
/// pointer and a length, and read and written by copies, never borrowed
/// as a slice: other threads' Wasm may write a shared memory meanwhile.
pub struct GuestMemory<'a> {
    base: *mut u8,
    len: usize,
    /// The memory's attestation state, when it is attested: every range
    /// handed out for writing is marked in its dirty bitmap, so WASI's
    /// writes count as legitimate, and input read into it is recorded
    /// ([`Self::supplied`]).
    pub(crate) attest: Option<&'a crate::attest::session::MemoryAttest>,
    /// Applied to every guest pointer: under the tag monitor's pointer
    /// colours the top bits carry a colour, not address bits.
    pub(crate) addr_mask: u32,
    _memory: std::marker::PhantomData<&'a mut [u8]>,
}

impl<'a> GuestMemory<'a> {
    /// The `len` accessible bytes at `base`, for as long as `'a`.
    ///
    /// # Safety
    /// `[base, base + len)` must stay mapped and writable for `'a`, and
    /// be written meanwhile by nothing but this and other threads' Wasm.
    pub(crate) unsafe fn new(
        base: *mut u8,
        len: usize,
        attest: Option<&'a crate::attest::session::MemoryAttest>,
        addr_mask: u32,
    ) -> GuestMemory<'a> {
        GuestMemory {
            base,
            len,
            attest,
            addr_mask,
            _memory: std::marker::PhantomData,
        }
    }

    /// No memory: every access faults.
    pub(crate) fn none() -> GuestMemory<'a> {
        // SAFETY: an empty range.
        unsafe { GuestMemory::new(std::ptr::NonNull::dangling().as_ptr(), 0, None, u32::MAX) }
    }

    /// Where `len` bytes at guest pointer `ptr` begin, if they fit.
    fn start(&self, ptr: u32, len: u32) -> WasiResult<usize> {
        let start = (ptr & self.addr_mask) as usize;
        let end = start.checked_add(len as usize).ok_or(Errno::FAULT)?;
        if end > self.len {
            return Err(Errno::FAULT);
        }
        Ok(start)
    }

    /// The address of `len` bytes at `ptr`, for a host call to read.
    pub(crate) fn raw(&self, ptr: u32, len: u32) -> WasiResult<*const u8> {
        let start = self.start(ptr, len)?;
        // SAFETY: inside the memory (checked).
        Ok(unsafe { self.base.add(start) })
    }

    /// The address of `len` bytes at `ptr`, for a host call to write:
    /// marked written, under attestation.
    pub(crate) fn raw_mut(&mut self, ptr: u32, len: u32) -> WasiResult<*mut u8> {
        let start = self.start(ptr, len)?;
        if let Some(a) = self.attest {
            a.bitmap.mark(start, len as usize);
        }
        // SAFETY: inside the memory (checked).
        Ok(unsafe { self.base.add(start) })
    }

    /// A copy of `len` bytes at `ptr`.
    pub fn read(&self, ptr: u32, len: u32) -> WasiResult<Vec<u8>> {
        let from = self.raw(ptr, len)?;
        let mut out = vec![0u8; len as usize];
        // SAFETY: `raw` checked the range; `out` is ours.
        unsafe { std::ptr::copy(from, out.as_mut_ptr(), out.len()) };
        Ok(out)
    }

    fn read_array<const N: usize>(&self, ptr: u32) -> WasiResult<[u8; N]> {
        let from = self.raw(ptr, N as u32)?;
        let mut out = [0u8; N];
        // SAFETY: `raw` checked the range; `out` is ours.
        unsafe { std::ptr::copy(from, out.as_mut_ptr(), N) };
        Ok(out)
    }

    /// The host's input (a read, random bytes) was written to `len` bytes
    /// at `ptr`, a range [`Self::raw_mut`] handed out: under
    /// attestation, pages it fills whole are snapshotted as input rather
    /// than as the module's writes (`PageKind::Input`). `stream`: the
    /// stream of the descriptor they were read from in order, if they were
    /// (`FdEntry::stream`).
    pub(crate) fn supplied(&self, ptr: u32, len: usize, stream: Option<u64>) {
        if let Some(a) = self.attest {
            // SAFETY: an attested memory is its store's alone (a memory
            // shared between threads is refused attestation), and the
            // store is busy with this call: nothing writes it meanwhile.
            let bytes = unsafe { std::slice::from_raw_parts(self.base, self.len) };
            a.supplied(bytes, (ptr & self.addr_mask) as usize, len, stream);
        }
    }

    pub fn read_u32(&self, ptr: u32) -> WasiResult<u32> {
        Ok(u32::from_le_bytes(self.read_array(ptr)?))
    }

    pub fn read_u64(&self, ptr: u32) -> WasiResult<u64> {
        Ok(u64::from_le_bytes(self.read_array(ptr)?))
    }

    pub fn read_u16(&self, ptr: u32) -> WasiResult<u16> {
        Ok(u16::from_le_bytes(self.read_array(ptr)?))
    }

    pub fn read_u8(&self, ptr: u32) -> WasiResult<u8> {
        Ok(self.read_array::<1>(ptr)?[0])
    }

    pub fn write(&mut self, ptr: u32, data: &[u8]) -> WasiResult<()> {
        let len = u32::try_from(data.len()).map_err(|_| Errno::FAULT)?;
        let to = self.raw_mut(ptr, len)?;
        // SAFETY: `raw_mut` checked the range.
        unsafe { std::ptr::copy(data.as_ptr(), to, data.len()) };
        Ok(())
    }

    pub fn write_u8(&mut self, ptr: u32, v: u8) -> WasiResult<()> {
        self.write(ptr, &[v])
    }

    pub fn write_u32(&mut self, ptr: u32, v: u32) -> WasiResult<()> {
        self.write(ptr, &v.to_le_bytes())
    }

    pub fn write_u64(&mut self, ptr: u32, v: u64) -> WasiResult<()> {
        self.write(ptr, &v.to_le_bytes())
    }

    /// A UTF-8 string at `ptr`.
    pub fn string(&self, ptr: u32, len: u32) -> WasiResult<String> {
        // Copied before it is checked: another thread may change a shared
        // memory's bytes meanwhile, and the copy is what must be UTF-8.
        String::from_utf8(self.read(ptr, len)?).map_err(|_| Errno::ILSEQ)
    }

    /// The (ptr, len) pairs of an iovec array.
    pub fn iovecs(&self, iovs: u32, count: u32) -> WasiResult<Vec<(u32, u32)>> {
        (0..count)
            .map(|i| {
                let at = iovs
                    .checked_add(i.checked_mul(8).ok_or(Errno::FAULT)?)
                    .ok_or(Errno::FAULT)?;
                let len_at = at.checked_add(4).ok_or(Errno::FAULT)?;
                Ok((self.read_u32(at)?, self.read_u32(len_at)?))
            })
            .collect()
    }
}

#[allow(missing_docs)]
impl Errno {
    pub const ILSEQ: Errno = Errno(25);
}
