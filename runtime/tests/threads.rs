//! The threads proposal: atomic instructions, `memory.atomic.wait`/
//! `notify`, and memories shared between threads, each thread with a
//! store of its own.

mod common;

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use walmart::attest::Policy;
use walmart::{Config, Engine, Linker, Memory, MemoryType, Module, SharedMemory, Store, Val};

/// Every atomic family on a shared memory, and the same module's checks.
const ATOMICS: &str = r#"(module
    (memory (export "memory") 1 2 shared)
    ;; A name section: the tag monitor takes a module with names and no
    ;; allocator as one that never allocates.
    (func $no_allocator)
    (func (export "add") (param i32 i64) (result i64) (i64.atomic.rmw.add (local.get 0) (local.get 1)))
    (func (export "sub8") (param i32 i32) (result i32) (i32.atomic.rmw8.sub_u (local.get 0) (local.get 1)))
    (func (export "and16") (param i32 i64) (result i64) (i64.atomic.rmw16.and_u (local.get 0) (local.get 1)))
    (func (export "or32") (param i32 i64) (result i64) (i64.atomic.rmw32.or_u (local.get 0) (local.get 1)))
    (func (export "xor") (param i32 i32) (result i32) (i32.atomic.rmw.xor (local.get 0) (local.get 1)))
    (func (export "xchg16") (param i32 i32) (result i32) (i32.atomic.rmw16.xchg_u (local.get 0) (local.get 1)))
    (func (export "cas") (param i32 i64 i64) (result i64)
        (i64.atomic.rmw.cmpxchg (local.get 0) (local.get 1) (local.get 2)))
    (func (export "cas8") (param i32 i32 i32) (result i32)
        (i32.atomic.rmw8.cmpxchg_u (local.get 0) (local.get 1) (local.get 2)))
    (func (export "store16") (param i32 i64) (i64.atomic.store16 (local.get 0) (local.get 1)))
    (func (export "store_far") (param i32) (i32.atomic.store offset=8 (local.get 0) (i32.const 7)))
    (func (export "load") (param i32) (result i64) (i64.atomic.load (local.get 0)))
    (func (export "load8") (param i32) (result i32) (i32.atomic.load8_u (local.get 0)))
    (func (export "load32") (param i32) (result i64) (i64.atomic.load32_u (local.get 0)))
    (func (export "wait32") (param i32 i32 i64) (result i32)
        (memory.atomic.wait32 (local.get 0) (local.get 1) (local.get 2)))
    (func (export "wait64") (param i32 i64 i64) (result i32)
        (memory.atomic.wait64 (local.get 0) (local.get 1) (local.get 2)))
    (func (export "notify") (param i32 i32) (result i32)
        (memory.atomic.notify (local.get 0) (local.get 1)))
    (func (export "fence") (atomic.fence))
    (func (export "size") (result i32) (memory.size))
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;

/// Atomics on an unshared memory: valid, but waiting traps.
const UNSHARED: &str = r#"(module
    (memory 1)
    (func $no_allocator)
    (func (export "add") (param i32 i32) (result i32) (i32.atomic.rmw.add (local.get 0) (local.get 1)))
    (func (export "wait32") (param i32) (result i32)
        (memory.atomic.wait32 (local.get 0) (i32.const 0) (i64.const 0)))
    (func (export "notify") (param i32) (result i32)
        (memory.atomic.notify (local.get 0) (i32.const 1))))"#;

fn call<T>(
    store: &mut Store<T>,
    instance: &walmart::Instance,
    name: &str,
    args: &[Val],
) -> Result<Option<Val>, String> {
    let f = instance.get_func(&mut *store, name).unwrap();
    let n = f.ty(&*store).results().len();
    let mut out = vec![Val::I32(0); n];
    // The trap's line, without the backtrace.
    f.call(&mut *store, args, &mut out)
        .map_err(|e| e.to_string().lines().next().unwrap_or("").to_string())?;
    Ok(out.first().cloned())
}

fn i32s(v: &[i32]) -> Vec<Val> {
    v.iter().map(|x| Val::I32(*x)).collect()
}

