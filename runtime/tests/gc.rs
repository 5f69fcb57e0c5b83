//! Wasm 3.0's GC: recursion groups and declared subtypes (canonical across
//! modules), `i31`s, `ref.eq`, the conversions between `anyref` and
//! `externref`, and the casts, under every policy; what the host sees of
//! `anyref` values and hands back.

mod common;

use walmart::{AnyRef, Config, Engine, ExternRef, Instance, Linker, Module, Store, Val};

const WAT: &str = r#"(module
    (type $s (sub (struct (field i32))))
    (type $f (sub (func (result i32))))
    (type $g (sub $f (func (result i32))))
    (type $h (func (result i32)))
    (func $one (type $f) (i32.const 1))
    (func $two (type $g) (i32.const 2))
    (func $three (type $h) (i32.const 3))
    (table $t 3 funcref)
    (elem (table $t) (i32.const 0) func $one $two $three)
    (func (export "call_f") (param i32) (result i32)
        (call_indirect $t (type $f) (local.get 0)))
    (func (export "i31") (param i32) (result anyref) (ref.i31 (local.get 0)))
    (func (export "get_s") (param i31ref) (result i32) (i31.get_s (local.get 0)))
    (func (export "get_u") (param i31ref) (result i32) (i31.get_u (local.get 0)))
    (func (export "eq") (param eqref eqref) (result i32)
        (ref.eq (local.get 0) (local.get 1)))
    (func (export "internalize") (param externref) (result anyref)
        (any.convert_extern (local.get 0)))
    (func (export "externalize") (param anyref) (result externref)
        (extern.convert_any (local.get 0)))
    ;; bits: 1 any, 2 eq, 4 i31, 8 struct, 16 $s, 32 null any
    (func (export "test") (param $x anyref) (result i32)
        (i32.or (i32.or (i32.or (ref.test (ref any) (local.get $x))
                                (i32.shl (ref.test (ref eq) (local.get $x)) (i32.const 1)))
                        (i32.or (i32.shl (ref.test (ref i31) (local.get $x)) (i32.const 2))
                                (i32.shl (ref.test (ref struct) (local.get $x)) (i32.const 3))))
                (i32.or (i32.shl (ref.test (ref $s) (local.get $x)) (i32.const 4))
                        (i32.shl (ref.test (ref null none) (local.get $x)) (i32.const 5)))))
    (func (export "cast_i31") (param anyref) (result i32)
        (i31.get_u (ref.cast (ref i31) (local.get 0))))
    ;; 1 when an i31 (branch taken), else 0
    (func (export "on_cast") (param anyref) (result i32)
        (drop (block $yes (result (ref i31))
            (drop (br_on_cast $yes anyref (ref i31) (local.get 0)))
            (return (i32.const 0))))
        (i32.const 1))
    (func (export "on_cast_fail") (param anyref) (result i32)
        (drop (block $no (result anyref)
            (drop (br_on_cast_fail $no anyref (ref i31) (local.get 0)))
            (return (i32.const 1))))
        (i32.const 0))
    (func (export "call_g") (result i32) (call $two)))"#;

fn call(store: &mut Store<()>, inst: &Instance, name: &str, args: &[Val]) -> walmart::Result<Val> {
    let f = inst.get_func(&mut *store, name).expect(name);
    let mut out = [Val::I32(0)];
    f.call(&mut *store, args, &mut out)?;
    Ok(out[0])
}

fn i32_of(v: Val) -> i32 {
    v.i32().expect("an i32 result")
}

