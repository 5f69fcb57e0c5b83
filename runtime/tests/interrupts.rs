//! Bounding a guest's run: fuel (`Config::consume_fuel`, counted per
//! operator, bulk operators per unit) and epoch deadlines
//! (`Config::epoch_interruption`, with a trap or the embedder's callback),
//! under every policy.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use walmart::{
    Caller, Config, Engine, Error, FuncType, Linker, Module, Store, TrapKind, UpdateDeadline, Val,
    ValType,
};

const WAT: &str = r#"(module
    (import "host" "fuel" (func $fuel (result i64)))
    (memory (export "mem") 1)
    (func (export "spin") (loop $l (br $l)))
    (func $rec (export "tail_forever") (return_call $rec))
    (func $deep (export "deep") (param i32) (result i32)
        (if (result i32) (local.get 0)
            (then (call $deep (i32.sub (local.get 0) (i32.const 1))))
            (else (i32.const 0))))
    ;; 9 units an iteration, 4 for the last test, 1 for the result and 1
    ;; for the call: 9n + 6.
    (func (export "count") (param $n i32) (result i32)
        (local $i i32)
        (block $done
            (loop $l
                (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $l)))
        (local.get $i))
    ;; The host is called after 5 units (the call's, 3, and the host
    ;; call's).
    (func (export "ask") (result i64)
        (drop (i32.add (i32.const 1) (i32.const 2)))
        (call $fuel))
;; 4 units, counted as the trap comes.
    (func (export "boom") (drop (i32.add (i32.const 1) (i32.const 2))) unreachable)
    ;; 5 units and one a byte.
    (func (export "fill") (param $n i32)
        (memory.fill (i32.const 0) (i32.const 7) (local.get $n)))
)"#;

/// `WAT` instantiated under `config`, its host function answering the
/// fuel left.
fn instantiate(config: &Config) -> (Store<()>, walmart::Instance) {
    let engine = Engine::new(config).unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker
        .func_new(
            "host",
            "fuel",
            FuncType::new([], [ValType::I64]),
            |caller: Caller<'_, ()>, _, results| {
                results[0] = Val::I64(caller.get_fuel()? as i64);
                Ok(())
            },
        )
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    (store, instance)
}

/// The trap a call ended with, or a panic naming what it got instead.
fn trap_of(result: Result<Val, walmart::Error>) -> TrapKind {
    match result {
        Err(Error::Trap(t)) => t.kind(),
        other => panic!("expected a trap, got {other:?}"),
    }
}

/// Calls export `name` with `args`: its first result (`i32` 0 without).
fn call(
    store: &mut Store<()>,
    instance: &walmart::Instance,
    name: &str,
    args: &[Val],
) -> Result<Val, walmart::Error> {
    let f = instance.get_func(&mut *store, name).expect(name);
    let mut out = vec![Val::I32(0); f.ty(&*store).results().len()];
    f.call(&mut *store, args, &mut out)?;
    Ok(out.first().cloned().unwrap_or(Val::I32(0)))
}

