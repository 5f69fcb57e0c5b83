//! Exception handling (Wasm 3.0): exceptions unwind deep stacks to their
//! handlers under every attestation policy, carry payloads of every type,
//! cross instances and host functions both ways, and reach the embedder
//! when nothing catches them.

mod common;

use walmart::attest::{DigestVerifier, OnDetect, Policy};
use walmart::{
    AttestOptions, Config, Engine, Error, ExnRef, Extern, Func, FuncType, Linker, Module, Store,
    Tag, TagType, Val, ValType,
};

/// `$dive` recurses `n` deep, storing a word a frame, through a plain
/// call, a `call_indirect` and a `call_ref` by turns, each inside a
/// `try_table` that catches another tag only, and throws `$e` at the
/// bottom with a payload of five types; every tenth frame catches
/// everything with `catch_all_ref` and throws it on with `throw_ref`.
/// `run` catches `$e` and sums its payload.
const DIVE: &str = r#"(module
    (type $d (func (param i32)))
    (tag $e (export "e") (param i32 i64 f32 f64 v128))
    (tag $other (param i32))
    (memory (export "memory") 1)
    (table 1 funcref)
    (elem declare func $dive)
    (elem (i32.const 0) $dive)
    (func $dive (export "dive") (param $n i32)
        (i32.store (i32.and (i32.mul (local.get $n) (i32.const 4)) (i32.const 0xfffc))
                   (local.get $n))
        (if (i32.eqz (local.get $n))
            (then (throw $e (i32.const 7) (i64.const -3) (f32.const 1.5) (f64.const 2.25)
                            (v128.const i32x4 1 2 3 4))))
        (block $other_caught (result i32)
            (block $rethrow (result exnref)
                (if (i32.eqz (i32.rem_u (local.get $n) (i32.const 10)))
                    (then
                        (try_table (catch_all_ref $rethrow)
                            (call $step (i32.sub (local.get $n) (i32.const 1))))
                        (return)))
                (try_table (catch $other $other_caught)
                    (call $step (i32.sub (local.get $n) (i32.const 1))))
                (return))
            (throw_ref))
        (unreachable))
    (func $step (param $n i32)
        (block $three
            (block $two
                (block $one
                    (br_table $one $two $three (i32.rem_u (local.get $n) (i32.const 3))))
                (return (call $dive (local.get $n))))
            (return (call_indirect (type $d) (local.get $n) (i32.const 0))))
        (call_ref $d (local.get $n) (ref.func $dive)))
    (func (export "run") (param $n i32) (result f64)
        (local $v v128) (local $d f64) (local $f f32) (local $l i64)
        (block $h (result i32 i64 f32 f64 v128)
            (try_table (catch $e $h) (call $dive (local.get $n)))
            (return (f64.const -1)))
        (local.set $v) (local.set $d) (local.set $f) (local.set $l)
        (f64.convert_i32_s)
        (f64.add (f64.convert_i64_s (local.get $l)))
        (f64.add (f64.promote_f32 (local.get $f)))
        (f64.add (local.get $d))
        (f64.add (f64.convert_i32_s (i32x4.extract_lane 3 (local.get $v))))))"#;

/// Every policy but the tag monitor's, which refuses modules that use
/// exception handling.
fn configs() -> Vec<(&'static str, Config)> {
    common::policy_configs(false)
}

/// `wat` instantiated with `linker`'s definitions, attested by the
/// digest verifier (detections trapping) unless the policy is `off`.
fn attested(config: &Config, wat: &str) -> (Store<()>, walmart::Instance) {
    let engine = Engine::new(config).unwrap();
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    if config.attest != Policy::Off {
        store
            .configure_attestation(
                AttestOptions::new()
                    .verifier(DigestVerifier::new())
                    .on_detect(OnDetect::Trap),
            )
            .unwrap();
    }
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    (store, instance)
}

