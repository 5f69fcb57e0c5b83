//! WASI 0.2's `wasi:sockets` for components: TCP and UDP sockets a guest
//! makes, name lookups, and the network policy that decides what they
//! reach. A component passes the interfaces' functions on as its own
//! exports, and the test calls them with component values, as a guest's
//! lowered calls would (the real guest, a Python program packaged by
//! componentize-py, is too large to commit: `docs/DESIGN.md`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::slice::from_ref;

mod common;

use walmart::component::{Component, Instance, Linker, Val};
use walmart::wasi::{SocketAddrUse, WasiCtx};
use walmart::{Engine, Store};

/// A component importing the parts of `wasi:sockets` (at `version`) the
/// tests use and exporting them under short names.
fn component_wat(version: &str) -> String {
    let network = common::sockets_network_import(version);
    format!(
        r#"(component
  (import "wasi:io/poll@{version}" (instance $poll
    (export "pollable" (type $p (sub resource)))
        (export "[method]pollable.block" (func (param "self" (borrow $p))))
    (export "[method]pollable.ready" (func (param "self" (borrow $p)) (result bool)))))
  (alias export $poll "pollable" (type $pollable))
  (import "wasi:io/streams@{version}" (instance $s
    (export "input-stream" (type $in (sub resource)))
    (export "output-stream" (type $out (sub resource)))
    (type $e (variant (case "closed")))
    (export "stream-error" (type $err (eq $e)))
    (export "[method]input-stream.blocking-read" (func (param "self" (borrow $in))
      (param "len" u64) (result (result (list u8) (error $err)))))
        (export "[method]output-stream.blocking-write-and-flush" (func (param "self" (borrow $out))
      (param "contents" (list u8)) (result (result (error $err)))))
    (export "[method]output-stream.write" (func (param "self" (borrow $out))
      (param "contents" (list u8)) (result (result (error $err)))))
    (export "[method]output-stream.check-write" (func (param "self" (borrow $out))
      (result (result u64 (error $err)))))
        (export "[method]output-stream.blocking-flush" (func (param "self" (borrow $out))
      (result (result (error $err)))))
    (export "[method]output-stream.blocking-write-zeroes-and-flush" (func
      (param "self" (borrow $out)) (param "len" u64) (result (result (error $err)))))))
  (alias export $s "input-stream" (type $input))
  (alias export $s "output-stream" (type $output))
  {network}
  (import "wasi:sockets/instance-network@{version}" (instance $inet
    (alias outer 1 $network (type $net0))
    (export "network" (type $net (eq $net0)))
    (export "instance-network" (func (result (own $net))))))
  (import "wasi:sockets/tcp@{version}" (instance $tcp
    (alias outer 1 $network (type $net0)) (export "network" (type $net (eq $net0)))
    (alias outer 1 $error-code (type $ec0)) (export "error-code" (type $ec (eq $ec0)))
    (alias outer 1 $socket-address (type $sa0)) (export "ip-socket-address" (type $sa (eq $sa0)))
    (alias outer 1 $family (type $f0)) (export "ip-address-family" (type $f (eq $f0)))
    (alias outer 1 $input (type $in0)) (export "input-stream" (type $in (eq $in0)))
    (alias outer 1 $output (type $out0)) (export "output-stream" (type $out (eq $out0)))
    (alias outer 1 $pollable (type $p0)) (export "pollable" (type $p (eq $p0)))
    (export "tcp-socket" (type $sock (sub resource)))
    (type $st (enum "receive" "send" "both"))
    (export "shutdown-type" (type $sht (eq $st)))
    (export "[method]tcp-socket.start-bind" (func (param "self" (borrow $sock))
      (param "network" (borrow $net)) (param "local-address" $sa) (result (result (error $ec)))))
    (export "[method]tcp-socket.finish-bind" (func (param "self" (borrow $sock))
      (result (result (error $ec)))))
    (export "[method]tcp-socket.start-connect" (func (param "self" (borrow $sock))
      (param "network" (borrow $net)) (param "remote-address" $sa) (result (result (error $ec)))))
    (export "[method]tcp-socket.finish-connect" (func (param "self" (borrow $sock))
      (result (result (tuple (own $in) (own $out)) (error $ec)))))
    (export "[method]tcp-socket.start-listen" (func (param "self" (borrow $sock))
      (result (result (error $ec)))))
    (export "[method]tcp-socket.finish-listen" (func (param "self" (borrow $sock))
      (result (result (error $ec)))))
    (export "[method]tcp-socket.accept" (func (param "self" (borrow $sock))
      (result (result (tuple (own $sock) (own $in) (own $out)) (error $ec)))))
    (export "[method]tcp-socket.local-address" (func (param "self" (borrow $sock))
      (result (result $sa (error $ec)))))
    (export "[method]tcp-socket.remote-address" (func (param "self" (borrow $sock))
      (result (result $sa (error $ec)))))
    (export "[method]tcp-socket.is-listening" (func (param "self" (borrow $sock)) (result bool)))
    (export "[method]tcp-socket.address-family" (func (param "self" (borrow $sock)) (result $f)))
    (export "[method]tcp-socket.keep-alive-enabled" (func (param "self" (borrow $sock))
      (result (result bool (error $ec)))))
    (export "[method]tcp-socket.set-keep-alive-enabled" (func (param "self" (borrow $sock))
      (param "value" bool) (result (result (error $ec)))))
    (export "[method]tcp-socket.keep-alive-idle-time" (func (param "self" (borrow $sock))
      (result (result u64 (error $ec)))))
    (export "[method]tcp-socket.set-keep-alive-idle-time" (func (param "self" (borrow $sock))
      (param "value" u64) (result (result (error $ec)))))
    (export "[method]tcp-socket.set-listen-backlog-size" (func (param "self" (borrow $sock))
      (param "value" u64) (result (result (error $ec)))))
    (export "[method]tcp-socket.subscribe" (func (param "self" (borrow $sock)) (result (own $p))))
    (export "[method]tcp-socket.shutdown" (func (param "self" (borrow $sock))
      (param "shutdown-type" $sht) (result (result (error $ec)))))))
  (alias export $tcp "tcp-socket" (type $tcp-socket))
  (import "wasi:sockets/tcp-create-socket@{version}" (instance $tcpc
    (alias outer 1 $error-code (type $ec0)) (export "error-code" (type $ec (eq $ec0)))
    (alias outer 1 $family (type $f0)) (export "ip-address-family" (type $f (eq $f0)))
    (alias outer 1 $tcp-socket (type $sock0))
    (export "tcp-socket" (type $sock (eq $sock0)))
    (export "create-tcp-socket" (func (param "address-family" $f)
      (result (result (own $sock) (error $ec)))))))
  (import "wasi:sockets/udp@{version}" (instance $udp
    (alias outer 1 $network (type $net0)) (export "network" (type $net (eq $net0)))
    (alias outer 1 $error-code (type $ec0)) (export "error-code" (type $ec (eq $ec0)))
    (alias outer 1 $socket-address (type $sa0)) (export "ip-socket-address" (type $sa (eq $sa0)))
    (alias outer 1 $pollable (type $p0)) (export "pollable" (type $p (eq $p0)))
    (export "udp-socket" (type $sock (sub resource)))
    (export "incoming-datagram-stream" (type $ins (sub resource)))
    (export "outgoing-datagram-stream" (type $outs (sub resource)))
    (type $id (record (field "data" (list u8)) (field "remote-address" $sa)))
    (export "incoming-datagram" (type $ide (eq $id)))
    (type $od (record (field "data" (list u8)) (field "remote-address" (option $sa))))
    (export "outgoing-datagram" (type $ode (eq $od)))
    (export "[method]udp-socket.start-bind" (func (param "self" (borrow $sock))
      (param "network" (borrow $net)) (param "local-address" $sa) (result (result (error $ec)))))
    (export "[method]udp-socket.finish-bind" (func (param "self" (borrow $sock))
      (result (result (error $ec)))))
    (export "[method]udp-socket.stream" (func (param "self" (borrow $sock))
      (param "remote-address" (option $sa))
      (result (result (tuple (own $ins) (own $outs)) (error $ec)))))
    (export "[method]udp-socket.local-address" (func (param "self" (borrow $sock))
      (result (result $sa (error $ec)))))
    (export "[method]incoming-datagram-stream.receive" (func (param "self" (borrow $ins))
      (param "max-results" u64) (result (result (list $ide) (error $ec)))))
    (export "[method]incoming-datagram-stream.subscribe" (func (param "self" (borrow $ins))
      (result (own $p))))
    (export "[method]outgoing-datagram-stream.check-send" (func (param "self" (borrow $outs))
      (result (result u64 (error $ec)))))
    (export "[method]outgoing-datagram-stream.send" (func (param "self" (borrow $outs))
      (param "datagrams" (list $ode)) (result (result u64 (error $ec)))))))
  (alias export $udp "udp-socket" (type $udp-socket))
  (import "wasi:sockets/udp-create-socket@{version}" (instance $udpc
    (alias outer 1 $error-code (type $ec0)) (export "error-code" (type $ec (eq $ec0)))
    (alias outer 1 $family (type $f0)) (export "ip-address-family" (type $f (eq $f0)))
    (alias outer 1 $udp-socket (type $sock0))
    (export "udp-socket" (type $sock (eq $sock0)))
    (export "create-udp-socket" (func (param "address-family" $f)
      (result (result (own $sock) (error $ec)))))))
  (import "wasi:sockets/ip-name-lookup@{version}" (instance $lookup
    (alias outer 1 $network (type $net0)) (export "network" (type $net (eq $net0)))
    (alias outer 1 $error-code (type $ec0)) (export "error-code" (type $ec (eq $ec0)))
    (alias outer 1 $ip-address (type $ip0)) (export "ip-address" (type $ip (eq $ip0)))
    (export "resolve-address-stream" (type $st (sub resource)))
    (export "resolve-addresses" (func (param "network" (borrow $net)) (param "name" string)
      (result (result (own $st) (error $ec)))))
    (export "[method]resolve-address-stream.resolve-next-address"
      (func (param "self" (borrow $st)) (result (result (option $ip) (error $ec)))))
    (alias outer 1 $pollable (type $p0)) (export "pollable" (type $p (eq $p0)))
    (export "[method]resolve-address-stream.subscribe"
      (func (param "self" (borrow $st)) (result (own $p))))))
  (alias export $udp "incoming-datagram-stream" (type $incoming))
  (alias export $udp "outgoing-datagram-stream" (type $outgoing))
  (core func $drop-tcp-core (canon resource.drop $tcp-socket))
  (func $drop-tcp (param "r" (own $tcp-socket)) (canon lift (core func $drop-tcp-core)))
  (export "drop-tcp" (func $drop-tcp))
  (core func $drop-udp-core (canon resource.drop $udp-socket))
  (func $drop-udp (param "r" (own $udp-socket)) (canon lift (core func $drop-udp-core)))
  (export "drop-udp" (func $drop-udp))
  (core func $drop-input-core (canon resource.drop $input))
  (func $drop-input (param "r" (own $input)) (canon lift (core func $drop-input-core)))
  (export "drop-input" (func $drop-input))
  (core func $drop-output-core (canon resource.drop $output))
  (func $drop-output (param "r" (own $output)) (canon lift (core func $drop-output-core)))
  (export "drop-output" (func $drop-output))
  (core func $drop-pollable-core (canon resource.drop $pollable))
  (func $drop-pollable (param "r" (own $pollable)) (canon lift (core func $drop-pollable-core)))
  (export "drop-pollable" (func $drop-pollable))
  (core func $drop-incoming-core (canon resource.drop $incoming))
  (func $drop-incoming (param "r" (own $incoming)) (canon lift (core func $drop-incoming-core)))
  (export "drop-incoming" (func $drop-incoming))
  (core func $drop-outgoing-core (canon resource.drop $outgoing))
  (func $drop-outgoing (param "r" (own $outgoing)) (canon lift (core func $drop-outgoing-core)))
  (export "drop-outgoing" (func $drop-outgoing))
    (export "block" (func $poll "[method]pollable.block"))
  (export "ready" (func $poll "[method]pollable.ready"))
  (export "write-nb" (func $s "[method]output-stream.write"))
  (export "check-write" (func $s "[method]output-stream.check-write"))
    (export "flush" (func $s "[method]output-stream.blocking-flush"))
  (export "write-zeroes-blocking" (func $s "[method]output-stream.blocking-write-zeroes-and-flush"))
  (export "read" (func $s "[method]input-stream.blocking-read"))
  (export "write" (func $s "[method]output-stream.blocking-write-and-flush"))
  (export "instance-network" (func $inet "instance-network"))
  (export "create-tcp-socket" (func $tcpc "create-tcp-socket"))
  (export "tcp-start-bind" (func $tcp "[method]tcp-socket.start-bind"))
  (export "tcp-finish-bind" (func $tcp "[method]tcp-socket.finish-bind"))
  (export "tcp-start-connect" (func $tcp "[method]tcp-socket.start-connect"))
  (export "tcp-finish-connect" (func $tcp "[method]tcp-socket.finish-connect"))
  (export "tcp-start-listen" (func $tcp "[method]tcp-socket.start-listen"))
  (export "tcp-finish-listen" (func $tcp "[method]tcp-socket.finish-listen"))
  (export "tcp-accept" (func $tcp "[method]tcp-socket.accept"))
  (export "tcp-local-address" (func $tcp "[method]tcp-socket.local-address"))
  (export "tcp-remote-address" (func $tcp "[method]tcp-socket.remote-address"))
  (export "tcp-is-listening" (func $tcp "[method]tcp-socket.is-listening"))
  (export "tcp-address-family" (func $tcp "[method]tcp-socket.address-family"))
  (export "tcp-keep-alive-enabled" (func $tcp "[method]tcp-socket.keep-alive-enabled"))
  (export "tcp-set-keep-alive-enabled" (func $tcp "[method]tcp-socket.set-keep-alive-enabled"))
  (export "tcp-keep-alive-idle-time" (func $tcp "[method]tcp-socket.keep-alive-idle-time"))
  (export "tcp-set-keep-alive-idle-time" (func $tcp "[method]tcp-socket.set-keep-alive-idle-time"))
  (export "tcp-set-listen-backlog-size" (func $tcp "[method]tcp-socket.set-listen-backlog-size"))
  (export "tcp-subscribe" (func $tcp "[method]tcp-socket.subscribe"))
  (export "tcp-shutdown" (func $tcp "[method]tcp-socket.shutdown"))
  (export "create-udp-socket" (func $udpc "create-udp-socket"))
  (export "udp-start-bind" (func $udp "[method]udp-socket.start-bind"))
  (export "udp-finish-bind" (func $udp "[method]udp-socket.finish-bind"))
  (export "udp-stream" (func $udp "[method]udp-socket.stream"))
  (export "udp-local-address" (func $udp "[method]udp-socket.local-address"))
  (export "udp-receive" (func $udp "[method]incoming-datagram-stream.receive"))
  (export "udp-incoming-subscribe" (func $udp "[method]incoming-datagram-stream.subscribe"))
  (export "udp-check-send" (func $udp "[method]outgoing-datagram-stream.check-send"))
  (export "udp-send" (func $udp "[method]outgoing-datagram-stream.send"))
  (export "resolve-addresses" (func $lookup "resolve-addresses"))
  (export "resolve-next-address" (func $lookup "[method]resolve-address-stream.resolve-next-address"))
  (export "resolve-subscribe" (func $lookup "[method]resolve-address-stream.subscribe")))"#
    )
}

