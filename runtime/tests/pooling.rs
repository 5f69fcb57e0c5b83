//! The pooling allocator (`InstanceAllocationStrategy::Pooling`): slots
//! reused by later memories never show an earlier memory's bytes, images
//! or size; the pool's limits refuse what exceeds them with an error, and
//! give slots back when memories drop.

use walmart::attest::Policy;
use walmart::{
    Config, Engine, InstanceAllocationStrategy, Memory, MemoryType, Module,
    PoolingAllocationConfig, Store, TrapKind, Val,
};

fn pooled(configure: impl FnOnce(&mut PoolingAllocationConfig)) -> Engine {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_memories(4);
    configure(&mut pool);
    let mut config = Config::new();
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config).unwrap()
}

/// A module with data at 16 (`fill` is its byte) whose memory starts at
/// `pages` pages: `load`, `store` and `grow` on it.
fn module(engine: &Engine, pages: u32, fill: &str) -> Module {
    let wat = format!(
        r#"(module (memory (export "m") {pages})
            (data (i32.const 16) "{fill}{fill}{fill}{fill}")
            (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
            (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#
    );
    Module::new(engine, &wat).unwrap()
}

fn call(store: &mut Store<()>, inst: walmart::Instance, name: &str, args: &[Val]) -> Option<i32> {
    let f = inst.get_func(&mut *store, name).unwrap();
    let mut out = vec![Val::I32(0); f.ty(&*store).results().len()];
    match f.call(&mut *store, args, &mut out) {
        Ok(()) => Some(out.first().and_then(Val::i32).unwrap_or(0)),
        Err(e) => {
            assert_eq!(
                e.trap().map(|t| t.kind()),
                Some(TrapKind::MemoryOutOfBounds),
                "{e}"
            );
            None
        }
    }
}

#[test]
fn a_reused_slot_starts_as_a_fresh_memory() {
    let engine = pooled(|p| {
        p.total_memories(1);
    });
    let m = module(&engine, 1, "A");
    for round in 0..20 {
        let mut store = Store::new(&engine, ());
        let inst = walmart::Instance::new(&mut store, &m, &[]).unwrap();
        // The image's bytes and zeros, whatever the last round wrote.
        assert_eq!(call(&mut store, inst, "load", &[Val::I32(16)]), Some(65));
        assert_eq!(call(&mut store, inst, "load", &[Val::I32(19)]), Some(65));
        assert_eq!(call(&mut store, inst, "load", &[Val::I32(100)]), Some(0));
        assert_eq!(call(&mut store, inst, "load", &[Val::I32(65535)]), Some(0));
        // The memory is one page long again, however far it grew.
        assert_eq!(call(&mut store, inst, "load", &[Val::I32(65536)]), None);
        call(
            &mut store,
            inst,
            "store",
            &[Val::I32(16), Val::I32(round + 1)],
        );
        call(&mut store, inst, "store", &[Val::I32(100), Val::I32(7)]);
        assert_eq!(
            call(&mut store, inst, "grow", &[Val::I32(round % 3)]),
            Some(1)
        );
        if round % 3 > 0 {
            call(&mut store, inst, "store", &[Val::I32(70000), Val::I32(9)]);
            assert_eq!(call(&mut store, inst, "load", &[Val::I32(70000)]), Some(9));
        }
    }
}

#[test]
fn modules_sharing_one_slot_see_only_their_own_bytes() {
    let engine = pooled(|p| {
        p.total_memories(1);
    });
    let a = module(&engine, 1, "A");
    let b = module(&engine, 3, "B");
    let plain = Module::new(
        &engine,
        r#"(module (memory (export "m") 2)
            (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))"#,
    )
    .unwrap();
    for (i, (m, byte, pages)) in [
        (&a, 65, 1),
        (&b, 66, 3),
        (&plain, 0, 2),
        (&a, 65, 1),
        (&b, 66, 3),
    ]
    .into_iter()
    .cycle()
    .take(12)
    .enumerate()
    {
        let mut store = Store::new(&engine, ());
        let inst = walmart::Instance::new(&mut store, m, &[]).unwrap();
        assert_eq!(
            call(&mut store, inst, "load", &[Val::I32(17)]),
            Some(byte),
            "round {i}"
        );
        let end = pages * 65536;
        assert_eq!(
            call(&mut store, inst, "load", &[Val::I32(end - 1)]),
            Some(0)
        );
        assert_eq!(
            call(&mut store, inst, "load", &[Val::I32(end)]),
            None,
            "round {i}"
        );
        if byte != 0 {
            call(&mut store, inst, "store", &[Val::I32(end - 1), Val::I32(5)]);
        }
    }
}

#[test]
fn the_pool_refuses_more_memories_than_it_holds_and_takes_them_back() {
    let engine = pooled(|p| {
        p.total_memories(2);
    });
    let m = module(&engine, 1, "A");
    let mut store = Store::new(&engine, ());
    let first = walmart::Instance::new(&mut store, &m, &[]).unwrap();
    walmart::Instance::new(&mut store, &m, &[]).unwrap();
    let err = walmart::Instance::new(&mut store, &m, &[]).unwrap_err();
    assert!(
        err.to_string()
            .contains("no free memory slot: all 2 are in use"),
        "{err}"
    );
    // The host's memories are made on demand, as in wasmtime: neither
    // the pool's count nor its size limit applies to them.
    let host = Memory::new(&mut store, MemoryType::new(2, Some(400))).unwrap();
    assert_eq!(host.grow(&mut store, 300).unwrap(), 2);
    // The store that failed still works; dropping it frees its slots.
    assert_eq!(call(&mut store, first, "load", &[Val::I32(16)]), Some(65));
    drop(store);
    let mut store = Store::new(&engine, ());
    walmart::Instance::new(&mut store, &m, &[]).unwrap();
    walmart::Instance::new(&mut store, &m, &[]).unwrap();
}

#[test]
fn an_instantiation_that_fails_gives_its_slots_back() {
    let engine = pooled(|p| {
        p.total_memories(2);
    });
    let one = module(&engine, 1, "A");
    let three = Module::new(&engine, r#"(module (memory 1) (memory 1) (memory 1))"#).unwrap();
    let mut store = Store::new(&engine, ());
    // Two slots are taken and the third is missing: the two come back at
    // once, not when this store goes.
    for _ in 0..3 {
        let err = walmart::Instance::new(&mut store, &three, &[]).unwrap_err();
        assert!(err.to_string().contains("no free memory slot"), "{err}");
    }
    let mut other = Store::new(&engine, ());
    walmart::Instance::new(&mut other, &one, &[]).unwrap();
    walmart::Instance::new(&mut store, &one, &[]).unwrap();
}

#[test]
fn a_dropped_modules_image_leaves_the_free_slots() {
    /// Mappings of a 1 MiB memory image in this process (the other tests
    /// here map images of one page).
    fn mapped_images() -> usize {
        std::fs::read_to_string("/proc/self/maps")
            .unwrap()
            .lines()
            .filter(|l| l.contains("walmart-memory-image"))
            .filter(|l| {
                let (range, _) = l.split_once(' ').unwrap();
                let (a, b) = range.split_once('-').unwrap();
                let span =
                    usize::from_str_radix(b, 16).unwrap() - usize::from_str_radix(a, 16).unwrap();
                span == 1 << 20
            })
            .count()
    }
    let engine = pooled(|p| {
        p.total_memories(1);
    });
    let big = Module::new(
        &engine,
        format!(
            r#"(module (memory 32) (data (i32.const 0) "{}"))"#,
            "\\01".repeat(1 << 20)
        ),
    )
    .unwrap();
    let before = mapped_images();
    let mut store = Store::new(&engine, ());
    walmart::Instance::new(&mut store, &big, &[]).unwrap();
    drop(store);
    // The free slot keeps the image for the module's next instance...
    assert_eq!(mapped_images(), before + 1);
    // ...until the module goes.
    drop(big);
    assert_eq!(mapped_images(), before);
    // The slot serves another module as a fresh memory.
    let m = module(&engine, 1, "B");
    let mut store = Store::new(&engine, ());
    let inst = walmart::Instance::new(&mut store, &m, &[]).unwrap();
    assert_eq!(call(&mut store, inst, "load", &[Val::I32(16)]), Some(66));
    assert_eq!(call(&mut store, inst, "load", &[Val::I32(0)]), Some(0));
}

#[test]
fn memories_stay_within_the_pools_size_limit() {
    let engine = pooled(|p| {
        p.max_memory_size(3 * 65536);
    });
    let err = Module::new(&engine, r#"(module (memory 4))"#)
        .and_then(|m| walmart::Instance::new(&mut Store::new(&engine, ()), &m, &[]))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("exceeds the pooling allocator's limit of 3 pages"),
        "{err}"
    );
    let m = module(&engine, 1, "A");
    let mut store = Store::new(&engine, ());
    let inst = walmart::Instance::new(&mut store, &m, &[]).unwrap();
    assert_eq!(call(&mut store, inst, "grow", &[Val::I32(3)]), Some(-1));
    assert_eq!(call(&mut store, inst, "grow", &[Val::I32(2)]), Some(1));
    assert_eq!(call(&mut store, inst, "grow", &[Val::I32(1)]), Some(-1));
}

#[test]
fn bounds_checked_memories_and_unguarded_engines_pool_too() {
    // 64-bit memories and one-byte pages check every access.
    let engine = {
        let mut pool = PoolingAllocationConfig::new();
        pool.total_memories(2).max_memory_size(1 << 20);
        let mut config = Config::new();
        config
            .wasm_custom_page_sizes(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        Engine::new(&config).unwrap()
    };
    let wat = r#"(module (memory (export "m") i64 1) (memory $b 100 (pagesize 1))
        (func (export "load") (param i32) (result i32)
          (i32.add (i32.load8_u (i64.extend_i32_u (local.get 0))) (i32.load8_u $b (local.get 0))))
        (func (export "store") (param i32 i32)
          (i32.store8 (i64.extend_i32_u (local.get 0)) (local.get 1))
          (i32.store8 $b (local.get 0) (local.get 1))))"#;
    let m = Module::new(&engine, wat).unwrap();
    for _ in 0..3 {
        let mut store = Store::new(&engine, ());
        let inst = walmart::Instance::new(&mut store, &m, &[]).unwrap();
        assert_eq!(call(&mut store, inst, "load", &[Val::I32(99)]), Some(0));
        assert_eq!(call(&mut store, inst, "load", &[Val::I32(100)]), None);
        call(&mut store, inst, "store", &[Val::I32(99), Val::I32(3)]);
        assert_eq!(call(&mut store, inst, "load", &[Val::I32(99)]), Some(6));
    }
    let engine = {
        let mut pool = PoolingAllocationConfig::new();
        pool.total_memories(1).max_memory_size(4 << 16);
        let mut config = Config::new();
        config
            .guarded_memory(false)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        Engine::new(&config).unwrap()
    };
    let m = module(&engine, 2, "C");
    for _ in 0..3 {
        let mut store = Store::new(&engine, ());
        let inst = walmart::Instance::new(&mut store, &m, &[]).unwrap();
        assert_eq!(call(&mut store, inst, "load", &[Val::I32(18)]), Some(67));
        assert_eq!(call(&mut store, inst, "load", &[Val::I32(70000)]), Some(0));
        assert_eq!(call(&mut store, inst, "load", &[Val::I32(2 << 16)]), None);
        call(&mut store, inst, "store", &[Val::I32(70000), Val::I32(1)]);
        assert_eq!(call(&mut store, inst, "grow", &[Val::I32(2)]), Some(2));
        assert_eq!(call(&mut store, inst, "grow", &[Val::I32(1)]), Some(-1));
    }
}

#[test]
fn attested_stores_make_their_memories_on_demand() {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_memories(1);
    let mut config = Config::new();
    config
        .attest(Policy::Coarse)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    let engine = Engine::new(&config).unwrap();
    let m = module(&engine, 1, "A");
    let mut store = Store::new(&engine, ());
    // More memories than the pool holds: none of them is pooled.
    for _ in 0..3 {
        let inst = walmart::Instance::new(&mut store, &m, &[]).unwrap();
        assert_eq!(call(&mut store, inst, "load", &[Val::I32(16)]), Some(65));
    }
}

#[test]
fn threads_share_one_pool() {
    let engine = pooled(|p| {
        p.total_memories(4);
    });
    let m = module(&engine, 1, "A");
    std::thread::scope(|s| {
        for t in 0..4 {
            let (engine, m) = (&engine, &m);
            s.spawn(move || {
                for round in 0..50 {
                    let mut store = Store::new(engine, ());
                    let inst = walmart::Instance::new(&mut store, m, &[]).unwrap();
                    assert_eq!(call(&mut store, inst, "load", &[Val::I32(16)]), Some(65));
                    assert_eq!(call(&mut store, inst, "load", &[Val::I32(200)]), Some(0));
                    call(
                        &mut store,
                        inst,
                        "store",
                        &[Val::I32(16), Val::I32(t * 50 + round)],
                    );
                    call(&mut store, inst, "store", &[Val::I32(200), Val::I32(1)]);
                }
            });
        }
    });
}

#[test]
fn a_pool_too_large_for_the_address_space_is_an_error() {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_memories(u32::MAX);
    let mut config = Config::new();
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool.clone()));
    let err = Engine::new(&config).unwrap_err();
    assert!(err.to_string().starts_with("pooling allocator: "), "{err}");
    pool.total_memories(100_000);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool.clone()));
    let err = Engine::new(&config).unwrap_err();
    assert!(err.to_string().contains("cannot reserve"), "{err}");
    pool.total_memories(1).max_memory_size(8 << 30);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool.clone()));
    let err = Engine::new(&config).unwrap_err();
    assert!(err.to_string().contains("exceeds the 4 GiB"), "{err}");
    // Unguarded slots too ("unlimited" would overflow the reservation).
    pool.max_memory_size(usize::MAX);
    config
        .guarded_memory(false)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    let err = Engine::new(&config).unwrap_err();
    assert!(err.to_string().contains("exceeds the 4 GiB"), "{err}");
}

/// An instantiation that fails after making its memory (here at its
/// table, which the store's limits refuse) gives the memory's slot back
/// at once, not when its store drops.
#[test]
fn an_instantiation_failing_after_its_memory_gives_the_slot_back() {
    let engine = pooled(|p| {
        p.total_memories(1);
    });
    let with_table = Module::new(
        &engine,
        r#"(module (memory (export "m") 1) (table 100 funcref))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    store.set_limits(
        walmart::StoreLimitsBuilder::new()
            .table_elements(10)
            .build(),
    );
    for _ in 0..3 {
        let err = walmart::Instance::new(&mut store, &with_table, &[]).unwrap_err();
        assert!(err.to_string().contains("table"), "{err}");
    }
    // The one slot is free for another store while this one lives.
    let mut other = Store::new(&engine, ());
    let m = module(&engine, 1, "A");
    let inst = walmart::Instance::new(&mut other, &m, &[]).unwrap();
    assert_eq!(call(&mut other, inst, "load", &[Val::I32(16)]), Some(65));
    drop(store);
}
