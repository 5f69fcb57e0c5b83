//! The precompiled-module file format (`.cwasm`): a module's binary and its
//! compiled functions before placement, so that loading skips Cranelift.
//!
//! Layout, little-endian throughout:
//!
//! ```text
//! magic      8 bytes   "\0walmart"
//! version    u32       FORMAT_VERSION
//! checksum   u64       XXH3-64 of everything after this field
//! fingerprint          string: the compiler and settings the code is for
//! wasm                 bytes: the module's binary
//! facts      u8        bit 0: handles exceptions; bit 1: dlmalloc state
//!            u32       where dlmalloc's state lies (0 without bit 1)
//! functions  u32 count, then each:
//!   func_index   u8 (0: none, 1: some) + u32
//!   code         bytes
//!   traps        u32 count of (var offset from the previous trap's,
//!                u8 Cranelift trap code)
//!   srclocs      u32 count of (var gap from the previous range's end,
//!                var length, zigzag var Wasm offset from the previous)
//!   relocs       u32 count of (u32 offset, u8 kind, u8 target kind,
//!                u32 target, i64 addend)
//! ```
//!
//! Strings and byte runs are a u64 length and the bytes; `var` is an
//! unsigned LEB128 of at most 32 bits (traps and source locations are
//! most of a module's metadata: deltas keep them a few bytes each). The checksum
//! catches a truncated or damaged file; it is no defence against a crafted
//! one, whose code runs as it is (loading a precompiled module is
//! `unsafe` in the runtime's API for that reason).

use std::num::NonZeroU8;

use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::ir::TrapCode;

use crate::code_memory::{CompiledFunction, RelocTarget, Relocation};
use crate::compile::ModuleFacts;
use crate::error::CompileError;
use crate::trap::TrapKind;

/// The first bytes of every precompiled module.
pub const MAGIC: &[u8; 8] = b"\0walmart";
/// Changes whenever the layout above does.
pub const FORMAT_VERSION: u32 = 1;

/// A precompiled module read back from its bytes.
#[derive(Debug)]
pub struct Artifact<'a> {
    /// What compiled the code ([`crate::Compiler::fingerprint`]).
    pub fingerprint: &'a str,
    /// The module's binary.
    pub wasm: &'a [u8],
    /// What placing the code needs besides the functions.
    pub facts: ModuleFacts,
    /// Its functions as [`crate::Compiler::place_compiled`] takes them.
    pub functions: Vec<CompiledFunction>,
}