#[test]
fn exceptions_unwind_deep_stacks_to_their_handler_under_every_policy() {
    // 1 + (-3) + 1.5 + 2.25 + 4 lanes' last (4) + 7: the payload's sum.
    let sum = 7.0 - 3.0 + 1.5 + 2.25 + 4.0;
    for (name, config) in configs() {
        let (mut store, instance) = attested(&config, DIVE);
        let run = instance
            .get_typed_func::<i32, f64>(&mut store, "run")
            .unwrap();
        for n in [0, 1, 2, 3, 9, 10, 11, 1000, 4000] {
            let got = run.call(&mut store, n).map_err(|e| e.to_string());
            assert_eq!(got, Ok(sum), "{name}, n = {n}");
        }
        // Every frame stored its word before the exception unwound it.
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        let mut word = [0u8; 4];
        memory.read(&store, 4 * 999, &mut word).unwrap();
        assert_eq!(u32::from_le_bytes(word), 999, "{name}");
        let stats = store.finish_attestation().unwrap();
        assert_eq!(stats.map_or(0, |s| s.detections), 0, "{name}");
    }
}

#[test]
fn an_uncaught_exception_reaches_the_host_with_its_tag_and_payload() {
    for (name, config) in configs() {
        let (mut store, instance) = attested(&config, DIVE);
        let dive = instance.get_func(&mut store, "dive").unwrap();
        let err = dive.call(&mut store, &[Val::I32(25)], &mut []).unwrap_err();
        let exn = err.exception().unwrap_or_else(|| panic!("{name}: {err}"));
        assert_eq!(err.to_string(), "uncaught Wasm exception");
        let tag = instance.get_tag(&mut store, "e").unwrap();
        assert_eq!(exn.tag(&store), tag, "{name}");
        let payload = exn.payload(&mut store);
        let v128 = 1u128 | 2 << 32 | 3 << 64 | 4 << 96;
        assert_eq!(
            payload,
            [
                Val::I32(7),
                Val::I64(-3),
                Val::F32(1.5f32.to_bits()),
                Val::F64(2.25f64.to_bits()),
                Val::V128(v128)
            ],
            "{name}"
        );
        assert_eq!(
            tag.ty(&store).payload(),
            [
                ValType::I32,
                ValType::I64,
                ValType::F32,
                ValType::F64,
                ValType::V128
            ]
        );
        // The exception ended with the call: the store goes on.
        dive.call(&mut store, &[Val::I32(3)], &mut []).unwrap_err();
        let run = instance
            .get_typed_func::<i32, f64>(&mut store, "run")
            .unwrap();
        assert_eq!(run.call(&mut store, 5).unwrap(), 11.75, "{name}");
    }
}

/// Imports a tag and a host function; `catch` calls the function and
/// returns the payload of the tag's exception if one comes, else -1;
/// `catch_any` catches everything; `nested` calls `reenter`, a host
/// function that calls back into `throw`.
const CATCHER: &str = r#"(module
    (import "host" "tag" (tag $t (param i32 funcref)))
    (import "host" "call" (func $call (param i32)))
    (import "host" "reenter" (func $reenter (param i32)))
    (func $f (export "f") (result i32) (i32.const 42))
    (func (export "catch") (param i32) (result i32)
        (block $h (result i32 funcref)
            (try_table (catch $t $h) (call $call (local.get 0)))
            (return (i32.const -1)))
        (drop)
        (return))
    (func (export "catch_any") (param i32) (result i32)
        (block $h
            (try_table (catch_all $h) (call $call (local.get 0)))
            (return (i32.const -1)))
        (i32.const -2))
    (func (export "throw") (param i32) (throw $t (local.get 0) (ref.func $f)))
    (func (export "nested") (param i32) (result i32)
        (block $h (result i32 funcref)
            (try_table (catch $t $h) (call $reenter (local.get 0)))
            (return (i32.const -1)))
        (drop)
        (i32.add (i32.const 1000)))
)"#;

