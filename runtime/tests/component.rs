//! The component model: components instantiated from a component linker,
//! values through the canonical ABI both ways (host to guest to host),
//! string encodings, nested components and instance imports, and the
//! errors a user meets.

use std::sync::{Arc, Mutex};

use walmart::component::{Component, Linker, Type, Val};
use walmart::{Engine, Store};

mod common;

/// A bump allocator and a memory, as a component's libc gives them.
use common::COMPONENT_LIBC as LIBC;

/// A component exporting `g: func(x: T) -> T` that forwards to its
/// import `f` of the same type: the value crosses four times (host to
/// guest, guest to host, host to guest, guest to host). `params` are the
/// core parameters `T` flattens to; `result` its flat result, or `None`
/// when it goes through memory.
fn forwarder(ty: &str, params: &[&str], result: Option<&str>, encoding: &str) -> String {
    forwarder_with("", ty, params, result, encoding)
}

/// [`forwarder`] with `prelude` before the type: the named types (records,
/// flags, ...) it uses inside, each imported.
fn forwarder_with(
    prelude: &str,
    ty: &str,
    params: &[&str],
    result: Option<&str>,
    encoding: &str,
) -> String {
    let ps = params.join(" ");
    let gets: String = (0..params.len())
        .map(|i| format!("local.get {i} "))
        .collect();
    let (f_sig, g_sig, body) = match result {
        Some(r) => (
            format!("(param {ps}) (result {r})"),
            format!("(param {ps}) (result {r})"),
            format!("{gets} call $f"),
        ),
        None => (
            format!("(param {ps} i32)"),
            format!("(param {ps}) (result i32)"),
            format!("{gets} i32.const 1024 call $f i32.const 1024"),
        ),
    };
    format!(
        r#"(component
          {prelude}
          (type $t0 {ty})
          (import "t" (type $t (eq $t0)))
          (import "f" (func $f (param "x" $t) (result $t)))
          {LIBC}
          (core func $f_lowered (canon lower (func $f) (memory $memory) (realloc $realloc) {encoding}))
          (core module $main
            (import "host" "f" (func $f {f_sig}))
            (func (export "g") {g_sig} {body}))
          (core instance $main (instantiate $main
            (with "host" (instance (export "f" (func $f_lowered))))))
          (export $te "t-out" (type $t))
          (func (export "g") (param "x" $te) (result $te)
            (canon lift (core func $main "g") (memory $memory) (realloc $realloc) {encoding}))
        )"#
    )
}

/// Sends each value through `g` and checks the host's `f` saw it and
/// the host got it back unchanged.
fn round_trip(component: &str, values: &[Val]) {
    let engine = Engine::default();
    let component = Component::new(&engine, component).unwrap();
    let seen: Arc<Mutex<Vec<Val>>> = Arc::default();
    let mut linker = Linker::<()>::new(&engine);
    let log = seen.clone();
    linker
        .root()
        .func_new("f", move |_, params, results| {
            log.lock().unwrap().push(params[0].clone());
            results[0] = params[0].clone();
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let g = instance.get_func(&mut store, "g").unwrap();
    for v in values {
        let mut out = [Val::Bool(false)];
        g.call(&mut store, std::slice::from_ref(v), &mut out)
            .unwrap();
        assert_eq!(&out[0], v, "returned");
        assert_eq!(seen.lock().unwrap().last(), Some(v), "seen by the host");
    }
    assert_eq!(seen.lock().unwrap().len(), values.len());
}

fn s(x: &str) -> Val {
    Val::String(x.to_string())
}

fn some(v: Val) -> Val {
    Val::Option(Some(Box::new(v)))
}

#[test]
fn scalars_travel_flat() {
    round_trip(
        &forwarder("u32", &["i32"], Some("i32"), ""),
        &[Val::U32(0), Val::U32(u32::MAX), Val::U32(7)],
    );
    round_trip(
        &forwarder("s8", &["i32"], Some("i32"), ""),
        &[Val::S8(-128), Val::S8(127), Val::S8(-1)],
    );
    round_trip(
        &forwarder("f64", &["f64"], Some("f64"), ""),
        &[Val::Float64(-0.5), Val::Float64(f64::INFINITY)],
    );
    round_trip(
        &forwarder("char", &["i32"], Some("i32"), ""),
        &[Val::Char('é'), Val::Char('\u{10ffff}')],
    );
    round_trip(
        &forwarder(
            "(enum \"red\" \"green\" \"blue\")",
            &["i32"],
            Some("i32"),
            "",
        ),
        &[Val::Enum("blue".into()), Val::Enum("red".into())],
    );
}

#[test]
fn records_of_strings_and_lists_go_through_memory() {
    let ty = r#"(record (field "a" u8) (field "b" u64) (field "c" string) (field "d" (list u16)))"#;
    let v = |a: u8, b: u64, c: &str, d: &[u16]| {
        Val::Record(vec![
            ("a".into(), Val::U8(a)),
            ("b".into(), Val::U64(b)),
            ("c".into(), s(c)),
            (
                "d".into(),
                Val::List(d.iter().map(|x| Val::U16(*x)).collect()),
            ),
        ])
    };
    round_trip(
        &forwarder(ty, &["i32", "i64", "i32", "i32", "i32", "i32"], None, ""),
        &[
            v(1, u64::MAX, "hello, component", &[1, 2, 65535]),
            v(0, 0, "", &[]),
            v(255, 1 << 40, "ünïcödé ☃ 𝄞", &[9; 100]),
        ],
    );
}

#[test]
fn variants_join_their_cases_flat_values() {
    // f32, u64 and string payloads share [i64, i32] after the case.
    let ty = r#"(variant (case "a" f32) (case "b" u64) (case "c") (case "d" string))"#;
    round_trip(
        &forwarder(ty, &["i32", "i64", "i32"], None, ""),
        &[
            Val::Variant("a".into(), Some(Box::new(Val::Float32(-1.25)))),
            Val::Variant("b".into(), Some(Box::new(Val::U64(u64::MAX - 3)))),
            Val::Variant("c".into(), None),
            Val::Variant("d".into(), Some(Box::new(s("payload")))),
        ],
    );
    let ty = r#"(option (result char (error f32)))"#;
    round_trip(
        &forwarder(ty, &["i32", "i32", "i32"], None, ""),
        &[
            Val::Option(None),
            some(Val::Result(Ok(Some(Box::new(Val::Char('q')))))),
            some(Val::Result(Err(Some(Box::new(Val::Float32(2.5)))))),
        ],
    );
    let ty = r#"(result (error string))"#;
    round_trip(
        &forwarder(ty, &["i32", "i32", "i32"], None, ""),
        &[
            Val::Result(Ok(None)),
            Val::Result(Err(Some(Box::new(s("no"))))),
        ],
    );
}

#[test]
fn lists_of_compound_values_and_many_flags() {
    let ty = r#"(list (tuple string (option s8)))"#;
    let item = |x: &str, n: Option<i8>| {
        Val::Tuple(vec![s(x), Val::Option(n.map(|n| Box::new(Val::S8(n))))])
    };
    round_trip(
        &forwarder(ty, &["i32", "i32"], None, ""),
        &[
            Val::List(vec![
                item("one", Some(-1)),
                item("", None),
                item("three", Some(3)),
            ]),
            Val::List(vec![]),
        ],
    );
    // 12 flags lie in two bytes, 32 in four; both are one flat i32.
    for n in [12, 32] {
        let names: Vec<String> = (0..n).map(|i| format!("f{i}")).collect();
        let ty = format!(
            "(flags {})",
            names
                .iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let last = format!("f{}", n - 1);
        round_trip(
            &forwarder(&ty, &["i32"], Some("i32"), ""),
            &[
                Val::Flags(vec!["f0".into(), "f9".into(), last.clone()]),
                Val::Flags(vec![]),
            ],
        );
        // In memory: a record of a byte and the flags.
        let prelude = format!(
            r#"(type $fl0 {ty}) (import "fl" (type $fl (eq $fl0)))
               (type $rec0 (record (field "b" u8) (field "f" $fl)))
               (import "rec" (type $rec (eq $rec0)))"#
        );
        round_trip(
            &forwarder_with(&prelude, "(list $rec)", &["i32", "i32"], None, ""),
            &[Val::List(vec![Val::Record(vec![
                ("b".into(), Val::U8(3)),
                ("f".into(), Val::Flags(vec!["f1".into(), last])),
            ])])],
        );
    }
}

#[test]
fn seventeen_flat_parameters_go_through_memory() {
    let ty = format!("(tuple {})", vec!["u32"; 17].join(" "));
    let v = Val::Tuple((0..17).map(|i| Val::U32(i * 1000 + 1)).collect());
    round_trip(&forwarder(&ty, &["i32"], None, ""), &[v]);
}

#[test]
fn strings_in_each_encoding() {
    let strings = [
        s("plain ascii"),
        s("latin-1: déjà vu"),
        s("beyond: ☃ 𝄞 中文"),
        s(""),
    ];
    round_trip(
        &forwarder("string", &["i32", "i32"], None, "string-encoding=utf16"),
        &strings,
    );
    round_trip(
        &forwarder(
            "string",
            &["i32", "i32"],
            None,
            "string-encoding=latin1+utf16",
        ),
        &strings,
    );
    round_trip(
        &forwarder("string", &["i32", "i32"], None, "string-encoding=utf8"),
        &strings,
    );
}

#[test]
fn typed_functions_check_their_types() {
    let engine = Engine::default();
    let component = Component::new(
        &engine,
        forwarder("(list string)", &["i32", "i32"], None, ""),
    )
    .unwrap();
    let mut linker = Linker::<u32>::new(&engine);
    linker
        .root()
        .func_wrap("f", |mut caller, (items,): (Vec<String>,)| {
            *caller.data_mut() += 1;
            Ok((items.into_iter().rev().collect::<Vec<_>>(),))
        })
        .unwrap();
    let mut store = Store::new(&engine, 0);
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let g = instance
        .get_typed_func::<(Vec<String>,), (Vec<String>,)>(&mut store, "g")
        .unwrap();
    let (out,) = g
        .call(&mut store, (vec!["a".into(), "b".into(), "c".into()],))
        .unwrap();
    assert_eq!(out, ["c", "b", "a"]);
    assert_eq!(*store.data(), 1);
    let err = instance
        .get_typed_func::<(Vec<u32>,), (Vec<String>,)>(&mut store, "g")
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .contains("func(x: list<string>) -> list<string>"),
        "{err}"
    );

    // A host function of the wrong type is refused at instantiation.
    let mut linker = Linker::<u32>::new(&engine);
    linker
        .root()
        .func_wrap("f", |_, (n,): (u32,)| Ok((n,)))
        .unwrap();
    let err = linker.instantiate(&mut store, &component).unwrap_err();
    assert!(
        err.to_string().contains("component imports `f` of type"),
        "{err}"
    );
}

/// The shape `wit-component` gives a component: an instance imported by
/// interface name, a core module with its libc, and the exported
/// interface made by a nested component that ascribes its types.
const INTERFACES: &str = r#"(component
  (import "test:demo/host" (instance $host
    (export "log" (func (param "msg" string)))
    (export "add" (func (param "a" s32) (param "b" s32) (result s32)))))
  (alias export $host "log" (func $log))
  (alias export $host "add" (func $add))
  LIBC
  (core func $log_l (canon lower (func $log) (memory $memory) (realloc $realloc)))
  (core func $add_l (canon lower (func $add)))
  (core module $main
    (import "host" "log" (func $log (param i32 i32)))
    (import "host" "add" (func $add (param i32 i32) (result i32)))
    (import "libc" "memory" (memory 1))
    (data (i32.const 100) "running")
    (func (export "run") (param i32) (result i32)
      i32.const 100 i32.const 7 call $log
      local.get 0 i32.const 1 call $add))
  (core instance $main (instantiate $main
    (with "host" (instance (export "log" (func $log_l)) (export "add" (func $add_l))))
    (with "libc" (instance $libc))))
  (func $run (param "n" s32) (result s32) (canon lift (core func $main "run")))
  (component $wrap
    (import "import-func-run" (func $r (param "n" s32) (result s32)))
    (export "run" (func $r)))
  (instance $w (instantiate $wrap (with "import-func-run" (func $run))))
  (export "test:demo/runner" (instance $w))
)"#;

#[test]
fn interfaces_by_name_and_nested_components() {
    let engine = Engine::default();
    let component = Component::new(&engine, INTERFACES.replace("LIBC", LIBC)).unwrap();
    assert_eq!(component.exports(), ["test:demo/runner"]);
    let logged: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut linker = Linker::<()>::new(&engine);
    let log = logged.clone();
    let mut host = linker.instance("test:demo/host").unwrap();
    host.func_wrap("log", move |_, (msg,): (String,)| {
        log.lock().unwrap().push(msg);
        Ok(())
    })
    .unwrap();
    host.func_wrap("add", |_, (a, b): (i32, i32)| Ok((a.wrapping_add(b),)))
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let runner = instance
        .get_export_index(&mut store, None, "test:demo/runner")
        .unwrap();
    let run_index = instance
        .get_export_index(&mut store, Some(&runner), "run")
        .unwrap();
    assert!(instance.get_func(&mut store, "run").is_none());
    let run = instance
        .get_typed_func::<(i32,), (i32,)>(&mut store, &run_index)
        .unwrap();
    assert_eq!(run.call(&mut store, (41,)).unwrap(), (42,));
    assert_eq!(run.call(&mut store, (i32::MAX,)).unwrap(), (i32::MIN,));
    assert_eq!(*logged.lock().unwrap(), ["running", "running"]);

    // Without the interface the linker names what is missing.
    let err = Linker::<()>::new(&engine)
        .instantiate(&mut store, &component)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "component imports the instance `test:demo/host`, which the linker does not define"
    );
    let mut partial = Linker::<()>::new(&engine);
    partial
        .instance("test:demo/host")
        .unwrap()
        .func_wrap("add", |_, (a, b): (i32, i32)| Ok((a + b,)))
        .unwrap();
    let err = partial.instantiate(&mut store, &component).unwrap_err();
    assert!(
        err.to_string()
            .contains("the function of type `func(msg: string)` `test:demo/host#log`"),
        "{err}"
    );
}

