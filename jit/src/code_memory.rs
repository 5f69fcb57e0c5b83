//! Executable memory for compiled functions, laid out and linked by walmart
//! itself (so functions can be compiled in parallel and freed with their
//! module), and the process-wide registry that maps a machine PC back to
//! its function, trap code and Wasm offset.
//!
//! A code memory keeps its functions' metadata flat: one table of placed
//! functions, one run of encoded trap sites and source locations, one
//! vector of relocations, so that a precompiled module loads as a few
//! large copies ([`CodeImage`]) rather than three vectors per function,
//! its code mapped from the file where it can be ([`CodeFile`]).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::{Arc, RwLock};

use cranelift_codegen::binemit::Reloc;

use crate::error::CompileError;
use crate::sites::{Sites, SitesView};
use crate::trap::TrapKind;

/// What compilation says about one function besides its code.
#[derive(Debug, Default)]
pub struct FunctionInfo {
    /// Wasm function index; `None` for trampolines and host stubs.
    pub func_index: Option<u32>,
    /// Trap sites, and machine offset ranges mapped to Wasm code offsets.
    pub sites: Sites,
}

/// Names used when printing backtraces.
#[derive(Debug, Default, Clone)]
pub struct DebugNames {
    pub module: Option<String>,
    pub funcs: Arc<crate::module_info::FuncNames>,
    /// The module's DWARF line tables, if it carries them.
    pub lines: Option<Arc<crate::debug_lines::DebugLines>>,
}

/// Where a relocation points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelocTarget {
    /// Another function of the same code memory, by its position in the function list.
    Function(usize),
    /// An offset within the function holding the relocation.
    SelfOffset(u32),
}

/// A relocation to apply when the code is placed.
#[derive(Debug, Clone)]
pub struct Relocation {
    pub offset: u32,
    pub kind: Reloc,
    pub target: RelocTarget,
    pub addend: i64,
}

/// A function's machine code before placement.
#[derive(Debug)]
pub struct CompiledFunction {
    pub code: Vec<u8>,
    pub relocs: Vec<Relocation>,
    pub info: FunctionInfo,
}

impl CompiledFunction {
    /// A function of Wasm index `func_index` (`None`: a trampoline or
    /// stub) before placement.
    pub fn new(
        code: Vec<u8>,
        relocs: Vec<Relocation>,
        func_index: Option<u32>,
        sites: Sites,
    ) -> CompiledFunction {
        CompiledFunction {
            code,
            relocs,
            info: FunctionInfo { func_index, sites },
        }
    }
}

/// One function of a code memory, placed: where its code, its sites and
/// its relocations lie in the memory's image, sites and relocations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlacedFunction {
    /// Offset of the function's first byte in the image.
    pub start: u32,
    pub len: u32,
    /// Wasm function index; `None` for trampolines and host stubs.
    pub func_index: Option<u32>,
    /// Its trap sites are `sites[traps..srclocs]`, its source locations
    /// `sites[srclocs..sites_end]`.
    pub traps: u32,
    pub srclocs: u32,
    pub sites_end: u32,
    /// Its relocations are `relocs[relocs_start..relocs_end]`.
    pub relocs_start: u32,
    pub relocs_end: u32,
}

/// A code memory's contents, as a precompiled module stores them: the
/// functions' code laid out as placed (the bytes relocations write are
/// overwritten when placing), every function's encoded sites, every
/// relocation, and the table of functions.
#[derive(Debug, Clone)]
pub struct CodeImage<'a> {
    pub code: &'a [u8],
    pub sites: &'a [u8],
    /// Owned where the caller can give them up (a decoded file's), so
    /// placing keeps them without a copy.
    pub relocs: Cow<'a, [Relocation]>,
    pub functions: &'a [PlacedFunction],
    /// The code holds what an earlier placement's relocations wrote
    /// ([`CodeMemory::image`]): the PC-relative fields, which point within
    /// the image, are right wherever it is placed, and only absolute ones
    /// are written again (so a page mapped from a file stays shared).
    pub placed: bool,
}

