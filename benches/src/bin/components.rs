//! What components cost, side by side in one run: calls from the host
//! into a component (`add: func(a: u32, b: u32) -> u32`, and a 64-byte
//! string in), calls from a component to the host (a loop of imported
//! `inc: func(x: u32) -> u32`), and a WASI 0.2 command run whole
//! (`tests/fixtures/components/hello.wasm`: instantiated, `wasi:cli/run`
//! called, output to memory), and the same instantiated and dropped
//! without a run.
//!
//! `cargo run --release -p walmart-benches --bin components [--features wasmtime] [-- --runs N]`
//!
//! Prints the median of `--runs` timed batches (default 9, after one
//! warm-up) per call or per run, for walmart and, with the `wasmtime`
//! feature, for wasmtime.

use std::time::Duration;

use walmart_benches::{die, median, runs_argument};

/// Calls per timed batch.
const CALLS: u32 = 100_000;
/// `hello` commands a sample times: one alone is too short for this
/// machine's noise.
const COMMANDS: u32 = 200;

const WAT: &str = r#"(component
  (import "inc" (func $inc (param "x" u32) (result u32)))
  (import "take" (func $take (param "b" (list u8)) (result u32)))
  (core module $libc
    (memory (export "memory") 3)
    (global $next (mut i32) (i32.const 4096))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      ;; A scratch buffer: each call's string goes to the same place.
      i32.const 4096))
  (core instance $libc (instantiate $libc))
  (alias core export $libc "memory" (core memory $memory))
  (alias core export $libc "realloc" (core func $realloc))
  (core func $inc_l (canon lower (func $inc)))
  (core func $take_l (canon lower (func $take) (memory $memory) (realloc $realloc)))
  (core module $m
    (import "h" "inc" (func $inc (param i32) (result i32)))
    (import "h" "take" (func $take (param i32 i32) (result i32)))
    (import "libc" "memory" (memory 1))
    (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
    (func (export "len") (param i32 i32) (result i32) local.get 1)
    ;; Gives back the list it was given: its (pointer, length) at 64.
    (func (export "echo") (param i32 i32) (result i32)
      (i32.store (i32.const 64) (local.get 0))
      (i32.store (i32.const 68) (local.get 1))
      i32.const 64)
    ;; Hands the host 64 KiB at 4096, $n times.
    (func (export "give") (param $n i32) (result i32) (local $acc i32)
      (loop $l
        (local.set $acc (call $take (i32.const 4096) (i32.const 65536)))
        (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
      local.get $acc)
    (func (export "run") (param $n i32) (result i32) (local $acc i32)
      (loop $l
        (local.set $acc (call $inc (local.get $acc)))
        (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
      local.get $acc))
  (core instance $i (instantiate $m
    (with "h" (instance (export "inc" (func $inc_l)) (export "take" (func $take_l))))
    (with "libc" (instance $libc))))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "add")))
  (func (export "len") (param "s" string) (result u32)
    (canon lift (core func $i "len") (memory $memory) (realloc $realloc)))
  (func (export "bytes") (param "b" (list u8)) (result u32)
    (canon lift (core func $i "len") (memory $memory) (realloc $realloc)))
  (func (export "echo") (param "b" (list u8)) (result (list u8))
    (canon lift (core func $i "echo") (memory $memory) (realloc $realloc)))
  (func (export "echo-f32") (param "b" (list f32)) (result (list f32))
    (canon lift (core func $i "echo") (memory $memory) (realloc $realloc)))
  (func (export "give") (param "n" u32) (result u32) (canon lift (core func $i "give")))
  (func (export "run") (param "n" u32) (result u32) (canon lift (core func $i "run"))))"#;

/// Bytes the `bytes` and `echo` rows pass.
const BYTES: usize = 64 * 1024;
/// Calls of those per timed batch.
const BYTE_CALLS: u32 = 200;

fn hello_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/components/hello.wasm")
}

/// The string the `len` row passes.
fn text() -> String {
    "x".repeat(64)
}

/// Nanoseconds per call of `per`-call batches.
fn ns(d: Duration, per: u32) -> f64 {
    d.as_secs_f64() * 1e9 / f64::from(per)
}

