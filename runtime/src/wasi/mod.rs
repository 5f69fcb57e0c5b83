//! WASI preview 1 (`wasi_snapshot_preview1`): every function of the
//! snapshot, registered with [`add_to_linker`]. Files are reachable only
//! beneath preopened directories (see `path.rs`).

mod args;
mod clocks;
pub(crate) mod ctx;
mod deterministic;
mod fd;
mod net_policy;
mod path;
mod perms;
mod pipes;
pub(crate) mod poll;
mod sock;
pub mod threads;
pub(crate) mod types;

pub use clocks::{HostMonotonicClock, HostWallClock};
pub use ctx::WasiCtx;
pub(crate) use net_policy::NetPolicy;
pub use net_policy::SocketAddrUse;
pub use perms::{DirPerms, FilePerms};
pub use pipes::{InputStream, MemoryInputPipe, MemoryOutputPipe, OutputStream};
pub use types::Errno;

use types::{GuestMemory, WasiResult};

use crate::error::{Error, Result};
use crate::func::Caller;
use crate::linker::Linker;
use crate::types::{FuncType, ValType};

/// The import module name.
pub const MODULE: &str = "wasi_snapshot_preview1";

/// Typed access to a host call's parameters (WASI passes only i32/i64).
struct Args<'a>(&'a [u128]);

impl Args<'_> {
    fn u32(&self, i: usize) -> u32 {
        self.0[i] as u32
    }
    fn u64(&self, i: usize) -> u64 {
        self.0[i] as u64
    }
    fn u16(&self, i: usize) -> u16 {
        self.u32(i) as u16
    }
    fn u8(&self, i: usize) -> u8 {
        self.u32(i) as u8
    }
}

