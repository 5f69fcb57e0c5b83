//! The embedding API end to end: host functions, traps, errors, entities.

use walmart::attest::Policy;
use walmart::{
    Config, Engine, Error, Func, FuncType, Global, GlobalType, Linker, Memory, MemoryType, Module,
    Mutability, Store, TrapKind, Val, ValType,
};

fn instantiate(wat: &str) -> (Store<()>, walmart::Instance) {
    let engine = Engine::default();
    let module = Module::new(&engine, wat).expect("module compiles");
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .expect("instantiates");
    (store, instance)
}

fn call(
    store: &mut Store<()>,
    instance: walmart::Instance,
    name: &str,
    args: &[Val],
) -> Result<Vec<Val>, Error> {
    let f = instance.get_func(&mut *store, name).expect("export exists");
    let mut results: Vec<Val> = f
        .ty(&*store)
        .results()
        .iter()
        .map(|t| Val::default_for(*t))
        .collect();
    f.call(&mut *store, args, &mut results)?;
    Ok(results)
}

#[test]
fn traps_carry_kind_and_backtrace_and_store_stays_usable() {
    let (mut store, inst) = instantiate(
        r#"(module
            (func $inner (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
            (func (export "outer") (param i32) (result i32) (call $inner (local.get 0))))"#,
    );
    for _ in 0..3 {
        let err = call(&mut store, inst, "outer", &[Val::I32(0)]).unwrap_err();
        let trap = err.trap().expect("a trap");
        assert_eq!(trap.kind(), TrapKind::IntegerDivisionByZero);
        assert_eq!(trap.frames().len(), 2, "{err}");
        assert_eq!(trap.frames()[0].func_name.as_deref(), Some("inner"));
        assert!(err.to_string().contains("integer divide by zero"));
    }
    assert_eq!(
        call(&mut store, inst, "outer", &[Val::I32(1)]).unwrap(),
        vec![Val::I32(1)]
    );
}

#[test]
fn deep_recursion_is_call_stack_exhausted() {
    let (mut store, inst) = instantiate(
        r#"(module (func $f (export "f") (param i64) (result i64)
            (i64.add (call $f (local.get 0)) (i64.const 1))))"#,
    );
    let err = call(&mut store, inst, "f", &[Val::I64(0)]).unwrap_err();
    assert_eq!(err.trap().map(|t| t.kind()), Some(TrapKind::StackOverflow));
    assert!(err.to_string().contains("call stack exhausted"));
}

#[test]
fn host_errors_and_panics_cross_wasm_frames() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (import "h" "f" (func $f (param i32) (result i32)))
            (func (export "go") (param i32) (result i32) (i32.add (call $f (local.get 0)) (i32.const 1))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, 0u32);
    let f = Func::new(
        &mut store,
        FuncType::new([ValType::I32], [ValType::I32]),
        |mut caller, params, results| {
            *caller.data_mut() += 1;
            match params[0].i32().unwrap() {
                0 => Err(Error::msg("host says no")),
                1 => panic!("host panicked"),
                n => {
                    results[0] = Val::I32(n * 10);
                    Ok(())
                }
            }
        },
    );
    let mut linker = Linker::new(&engine);
    linker.define(&mut store, "h", "f", f).unwrap();
    let inst = linker.instantiate(&mut store, &module).unwrap();
    let go = inst.get_func(&mut store, "go").unwrap();
    let mut out = [Val::I32(0)];

    let err = go.call(&mut store, &[Val::I32(0)], &mut out).unwrap_err();
    assert_eq!(err.to_string(), "host says no");
    assert!(err.backtrace().is_some());

    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = go.call(&mut store, &[Val::I32(1)], &mut out);
    }));
    assert!(panic.is_err(), "the host panic reaches the embedder");

    go.call(&mut store, &[Val::I32(4)], &mut out).unwrap();
    assert_eq!(out[0], Val::I32(41));
    assert_eq!(*store.data(), 3);
}