#[test]
fn host_functions_throw_into_wasm_and_pass_wasm_exceptions_on() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let tag_ty = TagType::new(FuncType::new([ValType::I32, ValType::FuncRef], []));
    let tag = Tag::new(&mut store, &tag_ty).unwrap();
    let other = Tag::new(&mut store, &tag_ty).unwrap();
    let call = Func::new(
        &mut store,
        FuncType::new([ValType::I32], []),
        move |mut caller, params, _| {
            let n = params[0].i32().unwrap();
            match n {
                0 => Ok(()),
                1 => Err(Error::msg("plain failure")),
                _ => {
                    // n odd: an exception of another tag of the same type.
                    let which = if n % 2 == 0 { tag } else { other };
                    let exn = ExnRef::new(&mut caller, which, &[Val::I32(n), Val::FuncRef(None)])?;
                    Err(Error::Exception(exn))
                }
            }
        },
    );
    let reenter = Func::new(
        &mut store,
        FuncType::new([ValType::I32], []),
        |mut caller, params, _| {
            let Some(Extern::Func(throw)) = caller.get_export("throw") else {
                return Err(Error::msg("no throw"));
            };
            // Wasm's exception comes back here as an error; returned, it
            // goes on to the Wasm caller.
            let err = throw.call(&mut caller, params, &mut []).unwrap_err();
            assert!(err.exception().is_some());
            Err(err)
        },
    );
    let mut linker = Linker::new(&engine);
    linker.define(&mut store, "host", "tag", tag).unwrap();
    linker.define(&mut store, "host", "call", call).unwrap();
    linker
        .define(&mut store, "host", "reenter", reenter)
        .unwrap();
    let module = Module::new(&engine, CATCHER).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let catch = instance
        .get_typed_func::<i32, i32>(&mut store, "catch")
        .unwrap();
    let catch_any = instance
        .get_typed_func::<i32, i32>(&mut store, "catch_any")
        .unwrap();
    let nested = instance
        .get_typed_func::<i32, i32>(&mut store, "nested")
        .unwrap();
    assert_eq!(catch.call(&mut store, 0).unwrap(), -1);
    assert_eq!(catch.call(&mut store, 8).unwrap(), 8);
    // Another tag's exception passes the clause by, and out.
    let err = catch.call(&mut store, 9).unwrap_err();
    let exn = err.exception().expect("uncaught");
    assert_eq!(exn.tag(&store), other);
    assert_eq!(exn.payload(&mut store)[0], Val::I32(9));
    assert_eq!(catch_any.call(&mut store, 9).unwrap(), -2);
    // A host error is a trap, which no handler catches.
    let err = catch_any.call(&mut store, 1).unwrap_err();
    assert!(err.to_string().contains("plain failure"), "{err}");
    // Wasm to host to Wasm, thrown, back through the host to Wasm.
    assert_eq!(nested.call(&mut store, 5).unwrap(), 1005);
    assert_eq!(catch.call(&mut store, 0).unwrap(), -1);
}