/// Where an image's code lies in a file, so that placing it maps the
/// file's pages (private, copied on write) rather than copying them: the
/// pages relocations do not write stay shared with the page cache, and
/// are faulted in only as the code runs.
///
/// The file must not change while the code lives: a page not yet read
/// would show the change (the caller's promise, as for any precompiled
/// code).
#[derive(Debug, Clone, Copy)]
pub struct CodeFile<'a> {
    pub fd: BorrowedFd<'a>,
    /// The code's first byte in the file.
    pub offset: u64,
    /// The sites' first byte in the file (they are mapped read-only from
    /// there, not copied).
    pub sites_offset: u64,
    /// The file's length.
    pub len: u64,
}

/// A code memory's encoded sites: its own copy, or mapped read-only from
/// the precompiled file they were loaded from.
#[derive(Debug)]
enum SitesBytes {
    Owned(Box<[u8]>),
    /// `len` bytes at `base + skip` of a mapping of `mapped` bytes.
    Mapped {
        base: *mut u8,
        mapped: usize,
        skip: usize,
        len: usize,
    },
}

impl SitesBytes {
    /// The sites `sites`, mapped from where `file` holds them when it
    /// can, else copied.
    fn new(sites: &[u8], file: Option<CodeFile<'_>>) -> SitesBytes {
        let owned = || SitesBytes::Owned(sites.into());
        let Some(file) = file else {
            return owned();
        };
        let page = page_size() as u64;
        let start = file.sites_offset / page * page;
        let skip = (file.sites_offset - start) as usize;
        let fits = file
            .sites_offset
            .checked_add(sites.len() as u64)
            .is_some_and(|end| end <= file.len);
        if !fits || sites.is_empty() {
            return owned();
        }
        let mapped = skip + sites.len();
        // Each page holds some of the file: the sites lie inside it.
        match map_file_pages(file.fd, start, mapped, false) {
            Ok(base) => SitesBytes::Mapped {
                base,
                mapped,
                skip,
                len: sites.len(),
            },
            Err(_) => owned(),
        }
    }
}

impl std::ops::Deref for SitesBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            SitesBytes::Owned(b) => b,
            // SAFETY: `len` readable bytes at `base + skip`, mapped for as
            // long as `self` lives.
            SitesBytes::Mapped {
                base, skip, len, ..
            } => unsafe { std::slice::from_raw_parts(base.add(*skip), *len) },
        }
    }
}

impl Drop for SitesBytes {
    fn drop(&mut self) {
        if let SitesBytes::Mapped { base, mapped, .. } = *self {
            // SAFETY: the mapping is ours; no slice of it outlives `self`.
            unsafe { libc::munmap(base as *mut libc::c_void, mapped) };
        }
    }
}

/// A block of read-only executable memory holding some functions.
#[derive(Debug)]
pub struct CodeMemory {
    ptr: *mut u8,
    mapped: usize,
    /// The image's length (the mapping is rounded up to pages).
    len: usize,
    functions: Vec<PlacedFunction>,
    sites: SitesBytes,
    /// Kept so the code can be stored again ([`CodeMemory::image`]).
    relocs: Vec<Relocation>,
    names: DebugNames,
    /// Its code tests for a pending exception after the calls that may
    /// return one (a module that handles exceptions, or a trampoline).
    passes_exceptions: bool,
    /// Its functions' symbols, listed for native debuggers while it lives
    /// (`Config::debug_info`).
    debugger: Option<crate::gdb_jit::Registration>,
}

// SAFETY: the mapping is immutable (read + execute) once built and owned
// by this value; sharing the addresses between threads is safe.
unsafe impl Send for CodeMemory {}
// SAFETY: see above; no interior mutability.
unsafe impl Sync for CodeMemory {}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

