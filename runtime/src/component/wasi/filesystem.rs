//! `wasi:filesystem`: descriptors beneath the preopened directories, and
//! the preopens.

use super::host_memory::{iovec, Scratch, DATA};
use super::table::{Entry, WritePos};
use super::vals::{
    arg, datetime, datetime_of, descriptor_type, err_code, flags_of, has, ok, ok_unit, own, rep,
    string_of, u64_of,
};
use super::{def, def_bytes, iface, res, resource, BytesShape, GetCtx, HostOut};
use crate::component::{Linker, Val};
use crate::wasi::types::{
    fdflags, oflags, RIGHT_FD_ALLOCATE, RIGHT_FD_FILESTAT_SET_SIZE, RIGHT_FD_READ,
    RIGHT_FD_READDIR, RIGHT_FD_WRITE, RIGHT_PATH_CREATE_FILE,
};
use crate::wasi::{Errno, WasiCtx};
use crate::{Error, Result};

/// The context's descriptor a handle stands for.
fn fd_of(ctx: &WasiCtx, v: &Val) -> Result<u32> {
    let rep = rep(v)?;
    match ctx.p2.get(rep) {
        Some(Entry::Descriptor { fd, .. }) => Ok(*fd),
        _ => Err(Error::Usage(format!(
            "WASI: handle {rep} is not a descriptor"
        ))),
    }
}

/// A preview 1 filestat (64 bytes: device, inode, type, links, size,
/// access, modification and change times).
struct Stat(Scratch);

impl Stat {
    fn dev(&self) -> u64 {
        self.0.u64(0)
    }
    fn ino(&self) -> u64 {
        self.0.u64(8)
    }
    fn filetype(&self) -> u8 {
        self.0.bytes[16]
    }

    /// `descriptor-stat`.
    fn record(&self) -> Val {
        let time = |at: usize| Val::Option(Some(Box::new(datetime(self.0.u64(at)))));
        Val::Record(vec![
            ("type".into(), descriptor_type(self.filetype())),
            ("link-count".into(), Val::U64(self.0.u64(24))),
            ("size".into(), Val::U64(self.0.u64(32))),
            ("data-access-timestamp".into(), time(40)),
            ("data-modification-timestamp".into(), time(48)),
            ("status-change-timestamp".into(), time(56)),
        ])
    }

    /// `metadata-hash-value`: the object's identity.
    fn hash(&self) -> Val {
        Val::Record(vec![
            ("lower".into(), Val::U64(self.ino())),
            ("upper".into(), Val::U64(self.dev())),
        ])
    }
}

fn stat(ctx: &mut WasiCtx, fd: u32) -> std::result::Result<Stat, Errno> {
    let mut s = Scratch::new(64);
    s.call(|mem| ctx.fd_filestat_get(mem, fd, 0))?;
    Ok(Stat(s))
}

fn stat_at(
    ctx: &mut WasiCtx,
    fd: u32,
    lookup: u32,
    path: &str,
) -> std::result::Result<Stat, Errno> {
    let mut s = Scratch::new(64);
    s.call(|mem| ctx.path_filestat_get(mem, fd, lookup, path, 0))?;
    Ok(Stat(s))
}

/// `path-flags` as preview 1's lookup flags.
fn lookup(v: &Val) -> Result<u32> {
    Ok(has(flags_of(v)?, "symlink-follow") as u32)
}

/// A `new-timestamp` as a time and preview 1's flags (`set`, `now`).
fn new_timestamp(v: &Val, set: u16, now: u16) -> Result<(u64, u16)> {
    match v {
        Val::Variant(case, payload) => match (case.as_str(), payload) {
            ("no-change", _) => Ok((0, 0)),
            ("now", _) => Ok((0, now)),
            ("timestamp", Some(t)) => Ok((datetime_of(t)?, set)),
            _ => Err(Error::Usage(format!("new-timestamp: case {case}"))),
        },
        other => Err(Error::Usage(format!("new-timestamp: a {}", other.kind()))),
    }
}

/// The two timestamps of `set-times`: times and preview 1's flags.
fn timestamps(atim: &Val, mtim: &Val) -> Result<(u64, u64, u16)> {
    let (a, af) = new_timestamp(atim, 1, 2)?;
    let (m, mf) = new_timestamp(mtim, 4, 8)?;
    Ok((a, m, af | mf))
}

