//! Asynchronous calls (`Config::async_support`): Wasm on a fiber of its
//! own, suspended while an asynchronous host function's future is pending
//! or at an epoch deadline that yields; resumed on other threads;
//! cancelled by dropping the future; refused where it cannot work.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use walmart::{
    Caller, Config, Engine, Error, Func, FuncType, Instance, Linker, Module, Store, TrapKind, Val,
    ValType,
};

/// Pending `n` times (waking its task each time), then ready.
struct Pendings(u32);

impl Future for Pendings {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            return Poll::Ready(());
        }
        self.0 -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Polls `f` to completion on this thread; returns its output and how
/// many polls returned `Pending`.
fn run<F: Future>(f: F) -> (F::Output, u32) {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    let mut pending = 0;
    loop {
        if let Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return (out, pending);
        }
        pending += 1;
        assert!(pending < 1_000_000, "the call never finished");
    }
}

/// A thread-parking executor for futures woken from elsewhere.
fn block_on<F: Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark()
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = pin!(f);
    loop {
        if let Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}

fn async_engine() -> Engine {
    let mut config = Config::new();
    config.async_support(true);
    Engine::new(&config).unwrap()
}

/// Host data: what the host functions saw.
#[derive(Default)]
struct Seen {
    calls: u32,
}

/// `env::wait(n)` is pending `n` times and returns `n + 1`; `run(n)`
/// stores 1 to `$before`, calls it, stores its result to `$after`, and
/// returns it; `trap_after(n)` waits and then reaches `unreachable`;
/// `oob_after(n)` waits and then reads past memory's end.
const WAT: &str = r#"(module
    (import "env" "wait" (func $wait (param i32) (result i32)))
    (memory (export "mem") 1)
    (global $before (export "before") (mut i32) (i32.const 0))
    (global $after (export "after") (mut i32) (i32.const 0))
    (func (export "run") (param i32) (result i32)
        (global.set $before (i32.const 1))
        (global.set $after (call $wait (local.get 0)))
        (global.get $after))
    (func $trap_after (export "trap_after") (param i32)
        (drop (call $wait (local.get 0)))
        unreachable)
    (func $oob_after (export "oob_after") (param i32) (result i32)
        (drop (call $wait (local.get 0)))
        (i32.load (i32.const 70000)))
    (func (export "add") (param i32 i32) (result i32)
        (i32.add (local.get 0) (local.get 1))))"#;

fn instance(engine: &Engine) -> (Store<Seen>, Instance) {
    let mut linker = Linker::new(engine);
    linker
        .func_wrap_async(
            "env",
            "wait",
            |mut caller: Caller<'_, Seen>, (n,): (i32,)| {
                Box::new(async move {
                    Pendings(n as u32).await;
                    caller.data_mut().calls += 1;
                    n + 1
                })
            },
        )
        .unwrap();
    let module = Module::new(engine, WAT).unwrap();
    let mut store = Store::new(engine, Seen::default());
    let (instance, pending) = run(linker.instantiate_async(&mut store, &module));
    assert_eq!(pending, 0);
    (store, instance.unwrap())
}

fn global(store: &mut Store<Seen>, instance: Instance, name: &str) -> i32 {
    match instance
        .get_global(&mut *store, name)
        .unwrap()
        .get(&mut *store)
    {
        Val::I32(v) => v,
        other => panic!("{name} is {other:?}"),
    }
}

#[test]
fn an_async_host_function_suspends_the_whole_call() {
    let engine = async_engine();
    let (mut store, instance) = instance(&engine);
    let f = instance.get_func(&mut store, "run").unwrap();
    let mut out = [Val::I32(0)];
    let (r, pending) = run(f.call_async(&mut store, &[Val::I32(3)], &mut out));
    r.unwrap();
    assert_eq!(pending, 3, "one Pending per Pending of the host future");
    assert_eq!(out[0].i32().unwrap(), 4);
    assert_eq!(global(&mut store, instance, "before"), 1);
    assert_eq!(global(&mut store, instance, "after"), 4);
    assert_eq!(store.data().calls, 1);

    let typed = instance
        .get_typed_func::<(i32,), i32>(&mut store, "run")
        .unwrap();
    let (r, pending) = run(typed.call_async(&mut store, (0,)));
    assert_eq!((r.unwrap(), pending), (1, 0));
    let add = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "add")
        .unwrap();
    assert_eq!(run(add.call_async(&mut store, (2, 40))).0.unwrap(), 42);
    // Synchronous calls of functions that do not reach an asynchronous
    // host function work on an engine with async support.
    assert_eq!(add.call(&mut store, (1, 2)).unwrap(), 3);
}

#[test]
fn a_suspended_call_resumes_on_other_threads() {
    let engine = async_engine();
    let (mut store, instance) = instance(&engine);
    for name in ["run", "trap_after", "oob_after"] {
        let f = instance.get_func(&mut store, name).unwrap();
        let results = f.ty(&store).results().len();
        let mut out = vec![Val::I32(0); results];
        let mut future = Box::pin(f.call_async(&mut store, &[Val::I32(6)], &mut out));
        // Each poll on a thread of its own: the Wasm frames, and the trap
        // handler's state for them, move from thread to thread.
        let outcome = loop {
            let polled = std::thread::scope(|scope| {
                scope
                    .spawn(|| {
                        let mut cx = Context::from_waker(Waker::noop());
                        future.as_mut().poll(&mut cx)
                    })
                    .join()
                    .unwrap()
            });
            if let Poll::Ready(r) = polled {
                break r;
            }
        };
        drop(future);
        match name {
            "run" => {
                outcome.unwrap();
                assert_eq!(out[0].i32().unwrap(), 7);
            }
            "trap_after" | "oob_after" => {
                let kind = if name == "trap_after" {
                    TrapKind::Unreachable
                } else {
                    TrapKind::MemoryOutOfBounds
                };
                match outcome {
                    Err(Error::Trap(t)) => {
                        assert_eq!(t.kind(), kind, "{name}");
                        let frames = format!("{t}");
                        assert!(frames.contains(name), "{name}: {frames}");
                    }
                    other => panic!("{name}: {other:?}"),
                }
            }
            _ => unreachable!(),
        }
    }
    // This thread's trap handling is intact: a synchronous trap here.
    let mut linker = Linker::new(&engine);
    linker.func_wrap("env", "wait", |n: i32| n).unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    let mut sync_store = Store::new(&engine, Seen::default());
    let inst = linker.instantiate(&mut sync_store, &module).unwrap();
    let f = inst
        .get_typed_func::<(i32,), ()>(&mut sync_store, "trap_after")
        .unwrap();
    match f.call(&mut sync_store, (1,)) {
        Err(Error::Trap(t)) => assert_eq!(t.kind(), TrapKind::Unreachable),
        other => panic!("{other:?}"),
    }
}

#[test]
fn calls_interleave_on_one_thread() {
    let engine = async_engine();
    let (mut store_a, inst_a) = instance(&engine);
    let (mut store_b, inst_b) = instance(&engine);
    let fa = inst_a
        .get_typed_func::<(i32,), i32>(&mut store_a, "run")
        .unwrap();
    let fb = inst_b
        .get_typed_func::<(i32,), i32>(&mut store_b, "run")
        .unwrap();
    let mut a = Box::pin(fa.call_async(&mut store_a, (5,)));
    let mut b = Box::pin(fb.call_async(&mut store_b, (2,)));
    let mut cx = Context::from_waker(Waker::noop());
    let (mut ra, mut rb) = (None, None);
    let mut polls = 0;
    while ra.is_none() || rb.is_none() {
        if ra.is_none() {
            if let Poll::Ready(r) = a.as_mut().poll(&mut cx) {
                ra = Some(r.unwrap());
            }
        }
        if rb.is_none() {
            if let Poll::Ready(r) = b.as_mut().poll(&mut cx) {
                rb = Some(r.unwrap());
            }
        }
        polls += 1;
        assert!(polls < 100);
    }
    assert_eq!((ra, rb), (Some(6), Some(3)));
    assert_eq!(polls, 6, "b finished at its third poll, a at its sixth");
}

