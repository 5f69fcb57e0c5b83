//! Bounds on what a store's guests take (`ResourceLimiter`,
//! `StoreLimits`): memory and table growth refused or trapping, memories
//! and tables too large to make, counts of instances, memories and
//! tables, and a limiter of the embedder's own, under every policy.

mod common;

use std::sync::{Arc, Mutex};

use walmart::{
    Config, Engine, Error, Linker, Memory, MemoryType, Module, ResourceLimiter, Store,
    StoreLimitsBuilder, Table, TableType, Val,
};

const WAT: &str = r#"(module
    (memory (export "mem") 1 100)
    (table (export "tab") 1 100 funcref)
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
    (func (export "grow_table") (param i32) (result i32)
        (table.grow (ref.null func) (local.get 0)))
    (func (export "size") (result i32) (memory.size)))"#;

/// Export `name` of `instance` called with `args`: its first result.
fn call<T>(
    store: &mut Store<T>,
    instance: &walmart::Instance,
    name: &str,
    args: &[Val],
) -> Result<Val, Error> {
    let f = instance.get_func(&mut *store, name).expect(name);
    let mut out = vec![Val::I32(0); f.ty(&*store).results().len()];
    f.call(&mut *store, args, &mut out)?;
    Ok(out.first().cloned().unwrap_or(Val::I32(0)))
}

#[test]
fn growth_past_the_limits_fails_under_every_policy() {
    // (`tags` watches only modules with an allocator.)
    for (name, config) in common::policy_configs(false) {
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, WAT).unwrap();
        let mut store = Store::new(&engine, ());
        store.set_limits(
            StoreLimitsBuilder::new()
                .memory_size(4 << 16)
                .table_elements(10)
                .build(),
        );
        let inst = Linker::new(&engine)
            .instantiate(&mut store, &module)
            .unwrap();
        // Up to 4 pages, and no further: -1, the memory unchanged.
        assert_eq!(
            call(&mut store, &inst, "grow", &[Val::I32(3)]).unwrap(),
            Val::I32(1)
        );
        assert_eq!(
            call(&mut store, &inst, "grow", &[Val::I32(1)]).unwrap(),
            Val::I32(-1),
            "{name}"
        );
        assert_eq!(
            call(&mut store, &inst, "size", &[]).unwrap(),
            Val::I32(4),
            "{name}"
        );
        assert_eq!(
            call(&mut store, &inst, "grow", &[Val::I32(0)]).unwrap(),
            Val::I32(4)
        );
        assert_eq!(
            call(&mut store, &inst, "grow_table", &[Val::I32(9)]).unwrap(),
            Val::I32(1)
        );
        assert_eq!(
            call(&mut store, &inst, "grow_table", &[Val::I32(1)]).unwrap(),
            Val::I32(-1)
        );
        // The API is refused too.
        let mem = inst.get_memory(&mut store, "mem").unwrap();
        let e = mem.grow(&mut store, 1).unwrap_err().to_string();
        assert_eq!(e, "memory cannot grow by 1 pages", "{name}");
        let tab = inst.get_table(&mut store, "tab").unwrap();
        assert!(tab.grow(&mut store, 1, Val::FuncRef(None)).is_err());
        assert_eq!(mem.size(&store), 4);
    }
}