impl CodeMemory {
    /// Places `functions` in fresh memory, applies relocations, makes the
    /// memory executable and registers it for trap lookup (and, with
    /// `passes_exceptions`, as code an exception may return into).
    pub fn new(
        functions: Vec<CompiledFunction>,
        names: DebugNames,
        passes_exceptions: bool,
    ) -> Result<Arc<CodeMemory>, CompileError> {
        let mut code = Vec::new();
        let mut sites = Vec::new();
        let mut relocs = Vec::new();
        let mut placed = Vec::with_capacity(functions.len());
        for f in functions {
            code.resize(code.len().next_multiple_of(16), 0);
            let (traps, srclocs) = f.info.sites.encoded();
            let at = |n: usize| u32::try_from(n).map_err(|_| too_large());
            let start = at(code.len())?;
            code.extend_from_slice(&f.code);
            let traps_at = at(sites.len())?;
            sites.extend_from_slice(traps);
            let srclocs_at = at(sites.len())?;
            sites.extend_from_slice(srclocs);
            let relocs_start = at(relocs.len())?;
            relocs.extend(f.relocs);
            placed.push(PlacedFunction {
                start,
                len: at(f.code.len())?,
                func_index: f.info.func_index,
                traps: traps_at,
                srclocs: srclocs_at,
                sites_end: at(sites.len())?,
                relocs_start,
                relocs_end: at(relocs.len())?,
            });
        }
        let image = CodeImage {
            code: &code,
            sites: &sites,
            relocs: Cow::Owned(relocs),
            functions: &placed,
            placed: false,
        };
        CodeMemory::from_image(image, names, passes_exceptions, None)
    }

    /// Places an image ([`CodeMemory::image`] of a code memory, perhaps
    /// read back from a file) as [`CodeMemory::new`] places functions,
    /// mapping its code from `file` where the file allows (a page-aligned
    /// offset, a file system that lets mapped pages execute) and copying
    /// it otherwise.
    ///
    /// The table is checked to describe the image (functions in order,
    /// inside it, not overlapping; sites and relocations inside theirs),
    /// and every relocation to lie inside its function and name a
    /// function that exists, so an image loaded from a file cannot make
    /// this write outside the mapping.
    pub fn from_image(
        image: CodeImage<'_>,
        names: DebugNames,
        passes_exceptions: bool,
        file: Option<CodeFile<'_>>,
    ) -> Result<Arc<CodeMemory>, CompileError> {
        check_table(&image)?;
        let (image_code, image_sites, image_functions, placed) =
            (image.code, image.sites, image.functions, image.placed);
        let mapped = image.code.len().max(1).next_multiple_of(page_size());
        let from_file = file.and_then(|f| map_file(f, image.code.len(), mapped));
        let ptr = match from_file {
            Some(ptr) => ptr,
            None => map_copy(image.code, mapped)?,
        };
        // Unmapped on any error below.
        let mut memory = CodeMemory {
            ptr,
            mapped,
            len: image.code.len(),
            functions: image.functions.to_vec(),
            sites: SitesBytes::new(image.sites, file),
            relocs: image.relocs.into_owned(),
            names,
            passes_exceptions,
            debugger: None,
        };
        for f in &memory.functions {
            let relocs = &memory.relocs[f.relocs_start as usize..f.relocs_end as usize];
            for r in relocs {
                let bad = |what: &str| {
                    CompileError::CodeMemory(format!(
                        "relocation at {:#x} of a {}-byte function: {what}",
                        r.offset, f.len
                    ))
                };
                let width = reloc_width(r.kind)?;
                if (r.offset as usize).saturating_add(width) > f.len as usize {
                    return Err(bad("past the function's end"));
                }
                let at = ptr as usize + f.start as usize + r.offset as usize;
                let target = match r.target {
                    RelocTarget::Function(i) => {
                        let callee = memory.functions.get(i);
                        ptr as usize + callee.ok_or_else(|| bad("no such function"))?.start as usize
                    }
                    RelocTarget::SelfOffset(o) if o <= f.len => {
                        ptr as usize + f.start as usize + o as usize
                    }
                    RelocTarget::SelfOffset(_) => return Err(bad("target past the function")),
                };
                if !(placed && pc_relative(r.kind)) {
                    apply_reloc(at, r.kind, target, r.addend)?;
                }
            }
        }
        // SAFETY: the mapping is ours; from now on it is never written.
        let rc = unsafe {
            libc::mprotect(
                ptr as *mut libc::c_void,
                mapped,
                libc::PROT_READ | libc::PROT_EXEC,
            )
        };
        if rc != 0 {
            let error = std::io::Error::last_os_error();
            if from_file.is_some() {
                // A file system mounted `noexec`: place a copy instead.
                let names = std::mem::take(&mut memory.names);
                let relocs = std::mem::take(&mut memory.relocs);
                drop(memory);
                let image = CodeImage {
                    code: image_code,
                    sites: image_sites,
                    relocs: Cow::Owned(relocs),
                    functions: image_functions,
                    placed,
                };
                return CodeMemory::from_image(image, names, passes_exceptions, None);
            }
            return Err(CompileError::CodeMemory(error.to_string()));
        }
        if crate::perf_map::wanted() || crate::jitdump::wanted() || crate::gdb_jit::wanted() {
            let placed: Vec<(usize, usize, String)> = memory
                .functions
                .iter()
                .map(|f| {
                    let name = match f.func_index {
                        Some(i) => match memory.names.funcs.get(&i) {
                            Some(n) => format!("wasm[{i}]::{n}"),
                            None => format!("wasm[{i}]"),
                        },
                        None => "walmart-trampoline".to_string(),
                    };
                    (ptr as usize + f.start as usize, f.len as usize, name)
                })
                .collect();
            crate::perf_map::record(&placed);
            crate::jitdump::record(&placed);
            if crate::gdb_jit::wanted() {
                let lines = memory.line_rows();
                memory.debugger = crate::gdb_jit::Registration::new(&placed, &lines);
            }
        }
        let memory = Arc::new(memory);
        registry()
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(ptr as usize, memory.clone());
        Ok(memory)
    }