#[test]
fn tags_link_by_identity_and_type() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let thrower = Module::new(
        &engine,
        r#"(module (tag $t (export "t") (param i64))
            (func (export "throw") (param i64) (throw $t (local.get 0))))"#,
    )
    .unwrap();
    for name in ["a", "b"] {
        let instance = linker.instantiate(&mut store, &thrower).unwrap();
        linker.instance(&mut store, name, instance).unwrap();
    }
    // Two instances of one module have two tags: `a`'s clause does not
    // catch what `b` throws.
    let catcher = Module::new(
        &engine,
        r#"(module
            (import "a" "t" (tag $t (param i64)))
            (import "a" "throw" (func $a (param i64)))
            (import "b" "throw" (func $b (param i64)))
            (type $throws (func (param i64)))
            (table 1 funcref)
            (elem (i32.const 0) $a)
            ;; Tail calls to the other instance: its exception comes back
            ;; to this one's frame below.
            (func $via (param i64) (return_call $a (local.get 0)))
            (func $via_table (param i64)
                (return_call_indirect (type $throws) (local.get 0) (i32.const 0)))
            (func (export "catch") (param i32) (result i64)
                (block $h (result i64)
                    (try_table (catch $t $h)
                        (block $two (block $one (block $zero
                            (br_table $zero $one $two (local.get 0)))
                            (call $a (i64.const 1)) (return (i64.const -1)))
                            (call $b (i64.const 2)) (return (i64.const -1)))
                        (if (i32.eq (local.get 0) (i32.const 2))
                            (then (call $via (i64.const 3)))
                            (else (call $via_table (i64.const 4)))))
                    (return (i64.const -1)))))"#,
    )
    .unwrap();
    let instance = linker.instantiate(&mut store, &catcher).unwrap();
    let catch = instance
        .get_typed_func::<i32, i64>(&mut store, "catch")
        .unwrap();
    assert_eq!(catch.call(&mut store, 0).unwrap(), 1);
    assert!(catch.call(&mut store, 1).unwrap_err().exception().is_some());
    assert_eq!(catch.call(&mut store, 2).unwrap(), 3);
    assert_eq!(catch.call(&mut store, 3).unwrap(), 4);
    // A tag of another type does not link.
    let wrong = Module::new(&engine, r#"(module (import "a" "t" (tag (param i32))))"#).unwrap();
    let err = linker.instantiate(&mut store, &wrong).unwrap_err();
    assert!(
        err.to_string().contains("incompatible import type"),
        "{err}"
    );
    // A tag's type has no results.
    let bad = TagType::new(FuncType::new([], [ValType::I32]));
    assert!(Tag::new(&mut store, &bad).is_err());
}

#[test]
fn a_return_call_leaves_its_try_table_behind() {
    let (mut store, instance) = common::instantiated(
        &Config::new(),
        r#"(module
            (tag $t)
            (func $throw (throw $t))
            (func (export "tail")
                (block $h (try_table (catch $t $h) (return_call $throw))))
            (func (export "plain")
                (block $h (try_table (catch $t $h) (call $throw)))))"#,
    );
    let tail = instance.get_func(&mut store, "tail").unwrap();
    let plain = instance.get_func(&mut store, "plain").unwrap();
    assert!(tail
        .call(&mut store, &[], &mut [])
        .unwrap_err()
        .exception()
        .is_some());
    plain.call(&mut store, &[], &mut []).unwrap();
}