#[test]
fn dropping_a_suspended_call_cancels_it() {
    let engine = async_engine();
    let mut linker = Linker::new(&engine);
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = dropped.clone();
    linker
        .func_wrap_async("env", "wait", move |_: Caller<'_, Seen>, (n,): (i32,)| {
            let guard = DropFlag(flag.clone());
            Box::new(async move {
                let _guard = guard;
                Pendings(u32::MAX).await;
                n
            })
        })
        .unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, Seen::default());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let f = instance
        .get_typed_func::<(i32,), i32>(&mut store, "run")
        .unwrap();
    {
        let mut future = Box::pin(f.call_async(&mut store, (1,)));
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..3 {
            assert!(future.as_mut().poll(&mut cx).is_pending());
        }
        assert!(!dropped.load(Ordering::SeqCst));
    }
    assert!(dropped.load(Ordering::SeqCst), "the host future is dropped");
    // The Wasm after the host call never ran, and the store is usable.
    assert_eq!(global(&mut store, instance, "before"), 1);
    assert_eq!(global(&mut store, instance, "after"), 0);
    let add = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "add")
        .unwrap();
    assert_eq!(run(add.call_async(&mut store, (2, 3))).0.unwrap(), 5);
    assert_eq!(add.call(&mut store, (2, 3)).unwrap(), 5);
    // A future dropped before its first poll runs nothing.
    drop(f.call_async(&mut store, (1,)));
    assert_eq!(global(&mut store, instance, "after"), 0);
}

#[test]
fn misuse_is_an_error() {
    // No async support: no asynchronous call, no asynchronous host function.
    let engine = Engine::default();
    let module = Module::new(&engine, "(module (func (export \"f\")))").unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let f = inst.get_func(&mut store, "f").unwrap();
    let err = run(f.call_async(&mut store, &[], &mut [])).0.unwrap_err();
    assert!(err.to_string().contains("async_support"), "{err}");
    let mut linker = Linker::<()>::new(&engine);
    let err = linker
        .func_wrap_async("env", "g", |_: Caller<'_, ()>, (): ()| Box::new(async {}))
        .unwrap_err();
    assert!(err.to_string().contains("`env::g`"), "{err}");

    // A synchronous call that reaches an asynchronous host function.
    let engine = async_engine();
    let (mut store, instance) = instance(&engine);
    let f = instance
        .get_typed_func::<(i32,), i32>(&mut store, "run")
        .unwrap();
    let err = f.call(&mut store, (0,)).unwrap_err();
    assert!(err.to_string().contains("synchronous call"), "{err}");

    // Wasm's stack may not be larger than the fiber's.
    let mut config = Config::new();
    config.async_support(true).max_wasm_stack(4 << 20);
    let err = Engine::new(&config).unwrap_err();
    assert!(err.to_string().contains("async_stack_size"), "{err}");
}

#[test]
fn host_functions_cannot_call_back_during_an_async_call() {
    let engine = async_engine();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap_async(
            "env",
            "wait",
            |mut caller: Caller<'_, Seen>, (n,): (i32,)| {
                Box::new(async move {
                    let f = caller
                        .get_export("add")
                        .and_then(|e| e.into_func())
                        .unwrap();
                    let mut out = [Val::I32(0)];
                    // An asynchronous call back into Wasm nests in this one.
                    f.call_async(&mut caller, &[Val::I32(n), Val::I32(1)], &mut out)
                        .await?;
                    assert_eq!(out[0].i32(), Some(n + 1));
                    // Nor a synchronous one: it could suspend with this
                    // future's frames on the fiber.
                    let err = f
                        .call(&mut caller, &[Val::I32(n), Val::I32(1)], &mut out)
                        .unwrap_err()
                        .to_string();
                    assert!(err.contains("call back into Wasm"), "{err}");
                    Ok::<_, Error>(n + 2)
                })
            },
        )
        .unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, Seen::default());
    let instance = run(linker.instantiate_async(&mut store, &module))
        .0
        .unwrap();
    let f = instance
        .get_typed_func::<(i32,), i32>(&mut store, "run")
        .unwrap();
    assert_eq!(run(f.call_async(&mut store, (40,))).0.unwrap(), 42);
}

#[test]
fn nested_async_calls_keep_the_outer_calls_references() {
    let mut config = Config::new();
    config.async_support(true).gc_stress(true);
    let engine = Engine::new(&config).unwrap();
    // `outer` holds 16 structs in locals (more than registers hold, so
    // most lie in its frame) across its host call; the host
    // calls `churn` back, which allocates and collects at every
    // allocation: the structs survive only if the collector scans the
    // outer call's frames on the outer fiber.
    let module = Module::new(
        &engine,
        r#"(module
            (type $s (struct (field (mut i32))))
            (import "env" "host" (func $host (param i32) (result i32)))
            (func (export "outer") (param i32) (result i32)
                (local $r0 (ref null $s))(local $r1 (ref null $s))(local $r2 (ref null $s))(local $r3 (ref null $s))(local $r4 (ref null $s))(local $r5 (ref null $s))(local $r6 (ref null $s))(local $r7 (ref null $s))(local $r8 (ref null $s))(local $r9 (ref null $s))(local $r10 (ref null $s))(local $r11 (ref null $s))(local $r12 (ref null $s))(local $r13 (ref null $s))(local $r14 (ref null $s))(local $r15 (ref null $s))
                (local.set $r0 (struct.new $s (i32.const 100)))
                (local.set $r1 (struct.new $s (i32.const 101)))
                (local.set $r2 (struct.new $s (i32.const 102)))
                (local.set $r3 (struct.new $s (i32.const 103)))
                (local.set $r4 (struct.new $s (i32.const 104)))
                (local.set $r5 (struct.new $s (i32.const 105)))
                (local.set $r6 (struct.new $s (i32.const 106)))
                (local.set $r7 (struct.new $s (i32.const 107)))
                (local.set $r8 (struct.new $s (i32.const 108)))
                (local.set $r9 (struct.new $s (i32.const 109)))
                (local.set $r10 (struct.new $s (i32.const 110)))
                (local.set $r11 (struct.new $s (i32.const 111)))
                (local.set $r12 (struct.new $s (i32.const 112)))
                (local.set $r13 (struct.new $s (i32.const 113)))
                (local.set $r14 (struct.new $s (i32.const 114)))
                (local.set $r15 (struct.new $s (i32.const 115)))
                (drop (call $host (local.get 0)))
                (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.const 0) (struct.get $s 0 (local.get $r0))) (struct.get $s 0 (local.get $r1))) (struct.get $s 0 (local.get $r2))) (struct.get $s 0 (local.get $r3))) (struct.get $s 0 (local.get $r4))) (struct.get $s 0 (local.get $r5))) (struct.get $s 0 (local.get $r6))) (struct.get $s 0 (local.get $r7))) (struct.get $s 0 (local.get $r8))) (struct.get $s 0 (local.get $r9))) (struct.get $s 0 (local.get $r10))) (struct.get $s 0 (local.get $r11))) (struct.get $s 0 (local.get $r12))) (struct.get $s 0 (local.get $r13))) (struct.get $s 0 (local.get $r14))) (struct.get $s 0 (local.get $r15)))
                    (call $host (local.get 0))))
            (func (export "churn") (param $n i32) (result i32)
                (loop $l
                    (drop (struct.new $s (local.get $n)))
                    (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
                (i32.const 7)))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap_async("env", "host", |mut caller: Caller<'_, ()>, (n,): (i32,)| {
            Box::new(async move {
                Pendings(1).await;
                let churn = caller
                    .get_export("churn")
                    .and_then(|e| e.into_func())
                    .unwrap()
                    .typed::<i32, i32>(&caller)?;
                let r = churn.call_async(&mut caller, n).await?;
                Pendings(1).await;
                Ok::<_, Error>(r)
            })
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = run(linker.instantiate_async(&mut store, &module))
        .0
        .unwrap();
    let outer = instance
        .get_typed_func::<i32, i32>(&mut store, "outer")
        .unwrap();
    let (r, pending) = run(outer.call_async(&mut store, 2000));
    assert_eq!(r.unwrap(), (100..116).sum::<i32>() + 7);
    assert_eq!(pending, 4);
    assert!(
        store.gc_stats().collections > 100,
        "{:?}",
        store.gc_stats().collections
    );
}

#[test]
fn async_host_functions_over_vals_and_start_functions() {
    let engine = async_engine();
    let mut store = Store::new(&engine, Seen::default());
    let ty = FuncType::new([ValType::I32], [ValType::I32]);
    let double = Func::new_async(&mut store, ty, |_caller, params, results| {
        Box::new(async move {
            Pendings(2).await;
            results[0] = Val::I32(params[0].i32().unwrap() * 2);
            Ok(())
        })
    });
    let fail = Func::wrap_async(&mut store, |_: Caller<'_, Seen>, (): ()| {
        Box::new(async {
            Pendings(1).await;
            Err::<(), _>(Error::Usage("the host says no".into()))
        })
    });
    // The start function awaits the host: instantiation suspends.
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "double" (func $double (param i32) (result i32)))
            (import "env" "fail" (func $fail))
            (global $g (export "g") (mut i32) (i32.const 0))
            (func $start (global.set $g (call $double (i32.const 21))))
            (start $start)
            (func (export "fail") (call $fail)))"#,
    )
    .unwrap();
    let (instance, pending) = run(Instance::new_async(
        &mut store,
        &module,
        &[double.into(), fail.into()],
    ));
    let instance = instance.unwrap();
    assert_eq!(pending, 2);
    assert_eq!(global(&mut store, instance, "g"), 42);
    let f = instance
        .get_typed_func::<(), ()>(&mut store, "fail")
        .unwrap();
    let err = run(f.call_async(&mut store, ())).0.unwrap_err();
    assert!(err.to_string().contains("the host says no"), "{err}");
    // An instantiation whose start function awaits, made synchronously.
    let err = Instance::new(&mut store, &module, &[double.into(), fail.into()]).unwrap_err();
    assert!(err.to_string().contains("synchronous call"), "{err}");
}

