//! The linker's definitions: a name defined twice is refused unless
//! shadowing is allowed, aliases, and unknown imports defined as functions
//! that trap or return defaults (wasmtime's `Linker` behaviours).

use walmart::{Engine, ExternRef, Linker, Module, Store, Val};

const IMPORTS: &str = r#"(module
    (import "env" "present" (func $present (result i32)))
    (import "env" "missing" (func $missing (param i32) (result i32)))
    (import "env" "missing_many" (func $many (result i64 f64 externref)))
    (func (export "call_present") (result i32) (call $present))
    (func (export "call_missing") (result i32) (call $missing (i32.const 5)))
    (func (export "call_many") (result i64 f64 externref) (call $many)))"#;

fn call(
    store: &mut Store<()>,
    instance: &walmart::Instance,
    name: &str,
) -> Result<Vec<Val>, String> {
    let f = instance.get_func(&mut *store, name).unwrap();
    let mut out = vec![Val::I32(0); f.ty(&*store).results().len()];
    f.call(&mut *store, &[], &mut out)
        .map(|_| out)
        .map_err(|e| e.to_string())
}

#[test]
fn a_name_defined_twice_is_refused_unless_shadowing_is_allowed() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap("env", "present", || 1).unwrap();
    let e = linker
        .func_wrap("env", "present", || 2)
        .unwrap_err()
        .to_string();
    assert!(e.contains("`env::present` is defined twice"), "{e}");
    assert_eq!(e.lines().count(), 1);
    let global = walmart::Global::new(
        &mut store,
        walmart::GlobalType::new(walmart::ValType::I32, walmart::Mutability::Const),
        Val::I32(3),
    )
    .unwrap();
    let e = linker
        .define(&mut store, "env", "present", global)
        .unwrap_err()
        .to_string();
    assert!(e.contains("defined twice"), "{e}");

    // An instance whose exports collide defines none of them.
    let exporter = Module::new(
        &engine,
        r#"(module (func (export "a")) (func (export "present")))"#,
    )
    .unwrap();
    let instance = linker.instantiate(&mut store, &exporter).unwrap();
    assert!(linker.instance(&mut store, "env", instance).is_err());
    assert!(linker.get(&mut store, "env", "a").is_none());

    // The first definition stands; with shadowing a later one replaces it.
    linker.func_wrap("env", "missing", |x: i32| x).unwrap();
    linker
        .func_wrap("env", "missing_many", || (1i64, 2.0f64, None::<ExternRef>))
        .unwrap();
    let module = Module::new(&engine, IMPORTS).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    assert_eq!(
        call(&mut store, &instance, "call_present"),
        Ok(vec![Val::I32(1)])
    );
    linker.allow_shadowing(true);
    linker.func_wrap("env", "present", || 2).unwrap();
    linker.instance(&mut store, "env", instance).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    assert_eq!(
        call(&mut store, &instance, "call_present"),
        Ok(vec![Val::I32(2)])
    );
}

#[test]
fn aliases_define_a_name_as_another() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap("host", "seven", || 7).unwrap();
    linker.func_wrap("host", "id", |x: i32| x).unwrap();
    linker.alias("host", "seven", "env", "present").unwrap();
    linker.alias("host", "id", "env", "missing").unwrap();
    linker
        .func_wrap("env", "missing_many", || (1i64, 2.0f64, None::<ExternRef>))
        .unwrap();
    let module = Module::new(&engine, IMPORTS).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    assert_eq!(
        call(&mut store, &instance, "call_present"),
        Ok(vec![Val::I32(7)])
    );
    assert_eq!(
        call(&mut store, &instance, "call_missing"),
        Ok(vec![Val::I32(5)])
    );
    let e = linker
        .alias("host", "nothing", "env", "x")
        .unwrap_err()
        .to_string();
    assert!(e.contains("`host::nothing` is not defined"), "{e}");
    // A module of names under another, all or none.
    linker.alias_module("host", "copy").unwrap();
    assert!(linker.get(&mut store, "copy", "seven").is_some());
    assert!(linker.get(&mut store, "copy", "id").is_some());
    linker.func_wrap("again", "id", |x: i32| x).unwrap();
    assert!(linker.alias_module("host", "again").is_err());
    assert!(linker.get(&mut store, "again", "seven").is_none());
}

