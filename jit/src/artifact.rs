//! The precompiled-module file format (`.cwasm`): a module's binary and its
//! compiled functions before placement, so that loading skips Cranelift.
//!
//! Layout, little-endian throughout:
//!
//! ```text
//! magic      8 bytes   "\0walmart"
//! version    u32       FORMAT_VERSION
//! checksum   u64       XXH3-64 of everything after this field (past
//!                      4 MiB: of the XXH3-64s of its 4 MiB chunks,
//!                      hashed side by side)
//! fingerprint          string: the compiler and settings the code is for
//! wasm                 bytes: the module's binary
//! facts      u8        bit 0: handles exceptions; bit 1: dlmalloc state;
//!                      bit 2: emmalloc
//!            u32       where dlmalloc's state lies (0 without bit 1)
//!            with bit 2: u8 (bit 0: buckets, bit 1: free), u32 where
//!            its buckets lie, u32 its free (each 0 without its bit),
//!            u32 count of u32 statics its functions load
//! padding    u32 count of zero bytes, then the zeros: the code's first
//!                      byte lies at a multiple of CODE_ALIGN in the file
//! code                 bytes: the functions' code laid out as placed (the
//!                      bytes relocations write are written again)
//! sites                bytes: every function's trap sites and source
//!                      locations, encoded as `sites` describes
//! relocs     u32 count of (u32 offset, u8 kind, u8 target kind,
//!            u32 target, i64 addend): the absolute ones (the code holds
//!            the PC-relative ones' values, the same wherever it lies)
//! functions  u32 count of (u8 0 or 1 + u32: the Wasm index or none,
//!            u32 start, u32 length in the code,
//!            u32 traps, u32 srclocs, u32 end in the sites,
//!            u32 first, u32 end in the relocations)
//! image      u64       where in memory 0 the image begins (0 without one)
//!            u32 count of zero bytes, then the zeros: the image's first
//!                      byte lies at a multiple of CODE_ALIGN in the file
//!                      bytes: memory 0's initial contents from there, in
//!                      whole pages (none where the module has no image)
//! ```
//!
//! Strings and byte runs are a u64 length and the bytes. This is a code
//! memory's own layout ([`CodeImage`]): loading maps the code's pages
//! from the file where it can ([`Artifact::code_offset`]; the padding is
//! for that) or copies it as one run, copies the sites and the
//! relocations as a few runs, and decodes no trap site or source location
//! (they stay encoded, [`crate::sites`]). The memory image (the runtime's
//! copy-on-write initial contents of memory 0, which it would otherwise
//! write into a memfd at every load) is mapped from the file too. The checksum
//! catches a truncated or damaged file; it is no defence against a crafted
//! one, whose code runs as it is (loading a precompiled module is
//! `unsafe` in the runtime's API for that reason).

use std::borrow::Cow;

use cranelift_codegen::binemit::Reloc;

use crate::code_memory::{CodeImage, PlacedFunction, RelocTarget, Relocation};
use crate::compile::ModuleFacts;
use crate::error::CompileError;

/// The first bytes of every precompiled module.
pub const MAGIC: &[u8; 8] = b"\0walmart";
/// Changes whenever the layout above does.
pub const FORMAT_VERSION: u32 = 7;
/// Where in the file the code and the memory image begin: a multiple of
/// this, so that a page of 4 KiB can be mapped from it as it is.
pub const CODE_ALIGN: usize = 4096;

/// A precompiled module read back from its bytes.
#[derive(Debug)]
pub struct Artifact<'a> {
    /// What compiled the code ([`crate::Compiler::fingerprint`]).
    pub fingerprint: &'a str,
    /// The module's binary.
    pub wasm: &'a [u8],
    /// What placing the code needs besides the functions.
    pub facts: ModuleFacts,
    /// The code and its metadata ([`Artifact::image`]).
    pub code: &'a [u8],
    /// Where the code begins in the bytes decoded (a multiple of
    /// [`CODE_ALIGN`]).
    pub code_offset: usize,
    pub sites: &'a [u8],
    pub relocs: Vec<Relocation>,
    pub functions: Vec<PlacedFunction>,
    /// Memory 0's initial contents as the runtime maps them, and where in
    /// memory they begin ([`MemoryImageBytes`]).
    pub memory_image: Option<MemoryImageBytes<'a>>,
}

/// A memory image a precompiled file holds: `bytes` are memory 0's first
/// contents from byte `start` on, in whole pages, at a multiple of
/// [`CODE_ALIGN`] in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryImageBytes<'a> {
    pub start: u64,
    pub bytes: &'a [u8],
}