/// Runs `f` with the calling instance's memory (empty if it exports none)
/// and the WASI context (a shared one's state, held while `f` runs).
fn with_ctx<T>(
    caller: &mut Caller<'_, T>,
    get: fn(&mut T) -> &mut WasiCtx,
    f: impl FnOnce(&mut WasiCtx, &mut GuestMemory<'_>) -> WasiResult<()>,
) -> i32 {
    with_own_ctx(caller, get, |ctx, mem| match ctx.shared.clone() {
        Some(state) => f(&mut ctx::lock(&state), mem),
        None => f(ctx, mem),
    })
}

/// [`with_ctx`], but `f` gets the store's own context, which may be a
/// handle on a shared one: for calls that hold the shared state only part
/// of the time.
fn with_own_ctx<T>(
    caller: &mut Caller<'_, T>,
    get: fn(&mut T) -> &mut WasiCtx,
    f: impl FnOnce(&mut WasiCtx, &mut GuestMemory<'_>) -> WasiResult<()>,
) -> i32 {
    let memory = caller.get_export("memory").and_then(|e| e.into_memory());
    let r = match memory {
        Some(m) => {
            let addr_mask = caller.memory_addr_mask(m);
            let (base, len, attest, data) = caller.memory_raw_attest_and_data(m);
            // SAFETY: the calling instance's memory, which stays where it
            // is while the call runs: the store is borrowed by the call,
            // so nothing of this thread grows (or moves) it, and a shared
            // memory, which other threads may grow, never moves or
            // shrinks; only Wasm, this call and other threads' Wasm write
            // it meanwhile.
            let mut mem = unsafe { GuestMemory::new(base, len, attest, addr_mask) };
            f(get(data), &mut mem)
        }
        None => f(get(caller.data_mut()), &mut GuestMemory::none()),
    };
    match r {
        Ok(()) => 0,
        Err(e) => i32::from(e.0),
    }
}

/// What a call that may wait for its descriptor does with it.
#[derive(Clone, Copy, PartialEq)]
enum Io {
    /// `fd_read`: reads.
    Read,
    /// `fd_write`: writes.
    Write,
    /// `sock_recv`: reads a socket.
    Recv,
    /// `sock_send`: writes a socket.
    Send,
    /// `sock_accept`: takes a listening socket's connection.
    Accept,
}

/// In an asynchronous call that may suspend, waits (suspending the call)
/// until guest descriptor `fd`'s host descriptor is ready for `io`, so
/// that the read or write that follows does not block the executor's
/// thread; true when it waited (the call then makes one system call that
/// cannot block, `WasiCtx::bounded_io`). Nothing for what never blocks
/// (files, directories), for non-blocking descriptors (the guest's or the
/// host's choice: the call answers `EAGAIN` at once), for what the call
/// refuses at once (a socket call on something else, an accept on a
/// socket that does not listen, a read or write of one that does), for a context
/// threads share, or where the call cannot suspend.
fn wait_ready<T>(
    caller: &mut Caller<'_, T>,
    get: fn(&mut T) -> &mut WasiCtx,
    fd: u32,
    io: Io,
) -> Result<bool> {
    let Some(acx) = caller.suspendable_fiber() else {
        return Ok(false);
    };
    let ctx = get(caller.data_mut());
    if ctx.shared.is_some() {
        return Ok(false);
    }
    let Ok(entry) = ctx.get(fd) else {
        return Ok(false);
    };
    // A stream in host memory, or the embedder's reader or writer, has
    // no descriptor to wait on.
    if entry.pipe.is_some() {
        return Ok(false);
    }
    let kind = entry.filetype();
    let socket = matches!(
        kind,
        types::filetype::SOCKET_STREAM | types::filetype::SOCKET_DGRAM
    );
    let listening = socket && sock::listens(entry.fd);
    // A listener is only accepted from: reads and writes of it fail at
    // once, as in a synchronous call.
    let waits = match io {
        Io::Read | Io::Write => {
            !listening
                && !matches!(
                    kind,
                    types::filetype::REGULAR_FILE | types::filetype::DIRECTORY
                )
        }
        Io::Recv | Io::Send => socket && !listening,
        Io::Accept => listening,
    };
    if !waits {
        return Ok(false);
    }
    // SAFETY: F_GETFL on the descriptor the entry holds; no pointers.
    let flags = unsafe { libc::fcntl(entry.fd, libc::F_GETFL) };
    if flags < 0 || flags & libc::O_NONBLOCK != 0 {
        return Ok(false);
    }
    // Opened the other way (a read of a pipe's write end): `EBADF` at
    // once, as in a synchronous call, not a wait for the other side to
    // close.
    let reads = matches!(io, Io::Read | Io::Recv | Io::Accept);
    let mode = flags & libc::O_ACCMODE;
    if (reads && mode == libc::O_WRONLY) || (!reads && mode == libc::O_RDONLY) {
        return Ok(false);
    }
    let events = match io {
        Io::Read | Io::Recv | Io::Accept => libc::POLLIN,
        Io::Write | Io::Send => libc::POLLOUT,
    };
    let mut ready = std::pin::pin!(crate::fd_ready::FdsReady::new(
        vec![(entry.fd, events)],
        None
    ));
    // Cancelled (the call's future dropped): the error unwinds the guest.
    // SAFETY: the fiber the store publishes, which this host call runs on;
    // the call's frames here are the runtime's.
    unsafe { crate::fiber::wait_in_host_call(acx, ready.as_mut()) }?;
    Ok(true)
}

/// Reads a guest string argument.
fn string(mem: &GuestMemory<'_>, ptr: u32, len: u32) -> WasiResult<String> {
    mem.string(ptr, len)
}

/// Defines every `wasi_snapshot_preview1` function in `linker`; `get`
/// finds the [`WasiCtx`] inside the store's data.
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut WasiCtx,
) -> Result<()> {
    add_functions(linker, get, false)
}

/// [`add_to_linker`] for Wasm run in asynchronous calls
/// ([`crate::Config::async_support`], [`crate::Func::call_async`]): what
/// would block the thread suspends the call instead, so the executor runs
/// other tasks meanwhile: a `poll_oneoff` (on clocks, until the deadline;
/// on descriptors, until one is ready or the deadline passes), and a read
/// or write of a pipe, terminal or socket in blocking mode (`fd_read`,
/// `fd_write`, `sock_recv`, `sock_send`, `sock_accept` wait until the
/// descriptor is ready, then do what they do; a file's never wait). Every
/// call still blocks the thread in a synchronous call, an attested store
/// (whose memory would be writable meanwhile) or a context wasi-threads
/// share.
pub fn add_to_linker_async<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut WasiCtx,
) -> Result<()> {
    add_functions(linker, get, true)
}

