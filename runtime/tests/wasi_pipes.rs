//! Standard streams in host memory (`WasiCtx::stdin`, `stdout`,
//! `stderr`): a C program's input from bytes and output into buffers, and
//! each WASI call's answer on such a stream, as a host pipe's.

mod common;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use walmart::wasi::{MemoryInputPipe, MemoryOutputPipe, WasiCtx};
use walmart::{Error, Store, Val};

const WC: &[u8] = include_bytes!("../../tests/fixtures/c/wc.wasm");

/// Runs `wasm`'s `_start` with `ctx`; the exit status (0 when it returns).
fn run_start(wasm: &[u8], ctx: WasiCtx) -> i32 {
    let (mut store, instance) = common::wasi_instance(wasm, ctx);
    let start = instance.get_func(&mut store, "_start").unwrap();
    match start.call(&mut store, &[], &mut []) {
        Ok(()) => 0,
        Err(Error::Exit(code)) => code,
        Err(e) => panic!("{e}"),
    }
}

/// What `wc.c` prints for `text`.
fn wc_of(text: &[u8]) -> String {
    let lines = text.iter().filter(|&&b| b == b'\n').count();
    let words = text
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .count();
    let mut counts = [0usize; 256];
    for &b in text {
        counts[b as usize] += 1;
    }
    // The first of the most common bytes, as the C loop keeps it.
    let most = (1..256).fold(0, |best, i| if counts[i] > counts[best] { i } else { best });
    format!("{lines} {words} {} most={most}\n", text.len())
}

#[test]
fn a_c_program_reads_bytes_in_memory_and_writes_into_a_buffer() {
    // Larger than wasi-libc's buffer and than one read, with a NUL.
    let mut text = Vec::new();
    for i in 0..3000 {
        writeln!(text, "line {i} of words\0 and more {}", i * 7).unwrap();
    }
    let stdout = MemoryOutputPipe::new(1 << 16);
    let mut ctx = WasiCtx::new();
    ctx.stdin(MemoryInputPipe::new(text.clone()))
        .stdout(stdout.clone());
    assert_eq!(run_start(WC, ctx), 0);
    assert_eq!(String::from_utf8(stdout.contents()).unwrap(), wc_of(&text));
    // The context went with the store: the last handle has the bytes.
    assert_eq!(
        String::from_utf8(stdout.try_into_inner().unwrap()).unwrap(),
        wc_of(&text)
    );

    // No input: wc exits 2, having printed its zeros.
    let stdout = MemoryOutputPipe::new(100);
    let mut ctx = WasiCtx::new();
    ctx.stdin(MemoryInputPipe::new(Vec::new()))
        .stdout(stdout.clone());
    assert_eq!(run_start(WC, ctx), 2);
    assert_eq!(stdout.contents(), b"0 0 0 most=0\n");
}

/// A reader and a writer of the embedder's own.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // A few bytes at a time: the write must still be whole.
        let n = buf.len().min(3);
        self.0.lock().unwrap().extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn any_reader_and_writer_serve_as_standard_streams() {
    let text = b"one two\nthree\n".repeat(500);
    let out = Shared::default();
    let mut ctx = WasiCtx::new();
    // A reader that gives a few bytes at a time.
    struct Trickle(std::io::Cursor<Vec<u8>>);
    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(5);
            self.0.read(&mut buf[..n])
        }
    }
    ctx.stdin(Trickle(std::io::Cursor::new(text.clone())))
        .stdout(out.clone());
    assert_eq!(run_start(WC, ctx), 0);
    assert_eq!(*out.0.lock().unwrap(), wc_of(&text).into_bytes());
}