impl Artifact<'_> {
    /// The code as [`crate::Compiler::place_compiled`] takes it.
    pub fn image(&self) -> CodeImage<'_> {
        CodeImage {
            code: self.code,
            sites: self.sites,
            relocs: Cow::Borrowed(&self.relocs),
            functions: &self.functions,
            placed: true,
        }
    }

    /// [`Artifact::image`], the relocations moved out of the artifact
    /// rather than borrowed (placing keeps them, uncopied).
    pub fn take_image(&mut self) -> CodeImage<'_> {
        let relocs = std::mem::take(&mut self.relocs);
        CodeImage {
            relocs: Cow::Owned(relocs),
            ..self.image()
        }
    }
}

/// Whether `bytes` begin as a precompiled module does (any version).
pub fn is_precompiled(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// Writes a precompiled module of code placed as `image`.
///
/// # Panics
///
/// When `image` is not [`CodeImage::placed`]: a file's image is read back
/// as placed (its PC-relative fields are not written again), so its code
/// must hold them ([`crate::code_memory::CodeMemory::image`]'s does).
pub fn encode(
    fingerprint: &str,
    wasm: &[u8],
    facts: ModuleFacts,
    image: CodeImage<'_>,
    memory_image: Option<MemoryImageBytes<'_>>,
) -> Vec<u8> {
    assert!(
        image.placed,
        "a precompiled module's code must be as placed (CodeMemory::image)"
    );
    let size = wasm.len()
        + image.code.len()
        + image.sites.len()
        + 18 * image.relocs.len()
        + memory_image.map_or(0, |m| m.bytes.len() + CODE_ALIGN);
    let mut w = Writer(Vec::with_capacity(size + 33 * image.functions.len() + 1024));
    w.0.extend_from_slice(MAGIC);
    w.u32(FORMAT_VERSION);
    w.u64(0);
    w.bytes(fingerprint.as_bytes());
    w.bytes(wasm);
    w.u8(u8::from(facts.handles_exceptions)
        | (u8::from(facts.dlmalloc_state.is_some()) << 1)
        | (u8::from(facts.emmalloc.is_some()) << 2));
    w.u32(facts.dlmalloc_state.unwrap_or(0));
    if let Some(e) = &facts.emmalloc {
        w.u8(u8::from(e.buckets.is_some()) | (u8::from(e.free.is_some()) << 1));
        w.u32(e.buckets.unwrap_or(0));
        w.u32(e.free.unwrap_or(0));
        w.u32(e.reads.len() as u32);
        for &at in &e.reads {
            w.u32(at);
        }
    }
    w.aligned_bytes(image.code);
    w.bytes(image.sites);
    // The image is placed: its PC-relative fields hold their values,
    // which are the same wherever it is placed again, and placing never
    // writes them again. Only the others are kept (yosys has 636,979
    // relocations, none of them absolute): each function's range is of
    // those.
    let mut kept = Vec::new();
    let mut ranges = Vec::with_capacity(image.functions.len());
    for f in image.functions {
        let start = kept.len() as u32;
        let own = image
            .relocs
            .get(f.relocs_start as usize..f.relocs_end as usize)
            .unwrap_or(&[]);
        kept.extend(
            own.iter()
                .filter(|r| !crate::code_memory::pc_relative(r.kind)),
        );
        ranges.push((start, kept.len() as u32));
    }
    w.u32(kept.len() as u32);
    for r in kept {
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
    w.u32(image.functions.len() as u32);
    for (f, (relocs_start, relocs_end)) in image.functions.iter().zip(ranges) {
        w.u8(u8::from(f.func_index.is_some()));
        w.u32(f.func_index.unwrap_or(0));
        for v in [
            f.start,
            f.len,
            f.traps,
            f.srclocs,
            f.sites_end,
            relocs_start,
            relocs_end,
        ] {
            w.u32(v);
        }
    }
    let memory_image = memory_image.unwrap_or(MemoryImageBytes {
        start: 0,
        bytes: &[],
    });
    w.u64(memory_image.start);
    w.aligned_bytes(memory_image.bytes);
    let sum = checksum(&w.0[HEADER..]);
    w.0[HEADER - 8..HEADER].copy_from_slice(&sum.to_le_bytes());
    w.0
}

/// Bytes before the checksummed part: magic, version, checksum.
const HEADER: usize = 8 + 4 + 8;
/// A relocation's record: offset, kind, target kind, target, addend.
const RELOC_SIZE: usize = 4 + 1 + 1 + 4 + 8;
/// A function's record: index tag and index, then seven u32s.
const FUNCTION_SIZE: usize = 1 + 4 + 7 * 4;

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
        (bits, state) if bits < 8 => ModuleFacts {
            handles_exceptions: bits & 1 != 0,
            dlmalloc_state: (bits & 2 != 0).then_some(state),
            emmalloc: (bits & 4 != 0).then(|| r.emmalloc()).transpose()?,
        },
        (bits, _) => return Err(bad(&format!("module facts {bits:#x}"))),
    };
    let code = r.aligned_bytes("code")?;
    let code_offset = r.at - code.len();
    let sites = r.bytes()?;
    // Fixed-width records, taken as one run each and read in place: a
    // large module has tens of thousands of relocations.
    let records = r.records(RELOC_SIZE)?;
    let mut relocs = Vec::with_capacity(records.len());
    for rec in records {
        let target = match (rec[5], u32_at(rec, 6)) {
            (0, i) => RelocTarget::Function(i as usize),
            (1, o) => RelocTarget::SelfOffset(o),
            (tag, _) => return Err(bad(&format!("relocation target kind {tag}"))),
        };
        relocs.push(Relocation {
            offset: u32_at(rec, 0),
            kind: reloc_kind(rec[4])?,
            target,
            addend: i64::from_le_bytes(rec[10..18].try_into().expect("8 bytes")),
        });
    }
    let records = r.records(FUNCTION_SIZE)?;
    let mut functions = Vec::with_capacity(records.len());
    for rec in records {
        let u32_at = |at: usize| u32_at(rec, at);
        let func_index = match (rec[0], u32_at(1)) {
            (0, _) => None,
            (1, i) => Some(i),
            (tag, _) => return Err(bad(&format!("function index tag {tag}"))),
        };
        functions.push(PlacedFunction {
            start: u32_at(5),
            len: u32_at(9),
            func_index,
            traps: u32_at(13),
            srclocs: u32_at(17),
            sites_end: u32_at(21),
            relocs_start: u32_at(25),
            relocs_end: u32_at(29),
        });
    }
    let image_start = r.u64()?;
    let image = r.aligned_bytes("memory image")?;
    let memory_image = (!image.is_empty()).then_some(MemoryImageBytes {
        start: image_start,
        bytes: image,
    });
    if r.at != bytes.len() {
        return Err(bad(&format!(
            "{} bytes after the memory image",
            bytes.len() - r.at
        )));
    }
    Ok(Artifact {
        fingerprint,
        wasm,
        facts,
        code,
        code_offset,
        sites,
        relocs,
        functions,
        memory_image,
    })
}

