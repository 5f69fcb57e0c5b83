//! `wasi:io`: errors, pollables and streams.

use super::host_memory::{iovec, Scratch, DATA};
use super::table::{Entry, Wait, WritePos};
use super::vals::{arg, err, ok, ok_unit, own, rep, u64_of};
use super::{def, def_bytes, def_waiting, iface, res, resource, BytesShape, GetCtx, HostOut};
use crate::component::{Linker, Val};
use crate::wasi::{Errno, WasiCtx};
use crate::{Error, Result};

/// Most bytes one read gives (a guest asking for more gets less).
const READ_MAX: u64 = 1 << 20;
/// What `check-write` permits at once.
const WRITE_PERMIT: u64 = 1 << 20;
/// What `check-write` permits on a socket's stream, less what waits
/// unsent there: the most the host holds for one stream (wasmtime's
/// figure).
const SOCKET_PERMIT: usize = 64 << 10;

fn not_a(what: &str, rep: u32) -> Error {
    Error::Usage(format!("WASI: handle {rep} is not {what}"))
}

/// `stream-error::closed`.
fn closed() -> Val {
    err(Val::Variant("closed".into(), None))
}

/// `stream-error::last-operation-failed` with an error resource.
fn failed(ctx: &mut WasiCtx, what: &str, e: Errno) -> Val {
    let code = super::vals::error_code(e);
    let rep = ctx
        .p2
        .push(Entry::Error(format!("{what}: {code}"), Some(e)));
    // A read of an HTTP body that was cut short: `http-error-code` says why.
    if let Some(http) = ctx.p2.http_failure.take() {
        ctx.p2.http_errors.insert(rep, http);
    }
    err(Val::Variant(
        "last-operation-failed".into(),
        Some(Box::new(own::<res::IoError>(rep))),
    ))
}

/// Reads at most `len` bytes of the input stream `rep`: `None` at its end.
fn read_bytes(
    ctx: &mut WasiCtx,
    rep: u32,
    len: u64,
    blocking: bool,
) -> Result<std::result::Result<Option<Vec<u8>>, Errno>> {
    let (fd, offset) = match ctx.p2.get(rep) {
        Some(Entry::Input { fd, offset }) => (*fd, *offset),
        _ => return Err(not_a("an input stream", rep)),
    };
    let len = len.min(READ_MAX) as usize;
    if len == 0 {
        return Ok(Ok(Some(Vec::new())));
    }
    // A read that must not block gives nothing when nothing is there yet
    // (a pipe or terminal with no input waiting; a file is always ready).
    if !blocking && offset.is_none() {
        match poll(ctx, &[Wait::Read(fd)], true) {
            Ok(ready) if ready.is_empty() => return Ok(Ok(Some(Vec::new()))),
            Ok(_) => {}
            Err(e) => return Ok(Err(e)),
        }
    }
    let mut s = iovec(len);
    loop {
        match s.call(|mem| ctx.fd_read(mem, fd, 0, 1, offset, 8)) {
            Ok(()) => break,
            Err(e) if e == Errno::AGAIN && blocking => {
                if let Err(e) = poll(ctx, &[Wait::Read(fd)], false) {
                    return Ok(Err(e));
                }
            }
            Err(e) if e == Errno::AGAIN => return Ok(Ok(Some(Vec::new()))),
            Err(e) => return Ok(Err(e)),
        }
    }
    let n = s.u32(8) as usize;
    if n == 0 {
        // An HTTP body cut short ends in an error, not as if whole.
        if ctx.p2.body_failed(fd) {
            return Ok(Err(Errno::IO));
        }
        return Ok(Ok(None));
    }
    if let Some(Entry::Input {
        offset: Some(o), ..
    }) = ctx.p2.get_mut(rep)
    {
        *o += n as u64;
    }
    Ok(Ok(Some(s.bytes[DATA..DATA + n].to_vec())))
}

