//! Inherited stdio's file type: asked of the host when a guest asks
//! (`fd_fdstat_get`), not when a context is made, and the same as the
//! host's.

mod common;

use walmart::wasi::WasiCtx;
use walmart::Val;

/// `fd_fdstat_get` of a descriptor: its file type, and its base rights.
const PROBE: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fdstat (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "filetype") (param $fd i32) (result i32)
    (if (call $fdstat (local.get $fd) (i32.const 0)) (then (return (i32.const -1))))
    (i32.load8_u (i32.const 0)))
  (func (export "rights") (param $fd i32) (result i64)
    (if (call $fdstat (local.get $fd) (i32.const 0)) (then (return (i64.const -1))))
    (i64.load (i32.const 8))))"#;

/// Export `name` of the probe, in a context `ctx`, on descriptor `fd`.
fn probe(ctx: WasiCtx, name: &str, fd: i32) -> Val {
    let (mut store, instance) = common::wasi_instance(PROBE, ctx);
    let f = instance.get_func(&mut store, name).unwrap();
    let mut out = [Val::I32(0)];
    f.call(&mut store, &[Val::I32(fd)], &mut out).unwrap();
    out[0]
}

/// The guest's view of descriptor `fd`'s file type in a context `ctx`.
fn filetype(ctx: WasiCtx, fd: i32) -> i32 {
    probe(ctx, "filetype", fd).i32().unwrap()
}

/// The WASI file type of the host's descriptor `fd`.
fn host_filetype(fd: i32) -> i32 {
    // SAFETY: fstat writes into a zeroed struct; the result is checked.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::fstat(fd, &mut st) }, 0);
    match st.st_mode & libc::S_IFMT {
        libc::S_IFBLK => 1,
        libc::S_IFCHR => 2,
        libc::S_IFDIR => 3,
        libc::S_IFREG => 4,
        libc::S_IFSOCK => 6,
        libc::S_IFLNK => 7,
        _ => 0,
    }
}

#[test]
fn inherited_stdio_reports_the_hosts_file_types() {
    for fd in 0..3 {
        assert_eq!(filetype(WasiCtx::new(), fd), host_filetype(fd), "fd {fd}");
    }
}

#[test]
fn a_redirected_descriptor_reports_its_files_type() {
    let dir = std::env::temp_dir().join(format!("walmart-stdio-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = std::fs::File::create(dir.join("out")).unwrap();
    let mut ctx = WasiCtx::new();
    ctx.redirect(1, file);
    assert_eq!(filetype(ctx, 1), 4);
    // A descriptor that is not open.
    assert_eq!(filetype(WasiCtx::new(), 9), -1);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A terminal is a character device without the rights to seek and tell:
/// what wasi-libc's `isatty` (and Rust's and Zig's) look for, so a
/// program line-buffers its output to a terminal as natively. A file
/// keeps them.
#[test]
fn a_terminal_has_no_seek_rights_and_a_file_has() {
    let rights = |ctx: WasiCtx, fd: i32| probe(ctx, "rights", fd).i64().unwrap();
    const SEEK_AND_TELL: i64 = (1 << 2) | (1 << 5);
    let (mut controller, mut terminal) = (0, 0);
    // SAFETY: openpty writes the two descriptors; the rest may be null.
    let rc = unsafe {
        libc::openpty(
            &mut controller,
            &mut terminal,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    if rc == 0 {
        // SAFETY: fresh descriptors openpty gave this test.
        let (controller, terminal) = unsafe {
            use std::os::fd::FromRawFd;
            (
                std::fs::File::from_raw_fd(controller),
                std::fs::File::from_raw_fd(terminal),
            )
        };
        let mut ctx = WasiCtx::new();
        ctx.redirect(1, terminal.try_clone().unwrap());
        assert_eq!(filetype(ctx, 1), 2, "a character device");
        let mut ctx = WasiCtx::new();
        ctx.redirect(1, terminal);
        let base = rights(ctx, 1);
        assert_eq!(base & SEEK_AND_TELL, 0, "{base:#x}");
        drop(controller);
    } else {
        // A host without pseudo-terminals (no /dev/ptmx): nothing to
        // show a terminal with here.
        eprintln!(
            "no pseudo-terminal: {}; the terminal half is not checked",
            std::io::Error::last_os_error()
        );
    }

    let path = std::env::temp_dir().join(format!("walmart-tty-{}", std::process::id()));
    let mut ctx = WasiCtx::new();
    ctx.redirect(1, std::fs::File::create(&path).unwrap());
    assert_eq!(rights(ctx, 1) & SEEK_AND_TELL, SEEK_AND_TELL);
    std::fs::remove_file(&path).unwrap();
}