/// An engine of `config`, a store, and its `count(n)`: a loop that
/// counts to `n` (checked at each loop header) and answers it.
fn counter(config: &Config) -> (Engine, Store<()>, walmart::TypedFunc<(i32,), i32>) {
    let engine = Engine::new(config).unwrap();
    let module = Module::new(
        &engine,
        r#"(module (func (export "count") (param i32) (result i32) (local i32)
            (loop $l
                (local.set 1 (i32.add (local.get 1) (i32.const 1)))
                (br_if $l (i32.lt_u (local.get 1) (local.get 0))))
            (local.get 1)))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let count = instance
        .get_typed_func::<(i32,), i32>(&mut store, "count")
        .unwrap();
    (engine, store, count)
}

#[test]
fn epoch_deadlines_yield_the_call() {
    let mut config = Config::new();
    config.async_support(true).epoch_interruption(true);
    let (engine, mut store, f) = counter(&config);
    // A deadline of the current epoch: every check yields (the entry's
    // and each of 100 loop headers').
    store.set_epoch_deadline(0);
    store.epoch_deadline_async_yield_and_update(0);
    let (r, yields) = run(f.call_async(&mut store, (100,)));
    assert_eq!((r.unwrap(), yields), (100, 101));

    // An epoch ticking on another thread: a long loop yields now and then
    // and still counts to the end.
    store.set_epoch_deadline(1);
    store.epoch_deadline_async_yield_and_update(1);
    let stop = Arc::new(AtomicBool::new(false));
    let ticker = {
        let (engine, stop) = (engine.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                engine.increment_epoch();
                std::thread::sleep(std::time::Duration::from_micros(500));
            }
        })
    };
    let (r, yields) = run(f.call_async(&mut store, (300_000_000,)));
    stop.store(true, Ordering::SeqCst);
    ticker.join().unwrap();
    assert_eq!(r.unwrap(), 300_000_000);
    assert!(yields >= 1, "{yields}");

    // A synchronous call cannot yield.
    engine.increment_epoch();
    let err = f.call(&mut store, (1_000_000,)).unwrap_err();
    assert!(err.to_string().contains("UpdateDeadline::Yield"), "{err}");
}

#[test]
fn stack_overflow_and_host_panics_on_a_fiber() {
    let mut config = Config::new();
    config
        .async_support(true)
        .max_wasm_stack(256 << 10)
        .async_stack_size(512 << 10);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "boom" (func $boom))
            (func $deep (export "deep") (param i64) (result i64)
                (i64.add (call $deep (i64.add (local.get 0) (i64.const 1))) (i64.const 1)))
            (func (export "boom") (call $boom)))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap_async("env", "boom", |_: Caller<'_, ()>, (): ()| {
            Box::new(async {
                Pendings(1).await;
                panic!("host panic on the fiber")
            }) as walmart::HostFuture<'_, ()>
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let deep = instance
        .get_typed_func::<(i64,), i64>(&mut store, "deep")
        .unwrap();
    for _ in 0..3 {
        match run(deep.call_async(&mut store, (0,))).0 {
            Err(Error::Trap(t)) => assert_eq!(t.kind(), TrapKind::StackOverflow),
            other => panic!("{other:?}"),
        }
    }
    let boom = instance
        .get_typed_func::<(), ()>(&mut store, "boom")
        .unwrap();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run(boom.call_async(&mut store, ()))
    }));
    let payload = panicked.unwrap_err();
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"host panic on the fiber")
    );
    // The store and this thread still work.
    match run(deep.call_async(&mut store, (0,))).0 {
        Err(Error::Trap(t)) => assert_eq!(t.kind(), TrapKind::StackOverflow),
        other => panic!("{other:?}"),
    }
}

#[test]
fn stores_and_async_calls_are_send() {
    fn send<T: Send>(_: &T) {}
    let engine = async_engine();
    let (mut store, instance) = instance(&engine);
    send(&store);
    let f = instance
        .get_typed_func::<(i32,), i32>(&mut store, "run")
        .unwrap();
    let future = f.call_async(&mut store, (1,));
    send(&future);
    // Finished on another thread than the one that made it.
    let r = std::thread::scope(|s| s.spawn(|| block_on(future)).join().unwrap());
    assert_eq!(r.unwrap(), 2);
}