/// The WASI functions the test calls, with their parameter types.
const CALLS: &[(&str, &str)] = &[
    ("fd_read", "i32 i32 i32 i32"),
    ("fd_pread", "i32 i32 i32 i64 i32"),
    ("fd_write", "i32 i32 i32 i32"),
    ("fd_seek", "i32 i64 i32 i32"),
    ("fd_tell", "i32 i32"),
    ("fd_fdstat_get", "i32 i32"),
    ("fd_filestat_get", "i32 i32"),
    ("fd_filestat_set_size", "i32 i64"),
    ("fd_sync", "i32"),
    ("fd_advise", "i32 i64 i64 i32"),
    ("fd_renumber", "i32 i32"),
    ("fd_close", "i32"),
    ("fd_readdir", "i32 i32 i32 i64 i32"),
    ("sock_recv", "i32 i32 i32 i32 i32 i32"),
    ("poll_oneoff", "i32 i32 i32 i32"),
    ("path_open", "i32 i32 i32 i32 i32 i64 i64 i32 i32"),
];

/// WASI errno values the test expects.
const ESUCCESS: i32 = 0;
const EBADF: i32 = 8;
const EINVAL: i32 = 28;
const ENOSPC: i32 = 51;
const ENOTDIR: i32 = 54;
const ENOTSOCK: i32 = 57;
const ESPIPE: i32 = 70;

struct Guest {
    store: Store<WasiCtx>,
    instance: walmart::Instance,
    memory: walmart::Memory,
}

impl Guest {
    fn new(ctx: WasiCtx) -> Guest {
        let (mut store, instance) = common::wasi_instance(common::wasi_calls_module(CALLS), ctx);
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        Guest {
            store,
            instance,
            memory,
        }
    }

    /// Calls WASI function `name` with `args`; its errno.
    fn call(&mut self, name: &str, args: &[Val]) -> i32 {
        let f = self.instance.get_func(&mut self.store, name).unwrap();
        let mut out = [Val::I32(0)];
        f.call(&mut self.store, args, &mut out).unwrap();
        out[0].i32().unwrap()
    }

    fn poke(&mut self, at: usize, bytes: &[u8]) {
        self.memory.write(&mut self.store, at, bytes).unwrap();
    }

    fn peek(&self, at: usize, len: usize) -> Vec<u8> {
        let mut buf = vec![0; len];
        self.memory.read(&self.store, at, &mut buf).unwrap();
        buf
    }

    fn u32_at(&self, at: usize) -> u32 {
        u32::from_le_bytes(self.peek(at, 4).try_into().unwrap())
    }

    fn u64_at(&self, at: usize) -> u64 {
        u64::from_le_bytes(self.peek(at, 8).try_into().unwrap())
    }

    /// Puts iovecs for `(addr, len)` buffers at 0x100.
    fn iovecs(&mut self, bufs: &[(u32, u32)]) {
        let mut raw = Vec::new();
        for (addr, len) in bufs {
            raw.extend_from_slice(&addr.to_le_bytes());
            raw.extend_from_slice(&len.to_le_bytes());
        }
        self.poke(0x100, &raw);
    }

    /// `fd_read` into `bufs`: the errno and the count.
    fn read(&mut self, fd: i32, bufs: &[(u32, u32)]) -> (i32, u32) {
        self.iovecs(bufs);
        let rc = self.call(
            "fd_read",
            &[fd, 0x100, bufs.len() as i32, 0x80].map(Val::I32),
        );
        (rc, self.u32_at(0x80))
    }

    /// `fd_write` of `bytes` (put at 0x1000) in two iovecs.
    fn write(&mut self, fd: i32, bytes: &[u8]) -> (i32, u32) {
        self.poke(0x1000, bytes);
        let half = bytes.len() as u32 / 2;
        self.iovecs(&[(0x1000, half), (0x1000 + half, bytes.len() as u32 - half)]);
        self.poke(0x80, &[0xff; 4]);
        let rc = self.call("fd_write", &[fd, 0x100, 2, 0x80].map(Val::I32));
        (rc, self.u32_at(0x80))
    }
}