/// An instance of the test component in a store with the context
/// `setup` makes.
struct Guest {
    store: Store<WasiCtx>,
    instance: Instance,
}

impl Guest {
    fn new(setup: impl FnOnce(&mut WasiCtx)) -> Guest {
        Guest::at_version("0.2.6", setup)
    }

    /// A guest whose sockets may reach every address.
    fn networked() -> Guest {
        Guest::new(|c| {
            c.inherit_network();
        })
    }

    fn at_version(version: &str, setup: impl FnOnce(&mut WasiCtx)) -> Guest {
        let engine = Engine::default();
        let component = Component::new(&engine, component_wat(version)).unwrap();
        let mut linker = Linker::<WasiCtx>::new(&engine);
        walmart::component::wasi::add_to_linker(&mut linker, |c| c).unwrap();
        let mut ctx = WasiCtx::new();
        // Sockets may be made (wasmtime's embedding default is none, as
        // walmart's: tested below); what they reach is `setup`'s to say.
        ctx.allow_tcp(true).allow_udp(true);
        setup(&mut ctx);
        let mut store = Store::new(&engine, ctx);
        let instance = linker.instantiate(&mut store, &component).unwrap();
        Guest { store, instance }
    }

    fn try_call(&mut self, name: &str, params: &[Val]) -> walmart::Result<Option<Val>> {
        let f = self.instance.get_func(&mut self.store, name).unwrap();
        let n = f.ty().result().is_some() as usize;
        let mut results = vec![Val::Bool(false); n];
        f.call(&mut self.store, params, &mut results)?;
        Ok(results.pop())
    }

