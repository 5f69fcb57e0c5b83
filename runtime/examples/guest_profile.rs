//! Profiling a guest from an embedding: a thread moves the engine's epoch
//! every millisecond, the store's epoch callback samples the Wasm stack,
//! and the profile is written for <https://profiler.firefox.com/>. A
//! host function also takes a backtrace of the Wasm that called it.
//!
//! `cargo run -p walmart --example guest_profile`

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use walmart::{
    Caller, Config, Engine, GuestProfiler, Linker, Module, Store, UpdateDeadline, WasmBacktrace,
};

const WAT: &str = r#"(module $example
  (import "host" "report" (func $report (param i32)))
  (func $fib (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func $work (export "work") (param i32)
    (call $report (call $fib (local.get 0)))))"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, WAT)?;

    let interval = Duration::from_millis(1);
    let profiler = GuestProfiler::new("example", interval, [("example".into(), module.clone())])?;
    let profiler = Arc::new(Mutex::new(profiler));

    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "report", |caller: Caller<'_, ()>, n: i32| {
        // The frames that called this host function, innermost first.
        let bt = WasmBacktrace::capture(&caller);
        println!("fib = {n}, reported from:\n{bt}");
    })?;

    let mut store = Store::new(&engine, ());
    let feed = profiler.clone();
    let mut last = Instant::now();
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |store| {
        let now = Instant::now();
        feed.lock().unwrap().sample(&*store, now - last);
        last = now;
        Ok(UpdateDeadline::Continue(1))
    });

    let stop = Arc::new(AtomicBool::new(false));
    let ticker = {
        let (engine, stop) = (engine.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(interval);
                engine.increment_epoch();
            }
        })
    };
    let instance = linker.instantiate(&mut store, &module)?;
    let work = instance.get_typed_func::<i32, ()>(&mut store, "work")?;
    work.call(&mut store, 32)?;
    stop.store(true, Ordering::Relaxed);
    ticker.join().unwrap();

    // The store's callback holds the other reference.
    drop(store);
    let profiler = Arc::try_unwrap(profiler)
        .map_err(|_| "the profiler is still shared")?
        .into_inner()?;
    println!("{} samples", profiler.samples());
    let path = std::env::temp_dir().join("walmart-example-profile.json");
    profiler.finish(std::fs::File::create(&path)?)?;
    println!("profile written to {}", path.display());
    Ok(())
}