    /// Address of the `i`th function placed.
    pub fn function_ptr(&self, i: usize) -> *const u8 {
        // SAFETY: start lies inside the mapping.
        unsafe { self.ptr.add(self.functions[i].start as usize) }
    }

    /// This memory's contents, to be placed again elsewhere (perhaps in
    /// another process) by [`CodeMemory::from_image`]: the code as placed
    /// here, whose absolute relocated fields placing again overwrites.
    pub fn image(&self) -> CodeImage<'_> {
        CodeImage {
            // SAFETY: the image lies inside the mapping, which is readable
            // and lives as long as `self`.
            code: unsafe { std::slice::from_raw_parts(self.ptr, self.len) },
            sites: &self.sites,
            relocs: Cow::Borrowed(&self.relocs),
            functions: &self.functions,
            placed: true,
        }
    }

    /// Length in bytes of the `i`th function.
    pub fn function_len(&self, i: usize) -> usize {
        self.functions[i].len as usize
    }

    /// Removes this memory from the trap registry; its code must not run
    /// afterwards. Called when the owner is done with it.
    pub fn unregister(&self) {
        registry()
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(self.ptr as usize));
    }

    fn contains(&self, pc: usize) -> bool {
        pc >= self.ptr as usize && pc < self.ptr as usize + self.mapped
    }

    /// The function holding `pc`, and `pc`'s offset in it.
    fn function_at(&self, pc: usize) -> Option<(&PlacedFunction, u32)> {
        let off = (pc - self.ptr as usize) as u32;
        let i = self.functions.partition_point(|f| f.start <= off);
        let f = self.functions.get(i.checked_sub(1)?)?;
        (off < f.start + f.len).then_some((f, off - f.start))
    }

    /// The source line of each instruction of its Wasm functions, from
    /// the module's DWARF line tables (none without them): a row where
    /// the line changes, for native debuggers (`gdb_jit`).
    fn line_rows(&self) -> crate::gdb_jit::LineRows {
        let mut rows = crate::gdb_jit::LineRows::default();
        let Some(lines) = self.names.lines.as_ref() else {
            return rows;
        };
        let mut files: HashMap<String, u32> = HashMap::new();
        for f in self.functions.iter().filter(|f| f.func_index.is_some()) {
            let mut out: Vec<crate::gdb_jit::LineRow> = Vec::new();
            for (start, _, wasm) in self.sites_of(f).srclocs() {
                // In order and inside the function (ranges a damaged
                // precompiled file decodes otherwise end the table).
                if start >= f.len || out.last().is_some_and(|r| start < r.0) {
                    break;
                }
                let Some(loc) = lines.locate(wasm).filter(|l| l.line > 0) else {
                    // No line here: line 0, which debuggers read as none
                    // (rather than the line before).
                    if let Some(&(_, file, line, _)) = out.last() {
                        if line != 0 {
                            out.push((start, file, 0, 0));
                        }
                    }
                    continue;
                };
                let next = files.len() as u32;
                let file = *files.entry(loc.file).or_insert_with_key(|name| {
                    rows.files.push(name.clone());
                    next
                });
                let same = out
                    .last()
                    .is_some_and(|r| (r.1, r.2, r.3) == (file, loc.line, loc.column));
                if !same {
                    out.push((start, file, loc.line, loc.column));
                }
            }
            rows.functions
                .push((self.ptr as usize + f.start as usize, f.len as usize, out));
        }
        rows
    }

    /// A placed function's sites.
    fn sites_of(&self, f: &PlacedFunction) -> SitesView<'_> {
        SitesView::new(
            &self.sites[f.traps as usize..f.srclocs as usize],
            &self.sites[f.srclocs as usize..f.sites_end as usize],
        )
    }
}