#[test]
fn memory_globals_and_grow_through_the_api() {
    let (mut store, inst) = instantiate(
        r#"(module (memory (export "mem") 1 3) (global (export "g") (mut i32) (i32.const 7))
            (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
    );
    let mem = inst.get_memory(&mut store, "mem").unwrap();
    mem.write(&mut store, 100, &[42]).unwrap();
    assert_eq!(
        call(&mut store, inst, "load", &[Val::I32(100)]).unwrap(),
        vec![Val::I32(42)]
    );
    let oob = call(&mut store, inst, "load", &[Val::I32(65536)]).unwrap_err();
    assert_eq!(
        oob.trap().map(|t| t.kind()),
        Some(TrapKind::MemoryOutOfBounds)
    );
    assert_eq!(
        call(&mut store, inst, "grow", &[Val::I32(2)]).unwrap(),
        vec![Val::I32(1)]
    );
    assert_eq!(
        call(&mut store, inst, "grow", &[Val::I32(1)]).unwrap(),
        vec![Val::I32(-1)]
    );
    assert_eq!(mem.size(&store), 3);
    assert_eq!(
        call(&mut store, inst, "load", &[Val::I32(65536)]).unwrap(),
        vec![Val::I32(0)]
    );

    let g = inst.get_global(&mut store, "g").unwrap();
    assert_eq!(g.get(&mut store), Val::I32(7));
    g.set(&mut store, Val::I32(9)).unwrap();
    assert_eq!(g.get(&mut store), Val::I32(9));
    assert!(g.set(&mut store, Val::I64(1)).is_err());

    let engine = store.engine().clone();
    let mut other = Store::new(&engine, ());
    let m2 = Memory::new(&mut other, MemoryType::new(1, None)).unwrap();
    assert_eq!(m2.data_size(&other), 65536);
    let c = Global::new(
        &mut other,
        GlobalType::new(ValType::F64, Mutability::Const),
        Val::from(1.5),
    )
    .unwrap();
    assert_eq!(c.get(&mut other).f64(), Some(1.5));
}

#[test]
fn bad_modules_and_links_are_errors_not_panics() {
    let engine = Engine::default();
    for bytes in [
        &b"\0asm\x01\0\0\0\x01"[..],
        b"\0asm",
        b"not wasm at all (",
        b"\xff\xfe",
    ] {
        assert!(Module::new(&engine, bytes).is_err());
    }
    let invalid = Module::new(&engine, "(module (func (result i32) i64.const 1))").unwrap_err();
    assert!(invalid.to_string().contains("type mismatch"), "{invalid}");
    // Several memories are Wasm 3.0's, on by default; a 2.0 engine refuses.
    let two = "(module (memory 1) (memory 1))";
    assert!(Module::new(&engine, two).is_ok());
    let mut config = Config::new();
    config.wasm_2_0_only();
    let multi = Module::new(&Engine::new(&config).unwrap(), two).unwrap_err();
    assert!(multi.to_string().contains("multiple memories"), "{multi}");
    // GC's types compile; a proposal walmart does not have is a one-line
    // error naming it.
    assert!(Module::new(&engine, "(module (type (struct)))").is_ok());
    let wide = Module::new(
        &engine,
        "(module (func (param i64 i64 i64 i64) (result i64 i64)
            (i64.add128 (local.get 0) (local.get 1) (local.get 2) (local.get 3))))",
    )
    .unwrap_err();
    assert!(wide.to_string().contains("wide arithmetic"), "{wide}");

    let needs = Module::new(&engine, r#"(module (import "env" "f" (func)))"#).unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let err = linker.instantiate(&mut store, &needs).unwrap_err();
    assert!(err.to_string().contains("unknown import"), "{err}");
    // A name with control characters still makes one line, escaped.
    let odd = Module::new(&engine, r#"(module (import "env" "a\nb\1b" (func)))"#).unwrap();
    let err = linker
        .instantiate(&mut store, &odd)
        .unwrap_err()
        .to_string();
    assert_eq!(err, "unknown import: env::a\\nb\\u{1b}", "{err}");
    let wrong = Func::new(&mut store, FuncType::new([ValType::I32], []), |_, _, _| {
        Ok(())
    });
    linker.define(&mut store, "env", "f", wrong).unwrap();
    let err = linker.instantiate(&mut store, &needs).unwrap_err();
    assert!(
        err.to_string().contains("incompatible import type"),
        "{err}"
    );
}

#[test]
fn start_function_traps_fail_instantiation() {
    let engine = Engine::default();
    let module = Module::new(&engine, "(module (func $s unreachable) (start $s))").unwrap();
    let mut store = Store::new(&engine, ());
    let err = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap_err();
    assert_eq!(err.trap().map(|t| t.kind()), Some(TrapKind::Unreachable));
}

#[test]
fn typed_funcs_check_their_signature() {
    let (mut store, inst) = instantiate(
        r#"(module (func (export "swap") (param i32 i64) (result i64 i32) local.get 1 local.get 0))"#,
    );
    let f = inst.get_func(&mut store, "swap").unwrap();
    let typed = f.typed::<(i32, i64), (i64, i32)>(&store).unwrap();
    assert_eq!(typed.call(&mut store, (1, 2)).unwrap(), (2, 1));
    assert!(f.typed::<i32, i32>(&store).is_err());
}

#[test]
fn v128_values_cross_the_api_and_host_calls() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "h" "twice" (func $twice (param v128) (result v128)))
            (global $g (export "g") (mut v128) (v128.const i32x4 1 2 3 4))
            (func (export "mix") (param v128 v128) (result v128)
              (call $twice (i32x4.add (local.get 0) (i32x4.mul (local.get 1) (global.get $g))))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let twice = Func::new(
        &mut store,
        FuncType::new([ValType::V128], [ValType::V128]),
        |_, p, r| {
            let Val::V128(v) = p[0] else { unreachable!() };
            let lanes: Vec<u32> = (0..4)
                .map(|i| ((v >> (32 * i)) as u32).wrapping_mul(2))
                .collect();
            r[0] = Val::V128(
                lanes
                    .iter()
                    .enumerate()
                    .fold(0u128, |acc, (i, l)| acc | (*l as u128) << (32 * i)),
            );
            Ok(())
        },
    );
    let mut linker = Linker::new(&engine);
    linker.define(&mut store, "h", "twice", twice).unwrap();
    let inst = linker.instantiate(&mut store, &module).unwrap();
    let mix = inst.get_func(&mut store, "mix").unwrap();
    let lanes = |l: [u32; 4]| {
        Val::V128(
            l.iter()
                .enumerate()
                .fold(0u128, |acc, (i, x)| acc | (*x as u128) << (32 * i)),
        )
    };
    let mut out = [Val::V128(0)];
    mix.call(
        &mut store,
        &[lanes([10, 20, 30, 40]), lanes([1, 1, 2, 2])],
        &mut out,
    )
    .unwrap();
    // (a + b * g) * 2 = ([10,20,30,40] + [1,2,6,8]) * 2
    assert_eq!(out[0], lanes([22, 44, 72, 96]));
    let g = inst.get_global(&mut store, "g").unwrap();
    assert_eq!(g.get(&mut store), lanes([1, 2, 3, 4]));
}