    fn call(&mut self, name: &str, params: &[Val]) -> Val {
        self.try_call(name, params)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .unwrap_or(Val::Bool(false))
    }

    /// The payload of a call's `ok`: panics on an `err`.
    fn ok(&mut self, name: &str, params: &[Val]) -> Val {
        match self.call(name, params) {
            Val::Result(Ok(Some(v))) => *v,
            Val::Result(Ok(None)) => Val::Tuple(vec![]),
            other => panic!("{name}: {other:?}"),
        }
    }

    /// The error code of a call's `err`: panics on an `ok`.
    fn err(&mut self, name: &str, params: &[Val]) -> String {
        match self.call(name, params) {
            Val::Result(Err(Some(v))) => match *v {
                Val::Enum(code) => code,
                other => panic!("{name}: {other:?}"),
            },
            other => panic!("{name}: expected an error, got {other:?}"),
        }
    }

    fn network(&mut self) -> Val {
        self.call("instance-network", &[])
    }

    /// Drops the guest's handle `v` of resource `kind` (`tcp`, `input`,
    /// ...) as a guest does, through `resource.drop`.
    fn drop(&mut self, kind: &str, v: Val) {
        self.call(&format!("drop-{kind}"), &[v]);
    }
}

fn family(v4: bool) -> Val {
    Val::Enum(if v4 { "ipv4" } else { "ipv6" }.into())
}

fn addr(a: SocketAddr) -> Val {
    match a {
        SocketAddr::V4(a) => Val::Variant(
            "ipv4".into(),
            Some(Box::new(Val::Record(vec![
                ("port".into(), Val::U16(a.port())),
                (
                    "address".into(),
                    Val::Tuple(a.ip().octets().iter().map(|&o| Val::U8(o)).collect()),
                ),
            ]))),
        ),
        SocketAddr::V6(a) => Val::Variant(
            "ipv6".into(),
            Some(Box::new(Val::Record(vec![
                ("port".into(), Val::U16(a.port())),
                ("flow-info".into(), Val::U32(0)),
                (
                    "address".into(),
                    Val::Tuple(a.ip().segments().iter().map(|&s| Val::U16(s)).collect()),
                ),
                ("scope-id".into(), Val::U32(0)),
            ]))),
        ),
    }
}