#[test]
fn many_calls_on_a_multi_threaded_tokio_runtime() {
    let engine = async_engine();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap_async(
            "env",
            "wait",
            |mut caller: Caller<'_, Seen>, (n,): (i32,)| {
                Box::new(async move {
                    for _ in 0..n {
                        tokio::time::sleep(std::time::Duration::from_micros(200)).await;
                        tokio::task::yield_now().await;
                    }
                    caller.data_mut().calls += 1;
                    n + 1
                })
            },
        )
        .unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    let pre = linker.instantiate_pre(&module).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_time()
        .build()
        .unwrap();
    let done = Arc::new(AtomicU32::new(0));
    runtime.block_on(async {
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let pre = pre.clone();
                let done = done.clone();
                tokio::spawn(async move {
                    let mut store = Store::new(pre.module().engine(), Seen::default());
                    let instance = pre.instantiate_async(&mut store).await.unwrap();
                    let run = instance
                        .get_typed_func::<(i32,), i32>(&mut store, "run")
                        .unwrap();
                    let trap = instance
                        .get_typed_func::<(i32,), ()>(&mut store, "trap_after")
                        .unwrap();
                    for round in 0..4 {
                        let n = (i + round) % 5;
                        assert_eq!(run.call_async(&mut store, (n,)).await.unwrap(), n + 1);
                        let err = trap.call_async(&mut store, (n,)).await.unwrap_err();
                        assert!(
                            matches!(err, Error::Trap(ref t) if t.kind() == TrapKind::Unreachable)
                        );
                    }
                    assert_eq!(store.data().calls, 8);
                    done.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(done.load(Ordering::SeqCst), 16);
}

#[test]
fn call_hooks_cannot_call_back_during_an_async_call() {
    let engine = async_engine();
    let (mut store, instance) = instance(&engine);
    let add = instance.get_func(&mut store, "add").unwrap();
    let errors = Arc::new(AtomicU32::new(0));
    let seen = errors.clone();
    store.call_hook(move |store, kind| {
        if kind == walmart::CallHook::CallingWasm {
            let mut out = [Val::I32(0)];
            if let Err(e) = add.call(&mut *store, &[Val::I32(1), Val::I32(2)], &mut out) {
                assert!(e.to_string().contains("call back into Wasm"), "{e}");
                seen.fetch_add(1, Ordering::SeqCst);
            }
        }
        Ok(())
    });
    let f = instance
        .get_typed_func::<(i32,), i32>(&mut store, "run")
        .unwrap();
    assert_eq!(run(f.call_async(&mut store, (2,))).0.unwrap(), 3);
    assert_eq!(
        errors.load(Ordering::SeqCst),
        1,
        "the hook's call was refused"
    );
}

#[test]
fn another_stores_call_from_a_fiber_uses_the_fibers_stack() {
    let engine = async_engine();
    // Store B's synchronous Wasm, called from store A's fiber, recurses
    // deeply: its limit must come from the fiber's stack, not the
    // thread's (too low: a fault past the fiber's guard; too high: an
    // immediate stack overflow).
    let module_b = Module::new(
        &engine,
        r#"(module (func $deep (export "deep") (param i32) (result i32)
            (if (result i32) (local.get 0)
                (then (i32.add (call $deep (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))
                (else (i32.const 0)))))"#,
    )
    .unwrap();
    let store_b = Arc::new(std::sync::Mutex::new(Store::new(&engine, ())));
    let deep = {
        let mut b = store_b.lock().unwrap();
        let inst = Instance::new(&mut *b, &module_b, &[]).unwrap();
        inst.get_typed_func::<(i32,), i32>(&mut *b, "deep").unwrap()
    };
    let mut linker = Linker::new(&engine);
    let b = store_b.clone();
    linker
        .func_wrap_async("env", "wait", move |_: Caller<'_, Seen>, (n,): (i32,)| {
            let b = b.clone();
            Box::new(async move {
                Pendings(1).await;
                let mut b = b.lock().unwrap();
                let shallow = deep.call(&mut *b, (n,)).unwrap();
                let overflow = deep.call(&mut *b, (100_000_000,));
                drop(b);
                match overflow {
                    Err(Error::Trap(t)) => assert_eq!(t.kind(), TrapKind::StackOverflow),
                    other => panic!("{other:?}"),
                }
                shallow
            })
        })
        .unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, Seen::default());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let f = instance
        .get_typed_func::<(i32,), i32>(&mut store, "run")
        .unwrap();
    assert_eq!(run(f.call_async(&mut store, (1000,))).0.unwrap(), 1000);
}

#[test]
fn a_leaked_call_leaves_the_store_unusable_not_corrupt() {
    let engine = async_engine();
    let (mut store, instance) = instance(&engine);
    let f = instance
        .get_typed_func::<(i32,), i32>(&mut store, "run")
        .unwrap();
    let mut future = Box::pin(f.call_async(&mut store, (1_000,)));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(future.as_mut().poll(&mut cx).is_pending());
    std::mem::forget(future);
    // Collecting scans no stack of the leaked call; calls say why they fail.
    store.gc();
    let err = f.call(&mut store, (0,)).unwrap_err();
    assert!(err.to_string().contains("leaked"), "{err}");
    let err = run(f.call_async(&mut store, (0,))).0.unwrap_err();
    assert!(err.to_string().contains("leaked"), "{err}");
}

#[test]
fn configurations_that_cannot_work_are_refused() {
    let mut config = Config::new();
    config
        .async_support(true)
        .max_wasm_stack(64 << 10)
        .async_stack_size(128 << 10);
    let err = Engine::new(&config).unwrap_err();
    assert!(err.to_string().contains("async_stack_size"), "{err}");
    // An asynchronous host function made in an engine without async
    // support says so when Wasm calls it.
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let f = Func::wrap_async(&mut store, |_: Caller<'_, ()>, (): ()| Box::new(async {}));
    let err = f.call(&mut store, &[], &mut []).unwrap_err();
    assert!(err.to_string().contains("async_support"), "{err}");
}

#[test]
fn fuel_yields_every_interval_and_still_bounds_the_run() {
    let mut config = Config::new();
    config.async_support(true).consume_fuel(true);
    let (_engine, mut store, count) = counter(&config);

    // What a run costs, counted without an interval.
    store.set_fuel(1_000_000).unwrap();
    assert_eq!(count.call(&mut store, (5_000,)).unwrap(), 5_000);
    let cost = 1_000_000 - store.get_fuel().unwrap();
    // The same run handed out 1,000 units at a time: one yield per
    // interval spent, and the same cost.
    store.fuel_async_yield_interval(Some(1_000)).unwrap();
    store.set_fuel(1_000_000).unwrap();
    assert_eq!(store.get_fuel().unwrap(), 1_000_000);
    let (r, yields) = run(count.call_async(&mut store, (5_000,)));
    assert_eq!(r.unwrap(), 5_000);
    assert_eq!(1_000_000 - store.get_fuel().unwrap(), cost);
    // (The last interval's end may fall after the last check.)
    let intervals = cost / 1_000;
    assert!(
        (intervals - 1..=intervals).contains(&u64::from(yields)),
        "{yields} yields for a cost of {cost}"
    );

    // 10,000 units: nine yields, then none left.
    store.set_fuel(10_000).unwrap();
    let (r, yields) = run(count.call_async(&mut store, (1_000_000,)));
    match r {
        Err(Error::Trap(t)) => assert_eq!(t.kind(), TrapKind::OutOfFuel),
        other => panic!("{other:?}"),
    }
    assert_eq!(yields, 9);
    assert_eq!(store.get_fuel().unwrap(), 0);

    // A synchronous call cannot yield once it has spent an interval.
    store.set_fuel(10_000).unwrap();
    assert_eq!(count.call(&mut store, (10,)).unwrap(), 10);
    let err = count.call(&mut store, (1_000_000,)).unwrap_err();
    assert!(
        err.to_string().contains("fuel_async_yield_interval"),
        "{err}"
    );

    // Without an interval, fuel runs out as before.
    store.fuel_async_yield_interval(None).unwrap();
    store.set_fuel(10_000).unwrap();
    match run(count.call_async(&mut store, (1_000_000,))) {
        (Err(Error::Trap(t)), 0) => assert_eq!(t.kind(), TrapKind::OutOfFuel),
        other => panic!("{other:?}"),
    }

    // Refused settings.
    let err = store.fuel_async_yield_interval(Some(0)).unwrap_err();
    assert!(err.to_string().contains("at least one"), "{err}");
    let mut config = Config::new();
    config.consume_fuel(true);
    let mut sync_store = Store::new(&Engine::new(&config).unwrap(), ());
    let err = sync_store.fuel_async_yield_interval(Some(10)).unwrap_err();
    assert!(err.to_string().contains("async_support"), "{err}");
}

/// `outer` calls `env::host`, which may call `waits` back; `waits` calls
/// `env::wait` ([`define_wait`]).
const NESTED: &str = r#"(module
    (import "env" "host" (func $host (param i32) (result i32)))
    (import "env" "wait" (func $wait (param i32) (result i32)))
    (func (export "outer") (param i32) (result i32) (call $host (local.get 0)))
    (func (export "waits") (param i32) (result i32) (call $wait (local.get 0))))"#;

/// Defines `env::wait(n)`: pending `pend` times, then `n`.
fn define_wait(linker: &mut Linker<()>, pend: u32) {
    linker
        .func_wrap_async("env", "wait", move |_: Caller<'_, ()>, (n,): (i32,)| {
            Box::new(async move {
                Pendings(pend).await;
                n
            })
        })
        .unwrap();
}