#[test]
fn data_segments_are_private_per_instance() {
    // With guarded memory this module gets a copy-on-write image; each
    // instance must still see its own copy.
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (memory (export "m") 2)
            (data (i32.const 10) "hello")
            (data (i32.const 70000) "far")
            (func (export "poke") (i32.store8 (i32.const 10) (i32.const 74))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let linker = Linker::new(&engine);
    let a = linker.instantiate(&mut store, &module).unwrap();
    let b = linker.instantiate(&mut store, &module).unwrap();
    let poke = a.get_func(&mut store, "poke").unwrap();
    poke.call(&mut store, &[], &mut []).unwrap();
    let ma = a.get_memory(&mut store, "m").unwrap();
    let mb = b.get_memory(&mut store, "m").unwrap();
    assert_eq!(&ma.data(&store)[10..15], b"Jello");
    assert_eq!(&mb.data(&store)[10..15], b"hello");
    assert_eq!(&mb.data(&store)[70000..70003], b"far");
    assert_eq!(ma.grow(&mut store, 1).unwrap(), 2);
    assert_eq!(&ma.data(&store)[70000..70003], b"far");
    let store2_module_instance = {
        let mut s2 = Store::new(&engine, ());
        let c = linker.instantiate(&mut s2, &module).unwrap();
        let mc = c.get_memory(&mut s2, "m").unwrap();
        mc.data(&s2)[10..15].to_vec()
    };
    assert_eq!(store2_module_instance, b"hello");
}

#[test]
fn bytes_that_are_not_a_module_get_one_line_saying_where() {
    let engine = Engine::default();
    let err = |bytes: &[u8]| match Module::new(&engine, bytes) {
        Ok(_) => panic!("{:?} compiled", String::from_utf8_lossy(bytes)),
        Err(e) => e.to_string(),
    };
    let text = err(b"hello world\nthis is a README\n");
    assert!(text.contains("not a WebAssembly module"), "{text}");
    assert!(!text.contains('\n'), "{text}");
    let binary_junk = err(&[0xff, 0xfe, 0x00, 0x01]);
    assert!(
        binary_junk.contains("not a WebAssembly module"),
        "{binary_junk}"
    );
    // A text module with a mistake on its third line.
    let wat = err(b"(module\n  (func (result i32)\n    i32.const x))");
    assert!(!wat.contains('\n'), "{wat}");
    assert!(wat.contains("line 3, column"), "{wat}");
}

#[test]
fn functions_return_more_values_than_there_are_registers() {
    // 20 results of every type: more than the calling convention returns
    // in registers (a generated module's function of 19 failed to
    // compile). Returned to the host, through a direct call, a
    // `call_indirect`, and from a host function, under each policy.
    let types = ["i32", "i64", "f32", "f64", "v128"];
    let ty: Vec<&str> = (0..20).map(|i| types[i % 5]).collect();
    let results = ty.join(" ");
    let value = |i: usize| match ty[i] {
        "v128" => format!("(v128.const i64x2 {} {})", i, 100 + i),
        t => format!("({t}.const {})", i + 1),
    };
    let consts: String = (0..20).map(value).collect::<Vec<_>>().join(" ");
    let wat = format!(
        r#"(module
            (import "h" "many" (func $host (result {results})))
            (type $t (func (result {results})))
            (table funcref (elem $many))
            (func $many (export "many") (result {results}) {consts})
            (func (export "direct") (result {results}) (call $many))
            (func (export "indirect") (result {results}) (call_indirect (type $t) (i32.const 0)))
            (func (export "from_host") (result {results}) (call $host)))"#
    );
    let expected: Vec<Val> = (0..20)
        .map(|i| match ty[i] {
            "i32" => Val::I32(i as i32 + 1),
            "i64" => Val::I64(i as i64 + 1),
            "f32" => Val::F32((i as f32 + 1.0).to_bits()),
            "f64" => Val::F64((i as f64 + 1.0).to_bits()),
            _ => Val::V128(((100 + i as u128) << 64) | i as u128),
        })
        .collect();
    let types: Vec<ValType> = expected.iter().map(|v| v.ty()).collect();
    for policy in [Policy::Off, Policy::Coarse, Policy::Fine] {
        let mut config = Config::new();
        config.attest(policy);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, &wat).expect("many results compile");
        let mut store = Store::new(&engine, ());
        let answer = expected.clone();
        let host = Func::new(
            &mut store,
            FuncType::new([], types.clone()),
            move |_, _, r| {
                r.copy_from_slice(&answer);
                Ok(())
            },
        );
        let mut linker = Linker::new(&engine);
        linker.define(&mut store, "h", "many", host).unwrap();
        let inst = linker.instantiate(&mut store, &module).unwrap();
        for name in ["many", "direct", "indirect", "from_host"] {
            let got = call(&mut store, inst, name, &[]).unwrap();
            assert_eq!(got, expected, "{name} under {policy}");
        }
    }
}