fn too_large() -> CompileError {
    CompileError::CodeMemory("more than 4 GiB of code or metadata".into())
}

/// An error unless `image`'s table describes it: functions in order of
/// address, inside the code and not overlapping, their sites and
/// relocations in order inside theirs.
fn check_table(image: &CodeImage<'_>) -> Result<(), CompileError> {
    // Offsets into the code are u32s (`function_at`).
    if u32::try_from(image.code.len()).is_err() {
        return Err(too_large());
    }
    let bad = |i: usize, what: &str| CompileError::CodeMemory(format!("function {i}: {what}"));
    let (mut code_at, mut sites_at, mut relocs_at) = (0u64, 0u64, 0u64);
    for (i, f) in image.functions.iter().enumerate() {
        let end = u64::from(f.start) + u64::from(f.len);
        if u64::from(f.start) < code_at || end > image.code.len() as u64 {
            return Err(bad(i, "code out of order or past the image's end"));
        }
        code_at = end;
        let sites = [f.traps, f.srclocs, f.sites_end].map(u64::from);
        if sites[0] < sites_at
            || sites[1] < sites[0]
            || sites[2] < sites[1]
            || sites[2] > image.sites.len() as u64
        {
            return Err(bad(i, "sites out of order or past their end"));
        }
        sites_at = sites[2];
        let (start, end) = (u64::from(f.relocs_start), u64::from(f.relocs_end));
        if start < relocs_at || end < start || end > image.relocs.len() as u64 {
            return Err(bad(i, "relocations out of order or past their end"));
        }
        relocs_at = end;
    }
    Ok(())
}

impl Drop for CodeMemory {
    fn drop(&mut self) {
        // Out of the debugger's list before the code is gone.
        drop(self.debugger.take());
        // SAFETY: we own the mapping and nothing references it any more
        // (the registry holds an Arc, so we are not in it).
        unsafe {
            libc::munmap(self.ptr as *mut libc::c_void, self.mapped);
        }
    }
}

/// Maps `len` bytes of code from `file` as `mapped` bytes of private,
/// writable memory (the rest of the last page zeroed), or `None` where the
/// file cannot be mapped so (then the code is copied).
fn map_file(file: CodeFile<'_>, len: usize, mapped: usize) -> Option<*mut u8> {
    // The last page may run past the file's end (those bytes read as
    // zeros); a page wholly past it would fault, and none is when the code
    // lies inside the file.
    let fits = file
        .offset
        .checked_add(len as u64)
        .is_some_and(|end| end <= file.len);
    if len == 0 || !file.offset.is_multiple_of(page_size() as u64) || !fits {
        return None;
    }
    let ptr = map_file_pages(file.fd, file.offset, mapped, true).ok()?;
    // What follows the code in the file is not code: zeros, as a copy has.
    // SAFETY: [len, mapped) lies inside the writable mapping just made.
    unsafe { std::ptr::write_bytes(ptr.add(len), 0, mapped - len) };
    Some(ptr)
}

