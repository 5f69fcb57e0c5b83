//! SIMD against scalar code for the same kernels, side by side in one run.
//!
//! `cargo run --release -p walmart-benches --bin simd`
//!
//! Two kernels over 4 MiB buffers, each written once with v128 operators
//! and once with scalar ones: an image "brighten" (saturating u8 add, then
//! a 3-tap horizontal box blur) and an f32 dot product. Prints medians and
//! the SIMD/scalar ratio. Then the same for a C program
//! (`benches/fixtures/filter.c`: box blur + float matrix multiply) built
//! with and without `-msimd128`, run as a WASI command.

use std::time::{Duration, Instant};

use walmart::wasi::{self, WasiCtx};
use walmart::{Engine, Linker, Module, Store, Val};

const N: i32 = 4 << 20;

/// The memory and its initialiser, shared by both versions so they start
/// from the same data.
const INIT: &str = r#"  (memory 200)
  (func (export "init") (local $i i32)
    (loop $l
      (i32.store8 (local.get $i) (i32.mul (local.get $i) (i32.const 37)))
      (f32.store offset=8388608 (i32.shl (i32.and (local.get $i) (i32.const 0xfffff)) (i32.const 2))
        (f32.convert_i32_u (i32.and (local.get $i) (i32.const 255))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 4194304)))))"#;

/// Scalar kernels; `load` puts them after `INIT`.
const SCALAR: &str = r#"
  (func (export "image") (result i32) (local $i i32) (local $v i32) (local $acc i32)
    (loop $l
      (local.set $v (i32.add (i32.load8_u (local.get $i)) (i32.const 40)))
      (if (i32.gt_u (local.get $v) (i32.const 255)) (then (local.set $v (i32.const 255))))
      (i32.store8 offset=4194304 (local.get $i) (local.get $v))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 4194304))))
    (local.set $i (i32.const 0))
    (loop $b
      (i32.store8 (local.get $i)
        (i32.div_u
          (i32.add (i32.add (i32.load8_u offset=4194304 (local.get $i))
                            (i32.load8_u offset=4194305 (local.get $i)))
                   (i32.load8_u offset=4194306 (local.get $i)))
          (i32.const 3)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $b (i32.lt_u (local.get $i) (i32.const 4194288))))
    (i32.load (i32.const 4096)))
  (func (export "dot") (result f32) (local $i i32) (local $acc f32)
    (loop $l
      (local.set $acc (f32.add (local.get $acc)
        (f32.mul (f32.load offset=8388608 (local.get $i)) (f32.load offset=8388612 (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 4194296))))
    (local.get $acc)))"#;

/// SIMD kernels; `load` puts them after `INIT`.
const SIMD: &str = r#"
  (func (export "image") (result i32) (local $i i32) (local $lo v128) (local $hi v128)
    (loop $l
      (v128.store offset=4194304 (local.get $i)
        (i8x16.add_sat_u (v128.load (local.get $i)) (i8x16.splat (i32.const 40))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 4194304))))
    (local.set $i (i32.const 0))
    (loop $b
      ;; widen to u16 lanes, sum three shifted loads, divide by 3 as (x * 21846) >> 16
      (local.set $lo (i16x8.add (i16x8.add
          (v128.load8x8_u offset=4194304 (local.get $i))
          (v128.load8x8_u offset=4194305 (local.get $i)))
          (v128.load8x8_u offset=4194306 (local.get $i))))
      (local.set $hi (i16x8.add (i16x8.add
          (v128.load8x8_u offset=4194312 (local.get $i))
          (v128.load8x8_u offset=4194313 (local.get $i)))
          (v128.load8x8_u offset=4194314 (local.get $i))))
      (local.set $lo (i32x4.shr_u (i32x4.extmul_low_i16x8_u (local.get $lo) (i16x8.splat (i32.const 21846))) (i32.const 16)))
      (v128.store (local.get $i)
        (i8x16.narrow_i16x8_u
          (i16x8.narrow_i32x4_u
            (local.get $lo)
            (i32x4.shr_u (i32x4.extmul_high_i16x8_u
              (i16x8.add (i16x8.add
                (v128.load8x8_u offset=4194304 (local.get $i))
                (v128.load8x8_u offset=4194305 (local.get $i)))
                (v128.load8x8_u offset=4194306 (local.get $i)))
              (i16x8.splat (i32.const 21846))) (i32.const 16)))
          (i16x8.narrow_i32x4_u
            (i32x4.shr_u (i32x4.extmul_low_i16x8_u (local.get $hi) (i16x8.splat (i32.const 21846))) (i32.const 16))
            (i32x4.shr_u (i32x4.extmul_high_i16x8_u (local.get $hi) (i16x8.splat (i32.const 21846))) (i32.const 16)))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br_if $b (i32.lt_u (local.get $i) (i32.const 4194288))))
    (i32.load (i32.const 4096)))
  (func (export "dot") (result f32) (local $i i32) (local $acc v128)
    (loop $l
      (local.set $acc (f32x4.add (local.get $acc)
        (f32x4.mul (v128.load offset=8388608 (local.get $i)) (v128.load offset=8388612 (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 4194288))))
    (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
             (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc))))))"#;