/// The port of an `ip-socket-address` value.
fn port_of(v: &Val) -> u16 {
    match v {
        Val::Variant(_, Some(r)) => match &**r {
            Val::Record(fields) => match fields[0] {
                (_, Val::U16(p)) => p,
                _ => panic!("{v:?}"),
            },
            _ => panic!("{v:?}"),
        },
        _ => panic!("{v:?}"),
    }
}

fn bytes(b: &[u8]) -> Val {
    Val::List(b.iter().map(|&b| Val::U8(b)).collect())
}

fn tuple(v: Val) -> Vec<Val> {
    match v {
        Val::Tuple(items) => items,
        other => panic!("a tuple expected: {other:?}"),
    }
}

fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Waits for the connect `sock` started: its streams, or its error code.
fn finish_connect(g: &mut Guest, sock: &Val) -> Result<Vec<Val>, Val> {
    loop {
        match g.call("tcp-finish-connect", from_ref(sock)) {
            Val::Result(Ok(Some(v))) => return Ok(tuple(*v)),
            Val::Result(Err(Some(e))) if *e == Val::Enum("would-block".into()) => {
                let p = g.call("tcp-subscribe", from_ref(sock));
                g.call("block", from_ref(&p));
                g.drop("pollable", p);
            }
            Val::Result(Err(Some(e))) => return Err(*e),
            other => panic!("finish-connect: {other:?}"),
        }
    }
}

/// A TCP socket of the guest's connected to `to`, and its streams.
fn connect(g: &mut Guest, to: SocketAddr) -> (Val, Vec<Val>) {
    let net = g.network();
    let sock = g.ok("create-tcp-socket", &[family(true)]);
    g.ok("tcp-start-connect", &[sock.clone(), net, addr(to)]);
    let streams = finish_connect(g, &sock).unwrap_or_else(|e| panic!("connect: {e:?}"));
    (sock, streams)
}

/// A bound, listening TCP socket of the guest's: the socket and its port.
fn listen(g: &mut Guest) -> (Val, u16) {
    let net = g.network();
    let sock = g.ok("create-tcp-socket", &[family(true)]);
    g.ok("tcp-start-bind", &[sock.clone(), net, addr(local(0))]);
    g.ok("tcp-finish-bind", from_ref(&sock));
    g.ok("tcp-start-listen", from_ref(&sock));
    g.ok("tcp-finish-listen", from_ref(&sock));
    let port = port_of(&g.ok("tcp-local-address", from_ref(&sock)));
    assert_ne!(port, 0);
    (sock, port)
}

#[test]
fn no_address_is_reachable_unless_the_embedder_allows_it() {
    let mut g = Guest::new(|_| {});
    let net = g.network();
    // Sockets are made; what they may reach is nothing.
    let tcp = g.ok("create-tcp-socket", &[family(true)]);
    assert_eq!(
        g.err(
            "tcp-start-bind",
            &[tcp.clone(), net.clone(), addr(local(0))]
        ),
        "access-denied"
    );
    assert_eq!(
        g.err(
            "tcp-start-connect",
            &[tcp.clone(), net.clone(), addr(local(80))]
        ),
        "access-denied"
    );
    let udp = g.ok("create-udp-socket", &[family(true)]);
    assert_eq!(
        g.err("udp-start-bind", &[udp, net.clone(), addr(local(0))]),
        "access-denied"
    );
    assert_eq!(
        g.err("resolve-addresses", &[net, Val::String("localhost".into())]),
        "permanent-resolver-failure"
    );

    // A context as it comes: no socket at all, as wasmtime's.
    let engine = Engine::default();
    let component = Component::new(&engine, component_wat("0.2.6")).unwrap();
    let mut linker = Linker::<WasiCtx>::new(&engine);
    walmart::component::wasi::add_to_linker(&mut linker, |c| c).unwrap();
    let mut store = Store::new(&engine, WasiCtx::new());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let mut bare = Guest { store, instance };
    assert_eq!(
        bare.err("create-tcp-socket", &[family(true)]),
        "access-denied"
    );
    assert_eq!(
        bare.err("create-udp-socket", &[family(true)]),
        "access-denied"
    );

    // TCP or UDP switched off: no socket at all.
    let mut g = Guest::new(|c| {
        c.inherit_network().allow_tcp(false).allow_udp(false);
    });
    assert_eq!(g.err("create-tcp-socket", &[family(true)]), "access-denied");
    assert_eq!(
        g.err("create-udp-socket", &[family(false)]),
        "access-denied"
    );

    // A check of the embedder's: connections to one port only.
    let host = TcpListener::bind(local(0)).unwrap();
    let allowed = host.local_addr().unwrap();
    // A connect from an unbound socket binds it to the unspecified
    // address first: the policy's too, as wasmtime's.
    let mut g = Guest::new(move |c| {
        c.socket_addr_check(move |a, how| match how {
            SocketAddrUse::TcpConnect => a == allowed,
            SocketAddrUse::TcpBind => a.ip().is_unspecified() && a.port() == 0,
            _ => false,
        });
    });
    let net = g.network();
    let sock = g.ok("create-tcp-socket", &[family(true)]);
    assert_eq!(
        g.err(
            "tcp-start-bind",
            &[sock.clone(), net.clone(), addr(local(0))]
        ),
        "access-denied"
    );
    let other = g.ok("create-tcp-socket", &[family(true)]);
    let mut elsewhere = allowed;
    elsewhere.set_port(allowed.port().wrapping_add(1).max(1));
    assert_eq!(
        g.err("tcp-start-connect", &[other, net.clone(), addr(elsewhere)]),
        "access-denied"
    );
    g.ok("tcp-start-connect", &[sock.clone(), net, addr(allowed)]);
    host.accept().unwrap();

    // Without the implicit bind's permission, no connect.
    let mut g = Guest::new(move |c| {
        c.socket_addr_check(move |a, how| how == SocketAddrUse::TcpConnect && a == allowed);
    });
    let net = g.network();
    let sock = g.ok("create-tcp-socket", &[family(true)]);
    assert_eq!(
        g.err("tcp-start-connect", &[sock, net, addr(allowed)]),
        "access-denied"
    );

    // Addresses WASI refuses before any policy: an IPv4-mapped IPv6
    // address, a multicast one.
    let mut g = Guest::networked();
    let net = g.network();
    let v6 = g.ok("create-tcp-socket", &[family(false)]);
    assert_eq!(
        g.err(
            "tcp-start-bind",
            &[
                v6,
                net.clone(),
                addr("[::ffff:127.0.0.1]:0".parse().unwrap())
            ]
        ),
        "invalid-argument"
    );
    let udp = g.ok("create-udp-socket", &[family(true)]);
    assert_eq!(
        g.err(
            "udp-start-bind",
            &[udp, net, addr("224.0.0.1:0".parse().unwrap())]
        ),
        "invalid-argument"
    );
}