#[test]
fn exception_handling_can_be_switched_off_and_the_tag_monitor_refuses_it() {
    let mut config = Config::new();
    config.wasm_exceptions(false);
    let engine = Engine::new(&config).unwrap();
    let err = Module::new(&engine, "(module (tag))").unwrap_err();
    assert!(err.to_string().contains("exceptions"), "{err}");

    let mut config = Config::new();
    config.attest(Policy::Tags);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(
        &engine,
        r#"(module (tag) (memory 1) (func (export "malloc") (param i32) (result i32) (i32.const 0)))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let err = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap_err();
    assert!(err.to_string().contains("exception"), "{err}");
}

#[test]
fn an_exception_traps_where_it_would_unwind_a_module_without_exception_handling() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let thrower = Module::new(
        &engine,
        r#"(module (tag $t (export "t"))
            (func (export "throw") (throw $t))
            (func (export "tail") (return_call 0)))"#,
    )
    .unwrap();
    let instance = linker.instantiate(&mut store, &thrower).unwrap();
    linker.instance(&mut store, "thrower", instance).unwrap();
    let tag_ty = TagType::new(FuncType::new([], []));
    let tag = Tag::new(&mut store, &tag_ty).unwrap();
    let host_throw = Func::new(
        &mut store,
        FuncType::new([], []),
        move |mut caller, _, _| Err(Error::Exception(ExnRef::new(&mut caller, tag, &[])?)),
    );
    linker
        .define(&mut store, "host", "throw", host_throw)
        .unwrap();
    // No tag, no try_table: compiled without the tests that pass an
    // exception on, so none may unwind its frames.
    let plain = Module::new(
        &engine,
        r#"(module
            (import "thrower" "throw" (func $throw))
            (import "thrower" "tail" (func $tail))
            (import "host" "throw" (func $host))
            (func (export "wasm") (call $throw))
            (func (export "tail") (call $tail))
            (func (export "host") (call $host))
            (func (export "ok") (result i32) (i32.const 5)))"#,
    )
    .unwrap();
    let instance = linker.instantiate(&mut store, &plain).unwrap();
    for name in ["wasm", "tail"] {
        let f = instance.get_func(&mut store, name).unwrap();
        let err = f.call(&mut store, &[], &mut []).unwrap_err();
        let trap = err.trap().unwrap_or_else(|| panic!("{name}: {err}"));
        assert_eq!(trap.kind(), walmart::TrapKind::UnhandledException, "{name}");
    }
    let host = instance.get_func(&mut store, "host").unwrap();
    let err = host.call(&mut store, &[], &mut []).unwrap_err();
    assert!(
        err.to_string().contains("does not use exception handling"),
        "{err}"
    );
    // The store goes on, with nothing pending.
    let ok = instance
        .get_typed_func::<(), i32>(&mut store, "ok")
        .unwrap();
    assert_eq!(ok.call(&mut store, ()).unwrap(), 5);
    let direct = linker
        .get(&mut store, "thrower", "throw")
        .and_then(Extern::into_func)
        .unwrap();
    assert!(direct
        .call(&mut store, &[], &mut [])
        .unwrap_err()
        .exception()
        .is_some());
}

#[test]
fn exnref_values_cross_the_api() {
    let (mut store, instance) = common::instantiated(
        &Config::new(),
        r#"(module
            (tag $t (param i32))
            (func (export "null") (param f64 v128) (result i32 exnref v128 i64 externref)
                (i32.const 1) (ref.null exn) (local.get 1) (i64.const 2) (ref.null extern))
            (func (export "caught") (result exnref) (local exnref)
                (block $h (result i32 exnref)
                    (try_table (catch_ref $t $h) (throw $t (i32.const 9)))
                    (unreachable))
                (local.set 0) (drop) (local.get 0))
            (func (export "rethrow") (param exnref) (throw_ref (local.get 0))))"#,
    );
    let null = instance.get_func(&mut store, "null").unwrap();
    let mut out = vec![Val::I32(0); 5];
    // The v128 argument's slot becomes the exnref's: its upper half
    // stays, and is not the reference's.
    let v = u128::MAX - 5;
    null.call(&mut store, &[Val::F64(0), Val::V128(v)], &mut out)
        .unwrap();
    assert_eq!(
        out,
        [
            Val::I32(1),
            Val::ExnRef(None),
            Val::V128(v),
            Val::I64(2),
            Val::ExternRef(None)
        ]
    );
    let caught = instance.get_func(&mut store, "caught").unwrap();
    let mut out = [Val::ExnRef(None)];
    caught.call(&mut store, &[], &mut out).unwrap();
    let Val::ExnRef(Some(exn)) = out[0] else {
        panic!("{:?}", out[0]);
    };
    assert_eq!(exn.payload(&mut store), [Val::I32(9)]);
    // Handed back to Wasm and thrown again: the same exception.
    let rethrow = instance.get_func(&mut store, "rethrow").unwrap();
    let err = rethrow.call(&mut store, &out, &mut []).unwrap_err();
    assert_eq!(err.exception(), Some(exn));
    let err = rethrow
        .call(&mut store, &[Val::ExnRef(None)], &mut [])
        .unwrap_err();
    assert_eq!(
        err.trap().map(|t| t.kind()),
        Some(walmart::TrapKind::NullReference)
    );
}

