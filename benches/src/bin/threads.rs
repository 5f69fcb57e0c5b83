//! Threads sharing a memory, walmart and wasmtime side by side.
//!
//! `cargo run --release -p walmart-benches --bin threads [--features wasmtime] [-- --runs N]`
//!
//! Two threads, each with a store and an instance of one module that
//! imports a shared memory:
//!
//! * `count`: both add 1 to one cell 2,000,000 times with
//!   `i32.atomic.rmw.add` (contended atomics: the generated code's cost);
//! * `ping-pong`: they take turns 20,000 times, each waiting with
//!   `memory.atomic.wait32` until the other's turn ends and waking it with
//!   `memory.atomic.notify` (the cost of a wait and a wake-up).
//!
//! Prints the median of `--runs` rounds (default 9, after one warm-up),
//! the engines' rounds alternating; each round makes its stores and
//! instances, then times the two threads from a barrier to the last
//! one's end.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use walmart_benches::{die, ms, runs_argument};

const MODULE: &str = r#"(module
    (import "env" "memory" (memory 1 1 shared))
    (func (export "count") (param $n i32) (param $unused i32)
        (loop $again
            (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
            (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
    ;; Turn `me` of two, `n` times: wait while the cell at 64 is not
    ;; `me`, then hand the turn over and wake the other.
    (func (export "ping_pong") (param $n i32) (param $me i32)
        (local $turn i32)
        (loop $round
            (block $mine
                (loop $wait
                    (local.set $turn (i32.atomic.load (i32.const 64)))
                    (br_if $mine (i32.eq (local.get $turn) (local.get $me)))
                    (drop (memory.atomic.wait32 (i32.const 64) (local.get $turn) (i64.const -1)))
                    (br $wait)))
            (i32.atomic.store (i32.const 64) (i32.sub (i32.const 1) (local.get $me)))
            (drop (memory.atomic.notify (i32.const 64) (i32.const 1)))
            (br_if $round (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
    (func (export "reset") (i32.atomic.store (i32.const 0) (i32.const 0))
        (i32.atomic.store (i32.const 64) (i32.const 0)))
    (func (export "get") (result i32) (i32.atomic.load (i32.const 0))))"#;

const COUNT: i32 = 2_000_000;
const ROUNDS: i32 = 20_000;

/// One round: two threads run `export(n, thread)` on their instances,
/// timed from a barrier; `setup` makes a thread's caller (store and
/// instance), in that thread.
fn two_threads<C: FnMut(i32, i32) + 'static>(
    setup: impl Fn() -> C + Send + Sync + 'static,
    n: i32,
) -> Duration {
    let setup = Arc::new(setup);
    let start = Arc::new(Barrier::new(3));
    let handles: Vec<_> = (0..2)
        .map(|me| {
            let (setup, start) = (setup.clone(), start.clone());
            std::thread::spawn(move || {
                let mut call = setup();
                start.wait();
                call(n, me);
            })
        })
        .collect();
    start.wait();
    let t = Instant::now();
    for h in handles {
        h.join()
            .unwrap_or_else(|_| die("a benchmark thread panicked"));
    }
    t.elapsed()
}

fn walmart_round(export: &'static str, n: i32) -> Duration {
    use walmart::{Engine, Linker, Memory, MemoryType, Module, SharedMemory, Store, Val};
    let engine = Engine::default();
    let module = Module::new(&engine, MODULE).unwrap_or_else(|e| die(&e.to_string()));
    let shared = SharedMemory::new(&engine, MemoryType::shared(1, 1))
        .unwrap_or_else(|e| die(&e.to_string()));
    let (e, m, s) = (engine.clone(), module.clone(), shared.clone());
    let took = two_threads(
        move || {
            let mut store = Store::new(&e, ());
            let memory = Memory::from_shared(&mut store, &s).unwrap();
            let mut linker = Linker::new(&e);
            linker.define(&mut store, "env", "memory", memory).unwrap();
            let instance = linker.instantiate(&mut store, &m).unwrap();
            let f = instance.get_func(&mut store, export).unwrap();
            move |n, me| {
                f.call(&mut store, &[Val::I32(n), Val::I32(me)], &mut [])
                    .unwrap_or_else(|e| die(&format!("walmart: {e}")))
            }
        },
        n,
    );
    let mut cell = [0u8; 4];
    shared.read(0, &mut cell).unwrap();
    if export == "count" && i32::from_le_bytes(cell) != 2 * n {
        die("walmart: an increment was lost");
    }
    took
}

#[cfg(feature = "wasmtime")]
fn wasmtime_round(export: &'static str, n: i32) -> Duration {
    use wasmtime::{Config, Engine, Linker, MemoryType, Module, SharedMemory, Store};
    let mut config = Config::new();
    config.wasm_threads(true).shared_memory(true);
    let engine = Engine::new(&config).unwrap_or_else(|e| die(&e.to_string()));
    let module = Module::new(&engine, MODULE).unwrap_or_else(|e| die(&e.to_string()));
    let shared = SharedMemory::new(&engine, MemoryType::shared(1, 1))
        .unwrap_or_else(|e| die(&e.to_string()));
    let (e, m, s) = (engine.clone(), module.clone(), shared.clone());
    let took = two_threads(
        move || {
            let mut store = Store::new(&e, ());
            let mut linker = Linker::new(&e);
            linker
                .define(&mut store, "env", "memory", s.clone())
                .unwrap();
            let instance = linker.instantiate(&mut store, &m).unwrap();
            let f = instance
                .get_typed_func::<(i32, i32), ()>(&mut store, export)
                .unwrap();
            move |n, me| {
                f.call(&mut store, (n, me))
                    .unwrap_or_else(|e| die(&format!("wasmtime: {e}")))
            }
        },
        n,
    );
    // SAFETY: both threads have ended.
    let cell: Vec<u8> = shared.data()[..4]
        .iter()
        .map(|c| unsafe { *c.get() })
        .collect();
    if export == "count" && i32::from_le_bytes(cell.try_into().unwrap()) != 2 * n {
        die("wasmtime: an increment was lost");
    }
    took
}

/// The median of `runs` rounds, after one warm-up.
fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let runs = runs_argument();
    println!("workload      walmart ms  wasmtime ms  walmart/wasmtime");
    for (name, export, n) in [
        ("count", "count", COUNT),
        ("ping-pong", "ping_pong", ROUNDS),
    ] {
        // The engines' rounds alternate, so the machine's drift falls on
        // both alike; the first of each is a warm-up.
        let mut w = Vec::new();
        #[cfg_attr(not(feature = "wasmtime"), allow(unused_mut))]
        let mut t: Vec<Duration> = Vec::new();
        for i in 0..=runs {
            let took = walmart_round(export, n);
            if i > 0 {
                w.push(took);
            }
            #[cfg(feature = "wasmtime")]
            {
                let took = wasmtime_round(export, n);
                if i > 0 {
                    t.push(took);
                }
            }
        }
        let w = median(w);
        if t.is_empty() {
            println!("{name:<12} {:>11.2} {:>12} {:>17}", ms(w), "-", "-");
        } else {
            let t = median(t);
            println!(
                "{name:<12} {:>11.2} {:>12.2} {:>17.3}",
                ms(w),
                ms(t),
                ms(w) / ms(t)
            );
        }
    }
}