#[test]
fn an_instance_is_not_entered_twice_nor_after_a_trap() {
    let engine = Engine::default();
    let wat = r#"(component
      (import "back" (func $back))
      (core func $back_l (canon lower (func $back)))
      (core module $m
        (import "host" "back" (func $back))
        (func (export "enter") call $back)
        (func (export "crash") unreachable))
      (core instance $i (instantiate $m (with "host" (instance (export "back" (func $back_l))))))
      (func (export "enter") (canon lift (core func $i "enter")))
      (func (export "crash") (canon lift (core func $i "crash"))))"#;
    let component = Component::new(&engine, wat).unwrap();
    let slot: Arc<Mutex<Option<walmart::component::Func>>> = Arc::default();
    let inner = slot.clone();
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_new("back", move |caller, _, _| {
            let enter = inner.lock().unwrap().clone().unwrap();
            enter.call(caller, &[], &mut [])
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    *slot.lock().unwrap() = instance.get_func(&mut store, "enter");
    let enter = instance.get_func(&mut store, "enter").unwrap();
    let err = enter.call(&mut store, &[], &mut []).unwrap_err();
    assert!(
        format!("{err:?}").contains("while it is on the stack"),
        "{err:?}"
    );

    let instance = linker.instantiate(&mut store, &component).unwrap();
    let crash = instance.get_func(&mut store, "crash").unwrap();
    let err = crash.call(&mut store, &[], &mut []).unwrap_err();
    assert!(err.trap().is_some(), "{err}");
    let err = crash.call(&mut store, &[], &mut []).unwrap_err();
    assert!(
        err.to_string().contains("after a call into it failed"),
        "{err}"
    );
}

#[test]
fn guests_bad_values_trap_and_hosts_bad_values_are_refused() {
    let engine = Engine::default();
    // The guest hands back a string past the end of its memory, a char
    // that is a surrogate, a discriminant past the cases.
    let wat = r#"(component
      (core module $m
        (memory (export "memory") 1)
        (func (export "s") (result i32)
          i32.const 8 i32.const 65530 i32.store
          i32.const 12 i32.const 100 i32.store
          i32.const 8)
        (func (export "c") (result i32) i32.const 0xd800)
        (func (export "o") (result i32)
          i32.const 16 i32.const 7 i32.store8 i32.const 16))
      (core instance $i (instantiate $m))
      (func (export "s") (result string) (canon lift (core func $i "s") (memory (core memory $i "memory"))))
      (func (export "c") (result char) (canon lift (core func $i "c")))
      (func (export "o") (result (option u32)) (canon lift (core func $i "o") (memory (core memory $i "memory")))))"#;
    let component = Component::new(&engine, wat).unwrap();
    let linker = Linker::<()>::new(&engine);
    for (name, want) in [
        ("s", "run past the end of memory"),
        ("c", "0xd800 is not a Unicode scalar value"),
        ("o", "discriminant 7 names no case of `option<u32>`"),
    ] {
        let mut store = Store::new(&engine, ());
        let instance = linker.instantiate(&mut store, &component).unwrap();
        let f = instance.get_func(&mut store, name).unwrap();
        let mut out = [Val::Bool(false)];
        let err = f.call(&mut store, &[], &mut out).unwrap_err();
        assert!(err.to_string().contains(want), "{name}: {err}");
    }

    let component = Component::new(&engine, forwarder("u32", &["i32"], Some("i32"), "")).unwrap();
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_new("f", |_, _, results| {
            results[0] = Val::String("not a u32".into());
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let g = instance.get_func(&mut store, "g").unwrap();
    let mut out = [Val::Bool(false)];
    let err = g.call(&mut store, &[Val::S32(1)], &mut out).unwrap_err();
    assert_eq!(
        err.to_string(),
        "expected a value of type `u32`, found a `s32`"
    );
    let err = g.call(&mut store, &[Val::U32(1)], &mut out).unwrap_err();
    assert!(
        format!("{err:?}").contains("expected a value of type `u32`, found a `string`"),
        "{err:?}"
    );
    let err = g.call(&mut store, &[], &mut out).unwrap_err();
    assert!(err.to_string().contains("called with 0 arguments"), "{err}");
}

#[test]
fn unsupported_and_invalid_components_say_what() {
    let engine = Engine::default();
    let stream = r#"(component (type $s (stream u8)) (export "s" (type $s)))"#;
    let err = Component::new(&engine, stream).unwrap_err();
    assert!(err.to_string().contains("stream"), "{err}");
    let err = Component::new(
        &engine,
        "(component (core module $m) (core instance (instantiate 5)))",
    )
    .unwrap_err();
    assert!(err.to_string().contains("unknown module"), "{err}");
    let err = Component::new(&engine, "(module)").unwrap_err();
    assert!(
        err.to_string().contains("a core module, not a component"),
        "{err}"
    );
    let err = Component::new(&engine, b"\0asm\x0d\0\x01\0\x07").unwrap_err();
    assert!(err.to_string().contains("offset"), "{err}");
    // A core module's own errors come through as they are.
    let err = Component::new(
        &engine,
        "(component (core module (func (result i32) i64.const 0)))",
    )
    .unwrap_err();
    assert!(err.to_string().contains("type mismatch"), "{err}");
}

#[test]
fn component_types_are_listed() {
    let engine = Engine::default();
    let component = Component::new(&engine, INTERFACES.replace("LIBC", LIBC)).unwrap();
    let imports = component.imports();
    assert_eq!(imports.len(), 1);
    assert_eq!(imports[0].0, "test:demo/host");
    let walmart::component::ComponentItem::Instance(items) = &imports[0].1 else {
        panic!("{imports:?}")
    };
    let walmart::component::ComponentItem::Func(add) = &items[1].1 else {
        panic!("{items:?}")
    };
    assert_eq!(add.to_string(), "func(a: s32, b: s32) -> s32");
    assert_eq!(add.params()[0].1, Type::S32);
}

/// A resource the component defines: made by `resource.new`, its
/// destructor run when the host drops its handle or the guest drops one
/// it was given; a borrow lowered into the defining instance is the
/// representation itself.
const COUNTER: &str = r#"(component
  (core module $d
    (global $last (export "last") (mut i32) (i32.const 0))
    (func (export "dtor") (param i32) local.get 0 global.set $last))
  (core instance $d (instantiate $d))
  (type $counter (resource (rep i32) (dtor (core func $d "dtor"))))
  (core func $new (canon resource.new $counter))
  (core func $rep (canon resource.rep $counter))
  (core func $drop (canon resource.drop $counter))
  (core module $main
    (import "r" "new" (func $new (param i32) (result i32)))
    (import "r" "rep" (func $rep (param i32) (result i32)))
    (import "r" "drop" (func $drop (param i32)))
    (import "d" "last" (global $last (mut i32)))
    (func (export "make") (param i32) (result i32)
      local.get 0 i32.const 100 i32.mul call $new)
    (func (export "get") (param i32) (result i32) local.get 0)
    (func (export "consume") (param i32) (result i32) (local $r i32)
      local.get 0 call $rep local.set $r
      local.get 0 call $drop
      local.get $r)
    (func (export "last-dropped") (result i32) global.get $last))
  (core instance $main (instantiate $main
    (with "r" (instance (export "new" (func $new)) (export "rep" (func $rep))
                        (export "drop" (func $drop))))
    (with "d" (instance $d))))
  (export $c "counter" (type $counter))
  (func (export "make") (param "n" u32) (result (own $c)) (canon lift (core func $main "make")))
  (func (export "get") (param "c" (borrow $c)) (result u32) (canon lift (core func $main "get")))
  (func (export "consume") (param "c" (own $c)) (result u32)
    (canon lift (core func $main "consume")))
  (func (export "last-dropped") (result u32) (canon lift (core func $main "last-dropped")))
)"#;

#[test]
fn resources_a_component_defines() {
    let engine = Engine::default();
    let component = Component::new(&engine, COUNTER).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::<()>::new(&engine)
        .instantiate(&mut store, &component)
        .unwrap();
    let func = |store: &mut Store<()>, name: &str| instance.get_func(store, name).unwrap();
    let (make, get, consume, last) = (
        func(&mut store, "make"),
        func(&mut store, "get"),
        func(&mut store, "consume"),
        func(&mut store, "last-dropped"),
    );
    let call = |store: &mut Store<()>, f: &walmart::component::Func, args: &[Val]| {
        let mut out = [Val::Bool(false)];
        f.call(store, args, &mut out).map(|()| out[0].clone())
    };
    let Val::Resource(a) = call(&mut store, &make, &[Val::U32(3)]).unwrap() else {
        panic!("not a resource")
    };
    assert!(a.owned());
    let Val::Resource(b) = call(&mut store, &make, &[Val::U32(4)]).unwrap() else {
        panic!("not a resource")
    };
    assert_eq!(a.ty(), b.ty());
    // An owned handle passes as a borrow and stays the host's.
    let borrowed = call(&mut store, &get, &[Val::Resource(a.clone())]).unwrap();
    assert_eq!(borrowed, Val::U32(300));
    assert_eq!(
        call(&mut store, &get, &[Val::Resource(a.clone())]).unwrap(),
        Val::U32(300)
    );
    assert_eq!(call(&mut store, &last, &[]).unwrap(), Val::U32(0));
    // Given to the guest, it is the guest's to drop: its destructor runs.
    assert_eq!(
        call(&mut store, &consume, &[Val::Resource(a.clone())]).unwrap(),
        Val::U32(300)
    );
    assert_eq!(call(&mut store, &last, &[]).unwrap(), Val::U32(300));
    let err = call(&mut store, &consume, &[Val::Resource(a.clone())]).unwrap_err();
    assert!(
        err.to_string().contains("already moved into a component"),
        "{err}"
    );
    // The host's drop runs the destructor too.
    b.resource_drop(&mut store).unwrap();
    assert_eq!(call(&mut store, &last, &[]).unwrap(), Val::U32(400));

    // Another instance's resources are of another type.
    let other = Linker::<()>::new(&engine)
        .instantiate(&mut store, &component)
        .unwrap();
    let make2 = other.get_func(&mut store, "make").unwrap();
    let c = call(&mut store, &make2, &[Val::U32(5)]).unwrap();
    let err = call(&mut store, &get, &[c]).unwrap_err();
    assert!(
        err.to_string().contains("where `borrow<resource>`"),
        "{err}"
    );
}

/// A host resource: the component opens one, asks it something through a
/// method that borrows it, and drops it; a borrow given to the component
/// must be dropped before its call returns.
const FILES: &str = r#"(component
  (import "file" (type $file (sub resource)))
  (import "open" (func $open (param "name" string) (result (own $file))))
  (import "[method]file.size" (func $size (param "self" (borrow $file)) (result u32)))
  LIBC
  (core func $open_l (canon lower (func $open) (memory $memory) (realloc $realloc)))
  (core func $size_l (canon lower (func $size)))
  (core func $drop (canon resource.drop $file))
  (core module $main
    (import "h" "open" (func $open (param i32 i32) (result i32)))
    (import "h" "size" (func $size (param i32) (result i32)))
    (import "h" "drop" (func $drop (param i32)))
    (import "libc" "memory" (memory 1))
    (data (i32.const 16) "hello.txt")
    (func (export "run") (result i32) (local $h i32) (local $n i32)
      i32.const 16 i32.const 9 call $open local.set $h
      local.get $h call $size local.set $n
      local.get $h call $drop
      local.get $n)
    (func (export "peek") (param i32) (param i32) (result i32)
      local.get 0 call $size
      local.get 1 if local.get 0 call $drop end))
  (core instance $main (instantiate $main
    (with "h" (instance (export "open" (func $open_l)) (export "size" (func $size_l))
                        (export "drop" (func $drop))))
    (with "libc" (instance $libc))))
  (func (export "run") (result u32) (canon lift (core func $main "run")))
  (func (export "peek") (param "f" (borrow $file)) (param "drop" bool) (result u32)
    (canon lift (core func $main "peek")))
)"#;

