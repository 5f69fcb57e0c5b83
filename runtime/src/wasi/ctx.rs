//! The WASI state of one guest: arguments, environment and descriptors.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::os::fd::RawFd;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use super::perms::{DirPerms, FilePerms, Perms};
use super::pipes::{InputStream, OutputStream, Pipe};
use super::types::{fdflags, filetype, Errno, WasiResult};
use crate::error::{Error, Result};

/// One open descriptor.
#[derive(Debug)]
pub struct FdEntry {
    /// The host descriptor.
    pub fd: RawFd,
    /// Whether walmart closes `fd` when the entry goes (stdio is borrowed).
    pub owned: bool,
    /// WASI file type; `None` for inherited stdio, whose type is asked
    /// of the host when a call needs it ([`FdEntry::filetype`]).
    filetype: Option<u8>,
    /// WASI fd flags (`append`, `nonblock`, ...).
    pub flags: u16,
    /// Guest name of a preopened directory.
    pub preopen: Option<String>,
    /// What its reads count as one stream of input by: new at each open
    /// and each seek or write (the next read does not go on from the last
    /// one), kept by a renumbering (`InputRuns::note_stream`).
    pub(crate) stream: u64,
    /// The stream in host memory the embedder gave in place of a
    /// descriptor (`fd` is then -1, which every system call refuses).
    pub(crate) pipe: Option<Pipe>,
    /// What the guest may do with it and beneath it: its preopened
    /// directory's permissions.
    pub(crate) perms: Perms,
}

/// A stream number no descriptor of this process had before
/// ([`FdEntry::stream`]).
pub(crate) fn new_stream() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl FdEntry {
    /// An entry for host descriptor `fd` (closed with the entry where
    /// `owned`) of WASI file type `filetype` (`None`: asked of the host
    /// when a call needs it), with no flags, every permission and a
    /// stream number of its own.
    fn host(fd: RawFd, owned: bool, filetype: Option<u8>) -> FdEntry {
        FdEntry {
            fd,
            owned,
            filetype,
            flags: 0,
            preopen: None,
            stream: new_stream(),
            pipe: None,
            perms: Perms::ALL,
        }
    }

    /// Whether the entry is a directory: never inherited stdio (whose
    /// type is not asked for this, on every read and write; the host's
    /// own read of a directory fails as it should).
    pub fn is_directory(&self) -> bool {
        self.filetype == Some(filetype::DIRECTORY)
    }

    /// Whether the entry is a socket walmart gave or accepted (inherited
    /// stdio is not asked: this is for every write).
    pub(crate) fn is_socket(&self) -> bool {
        matches!(
            self.filetype,
            Some(filetype::SOCKET_STREAM | filetype::SOCKET_DGRAM)
        )
    }

    /// Whether the guest may be told it seeks (`fd_fdstat_get`'s seek
    /// and tell rights): not a stream in memory, a directory (which
    /// `fd_seek` refuses), or what the host cannot seek (a pipe, a
    /// socket) and, of character devices, a terminal only: wasi-libc's
    /// `isatty` takes a character device without these rights for a
    /// terminal, and line-buffers its output there (a prompt shows before
    /// the program reads its answer). A descriptor the host closed keeps
    /// them (a guest must not see a terminal there).
    pub(crate) fn seekable(&self) -> bool {
        if self.pipe.is_some() || self.is_directory() {
            return false;
        }
        // SAFETY: lseek of 0 from the current position on a descriptor
        // the entry holds: moves nothing.
        if unsafe { libc::lseek(self.fd, 0, libc::SEEK_CUR) } >= 0 {
            return true;
        }
        if Errno::last() != Errno::SPIPE {
            return true;
        }
        // Unseekable: a pipe or a socket is told so; a character device
        // only if it is a terminal (an input device that refuses seeking
        // is not one).
        // SAFETY: isatty on a descriptor the entry holds.
        self.filetype() == filetype::CHARACTER_DEVICE && unsafe { libc::isatty(self.fd) } == 0
    }

    /// The WASI file type.
    pub fn filetype(&self) -> u8 {
        self.filetype
            .unwrap_or_else(|| host_filetype(self.fd).unwrap_or(filetype::CHARACTER_DEVICE))
    }
}

impl Drop for FdEntry {
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: we own the descriptor and drop it exactly once.
            unsafe { libc::close(self.fd) };
        }
    }
}