#[test]
fn trapping_on_grow_failure_stops_the_guest() {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    store.set_limits(
        StoreLimitsBuilder::new()
            .memory_size(2 << 16)
            .table_elements(2)
            .trap_on_grow_failure(true)
            .build(),
    );
    let inst = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    assert_eq!(
        call(&mut store, &inst, "grow", &[Val::I32(1)]).unwrap(),
        Val::I32(1)
    );
    let e = call(&mut store, &inst, "grow", &[Val::I32(1)]).unwrap_err();
    assert!(matches!(e, Error::Host { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "forcing trap when growing memory (bytes) to 196608"
    );
    let e = call(&mut store, &inst, "grow_table", &[Val::I32(5)]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "forcing trap when growing table (elements) to 6"
    );
    // Within the limits the store runs on.
    assert_eq!(call(&mut store, &inst, "size", &[]).unwrap(), Val::I32(2));
    // Growth past the memory's own maximum traps too.
    store.set_limits(StoreLimitsBuilder::new().trap_on_grow_failure(true).build());
    let e = call(&mut store, &inst, "grow", &[Val::I32(200)]).unwrap_err();
    assert!(
        e.to_string().contains("memory maximum size exceeded"),
        "{e}"
    );
    // Without trapping it fails as Wasm's growth does.
    store.set_limits(StoreLimitsBuilder::new().build());
    assert_eq!(
        call(&mut store, &inst, "grow", &[Val::I32(200)]).unwrap(),
        Val::I32(-1)
    );
}

#[test]
fn memories_and_tables_beyond_the_limits_are_not_made() {
    let engine = Engine::default();
    let big = Module::new(&engine, "(module (memory 10))").unwrap();
    let mut store = Store::new(&engine, ());
    store.set_limits(
        StoreLimitsBuilder::new()
            .memory_size(5 << 16)
            .table_elements(5)
            .build(),
    );
    let e = Linker::new(&engine)
        .instantiate(&mut store, &big)
        .unwrap_err()
        .to_string();
    assert_eq!(e, "memory minimum size of 10 pages exceeds memory limits");
    let table = Module::new(&engine, "(module (table 6 funcref))").unwrap();
    let e = Linker::new(&engine)
        .instantiate(&mut store, &table)
        .unwrap_err()
        .to_string();
    assert_eq!(e, "table minimum size of 6 elements exceeds table limits");
    assert!(Memory::new(&mut store, MemoryType::new(6, None)).is_err());
    assert!(Memory::new(&mut store, MemoryType::new(5, None)).is_ok());
    let ty = TableType::new(walmart::RefType::FuncRef, 6, None);
    assert!(Table::new(&mut store, ty, Val::FuncRef(None)).is_err());
}

#[test]
fn counts_of_instances_memories_and_tables_are_bounded() {
    let engine = Engine::default();
    let module = Module::new(&engine, "(module (memory 1) (table 1 funcref))").unwrap();
    let none = Module::new(&engine, "(module)").unwrap();
    let mut store = Store::new(&engine, ());
    store.set_limits(
        StoreLimitsBuilder::new()
            .instances(3)
            .memories(2)
            .tables(1)
            .build(),
    );
    let linker = Linker::new(&engine);
    linker.instantiate(&mut store, &module).unwrap();
    // A second table is one too many.
    let e = linker
        .instantiate(&mut store, &module)
        .unwrap_err()
        .to_string();
    assert_eq!(e, "resource limit exceeded: table count too high at 2");
    linker.instantiate(&mut store, &none).unwrap();
    linker.instantiate(&mut store, &none).unwrap();
    let e = linker
        .instantiate(&mut store, &none)
        .unwrap_err()
        .to_string();
    assert_eq!(e, "resource limit exceeded: instance count too high at 4");

    // Memories the host makes are not counted against the instances'.
    let mut store = Store::new(&engine, ());
    store.set_limits(StoreLimitsBuilder::new().memories(1).build());
    Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    linker.instantiate(&mut store, &module).unwrap();
    let e = linker
        .instantiate(&mut store, &module)
        .unwrap_err()
        .to_string();
    assert_eq!(e, "resource limit exceeded: memory count too high at 2");
}

/// What a limiter was asked: of a table, current, desired, maximum.
type Question = (bool, usize, usize, Option<usize>);

/// A limiter of the embedder's, in the host data: records what it is
/// asked, and answers by a rule.
#[derive(Default)]
struct Recording {
    asked: Arc<Mutex<Vec<Question>>>,
    fail: bool,
}

impl ResourceLimiter for Recording {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        max: Option<usize>,
    ) -> walmart::Result<bool> {
        self.asked
            .lock()
            .unwrap()
            .push((false, current, desired, max));
        if self.fail {
            return Err(Error::msg("the limiter says no"));
        }
        Ok(desired <= 3 << 16)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        max: Option<usize>,
    ) -> walmart::Result<bool> {
        self.asked
            .lock()
            .unwrap()
            .push((true, current, desired, max));
        Ok(true)
    }
}

#[test]
fn a_limiter_in_the_host_data_is_asked_with_sizes_in_bytes() {
    let mut config = Config::new();
    config.guarded_memory(false);
    for config in [Config::new(), config] {
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, WAT).unwrap();
        let mut store = Store::new(&engine, Recording::default());
        let asked = store.data().asked.clone();
        store.limiter(|data| data);
        let inst = Linker::new(&engine)
            .instantiate(&mut store, &module)
            .unwrap();
        assert_eq!(
            call(&mut store, &inst, "grow", &[Val::I32(2)]).unwrap(),
            Val::I32(1)
        );
        assert_eq!(
            call(&mut store, &inst, "grow", &[Val::I32(1)]).unwrap(),
            Val::I32(-1)
        );
        call(&mut store, &inst, "grow_table", &[Val::I32(4)]).unwrap();
        assert_eq!(
            *asked.lock().unwrap(),
            [
                // Made: from nothing to their minimum.
                (false, 0, 1 << 16, Some(100 << 16)),
                (true, 0, 1, Some(100)),
                (false, 1 << 16, 3 << 16, Some(100 << 16)),
                (false, 3 << 16, 4 << 16, Some(100 << 16)),
                (true, 1, 5, Some(100)),
            ]
        );
        // A limiter's error traps the guest with it.
        store.data_mut().fail = true;
        let e = call(&mut store, &inst, "grow", &[Val::I32(1)]).unwrap_err();
        assert!(e.to_string().contains("the limiter says no"), "{e}");
        // A growth by nothing asks nothing.
        let before = asked.lock().unwrap().len();
        assert_eq!(
            call(&mut store, &inst, "grow", &[Val::I32(0)]).unwrap(),
            Val::I32(3)
        );
        assert_eq!(asked.lock().unwrap().len(), before);
    }
}

/// A limiter that panics.
struct Panicking;

impl ResourceLimiter for Panicking {
    fn memory_growing(
        &mut self,
        _: usize,
        desired: usize,
        _: Option<usize>,
    ) -> walmart::Result<bool> {
        if desired > 1 << 16 {
            panic!("limiter panicked");
        }
        Ok(true)
    }
    fn table_growing(&mut self, _: usize, _: usize, _: Option<usize>) -> walmart::Result<bool> {
        Ok(true)
    }
}

#[test]
fn a_panicking_limiter_panics_out_of_the_call() {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, Panicking);
    store.limiter(|data| data);
    let inst = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = call(&mut store, &inst, "grow", &[Val::I32(1)]);
    }));
    assert!(caught.is_err());
    // The store, and its limiter, still work.
    assert_eq!(call(&mut store, &inst, "size", &[]).unwrap(), Val::I32(1));
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = call(&mut store, &inst, "grow", &[Val::I32(1)]);
    }))
    .is_err());
}

#[test]
fn a_shared_memory_grows_within_the_limits_too() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (memory 1 10 shared)
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    store.set_limits(StoreLimitsBuilder::new().memory_size(2 << 16).build());
    let inst = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    assert_eq!(
        call(&mut store, &inst, "grow", &[Val::I32(1)]).unwrap(),
        Val::I32(1)
    );
    assert_eq!(
        call(&mut store, &inst, "grow", &[Val::I32(1)]).unwrap(),
        Val::I32(-1)
    );
}
