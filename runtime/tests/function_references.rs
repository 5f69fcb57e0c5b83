//! Typed function references (Wasm 3.0) under every policy, and what the
//! host may hand a typed reference: the API refuses a function of another
//! type and a null where the type is non-nullable (and `call_ref` checks
//! the signature it calls all the same).

mod common;

use walmart::attest::Policy;
use walmart::{
    Config, Engine, Func, FuncType, Global, Instance, Module, Store, Table, Val, ValType,
};

const WAT: &str = r#"(module
    (type $ii (func (param i32) (result i32)))
    (func $inc (type $ii) (i32.add (local.get 0) (i32.const 1)))
    (global $g (export "g") (mut (ref null $ii)) (ref.null $ii))
    ;; Three non-nullable elements, each `$inc` until set.
    (table $t (export "t") 3 5 (ref $ii) (ref.func $inc))
    (table $n (export "n") 1 (ref null $ii))
    (func (export "via_param") (param $f (ref null $ii)) (param $x i32) (result i32)
        (call_ref $ii (local.get $x) (local.get $f)))
    (func (export "tail_via_param") (param $f (ref null $ii)) (param $x i32) (result i32)
        (return_call_ref $ii (local.get $x) (local.get $f)))
    (func (export "via_global") (param $x i32) (result i32)
        (call_ref $ii (local.get $x) (global.get $g)))
    (func (export "via_table") (param $i i32) (param $x i32) (result i32)
        (call_ref $ii (local.get $x) (table.get $t (local.get $i))))
    (func (export "via_nullable_table") (param $x i32) (result i32)
        (call_ref $ii (local.get $x) (table.get $n (i32.const 0))))
    (func (export "grow") (result i32)
        (table.grow $t (ref.func $inc) (i32.const 1)))
    (func (export "size") (result i32) (table.size $t))
    ;; -1 for null, else the function applied to 5.
    (func (export "on_null") (param $f (ref null $ii)) (result i32)
        (block $null
            (return (call_ref $ii (i32.const 5) (br_on_null $null (local.get $f)))))
        (i32.const -1))
    ;; -1 for null, else the function applied to 7.
    (func (export "on_non_null") (param $f (ref null $ii)) (result i32)
        (local $g (ref $ii))
        (local.set $g
            (block $some (result (ref $ii))
                (br_on_non_null $some (local.get $f))
                (return (i32.const -1))))
        (call_ref $ii (i32.const 7) (local.get $g)))
    (func (export "non_null") (param $f (ref null $ii)) (result i32)
        (ref.is_null (ref.as_non_null (local.get $f)))))"#;

fn configs() -> Vec<(&'static str, Config)> {
    [
        ("off", Policy::Off, true),
        ("off, bounds-checked", Policy::Off, false),
        ("coarse", Policy::Coarse, true),
        ("fine", Policy::Fine, true),
        ("tags", Policy::Tags, true),
    ]
    .into_iter()
    .map(|(name, policy, guarded)| {
        let mut config = Config::new();
        config.attest(policy).guarded_memory(guarded);
        (name, config)
    })
    .collect()
}

/// [`WAT`] instantiated in a store of its own.
fn instantiated(config: &Config) -> (Store<()>, Instance) {
    common::instantiated(config, WAT)
}

