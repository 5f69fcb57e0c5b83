//! An on-disk cache of compiled modules (`walmart run --cache`): a module
//! compiled once is loaded from its precompiled form afterwards
//! ([`Module::serialize`], [`Module::deserialize`]), under a key that
//! hashes the engine's fingerprint with the module's bytes, so another
//! build of walmart, other settings or other bytes never meet a stale
//! entry.
//!
//! Loading an entry runs its code as it is, so the directory must be the
//! user's alone: it is made with mode 0700, and one that another user owns
//! or may write is refused.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::module::Module;

/// A directory of compiled modules.
#[derive(Debug, Clone)]
pub struct ModuleCache {
    dir: PathBuf,
}

/// Where a module [`ModuleCache::module`] returned came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from the cache without compiling.
    Hit,
    /// Compiled (no entry, or one that could not be loaded: `replaced`),
    /// and saved unless saving failed (`saved` says why).
    Compiled {
        replaced: bool,
        saved: std::result::Result<(), String>,
    },
}

impl ModuleCache {
    /// The cache in `dir`, made (mode 0700) if missing. Refused when the
    /// directory is another user's or others may write it.
    pub fn new(dir: impl Into<PathBuf>) -> Result<ModuleCache> {
        let dir = dir.into();
        let shown = dir.display().to_string();
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| Error::Usage(format!("cache directory {shown}: {e}")))?;
        let meta = fs::metadata(&dir)
            .map_err(|e| Error::Usage(format!("cache directory {shown}: {e}")))?;
        // SAFETY: geteuid has no preconditions.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(Error::Usage(format!(
                "cache directory {shown} belongs to another user: its modules' code would run \
                 as yours"
            )));
        }
        if meta.permissions().mode() & 0o022 != 0 {
            return Err(Error::Usage(format!(
                "cache directory {shown} is writable by others: its modules' code would run \
                 as yours (chmod go-w it)"
            )));
        }
        Ok(ModuleCache { dir })
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
        let path = self.entry(engine, bytes);
        let replaced = match fs::read(&path) {
            Ok(saved) => {
                // SAFETY: the directory is the user's alone (checked as the
                // cache was opened) and the entry's name hashes the
                // engine's fingerprint with these bytes.
                match unsafe { Module::deserialize(engine, &saved) } {
                    Ok(module) => return Ok((module, CacheOutcome::Hit)),
                    Err(_) => true,
                }
            }
            Err(_) => false,
        };
        let module = Module::new(engine, bytes)?;
        let saved = module
            .serialize()
            .map_err(|e| e.to_string())
            .and_then(|b| write_atomically(&path, &b));
        Ok((module, CacheOutcome::Compiled { replaced, saved }))
    }

    /// The file of `bytes`' entry for `engine`.
    fn entry(&self, engine: &Engine, bytes: &[u8]) -> PathBuf {
        let mut h = Sha256::new();
        h.update(engine.fingerprint().as_bytes());
        h.update([0]);
        h.update(bytes);
        let name: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{name}.cwasm"))
    }
}

/// Writes `bytes` to `path` through a temporary file renamed into place,
/// so a reader never sees half an entry.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::result::Result<(), String> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let written = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| fs::rename(&tmp, path));
    written.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        format!("cannot save {}: {e}", path.display())
    })
}
