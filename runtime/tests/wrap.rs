//! Host functions from plain Rust closures (`Linker::func_wrap`,
//! `Func::wrap`): signatures from the closures' types, values converted
//! at the call, the `Caller` when asked for, tuples and `Result`s.

use walmart::{Caller, Engine, Error, ExternRef, Func, Linker, Module, Store, Val};

const WAT: &str = r#"(module
    (import "env" "add" (func $add (param i32 i32) (result i32)))
    (import "env" "record" (func $record (param i64)))
    (import "env" "split" (func $split (param f64) (result i32 f64)))
    (import "env" "checked" (func $checked (param i32) (result i32)))
    (import "env" "eight" (func $eight (param i32 i64 f32 f64 i32 i64 f32 f64) (result f64)))
    (import "env" "tick" (func $tick))
    (import "env" "is_null" (func $is_null (param funcref) (result i32)))
    (import "env" "unsigned" (func $unsigned (param i32) (result i64)))
    (import "env" "fallible" (func $fallible (param i32) (result i32)))
    (import "env" "ext" (func $ext (param externref) (result externref)))
    (import "env" "call_back" (func $call_back (param funcref) (result i32)))
    (table 1 funcref)
    (elem declare func $seven)
    (func $seven (result i32) (i32.const 7))
    (func (export "add") (param i32 i32) (result i32) (call $add (local.get 0) (local.get 1)))
    (func (export "record") (param i64) (call $record (local.get 0)) (call $tick))
    (func (export "split") (param f64) (result i32 f64) (call $split (local.get 0)))
    (func (export "checked") (param i32) (result i32) (call $checked (local.get 0)))
    (func (export "eight") (result f64)
        (call $eight (i32.const 1) (i64.const 2) (f32.const 3.5) (f64.const 4.25)
                     (i32.const 5) (i64.const 6) (f32.const 7) (f64.const 8)))
    (func (export "null") (result i32) (call $is_null (ref.null func)))
    (func (export "unsigned") (param i32) (result i64) (call $unsigned (local.get 0)))
    (func (export "fallible") (param i32) (result i32) (call $fallible (local.get 0)))
    (func (export "ext") (param externref) (result externref) (call $ext (local.get 0)))
    (func (export "call_back") (result i32) (call $call_back (ref.func $seven))))"#;

/// Store data: what the host saw.
#[derive(Default)]
struct Seen {
    recorded: Vec<i64>,
    ticks: u32,
}

fn call(
    store: &mut Store<Seen>,
    instance: &walmart::Instance,
    name: &str,
    args: &[Val],
) -> Result<Vec<Val>, Error> {
    let f = instance.get_func(&mut *store, name).expect(name);
    let mut out = vec![Val::I32(0); f.ty(&*store).results().len()];
    f.call(&mut *store, args, &mut out)?;
    Ok(out)
}