/// A segment that traps as instantiation applies it is not dropped, nor are
/// the later ones: a function of the failed instance that an earlier
/// segment put in a shared table can still `table.init` from them.
#[test]
fn segments_after_a_failed_one_keep_their_references() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let shared = Module::new(&engine, r#"(module (table (export "t") 10 funcref))"#).unwrap();
    let shared = Linker::new(&engine)
        .instantiate(&mut store, &shared)
        .unwrap();
    let mut linker = Linker::new(&engine);
    linker.instance(&mut store, "a", shared).unwrap();
    let failing = Module::new(
        &engine,
        r#"(module
            (import "a" "t" (table 10 funcref))
            (func $init (export "init")
                (table.init 0 1 (i32.const 5) (i32.const 0) (i32.const 1))
                (table.init 0 2 (i32.const 6) (i32.const 1) (i32.const 1)))
            (func $f (result i32) (i32.const 42))
            (func $g (result i32) (i32.const 7))
            (elem (i32.const 0) func $init)
            (elem (i32.const 9) func $f $f)
            (elem (i32.const 0) func $g $g))"#,
    )
    .unwrap();
    let e = linker.instantiate(&mut store, &failing).unwrap_err();
    assert!(e.to_string().contains("out of bounds table access"), "{e}");
    let table = shared.get_table(&mut store, "t").unwrap();
    let func_at = |store: &mut Store<()>, slot| match table.get(&mut *store, slot) {
        Some(Val::FuncRef(Some(f))) => f,
        other => panic!("slot {slot}: {other:?}"),
    };
    let init = func_at(&mut store, 0);
    init.call(&mut store, &[], &mut []).unwrap();
    for (slot, want) in [(5, 42), (6, 7)] {
        let mut out = [Val::I32(0)];
        func_at(&mut store, slot)
            .call(&mut store, &[], &mut out)
            .unwrap();
        assert_eq!(out[0].i32(), Some(want), "slot {slot}");
    }
}