struct Kernels {
    store: Store<()>,
    image: walmart::Func,
    dot: walmart::Func,
}

/// Compiles `kernels` (function definitions followed by the module's
/// closing parenthesis) after the shared memory and initialiser.
fn load(engine: &Engine, kernels: &str) -> Kernels {
    let wat = format!("(module\n{INIT}\n{kernels}");
    let module = Module::new(engine, wat).expect("kernel compiles");
    let mut store = Store::new(engine, ());
    let inst = Linker::new(engine)
        .instantiate(&mut store, &module)
        .expect("instantiates");
    let init = inst.get_func(&mut store, "init").expect("init");
    init.call(&mut store, &[], &mut []).expect("init runs");
    let image = inst.get_func(&mut store, "image").expect("image");
    let dot = inst.get_func(&mut store, "dot").expect("dot");
    Kernels { store, image, dot }
}

fn time(k: &mut Kernels, image: bool) -> Duration {
    let f = if image { k.image } else { k.dot };
    let mut out = [Val::default_for(f.ty(&k.store).results()[0])];
    let start = Instant::now();
    f.call(&mut k.store, &[], &mut out).expect("kernel runs");
    start.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let engine = Engine::default();
    let mut scalar = load(&engine, SCALAR);
    let mut simd = load(&engine, SIMD);
    let rounds = 11;
    println!(
        "kernel      scalar ms   simd ms   simd/scalar   ({} MiB, median of {rounds})",
        N >> 20
    );
    let mut ratios = Vec::new();
    for (name, image) in [("image", true), ("dot f32", false)] {
        time(&mut scalar, image);
        time(&mut simd, image);
        let (mut s, mut v) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            s.push(time(&mut scalar, image));
            v.push(time(&mut simd, image));
        }
        let (s, v) = (median(s).as_secs_f64() * 1e3, median(v).as_secs_f64() * 1e3);
        ratios.push(v / s);
        println!("{name:<10} {s:>10.2} {v:>9.2} {:>13.3}", v / s);
    }
    let geo = ratios
        .iter()
        .product::<f64>()
        .powf(1.0 / ratios.len() as f64);
    println!("geometric mean simd/scalar (WAT kernels): {geo:.3}");

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let scalar =
        Module::from_file(&engine, dir.join("filter_scalar.wasm")).expect("filter_scalar.wasm");
    let simd = Module::from_file(&engine, dir.join("filter_simd.wasm")).expect("filter_simd.wasm");
    let (mut s, mut v) = (Vec::new(), Vec::new());
    for round in 0..6 {
        let ts = run_command(&engine, &scalar);
        let tv = run_command(&engine, &simd);
        if round > 0 {
            s.push(ts);
            v.push(tv);
        }
    }
    let (s, v) = (median(s).as_secs_f64() * 1e3, median(v).as_secs_f64() * 1e3);
    println!(
        "C filter.c  scalar {s:.1} ms  -msimd128 {v:.1} ms  simd/scalar {:.3}",
        v / s
    );
}

/// Instantiates and runs a WASI command with its output discarded.
fn run_command(engine: &Engine, module: &Module) -> Duration {
    let mut ctx = WasiCtx::new();
    ctx.args(["filter"]);
    ctx.redirect(1, std::fs::File::create("/dev/null").expect("/dev/null"));
    let mut store = Store::new(engine, ctx);
    let mut linker = Linker::new(engine);
    wasi::add_to_linker(&mut linker, |c| c).expect("wasi");
    let start = Instant::now();
    let instance = linker
        .instantiate(&mut store, module)
        .expect("instantiates");
    let main = instance.get_func(&mut store, "_start").expect("_start");
    main.call(&mut store, &[], &mut []).expect("runs");
    start.elapsed()
}
