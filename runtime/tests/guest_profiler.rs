//! `GuestProfiler`: samples of the Wasm stack, written in the Firefox
//! profiler's format.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use walmart::{Config, Engine, GuestProfiler, Linker, Module, Store, UpdateDeadline};

/// Each sample's stack in `profile` as function names, outermost first,
/// with its weight.
fn stacks(profile: &serde_json::Value) -> Vec<(Vec<String>, i64)> {
    let t = &profile["threads"][0];
    let (samples, st, ft, fun) = (
        &t["samples"],
        &t["stackTable"],
        &t["frameTable"],
        &t["funcTable"],
    );
    let strings = &t["stringArray"];
    let n = samples["length"].as_u64().unwrap() as usize;
    (0..n)
        .map(|i| {
            let mut names = Vec::new();
            let mut at = samples["stack"][i].as_u64();
            while let Some(s) = at {
                let frame = st["frame"][s as usize].as_u64().unwrap() as usize;
                let func = ft["func"][frame].as_u64().unwrap() as usize;
                let name = fun["name"][func].as_u64().unwrap() as usize;
                names.push(strings[name].as_str().unwrap().to_string());
                at = st["prefix"][s as usize].as_u64();
            }
            names.reverse();
            let weight = samples["weight"]
                .get(i)
                .and_then(|w| w.as_i64())
                .unwrap_or(1);
            (names, weight)
        })
        .collect()
}

const RECURSIVE: &str = r#"
(module $counted
  (import "lib" "helper" (func $helper (result i32)))
  (func $down (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (call $helper))
      (else (call $down (i32.sub (local.get 0) (i32.const 1))))))
  (func (export "run") (result i32) (call $down (i32.const 3))))
"#;

const LIBRARY: &str = r#"
(module $lib
  (func (export "helper") (result i32)
    (local $i i32)
    (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1)))
             (br_if $l (i32.lt_u (local.get $i) (i32.const 3))))
    (local.get $i)))
"#;

#[test]
fn samples_hold_the_stack_with_each_modules_functions_named() {
    let mut config = Config::new();
    config.epoch_interruption(true);
    let engine = Engine::new(&config).unwrap();
    let main = Module::new(&engine, RECURSIVE).unwrap();
    let lib = Module::new(&engine, LIBRARY).unwrap();
    let profiler = GuestProfiler::new(
        "app",
        Duration::from_millis(1),
        [
            ("app".to_string(), main.clone()),
            ("util".to_string(), lib.clone()),
        ],
    )
    .unwrap();
    let profiler = Arc::new(Mutex::new(Some(profiler)));
    let mut store = Store::new(&engine, ());
    let feed = profiler.clone();
    // A sample at every check (the deadline stays where the epoch is):
    // no thread, so the samples are the same in every run.
    store.epoch_deadline_callback(move |store| {
        let mut p = feed.lock().unwrap();
        // Three intervals, then one and a half (weights 3 and 2).
        let delta = if p.as_ref().unwrap().samples() == 0 {
            Duration::from_millis(3)
        } else {
            Duration::from_micros(1500)
        };
        p.as_mut().unwrap().sample(&*store, delta);
        Ok(UpdateDeadline::Continue(0))
    });
    store.set_epoch_deadline(0);
    let mut linker = Linker::new(&engine);
    let lib_instance = linker.instantiate(&mut store, &lib).unwrap();
    linker.instance(&mut store, "lib", lib_instance).unwrap();
    let inst = linker.instantiate(&mut store, &main).unwrap();
    let run = inst.get_typed_func::<(), i32>(&mut store, "run").unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), 3);
    let profiler = profiler.lock().unwrap().take().unwrap();
    let mut json = Vec::new();
    profiler.finish(&mut json).unwrap();
    let profile: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(profile["meta"]["product"], "app");
    let samples = stacks(&profile);
    // The entries of `run` (export name: the function has none in the
    // name section), of `down` four times, of `helper`, and its loop's
    // head three times.
    let names: Vec<Vec<&str>> = samples
        .iter()
        .map(|(s, _)| s.iter().map(String::as_str).collect())
        .collect();
    let down = |n: usize| std::iter::repeat_n("down", n);
    let mut expected: Vec<Vec<&str>> = vec![vec!["wasm-function[2]"]];
    for n in 1..=4 {
        expected.push(std::iter::once("wasm-function[2]").chain(down(n)).collect());
    }
    let in_helper: Vec<&str> = std::iter::once("wasm-function[2]")
        .chain(down(4))
        .chain(["util!wasm-function[0]"])
        .collect();
    for _ in 0..4 {
        expected.push(in_helper.clone());
    }
    assert_eq!(names, expected);
    assert_eq!(samples[0].1, 3);
    assert!(samples[1..].iter().all(|(_, w)| *w == 2), "{samples:?}");
}

#[test]
fn a_sample_outside_wasm_is_empty_and_a_zero_interval_is_refused() {
    let engine = Engine::default();
    let module = Module::new(&engine, "(module)").unwrap();
    assert!(GuestProfiler::new("m", Duration::ZERO, [("m".to_string(), module.clone())]).is_err());
    let mut p =
        GuestProfiler::new("m", Duration::from_millis(10), [("m".to_string(), module)]).unwrap();
    let store = Store::new(&engine, ());
    p.sample(&store, Duration::from_millis(10));
    // Time in the host: a `host` frame under the Wasm stack (none here),
    // weighted by its length.
    p.sample_in_host(&store, Duration::from_millis(30));
    let mut json = Vec::new();
    p.finish(&mut json).unwrap();
    let profile: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(
        stacks(&profile),
        vec![(Vec::<String>::new(), 1), (vec!["host".to_string()], 3)]
    );
}
