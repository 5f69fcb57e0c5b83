//! `WasmBacktrace::capture`: the Wasm frames a host function or an epoch
//! callback sees on the stack.

use std::future::Future;
use std::sync::{Arc, Mutex};

use walmart::{Caller, Config, Engine, Func, Linker, Module, Store, UpdateDeadline, WasmBacktrace};

/// Names of a capture's frames, innermost first (`?` for a nameless one).
fn names(bt: &WasmBacktrace) -> Vec<String> {
    bt.frames()
        .iter()
        .map(|f| f.func_name.clone().unwrap_or_else(|| "?".into()))
        .collect()
}

const NESTED: &str = r#"
(module $nested
  (import "host" "look" (func $look))
  (import "host" "again" (func $again))
  (func $leaf (export "leaf") call $look)
  (func $middle call $leaf)
  (func $outer (export "outer") call $middle)
  (func $via_host (export "via_host") call $again))
"#;

#[test]
fn a_host_function_sees_the_wasm_frames_that_called_it() {
    let engine = Engine::default();
    let module = Module::new(&engine, NESTED).unwrap();
    let seen: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
    let mut linker = Linker::new(&engine);
    let s = seen.clone();
    linker
        .func_wrap("host", "look", move |caller: Caller<'_, ()>| {
            let bt = WasmBacktrace::capture(&caller);
            s.lock().unwrap().push(names(&bt));
        })
        .unwrap();
    // Back into Wasm from a host function: both activations' frames.
    linker
        .func_wrap("host", "again", |mut caller: Caller<'_, ()>| {
            let leaf = caller.get_export("leaf").unwrap().into_func().unwrap();
            leaf.call(&mut caller, &[], &mut [])
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let inst = linker.instantiate(&mut store, &module).unwrap();
    let outer = inst.get_func(&mut store, "outer").unwrap();
    outer.call(&mut store, &[], &mut []).unwrap();
    let via_host = inst.get_func(&mut store, "via_host").unwrap();
    via_host.call(&mut store, &[], &mut []).unwrap();
    // Outside any call: nothing on the stack.
    assert!(WasmBacktrace::capture(&store).frames().is_empty());
    // A host function the host calls itself: no Wasm frame either.
    let look = linker
        .get(&mut store, "host", "look")
        .unwrap()
        .into_func()
        .unwrap();
    look.call(&mut store, &[], &mut []).unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0], ["leaf", "middle", "outer"]);
    assert_eq!(seen[1], ["leaf", "via_host"]);
    assert!(seen[2].is_empty(), "{:?}", seen[2]);
    assert_eq!(WasmBacktrace::default().to_string(), "");
}

#[test]
fn a_host_function_after_a_trap_sees_only_its_own_callers() {
    // A trap unwinds a call that a host function made while another
    // host function's note was linked (the failing one's): that note must
    // not outlive it.
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
             (import "host" "look" (func $look))
             (import "host" "trap_inside" (func $trap_inside))
             (import "host" "fail" (func $fail))
             (func $boom (export "boom") call $fail)
             (func $first (export "first") call $trap_inside call $look))"#,
    )
    .unwrap();
    let seen: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
    let mut linker = Linker::new(&engine);
    let s = seen.clone();
    linker
        .func_wrap("host", "look", move |caller: Caller<'_, ()>| {
            s.lock()
                .unwrap()
                .push(names(&WasmBacktrace::capture(&caller)));
        })
        .unwrap();
    linker
        .func_wrap(
            "host",
            "fail",
            |caller: Caller<'_, ()>| -> walmart::Result<()> {
                // Inside both calls: `boom` and `first` on the stack.
                assert_eq!(names(&WasmBacktrace::capture(&caller)), ["boom", "first"]);
                Err(walmart::Error::msg("refused"))
            },
        )
        .unwrap();
    let s = seen.clone();
    linker
        .func_wrap("host", "trap_inside", move |mut caller: Caller<'_, ()>| {
            let boom = caller.get_export("boom").unwrap().into_func().unwrap();
            assert!(boom.call(&mut caller, &[], &mut []).is_err());
            s.lock()
                .unwrap()
                .push(names(&WasmBacktrace::capture(&caller)));
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let inst = linker.instantiate(&mut store, &module).unwrap();
    let first = inst.get_func(&mut store, "first").unwrap();
    first.call(&mut store, &[], &mut []).unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0], ["first"], "after the inner call's trap");
    assert_eq!(seen[1], ["first"], "a later host call");
}

