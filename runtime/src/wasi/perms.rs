//! What a guest may do beneath a preopened directory
//! ([`WasiCtx::preopened_dir`](super::WasiCtx::preopened_dir)), as
//! wasmtime's `DirPerms` and `FilePerms`: a directory can be given read
//! only, so the guest reads the files an embedder shares but changes
//! none. Checked by walmart before the host is asked, on the directory
//! a call names and on every descriptor opened beneath it, which inherit
//! its permissions.

use super::ctx::FdEntry;
use super::types::{
    ALL_RIGHTS, RIGHT_FD_ALLOCATE, RIGHT_FD_DATASYNC, RIGHT_FD_FILESTAT_SET_SIZE,
    RIGHT_FD_FILESTAT_SET_TIMES, RIGHT_FD_READ, RIGHT_FD_READDIR, RIGHT_FD_SEEK, RIGHT_FD_TELL,
    RIGHT_FD_WRITE, RIGHT_PATH_CREATE_DIRECTORY, RIGHT_PATH_CREATE_FILE, RIGHT_PATH_FILESTAT_GET,
    RIGHT_PATH_FILESTAT_SET_SIZE, RIGHT_PATH_FILESTAT_SET_TIMES, RIGHT_PATH_LINK, RIGHT_PATH_OPEN,
    RIGHT_PATH_READLINK, RIGHT_PATH_REMOVE_DIRECTORY, RIGHT_PATH_RENAME, RIGHT_PATH_SYMLINK,
    RIGHT_PATH_UNLINK_FILE,
};

macro_rules! perm_set {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $flag:ident = $bit:expr),* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $name(u8);

        impl $name {
            $($(#[$fdoc])* pub const $flag: $name = $name($bit);)*

            /// No permission at all.
            pub const fn empty() -> $name {
                $name(0)
            }

            /// Every permission.
            pub const fn all() -> $name {
                $name(0 $(| $bit)*)
            }

            /// Whether every permission of `other` is in `self`.
            pub const fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }
        }

        impl std::ops::BitOr for $name {
            type Output = $name;
            fn bitor(self, other: $name) -> $name {
                $name(self.0 | other.0)
            }
        }
    };
}

perm_set!(
    /// What a guest may do with a directory.
    DirPerms {
        /// List it, and open and inspect what is beneath it.
        READ = 1,
        /// Create, remove, rename and link entries beneath it, and set
        /// their times.
        MUTATE = 2
    }
);

perm_set!(
    /// What a guest may do with the files beneath a directory.
    FilePerms {
        /// Open them for reading.
        READ = 1,
        /// Open them for writing or truncation, and change their size and
        /// times.
        WRITE = 2
    }
);

/// The permissions a descriptor carries: its preopened directory's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Perms {
    pub(crate) dir: DirPerms,
    pub(crate) file: FilePerms,
}

impl Perms {
    /// Everything: descriptors not beneath a restricted preopen.
    pub(crate) const ALL: Perms = Perms {
        dir: DirPerms::all(),
        file: FilePerms::all(),
    };
}

impl FdEntry {
    /// The rights `fd_fdstat_get` reports, base and inheriting: every
    /// right but what the descriptor's permissions refuse, what its open
    /// mode does not allow, and seeking where it cannot seek. walmart
    /// enforces none of them (the open mode, the sandbox and the
    /// permissions do), but wasi-libc reads them: `access(W_OK)` the
    /// directory's inheriting rights, `fcntl(F_GETFL)` the access mode,
    /// `isatty` the seek rights (a character device without them is a
    /// terminal). wasi-libc's `open` asks only for the rights the
    /// directory reports: an open for writing without `FilePerms::WRITE`
    /// gets a descriptor it cannot write, unless it creates or truncates,
    /// which fails with `EPERM`.
    pub(crate) fn rights(&self) -> (u64, u64) {
        let directory = self.is_directory();
        let (mut base, inheriting) = self.perms.rights(directory);
        let mode = match &self.pipe {
            Some(pipe) if pipe.is_input() => libc::O_RDONLY,
            Some(_) => libc::O_WRONLY,
            None if directory => libc::O_RDWR,
            // SAFETY: F_GETFL on a descriptor the entry holds; no pointers.
            None => (unsafe { libc::fcntl(self.fd, libc::F_GETFL) }) & libc::O_ACCMODE,
        };
        match mode {
            libc::O_RDONLY => {
                base &= !(RIGHT_FD_WRITE | RIGHT_FD_ALLOCATE | RIGHT_FD_FILESTAT_SET_SIZE)
            }
            libc::O_WRONLY => base &= !RIGHT_FD_READ,
            _ => {}
        }
        if !self.seekable() {
            base &= !(RIGHT_FD_SEEK | RIGHT_FD_TELL);
        }
        (base, inheriting)
    }
}

impl Perms {
    /// The rights these permissions leave, base and inheriting, for a
    /// descriptor that is a `directory` or not.
    fn rights(self, directory: bool) -> (u64, u64) {
        let mut dir = ALL_RIGHTS;
        if !self.dir.contains(DirPerms::READ) {
            dir &= !(RIGHT_FD_READDIR
                | RIGHT_PATH_OPEN
                | RIGHT_PATH_READLINK
                | RIGHT_PATH_FILESTAT_GET);
        }
        if !self.dir.contains(DirPerms::MUTATE) {
            dir &= !(RIGHT_PATH_CREATE_DIRECTORY
                | RIGHT_PATH_CREATE_FILE
                | RIGHT_PATH_LINK
                | RIGHT_PATH_RENAME
                | RIGHT_PATH_FILESTAT_SET_TIMES
                | RIGHT_FD_FILESTAT_SET_TIMES
                | RIGHT_PATH_SYMLINK
                | RIGHT_PATH_REMOVE_DIRECTORY
                | RIGHT_PATH_UNLINK_FILE);
        }
        let mut file = ALL_RIGHTS;
        if !self.file.contains(FilePerms::READ) {
            file &= !RIGHT_FD_READ;
        }
        if !self.file.contains(FilePerms::WRITE) {
            file &= !(RIGHT_FD_WRITE
                | RIGHT_FD_DATASYNC
                | RIGHT_FD_ALLOCATE
                | RIGHT_FD_FILESTAT_SET_SIZE
                | RIGHT_FD_FILESTAT_SET_TIMES
                | RIGHT_PATH_FILESTAT_SET_SIZE);
        }
        if directory {
            // Beneath it: directories with its rights, files with theirs.
            (dir, dir & file)
        } else {
            // wasi-libc takes `fd_readdir` for readable too.
            (file & !RIGHT_FD_READDIR, file)
        }
    }
}