#[test]
fn fuel_counts_each_operator_under_every_policy() {
    // With epoch checks beside the fuel's too: the counts must not move.
    let both = common::policy_configs(true)
        .into_iter()
        .flat_map(|(name, config)| [(name, config.clone(), false), (name, config, true)]);
    for (name, mut config, epochs) in both {
        config.consume_fuel(true).epoch_interruption(epochs);
        let (mut store, inst) = instantiate(&config);
        store.set_epoch_deadline(1000);
        for n in [0u32, 1, 100, 12345] {
            store.set_fuel(1_000_000).unwrap();
            let r = call(&mut store, &inst, "count", &[Val::I32(n as i32)]).unwrap();
            assert_eq!(r, Val::I32(n as i32), "{name}");
            let spent = 1_000_000 - store.get_fuel().unwrap();
            assert_eq!(spent, 9 * u64::from(n) + 6, "{name}: count({n})");
        }
        // What the host reads is what was left as it was called.
        store.set_fuel(500).unwrap();
        let seen = call(&mut store, &inst, "ask", &[]).unwrap();
        assert_eq!(seen, Val::I64(495), "{name}");
        assert_eq!(store.get_fuel().unwrap(), 495, "{name}");
        // A trap's count is the store's.
        store.set_fuel(100).unwrap();
        call(&mut store, &inst, "boom", &[]).unwrap_err();
        assert_eq!(store.get_fuel().unwrap(), 96, "{name}");
        // A bulk operator costs one a byte.
        store.set_fuel(10_000).unwrap();
        call(&mut store, &inst, "fill", &[Val::I32(4000)]).unwrap();
        assert_eq!(store.get_fuel().unwrap(), 10_000 - 4005, "{name}");
        // Recursion is counted through the calls (each level: the call's
        // unit, local.get, if, local.get, i32.const, i32.sub, call; the
        // last: the call's, local.get, if, i32.const).
        store.set_fuel(1_000_000).unwrap();
        call(&mut store, &inst, "deep", &[Val::I32(50)]).unwrap();
        assert_eq!(
            1_000_000 - store.get_fuel().unwrap(),
            50 * 7 + 4,
            "{name}: deep(50)"
        );
    }
}

#[test]
fn running_out_of_fuel_traps_under_every_policy() {
    for (name, mut config) in common::policy_configs(true) {
        config.consume_fuel(true);
        let (mut store, inst) = instantiate(&config);
        // A store starts with none.
        assert_eq!(store.get_fuel().unwrap(), 0);
        let t = trap_of(call(&mut store, &inst, "count", &[Val::I32(1)]));
        assert_eq!(t, TrapKind::OutOfFuel, "{name}");
        // A loop, and tail calls with no loop and no stack growth.
        for export in ["spin", "tail_forever"] {
            store.set_fuel(100_000).unwrap();
            let t = trap_of(call(&mut store, &inst, export, &[]));
            assert_eq!(t, TrapKind::OutOfFuel, "{name}: {export}");
            assert_eq!(store.get_fuel().unwrap(), 0, "{name}: {export}");
        }
        // Refilled, the store runs again.
        store.set_fuel(1000).unwrap();
        assert_eq!(
            call(&mut store, &inst, "count", &[Val::I32(10)]).unwrap(),
            Val::I32(10)
        );
        // Fuel for the operators before a fill but not for its bytes:
        // the trap comes before a byte is written.
        store.set_fuel(1000).unwrap();
        let t = trap_of(call(&mut store, &inst, "fill", &[Val::I32(5000)]));
        assert_eq!(t, TrapKind::OutOfFuel, "{name}");
        let mem = inst.get_memory(&mut store, "mem").unwrap();
        assert!(mem.data(&store)[..5000].iter().all(|b| *b == 0), "{name}");
        // A trap's message is wasmtime's.
        assert_eq!(t.to_string(), "all fuel consumed by WebAssembly");
    }
}

#[test]
fn fuel_needs_the_engine_to_count_it() {
    let (mut store, inst) = instantiate(&Config::new());
    let e = store.set_fuel(10).unwrap_err().to_string();
    assert!(e.contains("Config::consume_fuel"), "{e}");
    assert!(store.get_fuel().is_err());
    // The host function's get_fuel fails, and so the call.
    let e = call(&mut store, &inst, "ask", &[]).unwrap_err().to_string();
    assert!(e.contains("Config::consume_fuel"), "{e}");
    // Without fuel nothing is counted: the loop runs to its end.
    assert_eq!(
        call(&mut store, &inst, "count", &[Val::I32(1000)]).unwrap(),
        Val::I32(1000)
    );
}

/// A thread that moves `engine`'s epoch on every millisecond until
/// `stop`.
fn ticker(engine: Engine, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(1));
            engine.increment_epoch();
        }
    })
}

