//! `wasi:sockets`: networks, TCP and UDP sockets the guest makes, and
//! name lookups, on host sockets of the context's descriptor table (so
//! that their streams are `wasi:io`'s, read, written and polled as any
//! descriptor's). What they may reach is the context's network policy
//! ([`WasiCtx::socket_addr_check`], `walmart run -S inherit-network`):
//! by default no address at all.

mod ip_name_lookup;
mod tcp;
mod udp;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{BorrowedFd, RawFd};

use socket2::SockRef;

use super::table::Entry;
use super::vals::{arg, err, ok, own, rep, u16_of, u32_of, u8_of};
use super::{def, iface, res, resource, GetCtx};
use crate::component::{Linker, Val};
use crate::wasi::{Errno, SocketAddrUse, WasiCtx};
use crate::{Error, Result};

/// An address family of `wasi:sockets/network`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    V4,
    V6,
}

impl Family {
    fn of(v: &Val) -> Result<Family> {
        match v {
            Val::Enum(n) if n == "ipv4" => Ok(Family::V4),
            Val::Enum(n) if n == "ipv6" => Ok(Family::V6),
            other => Err(Error::Usage(format!(
                "an ip-address-family expected, found a {}",
                other.kind()
            ))),
        }
    }

    fn val(self) -> Val {
        Val::Enum(if self == Family::V4 { "ipv4" } else { "ipv6" }.into())
    }

    fn domain(self) -> socket2::Domain {
        match self {
            Family::V4 => socket2::Domain::IPV4,
            Family::V6 => socket2::Domain::IPV6,
        }
    }

    fn of_addr(a: &SocketAddr) -> Family {
        if a.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        }
    }
}

/// `network::error-code`'s case for a WASI errno.
pub(crate) fn code_of(e: Errno) -> &'static str {
    match e {
        Errno::ACCES | Errno::PERM | Errno::NOTCAPABLE => "access-denied",
        Errno::NOTSUP | Errno::NOSYS | Errno::PROTONOSUPPORT => "not-supported",
        Errno::INVAL | Errno::AFNOSUPPORT | Errno::DESTADDRREQ => "invalid-argument",
        Errno::NOMEM | Errno::NOBUFS => "out-of-memory",
        Errno::TIMEDOUT => "timeout",
        Errno::ALREADY => "concurrency-conflict",
        Errno::AGAIN => "would-block",
        Errno::ISCONN | Errno::NOTCONN => "invalid-state",
        Errno::MFILE | Errno::NFILE => "new-socket-limit",
        Errno::ADDRNOTAVAIL => "address-not-bindable",
        Errno::ADDRINUSE => "address-in-use",
        Errno::HOSTUNREACH | Errno::NETUNREACH | Errno::NETDOWN | Errno::NETRESET => {
            "remote-unreachable"
        }
        Errno::CONNREFUSED => "connection-refused",
        Errno::CONNRESET | Errno::PIPE => "connection-reset",
        Errno::CONNABORTED => "connection-aborted",
        Errno::MSGSIZE => "datagram-too-large",
        _ => "unknown",
    }
}

/// A host error as a WASI errno.
pub(crate) fn errno(e: &std::io::Error) -> Errno {
    match e.raw_os_error() {
        Some(code) => Errno::from_host(code),
        None if e.kind() == std::io::ErrorKind::WouldBlock => Errno::AGAIN,
        None => Errno::IO,
    }
}

/// `result::err(error-code)` of a case name.
pub(crate) fn fail(code: &str) -> Val {
    err(Val::Enum(code.into()))
}

/// `result::err(error-code)` of a host error.
pub(crate) fn fail_io(e: &std::io::Error) -> Val {
    fail(code_of(errno(e)))
}

/// The host descriptor of the context's descriptor `slot`.
pub(crate) fn host_fd(ctx: &WasiCtx, slot: u32) -> Result<RawFd> {
    ctx.get(slot)
        .map(|e| e.fd)
        .map_err(|_| Error::msg(format!("WASI: socket descriptor {slot} is gone")))
}

