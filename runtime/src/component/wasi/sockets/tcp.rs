//! `wasi:sockets/tcp` and `tcp-create-socket`: TCP sockets through
//! WASI's states (bind and listen in two steps, connect without
//! blocking), their connections' streams `wasi:io`'s input and output
//! streams of the socket's descriptor.

use std::time::Duration;

use super::super::table::{Entry, TcpState, Wait, WritePos};
use super::super::vals::{arg, ok, ok_unit, own, rep, u64_of};
use super::super::{def, iface, res, resource, GetCtx};
use super::{
    check_network, denied, errno, fail, fail_io, invalid_addr, io_result, io_unit, new_socket,
    socket_addr_of, socket_addr_val, std_addr, unspecified, with_sock, Family,
};
use crate::component::{Linker, Val};
use crate::wasi::{SocketAddrUse, WasiCtx};
use crate::{Error, Result};

/// The backlog of a listen the guest did not size.
const DEFAULT_BACKLOG: u32 = 128;

/// The socket `rep`'s descriptor, family and state.
fn socket(ctx: &WasiCtx, rep: u32) -> Result<(u32, Family, TcpState)> {
    match ctx.p2.get(rep) {
        Some(Entry::Tcp {
            fd, family, state, ..
        }) => Ok((*fd, *family, *state)),
        _ => Err(Error::Usage(format!(
            "WASI: handle {rep} is not a TCP socket"
        ))),
    }
}

fn set_state(ctx: &mut WasiCtx, rep: u32, to: TcpState) {
    if let Some(Entry::Tcp { state, .. }) = ctx.p2.get_mut(rep) {
        *state = to;
    }
}

/// A connected socket's input and output streams.
fn streams(ctx: &mut WasiCtx, fd: u32) -> (Val, Val) {
    let input = ctx.p2.push(Entry::Input { fd, offset: None });
    let output = ctx.p2.push(Entry::Output {
        fd,
        pos: WritePos::Socket,
    });
    (
        own::<res::InputStream>(input),
        own::<res::OutputStream>(output),
    )
}

/// A duration in nanoseconds as whole seconds for the host's keep-alive
/// (at least one, at most the 32,767 Linux takes: WASI says any value
/// but zero is taken, rounded as the host must): `None` for zero.
fn seconds(ns: u64) -> Option<Duration> {
    (ns != 0).then(|| Duration::from_secs(ns.div_ceil(1_000_000_000).clamp(1, i16::MAX as u64)))
}

/// `concurrency-conflict` for a call while another operation is in
/// progress, `invalid-state` for one the state does not allow.
fn wrong_state(state: TcpState) -> Val {
    match state {
        TcpState::BindStarted | TcpState::ListenStarted | TcpState::Connecting => {
            fail("concurrency-conflict")
        }
        _ => fail("invalid-state"),
    }
}