/// A guest's WASI context. Build it, then register it with
/// [`add_to_linker`](super::add_to_linker).
#[derive(Debug, Default)]
pub struct WasiCtx {
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<String>,
    pub(crate) fds: BTreeMap<u32, FdEntry>,
    /// Seeded randomness and virtual clocks ([`WasiCtx::deterministic`]).
    pub(crate) replay: Option<super::deterministic::Replay>,
    /// The embedder's clocks and random source, and the clocks'
    /// coarsening ([`WasiCtx::wall_clock`], [`WasiCtx::clock_resolution`]).
    pub(crate) host_time: super::clocks::HostTime,
    /// A context threads share ([`WasiCtx::into_shared`]): the state every
    /// call uses instead of this one's fields, which are then empty.
    pub(crate) shared: Option<Arc<Mutex<WasiCtx>>>,
    /// Set for the read or write an asynchronous call waited for
    /// (`wasi::wait_ready`): it makes one system call that cannot block
    /// (one read; a pipe's write of at most `PIPE_BUF` bytes; a socket's
    /// send without waiting), where the readiness it waited for may hold
    /// less than the whole request.
    pub(crate) bounded_io: bool,
    /// The resources of WASI 0.2 (components' streams, pollables,
    /// descriptors, ...).
    pub(crate) p2: crate::component::wasi::Table,
    /// What the guest's own sockets may reach (`wasi:sockets`).
    pub(crate) net: super::net_policy::NetPolicy,
}

impl WasiCtx {
    /// Runs `f` on the context's state: a shared context's, held while
    /// `f` runs, or this one's own.
    pub(crate) fn with_state<R>(&mut self, f: impl FnOnce(&mut WasiCtx) -> R) -> R {
        match self.shared.clone() {
            Some(state) => f(&mut lock(&state)),
            None => f(self),
        }
    }

    /// A call that may block on a host descriptor: `prepare` finds the
    /// descriptor (and whatever else `io` needs) in the context's state,
    /// then `io` uses it. A shared context is held for `prepare` only, and
    /// `io` gets a duplicate of the descriptor (closed after it), so a
    /// thread blocked in a read, a write or an open holds up no other
    /// thread's calls, and a close meanwhile cannot hand the number to
    /// another file.
    pub(crate) fn unlocked_io<P, R>(
        &mut self,
        prepare: impl FnOnce(&mut WasiCtx) -> WasiResult<(RawFd, P)>,
        io: impl FnOnce(RawFd, P) -> WasiResult<R>,
    ) -> WasiResult<R> {
        let Some(state) = self.shared.clone() else {
            let (fd, p) = prepare(self)?;
            return io(fd, p);
        };
        let (dup, p) = {
            let mut held = lock(&state);
            let (fd, p) = prepare(&mut held)?;
            if fd < 0 {
                // A stream in host memory: no descriptor to duplicate
                // (`io` holds the stream's own lock).
                drop(held);
                return io(fd, p);
            }
            // SAFETY: F_DUPFD_CLOEXEC on a descriptor the table holds; the
            // result is checked and owned below.
            let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
            if dup < 0 {
                return Err(Errno::last());
            }
            // SAFETY: a fresh descriptor no one else owns.
            (unsafe { OwnedFd::from_raw_fd(dup) }, p)
        };
        io(dup.as_raw_fd(), p)
    }
}

/// Holds a shared context's state, or a stream's or random source's. A
/// panic inside a WASI call (or an embedder's reader, writer or source)
/// leaves them as consistent as any other error does: carry on with it.
pub(crate) fn lock<T: ?Sized>(state: &Mutex<T>) -> MutexGuard<'_, T> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Highest descriptor number handed out.
const MAX_FDS: u32 = 4096;

impl WasiCtx {
    /// A context whose stdin, stdout and stderr are the host's.
    pub fn new() -> WasiCtx {
        let mut ctx = WasiCtx::default();
        ctx.inherit_stdio();
        ctx
    }

    /// Gives the guest the host's standard input, output and error (what
    /// [`WasiCtx::new`] starts with), as wasmtime's `inherit_stdio`.
    pub fn inherit_stdio(&mut self) -> &mut Self {
        self.inherit_stdin().inherit_stdout().inherit_stderr()
    }

    /// Gives the guest the host's standard input (descriptor 0), in place
    /// of what [`WasiCtx::stdin`] or [`WasiCtx::redirect`] gave it.
    pub fn inherit_stdin(&mut self) -> &mut Self {
        self.inherit_host_fd(0)
    }

