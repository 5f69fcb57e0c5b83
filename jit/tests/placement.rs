//! Placing code whose relocations come from a file (a precompiled
//! module): every bad relocation is an error, never a write outside the
//! function or an arithmetic panic; code and sites mapped from the file
//! are what a copy places.

use cranelift_codegen::binemit::Reloc;
use walmart_jit::code_memory::{
    CodeMemory, CompiledFunction, DebugNames, FunctionInfo, RelocTarget, Relocation,
};

fn function(relocs: Vec<Relocation>) -> CompiledFunction {
    CompiledFunction {
        code: vec![0xc3; 16],
        relocs,
        info: FunctionInfo::default(),
    }
}

fn place(reloc: Relocation) -> Result<(), String> {
    CodeMemory::new(vec![function(vec![reloc])], DebugNames::default(), false)
        .map(|m| m.unregister())
        .map_err(|e| e.to_string())
}

#[test]
fn bad_relocations_are_errors() {
    let reloc = |offset, kind, target, addend| Relocation {
        offset,
        kind,
        target,
        addend,
    };
    // Fine: inside the function, to itself.
    place(reloc(4, Reloc::X86CallPCRel4, RelocTarget::Function(0), -4)).unwrap();
    place(reloc(8, Reloc::Abs8, RelocTarget::SelfOffset(0), 0)).unwrap();
    for (r, says) in [
        (
            reloc(13, Reloc::X86CallPCRel4, RelocTarget::Function(0), -4),
            "past the function's end",
        ),
        (
            reloc(9, Reloc::Abs8, RelocTarget::Function(0), 0),
            "past the function's end",
        ),
        (
            reloc(u32::MAX, Reloc::Abs8, RelocTarget::Function(0), 0),
            "past the function's end",
        ),
        (
            reloc(0, Reloc::X86CallPCRel4, RelocTarget::Function(1), -4),
            "no such function",
        ),
        (
            reloc(0, Reloc::Abs8, RelocTarget::SelfOffset(17), 0),
            "target past the function",
        ),
        (
            reloc(0, Reloc::X86PCRel4, RelocTarget::Function(0), i64::MIN),
            "32-bit range",
        ),
        (
            reloc(0, Reloc::X86PCRel4, RelocTarget::Function(0), i64::MAX),
            "32-bit range",
        ),
        (
            reloc(0, Reloc::Arm64Call, RelocTarget::Function(0), i64::MIN),
            "26-bit range",
        ),
        (
            reloc(0, Reloc::Aarch64AdrPrelPgHi21, RelocTarget::Function(0), 0),
            "relocation kind",
        ),
    ] {
        let e = place(r.clone()).unwrap_err();
        assert!(e.contains(says), "{r:?}: {e}");
    }
}

/// An image whose table does not describe it (a precompiled module's,
/// crafted or damaged past its checksum) is an error, never a read or a
/// write outside its parts.
#[test]
fn tables_that_do_not_describe_the_image_are_errors() {
    use walmart_jit::code_memory::{CodeImage, PlacedFunction};
    let code = [0xc3u8; 64];
    let sites = [0u8; 8];
    let relocs = [Relocation {
        offset: 0,
        kind: Reloc::Abs8,
        target: RelocTarget::SelfOffset(0),
        addend: 0,
    }];
    let f = |start, len| PlacedFunction {
        start,
        len,
        func_index: None,
        traps: 0,
        srclocs: 0,
        sites_end: 0,
        relocs_start: 0,
        relocs_end: 0,
    };
    let place = |functions: &[PlacedFunction]| {
        let image = CodeImage {
            code: &code,
            sites: &sites,
            relocs: std::borrow::Cow::Borrowed(&relocs),
            functions,
            placed: false,
        };
        CodeMemory::from_image(image, DebugNames::default(), false, None)
            .map(|m| m.unregister())
            .map_err(|e| e.to_string())
    };
    place(&[f(0, 16), f(16, 48)]).unwrap();
    let with = |g: fn(&mut PlacedFunction)| {
        let mut p = f(0, 16);
        g(&mut p);
        p
    };
    place(&[with(|p| {
        p.sites_end = 8;
        p.relocs_end = 1;
    })])
    .unwrap();
    for (functions, says) in [
        (vec![f(0, 65)], "past the image's end"),
        (vec![f(u32::MAX, 2)], "past the image's end"),
        (vec![f(16, 16), f(0, 16)], "out of order"),
        (vec![f(0, 32), f(16, 16)], "out of order"),
        (vec![with(|p| p.sites_end = 9)], "sites"),
        (
            vec![with(|p| {
                p.traps = 4;
                p.srclocs = 2;
                p.sites_end = 8;
            })],
            "sites",
        ),
        (vec![with(|p| p.relocs_end = 2)], "relocations"),
        (
            vec![
                with(|p| p.relocs_end = 1),
                PlacedFunction {
                    start: 16,
                    ..with(|p| p.relocs_end = 1)
                },
            ],
            "relocations",
        ),
    ] {
        let e = place(&functions).unwrap_err();
        assert!(e.contains(says), "{functions:?}: {e}");
    }
}

