//! 64-bit memories and tables (memory64, Wasm 3.0) under every policy:
//! indices past 4 GiB trap instead of wrapping, and sizes and growth are
//! `i64`.

mod common;

use walmart::attest::Policy;
use walmart::{Config, Engine, Linker, Module, Store, Val};

const WAT: &str = r#"(module
    (type $unary (func (param i64) (result i64)))
    (memory $m (export "memory") i64 1 4)
    (table $t (export "table") i64 4 8 funcref)
    (elem (table $t) (i64.const 1) func $double $negate)
    (elem $later func $negate)
    (func $double (param i64) (result i64) (i64.add (local.get 0) (local.get 0)))
    (func $negate (param i64) (result i64) (i64.sub (i64.const 0) (local.get 0)))
    ;; Stores and loads an i64 at `addr`.
    (func (export "store_load") (param $addr i64) (param $v i64) (result i64)
        (i64.store (local.get $addr) (local.get $v))
        (i64.load (local.get $addr)))
    (func (export "call") (param $i i64) (param $x i64) (result i64)
        (call_indirect $t (type $unary) (local.get $x) (local.get $i)))
    (func (export "grow_memory") (param i64) (result i64) (memory.grow (local.get 0)))
    (func (export "memory_size") (result i64) (memory.size))
    (func (export "grow_table") (param i64) (result i64)
        (table.grow $t (ref.null func) (local.get 0)))
    (func (export "table_size") (result i64) (table.size $t))
    (func (export "is_null") (param i64) (result i32)
        (ref.is_null (table.get $t (local.get 0))))
    (func (export "set") (param i64)
        (table.set $t (local.get 0) (ref.func $double)))
    (func (export "fill") (param i64 i64)
        (table.fill $t (local.get 0) (ref.func $negate) (local.get 1)))
    (func (export "copy") (param i64 i64 i64)
        (table.copy $t $t (local.get 0) (local.get 1) (local.get 2)))
    (func (export "init") (param i64 i32 i32)
        (table.init $t $later (local.get 0) (local.get 1) (local.get 2)))
    ;; An offset 8 bytes short of 2^64: with index 8 the sum wraps to 0.
    (func (export "load_far") (param i64) (result i64)
        (i64.load offset=0xffff_ffff_ffff_fff8 (local.get 0)))
    (func (export "store_far") (param i64)
        (i64.store offset=0xffff_ffff_ffff_fff8 (local.get 0) (i64.const 1)))
    (func (export "fill_memory") (param i64 i32 i64)
        (memory.fill (local.get 0) (local.get 1) (local.get 2))))"#;

/// 2^32: an index a truncation to 32 bits would read as 0.
const WRAPS_TO_ZERO: i64 = 1 << 32;