#[test]
fn streams_in_memory_answer_wasi_calls_as_pipes_do() {
    let stdout = MemoryOutputPipe::new(10);
    let stderr = MemoryOutputPipe::new(1000);
    let stdin = MemoryInputPipe::new(b"abcdefghijklmnop".to_vec());
    let mut ctx = WasiCtx::new();
    ctx.stdin(stdin.clone())
        .stdout(stdout.clone())
        .stderr(stderr.clone());
    let mut g = Guest::new(ctx);

    // Reads fill the buffers in order and stop at the first one not
    // filled whole; the bytes are gone from every clone.
    assert_eq!(g.read(0, &[(0x2000, 3), (0x2010, 4)]), (ESUCCESS, 7));
    assert_eq!(g.peek(0x2000, 3), b"abc");
    assert_eq!(g.peek(0x2010, 4), b"defg");
    assert_eq!(stdin.remaining(), 9);
    // poll_oneoff: an fd_read subscription on it is ready at once, with
    // what is left; an fd_write one on stdout too.
    let mut subs = Vec::new();
    for (userdata, tag, fd) in [(7u64, 1u8, 0u32), (8, 2, 1)] {
        let mut sub = [0u8; 48];
        sub[0..8].copy_from_slice(&userdata.to_le_bytes());
        sub[8] = tag;
        sub[16..20].copy_from_slice(&fd.to_le_bytes());
        subs.extend_from_slice(&sub);
    }
    g.poke(0x3000, &subs);
    assert_eq!(
        g.call("poll_oneoff", &[0x3000, 0x3100, 2, 0x80].map(Val::I32)),
        ESUCCESS
    );
    assert_eq!(g.u32_at(0x80), 2);
    assert_eq!(g.u64_at(0x3100), 7);
    assert_eq!(g.u64_at(0x3100 + 16), 9, "bytes left to read");
    assert_eq!(g.u64_at(0x3120), 8);
    // The rest, then the end.
    assert_eq!(g.read(0, &[(0x2000, 100)]), (ESUCCESS, 9));
    assert_eq!(g.peek(0x2000, 9), b"hijklmnop");
    assert_eq!(g.read(0, &[(0x2000, 100)]), (ESUCCESS, 0));
    // At its end a read subscription shows the hang-up (as a host pipe's
    // closed writer does); one on standard output, whose other end the
    // guest does not hold, is an error.
    let mut subs = Vec::new();
    for (userdata, fd) in [(7u64, 0u32), (8, 1)] {
        let mut sub = [0u8; 48];
        sub[0..8].copy_from_slice(&userdata.to_le_bytes());
        sub[8] = 1;
        sub[16..20].copy_from_slice(&fd.to_le_bytes());
        subs.extend_from_slice(&sub);
    }
    g.poke(0x3000, &subs);
    assert_eq!(
        g.call("poll_oneoff", &[0x3000, 0x3100, 2, 0x80].map(Val::I32)),
        ESUCCESS
    );
    assert_eq!(g.u32_at(0x80), 2);
    assert_eq!(g.peek(0x3100 + 8, 2), [0, 0], "no error");
    assert_eq!(g.u64_at(0x3100 + 16), 0, "nothing left");
    assert_eq!(g.peek(0x3100 + 24, 1), [1], "hang-up");
    assert_eq!(g.u64_at(0x3120), 8);
    assert_eq!(g.peek(0x3120 + 8, 2), [EBADF as u8, 0]);

    // Writes go in whole until the capacity; then what fits, then ENOSPC.
    assert_eq!(g.write(1, b"hello"), (ESUCCESS, 5));
    assert_eq!(stdout.contents(), b"hello");
    assert_eq!(g.write(1, b"world!!!"), (ESUCCESS, 5));
    assert_eq!(stdout.contents(), b"helloworld");
    assert_eq!(g.write(1, b"more").0, ENOSPC);
    assert_eq!(g.write(2, b"to stderr"), (ESUCCESS, 9));
    assert_eq!(stderr.contents(), b"to stderr");

    // Not the other way round.
    assert_eq!(g.read(1, &[(0x2000, 4)]).0, EBADF);
    assert_eq!(g.write(0, b"x").0, EBADF);

    // No seeking, no position, no offsets, no size.
    let seek = |g: &mut Guest, fd| {
        g.call(
            "fd_seek",
            &[Val::I32(fd), Val::I64(0), Val::I32(0), Val::I32(0x80)],
        )
    };
    assert_eq!(seek(&mut g, 0), ESPIPE);
    assert_eq!(seek(&mut g, 1), ESPIPE);
    assert_eq!(g.call("fd_tell", &[2, 0x80].map(Val::I32)), ESPIPE);
    g.iovecs(&[(0x2000, 4)]);
    let pread = [0, 0x100, 1].map(Val::I32);
    assert_eq!(
        g.call(
            "fd_pread",
            &[pread[0], pread[1], pread[2], Val::I64(0), Val::I32(0x80)]
        ),
        ESPIPE
    );
    assert_eq!(
        g.call("fd_filestat_set_size", &[Val::I32(1), Val::I64(0)]),
        EINVAL
    );
    assert_eq!(
        g.call(
            "fd_advise",
            &[Val::I32(0), Val::I64(0), Val::I64(0), Val::I32(0)]
        ),
        ESPIPE
    );
    // An output syncs (nothing to flush); an input cannot.
    assert_eq!(g.call("fd_sync", &[Val::I32(1)]), ESUCCESS);
    assert_eq!(g.call("fd_sync", &[Val::I32(0)]), EINVAL);

    // File type `unknown` (not a terminal), in both stats.
    g.poke(0x400, &[0xff; 64]);
    assert_eq!(g.call("fd_fdstat_get", &[1, 0x400].map(Val::I32)), ESUCCESS);
    assert_eq!(g.peek(0x400, 1), [0]);
    g.poke(0x400, &[0xff; 64]);
    assert_eq!(
        g.call("fd_filestat_get", &[0, 0x400].map(Val::I32)),
        ESUCCESS
    );
    assert_eq!(g.peek(0x400, 64), [0; 64]);

    // Neither a directory nor a socket.
    assert_eq!(
        g.call(
            "fd_readdir",
            &[
                Val::I32(0),
                Val::I32(0x2000),
                Val::I32(100),
                Val::I64(0),
                Val::I32(0x80)
            ]
        ),
        ENOTDIR
    );
    g.poke(0x500, b"x");
    assert_eq!(
        g.call(
            "path_open",
            &[
                Val::I32(1),
                Val::I32(0),
                Val::I32(0x500),
                Val::I32(1),
                Val::I32(0),
                Val::I64(0),
                Val::I64(0),
                Val::I32(0),
                Val::I32(0x80)
            ]
        ),
        ENOTDIR
    );
    assert_eq!(
        g.call("sock_recv", &[0, 0x100, 1, 0, 0x80, 0x84].map(Val::I32)),
        ENOTSOCK
    );

    // Renumbered (over standard input, which goes), the stream goes with
    // the number; closed, the buffer stays the embedder's.
    assert_eq!(g.call("fd_renumber", &[2, 0].map(Val::I32)), ESUCCESS);
    assert_eq!(g.write(0, b"!"), (ESUCCESS, 1));
    assert_eq!(g.write(2, b"!").0, EBADF);
    assert_eq!(stderr.contents(), b"to stderr!");
    assert_eq!(g.call("fd_close", &[0].map(Val::I32)), ESUCCESS);
    assert_eq!(g.write(0, b"!").0, EBADF);
    assert_eq!(stderr.contents(), b"to stderr!");
    // Still held by the guest's context: not the last handle.
    let stdout = stdout.try_into_inner().unwrap_err();
    drop(g);
    assert_eq!(stdout.try_into_inner().unwrap(), b"helloworld");
}

