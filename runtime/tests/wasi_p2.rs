//! WASI 0.2 for components: real command components (the C fixtures of
//! `tests/fixtures/c` wrapped by wit-component with the preview 1
//! adapter, `scripts/build-component-fixtures.sh`) run on
//! `walmart::component::wasi`, with the embedder's streams, arguments,
//! environment and preopened directories.

mod common;

use std::path::PathBuf;

use walmart::component::{Component, Linker, Val};
use walmart::wasi::{DirPerms, FilePerms, MemoryInputPipe, MemoryOutputPipe, WasiCtx};
use walmart::{Engine, Store};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/components")
        .join(name)
}

struct Run {
    result: walmart::Result<Val>,
    stdout: String,
    stderr: String,
}

/// Runs the command component `name` with the context `setup` makes.
fn run(name: &str, setup: impl FnOnce(&mut WasiCtx)) -> Run {
    let engine = Engine::default();
    let component = Component::from_file(&engine, fixture(name)).unwrap();
    let mut linker = Linker::<WasiCtx>::new(&engine);
    walmart::component::wasi::add_to_linker(&mut linker, |c| c).unwrap();
    let (stdout, stderr) = (
        MemoryOutputPipe::new(1 << 20),
        MemoryOutputPipe::new(1 << 20),
    );
    let mut ctx = WasiCtx::new();
    ctx.stdout(stdout.clone()).stderr(stderr.clone());
    setup(&mut ctx);
    let mut store = Store::new(&engine, ctx);
    let result = linker
        .instantiate(&mut store, &component)
        .and_then(|instance| {
            let run = walmart::component::wasi::command_run(&instance, &mut store)?.unwrap();
            let mut out = [Val::Bool(false)];
            run.func()
                .call(&mut store, &[], &mut out)
                .map(|()| out[0].clone())
        });
    let text = |p: &MemoryOutputPipe| String::from_utf8(p.contents()).unwrap();
    Run {
        result,
        stdout: text(&stdout),
        stderr: text(&stderr),
    }
}

/// The command's `run` returned `ok` (a failure exits with status 1
/// through `wasi:cli/exit`, an error here).
fn succeeded(r: &Run) -> bool {
    matches!(&r.result, Ok(Val::Result(Ok(None))))
}

#[test]
fn arguments_environment_and_standard_streams() {
    let r = run("hello.wasm", |ctx| {
        ctx.args(["hello", "0", "two words"])
            .env("GREETING", "salut");
    });
    assert!(succeeded(&r), "{:?}", r.result);
    assert_eq!(
        r.stdout,
        "argc=3\nargv[1]=0\nargv[2]=two words\nGREETING=salut\n"
    );
    assert_eq!(r.stderr, "to stderr\n");
    // A non-zero status is the command's failure (WASI 0.2's exit
    // carries no number).
    let r = run("hello.wasm", |ctx| {
        ctx.args(["hello", "3"]);
    });
    assert_eq!(r.result.unwrap_err().exit_status(), Some(1));
}

#[test]
fn standard_input_is_read_to_its_end() {
    let text = "one two\nthree\n\nfour five six\n".repeat(500);
    let input = text.clone();
    let r = run("wc.wasm", move |ctx| {
        ctx.stdin(MemoryInputPipe::new(input));
    });
    assert!(succeeded(&r), "{:?} {}", r.result, r.stderr);
    assert_eq!(r.stdout, format!("2000 3000 {} most=10\n", text.len()));
}

