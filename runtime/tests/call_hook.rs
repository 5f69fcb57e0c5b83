//! The store's call hook (wasmtime's `Store::call_hook`): told of every
//! crossing between the host and Wasm, in order, nested calls included;
//! an error from it refuses the crossing.

use walmart::attest::Policy;
use walmart::{CallHook, Caller, Config, Engine, Error, Extern, Linker, Module, Store, Val};

const WAT: &str = r#"(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (func (export "run") (param i32) (result i32) (call $host (local.get 0)))
  (func (export "inner") (result i32) (i32.const 7)))"#;

/// A store (of an engine attesting under `policy`) whose host function
/// calls back into Wasm (`inner`) when given 1, and whose hook records
/// every crossing in the host data.
fn setup(policy: Policy) -> (Store<Vec<CallHook>>, walmart::Instance) {
    let mut config = Config::new();
    config.attest(policy);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    let mut linker = Linker::<Vec<CallHook>>::new(&engine);
    linker
        .func_wrap(
            "env",
            "host",
            |mut caller: Caller<'_, Vec<CallHook>>, x: i32| -> Result<i32, Error> {
                if x != 1 {
                    return Ok(x + 1);
                }
                let Some(Extern::Func(inner)) = caller.get_export("inner") else {
                    panic!("no inner");
                };
                let mut out = [Val::I32(0)];
                inner.call(&mut caller, &[], &mut out)?;
                Ok(out[0].i32().unwrap())
            },
        )
        .unwrap();
    let mut store = Store::new(&engine, Vec::new());
    store.call_hook(|store, kind| {
        store.data_mut().push(kind);
        Ok(())
    });
    let instance = linker.instantiate(&mut store, &module).unwrap();
    (store, instance)
}

fn run(
    store: &mut Store<Vec<CallHook>>,
    instance: &walmart::Instance,
    x: i32,
) -> Result<i32, Error> {
    let run = instance.get_func(&mut *store, "run").unwrap();
    let mut out = [Val::I32(0)];
    run.call(&mut *store, &[Val::I32(x)], &mut out)?;
    Ok(out[0].i32().unwrap())
}

#[test]
fn every_crossing_is_told_in_order() {
    for policy in [Policy::Off, Policy::Coarse, Policy::Fine] {
        crossings_in_order(policy);
    }
}

fn crossings_in_order(policy: Policy) {
    use CallHook::*;
    let (mut store, instance) = setup(policy);
    assert_eq!(run(&mut store, &instance, 5).unwrap(), 6);
    assert_eq!(
        std::mem::take(store.data_mut()),
        [
            CallingWasm,
            CallingHost,
            ReturningFromHost,
            ReturningFromWasm
        ]
    );
    // A host function that calls Wasm in turn.
    assert_eq!(run(&mut store, &instance, 1).unwrap(), 7);
    assert_eq!(
        std::mem::take(store.data_mut()),
        [
            CallingWasm,
            CallingHost,
            CallingWasm,
            ReturningFromWasm,
            ReturningFromHost,
            ReturningFromWasm
        ]
    );
    assert!(CallingHost.entering_host() && ReturningFromWasm.entering_host());
    assert!(CallingWasm.exiting_host() && ReturningFromHost.exiting_host());
    store.remove_call_hook();
    run(&mut store, &instance, 5).unwrap();
    assert!(store.data().is_empty());
}

/// Has `store`'s hook record every crossing and refuse `refused`.
fn refuse(store: &mut Store<Vec<CallHook>>, refused: CallHook) {
    store.call_hook(move |store, kind| {
        store.data_mut().push(kind);
        if kind == refused {
            return Err(anyhow::anyhow!("refused {kind:?}").into());
        }
        Ok(())
    });
}

#[test]
fn an_error_from_the_hook_refuses_the_crossing() {
    use CallHook::*;
    let (mut store, instance) = setup(Policy::Off);
    // Refusing to enter the host: the host function does not run, Wasm
    // traps with the hook's error, and the call still returns through it.
    refuse(&mut store, CallingHost);
    let e = run(&mut store, &instance, 5).unwrap_err();
    assert!(e.to_string().contains("refused CallingHost"), "{e}");
    assert_eq!(
        std::mem::take(store.data_mut()),
        [CallingWasm, CallingHost, ReturningFromWasm]
    );
    // Refusing to enter Wasm: nothing runs.
    refuse(&mut store, CallingWasm);
    let e = run(&mut store, &instance, 5).unwrap_err();
    assert!(e.to_string().contains("refused CallingWasm"), "{e}");
    assert_eq!(std::mem::take(store.data_mut()), [CallingWasm]);
    // An error on the way back fails a call that succeeded.
    refuse(&mut store, ReturningFromWasm);
    let e = run(&mut store, &instance, 5).unwrap_err();
    assert!(e.to_string().contains("refused ReturningFromWasm"), "{e}");
    // The store stays usable.
    store.remove_call_hook();
    assert_eq!(run(&mut store, &instance, 5).unwrap(), 6);
}

/// A hook that runs Wasm (here, allocating until the collector runs) as a
/// call returns does not free the call's GC results: they are values,
/// rooted, before it runs.
#[test]
fn results_survive_a_hook_that_collects() {
    let mut config = Config::new();
    config.gc_stress(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(
        &engine,
        r#"(module
          (type $s (struct (field i32)))
          (func (export "make") (param i32) (result (ref null $s))
            (struct.new $s (local.get 0)))
          (func (export "churn") (local i32)
            (loop $l
              (drop (struct.new $s (i32.const 7)))
              (local.set 0 (i32.add (local.get 0) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get 0) (i32.const 200)))))
          (func (export "get") (param (ref null $s)) (result i32)
            (struct.get $s 0 (local.get 0))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let churn = instance.get_func(&mut store, "churn").unwrap();
    store.call_hook(move |store, kind| {
        if kind == CallHook::ReturningFromWasm {
            churn.call(&mut *store, &[], &mut [])?;
        }
        Ok(())
    });
    let make = instance.get_func(&mut store, "make").unwrap();
    let get = instance.get_func(&mut store, "get").unwrap();
    for i in 0..20 {
        let mut made = [Val::I32(0)];
        make.call(&mut store, &[Val::I32(1000 + i)], &mut made)
            .unwrap();
        let mut out = [Val::I32(0)];
        get.call(&mut store, &made, &mut out).unwrap();
        assert_eq!(out[0].i32(), Some(1000 + i));
    }
}

/// A hook that panics is still the store's hook after the panic.
#[test]
fn a_panicking_hook_stays() {
    let (mut store, instance) = setup(Policy::Off);
    let mut panicked = false;
    store.call_hook(move |store, kind| {
        if !panicked {
            panicked = true;
            panic!("the hook's first crossing");
        }
        store.data_mut().push(kind);
        Ok(())
    });
    let run_once = std::panic::AssertUnwindSafe(|| run(&mut store, &instance, 5));
    assert!(std::panic::catch_unwind(run_once).is_err());
    assert_eq!(run(&mut store, &instance, 5).unwrap(), 6);
    assert_eq!(store.data().len(), 4, "{:?}", store.data());
}
