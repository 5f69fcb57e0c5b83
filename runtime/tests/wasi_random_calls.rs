//! Random WASI calls, arguments drawn from a seed (descriptors, paths,
//! flags and lengths near the interesting values, and any bits): none
//! panics the host or traps, every one answers an errno, and nothing
//! changes outside the writable preopen, the read-only one included.

mod common;

use std::path::{Path, PathBuf};

use walmart::wasi::{DirPerms, FilePerms, MemoryInputPipe, MemoryOutputPipe, WasiCtx};
use walmart::Val;

/// Every preview 1 function that neither exits nor waits on a clock
/// (`proc_exit`, `poll_oneoff`), with its parameter types.
const CALLS: &[(&str, &str)] = &[
    ("args_get", "i32 i32"),
    ("args_sizes_get", "i32 i32"),
    ("environ_get", "i32 i32"),
    ("environ_sizes_get", "i32 i32"),
    ("clock_res_get", "i32 i32"),
    ("clock_time_get", "i32 i64 i32"),
    ("fd_advise", "i32 i64 i64 i32"),
    ("fd_allocate", "i32 i64 i64"),
    ("fd_close", "i32"),
    ("fd_datasync", "i32"),
    ("fd_fdstat_get", "i32 i32"),
    ("fd_fdstat_set_flags", "i32 i32"),
    ("fd_fdstat_set_rights", "i32 i64 i64"),
    ("fd_filestat_get", "i32 i32"),
    ("fd_filestat_set_size", "i32 i64"),
    ("fd_filestat_set_times", "i32 i64 i64 i32"),
    ("fd_pread", "i32 i32 i32 i64 i32"),
    ("fd_prestat_get", "i32 i32"),
    ("fd_prestat_dir_name", "i32 i32 i32"),
    ("fd_pwrite", "i32 i32 i32 i64 i32"),
    ("fd_read", "i32 i32 i32 i32"),
    ("fd_readdir", "i32 i32 i32 i64 i32"),
    ("fd_renumber", "i32 i32"),
    ("fd_seek", "i32 i64 i32 i32"),
    ("fd_sync", "i32"),
    ("fd_tell", "i32 i32"),
    ("fd_write", "i32 i32 i32 i32"),
    ("path_create_directory", "i32 i32 i32"),
    ("path_filestat_get", "i32 i32 i32 i32 i32"),
    ("path_filestat_set_times", "i32 i32 i32 i32 i64 i64 i32"),
    ("path_link", "i32 i32 i32 i32 i32 i32 i32"),
    ("path_open", "i32 i32 i32 i32 i32 i64 i64 i32 i32"),
    ("path_readlink", "i32 i32 i32 i32 i32 i32"),
    ("path_remove_directory", "i32 i32 i32"),
    ("path_rename", "i32 i32 i32 i32 i32 i32"),
    ("path_symlink", "i32 i32 i32 i32 i32"),
    ("path_unlink_file", "i32 i32 i32"),
    ("proc_raise", "i32"),
    ("random_get", "i32 i32"),
    ("sched_yield", ""),
    ("sock_accept", "i32 i32 i32"),
    ("sock_recv", "i32 i32 i32 i32 i32 i32"),
    ("sock_send", "i32 i32 i32 i32 i32"),
    ("sock_shutdown", "i32 i32"),
];

/// A small seeded generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Paths laid out in the guest's memory from 0x1000, 64 bytes apart.
const PATHS: &[&str] = &[
    "a.txt",
    "sub",
    "sub/b.txt",
    "new",
    "new/deeper",
    "link",
    "..",
    "../secret.txt",
    "/etc/passwd",
    "sub/../a.txt",
    ".",
    "a.txt/",
    "dangling",
    "sub/../../ro/a.txt",
];
const PATHS_AT: u32 = 0x1000;

/// An argument of type `ty`: for an i32 a descriptor, a path's address
/// or length, a buffer, a flag word or any bits; for an i64 an offset,
/// a time, rights or any bits.
fn argument(rng: &mut Rng, ty: &str) -> Val {
    if ty == "i64" {
        let v = match rng.below(5) {
            0 => rng.below(64),
            1 => rng.below(1 << 20),
            2 => u64::MAX - rng.below(4),
            3 => (1 << 30) - 1,
            _ => rng.next(),
        };
        return Val::I64(v as i64);
    }
    let v = match rng.below(9) {
        // Descriptors: stdio, the preopens, what opens gave.
        0 | 1 => rng.below(10) as u32,
        // A path and its length.
        2 => PATHS_AT + 64 * rng.below(PATHS.len() as u64) as u32,
        3 => rng.pick(&PATHS.iter().map(|p| p.len() as u32).collect::<Vec<_>>()),
        // Buffers and iovec arrays (iovecs at 0x3000 point into 0x4000..).
        4 => rng.pick(&[0x3000, 0x4000, 0x8000, 0xfff0, 0xffff]),
        5 => rng.below(16) as u32,
        // Flags.
        6 => rng.below(64) as u32,
        7 => u32::MAX - rng.below(4) as u32,
        _ => rng.next() as u32,
    };
    Val::I32(v as i32)
}