struct File;
struct NotAFile;

#[derive(Default)]
struct Files {
    names: Vec<Option<String>>,
    dropped: Vec<u32>,
}

fn files_linker(engine: &Engine) -> Linker<Files> {
    use walmart::component::{Resource, ResourceType};
    let mut linker = Linker::<Files>::new(engine);
    let mut root = linker.root();
    root.resource("file", ResourceType::host::<File>(), |mut caller, rep| {
        caller.data_mut().names[rep as usize] = None;
        caller.data_mut().dropped.push(rep);
        Ok(())
    })
    .unwrap();
    root.func_wrap("open", |mut caller, (name,): (String,)| {
        let files = caller.data_mut();
        files.names.push(Some(name));
        Ok((Resource::<File>::new_own(files.names.len() as u32 - 1),))
    })
    .unwrap();
    root.func_wrap("[method]file.size", |caller, (f,): (Resource<File>,)| {
        assert!(!f.owned());
        let name = caller.data().names[f.rep() as usize].as_ref().unwrap();
        Ok((name.len() as u32,))
    })
    .unwrap();
    linker
}

#[test]
fn resources_the_host_defines() {
    use walmart::component::{Resource, ResourceType};
    let engine = Engine::default();
    let component = Component::new(&engine, FILES.replace("LIBC", LIBC)).unwrap();
    assert_eq!(
        component.imports()[0],
        (
            "file".to_string(),
            walmart::component::ComponentItem::Resource
        )
    );
    let linker = files_linker(&engine);
    let mut store = Store::new(&engine, Files::default());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let run = instance
        .get_typed_func::<(), (u32,)>(&mut store, "run")
        .unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), (9,));
    assert_eq!(store.data().dropped, [0]);
    assert_eq!(store.data().names, [None]);

    // The host lends its own resource to the component.
    store.data_mut().names.push(Some("four".into()));
    let peek = instance
        .get_typed_func::<(Resource<File>, bool), (u32,)>(&mut store, "peek")
        .unwrap();
    assert_eq!(
        peek.call(&mut store, (Resource::new_borrow(1), true))
            .unwrap(),
        (4,)
    );
    // Kept past the call, the borrow traps (and the instance with it).
    let err = peek
        .call(&mut store, (Resource::new_borrow(1), false))
        .unwrap_err();
    assert!(
        err.to_string().contains("borrowed handle was not dropped"),
        "{err}"
    );

    // A resource of another host type is refused, typed or not.
    let instance = linker.instantiate(&mut store, &component).unwrap();
    assert!(instance
        .get_typed_func::<(Resource<NotAFile>, bool), (u32,)>(&mut store, "peek")
        .is_err());
    let peek = instance.get_func(&mut store, "peek").unwrap();
    let wrong = Resource::<NotAFile>::new_borrow(1).into_resource_any();
    let err = peek
        .call(
            &mut store,
            &[Val::Resource(wrong), Val::Bool(true)],
            &mut [Val::U32(0)],
        )
        .unwrap_err();
    assert!(err.to_string().contains("NotAFile"), "{err}");
    assert_ne!(
        ResourceType::host::<File>(),
        ResourceType::host::<NotAFile>()
    );

    // Without the resource type the linker says which is missing.
    let mut linker = Linker::<Files>::new(&engine);
    linker
        .root()
        .func_wrap("open", |_, (_,): (String,)| {
            Ok((Resource::<File>::new_own(0),))
        })
        .unwrap();
    let err = linker.instantiate(&mut store, &component).unwrap_err();
    assert_eq!(
        err.to_string(),
        "component imports the resource type `file`, which the linker does not define"
    );
}

#[test]
fn resources_of_an_imported_instance_without_an_alias() {
    use walmart::component::{Resource, ResourceType};
    struct Thing;
    let engine = Engine::default();
    // `make`'s result names the instance's resource, which the component
    // never aliases out.
    let wat = r#"(component
      (import "host" (instance $h
        (export "r" (type (sub resource)))
        (export "make" (func (result (own 0))))))
      (alias export $h "make" (func $make))
      (core func $make_l (canon lower (func $make)))
      (core module $m
        (import "h" "make" (func $make (result i32)))
        (func (export "twice") (result i32) call $make drop call $make))
      (core instance $i (instantiate $m (with "h" (instance (export "make" (func $make_l))))))
      (func (export "twice") (result u32) (canon lift (core func $i "twice"))))"#;
    let component = Component::new(&engine, wat).unwrap();
    let mut linker = Linker::<u32>::new(&engine);
    let mut host = linker.instance("host").unwrap();
    host.resource("r", ResourceType::host::<Thing>(), |_, _| Ok(()))
        .unwrap();
    host.func_wrap("make", |mut caller, (): ()| {
        *caller.data_mut() += 1;
        Ok((Resource::<Thing>::new_own(*caller.data()),))
    })
    .unwrap();
    let mut store = Store::new(&engine, 0);
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let twice = instance
        .get_typed_func::<(), (u32,)>(&mut store, "twice")
        .unwrap();
    // The second handle of the component's table.
    assert_eq!(twice.call(&mut store, ()).unwrap(), (2,));
}

#[test]
fn imports_link_to_the_newest_compatible_version() {
    let engine = Engine::default();
    let wat = |version: &str| {
        format!(
            r#"(component
              (import "test:x/y@{version}" (instance $y (export "v" (func (result u32)))))
              (alias export $y "v" (func $v))
              (core func $v_l (canon lower (func $v)))
              (core module $m (import "y" "v" (func $v (result i32)))
                (func (export "v") (result i32) call $v))
              (core instance $i (instantiate $m (with "y" (instance (export "v" (func $v_l))))))
              (func (export "v") (result u32) (canon lift (core func $i "v"))))"#
        )
    };
    let mut linker = Linker::<()>::new(&engine);
    for (version, n) in [
        ("1.2.0", 120u32),
        ("1.10.0", 1100),
        ("0.0.1", 1),
        ("2.0.0-rc1", 7),
    ] {
        linker
            .instance(&format!("test:x/y@{version}"))
            .unwrap()
            .func_wrap("v", move |_, (): ()| Ok((n,)))
            .unwrap();
    }
    let mut store = Store::new(&engine, ());
    for (version, expect) in [
        ("1.0.0", Some(1100)),
        ("1.2.0", Some(120)),
        ("1.99.3", Some(1100)),
        ("0.0.1", Some(1)),
        ("0.0.2", None),
        ("2.0.0", None),
        ("2.0.0-rc1", Some(7)),
    ] {
        let component = Component::new(&engine, wat(version)).unwrap();
        let got = linker.instantiate(&mut store, &component).map(|i| {
            let v = i.get_typed_func::<(), (u32,)>(&mut store, "v").unwrap();
            v.call(&mut store, ()).unwrap().0
        });
        assert_eq!(got.ok(), expect, "{version}");
    }
}