/// Whether `bytes` begin as a precompiled module does (any version).
pub fn is_precompiled(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// Writes a precompiled module.
pub fn encode(
    fingerprint: &str,
    wasm: &[u8],
    facts: ModuleFacts,
    functions: &[CompiledFunction],
) -> Vec<u8> {
    let code: usize = functions.iter().map(|f| f.code.len()).sum();
    let mut w = Writer(Vec::with_capacity(wasm.len() + code + 1024));
    w.0.extend_from_slice(MAGIC);
    w.u32(FORMAT_VERSION);
    w.u64(0);
    w.bytes(fingerprint.as_bytes());
    w.bytes(wasm);
    w.u8(u8::from(facts.handles_exceptions) | (u8::from(facts.dlmalloc_state.is_some()) << 1));
    w.u32(facts.dlmalloc_state.unwrap_or(0));
    w.u32(functions.len() as u32);
    for f in functions {
        match f.info.func_index {
            Some(i) => {
                w.u8(1);
                w.u32(i);
            }
            None => {
                w.u8(0);
                w.u32(0);
            }
        }
        w.bytes(&f.code);
        w.u32(f.info.traps.len() as u32);
        let mut last = 0;
        for (offset, kind) in &f.info.traps {
            w.var(offset.wrapping_sub(last));
            w.u8(kind.code().as_raw().get());
            last = *offset;
        }
        w.u32(f.info.srclocs.len() as u32);
        let (mut last_end, mut last_wasm) = (0u32, 0u32);
        for (start, end, wasm_offset) in &f.info.srclocs {
            w.var(start.wrapping_sub(last_end));
            w.var(end.wrapping_sub(*start));
            let delta = wasm_offset.wrapping_sub(last_wasm) as i32;
            w.var(((delta << 1) ^ (delta >> 31)) as u32);
            (last_end, last_wasm) = (*end, *wasm_offset);
        }
        w.u32(f.relocs.len() as u32);
        for r in &f.relocs {
            w.u32(r.offset);
            w.u8(reloc_kind_code(r.kind));
            let (tag, target) = match r.target {
                RelocTarget::Function(i) => (0, i as u32),
                RelocTarget::SelfOffset(o) => (1, o),
            };
            w.u8(tag);
            w.u32(target);
            w.u64(r.addend as u64);
        }
    }
    let sum = checksum(&w.0[HEADER..]);
    w.0[HEADER - 8..HEADER].copy_from_slice(&sum.to_le_bytes());
    w.0
}

/// Bytes before the checksummed part: magic, version, checksum.
const HEADER: usize = 8 + 4 + 8;

/// Reads a precompiled module, checking its magic, version and checksum
/// and that every count and length fits the bytes there are.
pub fn decode(bytes: &[u8]) -> Result<Artifact<'_>, CompileError> {
    if !is_precompiled(bytes) {
        return Err(bad(
            "not a precompiled walmart module (no `\\0walmart` magic)",
        ));
    }
    let mut r = Reader {
        bytes,
        at: MAGIC.len(),
    };
    let version = r.u32()?;
    if version != FORMAT_VERSION {
        return Err(bad(&format!(
            "format version {version}; this walmart reads version {FORMAT_VERSION}: \
             compile the module again"
        )));
    }
    let sum = r.u64()?;
    if checksum(&bytes[HEADER..]) != sum {
        return Err(bad("checksum mismatch: the file is truncated or damaged"));
    }
    let fingerprint =
        std::str::from_utf8(r.bytes()?).map_err(|_| bad("fingerprint is not UTF-8"))?;
    let wasm = r.bytes()?;
    let facts = match (r.u8()?, r.u32()?) {
        (bits, state) if bits < 4 => ModuleFacts {
            handles_exceptions: bits & 1 != 0,
            dlmalloc_state: (bits & 2 != 0).then_some(state),
        },
        (bits, _) => return Err(bad(&format!("module facts {bits:#x}"))),
    };
    // A function's record is 25 bytes at least: its index and three
    // counts, its code's length.
    let count = r.count(25)?;
    let mut functions = Vec::with_capacity(count);
    for _ in 0..count {
        let func_index = match (r.u8()?, r.u32()?) {
            (0, _) => None,
            (1, i) => Some(i),
            (tag, _) => return Err(bad(&format!("function index tag {tag}"))),
        };
        let code = r.bytes()?.to_vec();
        // Loops rather than iterators: collecting `Result`s loses the
        // size hint, and a large module has hundreds of thousands.
        let count = r.count(2)?;
        let mut traps = Vec::with_capacity(count);
        let mut last = 0u32;
        for _ in 0..count {
            let offset = last.wrapping_add(r.var()?);
            last = offset;
            let code = r.u8()?;
            let kind = NonZeroU8::new(code)
                .and_then(|c| TrapKind::from_code(TrapCode::from_raw(c)))
                .ok_or_else(|| bad(&format!("unknown trap code {code}")))?;
            traps.push((offset, kind));
        }
        let count = r.count(3)?;
        let mut srclocs = Vec::with_capacity(count);
        let (mut last_end, mut last_wasm) = (0u32, 0u32);
        for _ in 0..count {
            let start = last_end.wrapping_add(r.var()?);
            let end = start.wrapping_add(r.var()?);
            let zigzag = r.var()?;
            let delta = ((zigzag >> 1) as i32) ^ -((zigzag & 1) as i32);
            let wasm_offset = last_wasm.wrapping_add(delta as u32);
            (last_end, last_wasm) = (end, wasm_offset);
            srclocs.push((start, end, wasm_offset));
        }
        let relocs = (0..r.count(18)?)
            .map(|_| {
                let offset = r.u32()?;
                let kind = reloc_kind(r.u8()?)?;
                let target = match (r.u8()?, r.u32()?) {
                    (0, i) => RelocTarget::Function(i as usize),
                    (1, o) => RelocTarget::SelfOffset(o),
                    (tag, _) => return Err(bad(&format!("relocation target kind {tag}"))),
                };
                let addend = r.u64()? as i64;
                Ok(Relocation {
                    offset,
                    kind,
                    target,
                    addend,
                })
            })
            .collect::<Result<_, CompileError>>()?;
        functions.push(CompiledFunction::new(
            code, relocs, func_index, traps, srclocs,
        ));
    }
    if r.at != bytes.len() {
        return Err(bad(&format!(
            "{} bytes after the last function",
            bytes.len() - r.at
        )));
    }
    Ok(Artifact {
        fingerprint,
        wasm,
        facts,
        functions,
    })
}

fn bad(what: &str) -> CompileError {
    CompileError::Artifact(what.to_string())
}

/// The relocation kinds compiled code uses, numbered for the file.
const RELOC_KINDS: [Reloc; 5] = [
    Reloc::Abs8,
    Reloc::X86PCRel4,
    Reloc::X86CallPCRel4,
    Reloc::X86CallPLTRel4,
    Reloc::Arm64Call,
];

fn reloc_kind_code(kind: Reloc) -> u8 {
    // Placement refused any other kind before the code could be saved.
    RELOC_KINDS
        .iter()
        .position(|k| *k == kind)
        .map_or(u8::MAX, |i| i as u8)
}

fn reloc_kind(code: u8) -> Result<Reloc, CompileError> {
    RELOC_KINDS
        .get(code as usize)
        .copied()
        .ok_or_else(|| bad(&format!("unknown relocation kind {code}")))
}

