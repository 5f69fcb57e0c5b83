//! The custom-descriptors proposal: struct types with descriptors (the
//! descriptor's slot after the described root type's fields, where its
//! subtypes agree on every field's offset; descriptors kept alive by
//! their objects alone through collections), the descriptor casts, exact casts, exact function
//! imports, and the proposal's switch.

mod common;

use walmart::{Config, Engine, Linker, Module, Store, Val};

const WAT: &str = r#"(module
    (rec
        (type $base (sub (struct (field i32) (field i64))))
        ;; The descriptor's slot after these three fields, in $obj2 too,
        ;; whose own field comes after it.
        (type $obj (sub (descriptor $vt)
            (struct (field i32) (field i64) (field (ref null $base)))))
        (type $vt (sub (describes $obj) (struct (field i32) (field (ref null $base)))))
        (type $obj2 (sub $obj (descriptor $vt2)
            (struct (field i32) (field i64) (field (ref null $base)) (field f64))))
        (type $vt2 (sub $vt (describes $obj2)
            (struct (field i32) (field (ref null $base)) (field i32)))))
    (type $bytes (array (mut i8)))
    (global $keep (mut (ref null $obj)) (ref.null none))
    (global $other (mut (ref null $vt)) (ref.null none))
    ;; Made in a constant expression: the descriptor's descriptor chain.
    (global $const (ref $obj)
        (struct.new_desc $obj (i32.const 11) (i64.const 12) (ref.null none)
            (struct.new $vt (i32.const 13) (ref.null none))))
    ;; An object whose descriptor (and the descriptor's own field) only
    ;; the object references.
    (func (export "make") (param $tag i32) (param $x i32)
        (global.set $keep
            (struct.new_desc $obj2 (local.get $x) (i64.const 77) (ref.null none) (f64.const 2.5)
                (struct.new $vt2 (local.get $tag)
                    (struct.new $base (i32.const 5) (i64.const 6)) (i32.const 9))))
        (global.set $other (struct.new $vt2 (i32.const -1) (ref.null none) (i32.const -2))))
    (func (export "churn") (param $n i32)
        (loop $l
            (drop (array.new_default $bytes (i32.const 4000)))
            ;; Garbage of the descriptors' sizes, to reuse what a
            ;; collection frees of them.
            (drop (struct.new $vt2 (i32.const -7) (ref.null none) (i32.const -8)))
            (drop (struct.new $base (i32.const -5) (i64.const -6)))
            (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
    (func $kept (result (ref $obj)) (ref.cast (ref $obj) (global.get $keep)))
    (func (export "tag") (result i32) (struct.get $vt 0 (ref.get_desc $obj (call $kept))))
    (func (export "extra") (result i32)
        (struct.get $vt2 2 (ref.get_desc $obj2 (ref.cast (ref $obj2) (global.get $keep)))))
    (func (export "name_y") (result i64)
        (struct.get $base 1 (ref.as_non_null (struct.get $vt 1 (ref.get_desc $obj (call $kept))))))
    (func (export "x") (result i32) (struct.get $obj 0 (global.get $keep)))
    (func (export "y") (result i64) (struct.get $obj 1 (global.get $keep)))
    (func (export "w") (result f64) (struct.get $obj2 3 (ref.cast (ref $obj2) (global.get $keep))))
    (func (export "const_tag") (result i32) (struct.get $vt 0 (ref.get_desc $obj (global.get $const))))
    ;; 1 when $keep's descriptor is its own, 0 for another descriptor of
    ;; the same type.
    (func (export "desc_eq_own") (result i32)
        (ref.is_null (ref.cast_desc_eq (ref null $obj) (ref.null none)
            (ref.get_desc $obj (call $kept))))
        (drop (ref.cast_desc_eq (ref $obj) (global.get $keep) (ref.get_desc $obj (call $kept))))
        (i32.const 1)
        (i32.and))
    (func (export "desc_eq_other") (result i32)
        (drop (ref.cast_desc_eq (ref $obj) (global.get $keep) (global.get $other)))
        (i32.const 1))
    (func (export "br_desc_eq") (param $mine i32) (result i32)
        (drop (block $yes (result (ref $obj))
            (drop (br_on_cast_desc_eq $yes anyref (ref $obj) (global.get $keep)
                (if (result (ref null $vt)) (local.get $mine)
                    (then (ref.get_desc $obj (call $kept)))
                    (else (global.get $other)))))
            (return (i32.const 0))))
        (i32.const 1))
    (func (export "null_desc") (result i32)
        (drop (struct.new_default_desc $obj (ref.null none)))
        (i32.const 0))
    ;; bits: 1 (ref $obj), 2 (ref exact $obj), 4 (ref exact $obj2)
    (func (export "exactness") (param $x anyref) (result i32)
        (i32.or (ref.test (ref $obj) (local.get $x))
            (i32.or (i32.shl (ref.test (ref (exact $obj)) (local.get $x)) (i32.const 1))
                (i32.shl (ref.test (ref (exact $obj2)) (local.get $x)) (i32.const 2)))))
    (func (export "keep") (result anyref) (global.get $keep))
    (func (export "const") (result anyref) (global.get $const)))"#;

use common::call;

fn i32_of(v: Result<Val, String>) -> i32 {
    v.unwrap().i32().expect("an i32")
}

#[test]
fn descriptors_keep_their_slot_and_survive_collections_under_every_policy() {
    let mut configs = common::policy_configs(true);
    let mut stress = Config::new();
    stress.gc_stress(true);
    configs.push(("gc stress", stress));
    for (name, mut config) in configs {
        // A small heap, so the churn below collects many times.
        config.wasm_custom_descriptors(true).max_gc_heap(1 << 20);
        let (mut store, inst) = common::instantiated(&config, WAT);
        let s = &mut store;
        call(s, &inst, "make", &[Val::I32(41), Val::I32(-3)]).unwrap();
        call(s, &inst, "churn", &[Val::I32(2000)]).expect(name);
        assert_eq!(i32_of(call(s, &inst, "tag", &[])), 41, "{name}");
        assert_eq!(i32_of(call(s, &inst, "extra", &[])), 9, "{name}");
        assert_eq!(
            call(s, &inst, "name_y", &[]).unwrap().i64(),
            Some(6),
            "{name}"
        );
        // The fields before the slot are where the supertype reads them;
        // the subtype's own field after it.
        assert_eq!(i32_of(call(s, &inst, "x", &[])), -3, "{name}");
        assert_eq!(call(s, &inst, "y", &[]).unwrap().i64(), Some(77), "{name}");
        assert_eq!(call(s, &inst, "w", &[]).unwrap().f64(), Some(2.5), "{name}");
        assert_eq!(i32_of(call(s, &inst, "const_tag", &[])), 13, "{name}");

        assert_eq!(i32_of(call(s, &inst, "desc_eq_own", &[])), 1, "{name}");
        assert_eq!(
            call(s, &inst, "desc_eq_other", &[]),
            Err("wasm trap: descriptor cast failure".into()),
            "{name}"
        );
        assert_eq!(
            i32_of(call(s, &inst, "br_desc_eq", &[Val::I32(1)])),
            1,
            "{name}"
        );
        assert_eq!(
            i32_of(call(s, &inst, "br_desc_eq", &[Val::I32(0)])),
            0,
            "{name}"
        );
        assert_eq!(
            call(s, &inst, "null_desc", &[]),
            Err("wasm trap: null descriptor reference".into()),
            "{name}"
        );

        // Exact casts: an $obj2 is an $obj, not exactly one.
        let keep = call(s, &inst, "keep", &[]).unwrap();
        let konst = call(s, &inst, "const", &[]).unwrap();
        assert_eq!(
            i32_of(call(s, &inst, "exactness", &[keep])),
            0b101,
            "{name}"
        );
        assert_eq!(
            i32_of(call(s, &inst, "exactness", &[konst])),
            0b011,
            "{name}"
        );

        // The host reads the fields by index, the slot passed over.
        let Val::AnyRef(Some(obj)) = keep else {
            panic!("{name}: {keep:?}")
        };
        assert_eq!(obj.field(&mut *s, 0).unwrap().i32(), Some(-3), "{name}");
        assert_eq!(obj.field(&mut *s, 1).unwrap().i64(), Some(77), "{name}");
        assert_eq!(obj.field(&mut *s, 3).unwrap().f64(), Some(2.5), "{name}");
        assert!(obj.field(&mut *s, 4).is_err(), "{name}");
    }
}

#[test]
fn an_exact_function_import_takes_only_its_type() {
    let mut config = Config::new();
    config.wasm_custom_descriptors(true);
    let engine = Engine::new(&config).unwrap();
    let exporter = Module::new(
        &engine,
        r#"(module
            (type $f (sub (func (result i32))))
            (type $g (sub $f (func (result i32))))
            (func (export "f") (type $f) (i32.const 1))
            (func (export "g") (type $g) (i32.const 2)))"#,
    )
    .unwrap();
    let importer = |exact: bool, name: &str| {
        let ty = if exact {
            "(exact (type $f))"
        } else {
            "(type $f)"
        };
        Module::new(
            &engine,
            format!(
                r#"(module
                    (type $f (sub (func (result i32))))
                    (import "m" "{name}" (func {ty}))
                    (func (export "run") (result i32) (call 0)))"#
            ),
        )
        .unwrap()
    };
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let inst = linker.instantiate(&mut store, &exporter).unwrap();
    linker.instance(&mut store, "m", inst).unwrap();
    for (exact, name, links) in [
        (false, "f", true),
        (false, "g", true),
        (true, "f", true),
        (true, "g", false),
    ] {
        let result = linker.instantiate(&mut store, &importer(exact, name));
        match result {
            Ok(inst) => {
                assert!(links, "exact {exact}, {name} linked");
                let want = if name == "f" { 1 } else { 2 };
                assert_eq!(i32_of(call(&mut store, &inst, "run", &[])), want);
            }
            Err(err) => {
                assert!(!links, "exact {exact}, {name}: {err}");
                assert!(
                    err.to_string().contains("incompatible import type"),
                    "{err}"
                );
            }
        }
    }
}

#[test]
fn descriptors_and_exact_types_are_refused_unless_switched_on() {
    let engine = Engine::new(&Config::new()).unwrap();
    let err = Module::new(&engine, WAT).unwrap_err().to_string();
    assert!(err.contains("custom descriptors"), "{err}");
    let exact = r#"(module (type $t (struct))
        (func (param (ref (exact $t)))))"#;
    let err = Module::new(&engine, exact).unwrap_err().to_string();
    assert!(err.contains("custom descriptors"), "{err}");
}