#[test]
fn typed_references_call_branch_and_initialise_tables_under_every_policy() {
    for (name, config) in configs() {
        let (mut store, instance) = instantiated(&config);
        let mut call = |export: &str, args: &[Val]| -> Result<i32, String> {
            let f = instance.get_func(&mut store, export).unwrap();
            let mut out = [Val::I32(0)];
            f.call(&mut store, args, &mut out)
                .map_err(|e| e.to_string())?;
            Ok(out[0].i32().unwrap())
        };
        // Every element of the non-nullable table starts as `$inc`.
        for i in 0..3 {
            assert_eq!(
                call("via_table", &[Val::I32(i), Val::I32(40)]),
                Ok(41),
                "{name}"
            );
        }
        assert_eq!(call("grow", &[]), Ok(3), "{name}");
        assert_eq!(
            call("via_table", &[Val::I32(3), Val::I32(1)]),
            Ok(2),
            "{name}"
        );
        assert_eq!(call("size", &[]), Ok(4), "{name}");
        let e = call("via_table", &[Val::I32(4), Val::I32(1)]).unwrap_err();
        assert!(e.contains("out of bounds table access"), "{name}: {e}");
        let e = call("via_nullable_table", &[Val::I32(1)]).unwrap_err();
        assert!(e.contains("null function reference"), "{name}: {e}");
        let e = call("via_global", &[Val::I32(1)]).unwrap_err();
        assert!(e.contains("null function reference"), "{name}: {e}");
        let null = Val::FuncRef(None);
        assert_eq!(call("on_null", &[null]), Ok(-1), "{name}");
        assert_eq!(call("on_non_null", &[null]), Ok(-1), "{name}");
        let e = call("non_null", &[null]).unwrap_err();
        assert!(e.contains("null reference"), "{name}: {e}");
    }
}

#[test]
fn the_host_cannot_hand_a_typed_reference_a_function_of_another_type_or_null() {
    for (name, config) in configs() {
        let (mut store, instance) = instantiated(&config);
        let right = Func::new(
            &mut store,
            FuncType::new([ValType::I32], [ValType::I32]),
            |_, args, out| {
                out[0] = Val::I32(args[0].i32().unwrap() * 2);
                Ok(())
            },
        );
        // Another signature: called as `(i32) -> i32`, it would read an
        // `i64` that is not there.
        let wrong = Func::new(
            &mut store,
            FuncType::new([ValType::I64], [ValType::I64]),
            |_, _, out| {
                out[0] = Val::I64(0);
                Ok(())
            },
        );
        let call = |store: &mut Store<()>, export: &str, args: &[Val]| {
            let f = instance.get_func(&mut *store, export).unwrap();
            let mut out = [Val::I32(0)];
            f.call(&mut *store, args, &mut out)
                .map(|()| out[0].i32().unwrap())
                .map_err(|e| e.to_string())
        };
        let (right, wrong) = (Val::FuncRef(Some(right)), Val::FuncRef(Some(wrong)));
        for export in ["via_param", "tail_via_param"] {
            assert_eq!(
                call(&mut store, export, &[right, Val::I32(21)]),
                Ok(42),
                "{name}: {export}"
            );
            let e = call(&mut store, export, &[wrong, Val::I32(1)]).unwrap_err();
            assert!(
                e.contains("argument 0") && e.contains("another type"),
                "{name}: {e}"
            );
            let e = call(&mut store, export, &[Val::FuncRef(None), Val::I32(1)]).unwrap_err();
            assert!(
                e.contains("null function reference"),
                "{name}: {export}: {e}"
            );
        }
        // A global and tables the host sets.
        let g = instance.get_global(&mut store, "g").unwrap();
        let e = g.set(&mut store, wrong).unwrap_err().to_string();
        assert!(e.contains("another type"), "{name}: {e}");
        g.set(&mut store, right).unwrap();
        assert_eq!(
            call(&mut store, "via_global", &[Val::I32(4)]),
            Ok(8),
            "{name}"
        );
        g.set(&mut store, Val::FuncRef(None)).unwrap();
        let n = instance.get_table(&mut store, "n").unwrap();
        assert!(n.set(&mut store, 0, wrong).is_err(), "{name}");
        n.set(&mut store, 0, right).unwrap();
        assert_eq!(
            call(&mut store, "via_nullable_table", &[Val::I32(3)]),
            Ok(6),
            "{name}"
        );
        let t = instance.get_table(&mut store, "t").unwrap();
        let e = t
            .set(&mut store, 0, Val::FuncRef(None))
            .unwrap_err()
            .to_string();
        assert!(e.contains("non-nullable"), "{name}: {e}");
        assert!(t.grow(&mut store, 1, Val::FuncRef(None)).is_err(), "{name}");
        assert!(t.grow(&mut store, 1, wrong).is_err(), "{name}");
        t.set(&mut store, 2, right).unwrap();
        assert_eq!(
            call(&mut store, "via_table", &[Val::I32(2), Val::I32(5)]),
            Ok(10),
            "{name}"
        );
        // `br_on_non_null` hands on the reference it was given.
        assert_eq!(call(&mut store, "on_non_null", &[right]), Ok(14), "{name}");
        assert_eq!(call(&mut store, "on_null", &[right]), Ok(10), "{name}");
    }
}