/// `result<_, error-code>` of a preview 1 call.
fn unit(r: std::result::Result<(), Errno>) -> Option<Val> {
    Some(match r {
        Ok(()) => ok_unit(),
        Err(e) => err_code(e),
    })
}

/// A directory's entries, `.` and `..` left out.
fn list_directory(ctx: &mut WasiCtx, fd: u32) -> std::result::Result<Vec<(String, u8)>, Errno> {
    const BUF: usize = 64 * 1024;
    let mut out = Vec::new();
    let mut cookie = 0u64;
    loop {
        let mut s = Scratch::new(8 + BUF);
        s.call(|mem| ctx.fd_readdir(mem, fd, 8, BUF as u32, cookie, 0))?;
        let used = s.u32(0) as usize;
        let mut at = 8;
        let end = 8 + used;
        let mut whole = 0;
        while at + 24 <= end {
            let next = s.u64(at);
            let len = s.u32(at + 16) as usize;
            if at + 24 + len > end {
                break;
            }
            let name = String::from_utf8_lossy(&s.bytes[at + 24..at + 24 + len]).into_owned();
            if name != "." && name != ".." {
                out.push((name, s.bytes[at + 20]));
            }
            cookie = next;
            whole += 1;
            at += 24 + len;
        }
        if used < BUF || whole == 0 {
            return Ok(out);
        }
    }
}