/// The calling instance's `waits` export ([`NESTED`]).
fn waits_of(caller: &mut Caller<'_, ()>) -> walmart::TypedFunc<i32, i32> {
    caller
        .get_export("waits")
        .and_then(|e| e.into_func())
        .unwrap()
        .typed::<i32, i32>(&*caller)
        .unwrap()
}

/// [`NESTED`] instantiated through `linker` in a store of its own, and
/// its `outer`.
fn nested_outer(engine: &Engine, linker: &Linker<()>) -> (Store<()>, walmart::TypedFunc<i32, i32>) {
    let module = Module::new(engine, NESTED).unwrap();
    let mut store = Store::new(engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let outer = instance
        .get_typed_func::<i32, i32>(&mut store, "outer")
        .unwrap();
    (store, outer)
}

#[test]
fn a_nested_call_leaked_by_a_host_function_poisons_the_store() {
    let engine = async_engine();
    // An inner call that is still suspended when forgotten.
    let mut linker = Linker::new(&engine);
    define_wait(&mut linker, 3);
    linker
        .func_wrap_async("env", "host", |mut caller: Caller<'_, ()>, (n,): (i32,)| {
            Box::new(async move {
                let waits = waits_of(&mut caller);
                let mut inner = Box::pin(waits.call_async(&mut caller, n));
                let mut cx = Context::from_waker(Waker::noop());
                assert!(inner.as_mut().poll(&mut cx).is_pending());
                std::mem::forget(inner);
                Ok::<_, Error>(n)
            })
        })
        .unwrap();
    let (mut store, outer) = nested_outer(&engine, &linker);
    let err = run(outer.call_async(&mut store, 5)).0.unwrap_err();
    assert!(err.to_string().contains("leaked"), "{err}");
    store.gc();
    let err = run(outer.call_async(&mut store, 5)).0.unwrap_err();
    assert!(err.to_string().contains("leaked"), "{err}");
    let err = outer.call(&mut store, 5).unwrap_err();
    assert!(err.to_string().contains("leaked"), "{err}");
}

#[test]
fn a_nested_call_resumed_from_another_thread_fails() {
    let engine = async_engine();
    let mut linker = Linker::new(&engine);
    define_wait(&mut linker, 2);
    linker
        .func_wrap_async("env", "host", |mut caller: Caller<'_, ()>, (n,): (i32,)| {
            Box::new(async move {
                let waits = waits_of(&mut caller);
                let mut inner = Box::pin(waits.call_async(&mut caller, n));
                let mut cx = Context::from_waker(Waker::noop());
                assert!(inner.as_mut().poll(&mut cx).is_pending());
                // The next poll from a thread of its own.
                let polled = std::thread::scope(|s| {
                    s.spawn(|| {
                        let mut cx = Context::from_waker(Waker::noop());
                        inner.as_mut().poll(&mut cx)
                    })
                    .join()
                    .unwrap()
                });
                let err = match polled {
                    Poll::Ready(r) => r.unwrap_err().to_string(),
                    Poll::Pending => panic!("resumed on another thread"),
                };
                assert!(err.contains("another stack"), "{err}");
                drop(inner);
                Ok::<_, Error>(n)
            })
        })
        .unwrap();
    let (mut store, outer) = nested_outer(&engine, &linker);
    assert_eq!(run(outer.call_async(&mut store, 9)).0.unwrap(), 9);
    // The store is fine afterwards.
    assert_eq!(run(outer.call_async(&mut store, 4)).0.unwrap(), 4);
}

/// An asynchronous limiter: each answer pending once; memories up to
/// `max_bytes`, tables up to 10 elements.
struct SlowLimiter {
    max_bytes: usize,
    asked: u32,
}

#[async_trait::async_trait]
impl walmart::ResourceLimiterAsync for SlowLimiter {
    async fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> walmart::Result<bool> {
        Pendings(1).await;
        self.asked += 1;
        Ok(desired <= self.max_bytes)
    }

    async fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> walmart::Result<bool> {
        Pendings(1).await;
        self.asked += 1;
        Ok(desired <= 10)
    }
}

#[test]
fn an_async_limiter_suspends_the_growth_it_is_asked_about() {
    let engine = async_engine();
    let module = Module::new(
        &engine,
        r#"(module
            (memory (export "mem") 1)
            (table (export "tab") 1 funcref)
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
    )
    .unwrap();
    let mut store = Store::new(
        &engine,
        SlowLimiter {
            max_bytes: 3 << 16,
            asked: 0,
        },
    );
    store.limiter_async(|l| l);
    // Making the memory and the table asks: one Pending each.
    let (instance, pending) = run(Instance::new_async(&mut store, &module, &[]));
    let instance = instance.unwrap();
    assert_eq!((pending, store.data().asked), (2, 2));
    let grow = instance
        .get_typed_func::<i32, i32>(&mut store, "grow")
        .unwrap();
    let (r, pending) = run(grow.call_async(&mut store, 1));
    assert_eq!((r.unwrap(), pending), (1, 1));
    // Past the limiter's 3 pages: refused, -1.
    let (r, pending) = run(grow.call_async(&mut store, 2));
    assert_eq!((r.unwrap(), pending), (-1, 1));
    let mem = instance.get_memory(&mut store, "mem").unwrap();
    assert_eq!(run(mem.grow_async(&mut store, 1)).0.unwrap(), 2);
    assert!(run(mem.grow_async(&mut store, 1)).0.is_err());
    let tab = instance.get_table(&mut store, "tab").unwrap();
    assert_eq!(
        run(tab.grow_async(&mut store, 4, Val::FuncRef(None)))
            .0
            .unwrap(),
        1
    );
    // Synchronous growth, in Wasm or from the host, and synchronous
    // instantiation cannot wait on the limiter.
    let err = grow.call(&mut store, 1).unwrap_err();
    assert!(err.to_string().contains("limiter_async"), "{err}");
    let err = mem.grow(&mut store, 1).unwrap_err();
    assert!(err.to_string().contains("limiter_async"), "{err}");
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert!(err.to_string().contains("limiter_async"), "{err}");
}