/// One write of `data`'s start to the output stream `rep`: the bytes it
/// took (0 where the descriptor would block). Under the context's
/// `bounded_io` (an asynchronous call that waited for room), one system
/// call that cannot block.
fn write_once(
    ctx: &mut WasiCtx,
    rep: u32,
    data: &[u8],
) -> Result<std::result::Result<usize, Errno>> {
    let (fd, pos) = match ctx.p2.get(rep) {
        Some(Entry::Output { fd, pos }) => (*fd, *pos),
        _ => return Err(not_a("an output stream", rep)),
    };
    let at = match pos {
        WritePos::Current | WritePos::Socket => None,
        WritePos::At(o) => Some(o),
        WritePos::Append => {
            let mut st = Scratch::new(64);
            match st.call(|mem| ctx.fd_filestat_get(mem, fd, 0)) {
                Ok(()) => Some(st.u64(32)),
                Err(e) => return Ok(Err(e)),
            }
        }
    };
    let mut s = iovec(data.len());
    s.bytes[DATA..].copy_from_slice(data);
    match s.call(|mem| ctx.fd_write(mem, fd, 0, 1, at, 8)) {
        Ok(()) => {}
        Err(e) if e == Errno::AGAIN => return Ok(Ok(0)),
        Err(e) => return Ok(Err(e)),
    }
    let n = s.u32(8) as usize;
    if n == 0 && !data.is_empty() {
        return Ok(Err(Errno::IO));
    }
    if let Some(Entry::Output {
        pos: WritePos::At(o),
        ..
    }) = ctx.p2.get_mut(rep)
    {
        *o += n as u64;
    }
    // An HTTP body's length, for its `content-length` at `finish`.
    if let Some(written) = ctx.p2.http_out.get_mut(&fd) {
        *written += n as u64;
    }
    Ok(Ok(n))
}

/// Whether output stream `rep` writes to a connection's socket.
fn is_socket(ctx: &WasiCtx, rep: u32) -> bool {
    matches!(
        ctx.p2.get(rep),
        Some(Entry::Output {
            pos: WritePos::Socket,
            ..
        })
    )
}

/// Sends what the socket output stream `rep` holds unsent, as far as the
/// socket takes it now: `true` when nothing is left.
fn drain(ctx: &mut WasiCtx, rep: u32) -> Result<std::result::Result<bool, Errno>> {
    let Some(mut unsent) = ctx.p2.unsent.remove(&rep) else {
        return Ok(Ok(true));
    };
    let mut done = 0;
    let r = loop {
        if done == unsent.len() {
            break Ok(true);
        }
        match write_once(ctx, rep, &unsent[done..])? {
            Ok(0) => break Ok(false),
            Ok(n) => done += n,
            Err(e) => break Err(e),
        }
    };
    unsent.drain(..done);
    if r == Ok(false) {
        ctx.p2.unsent.insert(rep, unsent);
    }
    Ok(r)
}

/// Sends what waits unsent on the socket stream `rep`, blocking the
/// thread while the socket is full.
fn drain_all(ctx: &mut WasiCtx, rep: u32) -> Result<std::result::Result<(), Errno>> {
    match ctx.p2.unsent.remove(&rep) {
        Some(unsent) => write_bytes(ctx, rep, &unsent),
        None => Ok(Ok(())),
    }
}

/// Sends what waits unsent on the socket stream `rep`, which the guest
/// dropped: an HTTP body's from a task (its reader may need the very
/// thread a blocking send would hold), any other socket's blocking the
/// thread, as wasmtime's drop waits for its pending write.
pub(super) fn drain_on_drop(ctx: &mut WasiCtx, rep: u32) -> Result<()> {
    match ctx.p2.get(rep) {
        Some(Entry::Output { fd, .. }) if ctx.p2.http_out.contains_key(fd) => {
            let fd = *fd;
            super::http::drain_later(ctx, rep, fd)
        }
        _ => drain_all(ctx, rep).map(|_| ()),
    }
}