#[test]
fn references_casts_and_subtypes_under_every_policy() {
    for (name, config) in common::policy_configs(true) {
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, WAT).unwrap();
        let mut store = Store::new(&engine, ());
        let inst = Instance::new(&mut store, &module, &[]).unwrap();
        let s = &mut store;

        // call_indirect accepts a declared subtype, not an unrelated type
        // of the same signature.
        assert_eq!(i32_of(call(s, &inst, "call_f", &[Val::I32(0)]).unwrap()), 1);
        assert_eq!(i32_of(call(s, &inst, "call_f", &[Val::I32(1)]).unwrap()), 2);
        let err = call(s, &inst, "call_f", &[Val::I32(2)]).unwrap_err();
        assert!(
            err.to_string().contains("indirect call type mismatch"),
            "{name}: {err}"
        );

        // i31: 31 bits, both extensions, through the host and back.
        for v in [0, 1, -1, 0x3fff_ffff, -0x4000_0000, i32::MAX, i32::MIN] {
            let r = call(s, &inst, "i31", &[Val::I32(v)]).unwrap();
            let Val::AnyRef(Some(a)) = r else {
                panic!("{name}: {r:?}")
            };
            let signed = (v << 1) >> 1;
            assert_eq!(a.i31_s(), Some(signed), "{name}: {v}");
            assert_eq!(a.i31_u(), Some(v as u32 & 0x7fff_ffff), "{name}: {v}");
            assert_eq!(i32_of(call(s, &inst, "get_s", &[r]).unwrap()), signed);
            let host = Val::AnyRef(Some(AnyRef::from_i31(v)));
            assert_eq!(
                i32_of(call(s, &inst, "get_u", &[host]).unwrap()),
                v & 0x7fff_ffff
            );
            assert_eq!(i32_of(call(s, &inst, "eq", &[r, host]).unwrap()), 1);
        }
        let other = Val::AnyRef(Some(AnyRef::from_i31(8)));
        let seven = Val::AnyRef(Some(AnyRef::from_i31(7)));
        assert_eq!(i32_of(call(s, &inst, "eq", &[seven, other]).unwrap()), 0);
        let null = Val::AnyRef(None);
        assert_eq!(i32_of(call(s, &inst, "eq", &[null, null]).unwrap()), 1);
        let err = call(s, &inst, "get_s", &[null]).unwrap_err();
        assert!(
            err.to_string().contains("null i31 reference"),
            "{name}: {err}"
        );

        // A host reference goes in and out of the any hierarchy unchanged.
        let host = Val::ExternRef(Some(ExternRef::new(42)));
        let inside = call(s, &inst, "internalize", &[host]).unwrap();
        let Val::AnyRef(Some(a)) = inside else {
            panic!("{name}: {inside:?}")
        };
        assert_eq!(a.host_id(), Some(42));
        assert!(!a.is_eq());
        let back = call(s, &inst, "externalize", &[inside]).unwrap();
        assert_eq!(back, Val::ExternRef(Some(ExternRef::new(42))), "{name}");
        // An i31 made external is no host payload, and comes back whole.
        let out = call(s, &inst, "externalize", &[seven]).unwrap();
        let Val::ExternRef(Some(e)) = out else {
            panic!("{name}: {out:?}")
        };
        assert_eq!(e.id(), None);
        assert_eq!(e.as_any().and_then(|a| a.i31_u()), Some(7));
        let again = call(s, &inst, "internalize", &[out]).unwrap();
        assert_eq!(again, seven, "{name}");
        assert_eq!(
            call(s, &inst, "externalize", &[null]).unwrap(),
            Val::ExternRef(None)
        );

        // Casts.
        let internal = Val::AnyRef(Some(AnyRef::from_extern(ExternRef::new(3))));
        assert_eq!(i32_of(call(s, &inst, "test", &[seven]).unwrap()), 0b111);
        assert_eq!(i32_of(call(s, &inst, "test", &[internal]).unwrap()), 0b1);
        assert_eq!(i32_of(call(s, &inst, "test", &[null]).unwrap()), 0b100000);
        assert_eq!(i32_of(call(s, &inst, "cast_i31", &[seven]).unwrap()), 7);
        for bad in [internal, null] {
            let err = call(s, &inst, "cast_i31", &[bad]).unwrap_err();
            assert!(err.to_string().contains("cast failure"), "{name}: {err}");
        }
        assert_eq!(i32_of(call(s, &inst, "on_cast", &[seven]).unwrap()), 1);
        assert_eq!(i32_of(call(s, &inst, "on_cast", &[internal]).unwrap()), 0);
        assert_eq!(i32_of(call(s, &inst, "on_cast", &[null]).unwrap()), 0);
        assert_eq!(i32_of(call(s, &inst, "on_cast_fail", &[seven]).unwrap()), 1);
        assert_eq!(
            i32_of(call(s, &inst, "on_cast_fail", &[internal]).unwrap()),
            0
        );
    }
}