/// Sets the `IPPROTO_TCP` option `name` (a keep-alive parameter) without
/// turning keep-alive on: WASI keeps the two apart.
fn set_tcp_int(s: socket2::SockRef<'_>, name: libc::c_int, value: i32) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: setsockopt reads an `int` from `value`, whose size is given.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::IPPROTO_TCP,
            name,
            (&value as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// A buffer size for the host: `None` for zero.
fn buffer_size(v: u64) -> Option<usize> {
    (v != 0).then(|| v.min(i32::MAX as u64) as usize)
}

/// Defines the getter and setter of a socket option: `get` reads it from
/// the host socket; `set` writes it (`None`: an invalid value).
fn option<T: 'static, V: 'static>(
    inst: &mut crate::component::LinkerInstance<'_, T>,
    name: &str,
    gctx: GetCtx<T>,
    read: impl Fn(socket2::SockRef<'_>, Family) -> std::io::Result<Val> + Send + Sync + 'static,
    parse: impl Fn(&Val) -> Result<Option<V>> + Send + Sync + 'static,
    write: impl Fn(socket2::SockRef<'_>, Family, V) -> std::io::Result<()> + Send + Sync + 'static,
) -> Result<()> {
    def(
        inst,
        &format!("[method]tcp-socket.{name}"),
        gctx,
        move |ctx, p| {
            let (fd, family, _) = socket(ctx, rep(arg(p, 0)?)?)?;
            Ok(Some(io_result(with_sock(ctx, fd, |s| read(s, family))?)))
        },
    )?;
    def(
        inst,
        &format!("[method]tcp-socket.set-{name}"),
        gctx,
        move |ctx, p| {
            let (fd, family, _) = socket(ctx, rep(arg(p, 0)?)?)?;
            let Some(v) = parse(arg(p, 1)?)? else {
                return Ok(Some(fail("invalid-argument")));
            };
            Ok(Some(io_unit(with_sock(ctx, fd, |s| write(s, family, v))?)))
        },
    )
}

/// A failed connect's error code: an ephemeral port not to be had is
/// `address-in-use`, as WASI says.
fn connect_failed(e: &std::io::Error) -> Val {
    match e.raw_os_error() {
        Some(libc::EADDRNOTAVAIL) => fail("address-in-use"),
        _ => fail_io(e),
    }
}

/// A failed accept's error code: Linux reports a pending connection's
/// own network errors there, which WASI calls `connection-aborted`.
fn accept_failed(e: &std::io::Error) -> Val {
    match e.raw_os_error() {
        Some(
            libc::ECONNRESET
            | libc::ECONNABORTED
            | libc::EPROTO
            | libc::ENETDOWN
            | libc::ENOPROTOOPT
            | libc::EHOSTDOWN
            | libc::ENONET
            | libc::EHOSTUNREACH
            | libc::EOPNOTSUPP
            | libc::ENETUNREACH,
        ) => fail("connection-aborted"),
        _ => fail(super::code_of(errno(e))),
    }
}

pub(super) fn add<T: 'static>(linker: &mut Linker<T>, get: GetCtx<T>) -> Result<()> {
    let mut create = iface(linker, "wasi:sockets/tcp-create-socket")?;
    def(&mut create, "create-tcp-socket", get, |ctx, p| {
        let family = Family::of(arg(p, 0)?)?;
        if !ctx.net.tcp {
            return Ok(Some(fail("access-denied")));
        }
        Ok(Some(match new_socket(ctx, family, socket2::Type::STREAM) {
            Ok(Ok(fd)) => {
                let r = ctx.p2.push(Entry::Tcp {
                    fd,
                    family,
                    state: TcpState::Unbound,
                    backlog: DEFAULT_BACKLOG,
                });
                ok(own::<res::TcpSocket>(r))
            }
            Ok(Err(e)) => fail(super::code_of(e)),
            Err(e) => fail_io(&e),
        }))
    })?;

    let mut tcp = iface(linker, "wasi:sockets/tcp")?;
    resource::<T, res::TcpSocket>(&mut tcp, "tcp-socket", get)?;
    def(&mut tcp, "[method]tcp-socket.start-bind", get, |ctx, p| {
        let r = rep(arg(p, 0)?)?;
        let (fd, family, state) = socket(ctx, r)?;
        check_network(ctx, arg(p, 1)?)?;
        let addr = socket_addr_of(arg(p, 2)?)?;
        if state != TcpState::Unbound {
            return Ok(Some(wrong_state(state)));
        }
        if let Some(code) = invalid_addr(family, addr, false)
            .or_else(|| denied(ctx, &[(addr, SocketAddrUse::TcpBind)]))
        {
            return Ok(Some(fail(code)));
        }
        let bound = with_sock(ctx, fd, |s| {
            // A port the program names is its own again at once after a
            // restart, as on Windows (WASI says so).
            if addr.port() != 0 {
                s.set_reuse_address(true)?;
            }
            s.bind(&addr.into())
        })?;
        Ok(Some(match bound {
            Ok(()) => {
                set_state(ctx, r, TcpState::BindStarted);
                ok_unit()
            }
            Err(e) => fail_io(&e),
        }))
    })?;
    def(&mut tcp, "[method]tcp-socket.finish-bind", get, |ctx, p| {
        let r = rep(arg(p, 0)?)?;
        Ok(Some(match socket(ctx, r)?.2 {
            TcpState::BindStarted => {
                set_state(ctx, r, TcpState::Bound);
                ok_unit()
            }
            _ => fail("not-in-progress"),
        }))
    })?;
    def(
        &mut tcp,
        "[method]tcp-socket.start-connect",
        get,
        |ctx, p| {
            let r = rep(arg(p, 0)?)?;
            let (fd, family, state) = socket(ctx, r)?;
            check_network(ctx, arg(p, 1)?)?;
            let addr = socket_addr_of(arg(p, 2)?)?;
            match state {
                TcpState::Unbound | TcpState::Bound => {}
                _ => return Ok(Some(wrong_state(state))),
            }
            // An unbound socket's connect binds it first, to the unspecified
            // address: that bind is the policy's too.
            let implicit = (unspecified(family), SocketAddrUse::TcpBind);
            let connect = (addr, SocketAddrUse::TcpConnect);
            let uses: &[_] = if state == TcpState::Unbound {
                &[implicit, connect]
            } else {
                &[connect]
            };
            if let Some(code) = invalid_addr(family, addr, true).or_else(|| denied(ctx, uses)) {
                return Ok(Some(fail(code)));
            }
            let started = with_sock(ctx, fd, |s| s.connect(&addr.into()))?;
            Ok(Some(match started {
                Ok(()) => {
                    set_state(ctx, r, TcpState::Connecting);
                    ok_unit()
                }
                Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {
                    set_state(ctx, r, TcpState::Connecting);
                    ok_unit()
                }
                Err(e) => {
                    set_state(ctx, r, TcpState::Closed);
                    connect_failed(&e)
                }
            }))
        },
    )?;
    def(
        &mut tcp,
        "[method]tcp-socket.finish-connect",
        get,
        |ctx, p| {
            let r = rep(arg(p, 0)?)?;
            let (fd, _, state) = socket(ctx, r)?;
            if state != TcpState::Connecting {
                return Ok(Some(fail("not-in-progress")));
            }
            if !super::super::io::ready_now(ctx, Wait::Write(fd)) {
                return Ok(Some(fail("would-block")));
            }
            match with_sock(ctx, fd, |s| s.take_error())? {
                Ok(None) => {
                    set_state(ctx, r, TcpState::Connected);
                    let (input, output) = streams(ctx, fd);
                    Ok(Some(ok(Val::Tuple(vec![input, output]))))
                }
                Ok(Some(e)) | Err(e) => {
                    set_state(ctx, r, TcpState::Closed);
                    Ok(Some(connect_failed(&e)))
                }
            }
        },
    )?;
    def(
        &mut tcp,
        "[method]tcp-socket.start-listen",
        get,
        |ctx, p| {
            let r = rep(arg(p, 0)?)?;
            let (fd, _, state) = socket(ctx, r)?;
            if state != TcpState::Bound {
                return Ok(Some(wrong_state(state)));
            }
            let local = match with_sock(ctx, fd, |s| std_addr(&s.local_addr()?))? {
                Ok(a) => a,
                Err(e) => return Ok(Some(fail_io(&e))),
            };
            if let Some(code) = denied(ctx, &[(local, SocketAddrUse::TcpListen)]) {
                return Ok(Some(fail(code)));
            }
            let backlog = match ctx.p2.get(r) {
                Some(Entry::Tcp { backlog, .. }) => *backlog,
                _ => DEFAULT_BACKLOG,
            };
            Ok(Some(
                match with_sock(ctx, fd, |s| s.listen(backlog.min(i32::MAX as u32) as i32))? {
                    Ok(()) => {
                        set_state(ctx, r, TcpState::ListenStarted);
                        ok_unit()
                    }
                    Err(e) => fail_io(&e),
                },
            ))
        },
    )?;
    def(
        &mut tcp,
        "[method]tcp-socket.finish-listen",
        get,
        |ctx, p| {
            let r = rep(arg(p, 0)?)?;
            Ok(Some(match socket(ctx, r)?.2 {
                TcpState::ListenStarted => {
                    set_state(ctx, r, TcpState::Listening);
                    ok_unit()
                }
                _ => fail("not-in-progress"),
            }))
        },
    )?;
    def(&mut tcp, "[method]tcp-socket.accept", get, |ctx, p| {
        let r = rep(arg(p, 0)?)?;
        let (fd, family, state) = socket(ctx, r)?;
        if state != TcpState::Listening {
            return Ok(Some(fail("invalid-state")));
        }
        // Clients the policy denies are dropped unseen, and the next one
        // taken.
        let conn = loop {
            match with_sock(ctx, fd, |s| s.accept())? {
                Ok((conn, peer)) => {
                    let allowed =
                        std_addr(&peer).is_ok_and(|p| ctx.net.allows(p, SocketAddrUse::TcpAccept));
                    if allowed {
                        break conn;
                    }
                }
                Err(e) => return Ok(Some(accept_failed(&e))),
            }
        };
        if let Err(e) = conn.set_nonblocking(true) {
            return Ok(Some(fail_io(&e)));
        }
        let slot = match ctx.insert_socket(conn.into()) {
            Ok(slot) => slot,
            Err(e) => return Ok(Some(fail(super::code_of(e)))),
        };
        let socket = ctx.p2.push(Entry::Tcp {
            fd: slot,
            family,
            state: TcpState::Connected,
            backlog: DEFAULT_BACKLOG,
        });
        let (input, output) = streams(ctx, slot);
        Ok(Some(ok(Val::Tuple(vec![
            own::<res::TcpSocket>(socket),
            input,
            output,
        ]))))
    })?;
    def(
        &mut tcp,
        "[method]tcp-socket.local-address",
        get,
        |ctx, p| {
            let (fd, _, state) = socket(ctx, rep(arg(p, 0)?)?)?;
            if matches!(
                state,
                TcpState::Unbound | TcpState::BindStarted | TcpState::Closed
            ) {
                return Ok(Some(fail("invalid-state")));
            }
            let addr = with_sock(ctx, fd, |s| std_addr(&s.local_addr()?))?;
            Ok(Some(io_result(addr.map(socket_addr_val))))
        },
    )?;
    def(
        &mut tcp,
        "[method]tcp-socket.remote-address",
        get,
        |ctx, p| {
            let (fd, _, state) = socket(ctx, rep(arg(p, 0)?)?)?;
            if state != TcpState::Connected {
                return Ok(Some(fail("invalid-state")));
            }
            let addr = with_sock(ctx, fd, |s| std_addr(&s.peer_addr()?))?;
            Ok(Some(io_result(addr.map(socket_addr_val))))
        },
    )?;
    def(
        &mut tcp,
        "[method]tcp-socket.is-listening",
        get,
        |ctx, p| {
            let state = socket(ctx, rep(arg(p, 0)?)?)?.2;
            Ok(Some(Val::Bool(state == TcpState::Listening)))
        },
    )?;
    def(
        &mut tcp,
        "[method]tcp-socket.address-family",
        get,
        |ctx, p| Ok(Some(socket(ctx, rep(arg(p, 0)?)?)?.1.val())),
    )?;
    def(
        &mut tcp,
        "[method]tcp-socket.set-listen-backlog-size",
        get,
        |ctx, p| {
            let r = rep(arg(p, 0)?)?;
            let (fd, _, state) = socket(ctx, r)?;
            let value = u64_of(arg(p, 1)?)?;
            if value == 0 {
                return Ok(Some(fail("invalid-argument")));
            }
            let value = value.min(i32::MAX as u64) as u32;
            match state {
                TcpState::Connecting | TcpState::Connected | TcpState::Closed => {
                    return Ok(Some(fail("invalid-state")))
                }
                // Linux takes a new backlog by listening again.
                TcpState::ListenStarted | TcpState::Listening => {
                    if let Err(e) = with_sock(ctx, fd, |s| s.listen(value as i32))? {
                        return Ok(Some(fail_io(&e)));
                    }
                }
                _ => {}
            }
            if let Some(Entry::Tcp { backlog, .. }) = ctx.p2.get_mut(r) {
                *backlog = value;
            }
            Ok(Some(ok_unit()))
        },
    )?;
    option(
        &mut tcp,
        "keep-alive-enabled",
        get,
        |s, _| s.keepalive().map(Val::Bool),
        |v| match v {
            Val::Bool(b) => Ok(Some(*b)),
            _ => Err(Error::Usage("a bool expected".into())),
        },
        |s, _, on| s.set_keepalive(on),
    )?;
    let duration = |v: &Val| u64_of(v).map(seconds);
    option(
        &mut tcp,
        "keep-alive-idle-time",
        get,
        |s, _| {
            s.tcp_keepalive_time()
                .map(|d| Val::U64(d.as_nanos() as u64))
        },
        duration,
        |s, _, d| set_tcp_int(s, libc::TCP_KEEPIDLE, d.as_secs() as i32),
    )?;
    option(
        &mut tcp,
        "keep-alive-interval",
        get,
        |s, _| {
            s.tcp_keepalive_interval()
                .map(|d| Val::U64(d.as_nanos() as u64))
        },
        duration,
        |s, _, d| set_tcp_int(s, libc::TCP_KEEPINTVL, d.as_secs() as i32),
    )?;
    option(
        &mut tcp,
        "keep-alive-count",
        get,
        |s, _| s.tcp_keepalive_retries().map(Val::U32),
        |v| match v {
            // At most what Linux takes (127).
            Val::U32(n) => Ok((*n != 0).then_some((*n).min(i8::MAX as u32))),
            _ => Err(Error::Usage("a u32 expected".into())),
        },
        |s, _, n| set_tcp_int(s, libc::TCP_KEEPCNT, n as i32),
    )?;
    option(
        &mut tcp,
        "hop-limit",
        get,
        |s, family| {
            let hops = match family {
                Family::V4 => s.ttl_v4()?,
                Family::V6 => s.unicast_hops_v6()?,
            };
            Ok(Val::U8(hops.min(255) as u8))
        },
        |v| match v {
            Val::U8(n) => Ok((*n != 0).then_some(*n as u32)),
            _ => Err(Error::Usage("a u8 expected".into())),
        },
        |s, family, n| match family {
            Family::V4 => s.set_ttl_v4(n),
            Family::V6 => s.set_unicast_hops_v6(n),
        },
    )?;
    let size = |v: &Val| u64_of(v).map(buffer_size);
    option(
        &mut tcp,
        "receive-buffer-size",
        get,
        |s, _| s.recv_buffer_size().map(|n| Val::U64(n as u64)),
        size,
        |s, _, n| s.set_recv_buffer_size(n),
    )?;
    option(
        &mut tcp,
        "send-buffer-size",
        get,
        |s, _| s.send_buffer_size().map(|n| Val::U64(n as u64)),
        size,
        |s, _, n| s.set_send_buffer_size(n),
    )?;
    def(&mut tcp, "[method]tcp-socket.subscribe", get, |ctx, p| {
        let r = rep(arg(p, 0)?)?;
        socket(ctx, r)?;
        // Its wait is the socket's state's when polled: one pollable
        // serves the socket's whole life.
        Ok(Some(own::<res::Pollable>(
            ctx.p2.push(Entry::Pollable(Wait::Tcp(r))),
        )))
    })?;
    def(&mut tcp, "[method]tcp-socket.shutdown", get, |ctx, p| {
        let (fd, _, state) = socket(ctx, rep(arg(p, 0)?)?)?;
        let how = match arg(p, 1)? {
            Val::Enum(n) if n == "receive" => std::net::Shutdown::Read,
            Val::Enum(n) if n == "send" => std::net::Shutdown::Write,
            Val::Enum(n) if n == "both" => std::net::Shutdown::Both,
            _ => return Err(Error::Usage("a shutdown-type expected".into())),
        };
        if state != TcpState::Connected {
            return Ok(Some(fail("invalid-state")));
        }
        // What waits unsent goes before the end of the sending side.
        if how != std::net::Shutdown::Read {
            if let Err(e) = super::super::io::flush_socket(ctx, fd)? {
                return Ok(Some(fail(super::code_of(e))));
            }
        }
        Ok(Some(io_unit(with_sock(ctx, fd, |s| s.shutdown(how))?)))
    })?;
    Ok(())
}