/// Runs `f` on the host socket behind the context's descriptor `slot`.
pub(crate) fn with_sock<R>(
    ctx: &WasiCtx,
    slot: u32,
    f: impl FnOnce(SockRef<'_>) -> std::io::Result<R>,
) -> Result<std::io::Result<R>> {
    let fd = host_fd(ctx, slot)?;
    // SAFETY: the table owns `fd` and keeps it open while the entry lives;
    // the borrow ends with this call, in which nothing closes it.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    Ok(f(SockRef::from(&borrowed)))
}

/// Makes a non-blocking host socket and puts it in the context's table:
/// its descriptor number there.
pub(crate) fn new_socket(
    ctx: &mut WasiCtx,
    family: Family,
    ty: socket2::Type,
) -> std::io::Result<std::result::Result<u32, Errno>> {
    let socket = socket2::Socket::new(family.domain(), ty.cloexec(), None)?;
    socket.set_nonblocking(true)?;
    if family == Family::V6 {
        // One family a socket, as WASI says: no IPv4 through IPv6.
        socket.set_only_v6(true)?;
    }
    Ok(ctx.insert_socket(socket.into()))
}

/// A record's field `name`.
fn field<'a>(v: &'a Val, name: &str) -> Result<&'a Val> {
    match v {
        Val::Record(fields) => fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .ok_or_else(|| Error::Usage(format!("a record without its field `{name}`"))),
        other => Err(Error::Usage(format!(
            "a record expected, found a {}",
            other.kind()
        ))),
    }
}

fn tuple_of<const N: usize>(v: &Val) -> Result<[&Val; N]> {
    match v {
        Val::Tuple(items) if items.len() == N => Ok(std::array::from_fn(|i| &items[i])),
        _ => Err(Error::Usage(format!("a tuple of {N} expected"))),
    }
}

/// An `ip-socket-address` value as the host's.
pub(crate) fn socket_addr_of(v: &Val) -> Result<SocketAddr> {
    let Val::Variant(case, Some(payload)) = v else {
        return Err(Error::Usage("an ip-socket-address expected".into()));
    };
    let port = u16_of(field(payload, "port")?)?;
    match case.as_str() {
        "ipv4" => {
            let [a, b, c, d] = tuple_of::<4>(field(payload, "address")?)?;
            let ip = Ipv4Addr::new(u8_of(a)?, u8_of(b)?, u8_of(c)?, u8_of(d)?);
            Ok(SocketAddr::V4(SocketAddrV4::new(ip, port)))
        }
        "ipv6" => {
            let parts = tuple_of::<8>(field(payload, "address")?)?;
            let mut seg = [0u16; 8];
            for (s, p) in seg.iter_mut().zip(parts) {
                *s = u16_of(p)?;
            }
            Ok(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(seg),
                port,
                u32_of(field(payload, "flow-info")?)?,
                u32_of(field(payload, "scope-id")?)?,
            )))
        }
        other => Err(Error::Usage(format!(
            "an ip-socket-address of unknown case `{other}`"
        ))),
    }
}

/// An `option<ip-socket-address>` value as the host's.
pub(crate) fn opt_socket_addr_of(v: &Val) -> Result<Option<SocketAddr>> {
    match v {
        Val::Option(Some(a)) => socket_addr_of(a).map(Some),
        Val::Option(None) => Ok(None),
        other => Err(Error::Usage(format!(
            "an option expected, found a {}",
            other.kind()
        ))),
    }
}

/// An `ip-address` value of the host's.
pub(crate) fn ip_val(ip: IpAddr) -> Val {
    match ip {
        IpAddr::V4(ip) => Val::Variant(
            "ipv4".into(),
            Some(Box::new(Val::Tuple(
                ip.octets().iter().map(|&o| Val::U8(o)).collect(),
            ))),
        ),
        IpAddr::V6(ip) => Val::Variant(
            "ipv6".into(),
            Some(Box::new(Val::Tuple(
                ip.segments().iter().map(|&s| Val::U16(s)).collect(),
            ))),
        ),
    }
}

/// An `ip-socket-address` value of the host's.
pub(crate) fn socket_addr_val(a: SocketAddr) -> Val {
    let address = match ip_val(a.ip()) {
        Val::Variant(_, Some(addr)) => *addr,
        _ => unreachable!("ip_val gives a case with its address"),
    };
    let record = match a {
        SocketAddr::V4(a) => Val::Record(vec![
            ("port".into(), Val::U16(a.port())),
            ("address".into(), address),
        ]),
        SocketAddr::V6(a) => Val::Record(vec![
            ("port".into(), Val::U16(a.port())),
            ("flow-info".into(), Val::U32(a.flowinfo())),
            ("address".into(), address),
            ("scope-id".into(), Val::U32(a.scope_id())),
        ]),
    };
    let case = if a.is_ipv4() { "ipv4" } else { "ipv6" };
    Val::Variant(case.into(), Some(Box::new(record)))
}