#[test]
fn atomic_instructions_follow_the_proposal_under_every_policy() {
    for (name, config) in common::policy_configs(true) {
        let (mut store, instance) = common::instantiated(&config, ATOMICS);
        let mut run = |f: &str, args: Vec<Val>| call(&mut store, &instance, f, &args);
        let at = |a: i32| Val::I32(a);
        // Read-modify-writes answer the old value, zero-extended, and
        // write only their width.
        assert_eq!(
            run("add", vec![at(0), Val::I64(-1)]),
            Ok(Some(Val::I64(0))),
            "{name}"
        );
        assert_eq!(
            run("add", vec![at(0), Val::I64(2)]),
            Ok(Some(Val::I64(-1))),
            "{name}"
        );
        assert_eq!(run("load", vec![at(0)]), Ok(Some(Val::I64(1))), "{name}");
        assert_eq!(run("sub8", i32s(&[0, 2])), Ok(Some(Val::I32(1))), "{name}");
        assert_eq!(run("load", vec![at(0)]), Ok(Some(Val::I64(0xff))), "{name}");
        assert_eq!(
            run("store16", vec![at(8), Val::I64(0x1_2345)]),
            Ok(None),
            "{name}"
        );
        assert_eq!(
            run("and16", vec![at(8), Val::I64(0xff0f)]),
            Ok(Some(Val::I64(0x2345))),
            "{name}"
        );
        assert_eq!(
            run("load", vec![at(8)]),
            Ok(Some(Val::I64(0x2305))),
            "{name}"
        );
        assert_eq!(
            run("or32", vec![at(8), Val::I64(0x1_8000_0000)]),
            Ok(Some(Val::I64(0x2305))),
            "{name}"
        );
        assert_eq!(
            run("load32", vec![at(8)]),
            Ok(Some(Val::I64(0x8000_2305))),
            "{name}"
        );
        assert_eq!(
            run("xor", i32s(&[8, -1])),
            Ok(Some(Val::I32(0x8000_2305u32 as i32))),
            "{name}"
        );
        assert_eq!(
            run("xchg16", i32s(&[8, 0x1_0042])),
            Ok(Some(Val::I32(0xdcfa))),
            "{name}"
        );
        assert_eq!(
            run("load32", vec![at(8)]),
            Ok(Some(Val::I64(0x7fff_0042))),
            "{name}"
        );
        // Compare-exchange writes only on a match.
        assert_eq!(
            run("cas", vec![at(16), Val::I64(1), Val::I64(5)]),
            Ok(Some(Val::I64(0))),
            "{name}"
        );
        assert_eq!(run("load", vec![at(16)]), Ok(Some(Val::I64(0))), "{name}");
        assert_eq!(
            run("cas", vec![at(16), Val::I64(0), Val::I64(5)]),
            Ok(Some(Val::I64(0))),
            "{name}"
        );
        assert_eq!(run("load", vec![at(16)]), Ok(Some(Val::I64(5))), "{name}");
        // A narrow one compares the low bits of its expected value only.
        assert_eq!(
            run("cas8", i32s(&[16, 0x105, 9])),
            Ok(Some(Val::I32(5))),
            "{name}"
        );
        assert_eq!(run("load8", vec![at(16)]), Ok(Some(Val::I32(9))), "{name}");
        assert_eq!(run("fence", vec![]), Ok(None), "{name}");
        // Alignment of the effective address (offset included), then
        // bounds.
        let unaligned = Err("wasm trap: unaligned atomic".to_string());
        let oob = Err("wasm trap: out of bounds memory access".to_string());
        assert_eq!(run("add", vec![at(4), Val::I64(1)]), unaligned, "{name}");
        assert_eq!(run("store_far", vec![at(2)]), unaligned, "{name}");
        assert_eq!(run("add", vec![at(65536), Val::I64(1)]), oob, "{name}");
        assert_eq!(run("add", vec![at(-8), Val::I64(1)]), oob, "{name}");
        assert_eq!(run("store_far", vec![at(65532)]), oob, "{name}");
        assert_eq!(run("load8", vec![at(65536)]), oob, "{name}");
        assert_eq!(run("notify", i32s(&[65536, 1])), oob, "{name}");
        assert_eq!(
            run("wait32", vec![at(-4), at(0), Val::I64(0)]),
            oob,
            "{name}"
        );
        assert_eq!(
            run("wait64", vec![at(4), Val::I64(0), Val::I64(0)]),
            unaligned,
            "{name}"
        );
        // Nobody waits; a cell that differs answers "not equal" at once;
        // one that holds the value sleeps the timeout out.
        assert_eq!(
            run("notify", i32s(&[0, 10])),
            Ok(Some(Val::I32(0))),
            "{name}"
        );
        assert_eq!(
            run("wait32", vec![at(16), at(0), Val::I64(-1)]),
            Ok(Some(Val::I32(1))),
            "{name}"
        );
        let start = Instant::now();
        assert_eq!(
            run("wait64", vec![at(24), Val::I64(0), Val::I64(20_000_000)]),
            Ok(Some(Val::I32(2))),
            "{name}"
        );
        assert!(start.elapsed() >= Duration::from_millis(20), "{name}");
        // Growth to the maximum and no further.
        assert_eq!(run("grow", i32s(&[1])), Ok(Some(Val::I32(1))), "{name}");
        assert_eq!(run("grow", i32s(&[1])), Ok(Some(Val::I32(-1))), "{name}");
        assert_eq!(run("size", vec![]), Ok(Some(Val::I32(2))), "{name}");
        assert_eq!(
            run("add", vec![at(65536), Val::I64(1)]),
            Ok(Some(Val::I64(0))),
            "{name}"
        );

        let (mut store, instance) = common::instantiated(&config, UNSHARED);
        let mut run = |f: &str, args: Vec<Val>| call(&mut store, &instance, f, &args);
        assert_eq!(run("add", i32s(&[4, 3])), Ok(Some(Val::I32(0))), "{name}");
        assert_eq!(run("add", i32s(&[4, 3])), Ok(Some(Val::I32(3))), "{name}");
        assert_eq!(run("notify", i32s(&[4])), Ok(Some(Val::I32(0))), "{name}");
        assert_eq!(run("notify", i32s(&[2])), unaligned, "{name}");
        assert_eq!(
            run("wait32", i32s(&[4])),
            Err("wasm trap: atomic wait on non-shared memory".to_string()),
            "{name}"
        );
        assert_eq!(run("wait32", i32s(&[65536])), oob, "{name}");
    }
}