/// A precompiled module's code mapped from its file (`CodeFile`) is the
/// code a copy places, byte for byte but for absolute addresses; where
/// the file cannot be mapped so (an offset off a page, a file too short
/// for the last page) the code is copied instead, as the same bytes.
#[test]
fn code_mapped_from_a_file_is_the_code_copied() {
    use std::os::fd::AsFd;
    use walmart_jit::code_memory::CodeFile;
    use walmart_jit::{artifact, module_info, Compiler, TranslateConfig};
    let wat = r#"(module
      (table 2 funcref)
      (elem (i32.const 0) $a $b)
      (func $a (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
      (func $b (param i32) (result i32) (call $a (i32.add (local.get 0) (i32.const 1))))
      (func (export "c") (param i32) (result i32)
        (call_indirect (param i32) (result i32) (local.get 0) (local.get 0))))"#;
    let compiler = Compiler::new(TranslateConfig::default()).unwrap();
    let wasm = wat::parse_str(wat).unwrap();
    let info = module_info::parse(&wasm, compiler.config().proposals).unwrap();
    let module = compiler.compile_module(&wasm, &info).unwrap();
    let bytes = artifact::encode("fp", &wasm, module.facts(), module.code.image(), None);
    module.code.unregister();
    let path = std::env::temp_dir().join(format!("walmart-placement-{}.cwasm", std::process::id()));
    std::fs::write(&path, &bytes).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let a = artifact::decode(&bytes).unwrap();
    let place = |code_file: Option<CodeFile<'_>>| {
        let info = module_info::parse_precompiled(a.wasm, compiler.config().proposals).unwrap();
        compiler
            .place_compiled(a.wasm, &info, a.image(), a.facts.clone(), code_file)
            .unwrap()
    };
    // How many mappings of the file there are: code and sites.
    let maps_file = || {
        std::fs::read_to_string("/proc/self/maps")
            .unwrap()
            .lines()
            .filter(|l| l.contains(path.to_str().unwrap()))
            .count()
    };
    let copied = place(None);
    let code_of = |m: &walmart_jit::CompiledModule| -> Vec<Vec<u8>> {
        (0..a.functions.len())
            .map(|i| {
                // SAFETY: the function's bytes lie in the placed, readable code.
                unsafe {
                    std::slice::from_raw_parts(m.code.function_ptr(i), m.code.function_len(i))
                }
                .to_vec()
            })
            .collect()
    };
    let sites_offset = a.sites.as_ptr() as u64 - bytes.as_ptr() as u64;
    let whole = CodeFile {
        fd: file.as_fd(),
        offset: a.code_offset as u64,
        sites_offset,
        len: bytes.len() as u64,
    };
    for (code_file, mapped) in [
        (whole, 2),
        (
            CodeFile {
                offset: whole.offset + 1,
                ..whole
            },
            1,
        ),
        (
            CodeFile {
                len: whole.offset + 1,
                ..whole
            },
            0,
        ),
    ] {
        assert_eq!(maps_file(), 0);
        let placed = place(Some(code_file));
        assert_eq!(maps_file(), mapped, "{code_file:?}");
        // Against the code as first compiled and placed (every relocation
        // written there), not only against another load.
        let (ours, theirs) = (code_of(&placed), code_of(&module));
        assert_eq!(code_of(&copied).len(), theirs.len());
        // The trap sites read the same, mapped or copied.
        let mut traps = 0;
        for (i, f) in a.functions.iter().enumerate() {
            for at in 0..f.len {
                let pc =
                    |m: &walmart_jit::CompiledModule| m.code.function_ptr(i) as usize + at as usize;
                let trap = walmart_jit::code_memory::lookup_trap(pc(&placed));
                assert_eq!(
                    trap,
                    walmart_jit::code_memory::lookup_trap(pc(&copied)),
                    "function {i}, byte {at}"
                );
                traps += usize::from(trap.is_some());
            }
        }
        assert!(traps > 0);
        for (i, f) in a.functions.iter().enumerate() {
            let absolute: Vec<_> = a.relocs[f.relocs_start as usize..f.relocs_end as usize]
                .iter()
                .filter(|r| r.kind == Reloc::Abs8)
                .map(|r| r.offset as usize..r.offset as usize + 8)
                .collect();
            for (at, (x, y)) in ours[i].iter().zip(&theirs[i]).enumerate() {
                if !absolute.iter().any(|r| r.contains(&at)) {
                    assert_eq!(x, y, "function {i}, byte {at}, {code_file:?}");
                }
            }
        }
        placed.code.unregister();
        drop(placed);
    }
    copied.code.unregister();
    std::fs::remove_file(&path).unwrap();
}