/// Bytes waiting unsent on the socket stream `rep`.
fn waiting(ctx: &WasiCtx, rep: u32) -> usize {
    ctx.p2.unsent.get(&rep).map_or(0, Vec::len)
}

/// A socket stream's write, which never blocks, as WASI says: `data`
/// goes after what waits unsent, and what the socket does not take now
/// waits (for `check-write`, a flush, the next write or the stream's
/// drop). More than `check-write` permits ([`SOCKET_PERMIT`] less what
/// waits) is a trap, as WASI says, so what waits stays bounded.
fn socket_write(
    ctx: &mut WasiCtx,
    rep: u32,
    data: &[u8],
) -> Result<std::result::Result<(), Errno>> {
    let room = SOCKET_PERMIT.saturating_sub(waiting(ctx, rep));
    if data.len() > room {
        return Err(Error::msg(format!(
            "WASI: a write of {} bytes to a socket's stream where check-write permitted {room}",
            data.len(),
        )));
    }
    if !data.is_empty() {
        ctx.p2
            .unsent
            .entry(rep)
            .or_default()
            .extend_from_slice(data);
    }
    Ok(drain(ctx, rep)?.map(|_| ()))
}

/// Sends, blocking the thread, what waits unsent on every socket stream
/// writing to the context's descriptor `fd` (before its socket shuts
/// down for writing, which would lose it).
pub(super) fn flush_socket(ctx: &mut WasiCtx, fd: u32) -> Result<std::result::Result<(), Errno>> {
    for rep in ctx.p2.outputs_of(fd) {
        if let Err(e) = drain_all(ctx, rep)? {
            return Ok(Err(e));
        }
    }
    Ok(Ok(()))
}

/// A write of the non-blocking calls (`write`, `write-zeroes`, `splice`):
/// a socket's never blocks ([`socket_write`]); another stream's is written
/// whole ([`write_bytes`]: files and pipes take what they are given).
fn write_now(ctx: &mut WasiCtx, rep: u32, data: &[u8]) -> Result<std::result::Result<(), Errno>> {
    if past_length(ctx, rep, data.len()) {
        return Ok(Err(Errno::IO));
    }
    if is_socket(ctx, rep) {
        return socket_write(ctx, rep, data);
    }
    write_bytes(ctx, rep, data)
}

/// Whether `len` more bytes on stream `rep` would take an HTTP body past
/// its `content-length`: then the write fails, as WASI says, and
/// `http-error-code` of its error says the size it would have had.
fn past_length(ctx: &mut WasiCtx, rep: u32, len: usize) -> bool {
    let Some(Entry::Output { fd, .. }) = ctx.p2.get(rep) else {
        return false;
    };
    let fd = *fd;
    let Some(&(limit, request)) = ctx.p2.http_limit.get(&fd) else {
        return false;
    };
    let written = ctx.p2.http_out.get(&fd).copied().unwrap_or(0);
    let total = written + waiting(ctx, rep) as u64 + len as u64;
    if total <= limit {
        return false;
    }
    ctx.p2.http_failure = Some(super::http::body_size(request, total));
    true
}

