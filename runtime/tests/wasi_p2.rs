//! WASI 0.2 for components: real command components (the C fixtures of
//! `tests/fixtures/c` wrapped by wit-component with the preview 1
//! adapter, `scripts/build-component-fixtures.sh`) run on
//! `walmart::component::wasi`, with the embedder's streams, arguments,
//! environment and preopened directories.

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
            let iface = instance
                .get_export_index(&mut store, None, "wasi:cli/run@0.2.6")
                .unwrap();
            let run = instance
                .get_export_index(&mut store, Some(&iface), "run")
                .unwrap();
            let run = instance.get_func(&mut store, &run).unwrap();
            let mut out = [Val::Bool(false)];
            run.call(&mut store, &[], &mut out).map(|()| out[0].clone())
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
