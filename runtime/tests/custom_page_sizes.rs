//! Memories of one-byte pages (the custom-page-sizes proposal): sizes and
//! growth in bytes, every access bounds-checked at the byte, imports that
//! match page sizes, and attestation's refusal.

mod common;

use walmart::attest::Policy;
use walmart::{Config, Engine, Linker, Memory, MemoryType, Module, Store, Val};

const BYTES: &str = r#"(module
    (memory (export "memory") 3 70000 (pagesize 1))
    (func (export "size") (result i32) (memory.size))
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
    (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
    (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1))))"#;

use common::call;

#[test]
fn one_byte_pages_bound_every_access_at_the_byte() {
    for guarded in [true, false] {
        let mut config = Config::new();
        config.wasm_custom_page_sizes(true).guarded_memory(guarded);
        let (mut store, instance) = common::instantiated(&config, BYTES);
        let oob = Err("wasm trap: out of bounds memory access".to_string());
        let i = |v: i32| Val::I32(v);
        assert_eq!(call(&mut store, &instance, "size", &[]), Ok(i(3)));
        // Three bytes: a 4-byte access at 0 is out of bounds, though the
        // host page behind them is mapped.
        assert_eq!(call(&mut store, &instance, "load", &[i(0)]), oob);
        assert_eq!(call(&mut store, &instance, "grow", &[i(1)]), Ok(i(3)));
        assert_eq!(
            call(&mut store, &instance, "store", &[i(0), i(-7)]),
            Ok(i(0))
        );
        assert_eq!(call(&mut store, &instance, "load", &[i(0)]), Ok(i(-7)));
        assert_eq!(call(&mut store, &instance, "load", &[i(1)]), oob);
        // Past a host page and past 64 KiB, a byte at a time.
        assert_eq!(call(&mut store, &instance, "grow", &[i(69_990)]), Ok(i(4)));
        assert_eq!(call(&mut store, &instance, "size", &[]), Ok(i(69_994)));
        assert_eq!(
            call(&mut store, &instance, "store", &[i(69_990), i(5)]),
            Ok(i(0))
        );
        assert_eq!(call(&mut store, &instance, "load", &[i(69_990)]), Ok(i(5)));
        assert_eq!(call(&mut store, &instance, "load", &[i(69_991)]), oob);
        // The declared maximum holds.
        assert_eq!(call(&mut store, &instance, "grow", &[i(7)]), Ok(i(-1)));
        assert_eq!(call(&mut store, &instance, "grow", &[i(6)]), Ok(i(69_994)));
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        assert_eq!(memory.size(&store), 70_000);
        assert_eq!(memory.data_size(&store), 70_000);
        assert_eq!(memory.ty(&store).page_size(), 1);
        assert!(memory.write(&mut store, 69_997, &[1, 2, 3]).is_ok());
        assert!(memory.write(&mut store, 69_998, &[1, 2, 3]).is_err());
    }
}

#[test]
fn imports_match_page_sizes_and_attestation_refuses_byte_pages() {
    let mut config = Config::new();
    config.wasm_custom_page_sizes(true);
    let engine = Engine::new(&config).unwrap();
    let mut store = Store::new(&engine, ());
    let ty = MemoryType::new(10, Some(20))
        .with_page_size_log2(0)
        .unwrap();
    assert!(MemoryType::new(1, None).with_page_size_log2(12).is_none());
    let bytes = Memory::new(&mut store, ty).unwrap();
    assert_eq!(bytes.data_size(&store), 10);
    assert_eq!(bytes.grow(&mut store, 5).unwrap(), 10);
    assert_eq!(bytes.data_size(&store), 15);
    let plain = Memory::new(&mut store, MemoryType::new(1, Some(2))).unwrap();
    let wants_bytes = Module::new(
        &engine,
        r#"(module (import "m" "mem" (memory 1 20 (pagesize 1))))"#,
    )
    .unwrap();
    let wants_pages = Module::new(&engine, r#"(module (import "m" "mem" (memory 1 20)))"#).unwrap();
    let mut linker = Linker::new(&engine);
    linker.define(&mut store, "m", "mem", bytes).unwrap();
    linker.instantiate(&mut store, &wants_bytes).unwrap();
    assert!(linker.instantiate(&mut store, &wants_pages).is_err());
    linker.allow_shadowing(true);
    linker.define(&mut store, "m", "mem", plain).unwrap();
    assert!(linker.instantiate(&mut store, &wants_bytes).is_err());
    // A shared memory of one-byte pages is bounds-checked in any engine,
    // guarded or not, so either takes it.
    let shared_ty = MemoryType::shared(100, 200).with_page_size_log2(0).unwrap();
    let shared = walmart::SharedMemory::new(&engine, shared_ty).unwrap();
    let from_shared = Memory::from_shared(&mut store, &shared).unwrap();
    assert_eq!(from_shared.data_size(&store), 100);
    assert_eq!(shared.grow(50).unwrap(), 100);
    assert_eq!(from_shared.size(&store), 150);
    // Off by default, as in wasmtime.
    let e = Module::new(&Engine::default(), BYTES).unwrap_err();
    assert!(e.to_string().contains("page size"), "{e}");
    for policy in [Policy::Coarse, Policy::Fine] {
        let mut config = Config::new();
        config.wasm_custom_page_sizes(true).attest(policy);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, BYTES).unwrap();
        let mut store = Store::new(&engine, ());
        let e = Linker::new(&engine)
            .instantiate(&mut store, &module)
            .unwrap_err();
        assert!(e.to_string().contains("one-byte pages"), "{e}");
    }
}
