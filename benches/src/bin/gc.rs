//! What GC's objects cost, side by side with wasmtime in one run.
//!
//! `cargo run --release -p walmart-benches --bin gc [--features wasmtime] [-- --runs N]`
//!
//! Four workloads, each one exported `run(n)`:
//!
//! * `list`: builds a linked list of `n` structs (`struct.new` of an `i32`
//!   and a reference to the previous one), then walks it summing the
//!   `i32`s: allocation and `struct.get`.
//! * `churn`: `n` structs that die young: each goes into a ring of 1024
//!   slots, replacing the one made 1024 allocations before, and its
//!   `i32` is summed: allocation and collection of short-lived objects.
//! * `array`: an array of `n` `i32`s (`array.new`), written and read back
//!   element by element: `array.set`/`array.get` with their bounds
//!   checks.
//! * `casts`: `n` rounds of `ref.cast` of an `anyref` to a non-final
//!   struct type whose object is of a declared subtype (the cast that
//!   needs the subtype chain), and of `ref.test` against `i31`.
//!
//! Prints the median of `--runs` timed calls (default 9, after one
//! warm-up) for walmart and, with the `wasmtime` feature, for wasmtime
//! (its default collector), and the ratios. Both collect as they go: the
//! runs share one store each.

#[cfg(feature = "wasmtime")]
use walmart_benches::time_wasmtime;
use walmart_benches::{ms, runs_argument, time_walmart};

const N: i32 = 1_000_000;

const LIST: &str = include_str!("../../../runtime/tests/wat/gc_list.wat");

const CHURN: &str = r#"(module
    (type $node (struct (field i32) (field (ref null $node))))
    (type $ring (array (mut (ref null $node))))
    (func (export "run") (param $n i32) (result i32)
        (local $ring (ref $ring)) (local $node (ref $node)) (local $i i32) (local $sum i32)
        (local.set $ring (array.new_default $ring (i32.const 1024)))
        (loop $next
            (local.set $node (struct.new $node (local.get $i) (ref.null $node)))
            (array.set $ring (local.get $ring) (i32.and (local.get $i) (i32.const 1023))
                (local.get $node))
            (local.set $sum (i32.add (local.get $sum) (struct.get $node 0 (local.get $node))))
            (local.tee $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $next (i32.lt_u (local.get $n))))
        (local.get $sum)))"#;

const ARRAY: &str = r#"(module
    (type $a (array (mut i32)))
    (func (export "run") (param $n i32) (result i32)
        (local $arr (ref $a)) (local $i i32) (local $sum i32)
        (local.set $arr (array.new $a (i32.const 0) (local.get $n)))
        (loop $fill
            (array.set $a (local.get $arr) (local.get $i) (local.get $i))
            (local.tee $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $fill (i32.lt_u (local.get $n))))
        (local.set $i (i32.const 0))
        (loop $read
            (local.set $sum (i32.add (local.get $sum)
                (array.get $a (local.get $arr) (local.get $i))))
            (local.tee $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $read (i32.lt_u (local.get $n))))
        (local.get $sum)))"#;

const CASTS: &str = r#"(module
    (type $base (sub (struct (field i32))))
    (type $derived (sub $base (struct (field i32) (field i32))))
    (func (export "run") (param $n i32) (result i32)
        (local $x anyref) (local $i i32) (local $sum i32)
        (local.set $x (struct.new $derived (i32.const 1) (i32.const 2)))
        (loop $next
            (local.set $sum (i32.add (local.get $sum)
                (i32.add (struct.get $base 0 (ref.cast (ref $base) (local.get $x)))
                         (ref.test (ref i31) (local.get $x)))))
            (local.tee $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $next (i32.lt_u (local.get $n))))
        (local.get $sum)))"#;

fn main() {
    let runs = runs_argument();
    // Sums of 0..N wrap in i32.
    let sum = (0..N).fold(0i32, |s, i| s.wrapping_add(i));
    let rows: [(&str, &str, i32); 4] = [
        ("list", LIST, sum),
        ("churn", CHURN, sum),
        ("array", ARRAY, sum),
        ("casts", CASTS, N),
    ];
    println!("workload   walmart ms  wasmtime ms  walmart/wasmtime");
    for (name, wat, expect) in rows {
        let w = time_walmart(wat, N, expect, runs);
        #[cfg(feature = "wasmtime")]
        {
            let mut config = wasmtime::Config::new();
            config.wasm_gc(true).wasm_function_references(true);
            let t = time_wasmtime(wat, N, expect, runs, &config);
            println!(
                "{name:<9} {:>11.2} {:>12.2} {:>17.3}",
                ms(w),
                ms(t),
                ms(w) / ms(t)
            );
        }
        #[cfg(not(feature = "wasmtime"))]
        println!("{name:<9} {:>11.2} {:>12} {:>17}", ms(w), "-", "-");
    }
}
