//! An on-disk cache of compiled modules (`walmart run --cache`): a module
//! compiled once is loaded from its precompiled form afterwards
//! ([`Module::serialize`], [`Module::deserialize`]), under a key that
//! hashes the engine's fingerprint with the module's bytes, so another
//! build of walmart, other settings or other bytes never meet a stale
//! entry.
//!
//! Loading an entry runs its code as it is, so the directory and its
//! entries must be the user's alone. The directory is opened once, not
//! through a symbolic link, and checked on that handle (owned by the user,
//! writable by nobody else); every entry is then opened relative to it, not
//! through a link, and used only when it is a regular file of the user's
//! that nobody else may write. Anything else is compiled again and
//! replaced.

use std::ffi::CString;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::mapped_file::MappedFile;
use crate::module::Module;

/// A directory of compiled modules.
#[derive(Debug, Clone)]
pub struct ModuleCache {
    dir: PathBuf,
    /// The directory as it was checked: entries are opened relative to it.
    fd: Arc<OwnedFd>,
    /// The entries' total size past which saving one evicts the least
    /// recently used (`None`: no bound).
    size_limit: Option<u64>,
}

/// The cache's default bound on its entries' total size: 1 GiB.
pub const DEFAULT_CACHE_SIZE_LIMIT: u64 = 1 << 30;

/// A temporary file older than this is a crashed writer's, removed when
/// entries are evicted.
const STALE_TEMPORARY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Where a module [`ModuleCache::module`] returned came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from the cache without compiling.
    Hit,
    /// Compiled (no entry, or one that could not be used: `replaced`), and
    /// saved unless saving failed (`saved` says why).
    Compiled {
        replaced: bool,
        saved: std::result::Result<(), String>,
    },
}

/// `path` as a C string.
fn c_path(path: &Path) -> std::io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "NUL in path"))
}

/// `fstat` of an open file.
fn stat(fd: &OwnedFd) -> std::io::Result<libc::stat> {
    // SAFETY: a zeroed `stat` is a valid buffer for fstat to fill.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `fd` is open; `st` is writable.
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(st)
}

/// Whether a file's owner and mode make it the user's alone to write.
fn private(st: &libc::stat) -> bool {
    // SAFETY: geteuid has no preconditions.
    st.st_uid == unsafe { libc::geteuid() } && st.st_mode & 0o022 == 0
}

impl ModuleCache {
    /// The cache in `dir`, made (mode 0700) if missing. Refused when the
    /// directory is a symbolic link, another user's, or others may write
    /// it.
    pub fn new(dir: impl Into<PathBuf>) -> Result<ModuleCache> {
        let dir = dir.into();
        let shown = dir.display().to_string();
        let fail = |e: std::io::Error| Error::Usage(format!("cache directory {shown}: {e}"));
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(fail)?;
        let path = c_path(&dir).map_err(fail)?;
        // SAFETY: `path` is a NUL-terminated string; the result is checked.
        let raw = unsafe {
            libc::open(
                path.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            )
        };
        if raw < 0 {
            let e = std::io::Error::last_os_error();
            return Err(Error::Usage(format!(
                "cache directory {shown}: {e} (a symbolic link is refused: name the directory \
                 itself)"
            )));
        }
        // SAFETY: `raw` is a descriptor just opened and owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let st = stat(&fd).map_err(fail)?;
        // SAFETY: geteuid has no preconditions.
        if st.st_uid != unsafe { libc::geteuid() } {
            return Err(Error::Usage(format!(
                "cache directory {shown} belongs to another user: its modules' code would run \
                 as yours"
            )));
        }
        if !private(&st) {
            return Err(Error::Usage(format!(
                "cache directory {shown} is writable by others: its modules' code would run \
                 as yours (chmod go-w it)"
            )));
        }
        Ok(ModuleCache {
            dir,
            fd: Arc::new(fd),
            size_limit: Some(DEFAULT_CACHE_SIZE_LIMIT),
        })
    }

    /// Bounds the entries' total size (default
    /// [`DEFAULT_CACHE_SIZE_LIMIT`]; `None`: unbounded). Each entry saved
    /// past the bound evicts the least recently used ones (loading an
    /// entry marks it used) until the rest take three quarters of it at
    /// most; the entry just saved is kept even when it alone is larger.
    pub fn set_size_limit(&mut self, limit: Option<u64>) -> &mut ModuleCache {
        self.size_limit = limit;
        self
    }