    /// Gives the guest the host's standard output (descriptor 1).
    pub fn inherit_stdout(&mut self) -> &mut Self {
        self.inherit_host_fd(1)
    }

    /// Gives the guest the host's standard error (descriptor 2).
    pub fn inherit_stderr(&mut self) -> &mut Self {
        self.inherit_host_fd(2)
    }

    fn inherit_host_fd(&mut self, fd: RawFd) -> &mut Self {
        self.with_state(|c| {
            c.fds.insert(
                fd as u32,
                // The file type asked when needed: most programs never
                // do, and every context (an instantiation's, often)
                // would pay three `fstat`s.
                FdEntry::host(fd, false, None),
            )
        });
        self
    }

    /// This context, to be shared by the threads of one program
    /// (wasi-threads): it and every context [`WasiCtx::share`] makes of it
    /// use one descriptor table, arguments, environment and clocks. Each
    /// WASI call holds that state while it looks up or changes the
    /// table; reads, writes, opens and `poll_oneoff` wait on duplicates of
    /// their descriptors without it (`unlocked_io`), so a
    /// thread blocked there holds up no other.
    pub fn into_shared(self) -> WasiCtx {
        if self.shared.is_some() {
            return self;
        }
        WasiCtx {
            shared: Some(Arc::new(Mutex::new(self))),
            ..WasiCtx::default()
        }
    }

    /// Another handle on a shared context's state (see
    /// [`WasiCtx::into_shared`]), for a new thread's store; `None` for a
    /// context that is not shared.
    pub fn share(&self) -> Option<WasiCtx> {
        self.shared.as_ref().map(|state| WasiCtx {
            shared: Some(state.clone()),
            ..WasiCtx::default()
        })
    }

    /// Sets the guest's `argv` (the first is the program name).
    pub fn args(&mut self, args: impl IntoIterator<Item = impl Into<String>>) -> &mut Self {
        let args: Vec<String> = args.into_iter().map(Into::into).collect();
        self.with_state(|c| c.args = args);
        self
    }

    /// Gives the guest the host process's arguments as its `argv`
    /// (wasmtime's `inherit_args`); one that is not UTF-8 has its bad
    /// bytes replaced, so the others keep their places.
    pub fn inherit_args(&mut self) -> &mut Self {
        self.args(std::env::args_os().map(|a| a.to_string_lossy().into_owned()))
    }

    /// Sets an environment variable (replacing an earlier value of the
    /// same name: a guest's `getenv` would find only the first).
    pub fn env(&mut self, key: &str, value: &str) -> &mut Self {
        let entry = format!("{key}={value}");
        let named = |e: &String| e.split_once('=').is_some_and(|(k, _)| k == key);
        self.with_state(|c| match c.env.iter_mut().find(|e| named(e)) {
            Some(old) => *old = entry,
            None => c.env.push(entry),
        });
        self
    }

    /// Sets each `(key, value)` as [`WasiCtx::env`] does (wasmtime's
    /// `envs`).
    pub fn envs(&mut self, vars: &[(impl AsRef<str>, impl AsRef<str>)]) -> &mut Self {
        for (k, v) in vars {
            self.env(k.as_ref(), v.as_ref());
        }
        self
    }

    /// Sets every variable of the host process's environment (wasmtime's
    /// `inherit_env`), those whose name and value are UTF-8: the others
    /// are left out, as a guest would misread them.
    pub fn inherit_env(&mut self) -> &mut Self {
        for (k, v) in std::env::vars_os() {
            if let (Some(k), Some(v)) = (k.to_str(), v.to_str()) {
                self.env(k, v);
            }
        }
        self
    }

    /// Gives the guest the host directory `host` under the name `guest`.
    /// Nothing outside it (by `..`, absolute paths or symlinks) is reachable.
    pub fn preopen_dir(&mut self, host: impl AsRef<Path>, guest: &str) -> Result<&mut Self> {
        self.preopened_dir(host, guest, DirPerms::all(), FilePerms::all())
    }