#[test]
fn a_tcp_server_accepts_reads_writes_and_shuts_down() {
    let mut g = Guest::networked();
    let (server, port) = listen(&mut g);
    assert_eq!(
        g.call("tcp-is-listening", from_ref(&server)),
        Val::Bool(true)
    );
    assert_eq!(
        g.call("tcp-address-family", from_ref(&server)),
        family(true)
    );
    // Nothing pending: WASI's accept does not block.
    assert_eq!(g.err("tcp-accept", from_ref(&server)), "would-block");

    let mut client = TcpStream::connect(local(port)).unwrap();
    let ready = g.call("tcp-subscribe", from_ref(&server));
    g.call("block", from_ref(&ready));
    g.drop("pollable", ready);
    let [conn, input, output]: [Val; 3] = tuple(g.ok("tcp-accept", from_ref(&server)))
        .try_into()
        .unwrap();
    let peer = g.ok("tcp-remote-address", from_ref(&conn));
    assert_eq!(port_of(&peer), client.local_addr().unwrap().port());
    assert_eq!(
        g.call("tcp-is-listening", from_ref(&conn)),
        Val::Bool(false)
    );

    g.ok("write", &[output.clone(), bytes(b"hello")]);
    let mut buf = [0u8; 5];
    client.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"hello");
    client.write_all(b"world").unwrap();
    assert_eq!(g.ok("read", &[input.clone(), Val::U64(5)]), bytes(b"world"));

    // Options read back; zero is no valid idle time.
    g.ok(
        "tcp-set-keep-alive-enabled",
        &[conn.clone(), Val::Bool(true)],
    );
    assert_eq!(
        g.ok("tcp-keep-alive-enabled", from_ref(&conn)),
        Val::Bool(true)
    );
    g.ok(
        "tcp-set-keep-alive-idle-time",
        &[conn.clone(), Val::U64(30_000_000_000)],
    );
    assert_eq!(
        g.ok("tcp-keep-alive-idle-time", from_ref(&conn)),
        Val::U64(30_000_000_000)
    );
    assert_eq!(
        g.err("tcp-set-keep-alive-idle-time", &[conn.clone(), Val::U64(0)]),
        "invalid-argument"
    );
    assert_eq!(
        g.err("tcp-set-listen-backlog-size", &[conn.clone(), Val::U64(8)]),
        "invalid-state"
    );

    g.ok("tcp-shutdown", &[conn.clone(), Val::Enum("send".into())]);
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
    drop(client);
    // The peer gone: the stream is closed.
    assert_eq!(
        g.call("read", &[input.clone(), Val::U64(5)]),
        Val::Result(Err(Some(Box::new(Val::Variant("closed".into(), None)))))
    );
    g.drop("input", input);
    g.drop("output", output);
    g.drop("tcp", conn);
    g.drop("tcp", server);
}

/// A connection's streams are its socket's children, as WASI says: the
/// socket dropped first is a trap, and its descriptor stays open.
#[test]
fn a_socket_outlived_by_its_streams_is_not_dropped() {
    let mut g = Guest::networked();
    let (server, port) = listen(&mut g);
    let mut client = TcpStream::connect(local(port)).unwrap();
    let ready = g.call("tcp-subscribe", from_ref(&server));
    g.call("block", from_ref(&ready));
    let [conn, _input, output]: [Val; 3] = tuple(g.ok("tcp-accept", &[server])).try_into().unwrap();
    g.ok("write", &[output, bytes(b"still")]);
    let err = g.try_call("drop-tcp", &[conn]).unwrap_err();
    assert!(err.to_string().contains("drop those first"), "{err}");
    drop(g);
    // The store's end closes it.
    let mut got = Vec::new();
    client.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"still");
}

#[test]
fn a_tcp_client_connects_without_blocking() {
    let host = TcpListener::bind(local(0)).unwrap();
    let to = host.local_addr().unwrap();
    let mut g = Guest::networked();
    let net = g.network();
    let sock = g.ok("create-tcp-socket", &[family(true)]);
    // What WASI checks before the host does.
    assert_eq!(
        g.err("tcp-finish-connect", from_ref(&sock)),
        "not-in-progress"
    );
    assert_eq!(g.err("tcp-start-listen", from_ref(&sock)), "invalid-state");
    assert_eq!(g.err("tcp-local-address", from_ref(&sock)), "invalid-state");
    assert_eq!(
        g.err(
            "tcp-start-connect",
            &[sock.clone(), net.clone(), addr(local(0))]
        ),
        "invalid-argument"
    );
    assert_eq!(
        g.err(
            "tcp-start-connect",
            &[sock.clone(), net.clone(), addr("[::1]:80".parse().unwrap())]
        ),
        "invalid-argument"
    );

    g.ok("tcp-start-connect", &[sock.clone(), net.clone(), addr(to)]);
    let streams = finish_connect(&mut g, &sock).unwrap();
    assert_eq!(
        g.err("tcp-start-connect", &[sock.clone(), net, addr(to)]),
        "invalid-state"
    );
    let (mut served, _) = host.accept().unwrap();
    g.ok("write", &[streams[1].clone(), bytes(b"ping")]);
    let mut buf = [0u8; 4];
    served.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");
    served.write_all(b"pong").unwrap();
    assert_eq!(
        g.ok("read", &[streams[0].clone(), Val::U64(4)]),
        bytes(b"pong")
    );

    // Connection refused: a port no one listens on.
    let closed = TcpListener::bind(local(0)).unwrap().local_addr().unwrap();
    let sock = g.ok("create-tcp-socket", &[family(true)]);
    let net = g.network();
    let refused = match g.call("tcp-start-connect", &[sock.clone(), net, addr(closed)]) {
        Val::Result(Err(Some(e))) => *e,
        _ => finish_connect(&mut g, &sock).unwrap_err(),
    };
    assert_eq!(refused, Val::Enum("connection-refused".into()));
}

