//! Guarded memory against explicit bounds checks, side by side in one run.
//!
//! `cargo run --release -p walmart-benches --bin bounds_checks`
//!
//! Runs the same load/store-heavy module (an in-place stencil and a byte
//! histogram over 4 MiB of linear memory) under both engine configurations,
//! alternating runs to spread machine noise evenly, and prints the median
//! times and their ratio.

use std::time::{Duration, Instant};

use walmart::{Config, Engine, Linker, Module, Store, Val};

const KERNEL: &str = r#"(module
  (memory 80)
  (func (export "init") (local $i i32)
    (loop $l
      (i32.store (local.get $i) (i32.mul (local.get $i) (i32.const 2654435761)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 4194304)))))
  (func (export "run") (param $passes i32) (result i32) (local $i i32) (local $p i32) (local $acc i32)
    (loop $pass
      (local.set $i (i32.const 0))
      (loop $l
        ;; stencil: a[i] = a[i] + 3 * a[i + 4] - a[i + 8] (i32 words)
        (i32.store (local.get $i)
          (i32.sub
            (i32.add (i32.load (local.get $i))
                     (i32.mul (i32.load offset=4 (local.get $i)) (i32.const 3)))
            (i32.load offset=8 (local.get $i))))
        ;; histogram of the low byte into 256 counters past the array
        (i32.store offset=4194320
          (i32.shl (i32.load8_u (local.get $i)) (i32.const 2))
          (i32.add (i32.const 1)
            (i32.load offset=4194320 (i32.shl (i32.load8_u (local.get $i)) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br_if $l (i32.lt_u (local.get $i) (i32.const 4194296))))
      (local.set $acc (i32.xor (local.get $acc) (i32.load (i32.const 1024))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $pass (i32.lt_u (local.get $p) (local.get $passes))))
    (local.get $acc)))"#;

struct Setup {
    store: Store<()>,
    run: walmart::Func,
}

fn setup(guarded: bool) -> Setup {
    let mut config = Config::default();
    config.guarded_memory(guarded);
    let engine = Engine::new(&config).expect("engine");
    let module = Module::new(&engine, KERNEL).expect("kernel compiles");
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .expect("instantiates");
    let init = instance.get_func(&mut store, "init").expect("init");
    init.call(&mut store, &[], &mut []).expect("init runs");
    let run = instance.get_func(&mut store, "run").expect("run");
    Setup { store, run }
}

fn time(s: &mut Setup, passes: i32) -> (Duration, i32) {
    let mut out = [Val::I32(0)];
    let start = Instant::now();
    s.run
        .call(&mut s.store, &[Val::I32(passes)], &mut out)
        .expect("kernel runs");
    (start.elapsed(), out[0].i32().unwrap_or_default())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let passes = 20;
    let rounds = 11;
    let mut guarded = setup(true);
    let mut explicit = setup(false);
    // Warm-up, and a check that both configurations compute the same thing.
    let (_, a) = time(&mut guarded, 1);
    let (_, b) = time(&mut explicit, 1);
    assert_eq!(a, b, "configurations disagree");
    let (mut g, mut e) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        g.push(time(&mut guarded, passes).0);
        e.push(time(&mut explicit, passes).0);
    }
    let (g, e) = (median(g), median(e));
    println!("workload: stencil + histogram, 4 MiB, {passes} passes, median of {rounds}");
    println!(
        "guarded memory (no checks): {:>9.2} ms",
        g.as_secs_f64() * 1e3
    );
    println!(
        "explicit bounds checks:     {:>9.2} ms",
        e.as_secs_f64() * 1e3
    );
    println!(
        "ratio guarded/explicit:     {:>9.3}",
        g.as_secs_f64() / e.as_secs_f64()
    );
}