    /// `$WALMART_CACHE_DIR`, else `$XDG_CACHE_HOME/walmart`, else
    /// `$HOME/.cache/walmart`.
    pub fn default_dir() -> Option<PathBuf> {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        var("WALMART_CACHE_DIR")
            .map(PathBuf::from)
            .or_else(|| var("XDG_CACHE_HOME").map(|d| Path::new(&d).join("walmart")))
            .or_else(|| var("HOME").map(|h| Path::new(&h).join(".cache/walmart")))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The module of `bytes` (binary or text) for `engine`: loaded from
    /// the cache, or compiled and saved there.
    pub fn module(&self, engine: &Engine, bytes: &[u8]) -> Result<(Module, CacheOutcome)> {
        let binary = bytes.starts_with(b"\0asm");
        let name =
            entry_name(engine, binary, &mut &bytes[..]).map_err(|e| Error::Usage(e.to_string()))?;
        self.lookup(
            engine,
            &name,
            binary,
            |wasm| wasm == bytes,
            || Ok(std::borrow::Cow::Borrowed(bytes)),
        )
    }

    /// The component of `bytes` (its binary) for `engine`: loaded from
    /// the cache, or compiled and saved there (its precompiled form,
    /// [`crate::component::Component::serialize`]). The entry is named by
    /// a BLAKE3 hash of the engine's fingerprint and the bytes, and trusted
    /// by its name, as a text module's.
    pub fn component(
        &self,
        engine: &Engine,
        bytes: &[u8],
    ) -> Result<(crate::component::Component, CacheOutcome)> {
        let name =
            entry_name(engine, false, &mut &bytes[..]).map_err(|e| Error::Usage(e.to_string()))?;
        let replaced = match self.saved_component(engine, &name) {
            Ok(c) => return Ok((c, CacheOutcome::Hit)),
            Err(replaced) => replaced,
        };
        let component = crate::component::Component::new(engine, bytes)?;
        let saved = self.save(&name, component.serialize());
        Ok((component, CacheOutcome::Compiled { replaced, saved }))
    }

    /// [`ModuleCache::component`] of a file's binary, read as a stream
    /// until it must be compiled: a hit reads the file once through a
    /// small buffer (for the entry's name) and never holds it whole.
    pub fn component_from_file(
        &self,
        engine: &Engine,
        path: impl AsRef<Path>,
    ) -> Result<(crate::component::Component, CacheOutcome)> {
        let path = path.as_ref();
        let file = File::open(path)
            .map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))?;
        self.component_from_stream(engine, &file, &path.display())
    }

    /// [`ModuleCache::component_from_file`] of a file already open: a
    /// regular file is read from its start (as often as that takes),
    /// anything else (a pipe) once, from where it stands.
    pub fn component_from_open_file(
        &self,
        engine: &Engine,
        file: &File,
    ) -> Result<(crate::component::Component, CacheOutcome)> {
        self.component_from_stream(engine, file, &"it")
    }

    /// [`ModuleCache::component_from_open_file`], naming the file `what`
    /// in errors.
    fn component_from_stream(
        &self,
        engine: &Engine,
        file: &File,
        what: &dyn std::fmt::Display,
    ) -> Result<(crate::component::Component, CacheOutcome)> {
        let unreadable = |e: std::io::Error| Error::Usage(format!("cannot read {what}: {e}"));
        let regular = file.metadata().map_err(unreadable)?.is_file();
        if regular {
            let name =
                entry_name(engine, false, &mut ReadFrom { file, at: 0 }).map_err(unreadable)?;
            if let Ok(c) = self.saved_component(engine, &name) {
                return Ok((c, CacheOutcome::Hit));
            }
        }
        // Compiled from bytes read once and named again: the entry must be
        // named by the bytes it was compiled from, and the file may have
        // changed since it was named.
        let bytes = read_whole(file, regular).map_err(unreadable)?;
        self.component(engine, &bytes)
    }

    /// The component saved under `name`, or whether an entry was there
    /// that could not be used (and is to be replaced).
    fn saved_component(
        &self,
        engine: &Engine,
        name: &str,
    ) -> std::result::Result<crate::component::Component, bool> {
        match self.read_entry(name) {
            Entry::Missing => Err(false),
            Entry::Refused => Err(true),
            // SAFETY: as for a module's entry (`lookup`): a regular file
            // of the user's that nobody else may write, named by a hash of
            // the engine's fingerprint and the component's bytes.
            Entry::Mapped(saved, file) => unsafe {
                crate::component::Component::deserialize_mapped(engine, Arc::new(saved), &file)
            }
            .map_err(|_| true),
        }
    }

    /// [`ModuleCache::module`] of a file's contents, read as a stream until
    /// they must be compiled: on a hit the file is read twice through a
    /// small buffer (for the entry's name, then to check the entry holds
    /// these very bytes) and never held whole.
    pub fn module_from_file(
        &self,
        engine: &Engine,
        path: impl AsRef<Path>,
    ) -> Result<(Module, CacheOutcome)> {
        let path = path.as_ref();
        let file = File::open(path)
            .map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))?;
        self.module_from_stream(engine, &file, &path.display())
    }

    /// [`ModuleCache::module_from_file`] of a file already open: a regular
    /// file is read from its start (as often as that takes), anything
    /// else (a pipe) once, from where it stands.
    pub fn module_from_open_file(
        &self,
        engine: &Engine,
        file: &File,
    ) -> Result<(Module, CacheOutcome)> {
        self.module_from_stream(engine, file, &"it")
    }

    /// [`ModuleCache::module_from_open_file`], naming the file `what` in
    /// errors.
    fn module_from_stream(
        &self,
        engine: &Engine,
        file: &File,
        what: &dyn std::fmt::Display,
    ) -> Result<(Module, CacheOutcome)> {
        let unreadable = |e: std::io::Error| Error::Usage(format!("cannot read {what}: {e}"));
        let mut magic = [0u8; 4];
        let regular = file.metadata().map_err(unreadable)?.is_file();
        let binary = regular && file.read_exact_at(&mut magic, 0).is_ok() && magic == *b"\0asm";
        if !binary {
            // A pipe or a device cannot be read twice; a text (small) is
            // read once, so that the entry is named by the very bytes
            // compiled (a text's entry is trusted by its name).
            let bytes = read_whole(file, regular).map_err(unreadable)?;
            return self.module(engine, &bytes);
        }
        let name = entry_name(engine, binary, &mut ReadFrom { file, at: 0 }).map_err(unreadable)?;
        let same = |wasm: &[u8]| same_as_file(file, wasm).unwrap_or(false);
        let bytes = || {
            let bytes = read_whole(file, regular).map_err(unreadable)?;
            Ok(std::borrow::Cow::Owned(bytes))
        };
        self.lookup(engine, &name, binary, same, bytes)
    }

    /// The module of entry `name`, when it holds a module whose binary
    /// `same` accepts (any, for a text, whose binary is not known without
    /// compiling it), else the module of `bytes()` compiled and saved.
    fn lookup<'b>(
        &self,
        engine: &Engine,
        name: &str,
        binary: bool,
        same: impl FnOnce(&[u8]) -> bool,
        bytes: impl FnOnce() -> Result<std::borrow::Cow<'b, [u8]>>,
    ) -> Result<(Module, CacheOutcome)> {
        let replaced = match self.read_entry(name) {
            Entry::Missing => false,
            Entry::Refused => true,
            Entry::Mapped(saved, file) => {
                // SAFETY: the entry is a regular file of the user's that
                // nobody else may write, in a directory of the same kind
                // (both checked on the handles used), named by a hash of
                // the engine's fingerprint and these bytes; walmart
                // replaces entries by renaming, never writing into them.
                match unsafe { Module::deserialize_mapped(engine, Arc::new(saved), &file) } {
                    Ok(m) if !binary || same(&m.inner.wasm) => return Ok((m, CacheOutcome::Hit)),
                    _ => true,
                }
            }
        };
        let module = Module::new(engine, bytes()?)?;
        let saved = self.save(name, module.serialize());
        Ok((module, CacheOutcome::Compiled { replaced, saved }))
    }

    /// Saves `serialized` (a precompiled form, or why it could not be
    /// made) as entry `name`, evicting what the bound then asks: whether
    /// it was saved, or why not.
    fn save(&self, name: &str, serialized: Result<Vec<u8>>) -> std::result::Result<(), String> {
        let saved = serialized
            .map_err(|e| e.to_string())
            .and_then(|b| self.write_entry(name, &b));
        if saved.is_ok() {
            self.evict(name);
        }
        saved
    }

    /// The entry's bytes, when it exists and is a regular file of the
    /// user's that nobody else may write (opened without following a
    /// link, relative to the checked directory).
    fn read_entry(&self, name: &str) -> Entry {
        let Ok(c) = CString::new(name) else {
            return Entry::Missing;
        };
        // SAFETY: `c` is NUL-terminated and the directory descriptor open;
        // the result is checked.
        let raw = unsafe {
            libc::openat(
                self.fd.as_raw_fd(),
                c.as_ptr(),
                libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            )
        };
        if raw < 0 {
            // A link (`ELOOP` under `O_NOFOLLOW`) is there but refused.
            return match std::io::Error::last_os_error().raw_os_error() {
                Some(libc::ENOENT) => Entry::Missing,
                _ => Entry::Refused,
            };
        }
        // SAFETY: a descriptor just opened and owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let Ok(st) = stat(&fd) else {
            return Entry::Refused;
        };
        if st.st_mode & libc::S_IFMT != libc::S_IFREG || !private(&st) {
            return Entry::Refused;
        }
        // Marked used (its modification time now), so eviction keeps it
        // over entries not loaded since; a failure only makes it older.
        // SAFETY: an open descriptor of the user's own file; a null
        // `times` means now.
        unsafe { libc::futimens(fd.as_raw_fd(), std::ptr::null()) };
        // Mapped, not read: entries are replaced by renaming, never
        // written into, so the bytes stay as they are while mapped.
        let file = File::from(fd);
        match MappedFile::new(&file) {
            Ok(mapped) => Entry::Mapped(mapped, file),
            Err(_) => Entry::Refused,
        }
    }

    /// Writes an entry through a temporary file of a name no other writer
    /// uses, renamed into place (replacing what was there), so a reader
    /// never sees half an entry.
    fn write_entry(&self, name: &str, bytes: &[u8]) -> std::result::Result<(), String> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let tmp = format!(
            "{name}.{}-{}-{nanos}.tmp",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let fail = |what: &str| {
            format!(
                "cannot save {}: {what}: {}",
                self.dir.join(name).display(),
                std::io::Error::last_os_error()
            )
        };
        let (c_tmp, c_name) = match (CString::new(tmp), CString::new(name)) {
            (Ok(t), Ok(n)) => (t, n),
            _ => return Err(format!("cannot save {name}: bad name")),
        };
        let dir = self.fd.as_raw_fd();
        // SAFETY: NUL-terminated names, an open directory descriptor; the
        // result is checked.
        let raw = unsafe {
            libc::openat(
                dir,
                c_tmp.as_ptr(),
                libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                0o600 as libc::c_uint,
            )
        };
        if raw < 0 {
            return Err(fail("creating a temporary file"));
        }
        // SAFETY: a descriptor just opened and owned by nobody else.
        let mut file = File::from(unsafe { OwnedFd::from_raw_fd(raw) });
        let written = file.write_all(bytes).and_then(|()| file.sync_data());
        drop(file);
        // SAFETY: as above; renames within the checked directory.
        let renamed = match written {
            Ok(()) if unsafe { libc::renameat(dir, c_tmp.as_ptr(), dir, c_name.as_ptr()) } == 0 => {
                Ok(())
            }
            Ok(()) => Err(fail("renaming it into place")),
            Err(e) => Err(format!(
                "cannot save {}: {e}",
                self.dir.join(name).display()
            )),
        };
        if let Err(e) = renamed {
            // Only the temporary file this call made.
            // SAFETY: as above.
            unsafe { libc::unlinkat(dir, c_tmp.as_ptr(), 0) };
            return Err(e);
        }
        Ok(())
    }
}