/// walmart: (add, len, host calls) in ns per call, command run in us,
/// compile in ms.
fn walmart(runs: usize) -> [f64; 11] {
    use walmart::component::{Component, Linker};
    use walmart::{Engine, Store};
    let engine = Engine::default();
    let component = Component::new(&engine, WAT).unwrap_or_else(|e| die(&e.to_string()));
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_wrap("inc", |_, (x,): (u32,)| Ok((x.wrapping_add(1),)))
        .unwrap_or_else(|e| die(&e.to_string()));
    linker
        .root()
        .func_wrap("take", |_, (b,): (Vec<u8>,)| Ok((b.len() as u32,)))
        .unwrap_or_else(|e| die(&e.to_string()));
    let mut store = Store::new(&engine, ());
    let instance = linker
        .instantiate(&mut store, &component)
        .unwrap_or_else(|e| die(&e.to_string()));
    let add = instance
        .get_typed_func::<(u32, u32), (u32,)>(&mut store, "add")
        .unwrap_or_else(|e| die(&e.to_string()));
    let len = instance
        .get_typed_func::<(String,), (u32,)>(&mut store, "len")
        .unwrap_or_else(|e| die(&e.to_string()));
    let run = instance
        .get_typed_func::<(u32,), (u32,)>(&mut store, "run")
        .unwrap_or_else(|e| die(&e.to_string()));
    let t_add = median(runs, || {
        for i in 0..CALLS {
            assert_eq!(add.call(&mut store, (i, 1)).unwrap(), (i + 1,));
        }
    });
    let s = text();
    let t_len = median(runs, || {
        for _ in 0..CALLS {
            assert_eq!(len.call(&mut store, (s.clone(),)).unwrap(), (64,));
        }
    });
    let t_run = median(runs, || {
        assert_eq!(run.call(&mut store, (CALLS,)).unwrap(), (CALLS,));
    });
    let take = instance
        .get_typed_func::<(Vec<u8>,), (u32,)>(&mut store, "bytes")
        .unwrap_or_else(|e| die(&e.to_string()));
    let echo = instance
        .get_typed_func::<(Vec<u8>,), (Vec<u8>,)>(&mut store, "echo")
        .unwrap_or_else(|e| die(&e.to_string()));
    let give = instance
        .get_typed_func::<(u32,), (u32,)>(&mut store, "give")
        .unwrap_or_else(|e| die(&e.to_string()));
    let data = vec![7u8; BYTES];
    let t_bytes = median(runs, || {
        for _ in 0..BYTE_CALLS {
            assert_eq!(
                take.call(&mut store, (data.clone(),)).unwrap(),
                (BYTES as u32,)
            );
        }
    });
    let t_echo = median(runs, || {
        for _ in 0..BYTE_CALLS {
            let (out,) = echo.call(&mut store, (data.clone(),)).unwrap();
            assert_eq!(out.len(), BYTES);
        }
    });
    let t_give = median(runs, || {
        assert_eq!(
            give.call(&mut store, (BYTE_CALLS,)).unwrap(),
            (BYTES as u32,)
        );
    });
    let echo_f32 = instance
        .get_typed_func::<(Vec<f32>,), (Vec<f32>,)>(&mut store, "echo-f32")
        .unwrap_or_else(|e| die(&e.to_string()));
    let floats = vec![0.5f32; BYTES / 4];
    let t_f32 = median(runs, || {
        for _ in 0..BYTE_CALLS {
            let (out,) = echo_f32.call(&mut store, (floats.clone(),)).unwrap();
            assert_eq!(out.len(), BYTES / 4);
        }
    });
    let bytes = std::fs::read(hello_path()).unwrap_or_else(|e| die(&e.to_string()));
    let t_compile = median(runs, || {
        Component::new(&engine, &bytes).unwrap_or_else(|e| die(&e.to_string()));
    });
    let hello = Component::new(&engine, &bytes).unwrap_or_else(|e| die(&e.to_string()));
    let precompiled = hello.serialize().unwrap_or_else(|e| die(&e.to_string()));
    let t_load = median(runs, || {
        // SAFETY: serialized just above by this process.
        unsafe { Component::deserialize(&engine, &precompiled) }
            .unwrap_or_else(|e| die(&e.to_string()));
    });
    let mut wasi = Linker::<walmart::wasi::WasiCtx>::new(&engine);
    walmart::component::wasi::add_to_linker(&mut wasi, |c| c).unwrap();
    let command = |run: bool| {
        let out = walmart::wasi::MemoryOutputPipe::new(1 << 16);
        let mut ctx = walmart::wasi::WasiCtx::new();
        ctx.args(["hello", "0"])
            .stdout(out.clone())
            .stderr(out.clone());
        let mut store = Store::new(&engine, ctx);
        let i = wasi.instantiate(&mut store, &hello).unwrap();
        if run {
            let f = walmart::component::wasi::command_run(&i, &mut store)
                .unwrap()
                .unwrap();
            assert_eq!(f.call(&mut store, ()).unwrap(), (Ok(()),));
            assert!(out.contents().starts_with(b"argc=2"));
        }
    };
    let t_cmd = median(runs, || (0..COMMANDS).for_each(|_| command(true)));
    let t_inst = median(runs, || (0..COMMANDS).for_each(|_| command(false)));
    [
        ns(t_add, CALLS),
        ns(t_len, CALLS),
        ns(t_run, CALLS),
        ns(t_bytes, BYTE_CALLS) / 1e3,
        ns(t_echo, BYTE_CALLS) / 1e3,
        ns(t_give, BYTE_CALLS) / 1e3,
        ns(t_f32, BYTE_CALLS) / 1e3,
        ns(t_cmd, COMMANDS) / 1e3,
        ns(t_inst, COMMANDS) / 1e3,
        t_compile.as_secs_f64() * 1e3,
        t_load.as_secs_f64() * 1e6,
    ]
}