#[test]
fn unknown_imports_trap_when_called_or_return_defaults() {
    let engine = Engine::default();
    let module = Module::new(&engine, IMPORTS).unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap("env", "present", || 1).unwrap();
    let e = linker
        .instantiate(&mut store, &module)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown import: env::missing"), "{e}");

    let mut traps = Linker::<()>::new(&engine);
    traps.func_wrap("env", "present", || 1).unwrap();
    traps.define_unknown_imports_as_traps(&module).unwrap();
    let instance = traps.instantiate(&mut store, &module).unwrap();
    // Defined imports are untouched; the module runs until it calls a
    // missing one.
    assert_eq!(
        call(&mut store, &instance, "call_present"),
        Ok(vec![Val::I32(1)])
    );
    let e = call(&mut store, &instance, "call_missing").unwrap_err();
    assert!(e.contains("unknown import `env::missing` called"), "{e}");
    // Defining them again adds nothing and fails nothing.
    traps.define_unknown_imports_as_traps(&module).unwrap();

    let mut defaults = Linker::<()>::new(&engine);
    defaults.func_wrap("env", "present", || 1).unwrap();
    defaults
        .define_unknown_imports_as_default_values(&module)
        .unwrap();
    let instance = defaults.instantiate(&mut store, &module).unwrap();
    assert_eq!(
        call(&mut store, &instance, "call_missing"),
        Ok(vec![Val::I32(0)])
    );
    let many = call(&mut store, &instance, "call_many").unwrap();
    assert_eq!(many[0], Val::I64(0));
    assert_eq!(many[1], Val::F64(0));
    assert!(matches!(many[2], Val::ExternRef(None)));

    // Imports of other kinds stay unknown.
    let memory = Module::new(&engine, r#"(module (import "env" "mem" (memory 1)))"#).unwrap();
    let mut linker = Linker::<()>::new(&engine);
    linker.define_unknown_imports_as_traps(&memory).unwrap();
    let e = linker
        .instantiate(&mut store, &memory)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown import: env::mem"), "{e}");
}

#[test]
fn unknown_imports_of_typed_references_link_by_their_exact_type() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (type $t (func (result i32)))
            (type $s (struct (field i32)))
            (import "env" "nullable" (func $nullable (param (ref null $t)) (result (ref null $s))))
            (import "env" "strict" (func $strict (result (ref $s))))
            (func (export "call_nullable") (result i32)
                (ref.is_null (call $nullable (ref.null $t))))
            (func (export "call_strict") (result i32)
                (struct.get $s 0 (call $strict))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let mut traps = Linker::<()>::new(&engine);
    traps.define_unknown_imports_as_traps(&module).unwrap();
    let instance = traps.instantiate(&mut store, &module).unwrap();
    let e = call(&mut store, &instance, "call_strict").unwrap_err();
    assert!(e.contains("unknown import `env::strict` called"), "{e}");

    // No default for a non-nullable result: refused by name, nothing
    // defined.
    let mut defaults = Linker::<()>::new(&engine);
    let e = defaults
        .define_unknown_imports_as_default_values(&module)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`env::strict`") && e.contains("non-nullable"),
        "{e}"
    );
    assert!(defaults.get(&mut store, "env", "nullable").is_none());
    // With it defined by the host, the nullable one gets its default.
    let strict = Module::new(
        &engine,
        r#"(module (type $s (struct (field i32)))
            (func (export "strict") (result (ref $s)) (struct.new $s (i32.const 9))))"#,
    )
    .unwrap();
    let provider = Linker::<()>::new(&engine)
        .instantiate(&mut store, &strict)
        .unwrap();
    defaults.instance(&mut store, "env", provider).unwrap();
    defaults
        .define_unknown_imports_as_default_values(&module)
        .unwrap();
    let instance = defaults.instantiate(&mut store, &module).unwrap();
    assert_eq!(
        call(&mut store, &instance, "call_nullable"),
        Ok(vec![Val::I32(1)])
    );
    assert_eq!(
        call(&mut store, &instance, "call_strict"),
        Ok(vec![Val::I32(9)])
    );
}