#[test]
fn exnref_tables_and_globals_hold_exceptions_and_refuse_other_references() {
    let (mut store, instance) = common::instantiated(
        &Config::new(),
        r#"(module
            (tag $t (param i32))
            (table (export "table") 2 exnref)
            (global (export "global") (mut exnref) (ref.null exn))
            (func (export "keep")
                (block $h (result i32 exnref)
                    (try_table (catch_ref $t $h) (throw $t (i32.const 3)))
                    (unreachable))
                (global.set 0)
                (drop)
                (table.set (i32.const 1) (global.get 0)))
            (func (export "rethrow") (param i32) (throw_ref (table.get (local.get 0)))))"#,
    );
    instance
        .get_func(&mut store, "keep")
        .unwrap()
        .call(&mut store, &[], &mut [])
        .unwrap();
    let table = instance.get_table(&mut store, "table").unwrap();
    let global = instance.get_global(&mut store, "global").unwrap();
    assert_eq!(table.ty(&store).element(), walmart::RefType::ExnRef);
    let Some(Val::ExnRef(Some(exn))) = table.get(&mut store, 1) else {
        panic!("no exception in the table");
    };
    assert_eq!(global.get(&mut store), Val::ExnRef(Some(exn)));
    assert_eq!(exn.payload(&mut store), [Val::I32(3)]);
    // Another kind of reference is refused, not stored for Wasm to throw.
    let err = table
        .set(
            &mut store,
            0,
            Val::ExternRef(Some(walmart::ExternRef::new(1))),
        )
        .unwrap_err();
    assert!(err.to_string().contains("exnref"), "{err}");
    table.set(&mut store, 0, Val::ExnRef(Some(exn))).unwrap();
    let rethrow = instance
        .get_typed_func::<i32, ()>(&mut store, "rethrow")
        .unwrap();
    assert_eq!(
        rethrow.call(&mut store, 0).unwrap_err().exception(),
        Some(exn)
    );
}

#[test]
fn a_loop_that_throws_and_catches_reuses_its_exception() {
    let (mut store, instance) = common::instantiated(
        &Config::new(),
        r#"(module
            (tag $t (param i64))
            (tag $u (param i64))
            (func $throw (param i64) (throw $t (local.get 0)))
            (func (export "loop") (param $n i64) (result i64)
                (local $sum i64)
                (loop $next
                    (block $h (result i64)
                        (try_table (catch $t $h) (call $throw (local.get $n)))
                        (unreachable))
                    (local.set $sum (i64.add (local.get $sum)))
                    (block $all
                        (try_table (catch_all $all) (throw $u (local.get $n))))
                    (local.tee $n (i64.sub (local.get $n) (i64.const 1)))
                    (br_if $next (i64.ne (i64.const 0))))
                (local.get $sum))
            (global $g (export "g") (mut exnref) (ref.null exn))
            (func (export "keep_and_rethrow")
                (block $h (result i64 exnref)
                    (try_table (catch_ref $t $h) (call $throw (i64.const 7)))
                    (unreachable))
                (global.set $g)
                (drop)
                ;; Caught by a plain catch, it is still the global's.
                (block $h2 (result i64)
                    (try_table (catch $t $h2) (throw_ref (global.get $g)))
                    (unreachable))
                (drop))
            (func (export "keep") (result exnref)
                (block $h (result i64 exnref)
                    (try_table (catch_ref $t $h) (call $throw (i64.const 5)))
                    (unreachable))
                (return)))"#,
    );
    let run = instance
        .get_typed_func::<i64, i64>(&mut store, "loop")
        .unwrap();
    assert_eq!(run.call(&mut store, 100_000).unwrap(), 5_000_050_000);
    assert_eq!(store.exceptions_held(), 1);
    // One an exnref holds is the store's for good; each is its own.
    let keep = instance.get_func(&mut store, "keep").unwrap();
    let mut kept = Vec::new();
    for _ in 0..3 {
        let mut out = [Val::ExnRef(None)];
        keep.call(&mut store, &[], &mut out).unwrap();
        kept.push(out[0]);
    }
    assert!(kept[0] != kept[1] && kept[1] != kept[2] && kept[0] != kept[2]);
    assert_eq!(store.exceptions_held(), 3);
    // The loop takes a record of its own again, and reuses it.
    run.call(&mut store, 10).unwrap();
    assert_eq!(store.exceptions_held(), 4);
    run.call(&mut store, 1000).unwrap();
    assert_eq!(store.exceptions_held(), 4);
    for v in &kept {
        let Val::ExnRef(Some(e)) = v else { panic!() };
        assert_eq!(e.payload(&mut store), [Val::I64(5)]);
    }
    instance
        .get_func(&mut store, "keep_and_rethrow")
        .unwrap()
        .call(&mut store, &[], &mut [])
        .unwrap();
    run.call(&mut store, 50).unwrap();
    let g = instance.get_global(&mut store, "g").unwrap();
    let Val::ExnRef(Some(e)) = g.get(&mut store) else {
        panic!("the global lost its exception");
    };
    assert_eq!(e.payload(&mut store), [Val::I64(7)]);
}