/// Recursion groups are canonical across modules: the same group links,
/// a group that differs only in its position does not; a function of a
/// declared subtype links where its supertype is imported.
#[test]
fn recursion_groups_and_subtypes_link_across_modules() {
    let engine = Engine::default();
    let exporter = Module::new(
        &engine,
        r#"(module
            (rec (type $a (func (param (ref null $b))))
                 (type $b (struct (field (ref null $a)))))
            (type $f (sub (func (result i32))))
            (type $g (sub $f (func (result i32))))
            (func (export "a") (type $a))
            (func (export "g") (type $g) (i32.const 7)))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &exporter, &[]).unwrap();
    let mut linker = Linker::new(&engine);
    linker.instance(&mut store, "m", inst).unwrap();

    let same = r#"(module
        (rec (type $a (func (param (ref null $b))))
             (type $b (struct (field (ref null $a)))))
        (import "m" "a" (func (type $a))))"#;
    linker
        .instantiate(&mut store, &Module::new(&engine, same).unwrap())
        .unwrap();
    // The same two types in the other order are another group.
    let swapped = r#"(module
        (rec (type $b (struct (field (ref null $a))))
             (type $a (func (param (ref null $b)))))
        (import "m" "a" (func (type $a))))"#;
    let err = linker
        .instantiate(&mut store, &Module::new(&engine, swapped).unwrap())
        .unwrap_err();
    assert!(
        err.to_string().contains("incompatible import type"),
        "{err}"
    );

    let sup = r#"(module
        (type $f (sub (func (result i32))))
        (import "m" "g" (func $g (type $f)))
        (func (export "run") (result i32) (call $g)))"#;
    let inst = linker
        .instantiate(&mut store, &Module::new(&engine, sup).unwrap())
        .unwrap();
    assert_eq!(i32_of(call(&mut store, &inst, "run", &[]).unwrap()), 7);
    // Declared as final, the same signature is not the supertype.
    let fin = r#"(module
        (type $f (func (result i32)))
        (import "m" "g" (func (type $f))))"#;
    let err = linker
        .instantiate(&mut store, &Module::new(&engine, fin).unwrap())
        .unwrap_err();
    assert!(
        err.to_string().contains("incompatible import type"),
        "{err}"
    );
}