/// A component and its precompiled form behave alike: resources, nested
/// components and interfaces survive, and the form says when it is
/// damaged or of another engine's settings.
#[test]
fn precompiled_components_load_without_compiling() {
    let engine = Engine::default();
    for source in [COUNTER.to_string(), INTERFACES.replace("LIBC", LIBC)] {
        let component = Component::new(&engine, &source).unwrap();
        let bytes = component.serialize().unwrap();
        assert_eq!(
            engine.detect_precompiled(&bytes),
            Some(walmart::Precompiled::Component)
        );
        // SAFETY: this process's serialization, unaltered.
        let loaded = unsafe { Component::deserialize(&engine, &bytes) }.unwrap();
        assert_eq!(loaded.exports(), component.exports());
        assert_eq!(loaded.imports(), component.imports());
        // Damaged: cut anywhere, or changed in its structure, it is refused
        // (never a panic).
        for cut in (0..bytes.len()).step_by(97) {
            // SAFETY: refused before any code could run.
            assert!(unsafe { Component::deserialize(&engine, &bytes[..cut]) }.is_err());
        }
        let mut longer = bytes.clone();
        longer.push(0);
        // SAFETY: as above.
        let err = unsafe { Component::deserialize(&engine, &longer) }.unwrap_err();
        assert!(err.to_string().contains("damaged"), "{err}");
    }

    // Types nested past any real component's are refused, not followed
    // down the stack: a body of one step, an import whose function type's
    // parameter is a list of lists of ... .
    let mut deep = b"\0walmcmp".to_vec();
    deep.extend(3u32.to_le_bytes()); // version
    deep.extend(0u32.to_le_bytes()); // no modules
    deep.extend(1u32.to_le_bytes()); // one component
    let mut body = Vec::new();
    body.extend(1u32.to_le_bytes()); // one step
    body.push(10); // an import
    body.extend(1u32.to_le_bytes());
    body.push(b'f');
    body.push(0); // of a function
    let mut ty = Vec::new();
    ty.extend(1u32.to_le_bytes()); // one parameter
    ty.extend(1u32.to_le_bytes());
    ty.push(b'p');
    ty.extend(std::iter::repeat_n(13u8, 200_000)); // list<list<...
    body.extend((ty.len() as u32).to_le_bytes()); // the type's length
    body.extend(ty);
    deep.extend((body.len() as u32).to_le_bytes());
    deep.extend(body);
    // SAFETY: refused before any code could run.
    let err = unsafe { Component::deserialize(&engine, &deep) }.unwrap_err();
    assert!(err.to_string().contains("nested too deep"), "{err}");

    // The counter's resources, from the loaded form.
    let bytes = Component::new(&engine, COUNTER)
        .unwrap()
        .serialize()
        .unwrap();
    // Each core module starts at a page of the file (its code mapped from
    // there when loaded from a file); the padding before it is zeros, and
    // anything else is refused.
    let pad = u32::from_le_bytes(bytes[16..20].try_into().unwrap()) as usize;
    assert_eq!((20 + pad + 4) % 4096, 0);
    let mut padded = bytes.clone();
    padded[20] = 1;
    // SAFETY: refused before any code could run.
    let err = unsafe { Component::deserialize(&engine, &padded) }.unwrap_err();
    assert!(err.to_string().contains("padding"), "{err}");
    // From its file, mapped: the same component. Under the target
    // directory: /tmp may be mounted `noexec`, where the code is copied
    // instead (and the check of the mapping below would not see it).
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join(format!("walmart-counter-{}.cwasm", std::process::id()));
    std::fs::write(&path, &bytes).unwrap();
    // SAFETY: written just above, not changed while it lives.
    let mapped = unsafe { Component::deserialize_file(&engine, &path) }.unwrap();
    // Its code runs from the file's pages: an executable mapping of it
    // (pages of 4 KiB: the layout's own).
    // SAFETY: sysconf reads a constant of the system.
    if unsafe { libc::sysconf(libc::_SC_PAGESIZE) } == 4096 {
        let shown = path.canonicalize().unwrap();
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        assert!(
            maps.lines().any(|l| l.ends_with(shown.to_str().unwrap())
                && l.split_whitespace().nth(1).is_some_and(|p| p.contains('x'))),
            "{maps}"
        );
    }
    let mut store = Store::new(&engine, ());
    let instance = Linker::<()>::new(&engine)
        .instantiate(&mut store, &mapped)
        .unwrap();
    let make = instance.get_func(&mut store, "make").unwrap();
    let mut out = [Val::Bool(false)];
    make.call(&mut store, &[Val::U32(5)], &mut out).unwrap();
    assert!(matches!(out[0], Val::Resource(_)), "{out:?}");
    drop(store);
    drop(mapped);
    std::fs::remove_file(&path).unwrap();

    // A component whose core modules have memory images and trap sites:
    // each module's image and sites are mapped from its part of the
    // file; the data reads back and a trap names its place.
    let imaged = Component::new(
        &engine,
        r#"(component
          (core module $pad (memory 1) (data (i32.const 64) "first module")
            (func (export "f") (result i32) i32.const 64 i32.load8_u))
          (core module $m (memory 1) (data (i32.const 1000) "walmart!")
            (func (export "peek") (result i32) i32.const 1004 i32.load)
            (func (export "boom") unreachable))
          (core instance $p (instantiate $pad))
          (core instance $i (instantiate $m))
          (func (export "first") (result u32) (canon lift (core func $p "f")))
          (func (export "peek") (result u32) (canon lift (core func $i "peek")))
          (func (export "boom") (canon lift (core func $i "boom"))))"#,
    )
    .unwrap()
    .serialize()
    .unwrap();
    let path = dir.join(format!("walmart-imaged-{}.cwasm", std::process::id()));
    std::fs::write(&path, &imaged).unwrap();
    // SAFETY: written just above, not changed while it lives.
    let loaded = unsafe { Component::deserialize_file(&engine, &path) }.unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::<()>::new(&engine)
        .instantiate(&mut store, &loaded)
        .unwrap();
    let mut out = [Val::U32(0)];
    let first = instance.get_func(&mut store, "first").unwrap();
    first.call(&mut store, &[], &mut out).unwrap();
    assert_eq!(out[0], Val::U32(u32::from(b'f')));
    let peek = instance.get_func(&mut store, "peek").unwrap();
    peek.call(&mut store, &[], &mut out).unwrap();
    assert_eq!(out[0], Val::U32(u32::from_le_bytes(*b"art!")));
    let boom = instance.get_func(&mut store, "boom").unwrap();
    let err = boom.call(&mut store, &[], &mut []).unwrap_err();
    // The trap's place, from the sites mapped from the file.
    let err = format!("{err:?}");
    assert!(
        err.contains("kind: Unreachable") && err.contains("wasm_offset: Some(59)"),
        "{err}"
    );
    drop(store);
    drop(loaded);
    std::fs::remove_file(&path).unwrap();
    // SAFETY: as above.
    let component = unsafe { Component::deserialize(&engine, &bytes) }.unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::<()>::new(&engine)
        .instantiate(&mut store, &component)
        .unwrap();
    let make = instance.get_func(&mut store, "make").unwrap();
    let get = instance.get_func(&mut store, "get").unwrap();
    let mut out = [Val::Bool(false)];
    make.call(&mut store, &[Val::U32(6)], &mut out).unwrap();
    let handle = out[0].clone();
    get.call(&mut store, &[handle], &mut out).unwrap();
    assert_eq!(out[0], Val::U32(600));

    // Another engine's settings are named.
    let mut config = walmart::Config::new();
    config.cranelift_opt_level(walmart::OptLevel::None);
    let other = Engine::new(&config).unwrap();
    // SAFETY: as above.
    let err = unsafe { Component::deserialize(&other, &bytes) }.unwrap_err();
    assert!(err.to_string().contains("other settings"), "{err}");
}

