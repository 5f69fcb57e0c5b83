//! Embedding walmart in an asynchronous host (tokio): a host function that
//! awaits (a timer standing in for a database), a guest called back from
//! it with `call_async`, and a long computation that yields to other tasks
//! at epoch deadlines. Each task's calls may move between the runtime's
//! threads at every await.
//!
//! `cargo run -p walmart --example embed_async`

use std::time::Duration;

use walmart::{Caller, Config, Engine, Linker, Module, Store};

const GUEST: &str = r#"(module
    (import "db" "lookup" (func $lookup (param i32) (result i32)))
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    ;; A bump allocator the host calls back for room.
    (func (export "alloc") (param i32) (result i32)
        (global.get $next)
        (global.set $next (i32.add (global.get $next) (local.get 0))))
    ;; Sums the looked-up values of keys 0..n.
    (func (export "sum") (param $n i32) (result i32)
        (local $i i32) (local $acc i32)
        (block $done (loop $l
            (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $acc (i32.add (local.get $acc) (call $lookup (local.get $i))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $l)))
        (local.get $acc))
    ;; Spins for a while: yields at every epoch deadline.
    (func (export "spin") (param $n i32) (result i32)
        (local $i i32)
        (loop $l
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (local.get $i)))"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = Config::new();
    config.async_support(true).epoch_interruption(true);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, GUEST)?;

    let mut linker: Linker<u32> = Linker::new(&engine);
    // `db::lookup(key)` waits on a timer, asks the guest for 4 bytes of
    // room (a call back into Wasm, nested in this one), writes the value
    // there, and returns it.
    linker.func_wrap_async(
        "db",
        "lookup",
        |mut caller: Caller<'_, u32>, (key,): (i32,)| {
            Box::new(async move {
                tokio::time::sleep(Duration::from_millis(1)).await;
                *caller.data_mut() += 1;
                let alloc = caller
                    .get_export("alloc")
                    .and_then(|e| e.into_func())
                    .ok_or_else(|| walmart::Error::Usage("no `alloc` export".into()))?
                    .typed::<i32, i32>(&caller)?;
                let at = alloc.call_async(&mut caller, 4).await?;
                let value = key * 10;
                let memory = caller
                    .get_export("memory")
                    .and_then(|e| e.into_memory())
                    .ok_or_else(|| walmart::Error::Usage("no `memory` export".into()))?;
                memory.write(&mut caller, at as usize, &value.to_le_bytes())?;
                Ok::<_, walmart::Error>(value)
            })
        },
    )?;
    let pre = linker.instantiate_pre(&module)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()?;
    runtime.block_on(async {
        // The epoch moves every millisecond.
        let ticker = {
            let engine = engine.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    engine.increment_epoch();
                }
            })
        };
        let tasks: Vec<_> = (0..4)
            .map(|task| {
                let pre = pre.clone();
                tokio::spawn(async move {
                    let mut store = Store::new(pre.module().engine(), 0u32);
                    store.set_epoch_deadline(1);
                    store.epoch_deadline_async_yield_and_update(1);
                    let instance = pre.instantiate_async(&mut store).await?;
                    let sum = instance.get_typed_func::<i32, i32>(&mut store, "sum")?;
                    let spin = instance.get_typed_func::<i32, i32>(&mut store, "spin")?;
                    let total = sum.call_async(&mut store, 5 + task).await?;
                    let spun = spin.call_async(&mut store, 50_000_000).await?;
                    println!(
                        "task {task}: sum {total} from {} lookups, spun {spun}",
                        store.data()
                    );
                    Ok::<_, walmart::Error>(())
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("the task panicked")?;
        }
        ticker.abort();
        Ok::<_, walmart::Error>(())
    })?;
    Ok(())
}