/// Where a call's directory descriptors, paths (address, length) and
/// iovec array (address, count) sit among its arguments.
struct Layout {
    dirs: &'static [usize],
    paths: &'static [(usize, usize)],
    iovecs: Option<(usize, usize)>,
}

fn layout(name: &str) -> Layout {
    match name {
        "path_create_directory" | "path_remove_directory" | "path_unlink_file" => Layout {
            dirs: &[0],
            paths: &[(1, 2)],
            iovecs: None,
        },
        "path_filestat_get" | "path_filestat_set_times" | "path_open" => Layout {
            dirs: &[0],
            paths: &[(2, 3)],
            iovecs: None,
        },
        "path_link" => Layout {
            dirs: &[0, 4],
            paths: &[(2, 3), (5, 6)],
            iovecs: None,
        },
        "path_readlink" => Layout {
            dirs: &[0],
            paths: &[(1, 2)],
            iovecs: None,
        },
        "path_rename" => Layout {
            dirs: &[0, 3],
            paths: &[(1, 2), (4, 5)],
            iovecs: None,
        },
        "path_symlink" => Layout {
            dirs: &[2],
            paths: &[(0, 1), (3, 4)],
            iovecs: None,
        },
        "fd_read" | "fd_write" | "fd_pread" | "fd_pwrite" | "sock_recv" | "sock_send" => Layout {
            dirs: &[0],
            paths: &[],
            iovecs: Some((1, 2)),
        },
        _ => Layout {
            dirs: &[],
            paths: &[],
            iovecs: None,
        },
    }
}

/// Gives `name`'s arguments a program's shape: an open descriptor, a
/// laid-out path with its own length, an iovec array.
fn shape(rng: &mut Rng, name: &str, args: &mut [Val]) {
    if name == "fd_close" || name == "fd_renumber" {
        // Mostly what the guest opened: the preopens stay a while.
        args[0] = Val::I32(5 + rng.below(5) as i32);
        return;
    }
    let Layout {
        dirs,
        paths,
        iovecs,
    } = layout(name);
    for &d in dirs {
        args[d] = Val::I32(rng.pick(&[0, 1, 2, 3, 3, 4, 4, 5, 6, 7]));
    }
    for &(ptr, len) in paths {
        let k = rng.below(PATHS.len() as u64) as usize;
        args[ptr] = Val::I32((PATHS_AT + 64 * k as u32) as i32);
        args[len] = Val::I32(PATHS[k].len() as i32);
    }
    if let Some((ptr, count)) = iovecs {
        args[ptr] = Val::I32(0x3000);
        args[count] = Val::I32(1 + rng.below(4) as i32);
    }
    // Results somewhere writable.
    if let Some(Val::I32(last)) = args.last_mut() {
        if rng.below(2) == 0 {
            *last = 0x8000;
        }
    }
}

/// `dir`'s files and their contents, recursively, sorted.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                stack.push(p.clone());
                out.push((p, b"<dir>".to_vec()));
            } else if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&p).unwrap();
                out.push((p, target.into_os_string().into_encoded_bytes()));
            } else {
                let bytes = std::fs::read(&p).unwrap();
                out.push((p, bytes));
            }
        }
    }
    out.sort();
    out
}

/// Whether the calls are asynchronous ones (`add_to_linker_async`,
/// `call_async`), whose reads, writes and polls may suspend.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Sync,
    Async,
}

/// Polls `f` to its end on this thread, failing after ten seconds: no call
/// here has anything to wait for (streams in memory, files).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
        assert!(std::time::Instant::now() < deadline, "a call never ended");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