#[test]
fn files_beneath_a_preopened_directory() {
    let root = std::env::temp_dir().join(format!("walmart-p2-files-{}", std::process::id()));
    let data = root.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let d = data.clone();
    let r = run("files.wasm", move |ctx| {
        ctx.preopen_dir(&d, "data").unwrap();
    });
    assert!(succeeded(&r), "{:?} {}", r.result, r.stderr);
    assert_eq!(
        r.stdout,
        "lines=1000 sum=499500 size=8890\nstat size=8890 regular=1\nentry b.txt\ndone entries=1\n"
    );
    assert_eq!(std::fs::read_dir(&data).unwrap().count(), 0);

    // Read only: the first change is refused, and nothing is made.
    let d = data.clone();
    let r = run("files.wasm", move |ctx| {
        ctx.preopened_dir(&d, "data", DirPerms::READ, FilePerms::READ)
            .unwrap();
    });
    assert_eq!(r.result.unwrap_err().exit_status(), Some(1));
    assert_eq!(r.stderr, "mkdir: Operation not permitted\n");
    assert_eq!(std::fs::read_dir(&data).unwrap().count(), 0);

    // Without the directory the program finds nothing to open.
    let r = run("files.wasm", |_| {});
    assert_eq!(r.stderr, "mkdir: Capabilities insufficient\n");
    std::fs::remove_dir_all(&root).unwrap();
}

/// `pread` and `pwrite` (tests/fixtures/c/pread.c): the descriptor's
/// read and write, whose bytes cross whole, give what the native build
/// prints (70000 bytes over the 64 KiB mark, 5 bytes written into them,
/// the end of the file).
#[test]
fn positioned_reads_and_writes_of_a_file() {
    let root = std::env::temp_dir().join(format!("walmart-p2-pread-{}", std::process::id()));
    let data = root.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let d = data.clone();
    let r = run("pread.wasm", move |ctx| {
        ctx.preopen_dir(&d, "data").unwrap();
    });
    assert!(succeeded(&r), "{:?} {}", r.result, r.stderr);
    assert_eq!(r.stdout, "read=70000 sum=2241341492 tail=HELLO end=0\n");
    assert_eq!(std::fs::metadata(data.join("p.bin")).unwrap().len(), 70000);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn clocks_sleeps_and_randomness() {
    let r = run("clocks_random.wasm", |_| {});
    assert!(succeeded(&r), "{:?} {}", r.result, r.stderr);
    for line in [
        "monotonic advances: yes",
        "resolution ok: yes",
        "realtime after 2020: yes",
        "slept at least 2ms: yes",
        "random nonzero: yes, differs: yes",
    ] {
        assert!(r.stdout.contains(line), "{line}: {}", r.stdout);
    }
}

#[test]
fn a_trap_comes_back_with_its_frames() {
    let r = run("trap.wasm", |ctx| {
        ctx.args(["trap"]);
    });
    let err = r.result.unwrap_err();
    let trap = err.trap().expect("a trap");
    assert_eq!(trap.kind(), walmart::TrapKind::IntegerDivisionByZero);
    let names: Vec<_> = trap
        .frames()
        .iter()
        .filter_map(|f| f.func_name.clone())
        .collect();
    assert_eq!(names[..3], ["divide", "compute", "main"]);
}

#[test]
fn interfaces_link_at_compatible_versions_only() {
    let engine = Engine::default();
    let wat = |version: &str| {
        format!(
            r#"(component
              (import "wasi:random/random@{version}" (instance $r
                (export "get-random-u64" (func (result u64)))))
              (alias export $r "get-random-u64" (func $f))
              (core func $f_l (canon lower (func $f)))
              (core module $m
                (import "r" "f" (func $f (result i64)))
                (func (export "two") (result i32)
                  call $f call $f i64.ne))
              (core instance $i (instantiate $m (with "r" (instance (export "f" (func $f_l))))))
              (func (export "two-differ") (result bool) (canon lift (core func $i "two"))))"#
        )
    };
    let mut linker = Linker::<WasiCtx>::new(&engine);
    walmart::component::wasi::add_to_linker(&mut linker, |c| c).unwrap();
    for version in ["0.2.0", "0.2.6", "0.2.9"] {
        let component = Component::new(&engine, wat(version)).unwrap();
        let mut store = Store::new(&engine, WasiCtx::new());
        let instance = linker.instantiate(&mut store, &component).unwrap();
        let f = instance
            .get_typed_func::<(), (bool,)>(&mut store, "two-differ")
            .unwrap();
        assert_eq!(f.call(&mut store, ()).unwrap(), (true,), "{version}");
    }
    for version in ["0.3.0", "1.0.0", "0.2.0-rc-2023-11-10"] {
        let component = Component::new(&engine, wat(version)).unwrap();
        let mut store = Store::new(&engine, WasiCtx::new());
        let err = linker.instantiate(&mut store, &component).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "component imports the instance `wasi:random/random@{version}`, which the \
                 linker does not define"
            )
        );
    }
}

