//! Placing code whose relocations come from a file (a precompiled
//! module): every bad relocation is an error, never a write outside the
//! function or an arithmetic panic.

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
            relocs: &relocs,
            functions,
        };
        CodeMemory::from_image(image, DebugNames::default(), false)
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