#[test]
fn udp_datagrams_go_both_ways() {
    let mut g = Guest::networked();
    let net = g.network();
    let sock = g.ok("create-udp-socket", &[family(true)]);
    // Unbound: no streams yet.
    assert_eq!(
        g.err("udp-stream", &[sock.clone(), Val::Option(None)]),
        "invalid-state"
    );
    g.ok("udp-start-bind", &[sock.clone(), net, addr(local(0))]);
    g.ok("udp-finish-bind", from_ref(&sock));
    let port = port_of(&g.ok("udp-local-address", from_ref(&sock)));
    let [incoming, outgoing]: [Val; 2] =
        tuple(g.ok("udp-stream", &[sock.clone(), Val::Option(None)]))
            .try_into()
            .unwrap();
    // Nothing waiting: an empty list, never would-block.
    assert_eq!(
        g.ok("udp-receive", &[incoming.clone(), Val::U64(4)]),
        Val::List(vec![])
    );

    let host = UdpSocket::bind(local(0)).unwrap();
    host.send_to(b"one", local(port)).unwrap();
    host.send_to(b"two", local(port)).unwrap();
    let p = g.call("udp-incoming-subscribe", from_ref(&incoming));
    g.call("block", from_ref(&p));
    g.drop("pollable", p);
    let mut got = Vec::new();
    while got.len() < 2 {
        match g.ok("udp-receive", &[incoming.clone(), Val::U64(4)]) {
            Val::List(items) => got.extend(items),
            other => panic!("{other:?}"),
        }
    }
    for (d, want) in got.iter().zip([&b"one"[..], b"two"]) {
        let Val::Record(fields) = d else {
            panic!("{d:?}")
        };
        assert_eq!(fields[0].1, bytes(want));
        assert_eq!(port_of(&fields[1].1), host.local_addr().unwrap().port());
    }

    let to = host.local_addr().unwrap();
    // More than check-send permitted is a trap, as WASI says.
    let err = g
        .try_call(
            "udp-send",
            &[outgoing.clone(), Val::List(vec![datagram(b"x", Some(to))])],
        )
        .unwrap_err();
    assert!(err.to_string().contains("check-send permitted 0"), "{err}");
    let permit = g.ok("udp-check-send", from_ref(&outgoing));
    assert!(matches!(permit, Val::U64(n) if n >= 1), "{permit:?}");
    // A datagram with no address, from an unfixed stream: nowhere to go.
    assert_eq!(
        g.err(
            "udp-send",
            &[outgoing.clone(), Val::List(vec![datagram(b"x", None)])]
        ),
        "invalid-argument"
    );
    g.ok("udp-check-send", from_ref(&outgoing));
    assert_eq!(
        g.ok(
            "udp-send",
            &[
                outgoing.clone(),
                Val::List(vec![datagram(b"back", Some(to))])
            ]
        ),
        Val::U64(1)
    );
    let mut buf = [0u8; 16];
    let (n, from) = host.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"back");
    assert_eq!(from.port(), port);

    // New streams while the old ones live: a trap; after their drop, a
    // stream fixed to the host's socket.
    let err = g
        .try_call("udp-stream", &[sock.clone(), Val::Option(None)])
        .unwrap_err();
    assert!(err.to_string().contains("drop those first"), "{err}");
    g.drop("incoming", incoming);
    g.drop("outgoing", outgoing);
    let [_incoming, outgoing]: [Val; 2] = tuple(g.ok(
        "udp-stream",
        &[sock.clone(), Val::Option(Some(Box::new(addr(to))))],
    ))
    .try_into()
    .unwrap();
    g.ok("udp-check-send", from_ref(&outgoing));
    assert_eq!(
        g.ok(
            "udp-send",
            &[outgoing.clone(), Val::List(vec![datagram(b"fixed", None)])]
        ),
        Val::U64(1)
    );
    let (n, _) = host.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"fixed");
}

