//! Wasm coredumps (`Config::coredump_on_trap`): a trap carries its store's
//! memories, globals and frames, written in the tool conventions' format.

use walmart::{Config, Engine, Instance, Module, Store, Val};

const WAT: &str = r#"(module $dumped
  (memory (export "m") 2)
  (data (i32.const 100) "hello")
  (global $g (mut i32) (i32.const 0))
  (global $f f64 (f64.const 2.5))
  (func $inner (param i32)
    (global.set $g (local.get 0))
    (i32.store8 (i32.const 70000) (i32.const 7))
    unreachable)
  (func (export "run") (param i32)
    (call $inner (local.get 0))))"#;

fn trap(coredump: bool) -> walmart::Error {
    let mut config = Config::new();
    config.coredump_on_trap(coredump);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let run = instance.get_func(&mut store, "run").unwrap();
    run.call(&mut store, &[Val::I32(42)], &mut []).unwrap_err()
}

#[test]
fn a_trap_carries_its_stores_snapshot() {
    let err = trap(true);
    let dump = err.trap().unwrap().coredump().expect("a coredump");
    // $inner (function 0) at its `unreachable`, then `run` (1) at the call.
    let frames = dump.frames();
    assert_eq!(frames.len(), 2, "{frames:?}");
    assert_eq!((frames[0].0, frames[0].1), (0, 0));
    assert_eq!((frames[1].0, frames[1].1), (0, 1));
    assert!(frames[0].2 > 0 && frames[1].2 > 0, "{frames:?}");
    // A summary in Debug, not the memory.
    assert!(format!("{err:?}").len() < 2_000);
    let memory: Vec<Vec<u8>> = dump.memories().collect();
    assert_eq!(memory.len(), 1);
    assert_eq!(&memory[0][100..105], b"hello");
    assert_eq!(memory[0][70000], 7);
    assert_eq!(memory[0].len(), 2 * 65536);
}

#[test]
fn without_the_option_there_is_none() {
    assert!(trap(false).trap().unwrap().coredump().is_none());
}

#[test]
fn the_file_is_a_wasm_coredump() {
    let err = trap(true);
    let bytes = err
        .trap()
        .unwrap()
        .coredump()
        .unwrap()
        .serialize("prog.wasm");
    // A well-formed module whose parts a debugger reads.
    let mut features = wasmparser::WasmFeatures::all();
    features.remove(wasmparser::WasmFeatures::SHARED_EVERYTHING_THREADS);
    wasmparser::Validator::new_with_features(features)
        .validate_all(&bytes)
        .unwrap();
    let mut customs = Vec::new();
    let mut globals = Vec::new();
    let mut segments = Vec::new();
    let mut memories = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
        match payload.unwrap() {
            wasmparser::Payload::CustomSection(c) => {
                customs.push(c.name().to_string());
                match c.as_known() {
                    wasmparser::KnownCustom::CoreDump(core) => assert_eq!(core.name, "prog.wasm"),
                    wasmparser::KnownCustom::CoreDumpStack(stack) => {
                        assert_eq!(stack.frames.len(), 2);
                        assert_eq!(stack.frames[0].funcidx, 0);
                        assert_eq!(stack.frames[1].funcidx, 1);
                    }
                    wasmparser::KnownCustom::CoreDumpModules(m) => {
                        assert_eq!(m.modules, ["dumped"]);
                    }
                    wasmparser::KnownCustom::CoreDumpInstances(i) => {
                        assert_eq!(i.instances.len(), 1);
                        assert_eq!(i.instances[0].memories, [0]);
                        assert_eq!(i.instances[0].globals, [0, 1]);
                    }
                    _ => {}
                }
            }
            wasmparser::Payload::MemorySection(r) => {
                memories.extend(r.into_iter().map(|m| m.unwrap().initial));
            }
            wasmparser::Payload::GlobalSection(r) => {
                for g in r {
                    let g = g.unwrap();
                    let op = g.init_expr.get_operators_reader().read().unwrap();
                    globals.push(format!("{op:?}"));
                }
            }
            wasmparser::Payload::DataSection(r) => {
                for d in r {
                    let d = d.unwrap();
                    segments.push(d.data.len());
                }
            }
            _ => {}
        }
    }
    assert_eq!(
        customs,
        ["core", "coremodules", "coreinstances", "corestack"]
    );
    assert_eq!(memories, [2]);
    assert_eq!(globals.len(), 2);
    assert!(globals[0].contains("42"), "{globals:?}");
    // Only the pages written: the one with "hello", the one with the 7.
    assert_eq!(segments, [4096, 4096]);
}

#[test]
fn frames_are_in_the_latest_instance_of_their_module() {
    let mut config = Config::new();
    config.coredump_on_trap(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    Instance::new(&mut store, &module, &[]).unwrap();
    let second = Instance::new(&mut store, &module, &[]).unwrap();
    let run = second.get_func(&mut store, "run").unwrap();
    let err = run.call(&mut store, &[Val::I32(9)], &mut []).unwrap_err();
    let dump = err.trap().unwrap().coredump().unwrap();
    assert!(
        dump.frames().iter().all(|f| f.0 == 1),
        "{:?}",
        dump.frames()
    );
    // Its memory is the second one the store made: written there.
    let memories: Vec<Vec<u8>> = dump.memories().collect();
    assert_eq!((memories[0][70000], memories[1][70000]), (0, 7));
}