const OBJECTS: &str = r#"(module
    (type $p (struct (field $x (mut i32)) (field $b (mut i8)) (field $v (mut v128))
                     (field $r (mut (ref null $p)))))
    (type $bytes (array (mut i8)))
    (type $longs (array (mut i64)))
    (global $made (ref $p) (struct.new $p (i32.const 5) (i32.const 300)
        (v128.const i64x2 1 2) (ref.null $p)))
    (global $fixed (ref $longs) (array.new_fixed $longs 3 (i64.const 7) (i64.const 8) (i64.const 9)))
    ;; x + b (signed) + lane 1 of v of the global's struct, after setting b
    (func (export "fields") (param i32) (result i32)
        (struct.set $p $b (global.get $made) (local.get 0))
        (i32.add (i32.add (struct.get $p $x (global.get $made))
                          (struct.get_s $p $b (global.get $made)))
                 (i32x4.extract_lane 2 (struct.get $p $v (global.get $made)))))
    (func (export "get_u") (result i32) (struct.get_u $p $b (global.get $made)))
    (func (export "chain") (result i32)
        (struct.get $p $x (struct.get $p $r
            (struct.new $p (i32.const 1) (i32.const 0) (v128.const i64x2 0 0)
                (struct.new_default $p)))))
    (func (export "null_get") (result i32) (struct.get $p $x (ref.null $p)))
    ;; sum of an array of n bytes filled with v, after copying over itself
    (func (export "bytes") (param $n i32) (param $v i32) (result i32)
        (local $a (ref $bytes)) (local $i i32) (local $sum i32)
        (local.set $a (array.new $bytes (local.get $v) (local.get $n)))
        (array.set $bytes (local.get $a) (i32.const 0) (i32.const 1))
        (array.copy $bytes $bytes (local.get $a) (i32.const 1) (local.get $a) (i32.const 0)
            (i32.sub (local.get $n) (i32.const 1)))
        (block $done (loop $next
            (br_if $done (i32.ge_u (local.get $i) (array.len (local.get $a))))
            (local.set $sum (i32.add (local.get $sum)
                (array.get_u $bytes (local.get $a) (local.get $i))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
        (local.get $sum))
    (func (export "get") (param i32) (result i64) (array.get $longs (global.get $fixed) (local.get 0)))
    (func (export "fill") (param i32 i32) (result i64)
        (array.fill $longs (global.get $fixed) (local.get 0) (i64.const 100) (local.get 1))
        (i64.add (array.get $longs (global.get $fixed) (i32.const 1))
                 (array.get $longs (global.get $fixed) (i32.const 2))))
    (func (export "big") (param i32) (result i32)
        (array.len (array.new_default $longs (local.get 0))))
    (func (export "is_struct") (param anyref) (result i32) (ref.test (ref $p) (local.get 0)))
    (func (export "struct") (result anyref) (global.get $made)))"#;

#[test]
fn structs_and_arrays_under_every_policy() {
    for (name, mut config) in common::policy_configs(true) {
        config.max_gc_heap(1 << 20);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, OBJECTS).unwrap();
        let mut store = Store::new(&engine, ());
        let inst = Instance::new(&mut store, &module, &[]).unwrap();
        let s = &mut store;
        // 300 stored as i8 is 44; -1 stays -1 signed and reads 255 unsigned.
        assert_eq!(
            i32_of(call(s, &inst, "fields", &[Val::I32(300)]).unwrap()),
            5 + 44 + 2
        );
        assert_eq!(
            i32_of(call(s, &inst, "fields", &[Val::I32(-1)]).unwrap()),
            5 - 1 + 2
        );
        assert_eq!(i32_of(call(s, &inst, "get_u", &[]).unwrap()), 255);
        assert_eq!(i32_of(call(s, &inst, "chain", &[]).unwrap()), 0);
        let err = call(s, &inst, "null_get", &[]).unwrap_err();
        assert!(
            err.to_string().contains("null structure reference"),
            "{name}: {err}"
        );
        // An overlapping copy one to the right moves the original bytes
        // (as memmove): [1, 1, 3, 3, ...], not [1, 1, 1, ...].
        assert_eq!(
            i32_of(call(s, &inst, "bytes", &[Val::I32(10), Val::I32(3)]).unwrap()),
            26
        );
        assert_eq!(call(s, &inst, "get", &[Val::I32(2)]).unwrap(), Val::I64(9));
        let err = call(s, &inst, "get", &[Val::I32(3)]).unwrap_err();
        assert!(
            err.to_string().contains("out of bounds array access"),
            "{name}: {err}"
        );
        assert_eq!(
            call(s, &inst, "fill", &[Val::I32(1), Val::I32(1)]).unwrap(),
            Val::I64(109)
        );
        let err = call(s, &inst, "fill", &[Val::I32(2), Val::I32(2)]).unwrap_err();
        assert!(
            err.to_string().contains("out of bounds array access"),
            "{name}: {err}"
        );
        // The store's GC heap limit: a megabyte of longs does not fit.
        assert_eq!(
            i32_of(call(s, &inst, "big", &[Val::I32(1000)]).unwrap()),
            1000
        );
        let err = call(s, &inst, "big", &[Val::I32(1 << 17)]).unwrap_err();
        assert!(
            err.to_string().contains("GC heap exhausted"),
            "{name}: {err}"
        );
        // An object at the host: its kind, and back in as itself.
        let obj = call(s, &inst, "struct", &[]).unwrap();
        let Val::AnyRef(Some(a)) = obj else {
            panic!("{name}: {obj:?}")
        };
        assert!(a.is_struct() && !a.is_array() && a.is_eq(), "{name}");
        assert_eq!(i32_of(call(s, &inst, "is_struct", &[obj]).unwrap()), 1);
        // Another store's object is refused.
        let mut other = Store::new(&engine, ());
        let there = Instance::new(&mut other, &module, &[]).unwrap();
        let err = call(&mut other, &there, "is_struct", &[obj]).unwrap_err();
        assert!(err.to_string().contains("does not own"), "{name}: {err}");
    }
}

const SEGMENTS: &str = r#"(module
    (type $k (func (result i32)))
    (type $bytes (array (mut i8)))
    (type $shorts (array (mut i16)))
    (type $funcs (array (mut (ref null $k))))
    (data $d "\01\02\03\04\05")
    (elem $e (ref null $k) (ref.func $nine) (ref.null $k) (ref.func $nine))
    (func $nine (type $k) (i32.const 9))
    ;; element i of an array of n shorts read from byte offset s
    (func (export "new_data") (param $s i32) (param $n i32) (param $i i32) (result i32)
        (array.get_u $shorts (array.new_data $shorts $d (local.get $s) (local.get $n))
            (local.get $i)))
    ;; an array of 4 bytes, the data's bytes s..s+n written at dst; byte i
    (func (export "init_data") (param $dst i32) (param $s i32) (param $n i32) (param $i i32)
        (result i32)
        (local $a (ref $bytes))
        (local.set $a (array.new_default $bytes (i32.const 4)))
        (array.init_data $bytes $d (local.get $a) (local.get $dst) (local.get $s) (local.get $n))
        (array.get_u $bytes (local.get $a) (local.get $i)))
    (func (export "new_elem") (param $s i32) (param $n i32) (result i32)
        (call_ref $k (array.get $funcs (array.new_elem $funcs $e (local.get $s) (local.get $n))
            (i32.const 0))))
    (func (export "init_elem") (param $dst i32) (param $s i32) (param $n i32) (result i32)
        (local $a (ref $funcs))
        (local.set $a (array.new_default $funcs (i32.const 2)))
        (array.init_elem $funcs $e (local.get $a) (local.get $dst) (local.get $s) (local.get $n))
        (ref.is_null (array.get $funcs (local.get $a) (i32.const 1))))
    (func (export "drop") (data.drop $d) (elem.drop $e)))"#;

#[test]
fn arrays_from_segments_under_every_policy() {
    for (name, config) in common::policy_configs(true) {
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, SEGMENTS).unwrap();
        let mut store = Store::new(&engine, ());
        let inst = Instance::new(&mut store, &module, &[]).unwrap();
        let s = &mut store;
        let args = |v: &[i32]| v.iter().map(|x| Val::I32(*x)).collect::<Vec<_>>();
        let run = |s: &mut Store<()>, f: &str, v: &[i32]| call(s, &inst, f, &args(v));
        let trap = |s: &mut Store<()>, f: &str, v: &[i32], says: &str| {
            let err = call(s, &inst, f, &args(v)).unwrap_err().to_string();
            assert!(err.contains(says), "{name}: {f}{v:?}: {err}");
        };
        // Little-endian shorts from byte 1: 0x0302, 0x0504.
        assert_eq!(i32_of(run(s, "new_data", &[1, 2, 1]).unwrap()), 0x0504);
        trap(s, "new_data", &[2, 2, 0], "out of bounds memory access");
        trap(s, "new_data", &[0, 0, 0], "out of bounds array access");
        assert_eq!(i32_of(run(s, "init_data", &[1, 2, 3, 3]).unwrap()), 5);
        assert_eq!(i32_of(run(s, "init_data", &[1, 2, 3, 0]).unwrap()), 0);
        trap(s, "init_data", &[2, 0, 3, 0], "out of bounds array access");
        trap(s, "init_data", &[0, 3, 3, 0], "out of bounds memory access");
        assert_eq!(i32_of(run(s, "new_elem", &[2, 1]).unwrap()), 9);
        trap(s, "new_elem", &[1, 1], "null function reference");
        trap(s, "new_elem", &[2, 2], "out of bounds table access");
        assert_eq!(i32_of(run(s, "init_elem", &[0, 1, 2]).unwrap()), 0);
        assert_eq!(i32_of(run(s, "init_elem", &[0, 0, 2]).unwrap()), 1);
        trap(s, "init_elem", &[1, 0, 2], "out of bounds array access");
        // Dropped segments are empty: only empty ranges stay in bounds.
        let drop = inst.get_func(&mut *s, "drop").unwrap();
        drop.call(&mut *s, &[], &mut []).unwrap();
        trap(s, "new_data", &[0, 1, 0], "out of bounds memory access");
        trap(s, "new_elem", &[0, 1], "out of bounds table access");
        assert_eq!(i32_of(run(s, "init_data", &[0, 0, 0, 0]).unwrap()), 0);
    }
}

