//! `wasi:sockets/ip-name-lookup`: a name's addresses, when the context
//! allows lookups ([`WasiCtx::allow_ip_name_lookup`]). The host's resolver
//! answers at `resolve-addresses` (the calling thread waits for it); the
//! stream then gives the addresses one by one.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv6Addr, ToSocketAddrs};

use super::super::table::{Entry, Wait};
use super::super::vals::{arg, ok, own, rep, string_of};
use super::super::{def, iface, res, resource, GetCtx};
use super::{check_network, fail, ip_val};
use crate::component::{Linker, Val};
use crate::wasi::WasiCtx;
use crate::{Error, Result};

/// Whether `name` is a domain name as DNS writes it: ASCII labels of
/// letters, digits, `-` and `_`, 1 to 63 long, 253 in all (one final dot
/// allowed). Internationalized names are not converted: the guest gives
/// their ASCII form.
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

/// The addresses of `name`: an address literal's own, else the host
/// resolver's; an error code where there are none.
fn resolve(name: &str) -> std::result::Result<Vec<IpAddr>, &'static str> {
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    if let Some(ip) = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .and_then(|n| n.parse::<Ipv6Addr>().ok())
    {
        return Ok(vec![IpAddr::V6(ip)]);
    }
    if !is_domain_name(name) {
        return Err("invalid-argument");
    }
    let addrs = (name, 0)
        .to_socket_addrs()
        .map_err(|_| "name-unresolvable")?;
    let mut ips: Vec<IpAddr> = Vec::new();
    for a in addrs {
        let ip = a.ip().to_canonical();
        if !ips.contains(&ip) {
            ips.push(ip);
        }
    }
    Ok(ips)
}

fn lookup(ctx: &mut WasiCtx, rep: u32) -> Result<&mut VecDeque<IpAddr>> {
    match ctx.p2.get_mut(rep) {
        Some(Entry::Lookup(addrs)) => Ok(addrs),
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
        Ok(Some(match resolve(name) {
            Ok(ips) => {
                let r = ctx.p2.push(Entry::Lookup(ips.into()));
                ok(own::<res::ResolveAddressStream>(r))
            }
            Err(code) => fail(code),
        }))
    })?;
    def(
        &mut names,
        "[method]resolve-address-stream.resolve-next-address",
        get,
        |ctx, p| {
            let next = lookup(ctx, rep(arg(p, 0)?)?)?.pop_front();
            Ok(Some(ok(Val::Option(next.map(|ip| Box::new(ip_val(ip)))))))
        },
    )?;
    def(
        &mut names,
        "[method]resolve-address-stream.subscribe",
        get,
        |ctx, p| {
            lookup(ctx, rep(arg(p, 0)?)?)?;
            // Resolved already: ready at once.
            Ok(Some(own::<res::Pollable>(
                ctx.p2.push(Entry::Pollable(Wait::Until(0))),
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
        assert_eq!(resolve("127.0.0.1"), Ok(vec!["127.0.0.1".parse().unwrap()]));
        assert_eq!(resolve("[::1]"), Ok(vec!["::1".parse().unwrap()]));
        assert_eq!(resolve("::1"), Ok(vec!["::1".parse().unwrap()]));
        for bad in [
            "",
            "a..b",
            "-a.com",
            "a b",
            "x".repeat(64).as_str(),
            "caf\u{e9}.fr",
        ] {
            assert_eq!(resolve(bad), Err("invalid-argument"), "{bad:?}");
        }
        assert!(is_domain_name("localhost"));
        assert!(is_domain_name("_srv.example.com."));
    }
}