/// A component that imports a WASI function with another type than
/// WASI's gets an error, not a crash.
#[test]
fn a_wasi_import_of_another_type_fails_cleanly() {
    let engine = Engine::default();
    let component = Component::new(
        &engine,
        r#"(component
          (import "wasi:cli/exit@0.2.0" (instance $e (export "exit" (func))))
          (alias export $e "exit" (func $exit))
          (core func $exit_l (canon lower (func $exit)))
          (core module $m (import "e" "exit" (func $exit)) (func (export "go") call $exit))
          (core instance $i (instantiate $m (with "e" (instance (export "exit" (func $exit_l))))))
          (func (export "go") (canon lift (core func $i "go"))))"#,
    )
    .unwrap();
    let mut linker = Linker::<WasiCtx>::new(&engine);
    walmart::component::wasi::add_to_linker(&mut linker, |c| c).unwrap();
    let mut store = Store::new(&engine, WasiCtx::new());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let go = instance.get_func(&mut store, "go").unwrap();
    let err = go.call(&mut store, &[], &mut []).unwrap_err();
    assert!(format!("{err:?}").contains("with 0 parameters"), "{err:?}");
}

/// A descriptor's stream names the descriptor: dropping the descriptor
/// first is refused (its number would go to the next file opened).
#[test]
fn a_descriptor_outlived_by_its_stream_is_not_closed() {
    let engine = Engine::default();
    let wat = r#"(component
      (import "wasi:io/streams@0.2.6" (instance $s
        (export "output-stream" (type (sub resource)))))
      (alias export $s "output-stream" (type $out))
      (import "wasi:filesystem/types@0.2.6" (instance $t
        (export "descriptor" (type $d (sub resource)))
        (alias outer 1 $out (type $o0))
        (export "output-stream" (type $o (eq $o0)))
        (type $ec0 (enum "access" "no-entry" "exist"))
        (export "error-code" (type $ec (eq $ec0)))
        (type $pf0 (flags "symlink-follow"))
        (export "path-flags" (type $pf (eq $pf0)))
        (type $of0 (flags "create" "directory" "exclusive" "truncate"))
        (export "open-flags" (type $of (eq $of0)))
        (type $df0 (flags "read" "write"))
        (export "descriptor-flags" (type $df (eq $df0)))
        (export "[method]descriptor.open-at" (func
          (param "self" (borrow $d)) (param "path-flags" $pf) (param "path" string)
          (param "open-flags" $of) (param "flags" $df) (result (result (own $d) (error $ec)))))
        (export "[method]descriptor.write-via-stream" (func
          (param "self" (borrow $d)) (param "offset" u64) (result (result (own $o) (error $ec)))))))
      (alias export $t "descriptor" (type $desc))
      (import "wasi:filesystem/preopens@0.2.6" (instance $p
        (alias outer 1 $desc (type $d0))
        (export "descriptor" (type $d (eq $d0)))
        (export "get-directories" (func (result (list (tuple (own $d) string)))))))
      (alias export $t "[method]descriptor.open-at" (func $open))
      (alias export $t "[method]descriptor.write-via-stream" (func $wvs))
      (alias export $p "get-directories" (func $dirs))
      LIBC
      (core func $open_l (canon lower (func $open) (memory $memory) (realloc $realloc)))
      (core func $wvs_l (canon lower (func $wvs) (memory $memory)))
      (core func $dirs_l (canon lower (func $dirs) (memory $memory) (realloc $realloc)))
      (core func $drop (canon resource.drop $desc))
      (core module $m
        (import "w" "open" (func $open (param i32 i32 i32 i32 i32 i32 i32)))
        (import "w" "wvs" (func $wvs (param i32 i64 i32)))
        (import "w" "dirs" (func $dirs (param i32)))
        (import "w" "drop" (func $drop (param i32)))
        (import "libc" "memory" (memory 1))
        (data (i32.const 200) "x.txt")
        (func (export "go") (result i32) (local $dir i32) (local $file i32)
          i32.const 100 call $dirs
          i32.const 100 i32.load i32.load local.set $dir
          local.get $dir i32.const 0 i32.const 200 i32.const 5 i32.const 1 i32.const 2
          i32.const 300 call $open
          i32.const 300 i32.load8_u if i32.const -1 return end
          i32.const 304 i32.load local.set $file
          local.get $file i64.const 0 i32.const 400 call $wvs
          local.get $file call $drop
          i32.const 0))
      (core instance $i (instantiate $m
        (with "w" (instance (export "open" (func $open_l)) (export "wvs" (func $wvs_l))
                            (export "dirs" (func $dirs_l)) (export "drop" (func $drop))))
        (with "libc" (instance $libc))))
      (func (export "go") (result s32) (canon lift (core func $i "go"))))"#;
    let libc = common::COMPONENT_LIBC;
    let component = Component::new(&engine, wat.replace("LIBC", libc)).unwrap();
    let dir = std::env::temp_dir().join(format!("walmart-p2-stale-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut linker = Linker::<WasiCtx>::new(&engine);
    walmart::component::wasi::add_to_linker(&mut linker, |c| c).unwrap();
    let mut ctx = WasiCtx::new();
    ctx.preopen_dir(&dir, "d").unwrap();
    let mut store = Store::new(&engine, ctx);
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let go = instance.get_func(&mut store, "go").unwrap();
    let err = go.call(&mut store, &[], &mut [Val::S32(0)]).unwrap_err();
    assert!(
        format!("{err:?}")
            .contains("a descriptor or socket dropped while a stream or pollable of it lives"),
        "{err:?}"
    );
    assert!(dir.join("x.txt").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Under attestation the canonical ABI's writes into a component's memory
/// are the host's legitimate ones (`Memory::write`), not tampering.
#[test]
fn lowering_into_an_attested_memory_is_no_tampering() {
    use std::sync::{Arc, Mutex};
    use walmart::attest::Policy;
    let mut config = walmart::Config::new();
    config.attest(Policy::Coarse).attest_heap_check(false);
    let engine = Engine::new(&config).unwrap();
    let component = Component::from_file(&engine, fixture("hello.wasm")).unwrap();
    let mut linker = Linker::<WasiCtx>::new(&engine);
    walmart::component::wasi::add_to_linker(&mut linker, |c| c).unwrap();
    let out = MemoryOutputPipe::new(1 << 16);
    let mut ctx = WasiCtx::new();
    ctx.args(["hello", "0", "an argument the adapter copies in"])
        .stdout(out.clone())
        .stderr(out.clone());
    let mut store = Store::new(&engine, ctx);
    let events: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = events.clone();
    store
        .configure_attestation(
            walmart::AttestOptions::new()
                .on_event(move |e| sink.lock().unwrap().push(format!("{e:?}"))),
        )
        .unwrap();
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let run = walmart::component::wasi::command_run(&instance, &mut store)
        .unwrap()
        .unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), (Ok(()),));
    let stats = store.finish_attestation().unwrap().expect("attested");
    assert!(stats.hooks > 0, "{stats}");
    assert!(String::from_utf8(out.contents())
        .unwrap()
        .contains("argv[2]=an argument"));
    let events = events.lock().unwrap();
    assert!(
        events
            .iter()
            .all(|e| !e.contains("Tamper") && !e.contains("tamper")),
        "{events:?}"
    );
}

/// A component that sleeps (a monotonic-clock pollable, blocked on) in
/// an asynchronous call suspends the call, not the thread: two stores'
/// naps overlap on one thread. In a synchronous call the thread sleeps.
#[test]
fn waits_suspend_an_asynchronous_call() {
    use std::time::{Duration, Instant};
    let wat = r#"(component
      (import "wasi:io/poll@0.2.6" (instance $poll
        (export "pollable" (type $p (sub resource)))
        (export "[method]pollable.block" (func (param "self" (borrow $p))))))
      (alias export $poll "pollable" (type $pollable))
      (import "wasi:clocks/monotonic-clock@0.2.6" (instance $clock
        (alias outer 1 $pollable (type $p0))
        (export "pollable" (type $p (eq $p0)))
        (export "subscribe-duration" (func (param "when" u64) (result (own $p))))))
      (alias export $clock "subscribe-duration" (func $sub))
      (alias export $poll "[method]pollable.block" (func $block))
      (core func $sub_l (canon lower (func $sub)))
      (core func $block_l (canon lower (func $block)))
      (core func $drop (canon resource.drop $pollable))
      (core module $m
        (import "w" "sub" (func $sub (param i64) (result i32)))
        (import "w" "block" (func $block (param i32)))
        (import "w" "drop" (func $drop (param i32)))
        (func (export "nap") (param i64) (local $p i32)
          local.get 0 call $sub local.tee $p call $block local.get $p call $drop))
      (core instance $i (instantiate $m (with "w" (instance
        (export "sub" (func $sub_l)) (export "block" (func $block_l)) (export "drop" (func $drop))))))
      (func (export "nap") (param "ns" u64) (canon lift (core func $i "nap"))))"#;
    let nap = 100_000_000u64;
    let mut config = walmart::Config::new();
    config.async_support(true);
    let engine = Engine::new(&config).unwrap();
    let component = Component::new(&engine, wat).unwrap();
    let mut linker = Linker::<WasiCtx>::new(&engine);
    walmart::component::wasi::add_to_linker(&mut linker, |c| c).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let started = Instant::now();
    rt.block_on(async {
        let run = || {
            let (linker, component, engine) = (&linker, &component, &engine);
            async move {
                let mut store = Store::new(engine, WasiCtx::new());
                let instance = linker
                    .instantiate_async(&mut store, component)
                    .await
                    .unwrap();
                let f = instance
                    .get_typed_func::<(u64,), ()>(&mut store, "nap")
                    .unwrap();
                f.call_async(&mut store, (nap,)).await.unwrap();
            }
        };
        common::join(run(), run()).await;
    });
    let both = started.elapsed();
    assert!(both >= Duration::from_millis(100), "{both:?}");
    assert!(
        both < Duration::from_millis(180),
        "two 100 ms naps took {both:?}"
    );

    // Synchronously, the thread sleeps the nap.
    let engine = Engine::default();
    let component = Component::new(&engine, wat).unwrap();
    let mut linker = Linker::<WasiCtx>::new(&engine);
    walmart::component::wasi::add_to_linker(&mut linker, |c| c).unwrap();
    let mut store = Store::new(&engine, WasiCtx::new());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let f = instance
        .get_typed_func::<(u64,), ()>(&mut store, "nap")
        .unwrap();
    let started = Instant::now();
    f.call(&mut store, (nap / 2,)).unwrap();
    assert!(started.elapsed() >= Duration::from_millis(50));
}

