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
