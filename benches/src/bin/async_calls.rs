//! What asynchronous calls cost, side by side in one run:
//!
//! * `call`: a synchronous call of an empty export from the host;
//! * `call_async`: the same as an asynchronous call (a fiber taken from
//!   the engine's pool, entered and left);
//! * `host ready`: a Wasm loop's call of an asynchronous host function
//!   whose future is ready at once;
//! * `host pending`: the same, the future pending once (the whole call
//!   suspends and the executor resumes it).
//!
//! `cargo run --release -p walmart-benches --bin async_calls [--features wasmtime] [-- --runs N]`
//!
//! Prints the median of `--runs` timed batches (default 9, after one
//! warm-up) in nanoseconds per call, for walmart and, with the `wasmtime`
//! feature, for wasmtime (whose asynchronous calls run on fibers too).

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use walmart_benches::{die, median, runs_argument};

/// Calls per timed batch.
const CALLS: i32 = 100_000;

const WAT: &str = r#"(module
    (import "env" "get" (func $get (param i32) (result i32)))
    (func (export "empty"))
    (func (export "run") (param $n i32) (result i32)
        (local $acc i32)
        (loop $l
            (local.set $acc (call $get (local.get $acc)))
            (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
        (local.get $acc)))"#;

/// Pending `n` times, then ready.
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

/// Polls `f` to completion on this thread.
fn run<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// The rows, in order.
const ROWS: [&str; 4] = ["call", "call_async", "host ready", "host pending"];

/// walmart's time for `row`'s batch.
fn walmart(row: &str, runs: usize) -> Duration {
    use walmart::{Caller, Config, Engine, Linker, Module, Store};
    let mut config = Config::new();
    config.async_support(true);
    let engine = Engine::new(&config).unwrap_or_else(|e| die(&e.to_string()));
    let module = Module::new(&engine, WAT).unwrap_or_else(|e| die(&e.to_string()));
    let mut linker = Linker::new(&engine);
    let pend = u32::from(row == "host pending");
    linker
        .func_wrap_async("env", "get", move |_: Caller<'_, ()>, (x,): (i32,)| {
            Box::new(async move {
                Pendings(pend).await;
                x.wrapping_add(1)
            })
        })
        .unwrap_or_else(|e| die(&e.to_string()));
    let mut store = Store::new(&engine, ());
    let instance =
        run(linker.instantiate_async(&mut store, &module)).unwrap_or_else(|e| die(&e.to_string()));
    let empty = instance
        .get_typed_func::<(), ()>(&mut store, "empty")
        .unwrap_or_else(|e| die(&e.to_string()));
    let loop_ = instance
        .get_typed_func::<i32, i32>(&mut store, "run")
        .unwrap_or_else(|e| die(&e.to_string()));
    median(runs, || match row {
        "call" => (0..CALLS).for_each(|_| empty.call(&mut store, ()).unwrap()),
        "call_async" => (0..CALLS).for_each(|_| run(empty.call_async(&mut store, ())).unwrap()),
        _ => assert_eq!(run(loop_.call_async(&mut store, CALLS)).unwrap(), CALLS),
    })
}

/// wasmtime's time for `row`'s batch.
#[cfg(feature = "wasmtime")]
fn wasmtime(row: &str, runs: usize) -> Duration {
    use wasmtime::{Caller, Config, Engine, Linker, Module, Store};
    let config = Config::new();
    let engine = Engine::new(&config).unwrap_or_else(|e| die(&e.to_string()));
    let module = Module::new(&engine, WAT).unwrap_or_else(|e| die(&e.to_string()));
    let mut linker = Linker::new(&engine);
    let pend = u32::from(row == "host pending");
    linker
        .func_wrap_async("env", "get", move |_: Caller<'_, ()>, (x,): (i32,)| {
            Box::new(async move {
                Pendings(pend).await;
                x.wrapping_add(1)
            })
        })
        .unwrap_or_else(|e| die(&e.to_string()));
    let mut store = Store::new(&engine, ());
    let instance =
        run(linker.instantiate_async(&mut store, &module)).unwrap_or_else(|e| die(&e.to_string()));
    let empty = instance
        .get_typed_func::<(), ()>(&mut store, "empty")
        .unwrap_or_else(|e| die(&e.to_string()));
    let loop_ = instance
        .get_typed_func::<i32, i32>(&mut store, "run")
        .unwrap_or_else(|e| die(&e.to_string()));
    // wasmtime refuses synchronous calls in a store that has
    // asynchronous host functions: its `call` row is a store without.
    let mut sync_store = Store::new(&engine, ());
    let sync_instance = {
        let mut sync_linker = Linker::new(&engine);
        sync_linker
            .func_wrap("env", "get", |x: i32| x.wrapping_add(1))
            .unwrap_or_else(|e| die(&e.to_string()));
        sync_linker
            .instantiate(&mut sync_store, &module)
            .unwrap_or_else(|e| die(&e.to_string()))
    };
    let sync_empty = sync_instance
        .get_typed_func::<(), ()>(&mut sync_store, "empty")
        .unwrap_or_else(|e| die(&e.to_string()));
    median(runs, || match row {
        "call" => (0..CALLS).for_each(|_| sync_empty.call(&mut sync_store, ()).unwrap()),
        "call_async" => (0..CALLS).for_each(|_| run(empty.call_async(&mut store, ())).unwrap()),
        _ => assert_eq!(run(loop_.call_async(&mut store, CALLS)).unwrap(), CALLS),
    })
}

fn ns_per_call(d: Duration) -> f64 {
    d.as_secs_f64() * 1e9 / f64::from(CALLS)
}

fn main() {
    let runs = runs_argument();
    println!(
        "{:<14} {:>12} {:>12} {:>8}",
        "row", "walmart ns", "wasmtime ns", "ratio"
    );
    for row in ROWS {
        let w = ns_per_call(walmart(row, runs));
        #[cfg(feature = "wasmtime")]
        {
            let wt = ns_per_call(wasmtime(row, runs));
            println!("{row:<14} {w:>12.1} {wt:>12.1} {:>8.2}", w / wt);
        }
        #[cfg(not(feature = "wasmtime"))]
        println!("{row:<14} {w:>12.1} {:>12} {:>8}", "-", "-");
    }
}