/// wasmtime, the same.
#[cfg(feature = "wasmtime")]
fn wasmtime(runs: usize) -> [f64; 11] {
    use wasmtime::component::{Component, Linker};
    use wasmtime::{Engine, Store};
    use wasmtime_wasi::WasiCtxBuilder;
    let engine = Engine::default();
    let component = Component::new(&engine, WAT).unwrap_or_else(|e| die(&e.to_string()));
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_wrap("inc", |_, (x,): (u32,)| Ok((x.wrapping_add(1),)))
        .unwrap_or_else(|e| die(&e.to_string()));
    linker
        .root()
        .func_wrap("take", |_, (b,): (Vec<u8>,)| Ok((b.len() as u32,)))
        .unwrap_or_else(|e| die(&e.to_string()));
    let mut store = Store::new(&engine, ());
    let instance = linker
        .instantiate(&mut store, &component)
        .unwrap_or_else(|e| die(&e.to_string()));
    let add = instance
        .get_typed_func::<(u32, u32), (u32,)>(&mut store, "add")
        .unwrap_or_else(|e| die(&e.to_string()));
    let len = instance
        .get_typed_func::<(String,), (u32,)>(&mut store, "len")
        .unwrap_or_else(|e| die(&e.to_string()));
    let run = instance
        .get_typed_func::<(u32,), (u32,)>(&mut store, "run")
        .unwrap_or_else(|e| die(&e.to_string()));
    let t_add = median(runs, || {
        for i in 0..CALLS {
            assert_eq!(add.call(&mut store, (i, 1)).unwrap(), (i + 1,));
        }
    });
    let s = text();
    let t_len = median(runs, || {
        for _ in 0..CALLS {
            assert_eq!(len.call(&mut store, (s.clone(),)).unwrap(), (64,));
        }
    });
    let t_run = median(runs, || {
        assert_eq!(run.call(&mut store, (CALLS,)).unwrap(), (CALLS,));
    });
    let take = instance
        .get_typed_func::<(Vec<u8>,), (u32,)>(&mut store, "bytes")
        .unwrap_or_else(|e| die(&e.to_string()));
    let echo = instance
        .get_typed_func::<(Vec<u8>,), (Vec<u8>,)>(&mut store, "echo")
        .unwrap_or_else(|e| die(&e.to_string()));
    let give = instance
        .get_typed_func::<(u32,), (u32,)>(&mut store, "give")
        .unwrap_or_else(|e| die(&e.to_string()));
    let data = vec![7u8; BYTES];
    let t_bytes = median(runs, || {
        for _ in 0..BYTE_CALLS {
            assert_eq!(
                take.call(&mut store, (data.clone(),)).unwrap(),
                (BYTES as u32,)
            );
        }
    });
    let t_echo = median(runs, || {
        for _ in 0..BYTE_CALLS {
            let (out,) = echo.call(&mut store, (data.clone(),)).unwrap();
            assert_eq!(out.len(), BYTES);
        }
    });
    let t_give = median(runs, || {
        assert_eq!(
            give.call(&mut store, (BYTE_CALLS,)).unwrap(),
            (BYTES as u32,)
        );
    });
    let echo_f32 = instance
        .get_typed_func::<(Vec<f32>,), (Vec<f32>,)>(&mut store, "echo-f32")
        .unwrap_or_else(|e| die(&e.to_string()));
    let floats = vec![0.5f32; BYTES / 4];
    let t_f32 = median(runs, || {
        for _ in 0..BYTE_CALLS {
            let (out,) = echo_f32.call(&mut store, (floats.clone(),)).unwrap();
            assert_eq!(out.len(), BYTES / 4);
        }
    });
    use walmart_benches::WasmtimeP2 as Ctx;
    let bytes = std::fs::read(hello_path()).unwrap_or_else(|e| die(&e.to_string()));
    let t_compile = median(runs, || {
        Component::new(&engine, &bytes).unwrap_or_else(|e| die(&e.to_string()));
    });
    let hello = Component::new(&engine, &bytes).unwrap_or_else(|e| die(&e.to_string()));
    let precompiled = hello.serialize().unwrap_or_else(|e| die(&e.to_string()));
    let t_load = median(runs, || {
        // SAFETY: serialized just above by this process.
        unsafe { Component::deserialize(&engine, &precompiled) }
            .unwrap_or_else(|e| die(&e.to_string()));
    });
    let mut wasi = Linker::<Ctx>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut wasi).unwrap();
    let command = |run: bool| {
        let out = wasmtime_wasi::p2::pipe::MemoryOutputPipe::new(1 << 16);
        let ctx = WasiCtxBuilder::new()
            .args(&["hello", "0"])
            .stdout(out.clone())
            .stderr(out.clone())
            .build();
        let mut store = Store::new(&engine, Ctx::new(ctx));
        let cmd =
            wasmtime_wasi::p2::bindings::sync::Command::instantiate(&mut store, &hello, &wasi)
                .unwrap();
        if run {
            assert_eq!(cmd.wasi_cli_run().call_run(&mut store).unwrap(), Ok(()));
            assert!(out.contents().starts_with(b"argc=2"));
        }
    };
    let t_cmd = median(runs, || (0..COMMANDS).for_each(|_| command(true)));
    let t_inst = median(runs, || (0..COMMANDS).for_each(|_| command(false)));
    [
        ns(t_add, CALLS),
        ns(t_len, CALLS),
        ns(t_run, CALLS),
        ns(t_bytes, BYTE_CALLS) / 1e3,
        ns(t_echo, BYTE_CALLS) / 1e3,
        ns(t_give, BYTE_CALLS) / 1e3,
        ns(t_f32, BYTE_CALLS) / 1e3,
        ns(t_cmd, COMMANDS) / 1e3,
        ns(t_inst, COMMANDS) / 1e3,
        t_compile.as_secs_f64() * 1e3,
        t_load.as_secs_f64() * 1e6,
    ]
}

fn main() {
    let runs = runs_argument();
    let ours = walmart(runs);
    #[cfg(feature = "wasmtime")]
    let theirs = Some(wasmtime(runs));
    #[cfg(not(feature = "wasmtime"))]
    let theirs: Option<[f64; 11]> = None;
    println!(
        "{:<28} {:>12} {:>12} {:>8}",
        "component", "walmart", "wasmtime", "ratio"
    );
    for (i, name) in [
        "add(u32, u32) ns/call",
        "len(64-byte string) ns/call",
        "guest->host inc ns/call",
        "list<u8> 64 KiB in us/call",
        "list<u8> 64 KiB echo us/call",
        "list<u8> 64 KiB to host us/call",
        "list<f32> 64 KiB echo us/call",
        "hello command us/run",
        "hello instantiate us/run",
        "compile hello ms",
        "load precompiled hello us",
    ]
    .iter()
    .enumerate()
    {
        match theirs {
            Some(t) => println!(
                "{name:<28} {:>12.1} {:>12.1} {:>8.2}",
                ours[i],
                t[i],
                ours[i] / t[i]
            ),
            None => println!("{name:<28} {:>12.1} {:>12} {:>8}", ours[i], "-", "-"),
        }
    }
}
