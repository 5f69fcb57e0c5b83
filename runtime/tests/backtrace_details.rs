//! Source positions in backtraces, from the DWARF line tables a module
//! built with `clang -g` carries (`tests/fixtures/c/trap_debug.wasm`:
//! `trap.c` built with debug information, whose `divide` divides by zero
//! when called with no arguments).

use walmart::wasi::{self, WasiCtx};
use walmart::{Config, Engine, Linker, Module, Store, WasmBacktraceDetails};

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/c")
        .join(name);
    std::fs::read(path).unwrap()
}

/// The error `_start` of `module` ends with.
fn run(engine: &Engine, module: &Module) -> walmart::Error {
    let mut linker = Linker::new(engine);
    wasi::add_to_linker(&mut linker, |c: &mut WasiCtx| c).unwrap();
    let mut ctx = WasiCtx::new();
    ctx.args(["trap"]);
    let mut store = Store::new(engine, ctx);
    let instance = linker.instantiate(&mut store, module).unwrap();
    let start = instance.get_func(&mut store, "_start").unwrap();
    start.call(&mut store, &[], &mut []).unwrap_err()
}

fn engine(details: WasmBacktraceDetails) -> Engine {
    let mut config = Config::new();
    config.wasm_backtrace_details(details);
    Engine::new(&config).unwrap()
}

#[test]
fn frames_name_their_file_and_line() {
    let engine = engine(WasmBacktraceDetails::Enable);
    let module = Module::new(&engine, fixture("trap_debug.wasm")).unwrap();
    let err = run(&engine, &module);
    let trap = err.trap().expect("a trap");
    let located: Vec<(String, u32)> = trap
        .frames()
        .iter()
        .filter_map(|f| f.source_location())
        .map(|at| (at.file, at.line))
        .collect();
    // divide (line 3) where it traps, compute (4) that called it, main (5):
    // the columns pin the address base (the division, and the calls).
    let ours: Vec<(u32, u32)> = trap
        .frames()
        .iter()
        .filter_map(|f| f.source_location())
        .filter(|at| at.file.ends_with("/trap.c"))
        .map(|at| (at.line, at.column))
        .collect();
    assert_eq!(ours, [(3, 63), (4, 55), (5, 50)], "{located:?}");
    // Debug output names the sections, never prints them.
    assert!(format!("{err:?}").len() < 20_000);
    let text = err.to_string();
    assert!(text.contains("trap.c:3:"), "{text}");
    let first_at = text.lines().nth(3).unwrap();
    assert!(
        first_at.starts_with("                    at ") && first_at.contains("trap.c:3:"),
        "{text}"
    );
}

#[test]
fn details_can_be_switched_off() {
    let engine = engine(WasmBacktraceDetails::Disable);
    let module = Module::new(&engine, fixture("trap_debug.wasm")).unwrap();
    let err = run(&engine, &module);
    let trap = err.trap().expect("a trap");
    assert!(trap.frames().iter().all(|f| f.source_location().is_none()));
    assert!(!err.to_string().contains(" at "), "{err}");
}

#[test]
fn precompiled_modules_keep_their_line_tables() {
    let engine = engine(WasmBacktraceDetails::Enable);
    let bytes = engine
        .precompile_module(&fixture("trap_debug.wasm"))
        .unwrap();
    // SAFETY: bytes this engine just wrote.
    let module = unsafe { Module::deserialize(&engine, &bytes) }.unwrap();
    let err = run(&engine, &module);
    assert!(err.to_string().contains("trap.c:4:"), "{err}");
}

#[test]
fn modules_without_debug_information_or_with_bad_line_tables_trap_as_before() {
    let engine = engine(WasmBacktraceDetails::Enable);
    let plain = Module::new(&engine, fixture("trap.wasm")).unwrap();
    let err = run(&engine, &plain);
    assert!(!err.to_string().contains(" at "), "{err}");
    // A `.debug_line` of garbage, and one of a line program cut short.
    for section in [r#""\ff\ff\ff\ff\00\01""#, r#""\20\00\00\00\05\00\04\08""#] {
        let wat = format!(
            r#"(module (@custom ".debug_line" {section})
                (func (export "f") (result i32) (i32.div_s (i32.const 1) (i32.const 0))))"#
        );
        let module = Module::new(&engine, wat).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = walmart::Instance::new(&mut store, &module, &[]).unwrap();
        let f = instance.get_func(&mut store, "f").unwrap();
        let mut out = [walmart::Val::I32(0)];
        let err = f.call(&mut store, &[], &mut out).unwrap_err();
        let trap = err.trap().expect("a trap");
        assert!(trap.frames()[0].source_location().is_none());
        assert!(err.to_string().contains("integer divide by zero"), "{err}");
    }
}

/// The contents' range of custom section `name` in `wasm`.
fn custom_section(wasm: &[u8], name: &str) -> std::ops::Range<usize> {
    let leb = |at: &mut usize| {
        let (mut n, mut shift) = (0usize, 0);
        loop {
            let b = wasm[*at];
            *at += 1;
            n |= ((b & 0x7f) as usize) << shift;
            shift += 7;
            if b < 0x80 {
                return n;
            }
        }
    };
    let mut at = 8;
    while at < wasm.len() {
        let id = wasm[at];
        at += 1;
        let size = leb(&mut at);
        let end = at + size;
        if id == 0 {
            let mut p = at;
            let len = leb(&mut p);
            if &wasm[p..p + len] == name.as_bytes() {
                return p + len..end;
            }
        }
        at = end;
    }
    panic!("no section {name}");
}

#[test]
fn damaged_dwarf_gives_no_positions_and_no_panic() {
    let engine = engine(WasmBacktraceDetails::Enable);
    let original = fixture("trap_debug.wasm");
    let mut located = 0;
    for section in [".debug_line", ".debug_info", ".debug_abbrev", ".debug_str"] {
        let range = custom_section(&original, section);
        // Runs of one byte over the start, the middle and the end of the
        // section, and the whole of it.
        let len = range.len();
        for (from, n) in [
            (0, 16),
            (len / 2, 64),
            (len.saturating_sub(32), 32),
            (0, len),
        ] {
            for fill in [0x00, 0xff, 0x7f] {
                let mut wasm = original.clone();
                let at = range.start + from;
                wasm[at..at + n.min(len - from)].fill(fill);
                let module = Module::new(&engine, &wasm).unwrap();
                let err = run(&engine, &module);
                let text = err.to_string();
                assert!(text.contains("integer divide by zero"), "{text}");
                located += text.contains("trap.c:3:63") as usize;
            }
        }
    }
    // Damage somewhere else than the unit of trap.c leaves its positions.
    assert!(located > 0);
}