#[test]
fn closures_become_host_functions_of_their_types() {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, Seen::default());
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("env", "add", |a: i32, b: i32| a.wrapping_add(b))
        .unwrap()
        .func_wrap("env", "record", |mut caller: Caller<'_, Seen>, x: i64| {
            caller.data_mut().recorded.push(x)
        })
        .unwrap()
        .func_wrap("env", "split", |x: f64| (x.trunc() as i32, x.fract()))
        .unwrap()
        .func_wrap("env", "checked", |x: i32| -> walmart::Result<i32> {
            x.checked_mul(2)
                .ok_or_else(|| Error::msg("doubling overflowed"))
        })
        .unwrap()
        .func_wrap(
            "env",
            "eight",
            |a: i32, b: i64, c: f32, d: f64, e: i32, f: i64, g: f32, h: f64| {
                f64::from(a)
                    + b as f64
                    + f64::from(c)
                    + d
                    + f64::from(e)
                    + f as f64
                    + f64::from(g)
                    + h
            },
        )
        .unwrap()
        .func_wrap("env", "is_null", |f: Option<Func>| i32::from(f.is_none()))
        .unwrap()
        .func_wrap("env", "unsigned", |x: u32| u64::from(x) * 2)
        .unwrap()
        .func_wrap("env", "fallible", |x: i32| -> anyhow::Result<i32> {
            anyhow::ensure!(x >= 0, "negative: {x}");
            Ok(x)
        })
        .unwrap()
        .func_wrap("env", "ext", |r: Option<ExternRef>| r)
        .unwrap()
        // A function reference from Wasm, called back through the caller.
        .func_wrap(
            "env",
            "call_back",
            |mut caller: Caller<'_, Seen>, f: Option<Func>| -> walmart::Result<i32> {
                let f = f.ok_or_else(|| Error::msg("null"))?;
                let mut out = [Val::I32(0)];
                f.call(&mut caller, &[], &mut out)?;
                Ok(out[0].i32().unwrap_or_default())
            },
        )
        .unwrap();
    // One defined in the store, then given to the linker.
    let tick = Func::wrap(&mut store, |mut caller: Caller<'_, Seen>| {
        caller.data_mut().ticks += 1;
    });
    linker.define(&mut store, "env", "tick", tick).unwrap();
    let inst = linker.instantiate(&mut store, &module).unwrap();

    assert_eq!(
        call(&mut store, &inst, "add", &[Val::I32(40), Val::I32(2)]).unwrap(),
        [Val::I32(42)]
    );
    call(&mut store, &inst, "record", &[Val::I64(-7)]).unwrap();
    call(&mut store, &inst, "record", &[Val::I64(9)]).unwrap();
    assert_eq!(store.data().recorded, [-7, 9]);
    assert_eq!(store.data().ticks, 2);
    assert_eq!(
        call(&mut store, &inst, "split", &[Val::from(2.75f64)]).unwrap(),
        [Val::I32(2), Val::from(0.75f64)]
    );
    assert_eq!(
        call(&mut store, &inst, "checked", &[Val::I32(21)]).unwrap(),
        [Val::I32(42)]
    );
    let e = call(&mut store, &inst, "checked", &[Val::I32(i32::MAX)]).unwrap_err();
    assert!(e.to_string().contains("doubling overflowed"), "{e}");
    assert_eq!(
        call(&mut store, &inst, "eight", &[]).unwrap(),
        [Val::from(36.75f64)]
    );
    assert_eq!(call(&mut store, &inst, "null", &[]).unwrap(), [Val::I32(1)]);
    assert_eq!(
        call(&mut store, &inst, "unsigned", &[Val::I32(-1)]).unwrap(),
        [Val::I64(8_589_934_590)]
    );
    assert_eq!(
        call(&mut store, &inst, "fallible", &[Val::I32(5)]).unwrap(),
        [Val::I32(5)]
    );
    let e = call(&mut store, &inst, "fallible", &[Val::I32(-5)]).unwrap_err();
    assert!(e.to_string().contains("negative: -5"), "{e}");
    let back = call(
        &mut store,
        &inst,
        "ext",
        &[Val::ExternRef(Some(ExternRef::new(99)))],
    )
    .unwrap();
    match &back[0] {
        Val::ExternRef(Some(r)) => assert_eq!(r.id(), Some(99)),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        call(&mut store, &inst, "call_back", &[]).unwrap(),
        [Val::I32(7)]
    );
    // The types are the closures': a wrong one does not link.
    let mut other = Linker::new(&engine);
    other.func_wrap("env", "add", |a: i64| a).unwrap();
    let only_add = Module::new(
        &engine,
        r#"(module (import "env" "add" (func (param i32 i32) (result i32))))"#,
    )
    .unwrap();
    let e = other
        .instantiate(&mut store, &only_add)
        .unwrap_err()
        .to_string();
    assert!(e.contains("env") && e.contains("add"), "{e}");
}

