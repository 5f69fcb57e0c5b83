//! What exception handling costs, side by side in one run.
//!
//! `cargo run --release -p walmart-benches --bin exceptions [--features wasmtime]`
//!
//! Two workloads, each a module written twice: once using no exception
//! handling and once declaring a tag (which makes walmart test for an
//! exception after every call that may throw):
//!
//! * `calls`: a recursive Fibonacci whose recursion goes through
//!   `call_indirect` (a call that may throw), so the tagged module pays a
//!   test after each of its ~630,000 calls. The untagged module is the
//!   baseline.
//! * `throw`: 20,000 exceptions, each thrown 20 frames deep and caught by
//!   a `try_table` at the top (only the tagged module can have it; the
//!   untagged line is omitted); `throw, legacy try` the same caught by a
//!   legacy `try`/`catch` (walmart only: wasmtime has not the legacy
//!   instructions).
//!
//! Prints the median of `--runs` timed calls (default 9, after one
//! warm-up) for walmart and, with the `wasmtime` feature, for wasmtime
//! (native unwinding, no test after calls), and the ratios.

#[cfg(feature = "wasmtime")]
use walmart_benches::time_wasmtime;
use walmart_benches::{ms, runs_argument, time_walmart, time_walmart_with};

/// Fibonacci of 27 through the table: 635,621 calls.
const FIB_ARG: i32 = 27;
/// Exceptions thrown by `throw`, each `DEPTH` frames down.
const THROWS: i32 = 20_000;
const DEPTH: i32 = 20;

fn calls_module(tagged: bool) -> String {
    format!(
        r#"(module
    {tag}
    (type $f (func (param i32) (result i32)))
    (table 1 funcref)
    (elem (i32.const 0) $fib)
    (func $fib (param $n i32) (result i32)
        (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
            (then (local.get $n))
            (else (i32.add
                (call_indirect (type $f) (i32.sub (local.get $n) (i32.const 1)) (i32.const 0))
                (call_indirect (type $f) (i32.sub (local.get $n) (i32.const 2)) (i32.const 0))))))
    (func (export "run") (param i32) (result i32) (call $fib (local.get 0))))"#,
        tag = if tagged { "(tag $t (param i32))" } else { "" }
    )
}

/// `THROWS` exceptions thrown `DEPTH` frames down, each caught by
/// `catching` around the call (the payload, 1, left on the stack).
fn throw_module(catching: &str) -> String {
    format!(
        r#"(module
    (tag $t (param i32))
    (func $dive (param $n i32)
        (if (i32.eqz (local.get $n)) (then (throw $t (i32.const 1))))
        (call $dive (i32.sub (local.get $n) (i32.const 1))))
    (func (export "run") (param $count i32) (result i32)
        (local $sum i32)
        (loop $next
            {catching}
            (local.set $sum (i32.add (local.get $sum)))
            (local.tee $count (i32.sub (local.get $count) (i32.const 1)))
            (br_if $next))
        (local.get $sum)))"#
    )
}

/// The call to `$dive` inside a `try_table`.
const TRY_TABLE: &str = "(block $h (result i32)
                (try_table (catch $t $h) (call $dive (i32.const DEPTH)))
                (unreachable))";

/// The call to `$dive` inside a legacy `try`.
const LEGACY_TRY: &str = "try (result i32)
                (call $dive (i32.const DEPTH))
                (unreachable)
            catch $t
            end";

fn main() {
    let runs = runs_argument();
    let fib = 196_418; // fib(27)
    let throw = throw_module(TRY_TABLE).replace("DEPTH", &DEPTH.to_string());
    let rows: [(&str, String, i32, i32); 3] = [
        ("calls, no tag", calls_module(false), FIB_ARG, fib),
        ("calls, tagged", calls_module(true), FIB_ARG, fib),
        ("throw", throw, THROWS, THROWS),
    ];
    println!("workload                walmart ms  wasmtime ms  walmart/wasmtime");
    let mut walmart_ms = Vec::new();
    for (name, wat, arg, expect) in &rows {
        let w = time_walmart(wat, *arg, *expect, runs);
        walmart_ms.push(ms(w));
        #[cfg(feature = "wasmtime")]
        {
            let mut config = wasmtime::Config::new();
            config.wasm_exceptions(true);
            let t = time_wasmtime(wat, *arg, *expect, runs, &config);
            println!(
                "{name:<22} {:>11.2} {:>12.2} {:>17.3}",
                ms(w),
                ms(t),
                ms(w) / ms(t)
            );
        }
        #[cfg(not(feature = "wasmtime"))]
        println!("{name:<22} {:>11.2} {:>12} {:>17}", ms(w), "-", "-");
    }
    let legacy = throw_module(LEGACY_TRY).replace("DEPTH", &DEPTH.to_string());
    let mut config = walmart::Config::new();
    config.wasm_legacy_exceptions(true);
    let l = ms(time_walmart_with(&config, &legacy, THROWS, THROWS, runs));
    println!(
        "{:<22} {l:>11.2} {:>12} {:>17}",
        "throw, legacy try", "-", "-"
    );
    println!(
        "walmart's test after each call: tagged/no tag = {:.3}; one exception {DEPTH} frames deep: {:.2} us (legacy try: {:.2} us)",
        walmart_ms[1] / walmart_ms[0],
        walmart_ms[2] * 1e3 / f64::from(THROWS),
        l * 1e3 / f64::from(THROWS)
    );
}
