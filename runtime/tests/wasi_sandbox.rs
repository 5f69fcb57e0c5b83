//! Capability security: every way out of a preopened directory is refused
//! with ENOTCAPABLE (or fails without touching anything outside).

use std::path::PathBuf;

use walmart::wasi::{self, WasiCtx};
use walmart::{Engine, Func, Instance, Linker, Module, Store, Val};

const NOTCAPABLE: i32 = 76;
const LOOP: i32 = 32;
const SUCCESS: i32 = 0;
const PREOPEN: i32 = 3;
const RIGHTS_RW: i64 = (1 << 1) | (1 << 6);

/// Thin exports over the WASI path calls; paths are written at 1024 and
/// 2048, results at 16.
const PROBE: &str = r#"(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory" (func $mkdir (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_unlink_file" (func $unlink (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_remove_directory" (func $rmdir (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_get" (func $stat (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_rename" (func $rename (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_symlink" (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_link" (func $link (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_set_times"
    (func $times (param i32 i32 i32 i32 i64 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_readdir" (func $readdir (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_set_size" (func $fsize (param i32 i64) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_set_times" (func $ftimes (param i32 i64 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_allocate" (func $fallocate (param i32 i64 i64) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fdstat (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; Descriptor $fd's rights, base at 264 and inheriting at 272.
  (func (export "fdstat") (param $fd i32) (result i32) (call $fdstat (local.get $fd) (i32.const 256)))
  ;; Descriptor $fd's first 16 bytes (at 8192), or the same written from 8192.
  (func (export "read") (param $fd i32) (result i32)
    (i32.store (i32.const 32) (i32.const 8192))
    (i32.store (i32.const 36) (i32.const 16))
    (call $read (local.get $fd) (i32.const 32) (i32.const 1) (i32.const 40)))
  (func (export "write") (param $fd i32) (result i32)
    (i32.store (i32.const 32) (i32.const 8192))
    (i32.store (i32.const 36) (i32.const 16))
    (call $write (local.get $fd) (i32.const 32) (i32.const 1) (i32.const 40)))
  (func (export "fsize") (param $fd i32) (result i32) (call $fsize (local.get $fd) (i64.const 0)))
  (func (export "ftimes") (param $fd i32) (result i32)
    (call $ftimes (local.get $fd) (i64.const 0) (i64.const 0) (i32.const 10)))
  (func (export "fallocate") (param $fd i32) (result i32)
    (call $fallocate (local.get $fd) (i64.const 0) (i64.const 100)))
  ;; Into the second preopen (descriptor 4).
  (func (export "link_out") (param $a i32) (param $b i32) (result i32)
    (call $link (i32.const 3) (i32.const 0) (i32.const 1024) (local.get $a) (i32.const 4) (i32.const 2048) (local.get $b)))
  (func (export "rename_out") (param $a i32) (param $b i32) (result i32)
    (call $rename (i32.const 3) (i32.const 1024) (local.get $a) (i32.const 4) (i32.const 2048) (local.get $b)))
  (func (export "open") (param $fd i32) (param $follow i32) (param $len i32) (param $oflags i32) (param $rights i64) (result i32)
    (call $open (local.get $fd) (local.get $follow) (i32.const 1024) (local.get $len) (local.get $oflags)
      (local.get $rights) (i64.const 0) (i32.const 0) (i32.const 16)))
  (func (export "mkdir") (param $len i32) (result i32) (call $mkdir (i32.const 3) (i32.const 1024) (local.get $len)))
  (func (export "unlink") (param $len i32) (result i32) (call $unlink (i32.const 3) (i32.const 1024) (local.get $len)))
  (func (export "rmdir") (param $len i32) (result i32) (call $rmdir (i32.const 3) (i32.const 1024) (local.get $len)))
  (func (export "stat") (param $follow i32) (param $len i32) (result i32)
    (call $stat (i32.const 3) (local.get $follow) (i32.const 1024) (local.get $len) (i32.const 64)))
  (func (export "rename") (param $a i32) (param $b i32) (result i32)
    (call $rename (i32.const 3) (i32.const 1024) (local.get $a) (i32.const 3) (i32.const 2048) (local.get $b)))
  (func (export "symlink") (param $target i32) (param $len i32) (result i32)
    (call $symlink (i32.const 2048) (local.get $target) (i32.const 3) (i32.const 1024) (local.get $len)))
  (func (export "link") (param $follow i32) (param $a i32) (param $b i32) (result i32)
    (call $link (i32.const 3) (local.get $follow) (i32.const 1024) (local.get $a) (i32.const 3) (i32.const 2048) (local.get $b)))
  (func (export "touch") (param $follow i32) (param $len i32) (result i32)
    (call $times (i32.const 3) (local.get $follow) (i32.const 1024) (local.get $len) (i64.const 0) (i64.const 0) (i32.const 10)))
  (func (export "readdir") (param $fd i32) (result i32)
    (call $readdir (local.get $fd) (i32.const 4096) (i32.const 4096) (i64.const 0) (i32.const 16))))"#;

struct Probe {
    store: Store<WasiCtx>,
    instance: Instance,
    root: PathBuf,
}

impl Probe {
    fn new(tag: &str) -> Probe {
        Probe::with_perms(tag, wasi::DirPerms::all(), wasi::FilePerms::all())
    }

    /// The jail preopened (descriptor 3) with `dir` and `file`, and
    /// `root/out` (descriptor 4) with every permission.
    fn with_perms(tag: &str, dir: wasi::DirPerms, file: wasi::FilePerms) -> Probe {
        let root =
            std::env::temp_dir().join(format!("walmart-sandbox-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("jail/sub")).unwrap();
        std::fs::write(root.join("secret.txt"), "outside").unwrap();
        std::fs::write(root.join("jail/inside.txt"), "inside").unwrap();
        std::os::unix::fs::symlink("../secret.txt", root.join("jail/up_link")).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("jail/abs_link")).unwrap();
        std::os::unix::fs::symlink("inside.txt", root.join("jail/good_link")).unwrap();
        std::os::unix::fs::symlink("sub/../../secret.txt", root.join("jail/sneaky")).unwrap();
        let engine = Engine::default();
        let module = Module::new(&engine, PROBE).unwrap();
        let mut ctx = WasiCtx::new();
        std::fs::create_dir_all(root.join("out")).unwrap();
        ctx.preopened_dir(root.join("jail"), "/jail", dir, file)
            .unwrap();
        ctx.preopen_dir(root.join("out"), "/out").unwrap();
        let mut store = Store::new(&engine, ctx);
        let mut linker = Linker::new(&engine);
        wasi::add_to_linker(&mut linker, |c| c).unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        Probe {
            store,
            instance,
            root,
        }
    }

    fn call(&mut self, name: &str, args: &[Val]) -> i32 {
        let f: Func = self.instance.get_func(&mut self.store, name).unwrap();
        let mut out = [Val::I32(0)];
        f.call(&mut self.store, args, &mut out).unwrap();
        out[0].i32().unwrap()
    }

    fn path(&mut self, at: usize, p: &str) -> i32 {
        let mem = self.instance.get_memory(&mut self.store, "memory").unwrap();
        mem.write(&mut self.store, at, p.as_bytes()).unwrap();
        p.len() as i32
    }

    fn open(&mut self, p: &str, follow: bool, oflags: i32, rights: i64) -> i32 {
        let len = self.path(1024, p);
        self.call(
            "open",
            &[
                Val::I32(PREOPEN),
                Val::I32(follow as i32),
                Val::I32(len),
                Val::I32(oflags),
                Val::I64(rights),
            ],
        )
    }

    fn one(&mut self, name: &str, p: &str) -> i32 {
        let len = self.path(1024, p);
        self.call(name, &[Val::I32(len)])
    }

    fn secret_intact(&self) -> bool {
        std::fs::read_to_string(self.root.join("secret.txt"))
            .ok()
            .as_deref()
            == Some("outside")
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

#[test]
fn opening_outside_the_preopen_is_refused() {
    let mut p = Probe::new("open");
    for path in [
        "../secret.txt",
        "/etc/passwd",
        "sub/../../secret.txt",
        "./sub/./../../secret.txt",
        "..",
        "sub/../..",
        "abs_link/passwd",
        "sneaky",
    ] {
        assert_eq!(p.open(path, true, 0, 1 << 1), NOTCAPABLE, "open {path}");
    }
    // A symlink out, followed: refused. Not followed: it is a symlink (ELOOP).
    assert_eq!(p.open("up_link", true, 0, 1 << 1), NOTCAPABLE);
    assert_eq!(p.open("up_link", false, 0, 1 << 1), LOOP);
    // Creating through an escaping path must not create anything outside.
    assert_eq!(p.open("../created.txt", true, 1, RIGHTS_RW), NOTCAPABLE);
    assert!(!p.root.join("created.txt").exists());
    // Truncating through a symlink that leaves: refused, secret intact.
    assert_eq!(p.open("up_link", true, 8, RIGHTS_RW), NOTCAPABLE);
    assert!(p.secret_intact());
    // Legitimate paths inside still work.
    assert_eq!(p.open("inside.txt", true, 0, 1 << 1), SUCCESS);
    assert_eq!(p.open("sub/../inside.txt", true, 0, 1 << 1), SUCCESS);
    assert_eq!(p.open("good_link", true, 0, 1 << 1), SUCCESS);
    assert_eq!(p.open(".", true, 2, 1 << 14), SUCCESS);
}

#[test]
fn changing_the_file_system_outside_is_refused() {
    let mut p = Probe::new("mutate");
    assert_eq!(p.one("mkdir", "../made"), NOTCAPABLE);
    assert!(!p.root.join("made").exists());
    assert_eq!(p.one("unlink", "../secret.txt"), NOTCAPABLE);
    assert_eq!(p.one("unlink", "/etc/passwd"), NOTCAPABLE);
    assert_eq!(p.one("rmdir", "sub/../../jail"), NOTCAPABLE);
    assert!(p.root.join("jail").is_dir());
    assert!(p.secret_intact());

    let a = p.path(1024, "inside.txt");
    let b = p.path(2048, "../stolen.txt");
    assert_eq!(p.call("rename", &[Val::I32(a), Val::I32(b)]), NOTCAPABLE);
    let a = p.path(1024, "../secret.txt");
    let b = p.path(2048, "moved_in.txt");
    assert_eq!(p.call("rename", &[Val::I32(a), Val::I32(b)]), NOTCAPABLE);
    assert!(p.secret_intact());

    // Links: no absolute symlink targets, no hard links to outside files.
    let t = p.path(2048, "/etc/passwd");
    let l = p.path(1024, "new_link");
    assert_eq!(p.call("symlink", &[Val::I32(t), Val::I32(l)]), NOTCAPABLE);
    let a = p.path(1024, "../secret.txt");
    let b = p.path(2048, "hard");
    assert_eq!(
        p.call("link", &[Val::I32(0), Val::I32(a), Val::I32(b)]),
        NOTCAPABLE
    );
    let a = p.path(1024, "up_link");
    assert_eq!(p.call("link", &[Val::I32(1), Val::I32(a), Val::I32(b)]), 28);
    assert!(!p.root.join("jail/hard").exists());

    // Metadata through escaping paths.
    let l = p.path(1024, "up_link");
    assert_eq!(p.call("stat", &[Val::I32(1), Val::I32(l)]), NOTCAPABLE);
    assert_eq!(p.call("stat", &[Val::I32(0), Val::I32(l)]), SUCCESS);
    let l = p.path(1024, "..");
    assert_eq!(p.call("stat", &[Val::I32(1), Val::I32(l)]), NOTCAPABLE);
    let before = std::fs::metadata(p.root.join("secret.txt"))
        .unwrap()
        .modified()
        .unwrap();
    let l = p.path(1024, "up_link");
    assert_eq!(p.call("touch", &[Val::I32(1), Val::I32(l)]), NOTCAPABLE);
    let after = std::fs::metadata(p.root.join("secret.txt"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after);

    // And the legitimate versions work.
    assert_eq!(p.one("mkdir", "newdir"), SUCCESS);
    assert!(p.root.join("jail/newdir").is_dir());
    assert_eq!(p.one("rmdir", "newdir"), SUCCESS);
    let t = p.path(2048, "inside.txt");
    let l = p.path(1024, "rel_link");
    assert_eq!(p.call("symlink", &[Val::I32(t), Val::I32(l)]), SUCCESS);
    assert_eq!(p.one("unlink", "rel_link"), SUCCESS);
}

#[test]
fn bad_descriptors_and_pointers_are_errors() {
    let mut p = Probe::new("bad");
    // Not a descriptor; not a directory.
    let len = p.path(1024, "inside.txt");
    assert_eq!(
        p.call(
            "open",
            &[
                Val::I32(99),
                Val::I32(1),
                Val::I32(len),
                Val::I32(0),
                Val::I64(2)
            ]
        ),
        8
    );
    assert_eq!(
        p.call(
            "open",
            &[
                Val::I32(1),
                Val::I32(1),
                Val::I32(len),
                Val::I32(0),
                Val::I64(2)
            ]
        ),
        54
    );
    // A path running past the end of memory is EFAULT, not a crash.
    assert_eq!(
        p.call(
            "open",
            &[
                Val::I32(PREOPEN),
                Val::I32(1),
                Val::I32(70000),
                Val::I32(0),
                Val::I64(2)
            ]
        ),
        21
    );
    // readdir on the preopen lists its entries.
    assert_eq!(p.call("readdir", &[Val::I32(PREOPEN)]), SUCCESS);
}

/// `random_get` into memory at `ptr`, `len` bytes.
const RANDOM: &str = r#"(module
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "random") (param i32 i32) (result i32) (call $random (local.get 0) (local.get 1))))"#;

/// A deterministic context's `random_get`: the seed's bytes, the same
/// whether drawn at once or in pieces, and nothing drawn by a call that
/// faults.
#[test]
fn deterministic_random_bytes_follow_the_seed_and_faults_draw_none() {
    const FAULT: i32 = 21;
    let engine = Engine::default();
    let module = Module::new(&engine, RANDOM).unwrap();
    let run = |calls: &[(i32, i32)]| -> (Vec<i32>, Vec<u8>) {
        let mut ctx = WasiCtx::new();
        ctx.deterministic(7);
        let mut store = Store::new(&engine, ctx);
        let mut linker = Linker::new(&engine);
        wasi::add_to_linker(&mut linker, |c| c).unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let f = instance.get_func(&mut store, "random").unwrap();
        let mut answers = Vec::new();
        for &(ptr, len) in calls {
            let mut out = [Val::I32(0)];
            f.call(&mut store, &[Val::I32(ptr), Val::I32(len)], &mut out)
                .unwrap();
            answers.push(out[0].i32().unwrap());
        }
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        (answers, memory.data(&store)[..20000].to_vec())
    };
    let (answers, whole) = run(&[(0, 10000)]);
    assert_eq!(answers, [SUCCESS]);
    assert!(whole[..10000].iter().any(|&b| b != 0));
    // Pieces of 4096 + 8 and the rest: the same stream of bytes.
    let (_, pieces) = run(&[(0, 4104), (4104, 5896)]);
    assert_eq!(pieces[..10000], whole[..10000]);
    // A faulting call (past the memory, or wrapping) draws nothing.
    let (answers, after_fault) = run(&[(65000, 1000), (-16, 32), (0, -1), (0, 10000)]);
    assert_eq!(answers, [FAULT, FAULT, FAULT, SUCCESS]);
    assert_eq!(after_fault[..10000], whole[..10000]);
}

const PERM: i32 = 63;
const BADF: i32 = 8;
const RIGHT_READ: i64 = 1 << 1;
const RIGHT_WRITE: i64 = 1 << 6;
const RIGHT_READDIR: i64 = 1 << 14;
const O_CREAT: i32 = 1;
const O_DIRECTORY: i32 = 2;
const O_TRUNC: i32 = 8;
/// `fd_seek` and `fd_tell`.
const SEEK_AND_TELL: i64 = (1 << 2) | (1 << 5);
/// Every right a directory has outside a restricted preopen.
const ALL_BUT_SEEK: i64 = ((1 << 30) - 1) & !SEEK_AND_TELL;

impl Probe {
    /// The descriptor `open` gave (written at 16).
    fn opened(&mut self) -> i32 {
        let mem = self.instance.get_memory(&mut self.store, "memory").unwrap();
        let mut fd = [0u8; 4];
        mem.read(&self.store, 16, &mut fd).unwrap();
        i32::from_le_bytes(fd)
    }

    /// `fd`'s rights, base and inheriting.
    fn rights(&mut self, fd: i32) -> (i64, i64) {
        assert_eq!(self.on_fd("fdstat", fd), SUCCESS);
        let mem = self.instance.get_memory(&mut self.store, "memory").unwrap();
        let mut raw = [0u8; 16];
        mem.read(&self.store, 264, &mut raw).unwrap();
        let (base, inheriting) = raw.split_at(8);
        (
            i64::from_le_bytes(base.try_into().unwrap()),
            i64::from_le_bytes(inheriting.try_into().unwrap()),
        )
    }

    fn two(&mut self, name: &str, a: &str, b: &str) -> i32 {
        let (la, lb) = (self.path(1024, a), self.path(2048, b));
        self.call(name, &[Val::I32(la), Val::I32(lb)])
    }

    fn on_fd(&mut self, name: &str, fd: i32) -> i32 {
        self.call(name, &[Val::I32(fd)])
    }

    /// `name` (`stat` or `touch`) on `path`, following symlinks.
    fn followed(&mut self, name: &str, path: &str) -> i32 {
        let len = self.path(1024, path);
        self.call(name, &[Val::I32(1), Val::I32(len)])
    }
}

/// A directory preopened read only (`DirPerms::READ`, `FilePerms::READ`):
/// the guest lists, stats and reads what is beneath it, and every change
/// (to entries, files, sizes, times, through links or renames into a
/// writable directory, or through a directory opened beneath it) fails
/// with EPERM and leaves the host's files as they were.
#[test]
fn a_read_only_preopen_reads_and_refuses_every_change() {
    let mut p = Probe::with_perms("ro", wasi::DirPerms::READ, wasi::FilePerms::READ);
    let jail = p.root.join("jail");
    // Reading works.
    assert_eq!(p.open("inside.txt", true, 0, RIGHT_READ), SUCCESS);
    let file = p.opened();
    assert_eq!(p.on_fd("read", file), SUCCESS);
    assert_eq!(p.call("readdir", &[Val::I32(PREOPEN)]), SUCCESS);
    assert_eq!(p.followed("stat", "inside.txt"), SUCCESS);
    // The file opened for reading: no writes (the host's EBADF), no
    // change of size, times or allocation.
    assert_eq!(p.on_fd("write", file), BADF);
    for call in ["fsize", "ftimes", "fallocate"] {
        assert_eq!(p.on_fd(call, file), PERM, "{call}");
    }
    // Opening to write, truncate or create.
    assert_eq!(
        p.open("inside.txt", true, 0, RIGHT_READ | RIGHT_WRITE),
        PERM
    );
    assert_eq!(p.open("inside.txt", true, 0, RIGHT_WRITE), PERM);
    assert_eq!(p.open("inside.txt", true, O_TRUNC, RIGHT_READ), PERM);
    assert_eq!(p.open("new.txt", true, O_CREAT, RIGHT_READ), PERM);
    // Every change of the directory's entries.
    assert_eq!(p.one("mkdir", "newdir"), PERM);
    assert_eq!(p.one("unlink", "inside.txt"), PERM);
    assert_eq!(p.one("rmdir", "sub"), PERM);
    assert_eq!(p.two("rename", "inside.txt", "moved.txt"), PERM);
    let (old, new) = (p.path(1024, "inside.txt"), p.path(2048, "hard.txt"));
    assert_eq!(
        p.call("link", &[Val::I32(0), Val::I32(old), Val::I32(new)]),
        PERM
    );
    let target = p.path(2048, "inside.txt");
    let name = p.path(1024, "soft");
    assert_eq!(p.call("symlink", &[Val::I32(target), Val::I32(name)]), PERM);
    assert_eq!(p.followed("touch", "inside.txt"), PERM);
    // Out into the writable preopen: a hard link there would be a way to
    // write the file; a rename takes it away.
    assert_eq!(p.two("link_out", "inside.txt", "hard.txt"), PERM);
    assert_eq!(p.two("rename_out", "inside.txt", "moved.txt"), PERM);
    // A directory opened beneath it carries its permissions.
    assert_eq!(p.open("sub", true, O_DIRECTORY, RIGHT_READDIR), SUCCESS);
    let sub = p.opened();
    assert_eq!(p.call("readdir", &[Val::I32(sub)]), SUCCESS);
    assert_eq!(p.on_fd("ftimes", sub), PERM);
    // The rights tell the truth (wasi-libc's `access(W_OK)` reads the
    // directory's inheriting rights): no writing, creating or removing.
    let (base, inheriting) = p.rights(PREOPEN);
    for (right, name) in [
        (1 << 10, "path_create_file"),
        (1 << 9, "path_create_directory"),
        (1 << 26, "path_unlink_file"),
    ] {
        assert_eq!(base & right, 0, "{name}");
    }
    assert_eq!(inheriting & RIGHT_WRITE, 0);
    assert_ne!(inheriting & RIGHT_READ, 0);
    assert_ne!(base & RIGHT_READDIR, 0);
    let (base, _) = p.rights(file);
    assert_eq!(base & RIGHT_WRITE, 0);
    assert_ne!(base & RIGHT_READ, 0);
    // Outside a restricted preopen, every right.
    assert_eq!(p.rights(4), (ALL_BUT_SEEK, (1 << 30) - 1));
    // Nothing changed on the host.
    assert_eq!(
        std::fs::read_to_string(jail.join("inside.txt")).unwrap(),
        "inside"
    );
    let mut names: Vec<_> = std::fs::read_dir(&jail)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "abs_link",
            "good_link",
            "inside.txt",
            "sneaky",
            "sub",
            "up_link"
        ]
    );
    assert!(std::fs::read_dir(p.root.join("out"))
        .unwrap()
        .next()
        .is_none());
}

/// Write permission on files without `MUTATE` on the directory: existing
/// files are written, none is created or removed; and a directory
/// without `READ` is not listed or opened beneath.
#[test]
fn file_and_directory_permissions_apply_apart() {
    let mut p = Probe::with_perms("files-only", wasi::DirPerms::READ, wasi::FilePerms::all());
    assert_eq!(
        p.open("inside.txt", true, 0, RIGHT_READ | RIGHT_WRITE),
        SUCCESS
    );
    let file = p.opened();
    assert_eq!(p.on_fd("write", file), SUCCESS);
    assert_eq!(p.on_fd("fsize", file), SUCCESS);
    assert_eq!(p.open("new.txt", true, O_CREAT, RIGHT_WRITE), PERM);
    assert_eq!(p.one("unlink", "inside.txt"), PERM);
    assert!(
        std::fs::metadata(p.root.join("jail/inside.txt"))
            .unwrap()
            .len()
            == 0
    );
    drop(p);

    // Files that may be written, not read (a drop box): created and
    // written write-only, never opened readable, with whatever rights.
    let mut p = Probe::with_perms(
        "drop-box",
        wasi::DirPerms::READ | wasi::DirPerms::MUTATE,
        wasi::FilePerms::WRITE,
    );
    assert_eq!(p.open("dropped.txt", true, O_CREAT, RIGHT_WRITE), SUCCESS);
    let file = p.opened();
    assert_eq!(p.on_fd("write", file), SUCCESS);
    assert_eq!(p.on_fd("read", file), BADF);
    assert_eq!(p.open("inside.txt", true, 0, 0), PERM);
    assert_eq!(p.open("inside.txt", true, 0, RIGHT_READ), PERM);
    assert_eq!(
        p.open("inside.txt", true, 0, RIGHT_READ | RIGHT_WRITE),
        PERM
    );
    assert_eq!(p.rights(PREOPEN).1 & RIGHT_READ, 0);
    drop(p);

    let mut p = Probe::with_perms("no-read", wasi::DirPerms::empty(), wasi::FilePerms::all());
    assert_eq!(p.call("readdir", &[Val::I32(PREOPEN)]), PERM);
    assert_eq!(p.open("inside.txt", true, 0, RIGHT_READ), PERM);
    assert_eq!(p.followed("stat", "inside.txt"), PERM);
}

/// A descriptor's rights say which way it was opened (wasi-libc's
/// `fcntl(F_GETFL)` reads its access mode from them).
#[test]
fn rights_follow_the_open_mode() {
    let mut p = Probe::new("open-mode");
    for (rights, read, write) in [
        (RIGHT_READ, true, false),
        (RIGHT_WRITE, false, true),
        (RIGHT_READ | RIGHT_WRITE, true, true),
    ] {
        assert_eq!(p.open("inside.txt", true, 0, rights), SUCCESS);
        let fd = p.opened();
        let (base, _) = p.rights(fd);
        // wasi-libc takes either for readable.
        assert_eq!(
            base & (RIGHT_READ | RIGHT_READDIR) != 0,
            read,
            "rights {rights:#x}"
        );
        assert_eq!(base & RIGHT_WRITE != 0, write, "rights {rights:#x}");
    }
    // The preopen itself keeps every right but seeking (which a
    // directory refuses), and a file may seek.
    assert_eq!(p.rights(PREOPEN).0, ALL_BUT_SEEK);
    let file = p.opened();
    assert_ne!(p.rights(file).0 & SEEK_AND_TELL, 0);
}