fn run_seed(seed: u64, calls: usize, mode: Mode) {
    let root = std::env::temp_dir().join(format!(
        "walmart-random-{}-{seed}-{mode:?}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&root);
    for dir in ["rw/sub", "ro/sub"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    for dir in ["rw", "ro"] {
        std::fs::write(root.join(dir).join("a.txt"), "contents of a").unwrap();
        std::fs::write(root.join(dir).join("sub/b.txt"), "contents of b").unwrap();
        std::os::unix::fs::symlink("a.txt", root.join(dir).join("link")).unwrap();
        std::os::unix::fs::symlink("nowhere", root.join(dir).join("dangling")).unwrap();
    }
    std::fs::write(root.join("secret.txt"), "outside").unwrap();
    let ro_before = snapshot(&root.join("ro"));

    let mut ctx = WasiCtx::new();
    ctx.stdin(MemoryInputPipe::new(vec![b'x'; 100_000]))
        .stdout(MemoryOutputPipe::new(1 << 20))
        .stderr(MemoryOutputPipe::new(1 << 20))
        .args(["prog", "arg"])
        .env("KEY", "value");
    ctx.preopen_dir(root.join("rw"), "rw").unwrap();
    ctx.preopened_dir(root.join("ro"), "ro", DirPerms::READ, FilePerms::READ)
        .unwrap();
    let (mut store, instance) = match mode {
        Mode::Sync => common::wasi_instance(common::wasi_calls_module(CALLS), ctx),
        Mode::Async => {
            let mut config = walmart::Config::new();
            config.async_support(true);
            let engine = walmart::Engine::new(&config).unwrap();
            let module = walmart::Module::new(&engine, common::wasi_calls_module(CALLS)).unwrap();
            let mut linker = walmart::Linker::new(&engine);
            walmart::wasi::add_to_linker_async(&mut linker, |c: &mut WasiCtx| c).unwrap();
            let mut store = walmart::Store::new(&engine, ctx);
            let instance = block_on(linker.instantiate_async(&mut store, &module)).unwrap();
            (store, instance)
        }
    };
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let funcs: Vec<_> = CALLS
        .iter()
        .map(|(name, params)| (*name, *params, instance.get_func(&mut store, name).unwrap()))
        .collect();
    for i in 0..calls {
        // Fresh layout now and then: paths, iovecs, random bytes.
        if i % 64 == 0 {
            let mut bytes = vec![0u8; 0x10000];
            for b in bytes.iter_mut() {
                *b = rng.next() as u8;
            }
            for (k, p) in PATHS.iter().enumerate() {
                let at = PATHS_AT as usize + 64 * k;
                bytes[at..at + p.len()].copy_from_slice(p.as_bytes());
            }
            for k in 0..16 {
                let at = 0x3000 + 8 * k;
                let buf = 0x4000 + 0x100 * k as u32;
                let len = rng.below(0x200) as u32;
                bytes[at..at + 4].copy_from_slice(&buf.to_le_bytes());
                bytes[at + 4..at + 8].copy_from_slice(&len.to_le_bytes());
            }
            memory.write(&mut store, 0, &bytes).unwrap();
        }
        let (name, params, f) = &funcs[rng.below(funcs.len() as u64) as usize];
        let mut args: Vec<Val> = params
            .split_whitespace()
            .map(|ty| argument(&mut rng, ty))
            .collect();
        // Mostly a call shaped as a program makes it, to reach past the
        // argument checks.
        if rng.below(10) < 7 {
            shape(&mut rng, name, &mut args);
        }
        let mut out = [Val::I32(0)];
        let called = match mode {
            Mode::Sync => f.call(&mut store, &args, &mut out),
            Mode::Async => block_on(f.call_async(&mut store, &args, &mut out)),
        };
        if let Err(e) = called {
            panic!("seed {seed}, call {i}: {name}{args:?} failed: {e}");
        }
        let errno = out[0].i32().unwrap();
        assert!(
            (0..=76).contains(&errno),
            "seed {seed}, call {i}: {name}{args:?} answered {errno}"
        );
    }
    drop(store);
    assert_eq!(
        snapshot(&root.join("ro")),
        ro_before,
        "seed {seed}: the read-only preopen changed"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("secret.txt")).unwrap(),
        "outside"
    );
    let mut names: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["ro", "rw", "secret.txt"], "seed {seed}");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn random_wasi_calls_answer_errnos_and_change_nothing_outside() {
    // More with WALMART_RANDOM_SEEDS=N.
    let seeds = std::env::var("WALMART_RANDOM_SEEDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(16);
    for seed in 1..=seeds {
        run_seed(seed, 3000, Mode::Sync);
    }
}

/// The same through `add_to_linker_async` and `call_async`, where reads,
/// writes and polls of what could block go through the readiness waits.
#[test]
fn random_asynchronous_wasi_calls_answer_errnos_and_change_nothing_outside() {
    // More with WALMART_RANDOM_SEEDS=N (a quarter of them here).
    let seeds = std::env::var("WALMART_RANDOM_SEEDS")
        .ok()
        .and_then(|n| n.parse::<u64>().ok())
        .map_or(4, |n| (n / 4).max(4));
    for seed in 101..=100 + seeds {
        run_seed(seed, 2000, Mode::Async);
    }
}