/// Found by review: a host-made exception's payload is checked against the
/// tag's exact types (the catching code trusts them: a smaller struct
/// given for a larger one would be read past its end).
#[test]
fn a_host_exception_carries_only_values_of_its_tags_exact_types() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let module = Module::new(
        &engine,
        r#"(module
            (type $small (struct (field i32)))
            (type $big (struct (field i64) (field i64) (field i64)))
            (tag $e (export "e") (param (ref $big)))
            (func (export "small") (result anyref) (struct.new $small (i32.const 1)))
            (func (export "big") (result anyref) (struct.new_default $big)))"#,
    )
    .unwrap();
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let tag = inst.get_tag(&mut store, "e").unwrap();
    for (wrong, says) in [
        (
            call(&mut store, &inst, "small", &[]).unwrap(),
            "another type",
        ),
        (Val::AnyRef(Some(AnyRef::from_i31(3))), "another type"),
        (Val::AnyRef(None), "non-nullable"),
    ] {
        let err = walmart::ExnRef::new(&mut store, tag, &[wrong]).unwrap_err();
        assert!(err.to_string().contains(says), "{wrong:?}: {err}");
    }
    let big = call(&mut store, &inst, "big", &[]).unwrap();
    walmart::ExnRef::new(&mut store, tag, &[big]).unwrap();
}