#[test]
fn tables_fill_and_copy_through_the_api() {
    let (mut store, inst) = instantiate(
        r#"(module (type $t (func (result i32))) (type $u (func))
            (table (export "any") 6 funcref) (table (export "typed") 4 (ref null $t))
            (func $seven (export "seven") (type $t) (i32.const 7))
            (func $nothing (export "nothing") (type $u))
            (func (export "call") (param i32) (result i32) (call_indirect (type $t) (local.get 0))))"#,
    );
    let any = inst.get_table(&mut store, "any").unwrap();
    let typed = inst.get_table(&mut store, "typed").unwrap();
    let seven = inst.get_func(&mut store, "seven").unwrap();
    let nothing = inst.get_func(&mut store, "nothing").unwrap();
    any.fill(&mut store, 1, Val::FuncRef(Some(seven)), 3)
        .unwrap();
    assert!(matches!(any.get(&mut store, 0), Some(Val::FuncRef(None))));
    assert!(matches!(
        any.get(&mut store, 3),
        Some(Val::FuncRef(Some(_)))
    ));
    assert!(matches!(any.get(&mut store, 4), Some(Val::FuncRef(None))));
    assert_eq!(
        call(&mut store, inst, "call", &[Val::I32(2)]).unwrap(),
        vec![Val::I32(7)]
    );
    // Out of bounds: an error, nothing set.
    assert!(any
        .fill(&mut store, 5, Val::FuncRef(Some(seven)), 2)
        .is_err());
    assert!(matches!(any.get(&mut store, 5), Some(Val::FuncRef(None))));
    // Overlapping within one table: [1, 4) to [2, 5).
    walmart::Table::copy(&mut store, &any, 2, &any, 1, 3).unwrap();
    assert!(matches!(
        any.get(&mut store, 4),
        Some(Val::FuncRef(Some(_)))
    ));
    assert!(matches!(
        any.get(&mut store, 1),
        Some(Val::FuncRef(Some(_)))
    ));
    // Into a typed table: elements of its type go, another type is refused
    // and nothing is copied.
    walmart::Table::copy(&mut store, &typed, 0, &any, 1, 2).unwrap();
    any.set(&mut store, 0, Val::FuncRef(Some(nothing))).unwrap();
    let err = walmart::Table::copy(&mut store, &typed, 2, &any, 0, 2).unwrap_err();
    assert!(!err.to_string().is_empty());
    assert!(matches!(typed.get(&mut store, 2), Some(Val::FuncRef(None))));
    assert!(matches!(
        typed.get(&mut store, 1),
        Some(Val::FuncRef(Some(_)))
    ));
    assert!(walmart::Table::copy(&mut store, &typed, 3, &any, 0, 2).is_err());
}