#[test]
fn instance_pre_resolves_once_and_instantiates_in_any_store() {
    fn shareable<X: Send + Sync + Clone>() {}
    shareable::<walmart::InstancePre<()>>();
    let engine = Engine::default();
    let module = Module::new(&engine, IMPORTS).unwrap();
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap("env", "present", || 1).unwrap();
    linker.func_wrap("env", "missing", |x: i32| x * 3).unwrap();
    let e = linker.instantiate_pre(&module).unwrap_err().to_string();
    assert!(e.contains("unknown import: env::missing_many"), "{e}");
    linker
        .func_wrap("env", "missing_many", || (4i64, 0.5f64, None::<ExternRef>))
        .unwrap();
    let pre = linker.instantiate_pre(&module).unwrap();
    assert!(format!("{pre:?}").contains("imports: 3"));
    // Later definitions do not change what was resolved.
    linker.allow_shadowing(true);
    linker.func_wrap("env", "present", || 2).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let pre = pre.clone();
            std::thread::spawn(move || {
                let mut store = Store::new(pre.module().engine(), ());
                let instance = pre.instantiate(&mut store).unwrap();
                (
                    call(&mut store, &instance, "call_present"),
                    call(&mut store, &instance, "call_missing"),
                )
            })
        })
        .collect();
    for t in threads {
        let (present, missing) = t.join().unwrap();
        assert_eq!(present, Ok(vec![Val::I32(1)]));
        assert_eq!(missing, Ok(vec![Val::I32(15)]));
    }

    // A host function of another type is refused when resolving.
    let mut wrong = Linker::<()>::new(&engine);
    wrong.func_wrap("env", "present", || 1i64).unwrap();
    wrong.func_wrap("env", "missing", |x: i32| x).unwrap();
    wrong
        .func_wrap("env", "missing_many", || (4i64, 0.5f64, None::<ExternRef>))
        .unwrap();
    let e = wrong.instantiate_pre(&module).unwrap_err().to_string();
    assert!(
        e.contains("incompatible import type for `env::present`"),
        "{e}"
    );

    // Another store's definitions are refused at instantiation.
    let memory_module =
        Module::new(&engine, r#"(module (import "env" "mem" (memory 1)))"#).unwrap();
    let mut store_a = Store::new(&engine, ());
    let memory = walmart::Memory::new(&mut store_a, walmart::MemoryType::new(1, None)).unwrap();
    let mut linker = Linker::<()>::new(&engine);
    linker.define(&mut store_a, "env", "mem", memory).unwrap();
    let pre = linker.instantiate_pre(&memory_module).unwrap();
    pre.instantiate(&mut store_a).unwrap();
    let mut store_b = Store::new(&engine, ());
    let e = pre.instantiate(&mut store_b).unwrap_err().to_string();
    assert!(
        e.contains("`env::mem` is defined by an object of another store"),
        "{e}"
    );
    // As through the linker itself (this was a panic).
    let e = linker
        .instantiate(&mut store_b, &memory_module)
        .unwrap_err()
        .to_string();
    assert!(e.contains("another store"), "{e}");
}

/// Type ids are numbers of their engine: a linker links only modules of
/// its own engine, and an `InstancePre` instantiates only in stores of it.
#[test]
fn another_engines_module_or_store_is_refused() {
    let a = Engine::default();
    let b = Engine::default();
    let module_b = Module::new(&b, IMPORTS).unwrap();
    let mut linker = Linker::<()>::new(&a);
    linker.func_wrap("env", "present", || 1).unwrap();
    linker
        .define_unknown_imports_as_traps(&Module::new(&a, IMPORTS).unwrap())
        .unwrap();
    let mut store_b = Store::new(&b, ());
    let e = linker
        .instantiate(&mut store_b, &module_b)
        .unwrap_err()
        .to_string();
    assert!(e.contains("another engine"), "{e}");
    let e = linker.instantiate_pre(&module_b).unwrap_err().to_string();
    assert!(e.contains("another engine"), "{e}");
    let pre = linker
        .instantiate_pre(&Module::new(&a, IMPORTS).unwrap())
        .unwrap();
    let e = pre.instantiate(&mut store_b).unwrap_err().to_string();
    assert!(e.contains("another engine"), "{e}");
    let mut store_a = Store::new(&a, ());
    pre.instantiate(&mut store_a).unwrap();
}