#[test]
fn the_host_hands_in_only_values_of_exactly_an_exact_type() {
    let mut config = Config::new();
    config.wasm_custom_descriptors(true);
    let wat = r#"(module
        (type $s (sub (struct (field i32))))
        (type $t (sub $s (struct (field i32))))
        (type $f (sub (func (result i32))))
        (type $g (sub $f (func (result i32))))
        (func $one (export "one") (type $f) (i32.const 1))
        (func $two (export "two") (type $g) (i32.const 2))
        (elem declare func $one $two)
        (global (export "exact") (mut (ref null (exact $s))) (ref.null none))
        (global (export "inexact") (mut (ref null $s)) (ref.null none))
        (func (export "s") (result anyref) (struct.new $s (i32.const 1)))
        (func (export "t") (result anyref) (struct.new $t (i32.const 2)))
        (func (export "call_exact") (param (ref (exact $f))) (result i32)
            (call_ref $f (local.get 0))))"#;
    let (mut store, inst) = common::instantiated(&config, wat);
    let s = call(&mut store, &inst, "s", &[]).unwrap();
    let t = call(&mut store, &inst, "t", &[]).unwrap();
    let exact = inst.get_global(&mut store, "exact").unwrap();
    let inexact = inst.get_global(&mut store, "inexact").unwrap();
    exact.set(&mut store, s).unwrap();
    let err = exact.set(&mut store, t).unwrap_err().to_string();
    assert!(err.contains("of another type"), "{err}");
    inexact.set(&mut store, t).unwrap();

    let one = inst.get_func(&mut store, "one").unwrap();
    let two = inst.get_func(&mut store, "two").unwrap();
    let f = inst.get_func(&mut store, "call_exact").unwrap();
    let mut out = [Val::I32(0)];
    f.call(&mut store, &[Val::FuncRef(Some(one))], &mut out)
        .unwrap();
    assert_eq!(out[0].i32(), Some(1));
    let err = f
        .call(&mut store, &[Val::FuncRef(Some(two))], &mut out)
        .unwrap_err()
        .to_string();
    assert!(err.contains("of another type"), "{err}");
}
