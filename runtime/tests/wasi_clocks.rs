//! Clocks and the random source an embedder gives a guest
//! (`WasiCtx::wall_clock`, `monotonic_clock`, `secure_random`), and the
//! host's clocks coarsened (`WasiCtx::clock_resolution`).

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use walmart::wasi::{self, HostMonotonicClock, HostWallClock, WasiCtx};
use walmart::{Instance, Store, Val};

const CLOCKS: &str = r#"(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $time (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_res_get" (func $res (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_get" (func $fstat (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_set_times"
    (func $ftimes (param i32 i64 i64 i32) (result i32)))
  (memory (export "memory") 1)
  ;; Both of descriptor $fd's times set to now.
  (func (export "touch") (param $fd i32) (result i32)
    (call $ftimes (local.get $fd) (i64.const 0) (i64.const 0) (i32.const 10)))
  ;; Descriptor $fd's modification time.
  (func (export "mtime") (param $fd i32) (result i64)
    (if (call $fstat (local.get $fd) (i32.const 2048)) (then (return (i64.const -1))))
    (i64.load (i32.const 2096)))
  (func (export "time") (param $id i32) (result i64)
    (if (call $time (local.get $id) (i64.const 0) (i32.const 0)) (then (return (i64.const -1))))
    (i64.load (i32.const 0)))
  (func (export "res") (param $id i32) (result i64)
    (if (call $res (local.get $id) (i32.const 0)) (then (return (i64.const -1))))
    (i64.load (i32.const 0)))
  (func (export "random") (param $len i32) (result i32)
    (call $random (i32.const 256) (local.get $len)))
  ;; One clock subscription on clock $id for $t (absolute when $abs):
  ;; the number of events (1) times 1000 plus the event's error.
  (func (export "wait") (param $id i32) (param $t i64) (param $abs i32) (result i32)
    (i64.store (i32.const 512) (i64.const 7))
    (i32.store8 (i32.const 520) (i32.const 0))
    (i32.store (i32.const 528) (local.get $id))
    (i64.store (i32.const 536) (local.get $t))
    (i64.store (i32.const 544) (i64.const 0))
    (i32.store16 (i32.const 552) (local.get $abs))
    (drop (call $poll (i32.const 512) (i32.const 1024) (i32.const 1) (i32.const 1536)))
    (i32.add (i32.mul (i32.load (i32.const 1536)) (i32.const 1000))
      (i32.load16_u (i32.const 1032)))))"#;

struct Guest {
    store: Store<WasiCtx>,
    instance: Instance,
}

impl Guest {
    fn new(ctx: WasiCtx) -> Guest {
        let (store, instance) = common::wasi_instance(CLOCKS, ctx);
        Guest { store, instance }
    }

    fn call(&mut self, name: &str, args: &[Val]) -> Val {
        let f = self.instance.get_func(&mut self.store, name).unwrap();
        let mut out = [Val::I32(0)];
        f.call(&mut self.store, args, &mut out).unwrap();
        out[0]
    }

    fn time(&mut self, id: i32) -> u64 {
        self.call("time", &[Val::I32(id)]).i64().unwrap() as u64
    }

    fn res(&mut self, id: i32) -> u64 {
        self.call("res", &[Val::I32(id)]).i64().unwrap() as u64
    }

    fn wait(&mut self, id: i32, t: u64, absolute: bool) -> i32 {
        self.call(
            "wait",
            &[Val::I32(id), Val::I64(t as i64), Val::I32(absolute as i32)],
        )
        .i32()
        .unwrap()
    }
}

/// A clock the test sets: nanoseconds in an atomic.
#[derive(Clone, Default)]
struct Manual(Arc<AtomicU64>);

impl HostWallClock for Manual {
    fn resolution(&self) -> Duration {
        Duration::from_micros(3)
    }
    fn now(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::SeqCst))
    }
}