/// A host table or global made with a type taken from a module's is
/// typed too: null in a non-nullable one, or a function of another type,
/// is refused as `set` refuses it.
#[test]
fn host_tables_and_globals_of_a_modules_typed_type_check_their_initial_value() {
    let (mut store, instance) = instantiated(&Config::new());
    let wrong = Func::new(
        &mut store,
        FuncType::new([ValType::I64], [ValType::I64]),
        |_, _, _| Ok(()),
    );
    let right = instance
        .get_table(&mut store, "t")
        .unwrap()
        .get(&mut store, 0);
    let right = right.expect("an element");
    let t_ty = instance.get_table(&mut store, "t").unwrap().ty(&store);
    let g_ty = instance.get_global(&mut store, "g").unwrap().ty(&store);
    for bad in [Val::FuncRef(None), Val::FuncRef(Some(wrong))] {
        assert!(Table::new(&mut store, t_ty, bad).is_err(), "{bad:?}");
    }
    assert!(Table::new(&mut store, t_ty, right).is_ok());
    assert!(Global::new(&mut store, g_ty, Val::FuncRef(Some(wrong))).is_err());
    assert!(Global::new(&mut store, g_ty, Val::FuncRef(None)).is_ok());
    assert!(Global::new(&mut store, g_ty, right).is_ok());
}

#[test]
fn typed_references_can_be_switched_off() {
    let mut config = Config::new();
    config.wasm_function_references(false);
    let err = Module::new(&Engine::new(&config).unwrap(), WAT)
        .unwrap_err()
        .to_string();
    assert!(err.contains("function references"), "{err}");
}

#[test]
fn wasm_3_constant_expressions_read_earlier_globals_and_gc_types_compile() {
    // Wasm 3.0: a constant expression may read any earlier immutable
    // global, defined ones too.
    let (mut store, instance) = common::instantiated(
        &walmart::Config::new(),
        r#"(module
            (global $a i32 (i32.const 40))
            (global $b (export "b") i32 (i32.add (global.get $a) (i32.const 2)))
            (memory 1)
            (data (global.get $a) "x")
            (func (export "byte") (result i32) (i32.load8_u (i32.const 40))))"#,
    );
    let b = instance.get_global(&mut store, "b").unwrap();
    assert_eq!(b.get(&mut store), walmart::Val::I32(42));
    let byte = instance
        .get_typed_func::<(), i32>(&mut store, "byte")
        .unwrap();
    assert_eq!(byte.call(&mut store, ()).unwrap(), i32::from(b'x'));
    // GC's types compile (runtime/tests/gc.rs runs them).
    let engine = walmart::Engine::default();
    for wat in [
        "(module (type (struct)))",
        "(module (rec (type (func)) (type (func))))",
        "(module (type (sub (func))))",
        "(module (type $t (func (param (ref null $t)))))",
        "(module (func (local anyref)))",
    ] {
        walmart::Module::new(&engine, wat).unwrap();
    }
    // A recursion group of one type is that type.
    walmart::Module::new(&engine, "(module (rec (type $f (func))) (func (type $f)))").unwrap();
}