#[test]
fn a_failing_reader_or_writer_is_an_error_to_the_guest() {
    struct Broken;
    impl Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from_raw_os_error(libc::EIO))
        }
    }
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("gone"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut ctx = WasiCtx::new();
    ctx.stdin(Broken).stdout(Broken);
    let mut g = Guest::new(ctx);
    // EIO (29) both ways: the host's errno where there is one.
    assert_eq!(g.read(0, &[(0x2000, 10)]).0, 29);
    assert_eq!(g.write(1, b"abc").0, 29);
}

/// An embedder's reader and writer are asked as POSIX's are: a signal
/// (`Interrupted`) is asked again, not taken for the end; an empty
/// buffer is not asked of the reader (wasi-libc's reads start with one);
/// a writer that fails part-way has what it took counted, so the guest's
/// retry repeats nothing.
#[test]
fn readers_and_writers_are_asked_as_posix_ones() {
    struct Fussy {
        interrupted: bool,
        data: std::io::Cursor<Vec<u8>>,
    }
    impl Read for Fussy {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            assert!(!buf.is_empty(), "the reader was asked for nothing");
            if !self.interrupted {
                self.interrupted = true;
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            self.data.read(buf)
        }
    }
    /// Takes `room` bytes, then fails.
    #[derive(Clone)]
    struct Full {
        took: Arc<Mutex<Vec<u8>>>,
        room: usize,
    }
    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let mut took = self.took.lock().unwrap();
            let n = buf.len().min(self.room - took.len());
            if n == 0 {
                return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
            }
            took.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let full = Full {
        took: Arc::default(),
        room: 6,
    };
    let mut ctx = WasiCtx::new();
    ctx.stdin(Fussy {
        interrupted: false,
        data: std::io::Cursor::new(b"payload".to_vec()),
    })
    .stdout(full.clone());
    let mut g = Guest::new(ctx);
    assert_eq!(g.read(0, &[(0x2000, 0), (0x2010, 100)]), (ESUCCESS, 7));
    assert_eq!(g.peek(0x2010, 7), b"payload");
    // 4 and 4 bytes in two buffers: 6 go out, and the count says so.
    assert_eq!(g.write(1, b"abcdefgh"), (ESUCCESS, 6));
    assert_eq!(*full.took.lock().unwrap(), b"abcdef");
    assert_eq!(g.write(1, b"gh").0, ENOSPC);
}

