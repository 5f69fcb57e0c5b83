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
