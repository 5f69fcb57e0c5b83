//! Wasm 2.0's proposals and GC switched off one by one (wasmtime's
//! `Config::wasm_simd` and the rest): a module that uses one is refused,
//! with a message that names it, and accepted with it on (the default).

use walmart::{Config, Engine, Module};

type Switch = fn(&mut Config, bool) -> &mut Config;

#[test]
fn each_switch_refuses_what_it_covers() {
    let cases: [(&str, Switch, &str); 6] = [
        (
            "simd",
            Config::wasm_simd,
            r#"(module (func (result v128) (v128.const i64x2 0 0)))"#,
        ),
        (
            "relaxed",
            Config::wasm_relaxed_simd,
            r#"(module (func (param v128 v128) (result v128)
                (i8x16.relaxed_swizzle (local.get 0) (local.get 1))))"#,
        ),
        (
            "bulk memory",
            Config::wasm_bulk_memory,
            r#"(module (memory 1) (func (memory.fill (i32.const 0) (i32.const 0) (i32.const 0))))"#,
        ),
        (
            "reference types",
            Config::wasm_reference_types,
            r#"(module (func (result externref) (ref.null extern)))"#,
        ),
        (
            "multi-value",
            Config::wasm_multi_value,
            r#"(module (func (result i32 i32) (i32.const 1) (i32.const 2)))"#,
        ),
        (
            "gc",
            Config::wasm_gc,
            r#"(module (type (struct (field i32)))
                (func (result i32) (struct.get 0 0 (struct.new 0 (i32.const 5)))))"#,
        ),
    ];
    for (name, switch, wat) in cases {
        assert!(
            Module::new(&Engine::default(), wat).is_ok(),
            "{name} on by default"
        );
        let mut config = Config::new();
        switch(&mut config, false);
        let engine = Engine::new(&config).unwrap();
        let err = Module::new(&engine, wat)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(err.to_lowercase().contains(name), "{name}: {err}");
    }
}

#[test]
fn what_builds_on_a_switched_off_proposal_goes_with_it() {
    let refused = |configure: fn(&mut Config), wat: &str| {
        let mut config = Config::new();
        configure(&mut config);
        Module::new(&Engine::new(&config).unwrap(), wat).is_err()
    };
    let relaxed = r#"(module (func (param v128 v128) (result v128)
        (i8x16.relaxed_swizzle (local.get 0) (local.get 1))))"#;
    assert!(refused(
        |c| {
            c.wasm_simd(false);
        },
        relaxed
    ));
    let call_ref =
        r#"(module (type $t (func)) (func (param (ref $t)) (call_ref $t (local.get 0))))"#;
    assert!(refused(
        |c| {
            c.wasm_reference_types(false);
        },
        call_ref
    ));
    let throw = r#"(module (tag $e) (func (throw $e)))"#;
    assert!(refused(
        |c| {
            c.wasm_reference_types(false);
        },
        throw
    ));
    // Reference types' element segments and threads' passive data are
    // bulk memory's.
    let shared = r#"(module (memory 1 1 shared))"#;
    assert!(refused(
        |c| {
            c.wasm_bulk_memory(false);
        },
        shared
    ));
    assert!(refused(
        |c| {
            c.wasm_bulk_memory(false);
        },
        throw
    ));
    // GC with function references (as `-W function-references=n` always
    // meant).
    let gc = r#"(module (type (struct)))"#;
    assert!(refused(
        |c| {
            c.wasm_function_references(false);
        },
        gc
    ));
    assert!(!refused(|_| {}, gc));
    // All switched off together, a Wasm 1.0 engine.
    let mut config = Config::new();
    config
        .wasm_2_0_only()
        .wasm_simd(false)
        .wasm_bulk_memory(false)
        .wasm_reference_types(false)
        .wasm_multi_value(false);
    let engine = Engine::new(&config).unwrap();
    Module::new(
        &engine,
        r#"(module (memory 1) (func (export "f") (result i32) (i32.load (i32.const 0))))"#,
    )
    .unwrap();
}

#[test]
fn without_bulk_memory_a_segment_that_does_not_fit_writes_nothing() {
    use walmart::{Extern, Instance, Memory, MemoryType, Store, Table, TableType, Val};
    let mut config = Config::new();
    config.wasm_bulk_memory(false);
    let engine = Engine::new(&config).unwrap();
    let mut store = Store::new(&engine, ());
    let memory = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    let table = Table::new(
        &mut store,
        TableType::new(walmart::RefType::FuncRef, 2, None),
        Val::FuncRef(None),
    )
    .unwrap();
    let data = Module::new(
        &engine,
        r#"(module (import "" "m" (memory 1))
            (data (i32.const 0) "a") (data (i32.const 65535) "bc"))"#,
    )
    .unwrap();
    let err = Instance::new(&mut store, &data, &[Extern::Memory(memory)]).unwrap_err();
    assert!(
        err.to_string().contains("data segment does not fit"),
        "{err}"
    );
    assert!(err.trap().is_none());
    assert_eq!(memory.data(&store)[0], 0, "the first segment was written");
    let elems = Module::new(
        &engine,
        r#"(module (import "" "t" (table 2 funcref)) (func $f)
            (elem (i32.const 0) $f) (elem (i32.const 1) $f $f))"#,
    )
    .unwrap();
    let err = Instance::new(&mut store, &elems, &[Extern::Table(table)]).unwrap_err();
    assert!(
        err.to_string().contains("elements segment does not fit"),
        "{err}"
    );
    assert!(matches!(table.get(&mut store, 0), Some(Val::FuncRef(None))));
    // With bulk memory (the default), segments apply in order and the
    // one that does not fit traps, the earlier ones written.
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let memory = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    let data = Module::new(&engine, data_wat()).unwrap();
    let err = Instance::new(&mut store, &data, &[Extern::Memory(memory)]).unwrap_err();
    assert!(err.trap().is_some(), "{err}");
    assert_eq!(memory.data(&store)[0], b'a');
}

fn data_wat() -> &'static str {
    r#"(module (import "" "m" (memory 1))
        (data (i32.const 0) "a") (data (i32.const 65535) "bc"))"#
}