impl ModuleCache {
    /// Past the size limit, removes the least recently used entries but
    /// `keep` until the rest fit three quarters of it, and, in any case,
    /// temporary files a crashed writer left. Listed and removed through
    /// the checked directory's descriptor; an entry another process
    /// removed first, or one it maps, is no matter (a mapped file lives
    /// on unnamed).
    fn evict(&self, keep: &str) {
        // The checked directory itself where /proc shows it, else by name
        // (only the cache's own names are removed, relative to the
        // checked descriptor, either way).
        let Ok(listing) = fs::read_dir(format!("/proc/self/fd/{}", self.fd.as_raw_fd()))
            .or_else(|_| fs::read_dir(&self.dir))
        else {
            return;
        };
        let now = std::time::SystemTime::now();
        let mut entries = Vec::new();
        let mut total = 0u64;
        for e in listing.flatten() {
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            let Ok(meta) = e.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            let modified = meta.modified().unwrap_or(now);
            if is_temporary_name(name) {
                if now
                    .duration_since(modified)
                    .is_ok_and(|age| age > STALE_TEMPORARY)
                {
                    self.remove(name);
                }
            } else if is_entry_name(name) {
                total += meta.len();
                if name != keep {
                    entries.push((modified, meta.len(), name.to_string()));
                }
            }
        }
        let Some(limit) = self.size_limit.filter(|limit| total > *limit) else {
            return;
        };
        entries.sort();
        let target = limit / 4 * 3;
        for (_, len, name) in entries {
            if total <= target {
                break;
            }
            self.remove(&name);
            total -= len;
        }
    }

