//! What a call from Wasm to a host function costs, side by side in one
//! run: a loop of 1,000,000 calls to a host function that adds one, made
//! with `Linker::func_wrap` (a typed closure) and with `Linker::func_new`
//! (over `Val`s).
//!
//! `cargo run --release -p walmart-benches --bin host_calls [--features wasmtime] [-- --runs N]`
//!
//! Prints the median of `--runs` timed calls (default 9, after one
//! warm-up) in nanoseconds per host call, for walmart and, with the
//! `wasmtime` feature, for wasmtime.

use std::time::Duration;

#[cfg(feature = "wasmtime")]
use walmart_benches::time_wasmtime_linked;
use walmart_benches::{die, runs_argument, time_walmart_linked};

/// Host calls per timed run.
const CALLS: i32 = 1_000_000;

const WAT: &str = r#"(module
    (import "env" "inc" (func $inc (param i32) (result i32)))
    (func (export "run") (param $n i32) (result i32)
        (local $acc i32)
        (loop $l
            (local.set $acc (call $inc (local.get $acc)))
            (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
        (local.get $acc)))"#;

/// walmart, the host function made by `typed` (func_wrap) or not.
fn walmart(typed: bool, runs: usize) -> Duration {
    use walmart::{Config, FuncType, Val, ValType};
    time_walmart_linked(&Config::new(), WAT, CALLS, CALLS, runs, |linker| {
        if typed {
            linker.func_wrap("env", "inc", |x: i32| x.wrapping_add(1))
        } else {
            linker.func_new(
                "env",
                "inc",
                FuncType::new([ValType::I32], [ValType::I32]),
                |_, params, results| {
                    results[0] = Val::I32(params[0].i32().unwrap_or_default().wrapping_add(1));
                    Ok(())
                },
            )
        }
        .unwrap_or_else(|e| die(&e.to_string()));
    })
}

/// wasmtime, the same.
#[cfg(feature = "wasmtime")]
fn wasmtime(typed: bool, runs: usize) -> Duration {
    use wasmtime::{Config, FuncType, Val, ValType};
    let config = Config::new();
    time_wasmtime_linked(WAT, CALLS, CALLS, runs, &config, |linker| {
        if typed {
            linker.func_wrap("env", "inc", |x: i32| x.wrapping_add(1))
        } else {
            let ty = FuncType::new(linker.engine(), [ValType::I32], [ValType::I32]);
            linker.func_new("env", "inc", ty, |_, params, results| {
                results[0] = Val::I32(params[0].unwrap_i32().wrapping_add(1));
                Ok(())
            })
        }
        .map(|_| ())
        .unwrap_or_else(|e| die(&e.to_string()));
    })
}

fn ns_per_call(d: Duration) -> f64 {
    d.as_secs_f64() * 1e9 / f64::from(CALLS)
}

fn main() {
    let runs = runs_argument();
    println!(
        "{:<10} {:>12} {:>12} {:>8}",
        "host fn", "walmart ns", "wasmtime ns", "ratio"
    );
    for (name, typed) in [("func_wrap", true), ("func_new", false)] {
        let w = ns_per_call(walmart(typed, runs));
        #[cfg(feature = "wasmtime")]
        {
            let wt = ns_per_call(wasmtime(typed, runs));
            println!("{name:<10} {w:>12.1} {wt:>12.1} {:>8.2}", w / wt);
        }
        #[cfg(not(feature = "wasmtime"))]
        println!("{name:<10} {w:>12.1} {:>12} {:>8}", "-", "-");
    }
}
