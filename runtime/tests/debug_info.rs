//! `Config::debug_info`: compiled functions listed for native debuggers
//! through the GDB JIT interface.

use std::process::Command;

use walmart::{Config, Engine, Instance, Module, Store, WasmBacktraceDetails};

#[repr(C)]
struct JitCodeEntry {
    next: *const JitCodeEntry,
    prev: *const JitCodeEntry,
    symfile_addr: *const u8,
    symfile_size: u64,
}

#[repr(C)]
struct JitDescriptor {
    version: u32,
    action_flag: u32,
    relevant_entry: *const JitCodeEntry,
    first_entry: *const JitCodeEntry,
}

extern "C" {
    // The interface's list, as a debugger reads it.
    static __jit_debug_descriptor: JitDescriptor;
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// The function symbols (name, address, size) of an ELF64 file, read
/// from its section headers as a debugger reads them.
fn symbols(elf: &[u8]) -> Vec<(String, u64, u64)> {
    assert_eq!(&elf[..7], &[0x7f, b'E', b'L', b'F', 2, 1, 1]);
    // An executable of this machine: its addresses are where the code is.
    assert_eq!(u16_at(elf, 16), 2, "ET_EXEC");
    if cfg!(target_arch = "x86_64") {
        assert_eq!(u16_at(elf, 18), 62);
    }
    let (shoff, shentsize, shnum, shstrndx) = (
        u64_at(elf, 40) as usize,
        u16_at(elf, 58) as usize,
        u16_at(elf, 60) as usize,
        u16_at(elf, 62) as usize,
    );
    assert_eq!(shentsize, 64);
    let section = |i: usize| &elf[shoff + i * shentsize..shoff + (i + 1) * shentsize];
    let names = section(shstrndx);
    let names = &elf[u64_at(names, 24) as usize..][..u64_at(names, 32) as usize];
    let name_of = |s: &[u8]| {
        let at = u32_at(s, 0) as usize;
        let end = names[at..].iter().position(|&c| c == 0).unwrap();
        String::from_utf8(names[at..at + end].to_vec()).unwrap()
    };
    // `.text`: no bytes in the file (the debugger reads the process's),
    // allocated and executable, at the code.
    let text = (0..shnum)
        .map(section)
        .find(|s| name_of(s) == ".text")
        .expect("a .text section");
    assert_eq!(
        (u32_at(text, 4), u64_at(text, 8)),
        (8, 6),
        "NOBITS, ALLOC | EXECINSTR"
    );
    let (text_start, text_end) = (u64_at(text, 16), u64_at(text, 16) + u64_at(text, 32));
    let mut out = Vec::new();
    for i in 0..shnum {
        let s = section(i);
        if u32_at(s, 4) != 2 {
            continue; // not SHT_SYMTAB
        }
        let (off, size, link, entsize) = (
            u64_at(s, 24) as usize,
            u64_at(s, 32) as usize,
            u32_at(s, 40) as usize,
            u64_at(s, 56) as usize,
        );
        let strtab = section(link);
        let strs = &elf[u64_at(strtab, 24) as usize..][..u64_at(strtab, 32) as usize];
        for sym in elf[off..off + size].chunks(entsize).skip(1) {
            let name_at = u32_at(sym, 0) as usize;
            let end = strs[name_at..].iter().position(|&c| c == 0).unwrap();
            let name = String::from_utf8(strs[name_at..name_at + end].to_vec()).unwrap();
            assert_eq!(sym[4], 0x12, "{name}: a global function");
            assert_eq!(u16_at(sym, 6), 1, "{name}: in .text");
            let (addr, size) = (u64_at(sym, 8), u64_at(sym, 16));
            assert!(addr >= text_start && addr + size <= text_end, "{name}");
            out.push((name, addr, size));
        }
    }
    out
}

/// The names of an ELF64 file's sections that hold bytes.
fn sections_with_bytes(elf: &[u8]) -> Vec<String> {
    let (shoff, shnum, shstrndx) = (
        u64_at(elf, 40) as usize,
        u16_at(elf, 60) as usize,
        u16_at(elf, 62) as usize,
    );
    let section = |i: usize| &elf[shoff + i * 64..shoff + (i + 1) * 64];
    let names = section(shstrndx);
    let names = &elf[u64_at(names, 24) as usize..][..u64_at(names, 32) as usize];
    (0..shnum)
        .map(section)
        .filter(|s| u32_at(s, 4) != 8 && u64_at(s, 32) > 0)
        .map(|s| {
            let at = u32_at(s, 0) as usize;
            let end = names[at..].iter().position(|&c| c == 0).unwrap();
            String::from_utf8(names[at..at + end].to_vec()).unwrap()
        })
        .collect()
}

/// Every listed image's bytes.
fn images() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    // SAFETY: the list is changed only while a registration holds its
    // lock, and only the listing test compiles code in this process (the
    // other runs gdb in a child), not while it reads.
    unsafe {
        let mut e = std::ptr::addr_of!(__jit_debug_descriptor)
            .read()
            .first_entry;
        while !e.is_null() {
            let image = std::slice::from_raw_parts((*e).symfile_addr, (*e).symfile_size as usize);
            out.push(image.to_vec());
            e = (*e).next;
        }
    }
    out
}