#[test]
fn the_module_cache_keeps_components() {
    let engine = Engine::default();
    let dir = std::env::temp_dir().join(format!("walmart-component-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cache = walmart::ModuleCache::new(&dir).unwrap();
    let bytes = wat::parse_str(COUNTER).unwrap();
    let (_, first) = cache.component(&engine, &bytes).unwrap();
    assert!(
        matches!(
            first,
            walmart::CacheOutcome::Compiled {
                replaced: false,
                saved: Ok(())
            }
        ),
        "{first:?}"
    );
    let (component, second) = cache.component(&engine, &bytes).unwrap();
    assert!(matches!(second, walmart::CacheOutcome::Hit), "{second:?}");
    let mut store = Store::new(&engine, ());
    let instance = Linker::<()>::new(&engine)
        .instantiate(&mut store, &component)
        .unwrap();
    assert!(instance.get_func(&mut store, "make").is_some());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A component file is named as its bytes are (a file's hit is a bytes'
/// hit), and a file whose bytes changed since is compiled again, never
/// taken for the entry of what it held before.
#[test]
fn the_module_cache_names_a_component_file_by_its_bytes() {
    let engine = Engine::default();
    let dir = std::env::temp_dir().join(format!(
        "walmart-component-file-cache-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cache = walmart::ModuleCache::new(dir.join("cache")).unwrap();
    let path = dir.join("app.wasm");
    let counter = wat::parse_str(COUNTER).unwrap();
    std::fs::write(&path, &counter).unwrap();
    let from_file = || {
        let file = std::fs::File::open(&path).unwrap();
        cache.component_from_open_file(&engine, &file).unwrap()
    };
    let (_, first) = from_file();
    assert!(
        matches!(first, walmart::CacheOutcome::Compiled { .. }),
        "{first:?}"
    );
    let (_, bytes_hit) = cache.component(&engine, &counter).unwrap();
    assert!(
        matches!(bytes_hit, walmart::CacheOutcome::Hit),
        "{bytes_hit:?}"
    );
    let (_, file_hit) = from_file();
    assert!(
        matches!(file_hit, walmart::CacheOutcome::Hit),
        "{file_hit:?}"
    );
    let (_, path_hit) = cache.component_from_file(&engine, &path).unwrap();
    assert!(
        matches!(path_hit, walmart::CacheOutcome::Hit),
        "{path_hit:?}"
    );

    // Other bytes in the same file: compiled, and what runs is theirs.
    let other = wat::parse_str(
        r#"(component
          (core module $m (func (export "seven") (result i32) i32.const 7))
          (core instance $i (instantiate $m))
          (func (export "seven") (result u32) (canon lift (core func $i "seven"))))"#,
    )
    .unwrap();
    std::fs::write(&path, &other).unwrap();
    let (component, changed) = from_file();
    assert!(
        matches!(
            changed,
            walmart::CacheOutcome::Compiled {
                replaced: false,
                ..
            }
        ),
        "{changed:?}"
    );
    let mut store = Store::new(&engine, ());
    let instance = Linker::<()>::new(&engine)
        .instantiate(&mut store, &component)
        .unwrap();
    assert!(instance.get_func(&mut store, "seven").is_some());
    assert!(instance.get_func(&mut store, "make").is_none());

    // An unreadable "file" (a directory) and a missing one are errors
    // naming them.
    let err = cache.component_from_file(&engine, &dir).err().unwrap();
    let named = format!("cannot read {}", dir.display());
    assert!(err.to_string().contains(&named), "{err}");
    let missing = dir.join("missing.wasm");
    let err = cache.component_from_file(&engine, &missing).err().unwrap();
    assert!(err.to_string().contains("missing.wasm"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Asynchronous calls: a component's import is an asynchronous host
/// function, awaited with the call suspended (two stores' calls overlap
/// on one thread), and refused in a synchronous call.
#[test]
fn asynchronous_calls_suspend_on_host_futures() {
    use std::time::Duration;
    let mut config = walmart::Config::new();
    config.async_support(true);
    let engine = Engine::new(&config).unwrap();
    let wat = r#"(component
      (import "fetch" (func $fetch (param "key" u32) (result u32)))
      (core func $fetch_l (canon lower (func $fetch)))
      (core module $m
        (import "h" "fetch" (func $fetch (param i32) (result i32)))
        (func (export "twice") (param i32) (result i32)
          local.get 0 call $fetch local.get 0 call $fetch i32.add))
      (core instance $i (instantiate $m (with "h" (instance (export "fetch" (func $fetch_l))))))
      (func (export "twice") (param "key" u32) (result u32) (canon lift (core func $i "twice"))))"#;
    let component = Component::new(&engine, wat).unwrap();
    let mut linker = Linker::<u32>::new(&engine);
    linker
        .root()
        .func_wrap_async("fetch", |mut caller, (key,): (u32,)| {
            *caller.data_mut() += 1;
            Box::new(async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok((key * 10,))
            })
        })
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let results = rt.block_on(async {
        let call = |key: u32| {
            let (linker, component, engine) = (&linker, &component, &engine);
            async move {
                let mut store = Store::new(engine, 0u32);
                let instance = linker
                    .instantiate_async(&mut store, component)
                    .await
                    .unwrap();
                let twice = instance
                    .get_typed_func::<(u32,), (u32,)>(&mut store, "twice")
                    .unwrap();
                let r = twice.call_async(&mut store, (key,)).await.unwrap();
                (r, *store.data())
            }
        };
        // Both calls polled in turn, as a join does.
        common::join(call(4), call(5)).await
    });
    assert_eq!(results, (((80,), 2), ((100,), 2)));
    // Four 50 ms waits, two at a time on one thread: about 100 ms, not 200.
    assert!(
        started.elapsed() < Duration::from_millis(180),
        "{:?}",
        started.elapsed()
    );

    {
        // Strings both ways (the guest's `realloc` and `post-return`, from
        // the call's own frames and from a lowered import's), and a start
        // function at instantiation: each a further entry into Wasm on the
        // fiber.
        let wat = r#"(component
          (import "name-of" (func $name (param "key" u32) (result string)))
          LIBC
          (core func $name_l (canon lower (func $name) (memory $memory) (realloc $realloc)))
          (core module $m
            (import "h" "name-of" (func $name (param i32 i32)))
            (import "libc" "memory" (memory 1))
            (global $started (mut i32) (i32.const 0))
            (global $returned (mut i32) (i32.const 0))
            (func $start i32.const 1 global.set $started)
            (start $start)
            ;; greet(s) = name-of(len(s)): the host's string back to the host.
            (func (export "greet") (param i32 i32) (result i32)
              local.get 1 i32.const 64 call $name
              i32.const 64)
            (func (export "greet-done") (param i32)
              global.get $returned i32.const 1 i32.add global.set $returned)
            (func (export "started") (result i32) global.get $started))
          (core instance $i (instantiate $m
            (with "h" (instance (export "name-of" (func $name_l))))
            (with "libc" (instance $libc))))
          (func (export "greet") (param "s" string) (result string)
            (canon lift (core func $i "greet") (memory $memory) (realloc $realloc)
              (post-return (core func $i "greet-done"))))
          (func (export "started") (result u32) (canon lift (core func $i "started"))))"#
            .replace("LIBC", LIBC);
        let component = Component::new(&engine, wat).unwrap();
        let mut linker = Linker::<u32>::new(&engine);
        linker
            .root()
            .func_wrap_async("name-of", |_, (len,): (u32,)| {
                Box::new(async move {
                    tokio::task::yield_now().await;
                    Ok((format!("a name of {len} letters"),))
                })
            })
            .unwrap();
        let out = rt.block_on(async {
            let mut store = Store::new(&engine, 0u32);
            let instance = linker
                .instantiate_async(&mut store, &component)
                .await
                .unwrap();
            let started = instance
                .get_typed_func::<(), (u32,)>(&mut store, "started")
                .unwrap();
            let greet = instance
                .get_typed_func::<(String,), (String,)>(&mut store, "greet")
                .unwrap();
            let first = greet
                .call_async(&mut store, ("four".into(),))
                .await
                .unwrap();
            let second = greet
                .call_async(&mut store, ("sixteen letters!".into(),))
                .await
                .unwrap();
            (
                started.call_async(&mut store, ()).await.unwrap(),
                first,
                second,
            )
        });
        assert_eq!(
            out,
            (
                (1,),
                ("a name of 4 letters".to_string(),),
                ("a name of 16 letters".to_string(),)
            )
        );

        // A call cancelled while its host future is pending leaves the
        // instance unusable.
        let mut store = Store::new(&engine, 0u32);
        let instance = rt
            .block_on(linker.instantiate_async(&mut store, &component))
            .unwrap();
        let greet = instance
            .get_typed_func::<(String,), (String,)>(&mut store, "greet")
            .unwrap();
        {
            use std::future::Future;
            let mut call = std::pin::pin!(greet.call_async(&mut store, ("x".into(),)));
            let waker = std::task::Waker::noop();
            let mut cx = std::task::Context::from_waker(waker);
            assert!(call.as_mut().poll(&mut cx).is_pending());
        }
        let err = rt
            .block_on(greet.call_async(&mut store, ("x".into(),)))
            .unwrap_err();
        assert!(
            err.to_string().contains("after a call into it failed"),
            "{err}"
        );
    }

    // A synchronous call reaching the asynchronous import fails cleanly.
    let mut store = Store::new(&engine, 0u32);
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let twice = instance
        .get_typed_func::<(u32,), (u32,)>(&mut store, "twice")
        .unwrap();
    let err = twice.call(&mut store, (1,)).unwrap_err();
    assert!(
        format!("{err:?}").contains("from a synchronous call"),
        "{err:?}"
    );

    // An engine without asynchronous support refuses the definition.
    let plain = Engine::default();
    let err = Linker::<u32>::new(&plain)
        .root()
        .func_new_async("f", |_, _, _| Box::new(async { Ok(()) }))
        .unwrap_err();
    assert!(
        err.to_string().contains("Config::async_support(true)"),
        "{err}"
    );
}

#[derive(walmart::component::ComponentType, Debug, PartialEq, Clone)]
struct Point {
    x_pos: f64,
    y_pos: f64,
    #[component(name = "label")]
    name: Option<String>,
}

#[derive(walmart::component::ComponentType, Debug, PartialEq, Clone, Copy)]
enum Colour {
    Red,
    DarkGreen,
}

#[derive(walmart::component::ComponentType, Debug, PartialEq, Clone)]
enum Figure {
    Circle(f32),
    Poly(Vec<Point>),
    Empty,
}

#[derive(walmart::component::ComponentType, Debug, PartialEq, Clone, Copy, Default)]
#[component(flags)]
struct Access {
    read: bool,
    write_back: bool,
    #[component(name = "x")]
    execute: bool,
}

/// Rust structs and enums as records, enums and variants
/// (`#[derive(ComponentType)]`), typed both ways through a component.
#[test]
fn derived_types_cross_as_records_enums_and_variants() {
    fn typed_round_trip<T>(component: &str, values: &[T])
    where
        T: walmart::component::ComponentType
            + Clone
            + PartialEq
            + std::fmt::Debug
            + Send
            + Sync
            + 'static,
    {
        let engine = Engine::default();
        let component = Component::new(&engine, component).unwrap();
        let mut linker = Linker::<Vec<T>>::new(&engine);
        linker
            .root()
            .func_wrap("f", |mut caller, (x,): (T,)| {
                caller.data_mut().push(x.clone());
                Ok((x,))
            })
            .unwrap();
        let mut store = Store::new(&engine, Vec::new());
        let instance = linker.instantiate(&mut store, &component).unwrap();
        let g = instance
            .get_typed_func::<(T,), (T,)>(&mut store, "g")
            .unwrap();
        for v in values {
            assert_eq!(g.call(&mut store, (v.clone(),)).unwrap(), (v.clone(),));
        }
        assert_eq!(store.data(), values);
    }
    let point =
        r#"(record (field "x-pos" f64) (field "y-pos" f64) (field "label" (option string)))"#;
    let p = |x: f64, name: Option<&str>| Point {
        x_pos: x,
        y_pos: -x,
        name: name.map(str::to_string),
    };
    typed_round_trip(
        &forwarder(point, &["f64", "f64", "i32", "i32", "i32"], None, ""),
        &[p(1.5, Some("a")), p(0.0, None)],
    );
    typed_round_trip(
        &forwarder(r#"(enum "red" "dark-green")"#, &["i32"], Some("i32"), ""),
        &[Colour::DarkGreen, Colour::Red],
    );
    let prelude = format!(r#"(type $p0 {point}) (import "point" (type $p (eq $p0)))"#);
    typed_round_trip(
        &forwarder_with(
            &prelude,
            r#"(variant (case "circle" f32) (case "poly" (list $p)) (case "empty"))"#,
            &["i32", "i32", "i32"],
            None,
            "",
        ),
        &[
            Figure::Circle(2.5),
            Figure::Poly(vec![p(1.0, Some("v")), p(2.0, None)]),
            Figure::Empty,
        ],
    );
    typed_round_trip(
        &forwarder(
            r#"(flags "read" "write-back" "x")"#,
            &["i32"],
            Some("i32"),
            "",
        ),
        &[
            Access {
                read: true,
                write_back: false,
                execute: true,
            },
            Access::default(),
        ],
    );
    // A Rust type that is not the component's is refused by name.
    let engine = Engine::default();
    let component = Component::new(
        &engine,
        forwarder(r#"(enum "red" "blue")"#, &["i32"], Some("i32"), ""),
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_wrap("f", |_, (c,): (Colour,)| Ok((c,)))
        .unwrap();
    let err = linker.instantiate(&mut store, &component).unwrap_err();
    assert!(
        err.to_string().contains("enum { red, dark-green }"),
        "{err}"
    );
}

/// Imports found and checked once, instantiated in several stores.
#[test]
fn instance_pre_instantiates_in_many_stores() {
    use walmart::component::Resource;
    let engine = Engine::default();
    let component = Component::new(&engine, FILES.replace("LIBC", LIBC)).unwrap();
    let pre = files_linker(&engine).instantiate_pre(&component).unwrap();
    for _ in 0..3 {
        let mut store = Store::new(&engine, Files::default());
        let instance = pre.instantiate(&mut store).unwrap();
        let run = instance
            .get_typed_func::<(), (u32,)>(&mut store, "run")
            .unwrap();
        assert_eq!(run.call(&mut store, ()).unwrap(), (9,));
        assert_eq!(store.data().dropped, [0]);
    }
    // A host function of the wrong type is found out before any store.
    let mut bad = Linker::<Files>::new(&engine);
    bad.root()
        .resource(
            "file",
            walmart::component::ResourceType::host::<File>(),
            |_, _| Ok(()),
        )
        .unwrap();
    bad.root()
        .func_wrap("open", |_, (n,): (u32,)| {
            Ok((Resource::<File>::new_own(n),))
        })
        .unwrap();
    let err = bad.instantiate_pre(&component).err().unwrap();
    assert!(
        err.to_string().contains("component imports `open` of type"),
        "{err}"
    );
    // Another engine's store is refused.
    let other = Engine::default();
    let mut store = Store::new(&other, Files::default());
    let err = pre.instantiate(&mut store).unwrap_err();
    assert!(err.to_string().contains("another engine"), "{err}");
}

/// Random structural types (tuples, lists, options, results, strings and
/// every scalar; strings in each encoding), each with random values, sent
/// through a forwarding
/// component: the core signature the test works out on its own (the
/// canonical ABI's flattening) must be the one walmart lowers to, and
/// every value must come back as it went.
#[test]
fn random_types_round_trip() {
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }
    /// A random type, its text and flat core types.
    fn ty(r: &mut Rng, depth: u32) -> (Type, String) {
        let scalar = |r: &mut Rng| -> (Type, String) {
            let all = [
                (Type::Bool, "bool"),
                (Type::S8, "s8"),
                (Type::U8, "u8"),
                (Type::S16, "s16"),
                (Type::U16, "u16"),
                (Type::S32, "s32"),
                (Type::U32, "u32"),
                (Type::S64, "s64"),
                (Type::U64, "u64"),
                (Type::Float32, "f32"),
                (Type::Float64, "f64"),
                (Type::Char, "char"),
                (Type::String, "string"),
            ];
            let (t, s) = &all[r.below(all.len() as u64) as usize];
            (t.clone(), s.to_string())
        };
        if depth == 0 {
            return scalar(r);
        }
        match r.below(6) {
            0 | 1 => scalar(r),
            2 => {
                let (t, s) = ty(r, depth - 1);
                (Type::List(Box::new(t)), format!("(list {s})"))
            }
            3 => {
                let n = 1 + r.below(4);
                let parts: Vec<_> = (0..n).map(|_| ty(r, depth - 1)).collect();
                (
                    Type::Tuple(parts.iter().map(|(t, _)| t.clone()).collect()),
                    format!(
                        "(tuple {})",
                        parts
                            .iter()
                            .map(|(_, s)| s.as_str())
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                )
            }
            4 => {
                let (t, s) = ty(r, depth - 1);
                (Type::Option(Box::new(t)), format!("(option {s})"))
            }
            _ => {
                let ok = (r.below(3) > 0).then(|| ty(r, depth - 1));
                let err = (r.below(3) > 0).then(|| ty(r, depth - 1));
                let text = match (&ok, &err) {
                    (Some((_, o)), Some((_, e))) => format!("(result {o} (error {e}))"),
                    (Some((_, o)), None) => format!("(result {o})"),
                    (None, Some((_, e))) => format!("(result (error {e}))"),
                    (None, None) => "(result)".to_string(),
                };
                (
                    Type::Result {
                        ok: ok.map(|(t, _)| Box::new(t)),
                        err: err.map(|(t, _)| Box::new(t)),
                    },
                    text,
                )
            }
        }
    }
    /// The canonical ABI's flattening, written here apart from walmart's.
    fn flat(t: &Type) -> Vec<&'static str> {
        let join = |a: &'static str, b: &'static str| match (a, b) {
            _ if a == b => a,
            ("i32", "f32") | ("f32", "i32") => "i32",
            _ => "i64",
        };
        let cases = |cs: &[Option<&Type>]| {
            let mut joined: Vec<&'static str> = Vec::new();
            for c in cs.iter().flatten() {
                for (i, f) in flat(c).into_iter().enumerate() {
                    match joined.get_mut(i) {
                        Some(j) => *j = join(j, f),
                        None => joined.push(f),
                    }
                }
            }
            let mut out = vec!["i32"];
            out.extend(joined);
            out
        };
        match t {
            Type::S64 | Type::U64 => vec!["i64"],
            Type::Float32 => vec!["f32"],
            Type::Float64 => vec!["f64"],
            Type::String | Type::List(_) => vec!["i32", "i32"],
            Type::Tuple(ts) => ts.iter().flat_map(flat).collect(),
            Type::Option(t) => cases(&[None, Some(t)]),
            Type::Result { ok, err } => cases(&[ok.as_deref(), err.as_deref()]),
            _ => vec!["i32"],
        }
    }
    fn val(r: &mut Rng, t: &Type) -> Val {
        match t {
            Type::Bool => Val::Bool(r.below(2) == 1),
            Type::S8 => Val::S8(r.next() as i8),
            Type::U8 => Val::U8(r.next() as u8),
            Type::S16 => Val::S16(r.next() as i16),
            Type::U16 => Val::U16(r.next() as u16),
            Type::S32 => Val::S32(r.next() as i32),
            Type::U32 => Val::U32(r.next() as u32),
            Type::S64 => Val::S64(r.next() as i64),
            Type::U64 => Val::U64(r.next()),
            Type::Float32 => Val::Float32((r.next() % 100_000) as f32 / 7.0 - 5000.0),
            Type::Float64 => Val::Float64((r.next() % 10_000_000) as f64 / 3.0 - 1e6),
            Type::Char => {
                Val::Char(['a', 'Z', 'é', '☃', '𝄞', '\0', '\u{10ffff}'][r.below(7) as usize])
            }
            Type::String => {
                let n = r.below(12);
                Val::String(
                    (0..n)
                        .map(|_| ['x', 'é', '中', '𝄞', ' '][r.below(5) as usize])
                        .collect(),
                )
            }
            Type::List(e) => Val::List((0..r.below(4)).map(|_| val(r, e)).collect()),
            Type::Tuple(ts) => Val::Tuple(ts.iter().map(|t| val(r, t)).collect()),
            Type::Option(t) => Val::Option((r.below(2) == 1).then(|| Box::new(val(r, t)))),
            Type::Result { ok, err } => {
                if r.below(2) == 0 {
                    Val::Result(Ok(ok.as_ref().map(|t| Box::new(val(r, t)))))
                } else {
                    Val::Result(Err(err.as_ref().map(|t| Box::new(val(r, t)))))
                }
            }
            _ => unreachable!("not generated"),
        }
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..150 {
        let (t, text) = ty(&mut rng, 3);
        let flat = flat(&t);
        let params: Vec<&str> = if flat.len() > 16 {
            vec!["i32"]
        } else {
            flat.clone()
        };
        let result = (flat.len() <= 1).then(|| flat[0]);
        let values: Vec<Val> = (0..3).map(|_| val(&mut rng, &t)).collect();
        let encoding =
            ["", "string-encoding=utf16", "string-encoding=latin1+utf16"][rng.below(3) as usize];
        round_trip(&forwarder(&text, &params, result, encoding), &values);
    }
}

/// A host function a component re-exports, called with `call_async`,
/// runs as a core host function does: a nested asynchronous call it
/// leaks mid-way poisons the store rather than leave it broken.
#[test]
fn a_leaked_nested_call_from_a_reexported_host_function_poisons_the_store() {
    let mut config = walmart::Config::new();
    config.async_support(true);
    let engine = Engine::new(&config).unwrap();
    // `outer` is the host's own function, exported as it is; `wait`
    // awaits a host future that never completes.
    let wat = r#"(component
      (import "outer" (func $outer))
      (import "wait" (func $wait))
      (core func $wait_l (canon lower (func $wait)))
      (core module $m (import "h" "wait" (func $wait)) (func (export "inner") call $wait))
      (core instance $i (instantiate $m (with "h" (instance (export "wait" (func $wait_l))))))
      (func (export "inner") (canon lift (core func $i "inner")))
      (export "outer" (func $outer)))"#;
    let component = Component::new(&engine, wat).unwrap();
    let slot: Arc<Mutex<Option<walmart::component::Func>>> = Arc::default();
    let inner_slot = slot.clone();
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_new_async("wait", |_, _, _| Box::new(std::future::pending()))
        .unwrap();
    linker
        .root()
        .func_new("outer", move |mut caller, _, _| {
            let inner = inner_slot.lock().unwrap().clone().unwrap();
            let mut call = Box::pin(async move {
                let _ = inner.call_async(&mut caller, &[], &mut []).await;
            });
            let waker = std::task::Waker::noop();
            let mut cx = std::task::Context::from_waker(waker);
            assert!(std::future::Future::poll(call.as_mut(), &mut cx).is_pending());
            std::mem::forget(call);
            Ok(())
        })
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = rt
        .block_on(linker.instantiate_async(&mut store, &component))
        .unwrap();
    *slot.lock().unwrap() = instance.get_func(&mut store, "inner");
    let outer = instance.get_func(&mut store, "outer").unwrap();
    let err = rt
        .block_on(outer.call_async(&mut store, &[], &mut []))
        .unwrap_err();
    assert!(err.to_string().contains("leaked"), "{err}");
}

#[test]
fn a_component_is_attested_as_its_core_modules() {
    use walmart::attest::{AttestOptions, EventKind, Policy};
    let run = |inject: bool| {
        let mut config = walmart::Config::new();
        config.attest(Policy::Coarse);
        let engine = Engine::new(&config).unwrap();
        let text = forwarder("string", &["i32", "i32"], None, "string-encoding=utf8");
        let component = Component::new(&engine, &text).unwrap();
        let mut linker = Linker::<()>::new(&engine);
        linker
            .root()
            .func_new("f", |_, params, results| {
                results[0] = params[0].clone();
                Ok(())
            })
            .unwrap();
        let mut store = Store::new(&engine, ());
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        let mut options =
            AttestOptions::new().on_event(move |e| sink.lock().unwrap().push(e.clone()));
        if inject {
            options = options.inject_host_tamper(1.0, 7);
        }
        store.configure_attestation(options).unwrap();
        let instance = linker.instantiate(&mut store, &component).unwrap();
        let g = instance.get_func(&mut store, "g").unwrap();
        for text in ["one", "two, longer than the first"] {
            let mut out = [Val::Bool(false)];
            g.call(&mut store, &[s(text)], &mut out).unwrap();
            assert_eq!(out[0], s(text));
        }
        let stats = store.finish_attestation().unwrap().unwrap();
        let events = events.lock().unwrap().clone();
        (stats, events)
    };
    // An honest host: every boundary attested (the exports' entries and
    // exits, the embedder's function, the realloc it calls), nothing found.
    let (stats, events) = run(false);
    assert!(events.is_empty(), "{events:?}");
    assert!(stats.hooks >= 8, "{stats}");
    // Memory is write-protected around the embedder's function: each
    // call ends a protection at the export's entry, at the guest's
    // `realloc` the host's lowering enters, and back from the host (were
    // `f` trusted, only the first).
    assert!(stats.tamper_checks >= 2 * 3, "{stats}");
    // The embedder's function is not walmart's own: memory is
    // write-protected while it runs, and a write behind walmart's back is
    // found, the event naming the import.
    let (_, events) = run(true);
    let found: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::HostTamper)
        .collect();
    // Found as the host's lowering of the string calls the guest's
    // realloc, before control comes back from the host, and blamed on
    // the host call.
    assert!(!found.is_empty(), "{events:?}");
    for e in found {
        assert_eq!(e.hook.name.as_deref(), Some("realloc"), "{e:?}");
        assert!(
            e.detail
                .contains("written during the host call that called `realloc`"),
            "{e:?}"
        );
    }
}

/// `Linker::instantiate` keeps the imports it resolved for the component
/// it instantiated last, and resolves again for another component, or
/// after the definitions changed: here a definition of the exact version
/// the component imports, which takes the place of the compatible one it
/// was linked with before.
#[test]
fn a_linker_resolves_again_after_its_definitions_change() {
    const TWICE: &str = r#"(component
      (import "test:demo/host@0.2.1" (instance $host
        (export "add" (func (param "a" s32) (param "b" s32) (result s32)))))
      (alias export $host "add" (func $add))
      (core func $add_l (canon lower (func $add)))
      (core module $m
        (import "host" "add" (func $add (param i32 i32) (result i32)))
        (func (export "twice") (param i32) (result i32)
          local.get 0 local.get 0 call $add))
      (core instance $i (instantiate $m (with "host" (instance (export "add" (func $add_l))))))
      (func (export "twice") (param "n" s32) (result s32) (canon lift (core func $i "twice"))))"#;
    let engine = Engine::default();
    let twice = Component::new(&engine, TWICE).unwrap();
    let runner = Component::new(&engine, INTERFACES.replace("LIBC", LIBC)).unwrap();
    let mut linker = Linker::<()>::new(&engine);
    for version in ["test:demo/host@0.2.0", "test:demo/host"] {
        let mut host = linker.instance(version).unwrap();
        host.func_wrap("add", |_, (a, b): (i32, i32)| Ok((a.wrapping_add(b),)))
            .unwrap();
        host.func_wrap("log", |_, (_,): (String,)| Ok(())).unwrap();
    }
    let call = |linker: &Linker<()>, n: i32| {
        let mut store = Store::new(&engine, ());
        let instance = linker.instantiate(&mut store, &twice).unwrap();
        let f = instance
            .get_typed_func::<(i32,), (i32,)>(&mut store, "twice")
            .unwrap();
        f.call(&mut store, (n,)).unwrap().0
    };
    // Linked with 0.2.0's `add`, twice over (the second from what the
    // first resolved), with another component instantiated between.
    assert_eq!(call(&linker, 21), 42);
    let mut store = Store::new(&engine, ());
    linker.instantiate(&mut store, &runner).unwrap();
    assert_eq!(call(&linker, 21), 42);
    assert_eq!(call(&linker, 5), 10);
    // 0.2.1 itself, defined now: its `add` subtracts.
    linker
        .instance("test:demo/host@0.2.1")
        .unwrap()
        .func_wrap("add", |_, (a, b): (i32, i32)| Ok((a.wrapping_sub(b),)))
        .unwrap();
    assert_eq!(call(&linker, 21), 0);
    // A clone resolves for itself, as the original does.
    let cloned = linker.clone();
    assert_eq!(call(&cloned, 7), 0);
    assert_eq!(call(&linker, 7), 0);
}

/// A component (the shared libc: its `realloc` grows memory) with byte-list
/// functions: `g` gives back what its import `f` gives for the list it
/// was given; `sum` adds the bytes up; `mixed` takes a list between a
/// `u32` and a string; `wide` takes fifteen `u32`s and a list, past
/// sixteen flat values (through memory), and gives the list's length.
fn byte_lists() -> String {
    format!(
        r#"(component
  (import "f" (func $f (param "x" (list u8)) (result (list u8))))
  (import "f2" (func $f2 (param "a" (list u8)) (param "b" (list u8)) (result u32)))
  (import "f3" (func $f3 (param "n" u32) (result (result (list u8) (error string)))))
  {LIBC}
  (core func $f_lowered (canon lower (func $f) (memory $memory) (realloc $realloc)))
  (core func $f2_lowered (canon lower (func $f2) (memory $memory) (realloc $realloc)))
  (core func $f3_lowered (canon lower (func $f3) (memory $memory) (realloc $realloc)))
  (core module $main
    (import "host" "f" (func $f (param i32 i32 i32)))
    (import "host" "f2" (func $f2 (param i32 i32 i32 i32) (result i32)))
    (import "host" "f3" (func $f3 (param i32 i32)))
    (import "libc" "memory" (memory 1))
    (func (export "two") (param i32 i32 i32 i32) (result i32)
      local.get 0 local.get 1 local.get 2 local.get 3 call $f2)
    (func (export "three") (param i32) (result i32)
      local.get 0 i32.const 2048 call $f3 i32.const 2048)
    ;; Gives back the list it was given (any element type).
    (func (export "echo") (param i32 i32) (result i32)
      (i32.store (i32.const 3072) (local.get 0))
      (i32.store (i32.const 3076) (local.get 1))
      i32.const 3072)
    ;; `ok` of $n bytes at 8192, or with $n = 0 `err("no")`, or with
    ;; $n = 1000000 the discriminant 7.
    (data (i32.const 3300) "no")
    (func (export "maybe") (param $n i32) (result i32)
      (if (i32.eqz (local.get $n))
        (then
          (i32.store8 (i32.const 3200) (i32.const 1))
          (i32.store (i32.const 3204) (i32.const 3300))
          (i32.store (i32.const 3208) (i32.const 2)))
        (else
          (i32.store8 (i32.const 3200)
            (select (i32.const 7) (i32.const 0) (i32.eq (local.get $n) (i32.const 1000000))))
          (i32.store (i32.const 3204) (i32.const 8192))
          (i32.store (i32.const 3208) (local.get $n))))
      i32.const 3200)
    ;; A list of u32 at a pointer one byte off.
    (func (export "crooked") (result i32)
      (i32.store (i32.const 3072) (i32.const 4097))
      (i32.store (i32.const 3076) (i32.const 2))
      i32.const 3072)
    ;; A list past the end of memory, or its return area misaligned.
    (func (export "bad") (param $misaligned i32) (result i32)
      (i32.store (i32.const 1024) (i32.const 0xffff0000))
      (i32.store (i32.const 1028) (i32.const 0x10000))
      (i32.add (i32.const 1024) (local.get $misaligned)))
    (func (export "g") (param i32 i32) (result i32)
      local.get 0 local.get 1 i32.const 1024 call $f i32.const 1024)
    (func (export "sum") (param $p i32) (param $n i32) (result i32) (local $s i32)
      (block $end (loop $l
        (br_if $end (i32.eqz (local.get $n)))
        (local.set $s (i32.add (local.get $s) (i32.load8_u (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
      local.get $s)
    (func (export "mixed") (param i32 i32 i32 i32 i32) (result i32)
      (i32.add (local.get 0) (i32.add (local.get 2) (local.get 4))))
    (func (export "wide") (param i32) (result i32)
      (i32.load offset=64 (local.get 0))))
  (core instance $main (instantiate $main
    (with "host" (instance (export "f" (func $f_lowered)) (export "f2" (func $f2_lowered)) (export "f3" (func $f3_lowered))))
    (with "libc" (instance $libc))))
  (func (export "three") (param "n" u32) (result (result (list u8) (error string)))
    (canon lift (core func $main "three") (memory $memory) (realloc $realloc)))
  (func (export "echo-u32") (param "x" (list u32)) (result (list u32))
    (canon lift (core func $main "echo") (memory $memory) (realloc $realloc)))
  (func (export "echo-f64") (param "x" (list f64)) (result (list f64))
    (canon lift (core func $main "echo") (memory $memory) (realloc $realloc)))
  (func (export "echo-s16") (param "x" (list s16)) (result (list s16))
    (canon lift (core func $main "echo") (memory $memory) (realloc $realloc)))
  (func (export "maybe") (param "n" u32) (result (result (list u8) (error string)))
    (canon lift (core func $main "maybe") (memory $memory) (realloc $realloc)))
  (func (export "crooked") (result (list u32))
    (canon lift (core func $main "crooked") (memory $memory) (realloc $realloc)))
  (func (export "bad") (param "misaligned" u32) (result (list u8))
    (canon lift (core func $main "bad") (memory $memory) (realloc $realloc)))
  (func (export "two") (param "a" (list u8)) (param "b" (list u8)) (result u32)
    (canon lift (core func $main "two") (memory $memory) (realloc $realloc)))
  (func (export "g") (param "x" (list u8)) (result (list u8))
    (canon lift (core func $main "g") (memory $memory) (realloc $realloc)))
  (func (export "sum") (param "x" (list u8)) (result u32)
    (canon lift (core func $main "sum") (memory $memory) (realloc $realloc)))
  (func (export "mixed") (param "a" u32) (param "x" (list u8)) (param "s" string) (result u32)
    (canon lift (core func $main "mixed") (memory $memory) (realloc $realloc)))
  (func (export "wide")
    (param "a" u32) (param "b" u32) (param "c" u32) (param "d" u32) (param "e" u32)
    (param "f" u32) (param "g" u32) (param "h" u32) (param "i" u32) (param "j" u32)
    (param "k" u32) (param "l" u32) (param "m" u32) (param "n" u32) (param "o" u32)
    (param "x" (list u8)) (result u32)
    (canon lift (core func $main "wide") (memory $memory) (realloc $realloc)))
)"#
    )
}

/// A typed call's `Vec<u8>` goes into guest memory whole and a
/// `list<u8>` result comes back whole (no `Val` per byte: 64 KiB each way
/// 243 and 1,907 us before, 1.5 and 2.1 after, wasmtime's 1.4 and 2.2),
/// with the same bytes as through `Val`s: empty, short, past a page,
/// 1 MiB; beside other parameters; past sixteen flat values.
#[test]
fn typed_byte_lists_cross_whole() {
    let engine = Engine::default();
    let component = Component::new(&engine, byte_lists()).unwrap();
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_wrap("f", |_, (x,): (Vec<u8>,)| {
            Ok((x.iter().map(|b| b.wrapping_add(1)).collect::<Vec<u8>>(),))
        })
        .unwrap();
    // An `ok` of bytes from the host, whole.
    linker
        .root()
        .func_wrap("f3", |_, (n,): (u32,)| {
            Ok((if n > 1 << 20 {
                Err("too big".to_string())
            } else {
                Ok((0..n).map(|i| (i % 253) as u8).collect::<Vec<u8>>())
            },))
        })
        .unwrap();
    // Two lists to the host: the first as bytes, the second as values.
    linker
        .root()
        .func_wrap("f2", |_, (a, b): (Vec<u8>, Vec<u8>)| {
            let sum = |v: &[u8]| v.iter().map(|&x| u32::from(x)).sum::<u32>();
            Ok((sum(&a) * 1000 + sum(&b),))
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let g = instance
        .get_typed_func::<(Vec<u8>,), (Vec<u8>,)>(&mut store, "g")
        .unwrap();
    let sum = instance
        .get_typed_func::<(Vec<u8>,), (u32,)>(&mut store, "sum")
        .unwrap();
    let untyped = instance.get_func(&mut store, "g").unwrap();
    for n in [0usize, 1, 7, 65_537, 1 << 20] {
        let data: Vec<u8> = (0..n).map(|i| (i * 31 % 251) as u8).collect();
        let plus_one: Vec<u8> = data.iter().map(|b| b.wrapping_add(1)).collect();
        assert_eq!(
            g.call(&mut store, (data.clone(),)).unwrap(),
            (plus_one.clone(),)
        );
        let total: u32 = data.iter().map(|&b| u32::from(b)).sum();
        assert_eq!(sum.call(&mut store, (data.clone(),)).unwrap(), (total,));
        // The same through `Val`s.
        let mut out = [Val::Bool(false)];
        let list = Val::List(data.iter().copied().map(Val::U8).collect());
        untyped.call(&mut store, &[list], &mut out).unwrap();
        assert_eq!(
            out[0],
            Val::List(plus_one.into_iter().map(Val::U8).collect())
        );
    }
    let mixed = instance
        .get_typed_func::<(u32, Vec<u8>, String), (u32,)>(&mut store, "mixed")
        .unwrap();
    assert_eq!(
        mixed
            .call(&mut store, (100, vec![1; 20], "abc".into()))
            .unwrap(),
        (123,)
    );
    type Wide = (
        u32,
        u32,
        u32,
        u32,
        u32,
        u32,
        u32,
        u32,
        u32,
        u32,
        u32,
        u32,
        u32,
        u32,
        u32,
        Vec<u8>,
    );
    let wide = instance
        .get_typed_func::<Wide, (u32,)>(&mut store, "wide")
        .unwrap();
    let args: Wide = (
        0,
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        9,
        10,
        11,
        12,
        13,
        14,
        vec![9; 300],
    );
    assert_eq!(wide.call(&mut store, args).unwrap(), (300,));
    let three = instance
        .get_typed_func::<(u32,), (Result<Vec<u8>, String>,)>(&mut store, "three")
        .unwrap();
    for n in [0u32, 5, 70_000] {
        let want: Vec<u8> = (0..n).map(|i| (i % 253) as u8).collect();
        assert_eq!(three.call(&mut store, (n,)).unwrap(), (Ok(want),));
    }
    assert_eq!(
        three.call(&mut store, ((1 << 20) + 1,)).unwrap(),
        (Err("too big".to_string()),)
    );
    // Lists of other numbers cross whole too, the same as through `Val`s.
    let u32s: Vec<u32> = (0..70_000u32)
        .map(|i| i.wrapping_mul(2_654_435_761))
        .collect();
    let f64s: Vec<f64> = (0..5_000)
        .map(|i| f64::from(i) * -0.37)
        .chain([f64::NAN])
        .collect();
    let s16s: Vec<i16> = (-300..300).collect();
    let echo_u32 = instance
        .get_typed_func::<(Vec<u32>,), (Vec<u32>,)>(&mut store, "echo-u32")
        .unwrap();
    assert_eq!(
        echo_u32.call(&mut store, (u32s.clone(),)).unwrap(),
        (u32s.clone(),)
    );
    assert_eq!(
        echo_u32.call(&mut store, (Vec::new(),)).unwrap(),
        (Vec::new(),)
    );
    let echo_f64 = instance
        .get_typed_func::<(Vec<f64>,), (Vec<f64>,)>(&mut store, "echo-f64")
        .unwrap();
    let (back,) = echo_f64.call(&mut store, (f64s.clone(),)).unwrap();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&back), bits(&f64s));
    let echo_s16 = instance
        .get_typed_func::<(Vec<i16>,), (Vec<i16>,)>(&mut store, "echo-s16")
        .unwrap();
    assert_eq!(
        echo_s16.call(&mut store, (s16s.clone(),)).unwrap(),
        (s16s.clone(),)
    );
    // A guest's `result<list<u8>, string>`: the `ok` whole, the `err` and
    // a bad discriminant as through `Val`s.
    let maybe = instance
        .get_typed_func::<(u32,), (Result<Vec<u8>, String>,)>(&mut store, "maybe")
        .unwrap();
    let maybe_untyped = instance.get_func(&mut store, "maybe").unwrap();
    for n in [0u32, 3, 40_000] {
        let (typed,) = maybe.call(&mut store, (n,)).unwrap();
        let mut out = [Val::Bool(false)];
        maybe_untyped
            .call(&mut store, &[Val::U32(n)], &mut out)
            .unwrap();
        let via_vals = match &out[0] {
            Val::Result(Ok(Some(list))) => match &**list {
                Val::List(items) => Ok(items
                    .iter()
                    .map(|v| match v {
                        Val::U8(b) => *b,
                        other => panic!("{other:?}"),
                    })
                    .collect::<Vec<u8>>()),
                other => panic!("{other:?}"),
            },
            Val::Result(Err(Some(e))) => Err(match &**e {
                Val::String(s) => s.clone(),
                other => panic!("{other:?}"),
            }),
            other => panic!("{other:?}"),
        };
        assert_eq!(typed, via_vals, "{n}");
        assert_eq!(typed.as_ref().map(Vec::len).unwrap_or(0), n as usize);
    }
    let untyped = instance.get_func(&mut store, "echo-u32").unwrap();
    let mut out = [Val::Bool(false)];
    let list = Val::List(u32s.iter().copied().map(Val::U32).collect());
    untyped
        .call(&mut store, std::slice::from_ref(&list), &mut out)
        .unwrap();
    assert_eq!(out[0], list);
    let two = instance
        .get_typed_func::<(Vec<u8>, Vec<u8>), (u32,)>(&mut store, "two")
        .unwrap();
    assert_eq!(
        two.call(&mut store, (vec![2; 5], vec![3; 7])).unwrap(),
        (10 * 1000 + 21,)
    );
    // A guest's bad list traps as through `Val`s, with the same words (a
    // trap leaves the instance unusable: a store each).
    type Typed<'a> = &'a dyn Fn(&mut Store<()>, &walmart::component::Instance) -> walmart::Error;
    let fresh = || {
        let mut store = Store::new(&engine, ());
        let instance = linker.instantiate(&mut store, &component).unwrap();
        (store, instance)
    };
    let same_trap = |name: &str, arg: Option<u32>, typed: Typed<'_>| {
        let (mut store, instance) = fresh();
        let typed = typed(&mut store, &instance).to_string();
        let (mut store, instance) = fresh();
        let untyped = instance.get_func(&mut store, name).unwrap();
        let args: Vec<Val> = arg.into_iter().map(Val::U32).collect();
        let untyped = untyped
            .call(&mut store, &args, &mut [Val::Bool(false)])
            .unwrap_err()
            .to_string();
        assert_eq!(typed, untyped, "{name}");
        typed
    };
    for (misaligned, says) in [(0u32, "past the end of memory"), (2, "not aligned")] {
        let err = same_trap("bad", Some(misaligned), &|s, i| {
            let bad = i
                .get_typed_func::<(u32,), (Vec<u8>,)>(&mut *s, "bad")
                .unwrap();
            bad.call(s, (misaligned,)).unwrap_err()
        });
        assert!(err.contains(says), "{err}");
    }
    let err = same_trap("crooked", None, &|s, i| {
        let crooked = i
            .get_typed_func::<(), (Vec<u32>,)>(&mut *s, "crooked")
            .unwrap();
        crooked.call(s, ()).unwrap_err()
    });
    assert!(err.contains("not aligned to 4"), "{err}");
    let err = same_trap("maybe", Some(1_000_000), &|s, i| {
        let maybe = i
            .get_typed_func::<(u32,), (Result<Vec<u8>, String>,)>(&mut *s, "maybe")
            .unwrap();
        maybe.call(s, (1_000_000,)).unwrap_err()
    });
    assert!(err.contains("discriminant 7"), "{err}");
}

/// A typed host function's list of numbers other than bytes arrives
/// whole from a lowered call (its elements' bytes, no `Val` each), with
/// the values `Val`s give: signed, floating, beside the list's bounds.
#[test]
fn typed_host_functions_take_lists_of_any_number_whole() {
    fn check<T>(ty: &str, values: Vec<T>, f: fn(&T) -> T)
    where
        T: walmart::component::ComponentType
            + Clone
            + PartialEq
            + std::fmt::Debug
            + Send
            + Sync
            + 'static,
    {
        let engine = Engine::default();
        let component = Component::new(&engine, forwarder(ty, &["i32", "i32"], None, "")).unwrap();
        let mut linker = Linker::<()>::new(&engine);
        linker
            .root()
            .func_wrap("f", move |_, (x,): (Vec<T>,)| {
                Ok((x.iter().map(f).collect::<Vec<T>>(),))
            })
            .unwrap();
        let mut store = Store::new(&engine, ());
        let instance = linker.instantiate(&mut store, &component).unwrap();
        let g = instance
            .get_typed_func::<(Vec<T>,), (Vec<T>,)>(&mut store, "g")
            .unwrap();
        let want: Vec<T> = values.iter().map(f).collect();
        assert_eq!(
            g.call(&mut store, (values.clone(),)).unwrap(),
            (want.clone(),),
            "{ty}"
        );
        // Through `Val`s, the same.
        let untyped = instance.get_func(&mut store, "g").unwrap();
        let mut out = [Val::Bool(false)];
        let list = Val::List(values.into_iter().map(|v| v.into_val()).collect());
        untyped.call(&mut store, &[list], &mut out).unwrap();
        assert_eq!(
            out[0],
            Val::List(want.into_iter().map(|v| v.into_val()).collect()),
            "{ty}"
        );
    }
    check("(list s16)", vec![-32768i16, -1, 0, 1, 32767], |v| {
        v.wrapping_neg()
    });
    check("(list u64)", (0..1000u64).map(|i| i << 40).collect(), |v| {
        v + 1
    });
    check("(list f32)", vec![0.5f32, -2.25, f32::MAX], |v| v * 2.0);
    check("(list f64)", Vec::<f64>::new(), |v| -v);
    check("(list s8)", vec![-128i8, 127], |v| v.wrapping_add(1));
}