#[test]
fn a_tail_call_from_a_module_without_exception_handling_leaves_no_frame_to_trap_in() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let a = Module::new(
        &engine,
        r#"(module (tag $e (export "e") (param i32))
            (func (export "thr") (param i32) (result i32) (throw $e (local.get 0))))"#,
    )
    .unwrap();
    let instance = linker.instantiate(&mut store, &a).unwrap();
    linker.instance(&mut store, "A", instance).unwrap();
    let tag = instance.get_tag(&mut store, "e").unwrap();
    let host_thr = Func::new(
        &mut store,
        FuncType::new([ValType::I32], [ValType::I32]),
        move |mut caller, params, _| Err(Error::Exception(ExnRef::new(&mut caller, tag, params)?)),
    );
    linker.define(&mut store, "host", "thr", host_thr).unwrap();
    // No tag, no try_table: its tail calls leave its caller to receive
    // what the callee throws.
    let m = Module::new(
        &engine,
        r#"(module
            (import "A" "thr" (func $thr (param i32) (result i32)))
            (import "host" "thr" (func $host (param i32) (result i32)))
            (func (export "tail") (param i32) (result i32) (return_call $thr (local.get 0)))
            (func (export "host") (param i32) (result i32) (return_call $host (local.get 0))))"#,
    )
    .unwrap();
    let instance = linker.instantiate(&mut store, &m).unwrap();
    linker.instance(&mut store, "M", instance).unwrap();
    let n = Module::new(
        &engine,
        r#"(module
            (tag $e (import "A" "e") (param i32))
            (import "M" "tail" (func $tail (param i32) (result i32)))
            (import "M" "host" (func $host (param i32) (result i32)))
            (func (export "n") (param i32) (result i32)
                (block $h (result i32)
                    (try_table (result i32) (catch $e $h)
                        (if (result i32) (i32.lt_s (local.get 0) (i32.const 100))
                            (then (call $tail (local.get 0)))
                            (else (call $host (local.get 0)))))
                    (return))))"#,
    )
    .unwrap();
    let n = linker.instantiate(&mut store, &n).unwrap();
    let run = n.get_typed_func::<i32, i32>(&mut store, "n").unwrap();
    assert_eq!(run.call(&mut store, 5).unwrap(), 5);
    assert_eq!(run.call(&mut store, 500).unwrap(), 500);
    // Called by the host, the exception comes back to it.
    for name in ["tail", "host"] {
        let f = instance.get_func(&mut store, name).unwrap();
        let mut out = [Val::I32(0)];
        let err = f.call(&mut store, &[Val::I32(6)], &mut out).unwrap_err();
        assert!(err.exception().is_some(), "{name}: {err}");
    }
}