/// A private mapping of `len` bytes of the file `fd` from `offset` (a
/// multiple of the page size), readable, and `writable` (copied on
/// write). Every page mapped must hold some of the file (a page wholly
/// past its end faults when read); the file must not change while the
/// mapping lives. Unmapped with `munmap` by the caller.
pub fn map_file_pages(
    fd: BorrowedFd<'_>,
    offset: u64,
    len: usize,
    writable: bool,
) -> std::io::Result<*mut u8> {
    let offset = libc::off_t::try_from(offset).map_err(std::io::Error::other)?;
    let prot = if writable {
        libc::PROT_READ | libc::PROT_WRITE
    } else {
        libc::PROT_READ
    };
    // SAFETY: a private mapping of an open descriptor at a fresh address;
    // the result is checked.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            prot,
            libc::MAP_PRIVATE,
            fd.as_raw_fd(),
            offset,
        )
    };
    if ptr == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error());
    }
    Ok(ptr as *mut u8)
}

/// A fresh writable mapping of `mapped` bytes holding a copy of `code`.
fn map_copy(code: &[u8], mapped: usize) -> Result<*mut u8, CompileError> {
    // Every page is written next: populated in one go, not a fault each
    // (a third of sqlite's load).
    // SAFETY: anonymous private mapping; the result is checked.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            mapped,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE,
            -1,
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        return Err(CompileError::CodeMemory(
            std::io::Error::last_os_error().to_string(),
        ));
    }
    let ptr = ptr as *mut u8;
    // SAFETY: the code fits the fresh writable mapping.
    unsafe { std::ptr::copy_nonoverlapping(code.as_ptr(), ptr, code.len()) };
    Ok(ptr)
}

/// Whether a relocation of `kind` writes a distance within the image (the
/// same wherever the image is placed), not an address.
pub(crate) fn pc_relative(kind: Reloc) -> bool {
    matches!(
        kind,
        Reloc::X86PCRel4 | Reloc::X86CallPCRel4 | Reloc::X86CallPLTRel4 | Reloc::Arm64Call
    )
}

/// How many bytes a relocation of `kind` writes.
fn reloc_width(kind: Reloc) -> Result<usize, CompileError> {
    match kind {
        Reloc::Abs8 => Ok(8),
        Reloc::X86PCRel4 | Reloc::X86CallPCRel4 | Reloc::X86CallPLTRel4 | Reloc::Arm64Call => Ok(4),
        other => Err(CompileError::Unsupported(format!(
            "relocation kind {other:?}"
        ))),
    }
}

fn apply_reloc(at: usize, kind: Reloc, target: usize, addend: i64) -> Result<(), CompileError> {
    let value = (target as i64).wrapping_add(addend);
    match kind {
        Reloc::Abs8 => {
            // SAFETY: the relocation site lies inside the writable mapping.
            unsafe { (at as *mut u64).write_unaligned(value as u64) }
        }
        Reloc::X86PCRel4 | Reloc::X86CallPCRel4 | Reloc::X86CallPLTRel4 => {
            let delta = value.wrapping_sub(at as i64);
            let delta = i32::try_from(delta)
                .map_err(|_| CompileError::CodeMemory("call out of 32-bit range".into()))?;
            // SAFETY: as above.
            unsafe { (at as *mut i32).write_unaligned(delta) }
        }
        Reloc::Arm64Call => {
            let delta = value.wrapping_sub(at as i64) >> 2;
            if !(-(1 << 25)..(1 << 25)).contains(&delta) {
                return Err(CompileError::CodeMemory("call out of 26-bit range".into()));
            }
            // SAFETY: as above.
            unsafe {
                let insn = (at as *mut u32).read_unaligned();
                let insn = (insn & 0xfc00_0000) | (delta as u32 & 0x03ff_ffff);
                (at as *mut u32).write_unaligned(insn);
            }
        }
        other => {
            return Err(CompileError::Unsupported(format!(
                "relocation kind {other:?}"
            )))
        }
    }
    Ok(())
}

type Registry = RwLock<BTreeMap<usize, Arc<CodeMemory>>>;

