//! What a guest may do with sockets of its own making (WASI 0.2's
//! `wasi:sockets`): which addresses it may bind, connect and send to,
//! whether it may make TCP or UDP sockets at all, and whether it may look
//! names up. As wasmtime's embedding API, the default allows no socket,
//! no address and no lookup: a guest reaches no network the embedder did
//! not grant (`walmart run`, as `wasmtime run`, allows TCP and UDP
//! sockets, and no address until `-S inherit-network`).

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use super::WasiCtx;

/// What a guest means to do with an address, for
/// [`WasiCtx::socket_addr_check`] (wasmtime's cases).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketAddrUse {
    /// Binding a TCP socket to it; for the bind a connect makes by
    /// itself, the unspecified address of the socket's family.
    TcpBind,
    /// Listening on it (the socket's bound address).
    TcpListen,
    /// Accepting a client from it: a denied client is dropped unseen.
    TcpAccept,
    /// Connecting a TCP socket to it.
    TcpConnect,
    /// Binding a UDP socket to it.
    UdpBind,
    /// Sending datagrams to it (each one, or a stream's fixed peer).
    UdpSend,
    /// Receiving datagrams from it: a denied one is dropped unseen.
    UdpReceive,
}

type Check = Arc<dyn Fn(SocketAddr, SocketAddrUse) -> bool + Send + Sync>;

/// The context's network permissions: by default none.
#[derive(Clone, Default)]
pub(crate) struct NetPolicy {
    /// `None`: no address is allowed.
    check: Option<Check>,
    pub(crate) tcp: bool,
    pub(crate) udp: bool,
    pub(crate) ip_name_lookup: bool,
    /// `wasi:http` requests may go to any address (else only to those
    /// `check` allows for [`SocketAddrUse::TcpConnect`]).
    pub(crate) http_any: bool,
    /// Roots (DER) `https` requests trust besides Mozilla's.
    pub(crate) http_roots: Arc<Vec<Vec<u8>>>,
}

impl fmt::Debug for NetPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetPolicy")
            .field("addresses", &self.check.is_some())
            .field("tcp", &self.tcp)
            .field("udp", &self.udp)
            .field("ip_name_lookup", &self.ip_name_lookup)
            .field("http_any", &self.http_any)
            .field("http_roots", &self.http_roots.len())
            .finish()
    }
}

impl NetPolicy {
    /// Whether the guest may use `addr` so.
    pub(crate) fn allows(&self, addr: SocketAddr, how: SocketAddrUse) -> bool {
        self.check.as_ref().is_some_and(|check| check(addr, how))
    }

    /// Whether any address could be allowed to a `wasi:http` request.
    pub(crate) fn may_allow_http(&self) -> bool {
        self.http_any || self.check.is_some()
    }

    /// Whether a `wasi:http` request may go to `addr`.
    pub(crate) fn allows_http(&self, addr: SocketAddr) -> bool {
        self.http_any || self.allows(addr, SocketAddrUse::TcpConnect)
    }
}

impl WasiCtx {
    /// Lets the guest's sockets (`wasi:sockets`, components) bind, connect
    /// and send to any address, as the host process may: wasmtime's
    /// `inherit_network`, `walmart run -S inherit-network`.
    pub fn inherit_network(&mut self) -> &mut Self {
        self.socket_addr_check(|_, _| true)
    }

    /// Takes back every address [`WasiCtx::inherit_network`] or a
    /// check allowed: the default again.
    pub fn deny_network(&mut self) -> &mut Self {
        self.with_state(|c| c.net.check = None);
        self
    }

    /// Lets the guest's sockets use the addresses `check` allows (and no
    /// other: a denied bind, connect or send fails with `access-denied`).
    /// Replaces [`WasiCtx::inherit_network`]'s or an earlier check.
    pub fn socket_addr_check(
        &mut self,
        check: impl Fn(SocketAddr, SocketAddrUse) -> bool + Send + Sync + 'static,
    ) -> &mut Self {
        let check: Check = Arc::new(check);
        self.with_state(|c| c.net.check = Some(check));
        self
    }

    /// Whether the guest may make TCP sockets (default: no, as wasmtime's;
    /// what they may reach is [`WasiCtx::socket_addr_check`]'s to say).
    pub fn allow_tcp(&mut self, allow: bool) -> &mut Self {
        self.with_state(|c| c.net.tcp = allow);
        self
    }

    /// Whether the guest may make UDP sockets (default: no).
    pub fn allow_udp(&mut self, allow: bool) -> &mut Self {
        self.with_state(|c| c.net.udp = allow);
        self
    }

    /// Whether the guest may resolve names (`wasi:sockets/ip-name-lookup`;
    /// default: no, a lookup fails with `permanent-resolver-failure`).
    pub fn allow_ip_name_lookup(&mut self, allow: bool) -> &mut Self {
        self.with_state(|c| c.net.ip_name_lookup = allow);
        self
    }

    /// Whether the guest's `wasi:http` requests may go to any address
    /// (default: no, only to those the socket policy allows connecting
    /// to; `walmart serve`, as `wasmtime serve`, allows them).
    pub fn allow_http_outgoing(&mut self, allow: bool) -> &mut Self {
        self.with_state(|c| c.net.http_any = allow);
        self
    }

    /// A certificate (DER) the guest's `https` requests trust as a root,
    /// besides Mozilla's (a private authority's, a test server's). One
    /// that does not parse fails those requests with `internal-error`.
    pub fn add_http_root_certificate(&mut self, der: impl Into<Vec<u8>>) -> &mut Self {
        let der = der.into();
        self.with_state(|c| Arc::make_mut(&mut c.net.http_roots).push(der));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_address_is_allowed_until_the_embedder_says_so() {
        let addr: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let mut ctx = WasiCtx::default();
        assert!(!ctx.net.allows(addr, SocketAddrUse::TcpConnect));
        ctx.socket_addr_check(|a, how| a.port() == 80 && how == SocketAddrUse::TcpConnect);
        assert!(ctx.net.allows(addr, SocketAddrUse::TcpConnect));
        assert!(!ctx.net.allows(addr, SocketAddrUse::TcpBind));
        ctx.inherit_network();
        assert!(ctx.net.allows(addr, SocketAddrUse::UdpBind));
        ctx.deny_network();
        assert!(!ctx.net.allows(addr, SocketAddrUse::UdpBind));
    }
}