/// Pending `n` times (waking at once), then ready.
struct Pendings(u32);

impl std::future::Future for Pendings {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 == 0 {
            return std::task::Poll::Ready(());
        }
        self.0 -= 1;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

#[test]
fn an_asynchronous_host_function_sees_its_callers_across_suspensions() {
    let mut config = Config::new();
    config.async_support(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(
        &engine,
        r#"(module
             (import "host" "wait" (func $wait))
             (func $inner call $wait)
             (func $outer (export "run") call $inner))"#,
    )
    .unwrap();
    let seen: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
    let mut linker = Linker::new(&engine);
    let s = seen.clone();
    linker
        .func_wrap_async("host", "wait", move |caller: Caller<'_, ()>, (): ()| {
            let s = s.clone();
            Box::new(async move {
                s.lock()
                    .unwrap()
                    .push(names(&WasmBacktrace::capture(&caller)));
                Pendings(3).await;
                // Resumed (the fiber's stack, and the note on it, kept).
                s.lock()
                    .unwrap()
                    .push(names(&WasmBacktrace::capture(&caller)));
            })
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut call = Box::pin(async {
        let inst = linker.instantiate_async(&mut store, &module).await.unwrap();
        let run = inst.get_typed_func::<(), ()>(&mut store, "run").unwrap();
        run.call_async(&mut store, ()).await.unwrap();
    });
    while call.as_mut().poll(&mut cx).is_pending() {}
    drop(call);
    let seen = seen.lock().unwrap();
    assert_eq!(*seen, [["inner", "outer"], ["inner", "outer"]]);
}

#[test]
fn an_epoch_callback_sees_the_function_that_reached_the_deadline() {
    let mut config = Config::new();
    config.epoch_interruption(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(
        &engine,
        r#"(module
             (func $spin (param i32) (result i32)
               (loop $l (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
                        (br_if $l (local.get 0)))
               (local.get 0))
             (func $caller (export "run") (result i32) (call $spin (i32.const 1000))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let seen: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
    let s = seen.clone();
    store.epoch_deadline_callback(move |store| {
        let mut s = s.lock().unwrap();
        s.push(names(&WasmBacktrace::capture(&*store)));
        // The deadline where the epoch is now: the next check calls back
        // again, three times, then never in this test.
        Ok(UpdateDeadline::Continue(if s.len() < 4 {
            0
        } else {
            1 << 40
        }))
    });
    // Deadline 0: the first check calls back at once, without a ticker.
    store.set_epoch_deadline(0);
    let inst = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let run = inst.get_typed_func::<(), i32>(&mut store, "run").unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), 0);
    let seen = seen.lock().unwrap();
    // At `caller`'s entry, at `spin`'s, then at its loop's head.
    assert_eq!(seen.len(), 4);
    assert_eq!(seen[0], ["caller"]);
    for s in &seen[1..] {
        assert_eq!(s, &["spin", "caller"]);
    }
    // The frames carry where in the module each function stood.
    drop(seen);
    store.epoch_deadline_callback(|store| {
        let bt = WasmBacktrace::capture(&*store);
        assert!(bt.frames().iter().all(|f| f.wasm_offset.is_some()), "{bt}");
        assert!(bt.to_string().contains("- <unknown>!caller"), "{bt}");
        Ok(UpdateDeadline::Continue(1 << 40))
    });
    store.set_epoch_deadline(0);
    let _ = Func::wrap(&mut store, || {});
    let _ = run.call(&mut store, ()).unwrap();
}