#[test]
fn names_resolve_when_lookups_are_allowed() {
    let mut g = Guest::new(|c| {
        c.allow_ip_name_lookup(true);
    });
    let net = g.network();
    let resolved = |g: &mut Guest, name: &str| {
        let stream = g.ok(
            "resolve-addresses",
            &[net.clone(), Val::String(name.into())],
        );
        let mut all = Vec::new();
        loop {
            match g.call("resolve-next-address", from_ref(&stream)) {
                Val::Result(Ok(Some(v))) => match *v {
                    Val::Option(Some(ip)) => all.push(*ip),
                    Val::Option(None) => break,
                    other => panic!("{other:?}"),
                },
                // The resolver's thread has not answered: its pollable
                // becomes ready when it has.
                Val::Result(Err(Some(e))) if *e == Val::Enum("would-block".into()) => {
                    let p = g.call("resolve-subscribe", from_ref(&stream));
                    g.call("block", from_ref(&p));
                    g.drop("pollable", p);
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        all
    };
    let loopback = Val::Variant(
        "ipv4".into(),
        Some(Box::new(Val::Tuple(vec![
            Val::U8(127),
            Val::U8(0),
            Val::U8(0),
            Val::U8(1),
        ]))),
    );
    assert_eq!(resolved(&mut g, "127.0.0.1"), vec![loopback.clone()]);
    let v6_loopback = Val::Variant(
        "ipv6".into(),
        Some(Box::new(Val::Tuple(
            [0, 0, 0, 0, 0, 0, 0, 1]
                .iter()
                .map(|&s| Val::U16(s))
                .collect(),
        ))),
    );
    let local = resolved(&mut g, "localhost");
    assert!(!local.is_empty());
    assert!(
        local.iter().all(|ip| *ip == loopback || *ip == v6_loopback),
        "{local:?}"
    );
    assert_eq!(
        g.err(
            "resolve-addresses",
            &[net.clone(), Val::String("no..such".into())]
        ),
        "invalid-argument"
    );
}

/// Python's, Rust's and C's WASI 0.2 toolchains import the interfaces at
/// their own 0.2 versions: those link too.
#[test]
fn the_interfaces_link_at_later_versions() {
    let mut g = Guest::at_version("0.2.12", |c| {
        c.inherit_network();
    });
    listen(&mut g);
}

/// One `subscribe` serves a socket's whole life, as WASI says (wasi-libc
/// subscribes once and reuses the pollable): ready while nothing is in
/// progress, waiting for a client while listening.
#[test]
fn one_pollable_follows_its_socket_through_its_states() {
    let mut g = Guest::networked();
    let net = g.network();
    let sock = g.ok("create-tcp-socket", &[family(true)]);
    let p = g.call("tcp-subscribe", from_ref(&sock));
    assert_eq!(g.call("ready", from_ref(&p)), Val::Bool(true));
    g.ok("tcp-start-bind", &[sock.clone(), net, addr(local(0))]);
    g.ok("tcp-finish-bind", from_ref(&sock));
    g.ok("tcp-start-listen", from_ref(&sock));
    g.ok("tcp-finish-listen", from_ref(&sock));
    assert_eq!(g.call("ready", from_ref(&p)), Val::Bool(false));
    let port = port_of(&g.ok("tcp-local-address", from_ref(&sock)));
    let _client = TcpStream::connect(local(port)).unwrap();
    g.call("block", from_ref(&p));
    assert_eq!(g.call("ready", from_ref(&p)), Val::Bool(true));
    let [conn, input, output]: [Val; 3] = tuple(g.ok("tcp-accept", from_ref(&sock)))
        .try_into()
        .unwrap();
    g.drop("input", input);
    g.drop("output", output);
    g.drop("tcp", conn);
    // The pollable is the socket's child too.
    let err = g.try_call("drop-tcp", &[sock]).unwrap_err();
    assert!(err.to_string().contains("drop those first"), "{err}");
}

/// A connected socket whose peer does not read: `check-write` says 0
/// once the socket is full, and neither it nor `write` blocks; a
/// blocking flush then sends what waited, every byte once, in order.
#[test]
fn a_full_socket_never_blocks_a_write() {
    let host = TcpListener::bind(local(0)).unwrap();
    let to = host.local_addr().unwrap();
    let mut g = Guest::networked();
    let (sock, streams) = connect(&mut g, to);
    let (mut served, _) = host.accept().unwrap();
    let output = streams[1].clone();
    let mut sent: Vec<u8> = Vec::new();
    let mut full = false;
    for round in 0..100_000u32 {
        let permit = match g.ok("check-write", from_ref(&output)) {
            Val::U64(n) => n,
            other => panic!("{other:?}"),
        };
        if permit == 0 {
            full = true;
            break;
        }
        let chunk: Vec<u8> = (0..permit.min(1 << 16))
            .map(|i| (i as u32 ^ round) as u8)
            .collect();
        g.ok("write-nb", &[output.clone(), bytes(&chunk)]);
        sent.extend_from_slice(&chunk);
    }
    assert!(full, "check-write never said the socket was full");
    let reader = std::thread::spawn(move || {
        served
            .set_read_timeout(Some(std::time::Duration::from_secs(60)))
            .unwrap();
        let mut got = Vec::new();
        served.read_to_end(&mut got).unwrap();
        got
    });
    g.ok("flush", from_ref(&output));
    assert!(matches!(g.ok("check-write", from_ref(&output)), Val::U64(n) if n > 0));
    g.drop("output", output);
    g.drop("input", streams[0].clone());
    g.drop("tcp", sock);
    assert!(reader.join().unwrap() == sent);
}

/// A write past what `check-write` permitted is a trap, as WASI says: the
/// bytes waiting unsent stay bounded.
#[test]
fn a_socket_write_past_its_permit_traps() {
    let host = TcpListener::bind(local(0)).unwrap();
    let mut g = Guest::networked();
    let (_sock, mut streams) = connect(&mut g, host.local_addr().unwrap());
    let output = streams.remove(1);
    let _served = host.accept().unwrap();
    let too_much = vec![0u8; (1 << 20) + 1];
    let err = g
        .try_call("write-nb", &[output, bytes(&too_much)])
        .unwrap_err();
    assert!(err.to_string().contains("check-write permitted"), "{err}");
}

/// Datagrams the guest may not hear are dropped unseen: those of senders
/// the policy denies, and, on a stream fixed to one peer, another peer's
/// that came before the stream was.
#[test]
fn datagrams_come_only_from_peers_the_guest_may_hear() {
    let friend = UdpSocket::bind(local(0)).unwrap();
    let stranger = UdpSocket::bind(local(0)).unwrap();
    let friend_addr = friend.local_addr().unwrap();
    let stranger_addr = stranger.local_addr().unwrap();
    let mut g = Guest::new(move |c| {
        c.socket_addr_check(move |a, how| match how {
            SocketAddrUse::UdpBind => true,
            SocketAddrUse::UdpSend | SocketAddrUse::UdpReceive => a == friend_addr,
            _ => false,
        });
    });
    let net = g.network();
    let sock = g.ok("create-udp-socket", &[family(true)]);
    g.ok("udp-start-bind", &[sock.clone(), net, addr(local(0))]);
    g.ok("udp-finish-bind", from_ref(&sock));
    let port = port_of(&g.ok("udp-local-address", from_ref(&sock)));
    let [incoming, outgoing]: [Val; 2] =
        tuple(g.ok("udp-stream", &[sock.clone(), Val::Option(None)]))
            .try_into()
            .unwrap();
    stranger.send_to(b"unheard", local(port)).unwrap();
    friend.send_to(b"heard", local(port)).unwrap();
    let got = receive_all(&mut g, &incoming, 1);
    assert_eq!(got, vec![(b"heard".to_vec(), friend_addr.port())]);
    g.ok("udp-check-send", from_ref(&outgoing));
    let to_stranger = datagram(b"x", Some(stranger_addr));
    assert_eq!(
        g.err(
            "udp-send",
            &[outgoing.clone(), Val::List(vec![to_stranger])]
        ),
        "access-denied"
    );
    g.drop("incoming", incoming);
    g.drop("outgoing", outgoing);

    // Fixed to the friend: the stranger's datagram queued before is not
    // given (the policy would let it through here).
    let mut g = Guest::networked();
    let net = g.network();
    let sock = g.ok("create-udp-socket", &[family(true)]);
    g.ok("udp-start-bind", &[sock.clone(), net, addr(local(0))]);
    g.ok("udp-finish-bind", from_ref(&sock));
    let port = port_of(&g.ok("udp-local-address", from_ref(&sock)));
    // The stranger's datagram waits on the socket before the stream is
    // fixed: seen ready on an unfixed stream, which is then dropped.
    stranger.send_to(b"early", local(port)).unwrap();
    let [open, open_out]: [Val; 2] = tuple(g.ok("udp-stream", &[sock.clone(), Val::Option(None)]))
        .try_into()
        .unwrap();
    let p = g.call("udp-incoming-subscribe", from_ref(&open));
    g.call("block", from_ref(&p));
    g.drop("pollable", p);
    g.drop("incoming", open);
    g.drop("outgoing", open_out);
    let [incoming, _outgoing]: [Val; 2] = tuple(g.ok(
        "udp-stream",
        &[sock, Val::Option(Some(Box::new(addr(friend_addr))))],
    ))
    .try_into()
    .unwrap();
    friend.send_to(b"late", local(port)).unwrap();
    let got = receive_all(&mut g, &incoming, 1);
    assert_eq!(got, vec![(b"late".to_vec(), friend_addr.port())]);
}

/// An `outgoing-datagram` record.
fn datagram(data: &[u8], to: Option<SocketAddr>) -> Val {
    Val::Record(vec![
        ("data".into(), bytes(data)),
        (
            "remote-address".into(),
            Val::Option(to.map(|a| Box::new(addr(a)))),
        ),
    ])
}

/// Receives until `n` datagrams came: their bytes and senders' ports.
fn receive_all(g: &mut Guest, incoming: &Val, n: usize) -> Vec<(Vec<u8>, u16)> {
    let mut got = Vec::new();
    while got.len() < n {
        let p = g.call("udp-incoming-subscribe", from_ref(incoming));
        g.call("block", from_ref(&p));
        g.drop("pollable", p);
        let Val::List(items) = g.ok("udp-receive", &[incoming.clone(), Val::U64(8)]) else {
            panic!("a list expected")
        };
        for d in items {
            let Val::Record(fields) = d else { panic!() };
            let Val::List(data) = &fields[0].1 else {
                panic!()
            };
            let data = data
                .iter()
                .map(|b| match b {
                    Val::U8(b) => *b,
                    _ => panic!(),
                })
                .collect();
            got.push((data, port_of(&fields[1].1)));
        }
    }
    got
}

/// Bytes a socket's stream holds unsent are sent before its sending side
/// shuts down, and before a dropped stream goes (wasi-libc's `close`
/// drops it unflushed); a blocking write then waits for them first.
#[test]
fn bytes_waiting_unsent_go_out_before_a_shutdown_or_a_drop() {
    for end in ["shutdown", "drop", "zeroes"] {
        let host = TcpListener::bind(local(0)).unwrap();
        let to = host.local_addr().unwrap();
        let mut g = Guest::new(|c| {
            c.inherit_network();
        });
        let (sock, streams) = connect(&mut g, to);
        let (mut served, _) = host.accept().unwrap();
        served
            .set_read_timeout(Some(std::time::Duration::from_secs(60)))
            .unwrap();
        let [input, output]: [Val; 2] = streams.try_into().unwrap();
        // Filled: the kernel's buffers, then a permit's worth waiting.
        let mut sent: Vec<u8> = Vec::new();
        for round in 0..100_000u32 {
            let Val::U64(permit) = g.ok("check-write", from_ref(&output)) else {
                panic!()
            };
            if permit == 0 {
                break;
            }
            // Writes within the permit while bytes wait are fine.
            let chunk: Vec<u8> = (0..permit.min(5000))
                .map(|i| (i as u32 ^ round) as u8)
                .collect();
            g.ok("write-nb", &[output.clone(), bytes(&chunk)]);
            sent.extend_from_slice(&chunk);
        }
        // A reader that comes late: the guest's calls below find bytes
        // waiting.
        let reader = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(200));
            let mut got = Vec::new();
            served.read_to_end(&mut got).unwrap();
            got
        });
        match end {
            "shutdown" => {
                g.ok("tcp-shutdown", &[sock.clone(), Val::Enum("send".into())]);
            }
            "zeroes" => {
                g.ok("write-zeroes-blocking", &[output.clone(), Val::U64(1000)]);
                sent.extend_from_slice(&[0; 1000]);
                g.ok("tcp-shutdown", &[sock.clone(), Val::Enum("send".into())]);
            }
            _ => {
                g.drop("output", output);
                g.drop("input", input);
                g.drop("tcp", sock);
            }
        }
        assert!(reader.join().unwrap() == sent, "{end}");
    }
}