#[test]
fn an_async_limiter_cannot_suspend_host_code() {
    let engine = async_engine();
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "grow_sync" (func $grow_sync (result i32)))
            (import "env" "grow_in_future" (func $grow_in_future (result i32)))
            (memory (export "mem") 1)
            (func (export "sync") (result i32) (call $grow_sync))
            (func (export "in_future") (result i32) (call $grow_in_future))
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    // A synchronous host function's growth would suspend its frames.
    linker
        .func_wrap("env", "grow_sync", |mut caller: Caller<'_, SlowLimiter>| {
            let mem = caller
                .get_export("mem")
                .and_then(|e| e.into_memory())
                .unwrap();
            let err = mem.grow(&mut caller, 1).unwrap_err();
            assert!(
                err.to_string().contains("cannot suspend inside host code"),
                "{err}"
            );
            7
        })
        .unwrap();
    // An asynchronous host function's future grows with `grow_async`
    // (a nested call); its synchronous `grow` cannot wait.
    linker
        .func_wrap_async(
            "env",
            "grow_in_future",
            |mut caller: Caller<'_, SlowLimiter>, (): ()| {
                Box::new(async move {
                    let mem = caller
                        .get_export("mem")
                        .and_then(|e| e.into_memory())
                        .unwrap();
                    let err = mem.grow(&mut caller, 1).unwrap_err();
                    assert!(
                        err.to_string().contains("cannot suspend inside host code"),
                        "{err}"
                    );
                    Pendings(1).await;
                    let old = mem.grow_async(&mut caller, 1).await?;
                    Ok::<_, Error>(old as i32)
                })
            },
        )
        .unwrap();
    let mut store = Store::new(
        &engine,
        SlowLimiter {
            max_bytes: 4 << 16,
            asked: 0,
        },
    );
    store.limiter_async(|l| l);
    let instance = run(linker.instantiate_async(&mut store, &module))
        .0
        .unwrap();
    let sync = instance
        .get_typed_func::<(), i32>(&mut store, "sync")
        .unwrap();
    assert_eq!(run(sync.call_async(&mut store, ())).0.unwrap(), 7);
    let in_future = instance
        .get_typed_func::<(), i32>(&mut store, "in_future")
        .unwrap();
    assert_eq!(run(in_future.call_async(&mut store, ())).0.unwrap(), 1);

    // A call leaked while it waited on the limiter: the limiter is not
    // lost (its stand-in refuses), and the store says why it fails.
    let grow = instance
        .get_typed_func::<i32, i32>(&mut store, "grow")
        .unwrap();
    let mut future = Box::pin(grow.call_async(&mut store, 1));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(future.as_mut().poll(&mut cx).is_pending());
    std::mem::forget(future);
    let mem = instance.get_memory(&mut store, "mem").unwrap();
    let err = mem.grow(&mut store, 1).unwrap_err();
    assert!(err.to_string().contains("in use"), "{err}");
    let err = grow.call(&mut store, 1).unwrap_err();
    assert!(err.to_string().contains("leaked"), "{err}");
}

/// Records each crossing, pending once at each.
struct SlowHook(std::sync::Mutex<Vec<walmart::CallHook>>);

#[async_trait::async_trait]
impl walmart::CallHookHandler<Seen> for SlowHook {
    async fn handle_call_event(
        &self,
        store: &mut walmart::StoreInner<Seen>,
        kind: walmart::CallHook,
    ) -> walmart::Result<()> {
        Pendings(1).await;
        store.data_mut().calls += 100;
        self.0.lock().unwrap().push(kind);
        Ok(())
    }
}

#[test]
fn an_async_call_hook_is_waited_on_at_each_crossing() {
    use walmart::CallHook::*;
    let engine = async_engine();
    let (mut store, instance) = instance(&engine);
    let hook = Arc::new(SlowHook(std::sync::Mutex::new(Vec::new())));
    struct Shared(Arc<SlowHook>);
    #[async_trait::async_trait]
    impl walmart::CallHookHandler<Seen> for Shared {
        async fn handle_call_event(
            &self,
            store: &mut walmart::StoreInner<Seen>,
            kind: walmart::CallHook,
        ) -> walmart::Result<()> {
            self.0.handle_call_event(store, kind).await
        }
    }
    store.call_hook_async(Shared(hook.clone()));
    let run_f = instance
        .get_typed_func::<(i32,), i32>(&mut store, "run")
        .unwrap();
    let (r, pending) = run(run_f.call_async(&mut store, (2,)));
    assert_eq!(r.unwrap(), 3);
    // Four crossings, a Pending each, and the host function's two.
    assert_eq!(pending, 6);
    assert_eq!(
        *hook.0.lock().unwrap(),
        [
            CallingWasm,
            CallingHost,
            ReturningFromHost,
            ReturningFromWasm
        ]
    );
    assert_eq!(store.data().calls, 401);
    // A synchronous call cannot wait on the hook.
    let add = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "add")
        .unwrap();
    let err = add.call(&mut store, (1, 2)).unwrap_err();
    assert!(err.to_string().contains("call_hook_async"), "{err}");
}