/// In a context threads share (wasi-threads), a thread blocked in an
/// embedder's reader holds up no other thread's calls: a poll of the same
/// stream, and a write, answer while the read waits.
#[test]
fn a_blocked_reader_holds_up_no_other_thread_of_a_shared_context() {
    struct Channel(std::sync::mpsc::Receiver<Vec<u8>>);
    impl Read for Channel {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let bytes = self.0.recv().unwrap_or_default();
            buf[..bytes.len()].copy_from_slice(&bytes);
            Ok(bytes.len())
        }
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let out = MemoryOutputPipe::new(100);
    let mut ctx = WasiCtx::new();
    ctx.stdin(Channel(rx)).stdout(out.clone());
    let shared = ctx.into_shared();
    let other = shared.share().unwrap();
    let reader = std::thread::spawn(move || {
        let mut g = Guest::new(shared);
        let got = g.read(0, &[(0x2000, 100)]);
        (got, g.peek(0x2000, 5))
    });
    // Give the reader time to block in `recv`.
    std::thread::sleep(std::time::Duration::from_millis(100));
    // On another thread, so that a regression fails here, not hangs.
    let (done_tx, done) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut g = Guest::new(other);
        let mut sub = [0u8; 48];
        sub[8] = 1;
        g.poke(0x3000, &sub);
        let polled = g.call("poll_oneoff", &[0x3000, 0x3100, 1, 0x80].map(Val::I32));
        let events = g.u32_at(0x80);
        let wrote = g.write(1, b"meanwhile");
        let synced = g.call("fd_sync", &[Val::I32(1)]);
        done_tx.send((polled, events, wrote, synced)).unwrap();
    });
    let answered = done.recv_timeout(std::time::Duration::from_secs(10));
    if answered.is_err() {
        tx.send(Vec::new()).unwrap();
        panic!("the other thread's calls waited for the blocked read");
    }
    assert_eq!(answered.unwrap(), (ESUCCESS, 1, (ESUCCESS, 9), ESUCCESS));
    tx.send(b"late!".to_vec()).unwrap();
    assert_eq!(reader.join().unwrap(), ((ESUCCESS, 5), b"late!".to_vec()));
    assert_eq!(out.contents(), b"meanwhile");
}

