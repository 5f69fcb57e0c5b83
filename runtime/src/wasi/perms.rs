//! What a guest may do beneath a preopened directory
//! ([`WasiCtx::preopened_dir`](super::WasiCtx::preopened_dir)), as
//! wasmtime's `DirPerms` and `FilePerms`: a directory can be given read
//! only, so the guest reads the files an embedder shares but changes
//! none. Checked by walmart before the host is asked, on the directory
//! a call names and on every descriptor opened beneath it, which inherit
//! its permissions.

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