/// `sleep(ns)`: one `poll_oneoff` on the monotonic clock; answers the
/// event's userdata (42) plus a thousand per event.
const WASI_SLEEP: &str = r#"(module
    (import "wasi_snapshot_preview1" "poll_oneoff"
        (func $poll (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (func (export "sleep") (param $ns i64) (result i32)
        (i64.store (i32.const 0) (i64.const 42))
        (i32.store8 (i32.const 8) (i32.const 0))
        (i32.store (i32.const 16) (i32.const 1))
        (i64.store (i32.const 24) (local.get $ns))
        (i64.store (i32.const 32) (i64.const 0))
        (i32.store16 (i32.const 40) (i32.const 0))
        (drop (call $poll (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200)))
        (i32.add (i32.wrap_i64 (i64.load (i32.const 100)))
            (i32.mul (i32.load (i32.const 200)) (i32.const 1000)))))"#;

#[test]
fn wasi_sleeps_suspend_asynchronous_calls() {
    let engine = async_engine();
    let module = Module::new(&engine, WASI_SLEEP).unwrap();
    let mut linker = Linker::new(&engine);
    walmart::wasi::add_to_linker_async(&mut linker, |c| c).unwrap();
    let pre = linker.instantiate_pre(&module).unwrap();
    let mut store_a = Store::new(&engine, walmart::wasi::WasiCtx::new());
    let mut store_b = Store::new(&engine, walmart::wasi::WasiCtx::new());
    let a = pre.instantiate(&mut store_a).unwrap();
    let b = pre.instantiate(&mut store_b).unwrap();
    let sleep_a = a.get_typed_func::<i64, i32>(&mut store_a, "sleep").unwrap();
    let sleep_b = b.get_typed_func::<i64, i32>(&mut store_b, "sleep").unwrap();
    // Both calls sleep 30 ms at once on this one thread: neither blocks it.
    let start = std::time::Instant::now();
    let mut fa = Box::pin(sleep_a.call_async(&mut store_a, 30_000_000));
    let mut fb = Box::pin(sleep_b.call_async(&mut store_b, 30_000_000));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(fa.as_mut().poll(&mut cx).is_pending());
    assert!(
        fb.as_mut().poll(&mut cx).is_pending(),
        "b runs while a sleeps"
    );
    let (mut ra, mut rb) = (None, None);
    while ra.is_none() || rb.is_none() {
        if ra.is_none() {
            if let Poll::Ready(r) = fa.as_mut().poll(&mut cx) {
                ra = Some(r.unwrap());
            }
        }
        if rb.is_none() {
            if let Poll::Ready(r) = fb.as_mut().poll(&mut cx) {
                rb = Some(r.unwrap());
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!((ra, rb), (Some(1042), Some(1042)));
    assert!(start.elapsed() >= std::time::Duration::from_millis(30));
    drop((fa, fb));
    // A synchronous call still sleeps, blocking.
    let start = std::time::Instant::now();
    assert_eq!(sleep_a.call(&mut store_a, 5_000_000).unwrap(), 1042);
    assert!(start.elapsed() >= std::time::Duration::from_millis(5));
    // A sleeping call dropped is cancelled: nothing more of it runs.
    let mut f = Box::pin(sleep_a.call_async(&mut store_a, 10_000_000_000));
    assert!(f.as_mut().poll(&mut cx).is_pending());
    drop(f);
    assert_eq!(run(sleep_a.call_async(&mut store_a, 0)).0.unwrap(), 1042);
}

/// `read()`: one `fd_read` of up to 64 bytes from descriptor 0 into
/// 256; answers errno * 1000 + bytes read. `write(fd, len)`: one
/// `fd_write` of `len` bytes to `fd`; errno * 1000000 + bytes written. `wait(ns)`: one `poll_oneoff`
/// on descriptor 0's readability (userdata 7) and a monotonic clock of
/// `ns` (userdata 9); answers events * 1000 + the first event's userdata.
const WASI_PIPE: &str = r#"(module
    (import "wasi_snapshot_preview1" "fd_read"
        (func $read (param i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "poll_oneoff"
        (func $poll (param i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_write"
        (func $write (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 4)
    (func (export "write") (param $fd i32) (param $len i32) (result i32)
        (i32.store (i32.const 2048) (i32.const 4096))
        (i32.store (i32.const 2052) (local.get $len))
        (i32.store (i32.const 2064) (i32.const 0))
        (i32.add
            (i32.mul (call $write (local.get $fd) (i32.const 2048) (i32.const 1) (i32.const 2064))
                (i32.const 1000000))
            (i32.load (i32.const 2064))))
    (func (export "read") (result i32)
        (i32.store (i32.const 16) (i32.const 0))
        (i32.store (i32.const 0) (i32.const 256))
        (i32.store (i32.const 4) (i32.const 64))
        (i32.add
            (i32.mul (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 16))
                (i32.const 1000))
            (i32.load (i32.const 16))))
    (func (export "wait") (param $ns i64) (result i32)
        (i64.store (i32.const 512) (i64.const 7))
        (i32.store8 (i32.const 520) (i32.const 1))
        (i32.store (i32.const 528) (i32.const 0))
        (i64.store (i32.const 560) (i64.const 9))
        (i32.store8 (i32.const 568) (i32.const 0))
        (i32.store (i32.const 576) (i32.const 1))
        (i64.store (i32.const 584) (local.get $ns))
        (i64.store (i32.const 592) (i64.const 0))
        (i32.store16 (i32.const 600) (i32.const 0))
        (drop (call $poll (i32.const 512) (i32.const 1024) (i32.const 2) (i32.const 1536)))
        (i32.add (i32.mul (i32.load (i32.const 1536)) (i32.const 1000))
            (i32.wrap_i64 (i64.load (i32.const 1024))))))"#;

/// Streams in host memory have no descriptor to wait on: an
/// asynchronous call's reads, writes and polls of them complete at once.
#[test]
fn wasi_streams_in_memory_never_suspend_asynchronous_calls() {
    let engine = async_engine();
    let module = Module::new(&engine, WASI_PIPE).unwrap();
    let out = walmart::wasi::MemoryOutputPipe::new(100);
    let mut ctx = walmart::wasi::WasiCtx::new();
    ctx.stdin(walmart::wasi::MemoryInputPipe::new(b"from memory".to_vec()))
        .stdout(out.clone());
    let (mut store, instance, memory) = wasi_instance(&engine, &module, ctx);
    let read = instance
        .get_typed_func::<(), i32>(&mut store, "read")
        .unwrap();
    let (got, pending) = run(read.call_async(&mut store, ()));
    assert_eq!(pending, 0, "a read of bytes in memory suspended");
    assert_eq!(got.unwrap(), 11);
    assert_eq!(&memory.data(&store)[256..267], b"from memory");
    // The poll's descriptor is ready at once (one event, for userdata 7).
    let wait = instance
        .get_typed_func::<i64, i32>(&mut store, "wait")
        .unwrap();
    let (got, pending) = run(wait.call_async(&mut store, 1_000_000_000));
    assert_eq!(pending, 0, "a poll of bytes in memory suspended");
    assert_eq!(got.unwrap(), 1007);
    memory.write(&mut store, 4096, b"out").unwrap();
    let write = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "write")
        .unwrap();
    let (got, pending) = run(write.call_async(&mut store, (1, 3)));
    assert_eq!(pending, 0, "a write into memory suspended");
    assert_eq!(got.unwrap(), 3);
    assert_eq!(out.contents(), b"out");
}

#[test]
fn wasi_reads_and_polls_of_pipes_suspend_asynchronous_calls() {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    let engine = async_engine();
    let module = Module::new(&engine, WASI_PIPE).unwrap();
    let (reader, mut writer) = std::io::pipe().unwrap();
    let read_end = reader.as_raw_fd();
    let mut ctx = walmart::wasi::WasiCtx::new();
    ctx.redirect(0, std::fs::File::from(std::os::fd::OwnedFd::from(reader)));
    let (mut store, instance, memory) = wasi_instance(&engine, &module, ctx);
    let read = instance
        .get_typed_func::<(), i32>(&mut store, "read")
        .unwrap();
    let wait = instance
        .get_typed_func::<i64, i32>(&mut store, "wait")
        .unwrap();
    let mut cx = Context::from_waker(Waker::noop());
    let buffer = |store: &Store<_>, n: usize| memory.data(store)[256..256 + n].to_vec();

    // An empty pipe: the read suspends the call, not the thread. (A writer
    // two seconds later makes a read that blocks fail here rather than
    // hang.)
    let late = {
        let mut w = writer.try_clone().unwrap();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs(2));
            w.write_all(b"late!").unwrap();
        })
    };
    let mut call = Box::pin(read.call_async(&mut store, ()));
    assert!(call.as_mut().poll(&mut cx).is_pending(), "the read blocked");
    writer.write_all(b"hello").unwrap();
    assert_eq!(block_on_within(call).unwrap(), 5);
    assert_eq!(buffer(&store, 5), b"hello");
    late.join().unwrap();
    // A synchronous call reads as it did.
    assert_eq!(read.call(&mut store, ()).unwrap(), 5);
    assert_eq!(buffer(&store, 5), b"late!");

    // A poll on the empty pipe and a clock: suspended until the clock.
    let start = std::time::Instant::now();
    let mut call = Box::pin(wait.call_async(&mut store, 200_000_000));
    assert!(call.as_mut().poll(&mut cx).is_pending(), "the poll blocked");
    assert_eq!(block_on_within(call).unwrap(), 1009);
    assert!(start.elapsed() >= std::time::Duration::from_millis(200));
    // Something to read: the descriptor's event at once, no suspension.
    writer.write_all(b"x").unwrap();
    let (answer, pending) = run(wait.call_async(&mut store, 10_000_000_000));
    assert_eq!((answer.unwrap(), pending), (1007, 0));
    // Woken by a write while suspended.
    assert_eq!(read.call(&mut store, ()).unwrap(), 1);
    let mut call = Box::pin(wait.call_async(&mut store, 10_000_000_000));
    assert!(call.as_mut().poll(&mut cx).is_pending());
    writer.write_all(b"y").unwrap();
    assert_eq!(block_on_within(call).unwrap(), 1007);
    assert_eq!(read.call(&mut store, ()).unwrap(), 1);

    // A suspended read dropped is cancelled; the store goes on.
    let mut call = Box::pin(read.call_async(&mut store, ()));
    assert!(call.as_mut().poll(&mut cx).is_pending());
    drop(call);
    writer.write_all(b"z").unwrap();
    assert_eq!(run(read.call_async(&mut store, ())).0.unwrap(), 1);

    // A write to the pipe's read end: `EBADF` (8) at once, as a
    // synchronous call, not a wait for room that never comes.
    let write = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "write")
        .unwrap();
    let (answer, pending) = run(write.call_async(&mut store, (0, 10)));
    assert_eq!((answer.unwrap(), pending), (8_000_000, 0));

    // A non-blocking descriptor is not waited on: `EAGAIN` (6) at once.
    // SAFETY: F_SETFL on the pipe's read end, which the context holds.
    assert_eq!(
        unsafe { libc::fcntl(read_end, libc::F_SETFL, libc::O_NONBLOCK) },
        0
    );
    let (answer, pending) = run(read.call_async(&mut store, ()));
    assert_eq!((answer.unwrap(), pending), (6000, 0));

    // A write larger than the pipe holds, nobody reading: what the pipe
    // takes without blocking (`PIPE_BUF`), not a blocked thread. (A
    // reader two seconds later rescues a write that blocks.)
    let (out_reader, out_writer) = std::io::pipe().unwrap();
    store.data_mut().redirect(
        1,
        std::fs::File::from(std::os::fd::OwnedFd::from(out_writer)),
    );
    let rescue = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(2));
        std::io::copy(&mut { out_reader }, &mut std::io::sink()).unwrap();
    });
    let (answer, pending) = run(write.call_async(&mut store, (1, 200_000)));
    assert_eq!((answer.unwrap(), pending), (libc::PIPE_BUF as i32, 0));
    drop(store);
    rescue.join().unwrap();
}

/// `accept()`: one `sock_accept` on descriptor 3; errno * 1000 + the new
/// descriptor. `recv(fd)`: one `sock_recv` of up to 64 bytes into 3200;
/// errno * 1000 + bytes received.
const WASI_SOCKET: &str = r#"(module
    (import "wasi_snapshot_preview1" "sock_accept"
        (func $accept (param i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "sock_recv"
        (func $recv (param i32 i32 i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (func (export "accept") (result i32)
        (i32.add
            (i32.mul (call $accept (i32.const 3) (i32.const 0) (i32.const 3000))
                (i32.const 1000))
            (i32.load (i32.const 3000))))
    (func (export "recv") (param $fd i32) (result i32)
        (i32.store (i32.const 3100) (i32.const 3200))
        (i32.store (i32.const 3104) (i32.const 64))
        (i32.add
            (i32.mul
                (call $recv (local.get $fd) (i32.const 3100) (i32.const 1) (i32.const 0)
                    (i32.const 3108) (i32.const 3112))
                (i32.const 1000))
            (i32.load (i32.const 3108)))))"#;

#[test]
fn wasi_accepts_and_receives_suspend_asynchronous_calls() {
    use std::io::Write;
    let engine = async_engine();
    let module = Module::new(&engine, WASI_SOCKET).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let mut ctx = walmart::wasi::WasiCtx::new();
    ctx.preopen_socket(listener).unwrap();
    let (mut store, instance, memory) = wasi_instance(&engine, &module, ctx);
    let accept = instance
        .get_typed_func::<(), i32>(&mut store, "accept")
        .unwrap();
    let recv = instance
        .get_typed_func::<i32, i32>(&mut store, "recv")
        .unwrap();
    let mut cx = Context::from_waker(Waker::noop());
    // (Clients two seconds later make an accept or a receive that blocks
    // fail rather than hang.)
    let late = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(2));
        // Refused once the store (and its listener) is gone.
        std::net::TcpStream::connect(address).ok()
    });
    let mut call = Box::pin(accept.call_async(&mut store, ()));
    assert!(
        call.as_mut().poll(&mut cx).is_pending(),
        "the accept blocked"
    );
    let mut client = std::net::TcpStream::connect(address).unwrap();
    let fd = block_on_within(call).unwrap();
    assert!((4..1000).contains(&fd), "{fd}");
    let rescue = {
        let mut client = client.try_clone().unwrap();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs(2));
            let _ = client.write_all(b"late");
        })
    };
    let mut call = Box::pin(recv.call_async(&mut store, fd));
    assert!(
        call.as_mut().poll(&mut cx).is_pending(),
        "the receive blocked"
    );
    client.write_all(b"ping").unwrap();
    assert_eq!(block_on_within(call).unwrap(), 4);
    assert_eq!(&memory.data(&store)[3200..3204], b"ping");
    drop(store);
    drop(late.join().unwrap());
    rescue.join().unwrap();
}