    /// Gives the guest the host directory `host` under the name `guest`
    /// with permissions `dir` (on it and the directories beneath it) and
    /// `file` (on the files beneath it), as wasmtime's
    /// `WasiCtxBuilder::preopened_dir`: `DirPerms::READ` and
    /// `FilePerms::READ` give it read only. What the permissions refuse
    /// fails with `EPERM`, before the host is asked.
    pub fn preopened_dir(
        &mut self,
        host: impl AsRef<Path>,
        guest: &str,
        dir: DirPerms,
        file: FilePerms,
    ) -> Result<&mut Self> {
        let host = host.as_ref();
        let c = CString::new(host.as_os_str().as_encoded_bytes()).map_err(|_| {
            Error::Usage(format!("directory name {} has a NUL byte", host.display()))
        })?;
        // SAFETY: a valid C string; the result is checked.
        let fd = unsafe {
            libc::open(
                c.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(Error::Usage(format!(
                "cannot open directory {}: {}",
                host.display(),
                std::io::Error::last_os_error()
            )));
        }
        let slot = self
            .free_fd()
            .map_err(|_| Error::Usage("too many preopened directories".into()))?;
        let mut entry = FdEntry::host(fd, true, Some(filetype::DIRECTORY));
        entry.preopen = Some(guest.to_string());
        entry.perms = Perms { dir, file };
        self.fds.insert(slot, entry);
        Ok(self)
    }

    /// Gives the guest `input` as its standard input (descriptor 0) in
    /// place of the host's: bytes in memory
    /// ([`MemoryInputPipe`](super::MemoryInputPipe)) or any reader.
    pub fn stdin(&mut self, input: impl Into<InputStream>) -> &mut Self {
        self.set_pipe(0, input.into().0)
    }

    /// Sends the guest's standard output (descriptor 1) to `output` in
    /// place of the host's: a buffer in memory
    /// ([`MemoryOutputPipe`](super::MemoryOutputPipe)) or any writer.
    pub fn stdout(&mut self, output: impl Into<OutputStream>) -> &mut Self {
        self.set_pipe(1, output.into().0)
    }

    /// Sends the guest's standard error (descriptor 2) to `output`, as
    /// [`WasiCtx::stdout`] does its output.
    pub fn stderr(&mut self, output: impl Into<OutputStream>) -> &mut Self {
        self.set_pipe(2, output.into().0)
    }

    fn set_pipe(&mut self, fd: u32, pipe: Pipe) -> &mut Self {
        self.with_state(|c| {
            let mut entry = FdEntry::host(-1, false, Some(filetype::UNKNOWN));
            entry.pipe = Some(pipe);
            c.fds.insert(fd, entry)
        });
        self
    }

    /// Replaces guest descriptor `fd` (0, 1 or 2 usually) with a host file,
    /// e.g. to capture or discard a guest's output.
    pub fn redirect(&mut self, fd: u32, file: std::fs::File) -> &mut Self {
        let raw = std::os::fd::IntoRawFd::into_raw_fd(file);
        let filetype = host_filetype(raw).unwrap_or(filetype::UNKNOWN);
        self.fds
            .insert(fd, FdEntry::host(raw, true, Some(filetype)));
        self
    }

    /// The lowest free descriptor number.
    pub(crate) fn free_fd(&self) -> WasiResult<u32> {
        (0..MAX_FDS)
            .find(|n| !self.fds.contains_key(n))
            .ok_or(Errno::MFILE)
    }

    /// The entry for `fd`.
    pub(crate) fn get(&self, fd: u32) -> WasiResult<&FdEntry> {
        self.fds.get(&fd).ok_or(Errno::BADF)
    }

    /// The entry for `fd`, mutably.
    pub(crate) fn get_mut(&mut self, fd: u32) -> WasiResult<&mut FdEntry> {
        self.fds.get_mut(&fd).ok_or(Errno::BADF)
    }

    /// Adds a host descriptor, returning its guest number.
    pub(crate) fn insert(
        &mut self,
        fd: RawFd,
        filetype: u8,
        flags: u16,
        perms: Perms,
    ) -> WasiResult<u32> {
        let slot = match self.free_fd() {
            Ok(slot) => slot,
            Err(e) => {
                // SAFETY: we own fd and are giving up on it.
                unsafe { libc::close(fd) };
                return Err(e);
            }
        };
        let mut entry = FdEntry::host(fd, true, Some(filetype));
        entry.flags = flags
            & (fdflags::APPEND
                | fdflags::NONBLOCK
                | fdflags::SYNC
                | fdflags::DSYNC
                | fdflags::RSYNC);
        entry.perms = perms;
        self.fds.insert(slot, entry);
        Ok(slot)
    }
}

/// The WASI file type of a host descriptor.
pub(crate) fn host_filetype(fd: RawFd) -> WasiResult<u8> {
    // SAFETY: fstat writes into a zeroed struct; the result is checked.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return Err(Errno::last());
    }
    Ok(filetype::from_mode(st.st_mode))
}