/// The checksum of walmart's file formats (as the model files'): XXH3-64.
fn checksum(bytes: &[u8]) -> u64 {
    twox_hash::XxHash3_64::oneshot(bytes)
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.0.extend_from_slice(b);
    }
    /// Unsigned LEB128.
    fn var(&mut self, mut v: u32) {
        while v >= 0x80 {
            self.0.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    #[inline]
    fn take(&mut self, n: usize) -> Result<&'a [u8], CompileError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| bad(&format!("truncated at byte {}", self.at)))?;
        let b = &self.bytes[self.at..end];
        self.at = end;
        Ok(b)
    }
    #[inline]
    fn u8(&mut self) -> Result<u8, CompileError> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, CompileError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64, CompileError> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    /// Unsigned LEB128 of at most 32 bits, in at most five bytes. Read
    /// straight from the slice: a module has hundreds of thousands.
    #[inline]
    fn var(&mut self) -> Result<u32, CompileError> {
        let rest = &self.bytes[self.at..];
        let mut v = 0u32;
        for (i, &b) in rest.iter().take(5).enumerate() {
            if i == 4 && b > 0x0f {
                return Err(bad("varint past 32 bits"));
            }
            v |= u32::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                self.at += i + 1;
                return Ok(v);
            }
        }
        Err(bad(&format!("truncated varint at byte {}", self.at)))
    }
    fn bytes(&mut self) -> Result<&'a [u8], CompileError> {
        let len = usize::try_from(self.u64()?).map_err(|_| bad("length past memory"))?;
        self.take(len)
    }
    /// A u32 count of records of at least `min_size` bytes each, refused
    /// when the rest of the file could not hold them (no allocation sized
    /// by a damaged count).
    fn count(&mut self, min_size: usize) -> Result<usize, CompileError> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min_size) > self.bytes.len() - self.at {
            return Err(bad(&format!(
                "count {n} at byte {} past the file's end",
                self.at - 4
            )));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code_memory::FunctionInfo;

    fn sample() -> Vec<CompiledFunction> {
        vec![
            CompiledFunction {
                code: vec![0x90; 37],
                relocs: vec![
                    Relocation {
                        offset: 3,
                        kind: Reloc::Abs8,
                        target: RelocTarget::SelfOffset(30),
                        addend: -4,
                    },
                    Relocation {
                        offset: 20,
                        kind: Reloc::X86CallPCRel4,
                        target: RelocTarget::Function(1),
                        addend: -4,
                    },
                ],
                info: FunctionInfo {
                    func_index: Some(7),
                    traps: vec![
                        (5, TrapKind::Unreachable),
                        (9, TrapKind::OutOfFuel),
                        (300, TrapKind::HostError),
                    ],
                    srclocs: vec![
                        (0, 4, 100),
                        (4, 37, 104),
                        (40, 200, 50),
                        (200, 201, u32::MAX),
                    ],
                    ..Default::default()
                },
            },
            CompiledFunction {
                code: vec![0xc3],
                relocs: vec![],
                info: FunctionInfo::default(),
            },
        ]
    }

    #[test]
    fn round_trip() {
        let facts = ModuleFacts {
            handles_exceptions: true,
            dlmalloc_state: Some(1024),
        };
        let bytes = encode("fp", b"\0asm\x01\0\0\0", facts, &sample());
        let a = decode(&bytes).unwrap();
        assert_eq!(a.fingerprint, "fp");
        assert_eq!(a.wasm, b"\0asm\x01\0\0\0");
        assert_eq!(a.facts, facts);
        assert_eq!(a.functions.len(), 2);
        let f = &a.functions[0];
        assert_eq!(f.code, vec![0x90; 37]);
        assert_eq!(f.info.func_index, Some(7));
        assert_eq!(f.info.traps, sample()[0].info.traps);
        assert_eq!(f.info.srclocs, sample()[0].info.srclocs);
        assert_eq!(f.relocs.len(), 2);
        assert_eq!(f.relocs[0].target, RelocTarget::SelfOffset(30));
        assert_eq!(f.relocs[0].addend, -4);
        assert_eq!(f.relocs[1].kind, Reloc::X86CallPCRel4);
        assert_eq!(a.functions[1].info.func_index, None);
    }

    #[test]
    fn every_truncation_and_every_flipped_byte_is_an_error() {
        let bytes = encode(
            "fingerprint",
            b"\0asm\x01\0\0\0",
            ModuleFacts::default(),
            &sample(),
        );
        for len in 0..bytes.len() {
            assert!(decode(&bytes[..len]).is_err(), "truncated to {len}");
        }
        for i in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[i] ^= 0x10;
            assert!(decode(&damaged).is_err(), "byte {i} flipped");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer).is_err());
    }

    #[test]
    fn a_huge_count_is_refused_before_allocating() {
        // A file whose checksum matches but whose function count is absurd.
        let mut bytes = encode("", b"", ModuleFacts::default(), &[]);
        let at = bytes.len() - 4;
        bytes[at..].copy_from_slice(&u32::MAX.to_le_bytes());
        let sum = checksum(&bytes[HEADER..]);
        bytes[HEADER - 8..HEADER].copy_from_slice(&sum.to_le_bytes());
        let e = decode(&bytes).unwrap_err().to_string();
        assert!(e.contains("past the file's end"), "{e}");
    }
}