pub(super) fn add<T: 'static>(linker: &mut Linker<T>, get: GetCtx<T>) -> Result<()> {
    let mut fs = iface(linker, "wasi:filesystem/types")?;
    resource::<T, res::Descriptor>(&mut fs, "descriptor", get)?;
    resource::<T, res::DirectoryEntryStream>(&mut fs, "directory-entry-stream", get)?;

    let m = |name: &str| format!("[method]descriptor.{name}");
    def(&mut fs, &m("read-via-stream"), get, |ctx, p| {
        let fd = fd_of(ctx, arg(p, 0)?)?;
        let offset = Some(u64_of(arg(p, 1)?)?);
        Ok(Some(ok(own::<res::InputStream>(
            ctx.p2.push(Entry::Input { fd, offset }),
        ))))
    })?;
    def(&mut fs, &m("write-via-stream"), get, |ctx, p| {
        let fd = fd_of(ctx, arg(p, 0)?)?;
        let pos = WritePos::At(u64_of(arg(p, 1)?)?);
        Ok(Some(ok(own::<res::OutputStream>(
            ctx.p2.push(Entry::Output { fd, pos }),
        ))))
    })?;
    def(&mut fs, &m("append-via-stream"), get, |ctx, p| {
        let fd = fd_of(ctx, arg(p, 0)?)?;
        let pos = WritePos::Append;
        Ok(Some(ok(own::<res::OutputStream>(
            ctx.p2.push(Entry::Output { fd, pos }),
        ))))
    })?;
    def(&mut fs, &m("advise"), get, |ctx, p| {
        let fd = fd_of(ctx, arg(p, 0)?)?;
        let advice = match arg(p, 3)? {
            Val::Enum(a) => [
                "normal",
                "sequential",
                "random",
                "will-need",
                "dont-need",
                "no-reuse",
            ]
            .iter()
            .position(|n| n == a)
            .unwrap_or(0) as u8,
            _ => 0,
        };
        Ok(unit(ctx.fd_advise(
            fd,
            u64_of(arg(p, 1)?)?,
            u64_of(arg(p, 2)?)?,
            advice,
        )))
    })?;
    for (name, data_only) in [("sync-data", true), ("sync", false)] {
        def(&mut fs, &m(name), get, move |ctx, p| {
            let fd = fd_of(ctx, arg(p, 0)?)?;
            Ok(unit(ctx.fd_sync(fd, data_only)))
        })?;
    }
    def(&mut fs, &m("get-flags"), get, |ctx, p| {
        let fd = fd_of(ctx, arg(p, 0)?)?;
        let mut s = Scratch::new(24);
        Ok(Some(match s.call(|mem| ctx.fd_fdstat_get(mem, fd, 0)) {
            Err(e) => err_code(e),
            Ok(()) => {
                let (flags, rights) = (s.u16(2), s.u64(8));
                let mut set = Vec::new();
                let mut add = |on: bool, name: &str| {
                    if on {
                        set.push(name.to_string())
                    }
                };
                add(rights & (RIGHT_FD_READ | RIGHT_FD_READDIR) != 0, "read");
                // A directory is changed through `mutate-directory`, not
                // written.
                add(s.bytes[0] != 3 && rights & RIGHT_FD_WRITE != 0, "write");
                add(flags & fdflags::SYNC != 0, "file-integrity-sync");
                add(flags & fdflags::DSYNC != 0, "data-integrity-sync");
                add(flags & fdflags::RSYNC != 0, "requested-write-sync");
                add(
                    s.bytes[0] == 3 && rights & RIGHT_PATH_CREATE_FILE != 0,
                    "mutate-directory",
                );
                ok(Val::Flags(set))
            }
        }))
    })?;
    def(&mut fs, &m("get-type"), get, |ctx, p| {
        let fd = fd_of(ctx, arg(p, 0)?)?;
        Ok(Some(match stat(ctx, fd) {
            Ok(st) => ok(descriptor_type(st.filetype())),
            Err(e) => err_code(e),
        }))
    })?;
    def(&mut fs, &m("set-size"), get, |ctx, p| {
        let fd = fd_of(ctx, arg(p, 0)?)?;
        Ok(unit(ctx.fd_filestat_set_size(fd, u64_of(arg(p, 1)?)?)))
    })?;
    def(&mut fs, &m("set-times"), get, |ctx, p| {
        let fd = fd_of(ctx, arg(p, 0)?)?;
        let (a, mt, flags) = timestamps(arg(p, 1)?, arg(p, 2)?)?;
        Ok(unit(ctx.fd_filestat_set_times(fd, a, mt, flags)))
    })?;
    def_bytes(&mut fs, &m("read"), get, |caller, get, p, _| {
        get(caller.data_mut()).with_state(|ctx| {
            let fd = fd_of(ctx, arg(p, 0)?)?;
            let len = u64_of(arg(p, 1)?)?.min(1 << 20) as usize;
            let mut s = iovec(len);
            let at = Some(u64_of(arg(p, 2)?)?);
            Ok(match s.call(|mem| ctx.fd_read(mem, fd, 0, 1, at, 8)) {
                Err(e) => HostOut::Val(Some(err_code(e))),
                Ok(()) => {
                    let n = s.u32(8) as usize;
                    // Only nothing read is the end: a pipe or device may
                    // give less now and more later.
                    let eof = n == 0 && len > 0;
                    HostOut::Bytes(
                        s.bytes[DATA..DATA + n].to_vec(),
                        BytesShape::OkWithBool(eof),
                    )
                }
            })
        })
    })?;
    def_bytes(&mut fs, &m("write"), get, |caller, get, p, data| {
        let data = data.ok_or_else(|| Error::Usage("a write without its bytes".into()))?;
        get(caller.data_mut()).with_state(|ctx| {
            let fd = fd_of(ctx, arg(p, 0)?)?;
            let mut s = iovec(data.len());
            s.bytes[DATA..].copy_from_slice(&data);
            let at = Some(u64_of(arg(p, 2)?)?);
            Ok(HostOut::Val(Some(
                match s.call(|mem| ctx.fd_write(mem, fd, 0, 1, at, 8)) {
                    Err(e) => err_code(e),
                    Ok(()) => ok(Val::U64(s.u32(8) as u64)),
                },
            )))
        })
    })?;
    def(&mut fs, &m("read-directory"), get, |ctx, p| {
        let fd = fd_of(ctx, arg(p, 0)?)?;
        Ok(Some(match list_directory(ctx, fd) {
            Err(e) => err_code(e),
            Ok(entries) => {
                let rep = ctx.p2.push(Entry::Entries { entries, next: 0 });
                ok(own::<res::DirectoryEntryStream>(rep))
            }
        }))
    })?;
    def(&mut fs, &m("create-directory-at"), get, |ctx, p| {
        let fd = fd_of(ctx, arg(p, 0)?)?;
        Ok(unit(ctx.path_create_directory(fd, string_of(arg(p, 1)?)?)))
    })?;
    def(&mut fs, &m("stat"), get, |ctx, p| {
        let fd = fd_of(ctx, arg(p, 0)?)?;
        Ok(Some(match stat(ctx, fd) {
            Ok(st) => ok(st.record()),
            Err(e) => err_code(e),
        }))
    })?;
    def(&mut fs, &m("stat-at"), get, |ctx, p| {
        let fd = fd_of(ctx, arg(p, 0)?)?;
        Ok(Some(
            match stat_at(ctx, fd, lookup(arg(p, 1)?)?, string_of(arg(p, 2)?)?) {
                Ok(st) => ok(st.record()),
                Err(e) => err_code(e),
            },
        ))
    })?;
    def(&mut fs, &m("set-times-at"), get, |ctx, p| {
        let fd = fd_of(ctx, arg(p, 0)?)?;
        let (a, mt, flags) = timestamps(arg(p, 3)?, arg(p, 4)?)?;
        let path = string_of(arg(p, 2)?)?;
        Ok(unit(ctx.path_filestat_set_times(
            fd,
            lookup(arg(p, 1)?)?,
            path,
            a,
            mt,
            flags,
        )))
    })?;
    def(&mut fs, &m("link-at"), get, |ctx, p| {
        let (fd, new_fd) = (fd_of(ctx, arg(p, 0)?)?, fd_of(ctx, arg(p, 3)?)?);
        let (old, new) = (string_of(arg(p, 2)?)?, string_of(arg(p, 4)?)?);
        Ok(unit(ctx.path_link(
            fd,
            lookup(arg(p, 1)?)?,
            old,
            new_fd,
            new,
        )))
    })?;
    def(&mut fs, &m("open-at"), get, |ctx, p| {
        let fd = fd_of(ctx, arg(p, 0)?)?;
        let path = string_of(arg(p, 2)?)?;
        let open = flags_of(arg(p, 3)?)?;
        let flags = flags_of(arg(p, 4)?)?;
        let mut o = 0;
        for (name, bit) in [
            ("create", oflags::CREAT),
            ("directory", oflags::DIRECTORY),
            ("exclusive", oflags::EXCL),
            ("truncate", oflags::TRUNC),
        ] {
            if has(open, name) {
                o |= bit;
            }
        }
        let mut rights = 0;
        if has(flags, "read") {
            rights |= RIGHT_FD_READ | RIGHT_FD_READDIR;
        }
        if has(flags, "write") {
            rights |= RIGHT_FD_WRITE | RIGHT_FD_ALLOCATE | RIGHT_FD_FILESTAT_SET_SIZE;
        }
        let mut fdf = 0;
        for (name, bit) in [
            ("file-integrity-sync", fdflags::SYNC),
            ("data-integrity-sync", fdflags::DSYNC),
            ("requested-write-sync", fdflags::RSYNC),
        ] {
            if has(flags, name) {
                fdf |= bit;
            }
        }
        let lookup = lookup(arg(p, 1)?)?;
        let mut s = Scratch::new(4);
        Ok(Some(
            match s.call(|mem| ctx.path_open(mem, fd, lookup, path, o, rights, fdf, 0)) {
                Err(e) => err_code(e),
                Ok(()) => {
                    let rep = ctx.p2.push(Entry::Descriptor {
                        fd: s.u32(0),
                        close: true,
                    });
                    ok(own::<res::Descriptor>(rep))
                }
            },
        ))
    })?;
    def(&mut fs, &m("readlink-at"), get, |ctx, p| {
        let fd = fd_of(ctx, arg(p, 0)?)?;
        let path = string_of(arg(p, 1)?)?;
        let mut s = Scratch::new(8 + 4096);
        Ok(Some(
            match s.call(|mem| ctx.path_readlink(mem, fd, path, 8, 4096, 0)) {
                Err(e) => err_code(e),
                Ok(()) => {
                    let n = s.u32(0) as usize;
                    ok(Val::String(
                        String::from_utf8_lossy(&s.bytes[8..8 + n]).into_owned(),
                    ))
                }
            },
        ))
    })?;
    def(&mut fs, &m("remove-directory-at"), get, |ctx, p| {
        let fd = fd_of(ctx, arg(p, 0)?)?;
        Ok(unit(ctx.path_remove_directory(fd, string_of(arg(p, 1)?)?)))
    })?;
    def(&mut fs, &m("unlink-file-at"), get, |ctx, p| {
        let fd = fd_of(ctx, arg(p, 0)?)?;
        Ok(unit(ctx.path_unlink_file(fd, string_of(arg(p, 1)?)?)))
    })?;
    def(&mut fs, &m("rename-at"), get, |ctx, p| {
        let (fd, new_fd) = (fd_of(ctx, arg(p, 0)?)?, fd_of(ctx, arg(p, 2)?)?);
        Ok(unit(ctx.path_rename(
            fd,
            string_of(arg(p, 1)?)?,
            new_fd,
            string_of(arg(p, 3)?)?,
        )))
    })?;
    def(&mut fs, &m("symlink-at"), get, |ctx, p| {
        let fd = fd_of(ctx, arg(p, 0)?)?;
        Ok(unit(ctx.path_symlink(
            string_of(arg(p, 1)?)?,
            fd,
            string_of(arg(p, 2)?)?,
        )))
    })?;
    def(&mut fs, &m("is-same-object"), get, |ctx, p| {
        let (a, b) = (fd_of(ctx, arg(p, 0)?)?, fd_of(ctx, arg(p, 1)?)?);
        let same = match (stat(ctx, a), stat(ctx, b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        };
        Ok(Some(Val::Bool(same)))
    })?;
    def(&mut fs, &m("metadata-hash"), get, |ctx, p| {
        let fd = fd_of(ctx, arg(p, 0)?)?;
        Ok(Some(match stat(ctx, fd) {
            Ok(st) => ok(st.hash()),
            Err(e) => err_code(e),
        }))
    })?;
    def(&mut fs, &m("metadata-hash-at"), get, |ctx, p| {
        let fd = fd_of(ctx, arg(p, 0)?)?;
        Ok(Some(
            match stat_at(ctx, fd, lookup(arg(p, 1)?)?, string_of(arg(p, 2)?)?) {
                Ok(st) => ok(st.hash()),
                Err(e) => err_code(e),
            },
        ))
    })?;
    def(
        &mut fs,
        "[method]directory-entry-stream.read-directory-entry",
        get,
        |ctx, p| {
            let rep = rep(arg(p, 0)?)?;
            let Some(Entry::Entries { entries, next }) = ctx.p2.get_mut(rep) else {
                return Err(Error::Usage(format!(
                    "WASI: handle {rep} is not a directory listing"
                )));
            };
            let entry = entries.get(*next).map(|(name, ft)| {
                Box::new(Val::Record(vec![
                    ("type".into(), descriptor_type(*ft)),
                    ("name".into(), Val::String(name.clone())),
                ]))
            });
            *next += entry.is_some() as usize;
            Ok(Some(ok(Val::Option(entry))))
        },
    )?;
    def(&mut fs, "filesystem-error-code", get, |ctx, p| {
        let code = match ctx.p2.get(rep(arg(p, 0)?)?) {
            Some(Entry::Error(_, Some(e))) => {
                Some(Box::new(Val::Enum(super::vals::error_code(*e).into())))
            }
            _ => None,
        };
        Ok(Some(Val::Option(code)))
    })?;

    let mut preopens = iface(linker, "wasi:filesystem/preopens")?;
    def(&mut preopens, "get-directories", get, |ctx, _| {
        let dirs: Vec<(u32, String)> = ctx
            .fds
            .iter()
            .filter_map(|(fd, e)| e.preopen.clone().map(|name| (*fd, name)))
            .collect();
        Ok(Some(Val::List(
            dirs.into_iter()
                .map(|(fd, name)| {
                    let rep = ctx.p2.push(Entry::Descriptor { fd, close: false });
                    Val::Tuple(vec![own::<res::Descriptor>(rep), Val::String(name)])
                })
                .collect(),
        )))
    })?;
    Ok(())
}