#[test]
fn memory_pointer_and_page_size_and_the_linkers_definitions() {
    let (mut store, inst) = instantiate(r#"(module (memory (export "mem") 1))"#);
    let mem = inst.get_memory(&mut store, "mem").unwrap();
    mem.write(&mut store, 10, &[42]).unwrap();
    let ptr = mem.data_ptr(&store);
    // SAFETY: inside the memory's one page, which nothing grows meanwhile.
    assert_eq!(unsafe { *ptr.add(10) }, 42);
    assert_eq!(mem.page_size(&store), 65536);
    let engine = store.engine().clone();
    let mut linker = Linker::new(&engine);
    linker.func_wrap("env", "one", || 1i32).unwrap();
    linker.define(&mut store, "env", "mem", mem).unwrap();
    let mut seen: Vec<(String, String, bool)> = linker
        .iter(&mut store)
        .map(|(m, n, e)| (m.to_string(), n.to_string(), e.into_func().is_some()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("env".into(), "mem".into(), false),
            ("env".into(), "one".into(), true)
        ]
    );
}

#[test]
fn copying_gc_references_between_tables_keeps_no_roots() {
    let (mut store, inst) = instantiate(
        r#"(module (type $s (struct (field i32)))
            (table (export "any") 4 anyref) (table (export "structs") 4 (ref null $s))
            (func (export "fill")
              (table.fill 0 (i32.const 0) (struct.new $s (i32.const 5)) (i32.const 4))))"#,
    );
    call(&mut store, inst, "fill", &[]).unwrap();
    let any = inst.get_table(&mut store, "any").unwrap();
    let structs = inst.get_table(&mut store, "structs").unwrap();
    let before = store.gc_stats().roots;
    for _ in 0..100 {
        walmart::Table::copy(&mut store, &structs, 0, &any, 0, 4).unwrap();
        walmart::Table::copy(&mut store, &any, 0, &structs, 0, 4).unwrap();
    }
    assert_eq!(store.gc_stats().roots, before);
    assert!(matches!(
        structs.get(&mut store, 3),
        Some(Val::AnyRef(Some(_)))
    ));
}

/// `Val::unwrap_*` (wasmtime's) give the value of their type, and panic
/// naming both types otherwise.
#[test]
fn val_unwraps_give_their_type_or_panic() {
    assert_eq!(Val::I32(-3).unwrap_i32(), -3);
    assert_eq!(Val::I64(1 << 40).unwrap_i64(), 1 << 40);
    assert_eq!(Val::F32(1.5f32.to_bits()).unwrap_f32(), 1.5);
    assert_eq!(Val::F64(2.25f64.to_bits()).unwrap_f64(), 2.25);
    let panic = std::panic::catch_unwind(|| Val::I64(1).unwrap_i32()).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("i32") && message.contains("i64"),
        "{message}"
    );
}
