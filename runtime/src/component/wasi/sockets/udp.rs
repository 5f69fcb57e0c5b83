//! `wasi:sockets/udp` and `udp-create-socket`: UDP sockets, bound in two
//! steps, whose datagrams go through a pair of streams (fixed to one peer
//! or not).

use std::net::SocketAddr;

use super::super::table::{Entry, UdpState, Wait};
use super::super::vals::{arg, ok, ok_unit, own, rep, u64_of};
use super::super::{def, iface, res, resource, GetCtx};
use super::{
    check_network, denied, errno, fail, fail_io, invalid_addr, io_result, io_unit, new_socket,
    opt_socket_addr_of, socket_addr_of, socket_addr_val, std_addr, with_sock, Family,
};
use crate::component::{Linker, Val};
use crate::wasi::{SocketAddrUse, WasiCtx};
use crate::{Error, Result};

/// Most datagrams one `receive` gives, and one `check-send` permits.
const BATCH: u64 = 16;
/// Most bytes one `receive` gives (past them, no further datagram is
/// taken): each byte is a component value on the host's side.
const RECEIVE_BYTES: usize = 64 << 10;
/// The largest datagram UDP carries.
const MAX_DATAGRAM: usize = 65_535;

/// The socket `rep`'s descriptor, family, state and peer.
fn socket(ctx: &WasiCtx, rep: u32) -> Result<(u32, Family, UdpState, Option<SocketAddr>)> {
    match ctx.p2.get(rep) {
        Some(Entry::Udp {
            fd,
            family,
            state,
            remote,
        }) => Ok((*fd, *family, *state, *remote)),
        _ => Err(Error::Usage(format!(
            "WASI: handle {rep} is not a UDP socket"
        ))),
    }
}

/// Drops the peer the host socket is fixed to (`connect` to
/// `AF_UNSPEC`).
fn disconnect(s: &socket2::SockRef<'_>) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: a zeroed sockaddr whose family is AF_UNSPEC, of its size.
    let rc = unsafe {
        let mut addr: libc::sockaddr = std::mem::zeroed();
        addr.sa_family = libc::AF_UNSPEC as libc::sa_family_t;
        libc::connect(
            s.as_raw_fd(),
            &addr,
            std::mem::size_of::<libc::sockaddr>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn bytes_of(v: &Val) -> Result<Vec<u8>> {
    match v {
        Val::List(items) => items
            .iter()
            .map(|b| match b {
                Val::U8(b) => Ok(*b),
                other => Err(Error::Usage(format!(
                    "a list of u8 expected, found a {}",
                    other.kind()
                ))),
            })
            .collect(),
        other => Err(Error::Usage(format!(
            "a list expected, found a {}",
            other.kind()
        ))),
    }
}

fn record_field<'a>(v: &'a Val, name: &str) -> Result<&'a Val> {
    super::field(v, name)
}

/// Whether a datagram from `from` is the fixed peer `peer`'s: the same
/// address and port (and scope, where the guest named one); the flow
/// label is no part of who sent it.
fn same_peer(peer: SocketAddr, from: SocketAddr) -> bool {
    match (peer, from) {
        (SocketAddr::V6(p), SocketAddr::V6(f)) => {
            p.ip() == f.ip()
                && p.port() == f.port()
                && (p.scope_id() == 0 || p.scope_id() == f.scope_id())
        }
        _ => peer == from,
    }
}

/// A failed UDP call's error code: a peer's port closed (ICMP) is
/// `remote-unreachable`, as WASI says.
fn fail_udp(e: &std::io::Error) -> Val {
    match e.raw_os_error() {
        Some(libc::ECONNRESET) => fail("remote-unreachable"),
        _ => fail(super::code_of(errno(e))),
    }
}

/// Receives at most `max` datagrams waiting on descriptor `fd`: those of
/// `remote` only, where the stream has a fixed peer, and of senders the
/// policy lets the guest hear (others are dropped unseen).
fn receive(ctx: &WasiCtx, fd: u32, remote: Option<SocketAddr>, max: u64) -> Result<Val> {
    let mut got = Vec::new();
    let mut bytes = 0;
    let mut buf = vec![std::mem::MaybeUninit::<u8>::uninit(); MAX_DATAGRAM];
    while (got.len() as u64) < max.min(BATCH) && bytes < RECEIVE_BYTES {
        match with_sock(ctx, fd, |s| s.recv_from(&mut buf))? {
            Ok((n, from)) => {
                // SAFETY: recv_from initialized the first `n` bytes.
                let data: Vec<Val> = buf[..n]
                    .iter()
                    .map(|b| Val::U8(unsafe { b.assume_init() }))
                    .collect();
                let from = match std_addr(&from) {
                    Ok(a) => a,
                    Err(_) => continue,
                };
                // The host filters a connected socket's datagrams as they
                // come, not those queued before: again here.
                if remote.is_some_and(|r| !same_peer(r, from))
                    || !ctx.net.allows(from, SocketAddrUse::UdpReceive)
                {
                    continue;
                }
                bytes += n;
                got.push(Val::Record(vec![
                    ("data".into(), Val::List(data)),
                    ("remote-address".into(), socket_addr_val(from)),
                ]));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) if got.is_empty() => return Ok(fail_udp(&e)),
            Err(_) => break,
        }
    }
    Ok(ok(Val::List(got)))
}

/// Sends `datagrams` from the outgoing stream `rep`.
fn send(ctx: &mut WasiCtx, rep: u32, datagrams: &[Val]) -> Result<Val> {
    let (fd, family, fixed, permit) = match ctx.p2.get(rep) {
        Some(Entry::Outgoing {
            fd,
            family,
            remote,
            permit,
        }) => (*fd, *family, *remote, *permit),
        _ => {
            return Err(Error::Usage(format!(
                "WASI: handle {rep} is not an outgoing datagram stream"
            )))
        }
    };
    if datagrams.len() as u64 > permit {
        return Err(Error::msg(format!(
            "WASI: a send of {} datagrams where check-send permitted {permit}",
            datagrams.len()
        )));
    }
    if let Some(Entry::Outgoing { permit, .. }) = ctx.p2.get_mut(rep) {
        *permit = 0;
    }
    let mut sent = 0u64;
    for d in datagrams {
        let data = bytes_of(record_field(d, "data")?)?;
        let to = opt_socket_addr_of(record_field(d, "remote-address")?)?;
        let refused = match (to, fixed) {
            (Some(to), Some(fixed)) if to != fixed => Some("invalid-argument"),
            (None, None) => Some("invalid-argument"),
            (Some(to), None) => invalid_addr(family, to, true)
                .or_else(|| denied(ctx, &[(to, SocketAddrUse::UdpSend)])),
            _ => None,
        };
        if let Some(code) = refused {
            if sent == 0 {
                return Ok(fail(code));
            }
            break;
        }
        let r = with_sock(ctx, fd, |s| match (fixed, to) {
            (Some(_), _) => s.send(&data),
            (None, Some(to)) => s.send_to(&data, &to.into()),
            (None, None) => unreachable!("refused above"),
        })?;
        match r {
            Ok(_) => sent += 1,
            // No room: what was sent (WASI's send never says would-block).
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) if sent == 0 => return Ok(fail_udp(&e)),
            Err(_) => break,
        }
    }
    Ok(ok(Val::U64(sent)))
}