/// Found by review: a constant expression's array is allocated as the
/// instruction's is (a huge one is the heap limit's trap, not a host
/// allocation as large), and `array.copy` checks both nulls before
/// either range.
#[test]
fn constant_arrays_meet_the_heap_limit_and_copy_checks_nulls_first() {
    let mut config = Config::new();
    config.max_gc_heap(1 << 20);
    let engine = Engine::new(&config).unwrap();
    let mut store = Store::new(&engine, ());
    let huge = r#"(module (type $a (array (mut i8)))
        (global (ref $a) (array.new_default $a (i32.const 0x7fffffff))))"#;
    let err = Instance::new(&mut store, &Module::new(&engine, huge).unwrap(), &[]).unwrap_err();
    assert!(err.to_string().contains("GC heap exhausted"), "{err}");
    let fits = r#"(module (type $a (array (mut i8)))
        (global $g (ref $a) (array.new $a (i32.const 7) (i32.const 1000)))
        (func (export "at") (param i32) (result i32) (array.get_u $a (global.get $g) (local.get 0)))
        (func (export "copy") (result i32)
            (array.copy $a $a (global.get $g) (i32.const 999) (ref.null $a) (i32.const 0)
                (i32.const 5))
            (i32.const 0)))"#;
    let inst = Instance::new(&mut store, &Module::new(&engine, fits).unwrap(), &[]).unwrap();
    assert_eq!(
        i32_of(call(&mut store, &inst, "at", &[Val::I32(999)]).unwrap()),
        7
    );
    let err = call(&mut store, &inst, "copy", &[]).unwrap_err();
    assert!(err.to_string().contains("null array reference"), "{err}");
}

/// The host reads and writes the fields of structs and the elements of
/// arrays it holds, with the types' checks: packed values, immutable
/// fields, bounds, exact reference types, other kinds of reference.
#[test]
fn the_host_reads_and_writes_fields_and_elements() {
    const FIELDS: &str = r#"(module
        (type $s (struct (field $p (mut i8)) (field $n i64) (field $r (mut (ref null $s)))
                         (field $v (mut v128)) (field $f (mut f32)) (field $e (mut externref))))
        (type $t (struct (field i32)))
        (type $a (array (mut i16)))
        (type $refs (array (ref null $s)))
        (func (export "s") (result anyref)
            (struct.new $s (i32.const 0x1ff) (i64.const -5) (ref.null $s)
                (v128.const i64x2 1 2) (f32.const 1.5) (ref.null extern)))
        (func (export "t") (result anyref) (struct.new $t (i32.const 9)))
        (func (export "a") (result anyref) (array.new $a (i32.const -1) (i32.const 3)))
        (func (export "refs") (param anyref) (result anyref)
            (array.new_fixed $refs 2 (ref.null $s) (ref.cast (ref null $s) (local.get 0))))
        ;; the $n field of the struct the given one's $r names
        (func (export "next_n") (param anyref) (result i64)
            (struct.get $s $n (struct.get $s $r (ref.cast (ref $s) (local.get 0))))))"#;
    let engine = Engine::new(&Config::new()).unwrap();
    let module = Module::new(&engine, FIELDS).unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let s = &mut store;
    let any = |v: Val| match v {
        Val::AnyRef(Some(r)) => r,
        other => panic!("not an object: {other:?}"),
    };
    let st = any(call(s, &inst, "s", &[]).unwrap());
    let t = any(call(s, &inst, "t", &[]).unwrap());
    let arr = any(call(s, &inst, "a", &[]).unwrap());

    // Reads: packed zero-extended, every value type.
    assert_eq!(st.field(&mut *s, 0).unwrap(), Val::I32(0xff));
    assert_eq!(st.field(&mut *s, 1).unwrap(), Val::I64(-5));
    assert_eq!(st.field(&mut *s, 2).unwrap(), Val::AnyRef(None));
    assert_eq!(st.field(&mut *s, 3).unwrap(), Val::V128(1 | 2 << 64));
    assert_eq!(st.field(&mut *s, 4).unwrap(), Val::F32(1.5f32.to_bits()));
    assert_eq!(st.field(&mut *s, 5).unwrap(), Val::ExternRef(None));
    assert_eq!(arr.array_len(&*s).unwrap(), 3);
    assert_eq!(arr.array_get(&mut *s, 2).unwrap(), Val::I32(0xffff));

    // Writes, seen by Wasm and by the host.
    st.set_field(&mut *s, 0, Val::I32(0x1234)).unwrap();
    assert_eq!(st.field(&mut *s, 0).unwrap(), Val::I32(0x34));
    st.set_field(&mut *s, 2, Val::AnyRef(Some(st))).unwrap();
    assert_eq!(
        i64::from(-5),
        call(s, &inst, "next_n", &[Val::AnyRef(Some(st))])
            .unwrap()
            .i64()
            .unwrap()
    );
    let ext = walmart::ExternRef::new(77);
    st.set_field(&mut *s, 5, Val::ExternRef(Some(ext))).unwrap();
    assert_eq!(st.field(&mut *s, 5).unwrap(), Val::ExternRef(Some(ext)));
    arr.array_set(&mut *s, 1, Val::I32(7)).unwrap();
    assert_eq!(arr.array_get(&mut *s, 1).unwrap(), Val::I32(7));
    let refs = any(call(s, &inst, "refs", &[Val::AnyRef(Some(st))]).unwrap());
    assert_eq!(refs.array_get(&mut *s, 1).unwrap(), Val::AnyRef(Some(st)));

    // Refused: each with a one-line error.
    let refused = [
        ("immutable field", st.set_field(&mut *s, 1, Val::I64(1))),
        ("no field 6", st.set_field(&mut *s, 6, Val::I32(1))),
        ("no field 7", st.set_field(&mut *s, 7, Val::I32(1))),
        ("wrong value type", st.set_field(&mut *s, 4, Val::I32(1))),
        (
            "another struct type",
            st.set_field(&mut *s, 2, Val::AnyRef(Some(t))),
        ),
        (
            "an i31 for a struct",
            st.set_field(&mut *s, 2, Val::AnyRef(Some(AnyRef::from_i31(3)))),
        ),
        ("out of bounds", arr.array_set(&mut *s, 3, Val::I32(1))),
        (
            "immutable elements",
            refs.array_set(&mut *s, 0, Val::AnyRef(None)),
        ),
    ];
    for (what, r) in refused {
        let err = r.expect_err(what).to_string();
        assert_eq!(err.lines().count(), 1, "{what}: {err}");
        if let Some(n) = what.strip_prefix("no field ") {
            assert!(err.contains(&format!("no field {n}")), "{err}");
        }
    }
    assert!(st.field(&mut *s, 6).is_err());
    assert!(arr.array_get(&mut *s, 3).is_err());
    assert!(arr
        .field(&mut *s, 0)
        .unwrap_err()
        .to_string()
        .contains("not a struct"));
    assert!(st
        .array_len(&*s)
        .unwrap_err()
        .to_string()
        .contains("not an array"));
    assert!(AnyRef::from_i31(1).field(&mut *s, 0).is_err());
    let scoped = s.gc_scope(|s| any(call(s, &inst, "t", &[]).unwrap()));
    let err = scoped.field(&mut *s, 0).unwrap_err().to_string();
    assert!(err.contains("root was released"), "{err}");
    // What the refused writes left: unchanged.
    assert_eq!(st.field(&mut *s, 1).unwrap(), Val::I64(-5));
    assert_eq!(st.field(&mut *s, 2).unwrap(), Val::AnyRef(Some(st)));
}