const HELLO: &[u8] = include_bytes!("../../tests/fixtures/c/hello.wasm");

/// wasmtime's builder helpers: `envs`, `inherit_args`, and
/// `inherit_stdout` / `inherit_stderr` putting back the host's streams in
/// place of buffers; a context shared by threads takes them too.
#[test]
fn builder_helpers_set_arguments_environment_and_streams() {
    let out = MemoryOutputPipe::new(1000);
    let err = MemoryOutputPipe::new(1000);
    let mut ctx = WasiCtx::new();
    ctx.args(["hello", "0", "two words"])
        .envs(&[("GREETING", "hi"), ("OTHER", "x")])
        .stdout(out.clone())
        .stderr(err.clone());
    assert_eq!(run_start(HELLO, ctx), 0);
    assert_eq!(
        String::from_utf8(out.contents()).unwrap(),
        "argc=3\nargv[1]=0\nargv[2]=two words\nGREETING=hi\n"
    );
    assert_eq!(err.contents(), b"to stderr\n");

    // The host's own arguments (the test binary's): argv[1] onward as
    // the process has them.
    let out = MemoryOutputPipe::new(1 << 16);
    let mut ctx = WasiCtx::new();
    ctx.inherit_args().stdout(out.clone());
    ctx.stderr(MemoryOutputPipe::new(100));
    let host: Vec<String> = std::env::args().collect();
    let code = run_start(HELLO, ctx);
    let text = String::from_utf8(out.contents()).unwrap();
    assert!(
        text.starts_with(&format!("argc={}\n", host.len())),
        "{text}"
    );
    let _ = code;

    // Buffers given, then the host's streams back: descriptors 0 to 2 are
    // the host's again (an inode of their own, where a stream in memory
    // has none).
    let mut ctx = WasiCtx::new();
    ctx.stdin(MemoryInputPipe::new(b"x".to_vec()))
        .stdout(MemoryOutputPipe::new(100))
        .stderr(MemoryOutputPipe::new(100));
    let mut g = Guest::new(ctx);
    let inode = |g: &mut Guest, fd: i32| {
        g.poke(0x400, &[0; 64]);
        assert_eq!(
            g.call("fd_filestat_get", &[fd, 0x400].map(Val::I32)),
            ESUCCESS
        );
        g.u64_at(0x408)
    };
    for fd in 0..3 {
        assert_eq!(inode(&mut g, fd), 0, "fd {fd} in memory");
    }
    let mut ctx = WasiCtx::new();
    ctx.stdin(MemoryInputPipe::new(b"x".to_vec()))
        .stdout(MemoryOutputPipe::new(100))
        .stderr(MemoryOutputPipe::new(100))
        .inherit_stdio();
    let mut g = Guest::new(ctx);
    for fd in 0..3 {
        assert_ne!(inode(&mut g, fd), 0, "fd {fd} the host's");
    }

    // Set after the context is shared, on the shared state.
    let out = MemoryOutputPipe::new(1000);
    let mut ctx = WasiCtx::new().into_shared();
    ctx.args(["hello"])
        .env("GREETING", "shared")
        .stdout(out.clone())
        .stderr(std::io::sink());
    assert_eq!(run_start(HELLO, ctx), 0);
    assert_eq!(out.contents(), b"argc=1\nGREETING=shared\n");
}
