//! Tail calls (`return_call`, `return_call_indirect`, Wasm 3.0): a chain
//! of them runs in constant stack under every attestation policy, results
//! pass through every kind of callee, and the allocator's bookkeeping still
//! sees what an allocator function returns by a tail call.

mod common;

use walmart::attest::{DigestVerifier, OnDetect, Policy};
use walmart::{AttestOptions, Config, Engine, Func, FuncType, Linker, Module, Store, Val, ValType};

/// `$even` and `$odd` count `n` down by turns, each storing a word on the
/// way (so attestation has pages to snapshot), `$odd` through the table.
/// `CALL` is `return_call` or `call`, `CALL_INDIRECT` likewise.
const COUNTDOWN: &str = r#"(module
    (type $step (func (param i64 i64) (result i64)))
    (memory (export "memory") 1)
    (table 1 funcref)
    (elem (i32.const 0) $even)
    (func $even (export "even") (param $n i64) (param $acc i64) (result i64)
        (i64.store (i32.wrap_i64 (i64.and (local.get $n) (i64.const 0xff8))) (local.get $acc))
        (if (result i64) (i64.eqz (local.get $n))
            (then (local.get $acc))
            (else (CALL $odd (i64.sub (local.get $n) (i64.const 1))
                             (i64.add (local.get $acc) (i64.const 3))))))
    (func $odd (param $n i64) (param $acc i64) (result i64)
        (if (result i64) (i64.eqz (local.get $n))
            (then (i64.sub (i64.const 0) (local.get $acc)))
            (else (CALL_INDIRECT (type $step)
                    (i64.sub (local.get $n) (i64.const 1))
                    (i64.xor (local.get $acc) (i64.const 1))
                    (i32.const 0))))))"#;

fn countdown(tail: bool) -> String {
    let (call, indirect) = if tail {
        ("return_call", "return_call_indirect")
    } else {
        ("call", "call_indirect")
    };
    COUNTDOWN
        .replace("CALL_INDIRECT", indirect)
        .replace("CALL", call)
}

/// What `even(n, 0)` returns, worked out by a loop.
fn expected(n: i64) -> i64 {
    let (mut n, mut acc, mut even) = (n, 0i64, true);
    while n != 0 {
        acc = if even { acc + 3 } else { acc ^ 1 };
        n -= 1;
        even = !even;
    }
    if even {
        acc
    } else {
        -acc
    }
}

/// Calls `even(n, 0)` in a store of `config`, attested (the digest
/// verifier, detections trapping) unless the policy is `off`.
fn run_countdown(config: &Config, wat: &str, n: i64) -> walmart::Result<(i64, u64)> {
    let engine = Engine::new(config)?;
    let module = Module::new(&engine, wat)?;
    let mut store = Store::new(&engine, ());
    if config.attest != Policy::Off && config.attest != Policy::Tags {
        store.configure_attestation(
            AttestOptions::new()
                .verifier(DigestVerifier::new())
                .on_detect(OnDetect::Trap),
        )?;
    }
    let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
    let even = instance
        .get_typed_func::<(i64, i64), i64>(&mut store, "even")
        .expect("exported");
    let result = even.call(&mut store, (n, 0))?;
    let detections = store
        .finish_attestation()?
        .map_or(0, |stats| stats.detections);
    Ok((result, detections))
}

fn configs() -> Vec<(&'static str, Config)> {
    let mut out = common::policy_configs(true);
    for (_, config) in &mut out {
        // Small, so the plain calls below exhaust it soon.
        config.max_wasm_stack(256 << 10);
    }
    out
}

#[test]
fn a_chain_of_tail_calls_runs_in_constant_stack_under_every_policy() {
    let n = 200_000;
    for (name, config) in configs() {
        let (result, detections) =
            run_countdown(&config, &countdown(true), n).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(result, expected(n), "{name}");
        assert_eq!(detections, 0, "{name}");
        // The same chain of plain calls needs a frame a step: what the
        // tail calls above would have needed had they kept their frames.
        let plain = run_countdown(&config, &countdown(false), n).unwrap_err();
        assert!(
            plain.to_string().contains("call stack exhausted"),
            "{name}: {plain}"
        );
        // Short chains of both agree.
        for n in [0, 1, 2, 7, 100] {
            let tail = run_countdown(&config, &countdown(true), n).unwrap();
            let plain = run_countdown(&config, &countdown(false), n).unwrap();
            assert_eq!(
                (tail.0, plain.0),
                (expected(n), expected(n)),
                "{name}, n = {n}"
            );
        }
    }
}