pub(super) fn add<T: 'static>(linker: &mut Linker<T>, get: GetCtx<T>) -> Result<()> {
    let mut create = iface(linker, "wasi:sockets/udp-create-socket")?;
    def(&mut create, "create-udp-socket", get, |ctx, p| {
        let family = Family::of(arg(p, 0)?)?;
        if !ctx.net.udp {
            return Ok(Some(fail("access-denied")));
        }
        Ok(Some(match new_socket(ctx, family, socket2::Type::DGRAM) {
            Ok(Ok(fd)) => {
                let r = ctx.p2.push(Entry::Udp {
                    fd,
                    family,
                    state: UdpState::Unbound,
                    remote: None,
                });
                ok(own::<res::UdpSocket>(r))
            }
            Ok(Err(e)) => fail(super::code_of(e)),
            Err(e) => fail_io(&e),
        }))
    })?;

    let mut udp = iface(linker, "wasi:sockets/udp")?;
    resource::<T, res::UdpSocket>(&mut udp, "udp-socket", get)?;
    resource::<T, res::IncomingDatagramStream>(&mut udp, "incoming-datagram-stream", get)?;
    resource::<T, res::OutgoingDatagramStream>(&mut udp, "outgoing-datagram-stream", get)?;
    def(&mut udp, "[method]udp-socket.start-bind", get, |ctx, p| {
        let r = rep(arg(p, 0)?)?;
        let (fd, family, state, _) = socket(ctx, r)?;
        check_network(ctx, arg(p, 1)?)?;
        let addr = socket_addr_of(arg(p, 2)?)?;
        match state {
            UdpState::Unbound => {}
            UdpState::BindStarted => return Ok(Some(fail("concurrency-conflict"))),
            UdpState::Bound => return Ok(Some(fail("invalid-state"))),
        }
        if let Some(code) = invalid_addr(family, addr, false)
            .or_else(|| denied(ctx, &[(addr, SocketAddrUse::UdpBind)]))
        {
            return Ok(Some(fail(code)));
        }
        Ok(Some(match with_sock(ctx, fd, |s| s.bind(&addr.into()))? {
            Ok(()) => {
                if let Some(Entry::Udp { state, .. }) = ctx.p2.get_mut(r) {
                    *state = UdpState::BindStarted;
                }
                ok_unit()
            }
            Err(e) => fail_io(&e),
        }))
    })?;
    def(&mut udp, "[method]udp-socket.finish-bind", get, |ctx, p| {
        let r = rep(arg(p, 0)?)?;
        if socket(ctx, r)?.2 != UdpState::BindStarted {
            return Ok(Some(fail("not-in-progress")));
        }
        if let Some(Entry::Udp { state, .. }) = ctx.p2.get_mut(r) {
            *state = UdpState::Bound;
        }
        Ok(Some(ok_unit()))
    })?;
    def(&mut udp, "[method]udp-socket.stream", get, |ctx, p| {
        let r = rep(arg(p, 0)?)?;
        let (fd, family, state, previous) = socket(ctx, r)?;
        let remote = opt_socket_addr_of(arg(p, 1)?)?;
        if state != UdpState::Bound {
            return Ok(Some(fail("invalid-state")));
        }
        if let Some(code) = remote.and_then(|a| {
            invalid_addr(family, a, true).or_else(|| {
                denied(
                    ctx,
                    &[(a, SocketAddrUse::UdpSend), (a, SocketAddrUse::UdpReceive)],
                )
            })
        }) {
            return Ok(Some(fail(code)));
        }
        if ctx.p2.uses_fd(fd) {
            return Err(Error::msg(
                "WASI: udp-socket.stream called while the streams it gave before live \
                 (drop those first)",
            ));
        }
        if previous.is_some() {
            if let Err(e) = with_sock(ctx, fd, |s| disconnect(&s))? {
                return Ok(Some(fail_udp(&e)));
            }
            if let Some(Entry::Udp { remote: slot, .. }) = ctx.p2.get_mut(r) {
                *slot = None;
            }
        }
        if let Some(a) = remote {
            if let Err(e) = with_sock(ctx, fd, |s| s.connect(&a.into()))? {
                return Ok(Some(fail_udp(&e)));
            }
        }
        if let Some(Entry::Udp { remote: slot, .. }) = ctx.p2.get_mut(r) {
            *slot = remote;
        }
        let incoming = ctx.p2.push(Entry::Incoming { fd, remote });
        let outgoing = ctx.p2.push(Entry::Outgoing {
            fd,
            family,
            remote,
            permit: 0,
        });
        Ok(Some(ok(Val::Tuple(vec![
            own::<res::IncomingDatagramStream>(incoming),
            own::<res::OutgoingDatagramStream>(outgoing),
        ]))))
    })?;
    def(
        &mut udp,
        "[method]udp-socket.local-address",
        get,
        |ctx, p| {
            let (fd, _, state, _) = socket(ctx, rep(arg(p, 0)?)?)?;
            if state != UdpState::Bound {
                return Ok(Some(fail("invalid-state")));
            }
            let addr = with_sock(ctx, fd, |s| std_addr(&s.local_addr()?))?;
            Ok(Some(io_result(addr.map(socket_addr_val))))
        },
    )?;
    def(
        &mut udp,
        "[method]udp-socket.remote-address",
        get,
        |ctx, p| {
            let (_, _, _, remote) = socket(ctx, rep(arg(p, 0)?)?)?;
            Ok(Some(match remote {
                Some(a) => ok(socket_addr_val(a)),
                None => fail("invalid-state"),
            }))
        },
    )?;
    def(
        &mut udp,
        "[method]udp-socket.address-family",
        get,
        |ctx, p| Ok(Some(socket(ctx, rep(arg(p, 0)?)?)?.1.val())),
    )?;
    def(
        &mut udp,
        "[method]udp-socket.unicast-hop-limit",
        get,
        |ctx, p| {
            let (fd, family, _, _) = socket(ctx, rep(arg(p, 0)?)?)?;
            let hops = with_sock(ctx, fd, |s| match family {
                Family::V4 => s.ttl_v4(),
                Family::V6 => s.unicast_hops_v6(),
            })?;
            Ok(Some(io_result(hops.map(|h| Val::U8(h.min(255) as u8)))))
        },
    )?;
    def(
        &mut udp,
        "[method]udp-socket.set-unicast-hop-limit",
        get,
        |ctx, p| {
            let (fd, family, _, _) = socket(ctx, rep(arg(p, 0)?)?)?;
            let hops = match arg(p, 1)? {
                Val::U8(0) => return Ok(Some(fail("invalid-argument"))),
                Val::U8(n) => *n as u32,
                _ => return Err(Error::Usage("a u8 expected".into())),
            };
            let set = with_sock(ctx, fd, |s| match family {
                Family::V4 => s.set_ttl_v4(hops),
                Family::V6 => s.set_unicast_hops_v6(hops),
            })?;
            Ok(Some(io_unit(set)))
        },
    )?;
    for (name, is_recv) in [("receive-buffer-size", true), ("send-buffer-size", false)] {
        def(
            &mut udp,
            &format!("[method]udp-socket.{name}"),
            get,
            move |ctx, p| {
                let (fd, ..) = socket(ctx, rep(arg(p, 0)?)?)?;
                let n = with_sock(ctx, fd, |s| {
                    if is_recv {
                        s.recv_buffer_size()
                    } else {
                        s.send_buffer_size()
                    }
                })?;
                Ok(Some(io_result(n.map(|n| Val::U64(n as u64)))))
            },
        )?;
        def(
            &mut udp,
            &format!("[method]udp-socket.set-{name}"),
            get,
            move |ctx, p| {
                let (fd, ..) = socket(ctx, rep(arg(p, 0)?)?)?;
                let v = u64_of(arg(p, 1)?)?;
                if v == 0 {
                    return Ok(Some(fail("invalid-argument")));
                }
                let v = v.min(i32::MAX as u64) as usize;
                let set = with_sock(ctx, fd, |s| {
                    if is_recv {
                        s.set_recv_buffer_size(v)
                    } else {
                        s.set_send_buffer_size(v)
                    }
                })?;
                Ok(Some(io_unit(set)))
            },
        )?;
    }
    def(&mut udp, "[method]udp-socket.subscribe", get, |ctx, p| {
        socket(ctx, rep(arg(p, 0)?)?)?;
        Ok(Some(own::<res::Pollable>(
            ctx.p2.push(Entry::Pollable(Wait::Until(0))),
        )))
    })?;

    def(
        &mut udp,
        "[method]incoming-datagram-stream.receive",
        get,
        |ctx, p| {
            let r = rep(arg(p, 0)?)?;
            let max = u64_of(arg(p, 1)?)?;
            match ctx.p2.get(r) {
                Some(Entry::Incoming { fd, remote }) => receive(ctx, *fd, *remote, max).map(Some),
                _ => Err(Error::Usage(format!(
                    "WASI: handle {r} is not an incoming datagram stream"
                ))),
            }
        },
    )?;
    def(
        &mut udp,
        "[method]outgoing-datagram-stream.check-send",
        get,
        |ctx, p| {
            let r = rep(arg(p, 0)?)?;
            let fd = match ctx.p2.get(r) {
                Some(Entry::Outgoing { fd, .. }) => *fd,
                _ => {
                    return Err(Error::Usage(format!(
                        "WASI: handle {r} is not an outgoing datagram stream"
                    )))
                }
            };
            let ready = super::super::io::ready_now(ctx, Wait::Write(fd));
            let n = if ready { BATCH } else { 0 };
            if let Some(Entry::Outgoing { permit, .. }) = ctx.p2.get_mut(r) {
                *permit = n;
            }
            Ok(Some(ok(Val::U64(n))))
        },
    )?;
    def(
        &mut udp,
        "[method]outgoing-datagram-stream.send",
        get,
        |ctx, p| {
            let r = rep(arg(p, 0)?)?;
            let Val::List(datagrams) = arg(p, 1)? else {
                return Err(Error::Usage("send: a list expected".into()));
            };
            send(ctx, r, datagrams).map(Some)
        },
    )?;
    for (kind, is_in) in [
        ("incoming-datagram-stream", true),
        ("outgoing-datagram-stream", false),
    ] {
        def(
            &mut udp,
            &format!("[method]{kind}.subscribe"),
            get,
            move |ctx, p| {
                let r = rep(arg(p, 0)?)?;
                let wait = match (ctx.p2.get(r), is_in) {
                    (Some(Entry::Incoming { fd, .. }), true) => Wait::Read(*fd),
                    (Some(Entry::Outgoing { fd, .. }), false) => Wait::Write(*fd),
                    _ => return Err(Error::Usage(format!("WASI: handle {r} is not a {kind}"))),
                };
                Ok(Some(own::<res::Pollable>(
                    ctx.p2.push(Entry::Pollable(wait)),
                )))
            },
        )?;
    }
    Ok(())
}