/// `module` instantiated with asynchronous WASI over `ctx`, and its
/// memory.
fn wasi_instance(
    engine: &Engine,
    module: &Module,
    ctx: walmart::wasi::WasiCtx,
) -> (Store<walmart::wasi::WasiCtx>, Instance, walmart::Memory) {
    let mut linker = Linker::new(engine);
    walmart::wasi::add_to_linker_async(&mut linker, |c| c).unwrap();
    let mut store = Store::new(engine, ctx);
    let instance = linker.instantiate(&mut store, module).unwrap();
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    (store, instance, memory)
}

/// [`block_on`], failing the test after ten seconds rather than hanging.
fn block_on_within<F: Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark()
        }
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = pin!(f);
    loop {
        if let Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        assert!(!left.is_zero(), "never woken");
        std::thread::park_timeout(left);
    }
}

#[test]
fn a_synchronous_host_function_that_leaks_a_nested_call_poisons_the_store() {
    let engine = async_engine();
    let mut linker = Linker::new(&engine);
    define_wait(&mut linker, 3);
    linker
        .func_wrap("env", "host", |mut caller: Caller<'_, ()>, n: i32| {
            let waits = waits_of(&mut caller);
            let mut inner = Box::pin(waits.call_async(&mut caller, n));
            let mut cx = Context::from_waker(Waker::noop());
            assert!(inner.as_mut().poll(&mut cx).is_pending());
            std::mem::forget(inner);
            n
        })
        .unwrap();
    let (mut store, outer) = nested_outer(&engine, &linker);
    let err = run(outer.call_async(&mut store, 5)).0.unwrap_err();
    assert!(err.to_string().contains("leaked"), "{err}");
    let err = outer.call(&mut store, 5).unwrap_err();
    assert!(err.to_string().contains("leaked"), "{err}");
}

#[test]
fn commands_and_reactors_defined_for_async_calls() {
    let engine = async_engine();
    // A command: each call of `bump` gets a fresh instance (its counter
    // starts at 0 each time).
    let command = Module::new(
        &engine,
        r#"(module
            (global $n (mut i32) (i32.const 0))
            (func (export "_start"))
            (func (export "bump") (param i32) (result i32)
                (global.set $n (i32.add (global.get $n) (i32.const 1)))
                (i32.add (local.get 0) (global.get $n))))"#,
    )
    .unwrap();
    // A reactor: initialized once, its state kept.
    let reactor = Module::new(
        &engine,
        r#"(module
            (global $n (mut i32) (i32.const 0))
            (func (export "_initialize") (global.set $n (i32.const 100)))
            (func (export "next") (result i32)
                (global.set $n (i32.add (global.get $n) (i32.const 1)))
                (global.get $n)))"#,
    )
    .unwrap();
    let main = Module::new(
        &engine,
        r#"(module
            (import "cmd" "bump" (func $bump (param i32) (result i32)))
            (import "lib" "next" (func $next (result i32)))
            (func (export "run") (result i32)
                (i32.add (call $bump (i32.const 10))
                    (i32.add (call $bump (i32.const 10)) (call $next)))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    run(linker.module_async(&mut store, "cmd", &command))
        .0
        .unwrap();
    run(linker.module_async(&mut store, "lib", &reactor))
        .0
        .unwrap();
    let instance = run(linker.instantiate_async(&mut store, &main)).0.unwrap();
    let f = instance
        .get_typed_func::<(), i32>(&mut store, "run")
        .unwrap();
    // 11 + 11 + 101, then the reactor's 102.
    assert_eq!(run(f.call_async(&mut store, ())).0.unwrap(), 123);
    assert_eq!(run(f.call_async(&mut store, ())).0.unwrap(), 124);

    // `Linker::module`'s command functions call back synchronously: not
    // during an asynchronous call.
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.module(&mut store, "cmd", &command).unwrap();
    linker.module(&mut store, "lib", &reactor).unwrap();
    let instance = linker.instantiate(&mut store, &main).unwrap();
    let f = instance
        .get_typed_func::<(), i32>(&mut store, "run")
        .unwrap();
    assert_eq!(f.call(&mut store, ()).unwrap(), 123);
    let err = run(f.call_async(&mut store, ())).0.unwrap_err();
    assert!(err.to_string().contains("call_async"), "{err}");
}