#[test]
fn an_epoch_deadline_interrupts_loops_and_tail_calls_under_every_policy() {
    for (name, mut config) in common::policy_configs(true) {
        config.epoch_interruption(true);
        let (mut store, inst) = instantiate(&config);
        // A store's deadline starts at the engine's first epoch: its Wasm
        // stops at once.
        let t = trap_of(call(&mut store, &inst, "count", &[Val::I32(1)]));
        assert_eq!(t, TrapKind::Interrupt, "{name}");
        assert_eq!(t.to_string(), "interrupt");
        store.set_epoch_deadline(1);
        assert_eq!(
            call(&mut store, &inst, "count", &[Val::I32(1000)]).unwrap(),
            Val::I32(1000),
            "{name}"
        );
        let stop = Arc::new(AtomicBool::new(false));
        let tick = ticker(store.engine().clone(), stop.clone());
        for export in ["spin", "tail_forever"] {
            store.set_epoch_deadline(3);
            let t = trap_of(call(&mut store, &inst, export, &[]));
            assert_eq!(t, TrapKind::Interrupt, "{name}: {export}");
        }
        stop.store(true, Ordering::Relaxed);
        tick.join().unwrap();
    }
}

#[test]
fn an_epoch_callback_extends_the_deadline_then_stops_the_guest() {
    let mut config = Config::new();
    config.epoch_interruption(true).consume_fuel(true);
    let (mut store, inst) = instantiate(&config);
    let calls = Arc::new(AtomicU32::new(0));
    let seen = calls.clone();
    store.epoch_deadline_callback(move |store| {
        // The callback sees the store: it may refill the fuel.
        store.set_fuel(u64::MAX)?;
        Ok(match seen.fetch_add(1, Ordering::Relaxed) {
            0..=2 => UpdateDeadline::Continue(1),
            _ => UpdateDeadline::Interrupt,
        })
    });
    // A million units last the spin well under a millisecond; the
    // callback, called at once (deadline 0), refills them, and the guest
    // goes on with what it set.
    store.set_fuel(1_000_000).unwrap();
    store.set_epoch_deadline(0);
    let stop = Arc::new(AtomicBool::new(false));
    let tick = ticker(store.engine().clone(), stop.clone());
    let t = trap_of(call(&mut store, &inst, "spin", &[]));
    assert_eq!(t, TrapKind::Interrupt);
    assert_eq!(calls.load(Ordering::Relaxed), 4);
    assert!(store.get_fuel().unwrap() > 1 << 62);

    // An error from the callback ends the call with it.
    store.epoch_deadline_callback(|_| Err(Error::msg("time is up, says the host")));
    store.set_epoch_deadline(1);
    let e = call(&mut store, &inst, "spin", &[]).unwrap_err();
    assert!(e.to_string().contains("time is up"), "{e}");

    // Back to the trap.
    store.epoch_deadline_trap();
    store.set_epoch_deadline(1);
    let t = trap_of(call(&mut store, &inst, "spin", &[]));
    assert_eq!(t, TrapKind::Interrupt);
    stop.store(true, Ordering::Relaxed);
    tick.join().unwrap();

    // A panicking callback panics out of the call, as a host function's
    // panic does; the store stays usable.
    store.epoch_deadline_callback(|_| panic!("callback panicked"));
    store.set_epoch_deadline(0);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = call(&mut store, &inst, "spin", &[]);
    }));
    assert!(caught.is_err());
    store.epoch_deadline_trap();
    store.set_epoch_deadline(10);
    store.set_fuel(1000).unwrap();
    assert_eq!(
        call(&mut store, &inst, "count", &[Val::I32(3)]).unwrap(),
        Val::I32(3)
    );
}