fn check(name: &str, config: &Config) {
    let (mut store, instance) = common::instantiated(config, WAT);
    let mut call = |export: &str, args: &[Val]| -> Result<Option<Val>, String> {
        let f = instance.get_func(&mut store, export).unwrap();
        let n = f.ty(&store).results().len();
        let mut out = vec![Val::I32(0); n];
        f.call(&mut store, args, &mut out)
            .map_err(|e| e.to_string())?;
        Ok(out.first().cloned())
    };
    let i64s = |v: &[i64]| v.iter().map(|x| Val::I64(*x)).collect::<Vec<_>>();
    let traps = |r: Result<Option<Val>, String>, what: &str| {
        let e = r.expect_err(&format!("{name}: {what} must trap"));
        assert!(e.contains("out of bounds"), "{name}: {what}: {e}");
    };

    // Memory: the last word of the first page, then past the end, then
    // 4 GiB on, which wraps to 0 in 32 bits.
    let got = call("store_load", &i64s(&[65528, 7])).unwrap();
    assert_eq!(got.and_then(|v| v.i64()), Some(7), "{name}");
    traps(
        call("store_load", &i64s(&[65532, 7])),
        "a store across the end",
    );
    traps(
        call("store_load", &i64s(&[WRAPS_TO_ZERO, 7])),
        "a store at 4 GiB",
    );
    for index in [0, 8, 16] {
        traps(
            call("load_far", &i64s(&[index])),
            "a load at an offset near 2^64",
        );
        traps(
            call("store_far", &i64s(&[index])),
            "a store at an offset near 2^64",
        );
    }
    traps(
        call(
            "fill_memory",
            &[Val::I64(WRAPS_TO_ZERO), Val::I32(1), Val::I64(1)],
        ),
        "a fill at 4 GiB",
    );
    traps(
        call(
            "fill_memory",
            &[Val::I64(0), Val::I32(1), Val::I64(WRAPS_TO_ZERO + 1)],
        ),
        "a fill of 4 GiB and one byte",
    );
    assert_eq!(
        call("memory_size", &[]).unwrap(),
        Some(Val::I64(1)),
        "{name}"
    );
    assert_eq!(
        call("grow_memory", &i64s(&[WRAPS_TO_ZERO + 1])).unwrap(),
        Some(Val::I64(-1)),
        "{name}: growth by 2^32 + 1 pages is refused, not growth by 1"
    );
    assert_eq!(
        call("grow_memory", &i64s(&[1])).unwrap(),
        Some(Val::I64(1)),
        "{name}"
    );
    assert_eq!(
        call("memory_size", &[]).unwrap(),
        Some(Val::I64(2)),
        "{name}"
    );

    // Tables: the active segment's two functions at 1 and 2.
    assert_eq!(
        call("call", &i64s(&[1, 21])).unwrap(),
        Some(Val::I64(42)),
        "{name}"
    );
    assert_eq!(
        call("call", &i64s(&[2, 5])).unwrap(),
        Some(Val::I64(-5)),
        "{name}"
    );
    let e = call("call", &i64s(&[0, 5])).unwrap_err();
    assert!(e.contains("uninitialized element"), "{name}: {e}");
    let e = call("call", &i64s(&[WRAPS_TO_ZERO + 1, 5])).unwrap_err();
    assert!(e.contains("undefined element"), "{name}: {e}");
    traps(
        call("is_null", &i64s(&[WRAPS_TO_ZERO])),
        "table.get at 2^32",
    );
    traps(
        call("set", &i64s(&[WRAPS_TO_ZERO + 3])),
        "table.set at 2^32 + 3",
    );
    traps(
        call("fill", &i64s(&[WRAPS_TO_ZERO, 1])),
        "table.fill at 2^32",
    );
    traps(
        call("fill", &i64s(&[0, WRAPS_TO_ZERO + 1])),
        "table.fill of 2^32 + 1",
    );
    traps(
        call("copy", &i64s(&[WRAPS_TO_ZERO, 0, 1])),
        "table.copy to 2^32",
    );
    traps(
        call("copy", &i64s(&[0, WRAPS_TO_ZERO, 1])),
        "table.copy from 2^32",
    );
    traps(
        call("init", &[Val::I64(WRAPS_TO_ZERO), Val::I32(0), Val::I32(1)]),
        "table.init at 2^32",
    );
    assert_eq!(
        call("table_size", &[]).unwrap(),
        Some(Val::I64(4)),
        "{name}"
    );
    assert_eq!(
        call("grow_table", &i64s(&[WRAPS_TO_ZERO + 1])).unwrap(),
        Some(Val::I64(-1)),
        "{name}: growth by 2^32 + 1 elements is refused, not growth by 1"
    );
    assert_eq!(
        call("grow_table", &i64s(&[2])).unwrap(),
        Some(Val::I64(4)),
        "{name}"
    );
    assert_eq!(
        call("grow_table", &i64s(&[3])).unwrap(),
        Some(Val::I64(-1)),
        "{name}"
    );
    assert_eq!(
        call("table_size", &[]).unwrap(),
        Some(Val::I64(6)),
        "{name}"
    );
    call("set", &i64s(&[5])).unwrap();
    assert_eq!(
        call("call", &i64s(&[5, 4])).unwrap(),
        Some(Val::I64(8)),
        "{name}"
    );
    call("fill", &i64s(&[3, 2])).unwrap();
    assert_eq!(
        call("call", &i64s(&[4, 4])).unwrap(),
        Some(Val::I64(-4)),
        "{name}"
    );
    call("copy", &i64s(&[0, 1, 1])).unwrap();
    assert_eq!(
        call("call", &i64s(&[0, 4])).unwrap(),
        Some(Val::I64(8)),
        "{name}"
    );
    call("init", &[Val::I64(1), Val::I32(0), Val::I32(1)]).unwrap();
    assert_eq!(
        call("call", &i64s(&[1, 4])).unwrap(),
        Some(Val::I64(-4)),
        "{name}"
    );
}

#[test]
fn sixty_four_bit_memories_and_tables_neither_wrap_nor_truncate() {
    for (name, policy, guarded) in [
        ("off", Policy::Off, true),
        ("off, bounds-checked", Policy::Off, false),
        ("coarse", Policy::Coarse, true),
        ("fine", Policy::Fine, true),
    ] {
        let mut config = Config::new();
        config.attest(policy).guarded_memory(guarded);
        check(name, &config);
    }
}

/// The tag monitor's shadow covers 32-bit memories: a module whose first
/// memory is 64-bit is refused, not run unwatched.
#[test]
fn the_tag_monitor_refuses_a_64_bit_first_memory() {
    let mut config = Config::new();
    config.attest(Policy::Tags);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let err = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("watches 32-bit memories") && err.contains("64-bit"),
        "{err}"
    );
}

#[test]
fn a_64_bit_table_import_needs_a_64_bit_table() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let provider = Module::new(&engine, WAT).unwrap();
    let provider = linker.instantiate(&mut store, &provider).unwrap();
    linker.instance(&mut store, "p", provider).unwrap();
    let wants64 = r#"(module (import "p" "table" (table i64 1 funcref)))"#;
    let wants32 = r#"(module (import "p" "table" (table 1 funcref)))"#;
    let m64 = Module::new(&engine, wants64).unwrap();
    assert!(linker.instantiate(&mut store, &m64).is_ok());
    let m32 = Module::new(&engine, wants32).unwrap();
    let err = linker
        .instantiate(&mut store, &m32)
        .unwrap_err()
        .to_string();
    assert!(err.contains("incompatible import type"), "{err}");
    let mut config = Config::new();
    config.wasm_memory64(false);
    let err = Module::new(&Engine::new(&config).unwrap(), WAT)
        .unwrap_err()
        .to_string();
    assert!(err.contains("memory64"), "{err}");
}

#[test]
fn a_data_segment_at_an_offset_near_2_64_fails_to_instantiate() {
    for (name, policy) in [("off", Policy::Off), ("coarse", Policy::Coarse)] {
        let mut config = Config::new();
        config.attest(policy);
        let engine = Engine::new(&config).unwrap();
        let wat = r#"(module (memory i64 1) (data (i64.const -1) "ab"))"#;
        let module = Module::new(&engine, wat).unwrap();
        let mut store = Store::new(&engine, ());
        let err = Linker::new(&engine)
            .instantiate(&mut store, &module)
            .unwrap_err()
            .to_string();
        assert!(err.contains("out of bounds"), "{name}: {err}");
    }
}
