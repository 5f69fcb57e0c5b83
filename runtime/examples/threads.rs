//! Threads sharing one memory through the embedding API: each thread makes
//! a store of its own, imports the `SharedMemory` and runs Wasm that
//! counts with atomics; the last one to finish wakes the main thread,
//! which waits in the memory like a Wasm thread would.
//!
//! `cargo run --release -p walmart --example threads`

use std::time::Duration;

use walmart::{Engine, Linker, Memory, MemoryType, Module, SharedMemory, Store, Val};

const WAT: &str = r#"(module
    (import "env" "memory" (memory 1 1 shared))
    ;; Adds 1 to the counter at 0, `n` times; then counts itself done at
    ;; 4 and wakes whoever waits there.
    (func (export "work") (param $n i32)
        (loop $again
            (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
            (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
        (drop (i32.atomic.rmw.add (i32.const 4) (i32.const 1)))
        (drop (memory.atomic.notify (i32.const 4) (i32.const 1)))))"#;

const THREADS: u32 = 4;
const EACH: i32 = 100_000;

fn main() -> walmart::Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT)?;
    let shared = SharedMemory::new(&engine, MemoryType::shared(1, 1))?;
    for _ in 0..THREADS {
        let (engine, module, shared) = (engine.clone(), module.clone(), shared.clone());
        std::thread::spawn(move || -> walmart::Result<()> {
            let mut store = Store::new(&engine, ());
            let memory = Memory::from_shared(&mut store, &shared)?;
            let mut linker = Linker::new(&engine);
            linker.define(&mut store, "env", "memory", memory)?;
            let instance = linker.instantiate(&mut store, &module)?;
            let work = instance.get_func(&mut store, "work").expect("exported");
            work.call(&mut store, &[Val::I32(EACH)], &mut [])
        });
    }
    // Wait until all are done: the cell at 4 counts them.
    loop {
        let mut done = [0u8; 4];
        shared.read(4, &mut done)?;
        let done = u32::from_le_bytes(done);
        if done == THREADS {
            break;
        }
        shared.atomic_wait32(4, done, Some(Duration::from_secs(5)))?;
    }
    let mut total = [0u8; 4];
    shared.read(0, &mut total)?;
    println!("{THREADS} threads counted to {}", i32::from_le_bytes(total));
    Ok(())
}
