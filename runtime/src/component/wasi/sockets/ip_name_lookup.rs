//! `wasi:sockets/ip-name-lookup`: a name's addresses, when the context
//! allows lookups ([`WasiCtx::allow_ip_name_lookup`]). A thread of its
//! own asks the host's resolver, so `resolve-addresses` never blocks, as
//! WASI says: the stream says `would-block` until the answer comes, and
//! its pollable (an eventfd the thread signals) becomes ready then.

use std::collections::VecDeque;
use std::ffi::CString;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use super::super::event::{event_pair, raise};
use super::super::table::{Entry, Lookup, Wait};
use super::super::vals::{arg, err, ok, own, rep, string_of};
use super::super::{def, iface, res, resource, GetCtx};
use super::{check_network, fail, ip_val};
use crate::component::{Linker, Val};
use crate::wasi::WasiCtx;
use crate::{Error, Result};

/// Whether `name` is a domain name as DNS writes it: ASCII labels of
/// letters, digits, `-` and `_`, 1 to 63 long, 253 in all (one final dot
/// allowed).
fn is_domain_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// What the guest asked for: an address literal's own address, or the
/// ASCII form of a domain name to resolve (internationalized names
/// converted, as WASI says); `invalid-argument` for anything else.
fn parse(name: &str) -> std::result::Result<std::result::Result<IpAddr, String>, &'static str> {
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Ok(Ok(ip));
    }
    if let Some(ip) = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .and_then(|n| n.parse::<Ipv6Addr>().ok())
    {
        return Ok(Ok(IpAddr::V6(ip)));
    }
    let ascii = idna::domain_to_ascii(name).map_err(|_| "invalid-argument")?;
    if !is_domain_name(&ascii) {
        return Err("invalid-argument");
    }
    Ok(Err(ascii))
}

/// The host resolver's addresses for `name` (an ASCII domain name), each
/// once, in its order; the error code of its failure.
fn resolve(name: &str) -> std::result::Result<Vec<IpAddr>, &'static str> {
    let c_name = CString::new(name).map_err(|_| "invalid-argument")?;
    // SAFETY: a zeroed addrinfo is hints with nothing set.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = libc::AF_UNSPEC;
    // One entry an address, not one a socket type.
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut list: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: a NUL-terminated name, hints and an out pointer; the list it
    // gives is freed below.
    let rc = unsafe { libc::getaddrinfo(c_name.as_ptr(), std::ptr::null(), &hints, &mut list) };
    match rc {
        0 => {}
        libc::EAI_AGAIN => return Err("temporary-resolver-failure"),
        libc::EAI_FAIL => return Err("permanent-resolver-failure"),
        libc::EAI_MEMORY => return Err("out-of-memory"),
        _ => return Err("name-unresolvable"),
    }
    let mut ips: Vec<IpAddr> = Vec::new();
    let mut at = list;
    while !at.is_null() {
        // SAFETY: `at` walks the list getaddrinfo gave, not yet freed.
        let info = unsafe { &*at };
        let addr = if info.ai_addr.is_null() {
            None
        } else {
            // SAFETY: `ai_addr` points at `ai_addrlen` bytes of a socket
            // address, copied out before the list is freed.
            unsafe {
                socket2::SockAddr::try_init(|storage, len| {
                    let n = (info.ai_addrlen as usize)
                        .min(std::mem::size_of::<libc::sockaddr_storage>());
                    std::ptr::copy_nonoverlapping(
                        info.ai_addr.cast::<u8>(),
                        storage.cast::<u8>(),
                        n,
                    );
                    *len = n as libc::socklen_t;
                    Ok(())
                })
            }
            .ok()
            .and_then(|((), a)| a.as_socket())
        };
        if let Some(a) = addr.map(|a: SocketAddr| a.ip().to_canonical()) {
            if !ips.contains(&a) {
                ips.push(a);
            }
        }
        at = info.ai_next;
    }
    // SAFETY: the list getaddrinfo gave, freed once.
    unsafe { libc::freeaddrinfo(list) };
    if ips.is_empty() {
        return Err("name-unresolvable");
    }
    Ok(ips)
}

/// Most resolver threads at once, in the whole process: a guest that
/// starts lookups in a loop gets `temporary-resolver-failure` past them,
/// not a thread each.
const MAX_RESOLVERS: usize = 64;

static RESOLVERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A share of [`MAX_RESOLVERS`], given back when dropped.
struct ResolverSlot;

impl ResolverSlot {
    fn take() -> Option<ResolverSlot> {
        use std::sync::atomic::Ordering;
        RESOLVERS
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_RESOLVERS).then_some(n + 1)
            })
            .ok()
            .map(|_| ResolverSlot)
    }
}

