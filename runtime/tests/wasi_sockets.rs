//! WASI preview 1's socket calls on sockets the embedder preopens
//! (`WasiCtx::preopen_socket`): accepting, receiving (into several
//! buffers, peeking), sending, shutting down, and the errors for what is
//! not a socket or not asked right.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use walmart::wasi::WasiCtx;
use walmart::{Instance, Store, Val};

/// Each export returns what the call gave (a descriptor, a count, a file
/// type) or minus its errno.
const GUEST: &str = r#"(module
  (import "wasi_snapshot_preview1" "sock_accept" (func $accept (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_recv" (func $recv (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_send" (func $send (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_shutdown" (func $shutdown (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fdstat (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func $setflags (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func $or_errno (param $e i32) (param $ok i32) (result i32)
    (if (result i32) (local.get $e)
      (then (i32.sub (i32.const 0) (local.get $e)))
      (else (local.get $ok))))
  (func (export "accept") (param $fd i32) (param $flags i32) (result i32)
    (call $or_errno (call $accept (local.get $fd) (local.get $flags) (i32.const 0))
      (i32.load (i32.const 0))))
  (func (export "accept_at") (param $fd i32) (param $out i32) (result i32)
    (i32.sub (i32.const 0) (call $accept (local.get $fd) (i32.const 0) (local.get $out))))
  ;; Into $count buffers of one byte at 40000.., their iovecs at 8192.
  (func (export "recv_many") (param $fd i32) (param $count i32) (result i32)
    (local $i i32)
    (loop $fill
      (i32.store (i32.add (i32.const 8192) (i32.mul (local.get $i) (i32.const 8)))
        (i32.add (i32.const 40000) (local.get $i)))
      (i32.store (i32.add (i32.const 8196) (i32.mul (local.get $i) (i32.const 8))) (i32.const 1))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $fill (i32.lt_u (local.get $i) (local.get $count))))
    (call $or_errno (call $recv (local.get $fd) (i32.const 8192) (local.get $count) (i32.const 0)
      (i32.const 0) (i32.const 8)) (i32.load (i32.const 0))))
  ;; One FD_READ subscription: its event's flags, and its error << 8.
  (func (export "poll_read") (param $fd i32) (result i32)
    (i64.store (i32.const 2048) (i64.const 7))
    (i32.store8 (i32.const 2056) (i32.const 1))
    (i32.store (i32.const 2064) (local.get $fd))
    (call $or_errno (call $poll (i32.const 2048) (i32.const 2112) (i32.const 1) (i32.const 0))
      (i32.or (i32.load16_u (i32.const 2136))
        (i32.shl (i32.load16_u (i32.const 2120)) (i32.const 8)))))
  (func (export "fdflags") (param i32) (result i32)
    (call $or_errno (call $fdstat (local.get 0) (i32.const 64)) (i32.load16_u (i32.const 66))))
  ;; Into 4 bytes at 1024 and 60 at 1028; roflags at 8.
  (func (export "recv") (param $fd i32) (param $flags i32) (result i32)
    (local $e i32)
    (i32.store (i32.const 16) (i32.const 1024)) (i32.store (i32.const 20) (i32.const 4))
    (i32.store (i32.const 24) (i32.const 1028)) (i32.store (i32.const 28) (i32.const 60))
    (local.set $e (call $recv (local.get $fd) (i32.const 16) (i32.const 2) (local.get $flags)
      (i32.const 0) (i32.const 8)))
    (call $or_errno (local.get $e) (i32.load (i32.const 0))))
  (func (export "roflags") (result i32) (i32.load16_u (i32.const 8)))
  ;; The first $len bytes at 1024.
  (func (export "send") (param $fd i32) (param $len i32) (param $flags i32) (result i32)
    (i32.store (i32.const 32) (i32.const 1024)) (i32.store (i32.const 36) (local.get $len))
    (call $or_errno (call $send (local.get $fd) (i32.const 32) (i32.const 1) (local.get $flags)
      (i32.const 0)) (i32.load (i32.const 0))))
  ;; fd_write of the first $len bytes at 1024.
  (func (export "write") (param $fd i32) (param $len i32) (result i32)
    (i32.store (i32.const 32) (i32.const 1024)) (i32.store (i32.const 36) (local.get $len))
    (call $or_errno (call $write (local.get $fd) (i32.const 32) (i32.const 1) (i32.const 0))
      (i32.load (i32.const 0))))
  (func (export "shutdown") (param i32 i32) (result i32)
    (i32.sub (i32.const 0) (call $shutdown (local.get 0) (local.get 1))))
  (func (export "filetype") (param i32) (result i32)
    (call $or_errno (call $fdstat (local.get 0) (i32.const 64)) (i32.load8_u (i32.const 64))))
  (func (export "nonblock") (param i32) (result i32)
    (i32.sub (i32.const 0) (call $setflags (local.get 0) (i32.const 4))))
  (func (export "close") (param i32) (result i32)
    (i32.sub (i32.const 0) (call $close (local.get 0)))))"#;

const BADF: i32 = -8;
const AGAIN: i32 = -6;
const CONNRESET: i32 = -15;
const FAULT: i32 = -21;
const INVAL: i32 = -28;
const NOTCONN: i32 = -53;
const NOTSOCK: i32 = -57;
const PIPE: i32 = -64;

struct Guest {
    store: Store<WasiCtx>,
    instance: Instance,
}

impl Guest {
    fn new(ctx: WasiCtx) -> Guest {
        let (store, instance) = common::wasi_instance(GUEST, ctx);
        Guest { store, instance }
    }

    fn call(&mut self, name: &str, args: &[i32]) -> i32 {
        let f = self.instance.get_func(&mut self.store, name).unwrap();
        let args: Vec<Val> = args.iter().map(|&a| Val::I32(a)).collect();
        let mut out = [Val::I32(0)];
        f.call(&mut self.store, &args, &mut out).unwrap();
        out[0].i32().unwrap()
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        let memory = self.instance.get_memory(&mut self.store, "memory").unwrap();
        memory.data(&self.store)[1024..1024 + len].to_vec()
    }

    fn put(&mut self, bytes: &[u8]) {
        let memory = self.instance.get_memory(&mut self.store, "memory").unwrap();
        memory.write(&mut self.store, 1024, bytes).unwrap();
    }
}

/// A guest given a listening socket (descriptor 3), and its address.
fn listening() -> (Guest, std::net::SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut ctx = WasiCtx::new();
    ctx.preopen_socket(listener).unwrap();
    (Guest::new(ctx), addr)
}

#[test]
fn a_guest_accepts_receives_and_sends() {
    let (mut guest, addr) = listening();
    assert_eq!(guest.call("filetype", &[3]), 6);
    let mut client = TcpStream::connect(addr).unwrap();
    let conn = guest.call("accept", &[3, 0]);
    assert_eq!(conn, 4);
    assert_eq!(guest.call("filetype", &[conn]), 6);
    client.write_all(b"hello, socket").unwrap();
    // Peeking leaves the bytes to be received again, across both buffers.
    let mut got = 0;
    while got < 13 {
        got = guest.call("recv", &[conn, 1]);
        assert!(got > 0, "{got}");
    }
    assert_eq!(guest.bytes(13), b"hello, socket");
    guest.put(&[0; 13]);
    assert_eq!(guest.call("recv", &[conn, 0]), 13);
    assert_eq!(guest.call("roflags", &[]), 0);
    assert_eq!(guest.bytes(13), b"hello, socket");
    guest.put(b"HELLO BACK");
    assert_eq!(guest.call("send", &[conn, 10, 0]), 10);
    let mut reply = [0u8; 10];
    client.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"HELLO BACK");
    // The guest's shutdown of writing is the client's end of stream.
    assert_eq!(guest.call("shutdown", &[conn, 2]), 0);
    assert_eq!(client.read(&mut reply).unwrap(), 0);
    // Waiting for all: a receive fills both buffers (64 bytes), from
    // writes that come apart.
    let writer = std::thread::spawn(move || {
        for chunk in [&[1u8; 20][..], &[2; 30], &[3; 14]] {
            client.write_all(chunk).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        client
    });
    assert_eq!(guest.call("recv", &[conn, 2]), 64);
    let client = writer.join().unwrap();
    assert_eq!(guest.bytes(64)[19..22], [1, 2, 2]);
    // And the client's end of stream is the guest's: a receive of nothing.
    client.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(guest.call("recv", &[conn, 0]), 0);
    assert_eq!(guest.call("close", &[conn]), 0);
    assert_eq!(guest.call("recv", &[conn, 0]), BADF);
}

#[test]
fn non_blocking_accepts_and_receives_say_again() {
    let (mut guest, addr) = listening();
    assert_eq!(guest.call("nonblock", &[3]), 0);
    assert_eq!(guest.call("accept", &[3, 0]), AGAIN);
    let mut client = TcpStream::connect(addr).unwrap();
    let mut conn = AGAIN;
    for _ in 0..1000 {
        conn = guest.call("accept", &[3, 4]);
        if conn != AGAIN {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!(conn, 4);
    // Accepted non-blocking (flag 4): nothing there yet.
    assert_eq!(guest.call("recv", &[conn, 0]), AGAIN);
    client.write_all(b"x").unwrap();
    drop(client);
    let mut got = AGAIN;
    for _ in 0..1000 {
        got = guest.call("recv", &[conn, 0]);
        if got != AGAIN {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!(got, 1);
}

#[test]
fn a_peer_that_went_away_is_an_error_not_a_signal() {
    // As a host that has not ignored SIGPIPE (Rust programs do, at
    // start): a signal would end this test's process.
    // SAFETY: setting a signal's disposition to its default.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let (mut guest, addr) = listening();
    let client = TcpStream::connect(addr).unwrap();
    let conn = guest.call("accept", &[3, 0]);
    drop(client);
    guest.put(&[7; 60]);
    // The first send may be taken by the kernel before the reset comes.
    let mut last = 0;
    for _ in 0..1000 {
        last = guest.call("send", &[conn, 60, 0]);
        if last < 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert!(last == PIPE || last == CONNRESET, "{last}");
    // A plain write (what most guests' write() does) too.
    assert_eq!(guest.call("write", &[conn, 60]), PIPE);
}

#[test]
fn what_is_not_a_socket_or_not_asked_right_is_an_errno() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut ctx = WasiCtx::new();
    // Descriptor 1 a file, whatever the harness's stdout is.
    let out = std::env::temp_dir().join(format!("walmart-sock-out-{}", std::process::id()));
    ctx.redirect(1, std::fs::File::create(&out).unwrap());
    ctx.preopen_socket(listener).unwrap();
    let mut guest = Guest::new(ctx);
    assert_eq!(guest.call("recv", &[1, 0]), NOTSOCK);
    assert_eq!(guest.call("send", &[1, 1, 0]), NOTSOCK);
    assert_eq!(guest.call("accept", &[1, 0]), NOTSOCK);
    assert_eq!(guest.call("shutdown", &[1, 2]), NOTSOCK);
    assert_eq!(guest.call("accept", &[9, 0]), BADF);
    // Flags WASI does not define, or bits past a flag's width.
    assert_eq!(guest.call("accept", &[3, 1]), INVAL);
    assert_eq!(guest.call("accept", &[3, 1 << 16]), INVAL);
    // A listening socket has no peer to receive from.
    assert_eq!(guest.call("recv", &[3, 0]), NOTCONN);
    let _client = TcpStream::connect(addr).unwrap();
    // A result pointer out of bounds is refused before the connection is
    // taken: it is still there for the next accept.
    assert_eq!(guest.call("accept_at", &[3, 65536]), FAULT);
    let conn = guest.call("accept", &[3, 0]);
    assert_eq!(conn, 4);
    assert_eq!(guest.call("recv", &[conn, 4]), INVAL);
    assert_eq!(guest.call("recv", &[conn, 1 << 16]), INVAL);
    assert_eq!(guest.call("send", &[conn, 1, 1]), INVAL);
    assert_eq!(guest.call("shutdown", &[conn, 0]), INVAL);
    assert_eq!(guest.call("shutdown", &[conn, 4]), INVAL);
    assert_eq!(guest.call("shutdown", &[conn, 0x101]), INVAL);
    assert_eq!(guest.call("shutdown", &[conn, 3]), 0);
    std::fs::remove_file(&out).unwrap();
}

#[test]
fn more_buffers_than_the_kernel_takes_are_a_short_receive() {
    let (mut guest, addr) = listening();
    let mut client = TcpStream::connect(addr).unwrap();
    let conn = guest.call("accept", &[3, 0]);
    let sent: Vec<u8> = (0..2000u32).map(|i| (i % 251) as u8).collect();
    client.write_all(&sent).unwrap();
    // 2,000 one-byte buffers: at most 1,024 are filled by one call.
    let mut got = Vec::new();
    while got.len() < sent.len() {
        let n = guest.call("recv_many", &[conn, 2000]);
        assert!(n > 0 && n <= 1024, "{n}");
        let memory = guest
            .instance
            .get_memory(&mut guest.store, "memory")
            .unwrap();
        got.extend_from_slice(&memory.data(&guest.store)[40000..40000 + n as usize]);
    }
    assert_eq!(got, sent);
}

#[test]
fn a_preopened_sockets_blocking_mode_is_the_hosts() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let mut ctx = WasiCtx::new();
    ctx.preopen_socket(listener).unwrap();
    let mut guest = Guest::new(ctx);
    assert_eq!(guest.call("fdflags", &[3]), 4);
    assert_eq!(guest.call("accept", &[3, 0]), AGAIN);
    let (mut guest, _) = listening();
    assert_eq!(guest.call("fdflags", &[3]), 0);
}

#[test]
fn only_sockets_can_be_preopened_as_sockets() {
    let file = std::fs::File::open("/dev/null").unwrap();
    let err = WasiCtx::new().preopen_socket(file).map(|_| ()).unwrap_err();
    assert!(err.to_string().contains("not a socket"), "{err}");
    // A Unix listener is a socket too.
    let path = std::env::temp_dir().join(format!("walmart-sock-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let unix = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let mut ctx = WasiCtx::new();
    ctx.preopen_socket(unix).unwrap();
    let mut guest = Guest::new(ctx);
    let mut client = std::os::unix::net::UnixStream::connect(&path).unwrap();
    let conn = guest.call("accept", &[3, 0]);
    client.write_all(b"unix").unwrap();
    assert_eq!(guest.call("recv", &[conn, 0]), 4);
    assert_eq!(guest.bytes(4), b"unix");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn poll_tells_of_a_peer_that_hung_up() {
    let (mut guest, addr) = listening();
    let mut client = TcpStream::connect(addr).unwrap();
    let conn = guest.call("accept", &[3, 0]);
    client.write_all(b"x").unwrap();
    // Readable, no hang-up yet.
    assert_eq!(guest.call("poll_read", &[conn]), 0);
    // Both ways closed: the event carries FD_READWRITE_HANGUP.
    drop(client);
    assert_eq!(guest.call("shutdown", &[conn, 2]), 0);
    let mut flags = 0;
    for _ in 0..1000 {
        flags = guest.call("poll_read", &[conn]);
        if flags != 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!(flags, 1);
}