/// A module of `kind` (`_start` or `_initialize` among its exports, or
/// neither) with a counter that `_initialize` sets to 10 and `bump`
/// increments and returns.
fn counter(engine: &Engine, kinds: &[&str]) -> Module {
    let entries: String = kinds
        .iter()
        .map(|k| format!(r#"(func (export "{k}") (global.set $n (i32.const 10)))"#))
        .collect();
    Module::new(
        engine,
        format!(
            r#"(module (global $n (mut i32) (i32.const 0)) (memory (export "mem") 1)
                {entries}
                (func (export "bump") (result i32)
                  (global.set $n (i32.add (global.get $n) (i32.const 1))) (global.get $n))
                (func (export "fail") unreachable))"#
        ),
    )
    .unwrap()
}

const USER: &str = r#"(module (import "lib" "bump" (func $bump (result i32)))
    (func (export "run") (result i32) (call $bump)))"#;

#[test]
fn a_reactor_is_instantiated_once_and_initialised() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker
        .module(&mut store, "lib", &counter(&engine, &["_initialize"]))
        .unwrap();
    let user = linker
        .instantiate(&mut store, &Module::new(&engine, USER).unwrap())
        .unwrap();
    // One instance, initialised once: its state goes on from call to call.
    assert_eq!(call(&mut store, &user, "run").unwrap(), [Val::I32(11)]);
    assert_eq!(call(&mut store, &user, "run").unwrap(), [Val::I32(12)]);
    assert!(linker.get(&mut store, "lib", "mem").is_some());
    // No `""` or `_start`: the default does nothing.
    let default = linker.get_default(&mut store, "lib").unwrap();
    default.call(&mut store, &[], &mut []).unwrap();
    // A second definition under the name is refused, whole.
    let err = linker
        .module(&mut store, "lib", &counter(&engine, &[]))
        .unwrap_err();
    assert!(err.to_string().contains("defined twice"), "{err}");
}

#[test]
fn a_command_gets_a_fresh_instance_for_each_call() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker
        .module(&mut store, "lib", &counter(&engine, &["_start"]))
        .unwrap();
    let user = linker
        .instantiate(&mut store, &Module::new(&engine, USER).unwrap())
        .unwrap();
    for _ in 0..3 {
        assert_eq!(call(&mut store, &user, "run").unwrap(), [Val::I32(1)]);
    }
    // Only functions are defined; `_start` is the default.
    assert!(linker.get(&mut store, "lib", "mem").is_none());
    let start = linker.get_default(&mut store, "lib").unwrap();
    start.call(&mut store, &[], &mut []).unwrap();
    // A trap in the command's call is the caller's.
    let fail = linker.get(&mut store, "lib", "fail").unwrap();
    let err = fail
        .into_func()
        .unwrap()
        .call(&mut store, &[], &mut [])
        .unwrap_err();
    assert!(err.to_string().contains("unreachable"), "{err}");
}

#[test]
fn a_module_both_command_and_reactor_is_refused() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let err = linker
        .module(
            &mut store,
            "lib",
            &counter(&engine, &["_start", "_initialize"]),
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("neither a command nor a reactor"),
        "{err}"
    );
    assert!(linker.get(&mut store, "lib", "bump").is_none());
    // A default that is not a function is an error.
    let not_func = Module::new(&engine, r#"(module (memory (export "") 1))"#).unwrap();
    linker.module(&mut store, "mem", &not_func).unwrap();
    let err = linker.get_default(&mut store, "mem").unwrap_err();
    assert!(err.to_string().contains("is not a function"), "{err}");
}

#[test]
fn a_commands_imports_are_resolved_when_it_is_defined() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let needs = Module::new(
        &engine,
        r#"(module (import "env" "missing" (func)) (func (export "_start")))"#,
    )
    .unwrap();
    let err = linker.module(&mut store, "cmd", &needs).unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
    assert!(linker.get(&mut store, "cmd", "_start").is_none());
    // `_start` or `_initialize` that is not a function of () -> ().
    for wat in [
        r#"(module (global (export "_start") i32 (i32.const 0)))"#,
        r#"(module (func (export "_initialize") (param i32)))"#,
    ] {
        let module = Module::new(&engine, wat).unwrap();
        let err = linker.module(&mut store, "odd", &module).unwrap_err();
        assert!(
            err.to_string()
                .contains("is not a function of no parameters"),
            "{err}"
        );
    }
}