impl HostMonotonicClock for Manual {
    fn resolution(&self) -> u64 {
        5
    }
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[test]
fn the_embedders_clocks_are_the_guests() {
    let (wall, mono) = (Manual::default(), Manual::default());
    wall.0.store(1_700_000_000_123_456_789, Ordering::SeqCst);
    mono.0.store(42_000, Ordering::SeqCst);
    let mut ctx = WasiCtx::new();
    ctx.wall_clock(wall.clone()).monotonic_clock(mono.clone());
    let mut g = Guest::new(ctx);
    assert_eq!(g.time(0), 1_700_000_000_123_456_789);
    assert_eq!(g.time(1), 42_000);
    mono.0.store(43_000, Ordering::SeqCst);
    assert_eq!(g.time(1), 43_000);
    assert_eq!(g.res(0), 3_000);
    assert_eq!(g.res(1), 5);
    // The CPU clocks stay the host's; an unknown clock is EINVAL.
    assert!(g.time(2) > 0);
    assert_eq!(g.time(9), u64::MAX);

    // An absolute deadline on the monotonic clock is measured on the
    // embedder's clock: 50 ms past its reading waits about 50 ms; one in
    // its past fires at once. Relative waits are real time.
    let start = Instant::now();
    assert_eq!(g.wait(1, 43_000 + 50_000_000, true), 1000);
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(45), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    let start = Instant::now();
    assert_eq!(g.wait(1, 1_000, true), 1000);
    assert!(start.elapsed() < Duration::from_millis(40));
    let start = Instant::now();
    assert_eq!(g.wait(1, 20_000_000, false), 1000);
    assert!(start.elapsed() >= Duration::from_millis(18));
    // An absolute deadline on the wall clock, from its reading.
    let start = Instant::now();
    assert_eq!(
        g.wait(0, 1_700_000_000_123_456_789 + 30_000_000, true),
        1000
    );
    assert!(start.elapsed() >= Duration::from_millis(25));
}

#[test]
fn the_embedders_random_source_fills_random_get() {
    let mut next = 0u8;
    let mut ctx = WasiCtx::new();
    ctx.secure_random(move |buf: &mut [u8]| {
        for b in buf {
            *b = next;
            next = next.wrapping_add(1);
        }
    });
    let mut g = Guest::new(ctx);
    // Past one 4 KiB piece, so the source is asked more than once.
    assert_eq!(g.call("random", &[Val::I32(5000)]).i32(), Some(0));
    let memory = g.instance.get_memory(&mut g.store, "memory").unwrap();
    let mut got = vec![0u8; 5000];
    memory.read(&g.store, 256, &mut got).unwrap();
    let want: Vec<u8> = (0..5000).map(|i| i as u8).collect();
    assert_eq!(got, want);
}

#[test]
fn a_coarse_resolution_rounds_every_clock_down() {
    let ms = 1_000_000;
    let mut ctx = WasiCtx::new();
    ctx.clock_resolution(Duration::from_millis(1));
    let mut g = Guest::new(ctx);
    for id in 0..4 {
        let t = g.time(id);
        assert_eq!(t % ms, 0, "clock {id}: {t}");
        assert!(g.res(id) >= ms, "clock {id}");
    }
    // Readings a few microseconds apart are mostly the same.
    let same = (0..50)
        .filter(|_| {
            let (a, b) = (g.time(1), g.time(1));
            a == b
        })
        .count();
    assert!(same > 25, "{same} of 50");
    // Over the embedder's clock too, whose finer resolution it raises.
    let mono = Manual::default();
    mono.0.store(7 * ms + 123_456, Ordering::SeqCst);
    let mut ctx = WasiCtx::new();
    ctx.monotonic_clock(mono)
        .clock_resolution(Duration::from_millis(1));
    let mut g = Guest::new(ctx);
    assert_eq!(g.time(1), 7 * ms);
    assert_eq!(g.res(1), ms);
}

#[test]
fn a_deterministic_run_keeps_its_virtual_clocks_and_seeded_bytes() {
    let wall = Manual::default();
    wall.0.store(5, Ordering::SeqCst);
    let run = |custom: bool| {
        let mut ctx = WasiCtx::new();
        if custom {
            ctx.wall_clock(wall.clone())
                .secure_random(|buf: &mut [u8]| buf.fill(0xaa));
        }
        ctx.deterministic(7);
        let mut g = Guest::new(ctx);
        assert_eq!(g.call("random", &[Val::I32(16)]).i32(), Some(0));
        let memory = g.instance.get_memory(&mut g.store, "memory").unwrap();
        let mut bytes = [0u8; 16];
        memory.read(&g.store, 256, &mut bytes).unwrap();
        (g.time(0), bytes)
    };
    let (time, bytes) = run(true);
    assert_eq!((time, bytes), run(false));
    // 2024-01-01 and a microsecond: the virtual wall clock.
    assert_eq!(time, 1_704_067_200_000_000_000 + 1_000);
    assert_ne!(bytes, [0xaa; 16]);
}

#[test]
fn a_coarse_resolution_rounds_file_times_too() {
    let path = std::env::temp_dir().join(format!("walmart-clocks-{}", std::process::id()));
    std::fs::write(&path, "x").unwrap();
    let mtime = |resolution: Option<Duration>| {
        let mut ctx = WasiCtx::new();
        ctx.redirect(0, std::fs::File::open(&path).unwrap());
        if let Some(r) = resolution {
            ctx.clock_resolution(r);
        }
        let mut g = Guest::new(ctx);
        g.call("mtime", &[Val::I32(0)]).i64().unwrap() as u64
    };
    let fine = mtime(None);
    let coarse = mtime(Some(Duration::from_secs(1)));
    std::fs::remove_file(&path).unwrap();
    assert_eq!(coarse, fine - fine % 1_000_000_000);
}

/// In a context threads share, the embedder's random source is drawn
/// from holding no shared state: a slow draw holds up no other thread's
/// calls. And a context made deterministic after it is shared is.
#[test]
fn a_slow_random_source_holds_up_no_other_thread() {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let rx = std::sync::Mutex::new(rx);
    let mut ctx = WasiCtx::new();
    ctx.secure_random(move |buf: &mut [u8]| {
        // Waits for the test's word (at most ten seconds).
        let _ = rx.lock().unwrap().recv_timeout(Duration::from_secs(10));
        buf.fill(1);
    });
    let shared = ctx.into_shared();
    let other = shared.share().unwrap();
    let drawer = std::thread::spawn(move || {
        let mut g = Guest::new(shared);
        g.call("random", &[Val::I32(8)]).i32()
    });
    std::thread::sleep(Duration::from_millis(100));
    let start = Instant::now();
    let mut g = Guest::new(other);
    assert!(g.time(1) > 0);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "the clock waited for the random source"
    );
    tx.send(()).unwrap();
    assert_eq!(drawer.join().unwrap(), Some(0));