    /// Unlinks `name` in the cache's directory.
    fn remove(&self, name: &str) {
        if let Ok(c) = CString::new(name) {
            // SAFETY: a NUL-terminated name, an open directory descriptor.
            unsafe { libc::unlinkat(self.fd.as_raw_fd(), c.as_ptr(), 0) };
        }
    }
}

/// What [`ModuleCache::read_entry`] found.
enum Entry {
    Missing,
    /// There, but not a regular file of the user's alone, or unreadable.
    Refused,
    /// The entry mapped, and the file, open until its code is placed.
    Mapped(MappedFile, File),
}

/// All of `file`: a `regular` one from its start, at offsets of its own,
/// never through its position (which another thread's reads of the same
/// `File` may move); anything else (a pipe) from where it stands.
fn read_whole(file: &File, regular: bool) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut stream: &File = file;
    match regular {
        true => ReadFrom { file, at: 0 }.read_to_end(&mut bytes),
        false => stream.read_to_end(&mut bytes),
    }?;
    Ok(bytes)
}

/// A file read from an offset of the reader's own (`read_at`), not the
/// file's position.
pub(crate) struct ReadFrom<'a> {
    pub(crate) file: &'a File,
    pub(crate) at: u64,
}

impl Read for ReadFrom<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read_at(buf, self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

/// The file name of the entry for `engine` of the bytes `source` reads
/// (from where it stands), by a hash of both: XXH3-128 for a `binary`, as
/// the entry is used only when it holds these very bytes, and BLAKE3 for
/// a text or a component, whose entry is trusted by its name alone (a
/// cryptographic hash three times SHA-256's speed here: CPython's 21 MB
/// component hashed in 5 ms where SHA-256 took 15).
fn entry_name(engine: &Engine, binary: bool, source: &mut impl Read) -> std::io::Result<String> {
    let mut fast = twox_hash::XxHash3_128::new();
    let mut strong = blake3::Hasher::new();
    let mut feed = |b: &[u8]| {
        if binary {
            fast.write(b);
        } else {
            strong.update(b);
        }
    };
    feed(engine.fingerprint().as_bytes());
    // The same code, but a compile the cache would skip: an engine that
    // checks Cranelift's IR compiles apart.
    if engine.config().debug_verifier {
        feed(b"\ncranelift-debug-verifier");
    }
    feed(&[0]);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match source.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => feed(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(if binary {
        format!("b{:032x}.cwasm", fast.finish_128())
    } else {
        format!("{}.cwasm", strong.finalize().to_hex())
    })
}

/// Whether `name` is an entry's: `b` and 32 hex digits (a binary's) or 64
/// hex digits (a text's or a component's), then `.cwasm` (see
/// [`entry_name`]).
fn is_entry_name(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".cwasm") else {
        return false;
    };
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    stem.strip_prefix('b').is_some_and(|h| hex(h, 32)) || hex(stem, 64)
}

/// Whether `name` is a temporary file of `write_entry`'s: an entry's name,
/// then `.PID-N-NANOS.tmp`.
fn is_temporary_name(name: &str) -> bool {
    let Some((entry, rest)) = name
        .strip_suffix(".tmp")
        .and_then(|n| n.split_once(".cwasm."))
    else {
        return false;
    };
    let numbers: Vec<_> = rest.split('-').collect();
    is_entry_name(&format!("{entry}.cwasm"))
        && numbers.len() == 3
        && numbers
            .iter()
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether `file` holds exactly `wasm`, read through a small buffer.
fn same_as_file(file: &File, wasm: &[u8]) -> std::io::Result<bool> {
    if file.metadata()?.len() != wasm.len() as u64 {
        return Ok(false);
    }
    let mut buf = vec![0u8; 1 << 16];
    let mut at = 0;
    while at < wasm.len() {
        let n = (wasm.len() - at).min(buf.len());
        file.read_exact_at(&mut buf[..n], at as u64)?;
        if buf[..n] != wasm[at..at + n] {
            return Ok(false);
        }
        at += n;
    }
    Ok(true)
}
