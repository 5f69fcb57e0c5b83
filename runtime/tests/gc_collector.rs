//! The collector: programs that allocate far more than the GC heap holds
//! run, and what they keep (in locals of frames below, in globals, tables,
//! arrays, exceptions, and the host's handles) survives collections with
//! its contents.

mod common;

use std::sync::{Arc, Mutex};

use walmart::{AnyRef, Config, Engine, Func, FuncType, Linker, Module, Store, Val, ValType};

const WAT: &str = r#"(module
    (type $node (struct (field $v i64) (field $next (ref null $node))))
    (type $bytes (array (mut i8)))
    (type $nodes (array (mut (ref null $node))))
    (tag $e (param (ref null $node)))
    (tag $big (param (ref $bytes)))
    (import "host" "hold" (func $hold (param anyref)))
    (global $kept (mut (ref null $node)) (ref.null $node))
    (global $kept_exn (mut exnref) (ref.null exn))
    (table $t 4 anyref)

    (func $junk (export "junk") (param $k i32) (param $size i32)
        (block $done (loop $l
            (br_if $done (i32.eqz (local.get $k)))
            (drop (array.new_default $bytes (local.get $size)))
            (local.set $k (i32.sub (local.get $k) (i32.const 1)))
            (br $l))))

    ;; n nodes, values n-1 down to 0; k garbage arrays of size bytes after each
    (func $list (export "list") (param $n i32) (param $k i32) (param $size i32)
        (result (ref null $node))
        (local $l (ref null $node)) (local $i i32)
        (block $done (loop $loop
            (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $l (struct.new $node (i64.extend_i32_u (local.get $i)) (local.get $l)))
            (call $junk (local.get $k) (local.get $size))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $loop)))
        (local.get $l))

    (func $sum (param $l (ref null $node)) (result i64)
        (local $s i64)
        (block $done (loop $loop
            (br_if $done (ref.is_null (local.get $l)))
            (local.set $s (i64.add (local.get $s) (struct.get $node $v (local.get $l))))
            (local.set $l (struct.get $node $next (local.get $l)))
            (br $loop)))
        (local.get $s))

    (func (export "sum_any") (param anyref) (result i64)
        (call $sum (ref.cast (ref null $node) (local.get 0))))

    (func (export "churn") (param $n i32) (param $k i32) (param $size i32) (result i64)
        (call $sum (call $list (local.get $n) (local.get $k) (local.get $size))))

    ;; each frame holds its node only in a local across the call below it
    (func $deep (export "deep") (param $d i32) (result i64)
        (local $mine (ref null $node))
        (if (result i64) (i32.eqz (local.get $d))
            (then (i64.const 0))
            (else
                (local.set $mine
                    (struct.new $node (i64.extend_i32_u (local.get $d)) (ref.null $node)))
                (call $junk (i32.const 20) (i32.const 500))
                (i64.add (call $deep (i32.sub (local.get $d) (i32.const 1)))
                         (struct.get $node $v (local.get $mine))))))

    ;; an array of n nodes made between garbage, then summed
    (func (export "array") (param $n i32) (result i64)
        (local $a (ref $nodes)) (local $i i32) (local $s i64)
        (local.set $a (array.new_default $nodes (local.get $n)))
        (block $done (loop $loop
            (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
            (array.set $nodes (local.get $a) (local.get $i)
                (struct.new $node (i64.extend_i32_u (local.get $i)) (ref.null $node)))
            (call $junk (i32.const 5) (i32.const 300))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $loop)))
        (local.set $i (i32.const 0))
        (block $done (loop $loop
            (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $s (i64.add (local.get $s)
                (struct.get $node $v (array.get $nodes (local.get $a) (local.get $i)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $loop)))
        (local.get $s))

    (func (export "keep") (param $n i32)
        (global.set $kept (call $list (local.get $n) (i32.const 0) (i32.const 0))))
    (func (export "kept") (result i64) (call $sum (global.get $kept)))

    (func (export "table_keep") (param $n i32)
        (table.set $t (i32.const 1) (call $list (local.get $n) (i32.const 0) (i32.const 0))))
    (func (export "table_kept") (result i64)
        (call $sum (ref.cast (ref null $node) (table.get $t (i32.const 1)))))

    (func (export "exn_keep") (param $n i32)
        (block $h (result (ref null $node) exnref)
            (try_table (catch_ref $e $h)
                (throw $e (call $list (local.get $n) (i32.const 0) (i32.const 0))))
            (unreachable))
        (global.set $kept_exn)
        (drop))
    (func (export "exn_kept") (result i64)
        (block $h (result (ref null $node))
            (try_table (catch $e $h) (throw_ref (global.get $kept_exn)))
            (unreachable))
        (call $sum))

    ;; an array of size bytes thrown and caught by a plain catch
    (func (export "throw_big") (param $size i32)
        (block $h (result (ref $bytes))
            (try_table (catch $big $h)
                (throw $big (array.new_default $bytes (local.get $size))))
            (unreachable))
        (drop))

    ;; an array of size bytes caught with catch_ref, then dropped
    (func (export "catch_ref_big") (param $size i32)
        (block $h (result (ref $bytes) exnref)
            (try_table (catch_ref $big $h)
                (throw $big (array.new_default $bytes (local.get $size))))
            (unreachable))
        (drop)
        (drop))

    ;; exnrefs to exceptions carrying lists, kept in a struct field, an
    ;; array, a table and another exception's payload
    (type $box (struct (field exnref)))
    (type $exns (array (mut exnref)))
    (tag $wrap (param exnref))
    (global $box (mut (ref null $box)) (ref.null $box))
    (global $exns (mut (ref null $exns)) (ref.null $exns))
    (global $wrapped (mut exnref) (ref.null exn))
    (table $exn_t 2 exnref)
    (func $caught (param $n i32) (result exnref)
        (local $x exnref)
        (block $h (result (ref null $node) exnref)
            (try_table (catch_ref $e $h)
                (throw $e (call $list (local.get $n) (i32.const 0) (i32.const 0))))
            (unreachable))
        (local.set $x)
        (drop)
        (local.get $x))
    (func $wrap (param $x exnref) (result exnref)
        (local $w exnref)
        (block $h (result exnref exnref)
            (try_table (catch_ref $wrap $h) (throw $wrap (local.get $x)))
            (unreachable))
        (local.set $w)
        (drop)
        (local.get $w))
    (func (export "exns_keep")
        (global.set $box (struct.new $box (call $caught (i32.const 2000))))
        (global.set $exns (array.new_fixed $exns 1 (call $caught (i32.const 3000))))
        (table.set $exn_t (i32.const 0) (call $caught (i32.const 4000)))
        (global.set $wrapped (call $wrap (call $caught (i32.const 5000)))))
    (func $sum_of (param $x exnref) (result i64)
        (block $h (result (ref null $node))
            (try_table (catch $e $h) (throw_ref (local.get $x)))
            (unreachable))
        (call $sum))
    (func $unwrap (param $x exnref) (result exnref)
        (block $h (result exnref)
            (try_table (catch $wrap $h) (throw_ref (local.get $x)))
            (unreachable)))
    (func (export "exns_kept") (result i64)
        (i64.add
            (i64.add (call $sum_of (struct.get $box 0 (global.get $box)))
                     (call $sum_of (array.get $exns (global.get $exns) (i32.const 0))))
            (i64.add (call $sum_of (table.get $exn_t (i32.const 0)))
                     (call $sum_of (call $unwrap (global.get $wrapped))))))

    ;; n exceptions carrying an i64 caught by catch_ref and dropped: no
    ;; GC allocation at all
    (tag $num (param i64))
    (func (export "catch_ref_nums") (param $n i32)
        (loop $l
            (block $h (result i64 exnref)
                (try_table (catch_ref $num $h) (throw $num (i64.extend_i32_u (local.get $n))))
                (unreachable))
            (drop)
            (drop)
            (local.tee $n (i32.sub (local.get $n) (i32.const 1)))
            (br_if $l)))

    ;; throws an exception carrying size bytes
    (func (export "throw_away") (param $size i32)
        (throw $big (array.new_default $bytes (local.get $size))))

    (func (export "give") (param $n i32)
        (call $hold (call $list (local.get $n) (i32.const 0) (i32.const 0)))))"#;

/// 0 + 1 + ... + (n - 1).
fn triangle(n: i64) -> i64 {
    n * (n - 1) / 2
}

struct Setup {
    store: Store<()>,
    instance: walmart::Instance,
    held: Arc<Mutex<Option<AnyRef>>>,
}

fn setup(config: &Config) -> Setup {
    let engine = Engine::new(config).unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let held = Arc::new(Mutex::new(None));
    let slot = held.clone();
    let hold = Func::new(
        &mut store,
        FuncType::new([ValType::AnyRef], []),
        move |_, args, _| {
            if let Val::AnyRef(r) = args[0] {
                *slot.lock().unwrap() = r;
            }
            Ok(())
        },
    );
    let mut linker = Linker::new(&engine);
    linker.define(&mut store, "host", "hold", hold).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    Setup {
        store,
        instance,
        held,
    }
}

fn call(s: &mut Setup, name: &str, args: &[Val]) -> walmart::Result<Option<Val>> {
    let f = s.instance.get_func(&mut s.store, name).expect(name);
    let mut out = vec![Val::I32(0); f.ty(&s.store).results().len()];
    f.call(&mut s.store, args, &mut out)?;
    Ok(out.first().copied())
}

fn call_i64(s: &mut Setup, name: &str, args: &[Val]) -> i64 {
    match call(s, name, args).unwrap() {
        Some(Val::I64(v)) => v,
        other => panic!("{name} gave {other:?}"),
    }
}

/// The configurations: a small heap (16 MiB) under `off` and the
/// attestation policies, and the collector run at every new range.
fn configs() -> Vec<(&'static str, Config, i32)> {
    let mut out: Vec<(&'static str, Config, i32)> = common::policy_configs(false)
        .into_iter()
        .map(|(name, mut config)| {
            config.max_gc_heap(16 << 20);
            (name, config, 1)
        })
        .collect();
    let mut stress = Config::new();
    stress.max_gc_heap(16 << 20).gc_stress(true);
    out.push(("stress", stress, 20));
    out
}

#[test]
fn programs_allocating_past_the_heap_limit_keep_what_they_reach() {
    for (name, config, scale) in configs() {
        let mut s = setup(&config);
        let i = |v: i32| Val::I32(v);
        // 20,000 nodes kept in a local, 200 MB of garbage between them.
        let n = 20_000 / scale;
        let got = call_i64(&mut s, "churn", &[i(n), i(10 / scale.min(10)), i(1000)]);
        assert_eq!(got, triangle(n.into()), "{name}: churn");
        // Nodes held only by frames below, 300 deep.
        let d = 300 / scale.min(10);
        let got = call_i64(&mut s, "deep", &[i(d)]);
        assert_eq!(got, triangle(i64::from(d) + 1), "{name}: deep");
        // Nodes held by an array.
        let got = call_i64(&mut s, "array", &[i(5000 / scale)]);
        assert_eq!(got, triangle((5000 / scale).into()), "{name}: array");
        // Kept by a global, a table, an exception, between calls that
        // make garbage.
        call(&mut s, "keep", &[i(1000)]).unwrap();
        call(&mut s, "table_keep", &[i(2000)]).unwrap();
        call(&mut s, "exn_keep", &[i(3000)]).unwrap();
        call(&mut s, "exns_keep", &[]).unwrap();
        for _ in 0..4 {
            call(&mut s, "junk", &[i(20_000 / scale), i(1000)]).unwrap();
        }
        assert_eq!(
            call_i64(&mut s, "kept", &[]),
            triangle(1000),
            "{name}: global"
        );
        assert_eq!(
            call_i64(&mut s, "table_kept", &[]),
            triangle(2000),
            "{name}: table"
        );
        assert_eq!(
            call_i64(&mut s, "exn_kept", &[]),
            triangle(3000),
            "{name}: exception"
        );
        let kept: i64 = [2000, 3000, 4000, 5000].map(triangle).iter().sum();
        assert_eq!(call_i64(&mut s, "exns_kept", &[]), kept, "{name}: exnrefs");
        let stats = s.store.gc_stats();
        assert!(stats.collections > 0, "{name}: {stats:?}");
        assert!(stats.heap_bytes <= 16 << 20, "{name}: {stats:?}");
    }
}

#[test]
fn large_objects_are_collected() {
    let mut config = Config::new();
    config.max_gc_heap(8 << 20);
    let mut s = setup(&config);
    // 400 arrays of 1 MiB each, through a heap of 8 MiB.
    call(&mut s, "junk", &[Val::I32(400), Val::I32(1 << 20)]).unwrap();
    assert!(s.store.gc_stats().heap_bytes <= 8 << 20);
}

/// What an allocation that fails finds after a collection: chunks kept
/// empty for later allocations go back to make room for a large object; a
/// caught exception's payload is no root; instantiation collects first.
#[test]
fn room_freed_is_found_by_whatever_asks_next() {
    let i = Val::I32;
    // Small garbage leaves empty chunks; a large array needs their room.
    let mut config = Config::new();
    config.max_gc_heap(4 << 20);
    let mut s = setup(&config);
    call(&mut s, "junk", &[i(150_000), i(8)]).unwrap();
    call(&mut s, "junk", &[i(3), i(1 << 20)]).unwrap();
    call(&mut s, "junk", &[i(1), i(3 << 20)]).unwrap();

    // A 700 KB exception payload caught and dropped, twice, in 1200 KB.
    let mut config = Config::new();
    config.max_gc_heap(1200 << 10);
    let mut s = setup(&config);
    for _ in 0..3 {
        call(&mut s, "throw_big", &[i(700_000)]).unwrap();
    }
    call(&mut s, "junk", &[i(2), i(700_000)]).unwrap();

    // 200 exceptions carrying 80 KB caught by catch_ref and dropped, in
    // 8 MiB: the records Wasm alone kept are freed, their payloads too.
    let mut config = Config::new();
    config.max_gc_heap(8 << 20);
    let mut s = setup(&config);
    for _ in 0..200 {
        call(&mut s, "catch_ref_big", &[i(80_000)]).unwrap();
    }
    assert!(
        s.store.exceptions_held() < 100,
        "{}",
        s.store.exceptions_held()
    );

    // Records Wasm kept are freed even where nothing allocates GC
    // objects: 300,000 of 32 bytes, a collection every 4 MiB of them.
    let mut s = setup(&Config::new());
    call(&mut s, "catch_ref_nums", &[i(300_000)]).unwrap();
    let held = s.store.exceptions_held();
    assert!(held < 200_000, "{held} records held");

    // An exception a trap abandoned (it unwound into a module without
    // exception handling) keeps nothing: 40 of 400 KB in 4 MiB.
    let mut config = Config::new();
    config.max_gc_heap(4 << 20);
    let mut s = setup(&config);
    let engine = s.store.engine().clone();
    let thrower = s.instance.get_func(&mut s.store, "throw_away").unwrap();
    let plain = Module::new(
        &engine,
        r#"(module (import "m" "throw" (func $t (param i32)))
                   (func (export "f") (call $t (i32.const 400000))))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker.define(&mut s.store, "m", "throw", thrower).unwrap();
    let plain = linker.instantiate(&mut s.store, &plain).unwrap();
    let f = plain.get_func(&mut s.store, "f").unwrap();
    for _ in 0..40 {
        let err = f.call(&mut s.store, &[], &mut []).unwrap_err().to_string();
        assert!(!err.contains("GC heap exhausted"), "{err}");
    }

    // A heap full of garbage no collection has seen yet, then a module
    // whose global is a 16 KiB array.
    let mut config = Config::new();
    config.max_gc_heap(2 << 20);
    let mut s = setup(&config);
    let engine = s.store.engine().clone();
    let constant = Module::new(
        &engine,
        r#"(module (type $a (array i8))
                   (global (export "g") (ref $a) (array.new_default $a (i32.const 16384))))"#,
    )
    .unwrap();
    for _ in 0..3 {
        call(&mut s, "junk", &[i(87_000), i(4)]).unwrap();
        Linker::new(&engine)
            .instantiate(&mut s.store, &constant)
            .unwrap();
    }
}

#[test]
fn the_hosts_handles_keep_their_objects_while_rooted() {
    let mut config = Config::new();
    config.max_gc_heap(16 << 20);
    let mut s = setup(&config);
    let list =
        |s: &mut Setup, n: i32| match call(s, "list", &[Val::I32(n), Val::I32(0), Val::I32(0)]) {
            Ok(Some(Val::AnyRef(Some(r)))) => r,
            other => panic!("list gave {other:?}"),
        };
    let junk = |s: &mut Setup| {
        for _ in 0..4 {
            call(s, "junk", &[Val::I32(20_000), Val::I32(1000)]).unwrap();
        }
    };
    // A handle the embedder got outside any scope lasts.
    let kept = list(&mut s, 500);
    junk(&mut s);
    let got = call(&mut s, "sum_any", &[Val::AnyRef(Some(kept))]).unwrap();
    assert_eq!(got, Some(Val::I64(triangle(500))));

    // One made inside a scope is refused after it, and its object freed.
    let before = s.store.gc_stats().roots;
    let scoped = s.store.gc_scope(|store| {
        let f = s.instance.get_func(&mut *store, "list").unwrap();
        let mut out = [Val::I32(0)];
        let args = [Val::I32(100_000), Val::I32(0), Val::I32(0)];
        f.call(&mut *store, &args, &mut out).unwrap();
        out[0]
    });
    assert_eq!(s.store.gc_stats().roots, before);
    s.store.gc();
    let live = s.store.gc_stats().live_bytes;
    assert!(
        live < 100_000 * 32,
        "the scope's list was freed: {live} bytes live"
    );
    let err = call(&mut s, "sum_any", &[scoped]).unwrap_err().to_string();
    assert!(err.contains("root was released"), "{err}");

    // A host function's parameter is released when it returns.
    call(&mut s, "give", &[Val::I32(10)]).unwrap();
    let given = s.held.lock().unwrap().take().expect("hold was called");
    junk(&mut s);
    let err = call(&mut s, "sum_any", &[Val::AnyRef(Some(given))])
        .unwrap_err()
        .to_string();
    assert!(err.contains("root was released"), "{err}");
    // Equal handles name the same object.
    assert_eq!(kept, kept);
    assert_ne!(kept, given);

    // Typed functions take and give references as `Option<AnyRef>`.
    let list = s
        .instance
        .get_typed_func::<(i32, i32, i32), Option<AnyRef>>(&mut s.store, "list")
        .unwrap();
    let sum = s
        .instance
        .get_typed_func::<Option<AnyRef>, i64>(&mut s.store, "sum_any")
        .unwrap();
    let made = list.call(&mut s.store, (300, 0, 0)).unwrap();
    junk(&mut s);
    assert_eq!(sum.call(&mut s.store, made).unwrap(), triangle(300));
    assert_eq!(sum.call(&mut s.store, None).unwrap(), 0);
}

#[test]
fn what_an_earlier_call_left_on_the_stack_keeps_nothing_alive() {
    // Builds a list of n nodes, then walks it: each call's list is
    // garbage once it returns.
    const LIST: &str = include_str!("wat/gc_list.wat");
    let (mut store, instance) = common::instantiated(&Config::new(), LIST);
    let run = instance
        .get_typed_func::<i32, i32>(&mut store, "run")
        .unwrap();
    let n = 1_000_000;
    let list_bytes = n as usize * 32;
    let mut most = 0;
    for _ in 0..6 {
        run.call(&mut store, n).unwrap();
        most = most.max(store.gc_stats().live_bytes);
    }
    // At most the list being built: none of an earlier call's.
    assert!(store.gc_stats().collections > 3);
    assert!(
        most <= list_bytes,
        "{most} bytes live, a list is {list_bytes}"
    );
}