/// Writes all of `data` to the output stream `rep`, blocking the thread
/// where the descriptor is full.
fn write_bytes(ctx: &mut WasiCtx, rep: u32, data: &[u8]) -> Result<std::result::Result<(), Errno>> {
    let mut done = 0;
    while done < data.len() {
        match write_once(ctx, rep, &data[done..])? {
            Ok(0) => {
                let fd = match ctx.p2.get(rep) {
                    Some(Entry::Output { fd, .. }) => *fd,
                    _ => return Err(not_a("an output stream", rep)),
                };
                if let Err(e) = poll(ctx, &[Wait::Write(fd)], false) {
                    return Ok(Err(e));
                }
            }
            Ok(n) => done += n,
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(()))
}

/// [`write_bytes`] from a host call: in an asynchronous call that may
/// suspend, each write waits (suspending the call) for room and then
/// takes what fits without blocking, so a large write never blocks the
/// executor's thread.
fn write_all<T>(
    caller: &mut crate::Caller<'_, T>,
    get: GetCtx<T>,
    rep: u32,
    data: &[u8],
) -> Result<std::result::Result<(), Errno>> {
    if get(caller.data_mut()).with_state(|c| past_length(c, rep, data.len())) {
        return Ok(Err(Errno::IO));
    }
    // A socket's bytes waiting unsent go first.
    let unsent = get(caller.data_mut()).with_state(|c| c.p2.unsent.remove(&rep));
    let joined;
    let data = match unsent {
        Some(mut waiting) => {
            waiting.extend_from_slice(data);
            joined = waiting;
            &joined[..]
        }
        None => data,
    };
    if caller.suspendable_fiber().is_none() || get(caller.data_mut()).shared.is_some() {
        return get(caller.data_mut()).with_state(|ctx| write_bytes(ctx, rep, data));
    }
    let fd = match get(caller.data_mut()).p2.get(rep) {
        Some(Entry::Output { fd, .. }) => *fd,
        _ => return Err(not_a("an output stream", rep)),
    };
    // A write that cannot block is tried first: the call suspends only
    // when the descriptor takes nothing (a suspension is two fiber
    // switches and a trip through the executor, for every 4 KiB a guest
    // writes to a socket with room).
    let mut done = 0;
    let mut full = false;
    while done < data.len() {
        if full {
            if let Err(e) = wait(caller, get, &[Wait::Write(fd)])? {
                return Ok(Err(e));
            }
        }
        let ctx = get(caller.data_mut());
        ctx.bounded_io = true;
        let r = write_once(ctx, rep, &data[done..]);
        ctx.bounded_io = false;
        match r? {
            Ok(n) => {
                done += n;
                full = n == 0;
            }
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(()))
}

/// Preview 1 subscriptions for `waits` (and, where `now_only`, a clock
/// that fires at once), in a buffer laid out for `poll_oneoff`: the
/// subscriptions, then room for the events and their count.
struct Subscriptions {
    s: Scratch,
    n: usize,
    events: usize,
    count: usize,
}

const SUB: usize = 48;
const EVENT: usize = 32;

impl Subscriptions {
    fn new(waits: &[Wait], now_only: bool) -> Subscriptions {
        let n = waits.len() + now_only as usize;
        let events = n * SUB;
        let count = events + n * EVENT;
        let mut s = Scratch::new(count + 4);
        let clock = |s: &mut Scratch, at: usize, id: u32, timeout: u64, abstime: bool| {
            s.bytes[at + 8] = 0;
            s.put_u32(at + 16, id);
            s.put_u64(at + 24, timeout);
            s.bytes[at + 40] = abstime as u8;
        };
        for (i, w) in waits.iter().enumerate() {
            let at = i * SUB;
            s.put_u64(at, i as u64);
            match *w {
                Wait::Until(t) => clock(&mut s, at, 1, t, true),
                // Resolved by `wait_of` before it comes here: ready.
                Wait::Tcp(_) => clock(&mut s, at, 1, 0, true),
                Wait::Read(fd) | Wait::Write(fd) => {
                    s.bytes[at + 8] = if matches!(w, Wait::Read(_)) { 1 } else { 2 };
                    s.put_u32(at + 16, fd);
                }
            }
        }
        if now_only {
            let at = waits.len() * SUB;
            s.put_u64(at, u64::MAX);
            clock(&mut s, at, 1, 0, false);
        }
        Subscriptions {
            s,
            n,
            events,
            count,
        }
    }

    /// The indices of the waits the events report ready.
    fn ready(&self) -> Vec<u32> {
        let fired = self.s.u32(self.count) as usize;
        let mut ready: Vec<u32> = (0..fired)
            .map(|i| self.s.u64(self.events + i * EVENT))
            .filter(|&u| u != u64::MAX)
            .map(|u| u as u32)
            .collect();
        ready.sort_unstable();
        ready.dedup();
        ready
    }
}

/// Whether `wait` is ready now (a failed poll: not ready).
pub(super) fn ready_now(ctx: &mut WasiCtx, wait: Wait) -> bool {
    matches!(poll(ctx, &[wait], true), Ok(r) if !r.is_empty())
}

/// Waits until some of `waits` are ready (not at all where `now_only`),
/// blocking the thread: their indices. Preview 1's `poll_oneoff` does the
/// waiting.
pub(super) fn poll(
    ctx: &mut WasiCtx,
    waits: &[Wait],
    now_only: bool,
) -> std::result::Result<Vec<u32>, Errno> {
    let mut subs = Subscriptions::new(waits, now_only);
    let (n, events, count) = (subs.n, subs.events, subs.count);
    subs.s
        .call(|mem| ctx.poll_oneoff(mem, 0, events as u32, n as u32, count as u32))?;
    Ok(subs.ready())
}

/// [`poll`] from a host call: in an asynchronous call that may suspend,
/// the call suspends while it waits (preview 1's asynchronous
/// `poll_oneoff`'s wait); elsewhere the thread blocks.
pub(super) fn wait<T>(
    caller: &mut crate::Caller<'_, T>,
    get: GetCtx<T>,
    waits: &[Wait],
) -> Result<std::result::Result<Vec<u32>, Errno>> {
    let acx = caller.suspendable_fiber();
    let ctx = get(caller.data_mut());
    let acx = match acx {
        Some(acx) if ctx.shared.is_none() => acx,
        // Preview 1's `poll_oneoff` holds a shared context only to plan
        // and to report, not while it waits.
        _ => return Ok(poll(ctx, waits, false)),
    };
    let mut subs = Subscriptions::new(waits, false);
    let (n, events, count) = (subs.n, subs.events, subs.count);
    let mut plan = match subs.s.call(|mem| Ok(ctx.poll_plan(mem, 0, n as u32))) {
        Ok(Ok(plan)) => plan,
        Ok(Err(e)) | Err(e) => return Ok(Err(e)),
    };
    if let Err(e) = crate::wasi::poll::wait_plan(acx, &mut plan)? {
        return Ok(Err(e));
    }
    let ctx = get(caller.data_mut());
    if let Err(e) = subs
        .s
        .call(|mem| ctx.poll_report(mem, plan, events as u32, n as u32, count as u32))
    {
        return Ok(Err(e));
    }
    Ok(Ok(subs.ready()))
}

/// Before a blocking read of input stream `rep` in an asynchronous call
/// that may suspend: the call suspends until the stream's descriptor has
/// bytes, so that the read does not block the executor's thread. `Some`:
/// the value the operation gives instead (a failed wait). Nothing for a
/// non-blocking read, or where the call cannot suspend (the read blocks
/// the thread).
fn wait_to_read<T>(
    caller: &mut crate::Caller<'_, T>,
    get: GetCtx<T>,
    blocking: bool,
    rep: u32,
    what: &str,
) -> Result<Option<Val>> {
    if !blocking || caller.suspendable_fiber().is_none() {
        return Ok(None);
    }
    let w = get(caller.data_mut()).with_state(|c| match c.p2.get(rep) {
        Some(Entry::Input { fd, .. }) => Ok(Wait::Read(*fd)),
        _ => Err(not_a("an input stream", rep)),
    })?;
    // Bytes there already: read at once, without suspending.
    let now = get(caller.data_mut()).with_state(|c| poll(c, &[w], true));
    if now.is_ok_and(|ready| !ready.is_empty()) {
        return Ok(None);
    }
    match wait(caller, get, &[w])? {
        Ok(_) => Ok(None),
        Err(e) => Ok(Some(
            get(caller.data_mut()).with_state(|c| failed(c, what, e)),
        )),
    }
}

fn wait_of(ctx: &WasiCtx, rep: u32) -> Result<Wait> {
    match ctx.p2.get(rep) {
        Some(Entry::Pollable(Wait::Tcp(socket))) => Ok(super::sockets::tcp_wait(ctx, *socket)),
        Some(Entry::Pollable(w)) => Ok(*w),
        _ => Err(not_a("a pollable", rep)),
    }
}

fn poll_failed(e: Errno) -> Error {
    Error::msg(format!("WASI poll failed: errno {}", e.0))
}

pub(super) fn add<T: 'static>(linker: &mut Linker<T>, get: GetCtx<T>) -> Result<()> {
    let mut error = iface(linker, "wasi:io/error")?;
    resource::<T, res::IoError>(&mut error, "error", get)?;
    def(
        &mut error,
        "[method]error.to-debug-string",
        get,
        |ctx, p| {
            let rep = rep(arg(p, 0)?)?;
            match ctx.p2.get(rep) {
                Some(Entry::Error(msg, _)) => Ok(Some(Val::String(msg.clone()))),
                _ => Err(not_a("an error", rep)),
            }
        },
    )?;

    let mut poll_if = iface(linker, "wasi:io/poll")?;
    resource::<T, res::Pollable>(&mut poll_if, "pollable", get)?;
    def(&mut poll_if, "[method]pollable.ready", get, |ctx, p| {
        let wait = wait_of(ctx, rep(arg(p, 0)?)?)?;
        let ready = poll(ctx, &[wait], true).map_err(poll_failed)?;
        Ok(Some(Val::Bool(!ready.is_empty())))
    })?;
    def_waiting(
        &mut poll_if,
        "[method]pollable.block",
        get,
        |caller, get, p| {
            let r = rep(arg(p, 0)?)?;
            let w = get(caller.data_mut()).with_state(|c| wait_of(c, r))?;
            wait(caller, get, &[w])?.map_err(poll_failed)?;
            Ok(None)
        },
    )?;
    def_waiting(&mut poll_if, "poll", get, |caller, get, p| {
        let Val::List(handles) = arg(p, 0)? else {
            return Err(Error::Usage("poll: a list expected".into()));
        };
        if handles.is_empty() {
            return Err(Error::msg(
                "WASI poll of an empty list (it would wait forever)",
            ));
        }
        let waits = get(caller.data_mut()).with_state(|c| {
            handles
                .iter()
                .map(|h| wait_of(c, rep(h)?))
                .collect::<Result<Vec<_>>>()
        })?;
        let ready = wait(caller, get, &waits)?.map_err(poll_failed)?;
        Ok(Some(Val::List(ready.into_iter().map(Val::U32).collect())))
    })?;

    let mut streams = iface(linker, "wasi:io/streams")?;
    resource::<T, res::InputStream>(&mut streams, "input-stream", get)?;
    resource::<T, res::OutputStream>(&mut streams, "output-stream", get)?;
    for blocking in [false, true] {
        let prefix = if blocking { "blocking-" } else { "" };
        def_bytes(
            &mut streams,
            &format!("[method]input-stream.{prefix}read"),
            get,
            move |caller, get, p, _| {
                let (r, len) = (rep(arg(p, 0)?)?, u64_of(arg(p, 1)?)?);
                if let Some(v) = wait_to_read(caller, get, blocking, r, "read")? {
                    return Ok(HostOut::Val(Some(v)));
                }
                get(caller.data_mut()).with_state(|ctx| {
                    Ok(match read_bytes(ctx, r, len, blocking)? {
                        Ok(Some(b)) => HostOut::Bytes(b, BytesShape::Ok),
                        Ok(None) => HostOut::Val(Some(closed())),
                        Err(e) => HostOut::Val(Some(failed(ctx, "read", e))),
                    })
                })
            },
        )?;
        def_waiting(
            &mut streams,
            &format!("[method]input-stream.{prefix}skip"),
            get,
            move |caller, get, p| {
                let (r, len) = (rep(arg(p, 0)?)?, u64_of(arg(p, 1)?)?);
                if let Some(v) = wait_to_read(caller, get, blocking, r, "skip")? {
                    return Ok(Some(v));
                }
                get(caller.data_mut()).with_state(|ctx| {
                    Ok(Some(match read_bytes(ctx, r, len, blocking)? {
                        Ok(Some(b)) => ok(Val::U64(b.len() as u64)),
                        Ok(None) => closed(),
                        Err(e) => failed(ctx, "skip", e),
                    }))
                })
            },
        )?;
        let write = if blocking {
            "blocking-write-and-flush"
        } else {
            "write"
        };
        def_bytes(
            &mut streams,
            &format!("[method]output-stream.{write}"),
            get,
            move |caller, get, p, data| {
                let r = rep(arg(p, 0)?)?;
                let data = data.ok_or_else(|| Error::Usage("a write without its bytes".into()))?;
                let written = if blocking {
                    write_all(caller, get, r, &data)?
                } else {
                    get(caller.data_mut()).with_state(|ctx| write_now(ctx, r, &data))?
                };
                get(caller.data_mut()).with_state(|ctx| {
                    Ok(HostOut::Val(Some(match written {
                        Ok(()) => ok_unit(),
                        Err(e) if e == Errno::PIPE => closed(),
                        Err(e) => failed(ctx, "write", e),
                    })))
                })
            },
        )?;
        let zeroes = if blocking {
            "blocking-write-zeroes-and-flush"
        } else {
            "write-zeroes"
        };
        def_waiting(
            &mut streams,
            &format!("[method]output-stream.{zeroes}"),
            get,
            move |caller, get, p| {
                let len = u64_of(arg(p, 1)?)?.min(WRITE_PERMIT) as usize;
                let r = rep(arg(p, 0)?)?;
                let zeroes = vec![0; len];
                // Blocking: what waits goes first, and the call suspends
                // (or the thread blocks) until all is written.
                let written = if blocking {
                    write_all(caller, get, r, &zeroes)?
                } else {
                    get(caller.data_mut()).with_state(|ctx| write_now(ctx, r, &zeroes))?
                };
                get(caller.data_mut()).with_state(|ctx| {
                    Ok(Some(match written {
                        Ok(()) => ok_unit(),
                        Err(e) if e == Errno::PIPE => closed(),
                        Err(e) => failed(ctx, "write", e),
                    }))
                })
            },
        )?;
        // Writes go straight to the descriptor: only a socket's may wait
        // to be flushed.
        def_waiting(
            &mut streams,
            &format!("[method]output-stream.{prefix}flush"),
            get,
            move |caller, get, p| {
                let rep = rep(arg(p, 0)?)?;
                get(caller.data_mut()).with_state(|ctx| match ctx.p2.get(rep) {
                    Some(Entry::Output { .. }) => Ok(()),
                    _ => Err(not_a("an output stream", rep)),
                })?;
                let flushed = if blocking {
                    write_all(caller, get, rep, &[])?
                } else {
                    get(caller.data_mut())
                        .with_state(|ctx| drain(ctx, rep))?
                        .map(|_| ())
                };
                get(caller.data_mut()).with_state(|ctx| {
                    Ok(Some(match flushed {
                        Ok(()) => ok_unit(),
                        Err(e) if e == Errno::PIPE => closed(),
                        Err(e) => failed(ctx, "flush", e),
                    }))
                })
            },
        )?;
        def_waiting(
            &mut streams,
            &format!("[method]output-stream.{prefix}splice"),
            get,
            move |caller, get, p| {
                let (to, from) = (rep(arg(p, 0)?)?, rep(arg(p, 1)?)?);
                let mut len = u64_of(arg(p, 2)?)?;
                // A socket that cannot take bytes now takes none: nothing
                // is read.
                if !blocking {
                    let room = get(caller.data_mut()).with_state(|ctx| {
                        if is_socket(ctx, to) {
                            drain(ctx, to)
                        } else {
                            Ok(Ok(true))
                        }
                    })?;
                    match room {
                        // A socket takes what it permits (more would be a
                        // write past `check-write`, a trap), as wasmtime
                        // reads no more than that.
                        Ok(true) => {
                            let permit = get(caller.data_mut()).with_state(|ctx| {
                                is_socket(ctx, to)
                                    .then(|| SOCKET_PERMIT.saturating_sub(waiting(ctx, to)) as u64)
                            });
                            if let Some(permit) = permit {
                                len = len.min(permit);
                            }
                        }
                        // What it may take is within what waits: nothing
                        // more now.
                        Ok(false) => return Ok(Some(ok(Val::U64(0)))),
                        Err(e) => {
                            return Ok(Some(
                                get(caller.data_mut()).with_state(|c| failed(c, "splice", e)),
                            ))
                        }
                    }
                }
                if let Some(v) = wait_to_read(caller, get, blocking, from, "splice")? {
                    return Ok(Some(v));
                }
                let read = get(caller.data_mut())
                    .with_state(|ctx| read_bytes(ctx, from, len, blocking))?;
                let b = match read {
                    Ok(Some(b)) => b,
                    Ok(None) => return Ok(Some(closed())),
                    Err(e) => {
                        return Ok(Some(
                            get(caller.data_mut()).with_state(|c| failed(c, "splice", e)),
                        ))
                    }
                };
                let written = if blocking {
                    write_all(caller, get, to, &b)?
                } else {
                    get(caller.data_mut()).with_state(|ctx| write_now(ctx, to, &b))?
                };
                Ok(Some(match written {
                    Ok(()) => ok(Val::U64(b.len() as u64)),
                    Err(e) => get(caller.data_mut()).with_state(|c| failed(c, "splice", e)),
                }))
            },
        )?;
    }
    def(
        &mut streams,
        "[method]output-stream.check-write",
        get,
        |ctx, p| {
            let rep = rep(arg(p, 0)?)?;
            match ctx.p2.get(rep) {
                Some(Entry::Output { .. }) => {}
                _ => return Err(not_a("an output stream", rep)),
            }
            // A socket permits what the host holds for it less what
            // waits unsent.
            Ok(Some(match drain(ctx, rep)? {
                Ok(_) if is_socket(ctx, rep) => ok(Val::U64(
                    SOCKET_PERMIT.saturating_sub(waiting(ctx, rep)) as u64,
                )),
                Ok(_) => ok(Val::U64(WRITE_PERMIT)),
                Err(e) if e == Errno::PIPE => closed(),
                Err(e) => failed(ctx, "write", e),
            }))
        },
    )?;
    for (kind, is_input) in [("input-stream", true), ("output-stream", false)] {
        def(
            &mut streams,
            &format!("[method]{kind}.subscribe"),
            get,
            move |ctx, p| {
                let rep = rep(arg(p, 0)?)?;
                let wait = match (ctx.p2.get(rep), is_input) {
                    (Some(Entry::Input { fd, .. }), true) => Wait::Read(*fd),
                    (Some(Entry::Output { fd, .. }), false) => Wait::Write(*fd),
                    _ => {
                        return Err(not_a(
                            if is_input {
                                "an input stream"
                            } else {
                                "an output stream"
                            },
                            rep,
                        ))
                    }
                };
                Ok(Some(own::<res::Pollable>(
                    ctx.p2.push(Entry::Pollable(wait)),
                )))
            },
        )?;
    }
    Ok(())
}