/// The little-endian u32 at `at` in a fixed-width record.
fn u32_at(rec: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(rec[at..at + 4].try_into().expect("4 bytes"))
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

/// The checksum of a precompiled file: XXH3-64 of its bytes, or, past
/// [`CHECKSUM_CHUNK`] bytes, XXH3-64 of the XXH3-64s of each chunk of
/// that size, which the cores hash side by side (a 196 MB file was most
/// of its load on one core). The same value whatever the cores.
fn checksum(bytes: &[u8]) -> u64 {
    if bytes.len() <= CHECKSUM_CHUNK {
        return twox_hash::XxHash3_64::oneshot(bytes);
    }
    let chunks: Vec<&[u8]> = bytes.chunks(CHECKSUM_CHUNK).collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(chunks.len());
    let shares: Vec<&[&[u8]]> = chunks.chunks(chunks.len().div_ceil(threads)).collect();
    let hash_share = |share: &[&[u8]]| -> Vec<u64> {
        share
            .iter()
            .map(|c| twox_hash::XxHash3_64::oneshot(c))
            .collect()
    };
    let sums = std::thread::scope(|scope| {
        // The first share on this thread, the others on threads of their
        // own (or here too, where the system gives none).
        let handles: Vec<_> = shares[1..]
            .iter()
            .map(|&share| {
                std::thread::Builder::new()
                    .spawn_scoped(scope, move || hash_share(share))
                    .ok()
            })
            .collect();
        let mut sums = hash_share(shares[0]);
        for (&share, handle) in shares[1..].iter().zip(handles) {
            match handle.and_then(|h| h.join().ok()) {
                Some(part) => sums.extend(part),
                None => sums.extend(hash_share(share)),
            }
        }
        sums
    });
    let mut all = Vec::with_capacity(sums.len() * 8);
    for s in &sums {
        all.extend_from_slice(&s.to_le_bytes());
    }
    twox_hash::XxHash3_64::oneshot(&all)
}

/// The chunk a large file's checksum hashes apart (see [`checksum`]).
const CHECKSUM_CHUNK: usize = 4 << 20;

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
    /// `b` as [`Writer::bytes`] writes it, after a u32 count of zeros and
    /// the zeros, so that its first byte lies at a multiple of
    /// [`CODE_ALIGN`] (when the buffer is written at the file's start).
    fn aligned_bytes(&mut self, b: &[u8]) {
        // The padding's count (4 bytes) and the length (8) come first.
        let pad = (CODE_ALIGN - (self.0.len() + 12) % CODE_ALIGN) % CODE_ALIGN;
        self.u32(pad as u32);
        self.0.resize(self.0.len() + pad, 0);
        self.bytes(b);
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
    /// What the facts say of emmalloc ([`crate::emmalloc::Emmalloc`]).
    fn emmalloc(&mut self) -> Result<crate::emmalloc::Emmalloc, CompileError> {
        let bits = self.u8()?;
        if bits >= 4 {
            return Err(bad(&format!("emmalloc facts {bits:#x}")));
        }
        let (buckets, free) = (self.u32()?, self.u32()?);
        let count = self.u32()? as usize;
        let reads = self
            .take(
                count
                    .checked_mul(4)
                    .ok_or_else(|| bad("emmalloc's statics"))?,
            )?
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes(w.try_into().expect("4 bytes")))
            .collect();
        Ok(crate::emmalloc::Emmalloc {
            buckets: (bits & 1 != 0).then_some(buckets),
            reads,
            free: (bits & 2 != 0).then_some(free),
        })
    }
    /// What [`Writer::aligned_bytes`] wrote: the padding (zeros, less
    /// than [`CODE_ALIGN`] of them), then the bytes; `what` names them.
    fn aligned_bytes(&mut self, what: &str) -> Result<&'a [u8], CompileError> {
        let pad = self.u32()? as usize;
        if pad >= CODE_ALIGN || self.take(pad)?.iter().any(|b| *b != 0) {
            return Err(bad(&format!("{what} padding of {pad} bytes")));
        }
        self.bytes()
    }
    /// A count, then that many records of `size` bytes, taken as one run.
    fn records(&mut self, size: usize) -> Result<std::slice::ChunksExact<'a, u8>, CompileError> {
        let count = self.count(size)?;
        Ok(self.take(count * size)?.chunks_exact(size))
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
    use crate::sites::Sites;
    use crate::trap::TrapKind;

    /// A code image's parts: two functions, the first with sites and
    /// relocations.
    struct Sample {
        code: Vec<u8>,
        sites: Vec<u8>,
        relocs: Vec<Relocation>,
        functions: Vec<PlacedFunction>,
    }

    impl Sample {
        fn image(&self) -> CodeImage<'_> {
            CodeImage {
                code: &self.code,
                sites: &self.sites,
                relocs: Cow::Borrowed(&self.relocs),
                functions: &self.functions,
                placed: true,
            }
        }
    }

    fn sites() -> Sites {
        Sites::new(
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
        )
    }

    fn sample() -> Sample {
        let encoded = sites();
        let (traps, srclocs) = encoded.encoded();
        let sites = [traps, srclocs].concat();
        let mut code = vec![0x90; 37];
        code.resize(48, 0);
        code.push(0xc3);
        Sample {
            code,
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
            functions: vec![
                PlacedFunction {
                    start: 0,
                    len: 37,
                    func_index: Some(7),
                    traps: 0,
                    srclocs: traps.len() as u32,
                    sites_end: sites.len() as u32,
                    relocs_start: 0,
                    relocs_end: 2,
                },
                PlacedFunction {
                    start: 48,
                    len: 1,
                    func_index: None,
                    traps: sites.len() as u32,
                    srclocs: sites.len() as u32,
                    sites_end: sites.len() as u32,
                    relocs_start: 2,
                    relocs_end: 2,
                },
            ],
            sites,
        }
    }

    #[test]
    fn round_trip() {
        let facts = ModuleFacts {
            handles_exceptions: true,
            dlmalloc_state: Some(1024),
            emmalloc: Some(crate::emmalloc::Emmalloc {
                buckets: Some(0x1000),
                reads: vec![0x1400, 0x1408],
                free: None,
            }),
        };
        let sample = sample();
        let page: Vec<u8> = (0..CODE_ALIGN).map(|i| (i % 251) as u8).collect();
        let image = MemoryImageBytes {
            start: 65536,
            bytes: &page,
        };
        let bytes = encode(
            "fp",
            b"\0asm\x01\0\0\0",
            facts.clone(),
            sample.image(),
            Some(image),
        );
        let a = decode(&bytes).unwrap();
        assert_eq!(a.memory_image, Some(image));
        let at = a.memory_image.unwrap().bytes.as_ptr() as usize - bytes.as_ptr() as usize;
        assert_eq!(at % CODE_ALIGN, 0, "the image lies at a page of the file");
        assert_eq!(a.fingerprint, "fp");
        assert_eq!(a.wasm, b"\0asm\x01\0\0\0");
        assert_eq!(a.facts, facts);
        assert_eq!(a.code, sample.code);
        assert_eq!(a.code_offset % CODE_ALIGN, 0);
        assert_eq!(&bytes[a.code_offset..][..a.code.len()], &sample.code[..]);
        assert_eq!(a.sites, sample.sites);
        // The absolute relocation kept, the PC-relative call left out (the
        // placed code holds its value); each function's range of them.
        assert_eq!(a.relocs.len(), 1);
        assert_eq!(a.relocs[0].kind, Reloc::Abs8);
        assert_eq!(a.relocs[0].target, RelocTarget::SelfOffset(30));
        assert_eq!(a.relocs[0].addend, -4);
        let ranges: Vec<_> = a
            .functions
            .iter()
            .map(|f| (f.relocs_start, f.relocs_end))
            .collect();
        assert_eq!(ranges, [(0, 1), (1, 1)]);
        let unranged = |f: &PlacedFunction| PlacedFunction {
            relocs_start: 0,
            relocs_end: 0,
            ..*f
        };
        assert!(a
            .functions
            .iter()
            .zip(&sample.functions)
            .all(|(a, s)| unranged(a) == unranged(s)));
        let f = a.functions[0];
        let (traps, srclocs) = a.sites.split_at(f.srclocs as usize);
        let view =
            crate::sites::SitesView::new(traps, &srclocs[..(f.sites_end - f.srclocs) as usize]);
        assert_eq!(view.trap_at(9), Some(TrapKind::OutOfFuel));
    }

    #[test]
    fn every_truncation_and_every_flipped_byte_is_an_error() {
        let image = [7u8; 64];
        let bytes = encode(
            "fingerprint",
            b"\0asm\x01\0\0\0",
            ModuleFacts::default(),
            sample().image(),
            Some(MemoryImageBytes {
                start: 4096,
                bytes: &image,
            }),
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
    fn a_large_file_is_checksummed_whole_in_chunks() {
        // Past one chunk: every chunk counts, the last (short) one too.
        let wasm: Vec<u8> = (0..9 * CHECKSUM_CHUNK / 4)
            .flat_map(|i: usize| (i as u32).to_le_bytes())
            .collect();
        let bytes = encode("fp", &wasm, ModuleFacts::default(), sample().image(), None);
        assert!(bytes.len() > 2 * CHECKSUM_CHUNK);
        assert_eq!(decode(&bytes).unwrap().wasm, &wasm[..]);
        for at in [HEADER + 3, CHECKSUM_CHUNK + 17, bytes.len() - 1] {
            let mut damaged = bytes.clone();
            damaged[at] ^= 1;
            let e = decode(&damaged).unwrap_err().to_string();
            assert!(
                e.contains("checksum") || e.contains("bytes after"),
                "byte {at}: {e}"
            );
        }
        // Chunked, not one hash of the whole: the value is the chunks'.
        let whole = twox_hash::XxHash3_64::oneshot(&bytes[HEADER..]);
        assert_ne!(checksum(&bytes[HEADER..]), whole);
    }

    #[test]
    fn a_huge_count_is_refused_before_allocating() {
        // A file whose checksum matches but whose function count is absurd.
        let empty = CodeImage {
            code: &[],
            sites: &[],
            relocs: Cow::Borrowed(&[]),
            functions: &[],
            placed: true,
        };
        let mut bytes = encode("", b"", ModuleFacts::default(), empty, None);
        assert!(decode(&bytes).unwrap().memory_image.is_none());
        // The function count comes before the image's start (8 bytes), its
        // padding's count (4) and zeros, and its empty length (8).
        let len = bytes.len();
        let u32_back =
            |p: usize| u32::from_le_bytes(bytes[len - p..len - p + 4].try_into().unwrap());
        // The largest count that reads as itself (a count of 0 would read
        // the zeros too).
        let pad = (0..CODE_ALIGN.min(len - 12))
            .rev()
            .find(|&p| u32_back(12 + p) as usize == p)
            .unwrap();
        let at = len - 12 - pad - 8 - 4;
        bytes[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let sum = checksum(&bytes[HEADER..]);
        bytes[HEADER - 8..HEADER].copy_from_slice(&sum.to_le_bytes());
        let e = decode(&bytes).unwrap_err().to_string();
        assert!(e.contains("past the file's end"), "{e}");
    }
}
