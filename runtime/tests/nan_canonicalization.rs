//! `Config::cranelift_nan_canonicalization`: every NaN a float operator
//! makes is the canonical one, whatever the CPU and the operands' NaNs.

use walmart::{Config, Engine, Instance, Module, Store, Val};

const WAT: &str = r#"(module
  (func (export "div32") (param f32 f32) (result i32)
    (i32.reinterpret_f32 (f32.div (local.get 0) (local.get 1))))
  (func (export "add32") (param f32 f32) (result i32)
    (i32.reinterpret_f32 (f32.add (local.get 0) (local.get 1))))
  (func (export "sqrt64") (param f64) (result i64)
    (i64.reinterpret_f64 (f64.sqrt (local.get 0))))
  (func (export "mul64") (param f64 f64) (result i64)
    (i64.reinterpret_f64 (f64.mul (local.get 0) (local.get 1))))
  (func (export "add32x4") (param f32) (result i32)
    (i32x4.extract_lane 2
      (i32x4.add (i32x4.splat (i32.const 0))
        (f32x4.add (f32x4.splat (local.get 0)) (f32x4.splat (f32.const 1)))))))"#;

fn setup(canonical: bool) -> (Store<()>, Instance) {
    let mut config = Config::new();
    config.cranelift_nan_canonicalization(canonical);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

fn call(store: &mut Store<()>, instance: &Instance, name: &str, args: &[Val]) -> Val {
    let f = instance.get_func(&mut *store, name).unwrap();
    let mut out = [Val::I32(0)];
    f.call(&mut *store, args, &mut out).unwrap();
    out[0]
}

const CANONICAL_32: i32 = 0x7fc0_0000;
const CANONICAL_64: i64 = 0x7ff8_0000_0000_0000;
/// A quiet NaN with a payload and the sign bit set.
const PAYLOAD_32: u32 = 0xffe0_0001;
const PAYLOAD_64: u64 = 0xfff4_0000_0000_0001;

#[test]
fn every_nan_is_the_canonical_one() {
    let (mut store, instance) = setup(true);
    let mut run = |name: &str, args: &[Val]| call(&mut store, &instance, name, args);
    let zero = Val::F32(0f32.to_bits());
    assert_eq!(run("div32", &[zero, zero]).i32(), Some(CANONICAL_32));
    let payload = Val::F32(PAYLOAD_32);
    assert_eq!(
        run("add32", &[payload, Val::F32(1f32.to_bits())]).i32(),
        Some(CANONICAL_32)
    );
    assert_eq!(
        run("sqrt64", &[Val::F64((-1f64).to_bits())]).i64(),
        Some(CANONICAL_64)
    );
    let payload64 = Val::F64(PAYLOAD_64);
    assert_eq!(
        run("mul64", &[payload64, Val::F64(2f64.to_bits())]).i64(),
        Some(CANONICAL_64)
    );
    assert_eq!(run("add32x4", &[payload]).i32(), Some(CANONICAL_32));
    // Numbers are untouched.
    let (a, b) = (Val::F32(1.5f32.to_bits()), Val::F32(2f32.to_bits()));
    assert_eq!(run("div32", &[a, b]).i32(), Some(0.75f32.to_bits() as i32));
}

#[test]
fn without_it_this_cpus_nans_come_through() {
    // Off (the default), a NaN operand's payload comes through as the CPU
    // propagates it; only the result's being a NaN is certain.
    let (mut store, instance) = setup(false);
    let got = call(
        &mut store,
        &instance,
        "add32",
        &[Val::F32(PAYLOAD_32), Val::F32(1f32.to_bits())],
    )
    .i32()
    .unwrap() as u32;
    assert!(f32::from_bits(got).is_nan());
    #[cfg(target_arch = "x86_64")]
    assert_eq!(got, PAYLOAD_32, "x86-64 propagates the first operand's NaN");
}

#[test]
fn the_setting_is_part_of_a_precompiled_modules_fingerprint() {
    let mut on = Config::new();
    on.cranelift_nan_canonicalization(true);
    let on = Engine::new(&on).unwrap();
    let off = Engine::default();
    let bytes = on.precompile_module(WAT.as_bytes()).unwrap();
    // SAFETY: bytes an engine of this process just wrote.
    let e = unsafe { Module::deserialize(&off, &bytes) }.unwrap_err();
    assert!(e.to_string().contains("nan_canonicalization"), "{e}");
    // SAFETY: as above.
    unsafe { Module::deserialize(&on, &bytes) }.unwrap();
}