/// A non-blocking read of standard input with nothing there yet gives
/// nothing at once; a blocking one waits for the bytes.
#[test]
fn a_read_that_must_not_block_does_not() {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    let wat = r#"(component
      (import "wasi:io/streams@0.2.6" (instance $s
        (export "input-stream" (type $in (sub resource)))
        (type $e (variant (case "closed")))
        (export "read-error" (type $err (eq $e)))
        (export "[method]input-stream.read" (func (param "self" (borrow $in)) (param "len" u64)
          (result (result (list u8) (error $err)))))
        (export "[method]input-stream.blocking-read" (func (param "self" (borrow $in)) (param "len" u64)
          (result (result (list u8) (error $err)))))))
      (alias export $s "input-stream" (type $input))
      (import "wasi:cli/stdin@0.2.6" (instance $stdin
        (alias outer 1 $input (type $in0))
        (export "input-stream" (type $in (eq $in0)))
        (export "get-stdin" (func (result (own $in))))))
      (alias export $stdin "get-stdin" (func $get))
      (alias export $s "[method]input-stream.read" (func $read))
      (alias export $s "[method]input-stream.blocking-read" (func $bread))
      LIBC
      (core func $get_l (canon lower (func $get)))
      (core func $read_l (canon lower (func $read) (memory $memory) (realloc $realloc)))
      (core func $bread_l (canon lower (func $bread) (memory $memory) (realloc $realloc)))
      (core module $m
        (import "w" "get" (func $get (result i32)))
        (import "w" "read" (func $read (param i32 i64 i32)))
        (import "w" "bread" (func $bread (param i32 i64 i32)))
        (import "libc" "memory" (memory 1))
        ;; The length read (-1 for an error): non-blocking, then blocking.
        (func (export "lengths") (result i64) (local $in i32)
          call $get local.set $in
          local.get $in i64.const 16 i32.const 64 call $read
          i32.const 64 i32.load8_u if i64.const -1 return end
          i32.const 72 i64.load32_u i64.const 32 i64.shl
          local.get $in i64.const 16 i32.const 64 call $bread
          i32.const 64 i32.load8_u if i64.const -1 return end
          i32.const 72 i64.load32_u i64.or))
      (core instance $i (instantiate $m
        (with "w" (instance (export "get" (func $get_l)) (export "read" (func $read_l))
                            (export "bread" (func $bread_l))))
        (with "libc" (instance $libc))))
      (func (export "lengths") (result u64) (canon lift (core func $i "lengths"))))"#;
    let engine = Engine::default();
    let component = Component::new(&engine, wat.replace("LIBC", common::COMPONENT_LIBC)).unwrap();
    let mut linker = Linker::<WasiCtx>::new(&engine);
    walmart::component::wasi::add_to_linker(&mut linker, |c| c).unwrap();
    // Standard input a host pipe whose writer sends later.
    let (reader, mut writer) = std::io::pipe().unwrap();
    let mut ctx = WasiCtx::new();
    ctx.redirect(0, std::fs::File::from(std::os::fd::OwnedFd::from(reader)));
    let mut store = Store::new(&engine, ctx);
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let f = instance
        .get_typed_func::<(), (u64,)>(&mut store, "lengths")
        .unwrap();
    let sender = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(50));
        writer.write_all(b"hello").unwrap();
        let _ = writer.as_raw_fd();
    });
    let (lengths,) = f.call(&mut store, ()).unwrap();
    sender.join().unwrap();
    // Nothing at first, then the five bytes.
    assert_eq!(lengths, 5, "{lengths:#x}");
}