impl Drop for ResolverSlot {
    fn drop(&mut self) {
        RESOLVERS.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// Starts the lookup of `name` on a thread: the stream's table entry.
fn start(ctx: &mut WasiCtx, name: String) -> std::result::Result<u32, &'static str> {
    let share = ResolverSlot::take().ok_or("temporary-resolver-failure")?;
    let (event, signal) = event_pair().map_err(|_| "new-socket-limit")?;
    let fd = ctx
        .insert_owned(event, crate::wasi::types::filetype::UNKNOWN)
        .map_err(|_| "new-socket-limit")?;
    let slot = std::sync::Arc::new(std::sync::Mutex::new(None));
    let answer = slot.clone();
    let spawned = std::thread::Builder::new()
        .name("walmart-resolver".into())
        .spawn(move || {
            let _share = share;
            let r = resolve(&name);
            *answer.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            raise(&signal);
        });
    if spawned.is_err() {
        let _ = ctx.fd_close(fd);
        return Err("out-of-memory");
    }
    Ok(ctx.p2.push(Entry::Lookup {
        fd,
        answer: Lookup::Pending(slot),
    }))
}

fn lookup(ctx: &mut WasiCtx, rep: u32) -> Result<(u32, &mut Lookup)> {
    match ctx.p2.get_mut(rep) {
        Some(Entry::Lookup { fd, answer }) => Ok((*fd, answer)),
        _ => Err(Error::Usage(format!(
            "WASI: handle {rep} is not a resolve-address-stream"
        ))),
    }
}

pub(super) fn add<T: 'static>(linker: &mut Linker<T>, get: GetCtx<T>) -> Result<()> {
    let mut names = iface(linker, "wasi:sockets/ip-name-lookup")?;
    resource::<T, res::ResolveAddressStream>(&mut names, "resolve-address-stream", get)?;
    def(&mut names, "resolve-addresses", get, |ctx, p| {
        check_network(ctx, arg(p, 0)?)?;
        let name = string_of(arg(p, 1)?)?;
        if !ctx.net.ip_name_lookup {
            return Ok(Some(fail("permanent-resolver-failure")));
        }
        let r = match parse(name) {
            Err(code) => return Ok(Some(fail(code))),
            // A literal is its own answer: no thread.
            Ok(Ok(ip)) => {
                let (event, signal) = match event_pair() {
                    Ok(pair) => pair,
                    Err(_) => return Ok(Some(fail("new-socket-limit"))),
                };
                // Ready at once: signalled before any wait.
                raise(&signal);
                drop(signal);
                let fd = match ctx.insert_owned(event, crate::wasi::types::filetype::UNKNOWN) {
                    Ok(fd) => fd,
                    Err(_) => return Ok(Some(fail("new-socket-limit"))),
                };
                ctx.p2.push(Entry::Lookup {
                    fd,
                    answer: Lookup::Addresses(VecDeque::from([ip])),
                })
            }
            Ok(Err(ascii)) => match start(ctx, ascii) {
                Ok(r) => r,
                Err(code) => return Ok(Some(fail(code))),
            },
        };
        Ok(Some(ok(own::<res::ResolveAddressStream>(r))))
    })?;
    def(
        &mut names,
        "[method]resolve-address-stream.resolve-next-address",
        get,
        |ctx, p| {
            let (_, answer) = lookup(ctx, rep(arg(p, 0)?)?)?;
            if let Lookup::Pending(slot) = answer {
                let came = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
                *answer = match came {
                    Some(Ok(ips)) => Lookup::Addresses(ips.into()),
                    Some(Err(code)) => Lookup::Failed(code),
                    None => return Ok(Some(fail("would-block"))),
                };
            }
            Ok(Some(match answer {
                Lookup::Addresses(ips) => {
                    ok(Val::Option(ips.pop_front().map(|ip| Box::new(ip_val(ip)))))
                }
                Lookup::Failed(code) => err(Val::Enum((*code).into())),
                Lookup::Pending(_) => unreachable!("answered above"),
            }))
        },
    )?;
    def(
        &mut names,
        "[method]resolve-address-stream.subscribe",
        get,
        |ctx, p| {
            let (fd, _) = lookup(ctx, rep(arg(p, 0)?)?)?;
            Ok(Some(own::<res::Pollable>(
                ctx.p2.push(Entry::Pollable(Wait::Read(fd))),
            )))
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_before_the_resolver_sees_them() {
        assert_eq!(parse("127.0.0.1"), Ok(Ok("127.0.0.1".parse().unwrap())));
        assert_eq!(parse("[::1]"), Ok(Ok("::1".parse().unwrap())));
        assert_eq!(parse("::1"), Ok(Ok("::1".parse().unwrap())));
        for bad in ["", "a..b", "-a.com", "a b", "x".repeat(64).as_str()] {
            assert_eq!(parse(bad), Err("invalid-argument"), "{bad:?}");
        }
        assert_eq!(parse("caf\u{e9}.fr"), Ok(Err("xn--caf-dma.fr".into())));
        assert_eq!(parse("Example.COM"), Ok(Err("example.com".into())));
        assert!(is_domain_name("localhost"));
        assert!(is_domain_name("_srv.example.com."));
    }

    #[test]
    fn localhost_resolves_to_a_loopback_address() {
        assert!(resolve("localhost")
            .unwrap()
            .iter()
            .all(|ip| ip.is_loopback()));
    }
}