#[test]
fn tail_calls_reach_host_functions_other_instances_and_many_results() {
    // Twenty results of five types: more than there are return registers,
    // so caller and callee share a return area the tail call passes on.
    let types = ["i32", "i64", "f32", "f64", "v128"];
    let results: Vec<&str> = (0..20).map(|i| types[i % 5]).collect();
    let results = results.join(" ");
    let consts: String = (0..20)
        .map(|i| match types[i % 5] {
            "v128" => format!("(v128.const i32x4 {i} 0 0 {i}) "),
            ty => format!("({ty}.const {i}) "),
        })
        .collect();
    let provider = format!(
        r#"(module
            (func (export "many") (result {results}) {consts})
            (func (export "add") (param i32 i32) (result i32)
                (i32.add (local.get 0) (local.get 1))))"#
    );
    let user = format!(
        r#"(module
            (import "host" "mul" (func $mul (param i32 i32) (result i32)))
            (import "provider" "many" (func $many (result {results})))
            (import "provider" "add" (func $add (param i32 i32) (result i32)))
            (type $binary (func (param i32 i32) (result i32)))
            (table 2 funcref)
            (elem (i32.const 0) $mul $add)
            (func (export "host") (param i32 i32) (result i32)
                (return_call $mul (local.get 0) (local.get 1)))
            (func (export "host_indirect") (param i32 i32) (result i32)
                (return_call_indirect (type $binary) (local.get 0) (local.get 1) (i32.const 0)))
            (func (export "other") (param i32 i32) (result i32)
                (return_call_indirect (type $binary) (local.get 0) (local.get 1) (i32.const 1)))
            (func $local_many (result {results}) (return_call $many))
            (func (export "many") (result {results}) (return_call $local_many)))"#
    );
    for (name, config) in configs() {
        let engine = Engine::new(&config).unwrap();
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        let mul = Func::new(
            &mut store,
            FuncType::new([ValType::I32, ValType::I32], [ValType::I32]),
            |_, args, out| {
                out[0] = Val::I32(args[0].i32().unwrap() * args[1].i32().unwrap());
                Ok(())
            },
        );
        linker.define(&mut store, "host", "mul", mul).unwrap();
        let provider = Module::new(&engine, &provider).unwrap();
        let provider = linker.instantiate(&mut store, &provider).unwrap();
        linker.instance(&mut store, "provider", provider).unwrap();
        let user = Module::new(&engine, &user).unwrap();
        let user = linker.instantiate(&mut store, &user).unwrap();
        for (export, expected) in [("host", 42), ("host_indirect", 42), ("other", 13)] {
            let f = user
                .get_typed_func::<(i32, i32), i32>(&mut store, export)
                .unwrap();
            assert_eq!(
                f.call(&mut store, (6, 7)).unwrap(),
                expected,
                "{name}: {export}"
            );
        }
        let many = user.get_func(&mut store, "many").unwrap();
        let mut out = vec![Val::I32(0); 20];
        many.call(&mut store, &[], &mut out).unwrap();
        for (i, v) in out.iter().enumerate() {
            let got = match v {
                Val::I32(x) => *x as i64,
                Val::I64(x) => *x,
                Val::F32(bits) => f32::from_bits(*bits) as i64,
                Val::F64(bits) => f64::from_bits(*bits) as i64,
                Val::V128(x) => (*x & 0xffff_ffff) as i64,
                other => panic!("{name}: result {i}: {other:?}"),
            };
            assert_eq!(got, i as i64, "{name}: result {i} ({v:?})");
        }
    }
}

#[test]
fn an_allocator_returning_by_a_tail_call_is_still_tracked() {
    // `malloc` returns what its helper returns, by a tail call: the
    // tracker must still see the chunk `malloc` returned, so such a
    // function calls and returns instead.
    let wat = r#"(module
        (memory (export "memory") 1)
        (global $next (mut i32) (i32.const 1024))
        (func $bump (param $n i32) (result i32)
            (local $p i32)
            (local.set $p (global.get $next))
            (global.set $next (i32.add (global.get $next) (local.get $n)))
            (local.get $p))
        (func $malloc (export "malloc") (param $n i32) (result i32)
            (return_call $bump (local.get $n)))
        (func $free (export "free") (param i32))
        (func (export "run") (result i32)
            (local $a i32)
            (local.set $a (call $malloc (i32.const 16)))
            (call $free (local.get $a))
            (call $malloc (i32.const 32))))"#;
    let mut config = Config::new();
    config.track_allocations(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let run = instance
        .get_typed_func::<(), i32>(&mut store, "run")
        .unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), 1040);
    let heap = store.heap();
    assert_eq!(heap.live().collect::<Vec<_>>(), [(1040, 32)]);
    assert_eq!(heap.freed().collect::<Vec<_>>(), [(1024, 16)]);
}

#[test]
fn tail_calls_can_be_switched_off() {
    let mut config = Config::new();
    config.wasm_tail_call(false);
    let engine = Engine::new(&config).unwrap();
    let wat = "(module (func $f (return_call $f)))";
    let err = Module::new(&engine, wat).unwrap_err().to_string();
    assert!(err.contains("tail call"), "{err}");
    assert!(Module::new(&Engine::default(), wat).is_ok());
}
