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
//!   traps        bytes: the trap sites, encoded as `sites` describes
//!   srclocs      bytes: the source locations, likewise
//!   relocs       u32 count of (u32 offset, u8 kind, u8 target kind,
//!                u32 target, i64 addend)
//! ```
//!
//! Strings and byte runs are a u64 length and the bytes. Trap sites and
//! source locations are most of a module's metadata: as LEB128 deltas
//! they are a few bytes each, and they stay encoded after loading
//! ([`crate::sites`]), so a load copies them without decoding. The checksum
//! catches a truncated or damaged file; it is no defence against a crafted
//! one, whose code runs as it is (loading a precompiled module is
//! `unsafe` in the runtime's API for that reason).

use cranelift_codegen::binemit::Reloc;

use crate::code_memory::{CompiledFunction, RelocTarget, Relocation};
use crate::compile::ModuleFacts;
use crate::error::CompileError;
use crate::sites::Sites;

/// The first bytes of every precompiled module.
pub const MAGIC: &[u8; 8] = b"\0walmart";
/// Changes whenever the layout above does.
pub const FORMAT_VERSION: u32 = 2;

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
        let (traps, srclocs) = f.info.sites.encoded();
        w.bytes(traps);
        w.bytes(srclocs);
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
    // A function's record is 33 bytes at least: its index, three
    // lengths and a count.
    let count = r.count(33)?;
    let mut functions = Vec::with_capacity(count);
    for _ in 0..count {
        let func_index = match (r.u8()?, r.u32()?) {
            (0, _) => None,
            (1, i) => Some(i),
            (tag, _) => return Err(bad(&format!("function index tag {tag}"))),
        };
        let code = r.bytes()?.to_vec();
        let sites = Sites::from_encoded(r.bytes()?, r.bytes()?);
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
        functions.push(CompiledFunction::new(code, relocs, func_index, sites));
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
    use crate::trap::TrapKind;

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
                    sites: Sites::new(
                        &[
                            (5, TrapKind::Unreachable),
                            (9, TrapKind::OutOfFuel),
                            (300, TrapKind::HostError),
                        ],
                        &[
                            (0, 4, 100),
                            (4, 37, 104),
                            (40, 200, 50),
                            (200, 201, u32::MAX),
                        ],
                    ),
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
        assert_eq!(f.info.sites, sample()[0].info.sites);
        assert_eq!(f.info.sites.trap_at(9), Some(TrapKind::OutOfFuel));
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