/// The host makes structs and arrays of types it defines, which are the
/// module's types of the same fields: Wasm casts them to its own, and the
/// host's allocations collect as Wasm's do.
#[test]
fn the_host_makes_objects_of_types_it_defines() {
    use walmart::{ArrayType, FieldType, StorageType, StructType, ValType};
    const TYPES: &str = r#"(module
        (type $p (struct (field i32) (field (mut anyref))))
        (type $b (array (mut i8)))
        (func (export "first") (param anyref) (result i32)
            (struct.get $p 0 (ref.cast (ref $p) (local.get 0))))
        (func (export "is_p") (param anyref) (result i32) (ref.test (ref $p) (local.get 0)))
        (func (export "sum") (param anyref) (result i32)
            (local $a (ref $b)) (local $i i32) (local $s i32)
            (local.set $a (ref.cast (ref $b) (local.get 0)))
            (block $done (loop $l
                (br_if $done (i32.ge_u (local.get $i) (array.len (local.get $a))))
                (local.set $s (i32.add (local.get $s)
                    (array.get_u $b (local.get $a) (local.get $i))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $l)))
            (local.get $s)))"#;
    let mut config = Config::new();
    config.max_gc_heap(8 << 20);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, TYPES).unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let s = &mut store;
    let p = StructType::new(
        &engine,
        &[
            FieldType::new(StorageType::Val(ValType::I32), false),
            FieldType::new(StorageType::Val(ValType::AnyRef), true),
        ],
    );
    let inner = AnyRef::new_struct(&mut *s, &p, &[Val::I32(1), Val::AnyRef(None)]).unwrap();
    let outer = AnyRef::new_struct(&mut *s, &p, &[Val::I32(42), Val::AnyRef(Some(inner))]).unwrap();
    assert_eq!(
        i32_of(call(s, &inst, "first", &[Val::AnyRef(Some(outer))]).unwrap()),
        42
    );
    assert_eq!(outer.field(&mut *s, 1).unwrap(), Val::AnyRef(Some(inner)));
    // Other fields, or another mutability, make another type.
    let q = StructType::new(
        &engine,
        &[
            FieldType::new(StorageType::Val(ValType::I32), true),
            FieldType::new(StorageType::Val(ValType::AnyRef), true),
        ],
    );
    let other = AnyRef::new_struct(&mut *s, &q, &[Val::I32(1), Val::AnyRef(None)]).unwrap();
    assert_eq!(
        i32_of(call(s, &inst, "is_p", &[Val::AnyRef(Some(other))]).unwrap()),
        0
    );
    assert_eq!(
        i32_of(call(s, &inst, "is_p", &[Val::AnyRef(Some(outer))]).unwrap()),
        1
    );

    let b = ArrayType::new(&engine, FieldType::new(StorageType::I8, true));
    let arr = AnyRef::new_array(&mut *s, &b, Val::I32(0x103), 10).unwrap();
    assert_eq!(
        i32_of(call(s, &inst, "sum", &[Val::AnyRef(Some(arr))]).unwrap()),
        30
    );
    // 200 arrays of 100 KB through 8 MiB: the host's allocations collect.
    for _ in 0..200 {
        s.gc_scope(|s| AnyRef::new_array(&mut *s, &b, Val::I32(1), 100_000).unwrap());
    }
    assert!(s.gc_stats().collections > 0);
    assert_eq!(
        i32_of(call(s, &inst, "sum", &[Val::AnyRef(Some(arr))]).unwrap()),
        30
    );

    // Made by a host function while Wasm runs, each allocation able to
    // collect (under stress: at every one), the chain held by Wasm.
    let mut stress = Config::new();
    stress.max_gc_heap(8 << 20).gc_stress(true);
    let engine2 = Engine::new(&stress).unwrap();
    let module = Module::new(
        &engine2,
        r#"(module
            (type $p (struct (field i32) (field (mut anyref))))
            (import "host" "make" (func $make (param i32 anyref) (result anyref)))
            (func (export "chain") (param $n i32) (result i32)
                (local $l anyref) (local $i i32) (local $s i32)
                (block $done (loop $build
                    (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
                    (local.set $l (call $make (local.get $i) (local.get $l)))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br $build)))
                (block $done (loop $walk
                    (br_if $done (ref.is_null (local.get $l)))
                    (local.set $s (i32.add (local.get $s)
                        (struct.get $p 0 (ref.cast (ref $p) (local.get $l)))))
                    (local.set $l (struct.get $p 1 (ref.cast (ref $p) (local.get $l))))
                    (br $walk)))
                (local.get $s)))"#,
    )
    .unwrap();
    let mut store2 = Store::new(&engine2, ());
    let p2 = StructType::new(
        &engine2,
        &[
            FieldType::new(StorageType::Val(ValType::I32), false),
            FieldType::new(StorageType::Val(ValType::AnyRef), true),
        ],
    );
    let junk = ArrayType::new(&engine2, FieldType::new(StorageType::I8, false));
    let make = walmart::Func::new(
        &mut store2,
        walmart::FuncType::new([ValType::I32, ValType::AnyRef], [ValType::AnyRef]),
        move |mut caller, args, results| {
            AnyRef::new_array(&mut caller, &junk, Val::I32(0), 1000)?;
            let made = AnyRef::new_struct(&mut caller, &p2, args)?;
            results[0] = Val::AnyRef(Some(made));
            Ok(())
        },
    );
    let mut linker = Linker::new(&engine2);
    linker.define(&mut store2, "host", "make", make).unwrap();
    let inst2 = linker.instantiate(&mut store2, &module).unwrap();
    let got = call(&mut store2, &inst2, "chain", &[Val::I32(3000)]).unwrap();
    assert_eq!(i32_of(got), 3000 * 2999 / 2);
    assert!(store2.gc_stats().collections > 100);

    // Refused: wrong counts and types, another engine's type, no room.
    assert!(AnyRef::new_struct(&mut *s, &p, &[Val::I32(1)]).is_err());
    assert!(AnyRef::new_struct(&mut *s, &p, &[Val::I64(1), Val::AnyRef(None)]).is_err());
    assert!(AnyRef::new_array(&mut *s, &b, Val::F32(0), 1).is_err());
    let elsewhere = StructType::new(&Engine::new(&Config::new()).unwrap(), &[]);
    assert!(AnyRef::new_struct(&mut *s, &elsewhere, &[]).is_err());
    let err = AnyRef::new_array(&mut *s, &b, Val::I32(0), 100 << 20).unwrap_err();
    assert!(err.to_string().contains("GC heap exhausted"), "{err}");
}