/// A host socket address (from `getsockname` and friends) as a Rust one.
pub(crate) fn std_addr(a: &socket2::SockAddr) -> std::io::Result<SocketAddr> {
    a.as_socket()
        .ok_or_else(|| std::io::Error::from_raw_os_error(libc::EAFNOSUPPORT))
}

/// Why a socket of `family` may not use `addr` (an error code), by the
/// checks WASI makes before the host's: the family, unicast addresses
/// only, no IPv4-mapped or IPv4-compatible IPv6 address; and where
/// `remote` (a peer), a specified address and port.
pub(crate) fn invalid_addr(family: Family, addr: SocketAddr, remote: bool) -> Option<&'static str> {
    if Family::of_addr(&addr) != family {
        return Some("invalid-argument");
    }
    let bad_ip = match addr.ip() {
        IpAddr::V4(ip) => ip.is_multicast() || ip.is_broadcast(),
        IpAddr::V6(ip) => {
            let s = ip.segments();
            let compatible = s[..6] == [0; 6] && !ip.is_unspecified() && !ip.is_loopback();
            ip.is_multicast() || ip.to_ipv4_mapped().is_some() || compatible
        }
    };
    if bad_ip || (remote && (addr.ip().is_unspecified() || addr.port() == 0)) {
        return Some("invalid-argument");
    }
    None
}

/// `access-denied` unless the context's policy lets the guest use every
/// one of `uses`.
pub(crate) fn denied(ctx: &WasiCtx, uses: &[(SocketAddr, SocketAddrUse)]) -> Option<&'static str> {
    uses.iter()
        .any(|&(a, how)| !ctx.net.allows(a, how))
        .then_some("access-denied")
}

/// The unspecified address of `family` (port 0): what an implicit bind
/// binds.
pub(crate) fn unspecified(family: Family) -> SocketAddr {
    match family {
        Family::V4 => SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
        Family::V6 => SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)),
    }
}

/// What a pollable of TCP socket `rep` waits for now
/// ([`Wait::Tcp`](super::table::Wait::Tcp)): a client while it listens,
/// the connection while it connects, nothing otherwise (a socket gone:
/// nothing).
pub(crate) fn tcp_wait(ctx: &WasiCtx, rep: u32) -> super::table::Wait {
    use super::table::{TcpState, Wait};
    match ctx.p2.get(rep) {
        Some(Entry::Tcp {
            fd,
            state: TcpState::Listening,
            ..
        }) => Wait::Read(*fd),
        Some(Entry::Tcp {
            fd,
            state: TcpState::Connecting,
            ..
        }) => Wait::Write(*fd),
        _ => Wait::Until(0),
    }
}

/// That `v` is a handle of a network.
pub(crate) fn check_network(ctx: &WasiCtx, v: &Val) -> Result<()> {
    let r = rep(v)?;
    match ctx.p2.get(r) {
        Some(Entry::Network) => Ok(()),
        _ => Err(Error::Usage(format!("WASI: handle {r} is not a network"))),
    }
}

pub(crate) fn add<T: 'static>(linker: &mut Linker<T>, get: GetCtx<T>) -> Result<()> {
    let mut network = iface(linker, "wasi:sockets/network")?;
    resource::<T, res::Network>(&mut network, "network", get)?;
    def(&mut network, "network-error-code", get, |ctx, p| {
        let r = rep(arg(p, 0)?)?;
        match ctx.p2.get(r) {
            Some(Entry::Error(_, e)) => Ok(Some(Val::Option(
                e.map(|e| Box::new(Val::Enum(code_of(e).into()))),
            ))),
            _ => Err(Error::Usage(format!("WASI: handle {r} is not an error"))),
        }
    })?;
    let mut instance = iface(linker, "wasi:sockets/instance-network")?;
    def(&mut instance, "instance-network", get, |ctx, _| {
        Ok(Some(own::<res::Network>(ctx.p2.push(Entry::Network))))
    })?;
    tcp::add(linker, get)?;
    udp::add(linker, get)?;
    ip_name_lookup::add(linker, get)?;
    Ok(())
}

/// `ok` of a value, or the error a failed host call gives.
pub(crate) fn io_result(r: std::io::Result<Val>) -> Val {
    match r {
        Ok(v) => ok(v),
        Err(e) => fail_io(&e),
    }
}

/// `ok` or the error a failed host call gives.
pub(crate) fn io_unit(r: std::io::Result<()>) -> Val {
    match r {
        Ok(()) => super::vals::ok_unit(),
        Err(e) => fail_io(&e),
    }
}