/// Damaged components (bytes of a real one changed at random) are
/// refused or run, never a panic; those that still validate are
/// instantiated and run, trapping or failing as they may.
#[test]
fn mutated_components_never_panic() {
    // Fuel bounds what a changed loop may do.
    let mut config = walmart::Config::new();
    config.consume_fuel(true);
    let engine = Engine::new(&config).unwrap();
    let original = std::fs::read(fixture("hello.wasm")).unwrap();
    let mut linker = Linker::<WasiCtx>::new(&engine);
    walmart::component::wasi::add_to_linker(&mut linker, |c| c).unwrap();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut valid, mut ran) = (0, 0);
    for _ in 0..300 {
        let mut bytes = original.clone();
        for _ in 0..1 + next() % 4 {
            let at = (next() % bytes.len() as u64) as usize;
            bytes[at] ^= 1 << (next() % 8);
        }
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let Ok(component) = Component::new(&engine, &bytes) else {
                return (false, false);
            };
            let mut ctx = WasiCtx::new();
            let out = MemoryOutputPipe::new(1 << 16);
            ctx.stdout(out.clone()).stderr(out);
            let mut store = Store::new(&engine, ctx);
            store.set_fuel(10_000_000).unwrap();
            let Ok(instance) = linker.instantiate(&mut store, &component) else {
                return (true, false);
            };
            if let Ok(Some(run)) = walmart::component::wasi::command_run(&instance, &mut store) {
                let _ = run.call(&mut store, ());
            }
            (true, true)
        }));
        let (v, r) = outcome.expect("a damaged component panicked");
        valid += v as u32;
        ran += r as u32;
    }
    // Some changes leave it valid (data, code), most do not.
    assert!(valid > 0 && ran > 0, "valid {valid}, ran {ran}");
}