/// Defines the functions; `asynchronous`: `poll_oneoff`'s waits, and
/// reads and writes of descriptors that may block, suspend an
/// asynchronous call ([`add_to_linker_async`]).
fn add_functions<T: 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut WasiCtx,
    asynchronous: bool,
) -> Result<()> {
    use ValType::{I32, I64};

    // `wasi!(unlocked ...)`: a call that may block on a host descriptor,
    // given the store's own context, and so a shared context's state only
    // while it looks the descriptor up (`WasiCtx::unlocked_io`).
    macro_rules! wasi {
        (unlocked $name:literal, [$($p:ident),*], |$ctx:ident, $mem:ident, $a:ident| $body:expr) => {
            wasi!(@with with_own_ctx, None, $name, [$($p),*], |$ctx, $mem, $a| $body)
        };
        // A read or write of the descriptor its first argument names,
        // which in an asynchronous call waits for it to be ready first
        // (`wait_ready`).
        (waits $io:expr, $name:literal, [$($p:ident),*], |$ctx:ident, $mem:ident, $a:ident| $body:expr) => {
            wasi!(@with with_own_ctx, Some($io), $name, [$($p),*], |$ctx, $mem, $a| $body)
        };
        ($name:literal, [$($p:ident),*], |$ctx:ident, $mem:ident, $a:ident| $body:expr) => {
            wasi!(@with with_ctx, None, $name, [$($p),*], |$ctx, $mem, $a| $body)
        };
        (@with $with:ident, $wait:expr, $name:literal, [$($p:ident),*], |$ctx:ident, $mem:ident, $a:ident| $body:expr) => {
            linker.host_func(
                MODULE,
                $name,
                FuncType::new([$($p),*], [I32]),
                // Straight from the call stub's slots (the arguments'
                // raw forms: integers in their low bits), no `Val`s.
                std::sync::Arc::new(move |mut caller: Caller<'_, T>, slots: &mut [u128]| {
                    let wait: Option<Io> = $wait;
                    let waited = match wait {
                        Some(io) if asynchronous => {
                            wait_ready(&mut caller, get, Args(&*slots).u32(0), io)?
                        }
                        _ => false,
                    };
                    let errno = {
                        let $a = Args(&*slots);
                        $with(&mut caller, get, |$ctx, $mem| {
                            // Bounded only in the call that waited (and
                            // set every time: a call that panicked cannot
                            // leave it for another).
                            $ctx.bounded_io = waited;
                            let r = $body;
                            $ctx.bounded_io = false;
                            r
                        })
                    };
                    slots[0] = u128::from(errno as u32);
                    Ok(())
                }),
                true,
            )?;
        };
    }

    wasi!("args_get", [I32, I32], |c, m, a| c.args_get(
        m,
        a.u32(0),
        a.u32(1)
    ));
    wasi!("args_sizes_get", [I32, I32], |c, m, a| c.args_sizes_get(
        m,
        a.u32(0),
        a.u32(1)
    ));
    wasi!("environ_get", [I32, I32], |c, m, a| c.environ_get(
        m,
        a.u32(0),
        a.u32(1)
    ));
    wasi!("environ_sizes_get", [I32, I32], |c, m, a| c
        .environ_sizes_get(m, a.u32(0), a.u32(1)));
    wasi!("clock_res_get", [I32, I32], |c, m, a| c.clock_res_get(
        m,
        a.u32(0),
        a.u32(1)
    ));
    wasi!("clock_time_get", [I32, I64, I32], |c, m, a| c
        .clock_time_get(m, a.u32(0), a.u32(2)));
    wasi!("fd_advise", [I32, I64, I64, I32], |c, _m, a| c.fd_advise(
        a.u32(0),
        a.u64(1),
        a.u64(2),
        a.u8(3)
    ));
    wasi!("fd_allocate", [I32, I64, I64], |c, _m, a| c.fd_allocate(
        a.u32(0),
        a.u64(1),
        a.u64(2)
    ));
    wasi!("fd_close", [I32], |c, _m, a| c.fd_close(a.u32(0)));
    wasi!(unlocked "fd_datasync", [I32], |c, _m, a| c.fd_sync(a.u32(0), true));
    wasi!(unlocked "fd_sync", [I32], |c, _m, a| c.fd_sync(a.u32(0), false));
    wasi!("fd_fdstat_get", [I32, I32], |c, m, a| c.fd_fdstat_get(
        m,
        a.u32(0),
        a.u32(1)
    ));
    wasi!("fd_fdstat_set_flags", [I32, I32], |c, _m, a| c
        .fd_fdstat_set_flags(a.u32(0), a.u16(1)));
    wasi!("fd_fdstat_set_rights", [I32, I64, I64], |c, _m, a| c
        .fd_fdstat_set_rights(a.u32(0)));
    wasi!("fd_filestat_get", [I32, I32], |c, m, a| c.fd_filestat_get(
        m,
        a.u32(0),
        a.u32(1)
    ));
    wasi!("fd_filestat_set_size", [I32, I64], |c, _m, a| c
        .fd_filestat_set_size(a.u32(0), a.u64(1)));
    wasi!("fd_filestat_set_times", [I32, I64, I64, I32], |c, _m, a| {
        c.fd_filestat_set_times(a.u32(0), a.u64(1), a.u64(2), a.u16(3))
    });
    wasi!(unlocked "fd_pread", [I32, I32, I32, I64, I32], |c, m, a| {
        c.fd_read(m, a.u32(0), a.u32(1), a.u32(2), Some(a.u64(3)), a.u32(4))
    });
    wasi!(unlocked "fd_pwrite", [I32, I32, I32, I64, I32], |c, m, a| {
        c.fd_write(m, a.u32(0), a.u32(1), a.u32(2), Some(a.u64(3)), a.u32(4))
    });
    wasi!(waits Io::Read, "fd_read", [I32, I32, I32, I32], |c, m, a| c.fd_read(
        m,
        a.u32(0),
        a.u32(1),
        a.u32(2),
        None,
        a.u32(3)
    ));
    wasi!(waits Io::Write, "fd_write", [I32, I32, I32, I32], |c, m, a| c.fd_write(
        m,
        a.u32(0),
        a.u32(1),
        a.u32(2),
        None,
        a.u32(3)
    ));
    wasi!("fd_prestat_get", [I32, I32], |c, m, a| c.fd_prestat_get(
        m,
        a.u32(0),
        a.u32(1)
    ));
    wasi!("fd_prestat_dir_name", [I32, I32, I32], |c, m, a| c
        .fd_prestat_dir_name(m, a.u32(0), a.u32(1), a.u32(2)));
    wasi!("fd_readdir", [I32, I32, I32, I64, I32], |c, m, a| {
        c.fd_readdir(m, a.u32(0), a.u32(1), a.u32(2), a.u64(3), a.u32(4))
    });
    wasi!("fd_renumber", [I32, I32], |c, _m, a| c
        .fd_renumber(a.u32(0), a.u32(1)));
    wasi!("fd_seek", [I32, I64, I32, I32], |c, m, a| c.fd_seek(
        m,
        a.u32(0),
        a.u64(1) as i64,
        a.u8(2),
        a.u32(3)
    ));
    wasi!("fd_tell", [I32, I32], |c, m, a| c.fd_tell(
        m,
        a.u32(0),
        a.u32(1)
    ));
    wasi!("path_create_directory", [I32, I32, I32], |c, m, a| {
        let p = string(m, a.u32(1), a.u32(2))?;
        c.path_create_directory(a.u32(0), &p)
    });
    wasi!("path_filestat_get", [I32, I32, I32, I32, I32], |c, m, a| {
        let p = string(m, a.u32(2), a.u32(3))?;
        c.path_filestat_get(m, a.u32(0), a.u32(1), &p, a.u32(4))
    });
    wasi!(
        "path_filestat_set_times",
        [I32, I32, I32, I32, I64, I64, I32],
        |c, m, a| {
            let p = string(m, a.u32(2), a.u32(3))?;
            c.path_filestat_set_times(a.u32(0), a.u32(1), &p, a.u64(4), a.u64(5), a.u16(6))
        }
    );
    wasi!(
        "path_link",
        [I32, I32, I32, I32, I32, I32, I32],
        |c, m, a| {
            let old = string(m, a.u32(2), a.u32(3))?;
            let new = string(m, a.u32(5), a.u32(6))?;
            c.path_link(a.u32(0), a.u32(1), &old, a.u32(4), &new)
        }
    );
    wasi!(
        unlocked "path_open",
        [I32, I32, I32, I32, I32, I64, I64, I32, I32],
        |c, m, a| {
            let p = string(m, a.u32(2), a.u32(3))?;
            c.path_open(
                m,
                a.u32(0),
                a.u32(1),
                &p,
                a.u16(4),
                a.u64(5),
                a.u16(7),
                a.u32(8),
            )
        }
    );
    wasi!(
        "path_readlink",
        [I32, I32, I32, I32, I32, I32],
        |c, m, a| {
            let p = string(m, a.u32(1), a.u32(2))?;
            c.path_readlink(m, a.u32(0), &p, a.u32(3), a.u32(4), a.u32(5))
        }
    );
    wasi!("path_remove_directory", [I32, I32, I32], |c, m, a| {
        let p = string(m, a.u32(1), a.u32(2))?;
        c.path_remove_directory(a.u32(0), &p)
    });
    wasi!("path_rename", [I32, I32, I32, I32, I32, I32], |c, m, a| {
        let old = string(m, a.u32(1), a.u32(2))?;
        let new = string(m, a.u32(4), a.u32(5))?;
        c.path_rename(a.u32(0), &old, a.u32(3), &new)
    });
    wasi!("path_symlink", [I32, I32, I32, I32, I32], |c, m, a| {
        let target = string(m, a.u32(0), a.u32(1))?;
        let p = string(m, a.u32(3), a.u32(4))?;
        c.path_symlink(&target, a.u32(2), &p)
    });
    wasi!("path_unlink_file", [I32, I32, I32], |c, m, a| {
        let p = string(m, a.u32(1), a.u32(2))?;
        c.path_unlink_file(a.u32(0), &p)
    });
    // A shared context is not held while it sleeps.
    if asynchronous {
        linker.host_func(
            MODULE,
            "poll_oneoff",
            FuncType::new([I32, I32, I32, I32], [I32]),
            std::sync::Arc::new(move |mut caller: Caller<'_, T>, slots: &mut [u128]| {
                let a = Args(&*slots);
                let (subs, events, count, out) = (a.u32(0), a.u32(1), a.u32(2), a.u32(3));
                let errno = poll::poll_oneoff_async(&mut caller, get, subs, events, count, out)?;
                slots[0] = u128::from(errno as u32);
                Ok(())
            }),
            true,
        )?;
    } else {
        wasi!(unlocked "poll_oneoff", [I32, I32, I32, I32], |c, m, a| c
            .poll_oneoff(m, a.u32(0), a.u32(1), a.u32(2), a.u32(3)));
    }
    wasi!("proc_raise", [I32], |_c, _m, _a| Err(Errno::NOSYS));
    wasi!("sched_yield", [], |_c, _m, _a| {
        // SAFETY: no preconditions.
        unsafe { libc::sched_yield() };
        Ok(())
    });
    // Unlocked: an embedder's source is drawn from holding no shared
    // context (the seeded generator, which lives in it, under it).
    wasi!(unlocked "random_get", [I32, I32], |c, m, a| c.random_get(
        m,
        a.u32(0),
        a.u32(1)
    ));
    // Flags whole: bits past their width are invalid, not dropped.
    wasi!(waits Io::Accept, "sock_accept", [I32, I32, I32], |c, m, a| c
        .sock_accept(m, a.u32(0), a.u32(1), a.u32(2)));
    wasi!(waits Io::Recv, "sock_recv", [I32, I32, I32, I32, I32, I32], |c, m, a| c
        .sock_recv(m, a.u32(0), a.u32(1), a.u32(2), a.u32(3), a.u32(4), a.u32(5)));
    wasi!(waits Io::Send, "sock_send", [I32, I32, I32, I32, I32], |c, m, a| c
        .sock_send(m, a.u32(0), a.u32(1), a.u32(2), a.u32(3), a.u32(4)));
    wasi!("sock_shutdown", [I32, I32], |c, _m, a| c
        .sock_shutdown(a.u32(0), a.u32(1)));
    linker.func_new(
        MODULE,
        "proc_exit",
        FuncType::new([I32], []),
        |_, params, _| Err(Error::Exit(params[0].i32().unwrap_or_default())),
    )?;
    Ok(())
}