fn registry() -> &'static Registry {
    static REGISTRY: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// The code memory holding `pc`, in a locked registry.
fn code_at(map: &BTreeMap<usize, Arc<CodeMemory>>, pc: usize) -> Option<&CodeMemory> {
    let (_, code) = map.range(..=pc).next_back()?;
    code.contains(pc).then_some(&**code)
}

fn with_code<R>(pc: usize, f: impl FnOnce(&CodeMemory) -> Option<R>) -> Option<R> {
    // A signal handler calls this: a read lock cannot deadlock unless this
    // very thread holds the write lock, and registration never runs Wasm.
    let map = registry().read().unwrap_or_else(|e| e.into_inner());
    f(code_at(&map, pc)?)
}

/// Runs `f` with a test of whether an address lies in generated code,
/// taking the registry's lock once for many tests (a stack walk) and
/// trying the last module hit first: a walk's frames are mostly in one.
pub fn with_jit_code_test<R>(f: impl FnOnce(&mut dyn FnMut(usize) -> bool) -> R) -> R {
    let map = registry().read().unwrap_or_else(|e| e.into_inner());
    let mut last: Option<&CodeMemory> = None;
    let mut test = |pc: usize| {
        if last.is_some_and(|c| c.contains(pc)) {
            return true;
        }
        last = code_at(&map, pc);
        last.is_some()
    };
    f(&mut test)
}

/// The trap recorded at `pc`, if `pc` is a trap site in generated code.
pub fn lookup_trap(pc: usize) -> Option<TrapKind> {
    with_code(pc, |code| {
        let (f, off) = code.function_at(pc)?;
        code.sites_of(f).trap_at(off)
    })
}

/// Whether a function returning to `pc` with an exception pending hands it
/// to code that passes it on ([`CodeMemory::new`]'s `passes_exceptions`);
/// false for code of a module that handles no exceptions, and for any
/// address that is not generated code.
pub fn passes_exceptions(pc: usize) -> bool {
    with_code(pc, |code| Some(code.passes_exceptions)).unwrap_or(false)
}

impl CodeMemory {
    /// Where this code's mapping starts: what [`FrameInfo::code`] holds
    /// for the frames of its functions.
    pub fn start(&self) -> usize {
        self.ptr as usize
    }

    /// The DWARF line tables of the module this code is of, if it has them.
    pub fn debug_lines(&self) -> Option<Arc<crate::debug_lines::DebugLines>> {
        self.names.lines.clone()
    }
}

/// A frame of a Wasm backtrace.
#[derive(Debug, Clone)]
pub struct FrameInfo {
    pub func_index: u32,
    pub func_name: Option<String>,
    pub module_name: Option<String>,
    /// Offset of the instruction in the module binary.
    pub wasm_offset: Option<u32>,
    /// The module's DWARF line tables, for [`FrameInfo::source_location`].
    pub lines: Option<Arc<crate::debug_lines::DebugLines>>,
    /// The start of the code the frame's function is in
    /// ([`CodeMemory::start`]): which compiled module it belongs to.
    pub code: usize,
}

impl FrameInfo {
    /// The instruction's file, line and column, from the module's DWARF
    /// line tables (read the first time a frame of the module asks);
    /// `None` for a module without them or an instruction they do not
    /// cover.
    pub fn source_location(&self) -> Option<crate::debug_lines::SourceLocation> {
        self.lines.as_ref()?.locate(self.wasm_offset?)
    }
}

/// Describes the Wasm function containing `pc`; `None` for non-Wasm code
/// (including walmart's trampolines).
pub fn lookup_frame(pc: usize) -> Option<FrameInfo> {
    with_code(pc, |code| {
        let (f, off) = code.function_at(pc)?;
        let func_index = f.func_index?;
        let wasm_offset = code.sites_of(f).wasm_offset_at(off);
        Some(FrameInfo {
            func_index,
            func_name: code.names.funcs.get(&func_index).map(str::to_string),
            module_name: code.names.module.clone(),
            wasm_offset,
            lines: code.names.lines.clone(),
            code: code.start(),
        })
    })
}
