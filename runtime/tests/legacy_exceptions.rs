//! The legacy exception-handling instructions (`try`, `catch`,
//! `catch_all`, `delegate`, `rethrow`), as LLVM emits them for C++
//! exceptions: catches in order, payloads, exceptions past calls,
//! `rethrow` from nested catches, `delegate` to an outer `try` and to the
//! caller, exceptions raised inside a catch going outward, and the
//! interplay with `try_table` and `throw_ref`, under every policy that
//! runs exception handling.

mod common;

use walmart::{Config, Engine, Module, Val};

const WAT: &str = r#"(module
    (tag $a (param i32))
    (tag $b (param i64 i32))
    (tag $c)
    (func $throw_a (param i32) (local.get 0) (throw $a))
    (func $deep (param i32) (param $n i32)
        (if (local.get $n)
            (then (call $deep (local.get 0) (i32.sub (local.get $n) (i32.const 1))))
            (else (call $throw_a (local.get 0)))))
    (func $throw_b (param i64 i32) (local.get 0) (local.get 1) (throw $b))
    (func $throw_c (throw $c))

    ;; The payload of $a from three calls down, plus one.
    (func (export "catch_deep") (param i32) (result i32)
        try (result i32)
            (call $deep (local.get 0) (i32.const 3))
            (i32.const -1)
        catch $a
            (i32.add (i32.const 1))
        end)

    ;; Which catch takes it: 1 for $a, 2 for $b (payload summed in), 3
    ;; for anything else.
    (func (export "which") (param $k i32) (result i64)
        try (result i64)
            (if (i32.eq (local.get $k) (i32.const 0)) (then (call $throw_a (i32.const 5))))
            (if (i32.eq (local.get $k) (i32.const 1))
                (then (call $throw_b (i64.const 40) (i32.const 2))))
            (call $throw_c)
            (i64.const -1)
        catch $a
            drop
            (i64.const 1)
        catch $b
            i64.extend_i32_u
            i64.add
        catch_all
            (i64.const 3)
        end)

    ;; No catch of the inner try matches: the outer one takes it.
    (func (export "outward") (result i32)
        try (result i32)
            try (result i32)
                (call $throw_c)
                (i32.const -1)
            catch $a
                drop
                (i32.const -2)
            end
        catch $c
            (i32.const 7)
        end)

    ;; rethrow 0 from a catch, and rethrow 2 (past the `if`) from a
    ;; catch_all inside it: both reach the outer catch with the first
    ;; payload.
    (func (export "rethrow") (param $nested i32) (result i32)
        try (result i32)
            try
                (call $throw_a (i32.const 11))
            catch $a
                drop
                (if (local.get $nested)
                    (then
                        try
                            (call $throw_c)
                        catch_all
                            (rethrow 2)
                        end))
                (rethrow 0)
            end
            (i32.const -1)
        catch $a
            (i32.add (i32.const 100))
        end)

    ;; delegate 1: the inner try's exception skips the middle try's
    ;; catch, to the outer try's.
    (func (export "delegate") (result i32)
        try (result i32)
            try (result i32)
                try
                    (call $throw_a (i32.const 3))
                delegate 1
                (i32.const -1)
            catch $a
                drop
                (i32.const -2)
            end
        catch $a
            (i32.mul (i32.const 10))
        end)

    ;; delegate to the function's label: out to the caller.
    (func $delegating (param i32)
        try
            try
                (call $throw_a (local.get 0))
            delegate 1
        catch_all
            unreachable
        end)
    (func (export "delegate_out") (result i32)
        try (result i32)
            (call $delegating (i32.const 9))
            (i32.const -1)
        catch $a
        end)

    ;; An exception raised in a catch goes outward, not to its own try.
    (func (export "in_catch") (result i32)
        try (result i32)
            try (result i32)
                (call $throw_c)
                (i32.const -1)
            catch $c
                (call $throw_a (i32.const 4))
                (i32.const -2)
            catch $a
                drop
                (i32.const -3)
            end
        catch $a
        end)

    ;; A try's parameters, and results when nothing is thrown.
    (func (export "params") (param i32) (result i32)
        (local.get 0)
        try (param i32) (result i32)
            (i32.mul (i32.const 2))
        catch_all
            (i32.const -1)
        end)

    ;; try_table catches what legacy code throws again; a legacy catch
    ;; takes what throw_ref rethrows.
    (func (export "mixed") (result i32)
        (local $e exnref)
        (block $h (result i32 exnref)
            (try_table (catch_ref $a $h)
                try
                    (call $throw_a (i32.const 6))
                catch_all
                    (rethrow 0)
                end)
            (return (i32.const -1)))
        (local.set $e)
        drop
        try (result i32)
            (throw_ref (local.get $e))
        catch $a
            (i32.add (i32.const 1000))
        end)

    ;; A try without catches is a block: its exception goes on out.
    (func (export "no_catches") (result i32)
        try (result i32)
            try
                (call $throw_a (i32.const 2))
            end
            (i32.const -1)
        catch $a
        end)

    ;; delegate 0 from a catch of the try it names: that try is past its
    ;; body, so the exception goes further out.
    (func (export "delegate_in_catch") (result i32)
        try (result i32)
            try (result i32)
                (call $throw_c)
                (i32.const -1)
            catch $c
                try
                    (call $throw_a (i32.const 8))
                delegate 0
                (i32.const -2)
            catch $a
                drop
                (i32.const -3)
            end
        catch $a
        end)

    ;; A body that branches out of its try.
    (func (export "br_body") (result i32)
        try (result i32)
            (br 0 (i32.const 5))
        catch_all
            (i32.const -1)
        end)

    ;; A tail call leaves the try behind: its exception is the caller's.
    (func $tail (result i32) (call $throw_a (i32.const 12)) (i32.const -1))
    (func $tail_caller (result i32)
        try (result i32)
            (return_call $tail)
        catch_all
            (i32.const -1)
        end)
    (func (export "tail") (result i32)
        try (result i32)
            (call $tail_caller)
        catch $a
        end)

    ;; Uncaught: the host sees $b.
    (func (export "uncaught")
        try
            (call $throw_b (i64.const 1) (i32.const 2))
        catch $a
            drop
        end)

    ;; Many throws caught and rethrown: their records are freed or
    ;; collected as they go.
    (func (export "many") (param $n i32) (result i32)
        (local $sum i32)
        (loop $l
            try
                try
                    (call $throw_a (local.get $n))
                catch_all
                    (rethrow 0)
                end
            catch $a
                (local.set $sum (i32.add (local.get $sum)))
            end
            (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
        (local.get $sum)))"#;

use common::call;

#[test]
fn legacy_handlers_catch_rethrow_and_delegate_under_every_policy() {
    // The tag monitor refuses modules that use exception handling.
    for (name, mut config) in common::policy_configs(false) {
        config.wasm_legacy_exceptions(true);
        let (mut store, inst) = common::instantiated(&config, WAT);
        let s = &mut store;
        let i = |v: i32| Ok(Val::I32(v));
        assert_eq!(
            call(s, &inst, "catch_deep", &[Val::I32(41)]),
            i(42),
            "{name}"
        );
        for (k, want) in [(0, 1), (1, 42), (2, 3)] {
            assert_eq!(
                call(s, &inst, "which", &[Val::I32(k)]),
                Ok(Val::I64(want)),
                "{name}: {k}"
            );
        }
        assert_eq!(call(s, &inst, "outward", &[]), i(7), "{name}");
        assert_eq!(call(s, &inst, "rethrow", &[Val::I32(0)]), i(111), "{name}");
        assert_eq!(call(s, &inst, "rethrow", &[Val::I32(1)]), i(111), "{name}");
        assert_eq!(call(s, &inst, "delegate", &[]), i(30), "{name}");
        assert_eq!(call(s, &inst, "delegate_out", &[]), i(9), "{name}");
        assert_eq!(call(s, &inst, "in_catch", &[]), i(4), "{name}");
        assert_eq!(call(s, &inst, "params", &[Val::I32(21)]), i(42), "{name}");
        assert_eq!(call(s, &inst, "mixed", &[]), i(1006), "{name}");
        assert_eq!(call(s, &inst, "no_catches", &[]), i(2), "{name}");
        assert_eq!(call(s, &inst, "delegate_in_catch", &[]), i(8), "{name}");
        assert_eq!(call(s, &inst, "br_body", &[]), i(5), "{name}");
        assert_eq!(call(s, &inst, "tail", &[]), i(12), "{name}");
        let err = call(s, &inst, "uncaught", &[]).unwrap_err();
        assert!(err.contains("exception"), "{name}: {err}");
        let n = 100_000;
        let want = (1..=n).sum::<i64>() as i32;
        assert_eq!(
            call(s, &inst, "many", &[Val::I32(n as i32)]),
            i(want),
            "{name}"
        );
    }
}

#[test]
fn legacy_instructions_are_refused_unless_switched_on() {
    let engine = Engine::new(&Config::new()).unwrap();
    let err = Module::new(&engine, WAT).unwrap_err().to_string();
    assert!(err.contains("legacy_exceptions"), "{err}");
    // They build on exception handling: without it they stay refused.
    let mut config = Config::new();
    config.wasm_legacy_exceptions(true).wasm_exceptions(false);
    let engine = Engine::new(&config).unwrap();
    assert!(Module::new(&engine, WAT).is_err());
}

/// Random programs of the legacy instructions nested with blocks,
/// branches, calls and throws (`scripts/legacy-eh-programs.py`), each
/// asserted with the result the script's own model of the proposal gives:
/// the second opinion wasmtime cannot be here.
#[test]
fn random_legacy_programs_agree_with_the_model_under_every_policy() {
    let source = include_str!("wat/legacy_exceptions_random.wast");
    let directives = source.matches("(module").count() * 2;
    // And with fuel and epoch checks, whose counts follow every path out
    // of a `try` (the runner gives a budget and a deadline never reached).
    let mut interrupts = walmart::Config::new();
    interrupts.consume_fuel(true).epoch_interruption(true);
    let configs = common::policy_configs(false)
        .into_iter()
        .chain([("fuel and epochs", interrupts)]);
    for (name, mut config) in configs {
        config.wasm_legacy_exceptions(true);
        let opts = walmart::wast::RunOptions {
            config,
            ..Default::default()
        };
        let report = walmart::wast::run_wast("legacy_exceptions_random.wast", source, &opts);
        let failures: Vec<String> = report
            .failures
            .iter()
            .take(5)
            .map(|f| format!("line {}: {}", f.line, f.message))
            .collect();
        assert!(failures.is_empty(), "{name}: {failures:#?}");
        assert_eq!((report.passed, report.skipped), (directives, 0), "{name}");
    }
}