    let mut ctx = WasiCtx::new().into_shared();
    ctx.deterministic(3);
    let mut g = Guest::new(ctx);
    assert_eq!(g.time(0), 1_704_067_200_000_000_000 + 1_000);
}

/// A context with every embedder's part in it can move between threads
/// and be shared by reference, as wasmtime's.
#[test]
fn a_context_is_send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    let mut ctx = WasiCtx::new();
    ctx.wall_clock(Manual::default())
        .monotonic_clock(Manual::default())
        .secure_random(|buf: &mut [u8]| buf.fill(0))
        .stdin(wasi::MemoryInputPipe::new(Vec::new()))
        .stdout(std::io::sink());
    send_sync(&ctx);
}

/// A file's times set to "now" take the guest's wall clock where it is
/// not the host's: the embedder's, or a deterministic run's virtual one.
#[test]
fn now_on_a_file_is_the_guests_now() {
    use std::os::unix::fs::MetadataExt;
    let path = std::env::temp_dir().join(format!("walmart-touch-{}", std::process::id()));
    std::fs::write(&path, "x").unwrap();
    let touched = |ctx: &mut WasiCtx| {
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        ctx.redirect(5, file);
        let mut g = Guest::new(std::mem::take(ctx));
        assert_eq!(g.call("touch", &[Val::I32(5)]).i32(), Some(0));
        let m = std::fs::metadata(&path).unwrap();
        (m.mtime() as u64) * 1_000_000_000 + m.mtime_nsec() as u64
    };
    let wall = Manual::default();
    wall.0.store(1_000_000_000_123_456_789, Ordering::SeqCst);
    let mut ctx = WasiCtx::new();
    ctx.wall_clock(wall);
    assert_eq!(touched(&mut ctx), 1_000_000_000_123_456_789);
    let mut ctx = WasiCtx::new();
    ctx.deterministic(1);
    assert_eq!(touched(&mut ctx), 1_704_067_200_000_000_000);
    // The host's now otherwise.
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut ctx = WasiCtx::new();
    let t = touched(&mut ctx) / 1_000_000_000;
    assert!(t >= before && t < before + 60, "{t} vs {before}");
    std::fs::remove_file(&path).unwrap();
}