#[test]
fn a_bulk_operator_is_checked_against_the_deadline() {
    let mut config = Config::new();
    config.epoch_interruption(true);
    let (mut store, inst) = instantiate(&config);
    let calls = Arc::new(AtomicU32::new(0));
    let seen = calls.clone();
    // The first check (the entry's) runs on with the deadline at the
    // current epoch, so the next check stops the guest.
    store.epoch_deadline_callback(move |_| {
        Ok(match seen.fetch_add(1, Ordering::Relaxed) {
            0 => UpdateDeadline::Continue(0),
            _ => UpdateDeadline::Interrupt,
        })
    });
    store.set_epoch_deadline(0);
    let t = trap_of(call(&mut store, &inst, "fill", &[Val::I32(100)]));
    assert_eq!(t, TrapKind::Interrupt);
    assert_eq!(
        calls.load(Ordering::Relaxed),
        2,
        "the entry's check and the fill's"
    );
    let mem = inst.get_memory(&mut store, "mem").unwrap();
    assert!(
        mem.data(&store)[..100].iter().all(|b| *b == 0),
        "stopped before the fill"
    );
    store.epoch_deadline_trap();
    store.set_epoch_deadline(1);
    call(&mut store, &inst, "fill", &[Val::I32(100)]).unwrap();
    assert_eq!(mem.data(&store)[50], 7);
}

/// A C program (the LZ77 fixture: dlmalloc, clang's stack frames) spends
/// the same fuel whatever attestation adds around its code (heap checks,
/// stack guards, hooks): the guest's operators are counted, not the
/// instrumentation's. (Not under `tags`: its allocator wrapper changes the
/// requests dlmalloc serves and holds frees back.)
#[test]
fn attestation_does_not_change_what_a_c_program_spends() {
    let wasm = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/c/lz.wasm"),
    )
    .unwrap();
    let mut spent = Vec::new();
    for (name, mut config) in common::policy_configs(false) {
        config.consume_fuel(true);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, &wasm).unwrap();
        let mut ctx = walmart::wasi::WasiCtx::new();
        ctx.redirect(1, std::fs::File::create("/dev/null").unwrap());
        let mut store = Store::new(&engine, ctx);
        store.set_fuel(u64::MAX).unwrap();
        let mut linker = Linker::new(&engine);
        walmart::wasi::add_to_linker(&mut linker, |c| c).unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let start = instance.get_func(&mut store, "_start").unwrap();
        match start.call(&mut store, &[], &mut []) {
            Ok(()) => {}
            Err(e) if e.exit_status() == Some(0) => {}
            Err(e) => panic!("{name}: {e}"),
        }
        spent.push((name, i64::MAX as u64 - store.get_fuel().unwrap()));
    }
    assert!(spent[0].1 > 10_000_000, "{spent:?}");
    assert!(spent.iter().all(|(_, s)| *s == spent[0].1), "{spent:?}");
}

/// A 64-bit bulk operator's count saturates the fuel spent; the trap
/// leaves none, and the next call, given no more, stops at once rather
/// than find the count wrapped round to fuel.
#[test]
fn a_saturated_count_leaves_no_fuel() {
    let mut config = Config::new();
    config.consume_fuel(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(
        &engine,
        r#"(module (memory i64 1)
            (func (export "huge") (param i64) (memory.fill (i64.const 0) (i32.const 1) (local.get 0)))
            (func (export "small") (result i32) (i32.const 1)))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    // Three units: the count passes zero just before the fill (the call's
    // unit and four operators), which then saturates it.
    store.set_fuel(3).unwrap();
    let t = trap_of(call(&mut store, &inst, "huge", &[Val::I64(-1)]));
    assert_eq!(t, TrapKind::OutOfFuel);
    assert_eq!(store.get_fuel().unwrap(), 0);
    for _ in 0..3 {
        let t = trap_of(call(&mut store, &inst, "small", &[]));
        assert_eq!(t, TrapKind::OutOfFuel);
    }
}