/// In an asynchronous call, blocking on a listening socket's pollable
/// (the socket's state resolved when it waits) suspends the call, not
/// the executor's thread: a timer on the same thread fires while it
/// waits, and the client a thread of the host's brings later wakes it.
#[test]
fn a_wait_for_a_client_suspends_an_asynchronous_call() {
    use std::time::{Duration, Instant};
    let mut config = walmart::Config::new();
    config.async_support(true);
    let engine = Engine::new(&config).unwrap();
    let component = Component::new(&engine, component_wat("0.2.6")).unwrap();
    let mut linker = Linker::<WasiCtx>::new(&engine);
    walmart::component::wasi::add_to_linker(&mut linker, |c| c).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let started = Instant::now();
    let (timer_fired, accepted) = rt.block_on(async {
        let mut ctx = WasiCtx::new();
        ctx.allow_tcp(true).inherit_network();
        let mut store = Store::new(&engine, ctx);
        let instance = linker
            .instantiate_async(&mut store, &component)
            .await
            .unwrap();
        let ok = |v: Option<Val>| match v {
            Some(Val::Result(Ok(Some(v)))) => *v,
            Some(Val::Result(Ok(None))) => Val::Tuple(vec![]),
            other => panic!("{other:?}"),
        };
        let net = call(&mut store, &instance, "instance-network", vec![])
            .await
            .unwrap();
        let sock = ok(call(
            &mut store,
            &instance,
            "create-tcp-socket",
            vec![family(true)],
        )
        .await);
        ok(call(
            &mut store,
            &instance,
            "tcp-start-bind",
            vec![sock.clone(), net, addr(local(0))],
        )
        .await);
        for step in ["tcp-finish-bind", "tcp-start-listen", "tcp-finish-listen"] {
            ok(call(&mut store, &instance, step, vec![sock.clone()]).await);
        }
        let port = port_of(&ok(call(
            &mut store,
            &instance,
            "tcp-local-address",
            vec![sock.clone()],
        )
        .await));
        let p = call(&mut store, &instance, "tcp-subscribe", vec![sock.clone()])
            .await
            .unwrap();
        // A client in 300 ms, from a thread of the host's.
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            TcpStream::connect(local(port)).unwrap()
        });
        let timer = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            started.elapsed()
        };
        let wait = async {
            call(&mut store, &instance, "block", vec![p]).await;
            let accepted = ok(call(&mut store, &instance, "tcp-accept", vec![sock]).await);
            (started.elapsed(), accepted)
        };
        let (fired, (woke, accepted)) = common::join(timer, wait).await;
        assert!(woke >= Duration::from_millis(300), "{woke:?}");
        (fired, accepted)
    });
    assert!(
        timer_fired < Duration::from_millis(250),
        "the timer waited for the client: {timer_fired:?}"
    );
    assert!(
        matches!(accepted, Val::Tuple(ref t) if t.len() == 3),
        "{accepted:?}"
    );
}

/// `name`'s asynchronous call with `params`: its result, if it has one.
async fn call(
    store: &mut Store<WasiCtx>,
    instance: &Instance,
    name: &str,
    params: Vec<Val>,
) -> Option<Val> {
    let f = instance.get_func(&mut *store, name).unwrap();
    let n = f.ty().result().is_some() as usize;
    let mut results = vec![Val::Bool(false); n];
    f.call_async(&mut *store, &params, &mut results)
        .await
        .unwrap();
    results.pop()
}