/// Every listed image's symbols.
fn listed() -> Vec<Vec<(String, u64, u64)>> {
    images().iter().map(|i| symbols(i)).collect()
}

#[test]
fn compiled_functions_are_listed_while_their_module_lives() {
    let mut config = Config::new();
    // Backtrace positions off: the debugger's line tables are made all
    // the same.
    config
        .debug_info(true)
        .wasm_backtrace_details(WasmBacktraceDetails::Disable);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(
        &engine,
        r#"(module $listed
             (func $probe_one (export "one") (result i32) i32.const 1)
             (func $probe_two (export "two") (result i32) call $probe_one))"#,
    )
    .unwrap();
    let ours = |lists: &[Vec<(String, u64, u64)>]| {
        lists
            .iter()
            .filter(|l| l.iter().any(|s| s.0 == "wasm[0]::probe_one"))
            .cloned()
            .collect::<Vec<_>>()
    };
    let lists = ours(&listed());
    assert_eq!(lists.len(), 1, "{lists:?}");
    let names: Vec<&str> = lists[0].iter().map(|s| s.0.as_str()).collect();
    assert_eq!(names, ["wasm[0]::probe_one", "wasm[1]::probe_two"]);
    // Each symbol covers its function's code: what the instance calls
    // runs there (the first is at the image's start, the next after it).
    let (one, two) = (&lists[0][0], &lists[0][1]);
    assert!(one.2 > 0 && two.2 > 0);
    assert!(two.1 >= one.1 + one.2, "{lists:?}");
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let two_fn = inst.get_typed_func::<(), i32>(&mut store, "two").unwrap();
    assert_eq!(two_fn.call(&mut store, ()).unwrap(), 1);
    // No DWARF in the module: symbols alone.
    let image = images()
        .into_iter()
        .find(|i| symbols(i).iter().any(|s| s.0 == "wasm[0]::probe_one"))
        .unwrap();
    assert!(!sections_with_bytes(&image).contains(&".debug_line".to_string()));
    // Gone from the list with the last holder of the code.
    drop((inst, two_fn, store, module));
    assert!(ours(&listed()).is_empty());

    // A module built with `-g`: a line table of its machine code too.
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/c/trap_debug.wasm"
    );
    let module = Module::from_file(&engine, fixture).unwrap();
    let image = images()
        .into_iter()
        .find(|i| symbols(i).iter().any(|s| s.0 == "wasm[8]::divide"))
        .unwrap();
    let sections = sections_with_bytes(&image);
    for wanted in [".debug_info", ".debug_abbrev", ".debug_line"] {
        assert!(sections.contains(&wanted.to_string()), "{sections:?}");
    }
    drop(module);
}

#[test]
fn gdb_names_the_wasm_frames_of_a_trap() {
    // Where gdb is installed and may trace a child (not in every
    // container): its backtrace at the trap's signal.
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/c/trap.wasm");
    let run_with = |commands: &[&str], debug_info: &str, fixture: &str| {
        let mut gdb = Command::new("gdb");
        gdb.args(["-nx", "-batch", "-ex", "set breakpoint pending on"]);
        for c in commands {
            gdb.args(["-ex", c]);
        }
        gdb.arg("--args")
            .arg(env!("CARGO_BIN_EXE_walmart"))
            .args(["run", "-D", debug_info, fixture])
            .output()
    };
    let run = |debug_info: &str| run_with(&["run", "bt"], debug_info, fixture);
    let Ok(out) = run("debug-info") else {
        eprintln!("gdb is not installed: skipped");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    if !text.contains("received signal") {
        eprintln!("gdb could not run walmart here: skipped\n{text}");
        return;
    }
    // The trap's own frame and its callers, by name.
    for frame in [
        "in wasm[8]::divide",
        "in wasm[9]::compute",
        "in wasm[10]::main",
    ] {
        assert!(text.contains(frame), "{frame}:\n{text}");
    }
    // Built without `-g`: no lines.
    assert!(!text.contains("trap.c:"), "{text}");
    // Without the switch, no names.
    let text = String::from_utf8_lossy(&run("debug-info=n").unwrap().stdout).into_owned();
    assert!(text.contains("received signal"), "{text}");
    assert!(!text.contains("wasm[8]::divide"), "{text}");

    // Built with `-g`: each frame's source line, and a breakpoint on one.
    let debug = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/c/trap_debug.wasm"
    );
    let out = run_with(&["run", "bt"], "debug-info", debug).unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    for (frame, line) in [
        ("wasm[8]::divide () at ", "trap.c:3"),
        ("in wasm[9]::compute () at ", "trap.c:4"),
        ("in wasm[10]::main () at ", "trap.c:5"),
    ] {
        let shown = text
            .lines()
            .find(|l| l.contains(frame))
            .unwrap_or_else(|| panic!("{frame}:\n{text}"));
        assert!(shown.ends_with(line), "{shown}");
    }
    // Names as the module gives them (the subprograms'; gdb's reading of
    // the bare symbol made `__original_main` `.original_main`).
    assert!(text.contains("::__original_main () at "), "{text}");
    let commands = ["break trap.c:4", "run", "bt 1", "kill"];
    let out = run_with(&commands, "debug-info", debug).unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("Breakpoint 1, wasm[9]::compute () at "),
        "{text}"
    );
}