/// Imports the shared memory; counts, waits and wakes on it.
const WORKER: &str = r#"(module
    (import "env" "memory" (memory 1 4 shared))
    ;; Adds 1 to the counter at 0, `n` times, and to the one at 4 with a
    ;; compare-exchange loop.
    (func (export "count") (param $n i32)
        (local $old i32)
        (loop $again
            (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
            (block $done
                (loop $retry
                    (local.set $old (i32.atomic.load (i32.const 4)))
                    (br_if $done (i32.eq
                        (i32.atomic.rmw.cmpxchg (i32.const 4) (local.get $old)
                            (i32.add (local.get $old) (i32.const 1)))
                        (local.get $old)))
                    (br $retry)))
            (local.tee $n (i32.sub (local.get $n) (i32.const 1)))
            (br_if $again)))
    (func (export "wait") (param $at i32) (result i32)
        (memory.atomic.wait32 (local.get $at) (i32.const 0) (i64.const -1)))
    (func (export "set_and_notify") (param $at i32) (result i32)
        (i32.atomic.store (local.get $at) (i32.const 1))
        (memory.atomic.notify (local.get $at) (i32.const 1)))
    (func (export "get") (param $at i32) (result i32) (i32.atomic.load (local.get $at)))
    (func (export "size") (result i32) (memory.size))
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;

/// A store of its own on this thread, with `shared` imported.
fn worker(
    engine: &Engine,
    module: &Module,
    shared: &SharedMemory,
) -> (Store<()>, walmart::Instance) {
    let mut store = Store::new(engine, ());
    let memory = Memory::from_shared(&mut store, shared).unwrap();
    let mut linker = Linker::new(engine);
    linker.define(&mut store, "env", "memory", memory).unwrap();
    let instance = linker.instantiate(&mut store, module).unwrap();
    (store, instance)
}

#[test]
fn threads_share_a_memory_each_with_its_own_store() {
    for guarded in [true, false] {
        let mut config = Config::new();
        config.guarded_memory(guarded);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, WORKER).unwrap();
        let shared = SharedMemory::new(&engine, MemoryType::shared(1, 4)).unwrap();

        // Four threads count at once: no increment is lost.
        const THREADS: i32 = 4;
        const EACH: i32 = 20_000;
        let start = Arc::new(Barrier::new(THREADS as usize));
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let (engine, module, shared, start) = (
                    engine.clone(),
                    module.clone(),
                    shared.clone(),
                    start.clone(),
                );
                std::thread::spawn(move || {
                    let (mut store, instance) = worker(&engine, &module, &shared);
                    start.wait();
                    call(&mut store, &instance, "count", &i32s(&[EACH])).unwrap();
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let mut cells = [0u8; 8];
        shared.read(0, &mut cells).unwrap();
        let total = THREADS * EACH;
        assert_eq!(i32::from_le_bytes(cells[..4].try_into().unwrap()), total);
        assert_eq!(i32::from_le_bytes(cells[4..].try_into().unwrap()), total);

        // A thread waits with no timeout until another thread's Wasm sets
        // the cell and notifies it.
        let waiter = {
            let (engine, module, shared) = (engine.clone(), module.clone(), shared.clone());
            std::thread::spawn(move || {
                let (mut store, instance) = worker(&engine, &module, &shared);
                call(&mut store, &instance, "wait", &i32s(&[64])).unwrap()
            })
        };
        let (mut store, instance) = worker(&engine, &module, &shared);
        // Notify until the waiter was there to be woken (it may not have
        // begun to wait yet).
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let woke = call(&mut store, &instance, "set_and_notify", &i32s(&[64])).unwrap();
            if woke == Some(Val::I32(1)) {
                break;
            }
            if waiter.is_finished() {
                break;
            }
            assert!(Instant::now() < deadline, "the waiter never waited");
            // Undo the store so a waiter that has not yet compared waits.
            shared.write(64, &[0; 4]).unwrap();
            std::thread::sleep(Duration::from_millis(1));
        }
        // 0: woken; 1: it compared after the store (also a correct run).
        let answer = waiter.join().unwrap();
        assert!(matches!(answer, Some(Val::I32(0 | 1))), "{answer:?}");

        // The host waits and another thread's Wasm wakes it.
        let host_wait = {
            let shared = shared.clone();
            std::thread::spawn(move || shared.atomic_wait32(128, 0, Some(Duration::from_secs(30))))
        };
        loop {
            let woke = call(&mut store, &instance, "set_and_notify", &i32s(&[128])).unwrap();
            if woke == Some(Val::I32(1)) || host_wait.is_finished() {
                break;
            }
            shared.write(128, &[0; 4]).unwrap();
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(matches!(host_wait.join().unwrap(), Ok(0 | 1)));

        // Growth in one store shows in another thread's.
        assert_eq!(
            call(&mut store, &instance, "grow", &i32s(&[2])).unwrap(),
            Some(Val::I32(1))
        );
        let seen = {
            let (engine, module, shared) = (engine.clone(), module.clone(), shared.clone());
            std::thread::spawn(move || {
                let (mut store, instance) = worker(&engine, &module, &shared);
                let size = call(&mut store, &instance, "size", &[]).unwrap();
                // A cell in the new pages.
                let cell = call(&mut store, &instance, "get", &i32s(&[3 * 65536 - 4])).unwrap();
                (size, cell)
            })
            .join()
            .unwrap()
        };
        assert_eq!(seen, (Some(Val::I32(3)), Some(Val::I32(0))));
        assert_eq!(shared.size(), 3);
        assert_eq!(shared.grow(1).unwrap(), 3);
        assert!(shared.grow(1).is_err());
        assert_eq!(
            call(&mut store, &instance, "size", &[]).unwrap(),
            Some(Val::I32(4))
        );
        // The host's checks.
        assert!(shared.atomic_notify(2, 1).is_err());
        assert!(shared.atomic_notify(4 * 65536, 1).is_err());
        assert_eq!(shared.atomic_notify(0, 1).unwrap(), 0);
        assert_eq!(shared.atomic_wait32(0, 0, Some(Duration::ZERO)).unwrap(), 1);
        assert!(shared.read(4 * 65536 - 2, &mut [0; 4]).is_err());
    }
}

#[test]
fn shared_memories_are_refused_where_they_do_not_fit() {
    let engine = Engine::default();
    // Not a shared type.
    let e = SharedMemory::new(&engine, MemoryType::new(1, Some(2))).unwrap_err();
    assert!(e.to_string().contains("shared memory type"), "{e}");
    // An attesting engine's stores would not see other threads' writes.
    for policy in [Policy::Coarse, Policy::Fine, Policy::Tags] {
        let mut config = Config::new();
        config.attest(policy);
        let attesting = Engine::new(&config).unwrap();
        let e = SharedMemory::new(&attesting, MemoryType::shared(1, 2)).unwrap_err();
        assert!(e.to_string().contains("cannot be attested"), "{e}");
        let shared = SharedMemory::new(&engine, MemoryType::shared(1, 2)).unwrap();
        let mut store = Store::new(&attesting, ());
        let e = Memory::from_shared(&mut store, &shared).unwrap_err();
        assert!(e.to_string().contains("cannot be attested"), "{e}");
        // Its module's own shared memory stays the store's.
        let (mut store, instance) = common::instantiated(&config, ATOMICS);
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        assert!(memory.shared(&store).is_none());
        assert!(memory.ty(&store).is_shared());
    }
    // Code compiled for guarded memories needs a guarded one.
    let mut config = Config::new();
    config.guarded_memory(false);
    let unguarded =
        SharedMemory::new(&Engine::new(&config).unwrap(), MemoryType::shared(1, 2)).unwrap();
    let mut store = Store::new(&engine, ());
    let e = Memory::from_shared(&mut store, &unguarded).unwrap_err();
    assert!(e.to_string().contains("guarded"), "{e}");
    // A shared import takes a shared memory only, and an unshared import
    // an unshared one.
    let shared = SharedMemory::new(&engine, MemoryType::shared(1, 4)).unwrap();
    let module = Module::new(&engine, WORKER).unwrap();
    let plain = Memory::new(&mut store, MemoryType::new(1, Some(4))).unwrap();
    let mut linker = Linker::new(&engine);
    linker.define(&mut store, "env", "memory", plain).unwrap();
    assert!(linker.instantiate(&mut store, &module).is_err());
    let unshared_import =
        Module::new(&engine, r#"(module (import "env" "memory" (memory 1 4)))"#).unwrap();
    let memory = Memory::from_shared(&mut store, &shared).unwrap();
    linker.allow_shadowing(true);
    linker.define(&mut store, "env", "memory", memory).unwrap();
    assert!(linker.instantiate(&mut store, &unshared_import).is_err());
    linker.instantiate(&mut store, &module).unwrap();
    // A module's own shared memory, shared on.
    let (mut store, instance) = common::instantiated(&Config::new(), ATOMICS);
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    let shared = memory.shared(&store).unwrap();
    shared.write(40, &[7]).unwrap();
    assert_eq!(
        call(&mut store, &instance, "load8", &i32s(&[40])).unwrap(),
        Some(Val::I32(7))
    );
    // Without the proposal, neither atomics nor shared memories compile.
    let mut config = Config::new();
    config.wasm_threads(false);
    let engine = Engine::new(&config).unwrap();
    let e = Module::new(&engine, ATOMICS).unwrap_err();
    assert!(e.to_string().contains("threads"), "{e}");
}

/// Sleeps with `poll_oneoff`, and reads the clock.
const SLEEPER: &str = r#"(module
    (import "wasi_snapshot_preview1" "poll_oneoff"
        (func $poll (param i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "clock_time_get"
        (func $time (param i32 i64 i32) (result i32)))
    (memory (export "memory") 1)
    ;; One clock subscription: userdata, tag 0, monotonic clock, `ns`
    ;; from now.
    (func (export "sleep") (param $ns i64) (result i32)
        (i64.store (i32.const 0) (i64.const 42))
        (i32.store8 (i32.const 8) (i32.const 0))
        (i32.store (i32.const 16) (i32.const 1))
        (i64.store (i32.const 24) (local.get $ns))
        (i64.store (i32.const 32) (i64.const 0))
        (i32.store16 (i32.const 40) (i32.const 0))
        (call $poll (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200)))
    (func (export "now") (result i32)
        (call $time (i32.const 1) (i64.const 0) (i32.const 300))))"#;

#[test]
fn a_shared_wasi_context_is_not_held_while_a_thread_sleeps() {
    use walmart::wasi::{self, WasiCtx};
    let engine = Engine::default();
    let module = Module::new(&engine, SLEEPER).unwrap();
    let instantiate = |ctx: WasiCtx| {
        let mut store = Store::new(&engine, ctx);
        let mut linker = Linker::new(&engine);
        wasi::add_to_linker(&mut linker, |ctx| ctx).unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        (store, instance)
    };
    let ctx = WasiCtx::new().into_shared();
    let other = ctx.share().expect("a shared context shares");
    assert!(WasiCtx::new().share().is_none());
    let sleeper = std::thread::scope(|scope| {
        let sleeper = scope.spawn(|| {
            let (mut store, instance) = instantiate(other);
            let start = Instant::now();
            let r = call(&mut store, &instance, "sleep", &[Val::I64(1_500_000_000)]).unwrap();
            (r, start.elapsed())
        });
        std::thread::sleep(Duration::from_millis(200));
        // Another thread's call on the same context goes through while
        // the first sleeps.
        let (mut store, instance) = instantiate(ctx);
        let start = Instant::now();
        assert_eq!(
            call(&mut store, &instance, "now", &[]).unwrap(),
            Some(Val::I32(0))
        );
        assert!(
            start.elapsed() < Duration::from_millis(700),
            "{:?}",
            start.elapsed()
        );
        sleeper.join().unwrap()
    });
    assert_eq!(sleeper.0, Some(Val::I32(0)));
    assert!(sleeper.1 >= Duration::from_millis(1500), "{:?}", sleeper.1);
}

#[test]
fn a_store_has_one_handle_per_shared_memory_and_no_slice_of_it() {
    let engine = Engine::default();
    let shared = SharedMemory::new(&engine, MemoryType::shared(2, 3)).unwrap();
    let mut store = Store::new(&engine, ());
    let a = Memory::from_shared(&mut store, &shared).unwrap();
    let b = Memory::from_shared(&mut store, &shared).unwrap();
    // A module importing it twice (two memories) gets the one memory:
    // `memory.copy` between them is a copy within one memory.
    assert_eq!(a, b);
    assert_eq!(a.data_size(&store), 2 * 65536);
    assert_eq!(a.size(&store), 2);
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "a" (memory $a 2 3 shared))
            (import "env" "b" (memory $b 2 3 shared))
            (func (export "copy") (param i32 i32 i32)
                (memory.copy $b $a (local.get 0) (local.get 1) (local.get 2))))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker.define(&mut store, "env", "a", a).unwrap();
    linker.define(&mut store, "env", "b", b).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    a.write(&mut store, 0, b"0123456789").unwrap();
    call(&mut store, &instance, "copy", &i32s(&[2, 0, 8])).unwrap();
    let mut got = [0u8; 10];
    a.read(&store, 0, &mut got).unwrap();
    assert_eq!(&got, b"0101234567");
    shared.read(0, &mut got).unwrap();
    assert_eq!(&got, b"0101234567");
    // Another holder could write it from another thread: no slice.
    let sliced = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| a.data(&store).len()));
    assert!(sliced.is_err());
    // The host waits on 64-bit cells too.
    assert_eq!(shared.atomic_wait64(8, 0, Some(Duration::ZERO)).unwrap(), 1);
    assert_eq!(
        shared
            .atomic_wait64(16, 0, Some(Duration::from_millis(5)))
            .unwrap(),
        2
    );
    assert!(shared.atomic_wait64(4, 0, Some(Duration::ZERO)).is_err());
    // A module's own shared memory that nobody else holds is sliced as
    // any memory.
    let (mut store, instance) = common::instantiated(&Config::new(), ATOMICS);
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    assert_eq!(memory.data(&store).len(), 65536);
    memory.data_mut(&mut store)[0] = 1;
}