/// A host function handing Wasm the same host reference a hundred
/// thousand times leaves the store holding one.
#[test]
fn a_host_reference_handed_in_again_takes_no_new_entry() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "get" (func $get (param i32) (result externref)))
            (func (export "loop") (param $n i32)
                (loop $l
                    (drop (call $get (local.get $n)))
                    (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, Seen::default());
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("env", "get", |n: i32| {
            Some(ExternRef::new(u64::from(n % 3 == 0)))
        })
        .unwrap();
    let inst = linker.instantiate(&mut store, &module).unwrap();
    call(&mut store, &inst, "loop", &[Val::I32(100_000)]).unwrap();
    assert_eq!(store.externrefs_held(), 2);
}

/// A host function over `Val`s that calls back into Wasm, which calls
/// another: each call's values are its own (the store's buffer of
/// values is taken by the outer call while it runs).
#[test]
fn nested_calls_of_host_functions_over_vals_keep_their_values() {
    use walmart::{FuncType, ValType};
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "outer" (func $outer (param i32 i64) (result i64)))
            (import "env" "inner" (func $inner (param i64) (result i64)))
            (func (export "run") (param i32) (result i64)
                (call $outer (local.get 0) (i64.const 1000)))
            (func (export "nested") (param i64) (result i64)
                (call $inner (local.get 0))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker
        .func_new(
            "env",
            "outer",
            FuncType::new([ValType::I32, ValType::I64], [ValType::I64]),
            |mut caller: Caller<'_, ()>, params, results| {
                let nested = caller
                    .get_export("nested")
                    .and_then(|e| e.into_func())
                    .unwrap();
                let mut out = [Val::I64(0)];
                let depth = params[0].i32().unwrap();
                if depth > 0 {
                    nested.call(&mut caller, &[Val::I64(depth.into())], &mut out)?;
                }
                // The outer call's parameters, read after the nested ones.
                let own = params[1].i64().unwrap() + i64::from(params[0].i32().unwrap());
                results[0] = Val::I64(own + out[0].i64().unwrap());
                Ok(())
            },
        )
        .unwrap();
    linker
        .func_new(
            "env",
            "inner",
            FuncType::new([ValType::I64], [ValType::I64]),
            |_, params, results| {
                results[0] = Val::I64(params[0].i64().unwrap() * 10);
                Ok(())
            },
        )
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance
        .get_typed_func::<i32, i64>(&mut store, "run")
        .unwrap();
    // 1000 + 3, and the nested call's 3 * 10.
    assert_eq!(run.call(&mut store, 3).unwrap(), 1033);
    assert_eq!(run.call(&mut store, 0).unwrap(), 1000);
}

/// Sixteen parameters, as in wasmtime (a host function and a typed call
/// of an export): each arrives in its place.
#[test]
fn sixteen_parameters_arrive_in_order() {
    let params = "i32 i64 i32 i64 i32 i64 i32 i64 i32 i64 i32 i64 i32 i64 i32 i64";
    let gets: String = (0..16).map(|i| format!("(local.get {i})")).collect();
    let wat = format!(
        r#"(module
        (import "env" "mix" (func $mix (param {params}) (result i64)))
        (func (export "mix") (param {params}) (result i64) (call $mix {gets})))"#
    );
    let engine = Engine::default();
    let module = Module::new(&engine, wat).unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap(
            "env",
            "mix",
            |a: i32,
             b: i64,
             c: i32,
             d: i64,
             e: i32,
             f: i64,
             g: i32,
             h: i64,
             i: i32,
             j: i64,
             k: i32,
             l: i64,
             m: i32,
             n: i64,
             o: i32,
             p: i64| {
                // Each value weighted by its place: a swap shows.
                [
                    a as i64, b, c as i64, d, e as i64, f, g as i64, h, i as i64, j, k as i64, l,
                    m as i64, n, o as i64, p,
                ]
                .iter()
                .enumerate()
                .map(|(at, v)| v * (at as i64 + 1))
                .sum::<i64>()
            },
        )
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    type Sixteen = (
        i32,
        i64,
        i32,
        i64,
        i32,
        i64,
        i32,
        i64,
        i32,
        i64,
        i32,
        i64,
        i32,
        i64,
        i32,
        i64,
    );
    let mix = instance
        .get_typed_func::<Sixteen, i64>(&mut store, "mix")
        .unwrap();
    let args: Sixteen = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
    let want: i64 = (1..=16).map(|v: i64| v * v).sum();
    assert_eq!(mix.call(&mut store, args).unwrap(), want);
}