/// WASI 0.2's stream reads and writes called from the host (a component
/// passing them on as its exports) take their component-value form: the
/// bytes a lowered call passes whole come and go as a list of `u8`s.
#[test]
fn stream_functions_called_from_the_host_take_and_give_lists() {
    let wat = r#"(component
      (import "wasi:io/streams@0.2.6" (instance $s
        (export "input-stream" (type $in (sub resource)))
        (export "output-stream" (type $out (sub resource)))
        (type $e (variant (case "closed")))
        (export "stream-error" (type $err (eq $e)))
        (export "[method]input-stream.read" (func (param "self" (borrow $in)) (param "len" u64)
          (result (result (list u8) (error $err)))))
        (export "[method]output-stream.blocking-write-and-flush"
          (func (param "self" (borrow $out)) (param "contents" (list u8))
            (result (result (error $err)))))))
      (alias export $s "input-stream" (type $input))
      (alias export $s "output-stream" (type $output))
      (import "wasi:cli/stdin@0.2.6" (instance $stdin
        (alias outer 1 $input (type $in0))
        (export "input-stream" (type $in (eq $in0)))
        (export "get-stdin" (func (result (own $in))))))
      (import "wasi:cli/stdout@0.2.6" (instance $stdout
        (alias outer 1 $output (type $out0))
        (export "output-stream" (type $out (eq $out0)))
        (export "get-stdout" (func (result (own $out))))))
      (import "wasi:random/random@0.2.6" (instance $random
        (export "get-random-bytes" (func (param "len" u64) (result (list u8))))))
      (export "random-bytes" (func $random "get-random-bytes"))
      (export "get-stdin" (func $stdin "get-stdin"))
      (export "get-stdout" (func $stdout "get-stdout"))
      (export "read" (func $s "[method]input-stream.read"))
      (export "write" (func $s "[method]output-stream.blocking-write-and-flush")))"#;
    let engine = Engine::default();
    let component = Component::new(&engine, wat).unwrap();
    let mut linker = Linker::<WasiCtx>::new(&engine);
    walmart::component::wasi::add_to_linker(&mut linker, |c| c).unwrap();
    let out = MemoryOutputPipe::new(1 << 10);
    let mut ctx = WasiCtx::new();
    ctx.stdin(MemoryInputPipe::new(b"abcdef".to_vec()))
        .stdout(out.clone());
    let mut store = Store::new(&engine, ctx);
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let call = |store: &mut Store<WasiCtx>, name: &str, params: &[Val]| {
        let f = instance.get_func(&mut *store, name).unwrap();
        let mut result = [Val::Bool(false)];
        f.call(&mut *store, params, &mut result).unwrap();
        let [v] = result;
        v
    };
    let bytes = |b: &[u8]| Val::List(b.iter().map(|&b| Val::U8(b)).collect());
    let stdin = call(&mut store, "get-stdin", &[]);
    let ok = |v: Val| Val::Result(Ok(Some(Box::new(v))));
    assert_eq!(
        call(&mut store, "read", &[stdin.clone(), Val::U64(3)]),
        ok(bytes(b"abc"))
    );
    assert_eq!(
        call(&mut store, "read", &[stdin.clone(), Val::U64(10)]),
        ok(bytes(b"def"))
    );
    let stdout = call(&mut store, "get-stdout", &[]);
    assert_eq!(
        call(&mut store, "write", &[stdout.clone(), bytes(b"hi")]),
        Val::Result(Ok(None))
    );
    assert_eq!(out.contents(), b"hi");
    match call(&mut store, "random-bytes", &[Val::U64(16)]) {
        Val::List(items) => {
            assert_eq!(items.len(), 16);
            assert!(items.iter().all(|b| matches!(b, Val::U8(_))), "{items:?}");
        }
        other => panic!("{other:?}"),
    }
    // A list of another element type is no list of bytes.
    let f = instance.get_func(&mut store, "write").unwrap();
    let mut result = [Val::Bool(false)];
    let wrong = Val::List(vec![Val::U32(1)]);
    assert!(f.call(&mut store, &[stdout, wrong], &mut result).is_err());
}
