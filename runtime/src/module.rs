//! A compiled module: validated, translated, ready to instantiate any
//! number of times in any store of its engine.

use std::sync::Arc;

use walmart_jit::artifact;
use walmart_jit::module_info::{self, ExportKind, ImportKind, ModuleInfo};
use walmart_jit::{CompileError, CompiledModule};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::mapped_file::{MappedFile, WasmBytes};
use crate::memory_image::MemoryImage;
use crate::types::{FuncType, GlobalType, MemoryType, TableType};

pub(crate) struct ModuleInner {
    pub(crate) engine: Engine,
    pub(crate) info: ModuleInfo,
    pub(crate) compiled: CompiledModule,
    /// Engine-wide signature id of each type index.
    pub(crate) type_ids: Vec<u64>,
    /// The address of each type's info record (what a GC object's header
    /// points at).
    pub(crate) type_infos: Vec<u64>,
    /// The binary, for data segments (a view of the precompiled file it
    /// was loaded from, when it was mapped).
    pub(crate) wasm: WasmBytes,
    /// The defined functions a reference can name (see `escaping`), in
    /// order, each with its code address and engine type id: what
    /// instantiation copies into their `VMFuncRef`s.
    pub(crate) func_refs: Box<[(u32, usize, u64)]>,
    /// Initial contents of memory 0 to map copy-on-write (guarded memory only).
    pub(crate) memory_image: Option<MemoryImage>,
    /// Each type index's host view, made on first use: a handle to an
    /// exported function is made at each instantiation that looks it up.
    func_types: Box<[std::sync::OnceLock<crate::FuncType>]>,
    /// Where an attested instance's heap walk found dlmalloc's state (0:
    /// not found yet), a static, so the same in every instance: later
    /// instances look there first (`heap_walk::locate_state`'s hint)
    /// rather than search the statics again (a Python component's 28 MB,
    /// about 1 ms a request under `walmart serve --attest`).
    pub(crate) found_dlmalloc_state: std::sync::atomic::AtomicU32,
}

impl ModuleInner {
    /// Where an attested instance found dlmalloc's state, if one did
    /// ([`Self::found_dlmalloc_state`]).
    pub(crate) fn dlmalloc_state_found(&self) -> Option<u32> {
        let at = self
            .found_dlmalloc_state
            .load(std::sync::atomic::Ordering::Relaxed);
        (at != 0).then_some(at)
    }

    /// The host view of the type of function `func`.
    pub(crate) fn func_type(&self, func: u32) -> crate::FuncType {
        let t = self.info.func_types[func as usize] as usize;
        self.func_types[t]
            .get_or_init(|| crate::FuncType::from_sig(&self.info.types[t]))
            .clone()
    }
}

impl Drop for ModuleInner {
    fn drop(&mut self) {
        self.compiled.code.unregister();
        // Free pool slots that still map this module's image would keep
        // its pages for no module that can use them.
        if let (Some(image), Some(pool)) = (&self.memory_image, self.engine.memory_pool()) {
            pool.purge_image(image.id());
        }
    }
}

/// A compiled WebAssembly module. Cheap to clone; shareable across threads.
#[derive(Clone)]
pub struct Module {
    pub(crate) inner: Arc<ModuleInner>,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("name", &self.inner.info.name)
            .finish()
    }
}

/// The defined functions a reference may name: those the module's
/// exports, start function and constant expressions (globals', tables',
/// element segments') name. Validation holds every `ref.func` in a body to
/// these, and every other use of a defined function is a direct call, so
/// only these need a `VMFuncRef` (sqlite: 346 of its 1,393 functions).
fn escaping(info: &ModuleInfo) -> impl Iterator<Item = u32> + '_ {
    let mut named = vec![false; info.func_types.len()];
    let mut name = |f: u32| {
        if let Some(n) = named.get_mut(f as usize) {
            *n = true;
        }
    };
    for (_, export) in &info.exports {
        if let ExportKind::Func(f) = export {
            name(*f);
        }
    }
    if let Some(f) = info.start {
        name(f);
    }
    let exprs = info
        .global_inits
        .iter()
        .chain(info.table_inits.iter().flatten());
    let exprs = exprs.chain(info.elements.iter().flat_map(|seg| &seg.items));
    for op in exprs.flatten() {
        if let module_info::ConstOp::RefFunc(f) = op {
            name(*f);
        }
    }
    let first = info.num_imported_funcs;
    (first..info.func_types.len() as u32).filter(move |&f| named[f as usize])
}

/// The type of an import or export.
#[derive(Clone, Debug, PartialEq)]
pub enum ExternType {
    Func(FuncType),
    Table(TableType),
    Memory(MemoryType),
    Global(GlobalType),
    Tag(crate::TagType),
}

impl Module {
    /// Whether `other` is this same compiled module (a clone of it).
    pub(crate) fn same(&self, other: &Module) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Compiles a module from its binary or text (WAT) form.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let bytes = bytes.as_ref();
        match wat::Detect::from_bytes(bytes) {
            wat::Detect::WasmBinary => Module::from_binary(engine, bytes),
            wat::Detect::WasmText => {
                let binary =
                    wat::parse_bytes(bytes).map_err(|e| Error::Wat(one_line(&e.to_string())))?;
                Module::from_binary(engine, &binary)
            }
            wat::Detect::Unknown if artifact::is_precompiled(bytes) => Err(Error::Usage(
                "a precompiled module (`walmart compile`'s output): load it with \
                 `Module::deserialize`"
                    .into(),
            )),
            wat::Detect::Unknown => Err(Error::Wat(
                "not a WebAssembly module: neither the binary format (which begins with \
                 `\\0asm`) nor the text format (which begins with `(`)"
                    .into(),
            )),
        }
    }

    /// Reads and compiles a `.wasm` or `.wat` file.
    pub fn from_file(engine: &Engine, path: impl AsRef<std::path::Path>) -> Result<Module> {
        Module::new(engine, read_file(path.as_ref())?)
    }

    /// Compiles a module from its binary form.
    pub fn from_binary(engine: &Engine, wasm: &[u8]) -> Result<Module> {
        // A component's header: the magic, then version 0xd and layer 1.
        if wasm.len() >= 8 && wasm[..4] == *b"\0asm" && wasm[4..8] == [0x0d, 0, 0x01, 0] {
            return Err(Error::Usage(
                "a WebAssembly component (the component model), not a core module: load it \
                 with `walmart::component::Component`"
                    .into(),
            ));
        }
        let info = module_info::parse(wasm, engine.compiler().config().proposals)?;
        let bytes = WasmBytes::Owned(wasm.to_vec());
        Module::assemble(engine, info, bytes, ImageSource::Build, |info| {
            engine.compiler().compile_module(wasm, info)
        })
    }

    /// A module of `engine` from its decoded binary, with `compile` giving
    /// its placed code.
    fn assemble(
        engine: &Engine,
        mut info: ModuleInfo,
        bytes: WasmBytes,
        image: ImageSource<'_>,
        compile: impl FnOnce(&ModuleInfo) -> std::result::Result<CompiledModule, CompileError>,
    ) -> Result<Module> {
        if !engine.backtrace_details() && !engine.config().debug_info {
            // No source positions: the DWARF is neither kept nor read.
            // (A native debugger's line tables are made from it, and then
            // backtraces carry positions too.)
            info.debug_sections.clear();
        }
        let type_ids = engine.module_type_ids(&info);
        let type_infos: Vec<u64> = type_ids.iter().map(|id| engine.type_info(*id)).collect();
        let compiled = compile(&info)?;
        let wasm = &bytes[..];
        let first = info.num_imported_funcs;
        let func_refs = escaping(&info)
            .map(|f| {
                let code = compiled.defined_func(f - first) as usize;
                (f, code, type_ids[info.func_types[f as usize] as usize])
            })
            .collect();
        // Small reservations may move with mremap, which cannot carry a
        // mapping made of several pieces: images are for guarded memory.
        let memory_image = if engine.config().guarded_memory {
            match image {
                ImageSource::Build => MemoryImage::build(&info, wasm),
                ImageSource::File {
                    file,
                    offset,
                    start,
                    len,
                } => MemoryImage::from_file(&info, file, offset, start, len)
                    .or_else(|| MemoryImage::build(&info, wasm)),
            }
        } else {
            None
        };
        let info_types = info.types.len();
        Ok(Module {
            inner: Arc::new(ModuleInner {
                engine: engine.clone(),
                info,
                compiled,
                type_ids,
                type_infos,
                wasm: bytes,
                func_refs,
                memory_image,
                func_types: (0..info_types).map(|_| Default::default()).collect(),
                found_dlmalloc_state: Default::default(),
            }),
        })
    }

    /// The module's compiled code with its binary, as bytes that
    /// [`Module::deserialize`] turns back into this module without
    /// compiling it again: in another engine with the same settings,
    /// perhaps in another process, of the same build of walmart on the
    /// same kind of CPU (the bytes carry a fingerprint of all of these,
    /// checked as they load). Written to a file, a `.cwasm`
    /// (`walmart compile`).
    pub fn serialize(&self) -> Result<Vec<u8>> {
        // The memory image goes with the code, at a page of its own in
        // the file, so that loading maps it rather than writes it.
        let image = self
            .inner
            .engine
            .config()
            .guarded_memory
            .then(|| crate::memory_image::contents(&self.inner.info, &self.inner.wasm))
            .flatten();
        Ok(artifact::encode(
            self.inner.engine.fingerprint(),
            &self.inner.wasm,
            self.inner.compiled.facts(),
            self.inner.compiled.code.image(),
            image
                .as_ref()
                .map(|(start, bytes)| artifact::MemoryImageBytes {
                    start: *start as u64,
                    bytes,
                }),
        ))
    }

    /// Loads a module [`Module::serialize`] or
    /// [`Engine::precompile_module`] wrote, without compiling it.
    ///
    /// The bytes' format version, checksum and fingerprint are checked:
    /// code compiled by another build of walmart, for another CPU or with
    /// other settings (attestation policy, fuel, epochs, bounds checks,
    /// proposals...) is refused with an error naming the first setting
    /// that differs. The module's binary is decoded but not validated
    /// again: this build validated it when it compiled it.
    ///
    /// # Safety
    ///
    /// The code in `bytes` runs as it is. Only pass bytes that walmart
    /// wrote and that nobody could have changed since: a crafted file
    /// passes every check above and can do anything the process can.
    pub unsafe fn deserialize(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        // SAFETY: the caller's promise, passed on; no file.
        unsafe { Module::load_precompiled(engine, bytes.as_ref(), None) }
    }

    /// A module from precompiled bytes, kept as a copy, or, with `file`
    /// (the mapping `bytes` are part of), as views of the file's mapping:
    /// the binary a range of it, the code mapped from the file's pages
    /// (where it lies at a page boundary of the file).
    ///
    /// # Safety
    /// As [`Module::deserialize`]: the code in `bytes` runs as it is. With
    /// `file`, `bytes` must be a slice of that mapping, and the file must
    /// not change while the module lives.
    pub(crate) unsafe fn load_precompiled(
        engine: &Engine,
        bytes: &[u8],
        file: Option<(&Arc<MappedFile>, &std::fs::File)>,
    ) -> Result<Module> {
        let mut artifact = artifact::decode(bytes)?;
        let fingerprint = engine.fingerprint();
        if artifact.fingerprint != fingerprint {
            return Err(CompileError::Artifact(fingerprint_mismatch(
                artifact.fingerprint,
                fingerprint,
            ))
            .into());
        }
        let wasm = artifact.wasm;
        let info = module_info::parse_precompiled(wasm, engine.compiler().config().proposals)?;
        let (kept, code_file, image) = match file {
            Some((mapped, file)) => (
                WasmBytes::view(mapped, wasm),
                Some(mapped.code_file(file, artifact.code, artifact.sites)),
                artifact.memory_image.map(|m| ImageSource::File {
                    file,
                    offset: mapped.offset_of(m.bytes).start as u64,
                    start: m.start,
                    len: m.bytes.len() as u64,
                }),
            ),
            None => (WasmBytes::Owned(wasm.to_vec()), None, None),
        };
        let facts = std::mem::take(&mut artifact.facts);
        let image = image.unwrap_or(ImageSource::Build);
        Module::assemble(engine, info, kept, image, |info| {
            engine
                .compiler()
                .place_compiled(wasm, info, artifact.take_image(), facts, code_file)
        })
    }

    /// [`Module::deserialize`] of a file mapped rather than read: the
    /// module keeps the mapping (its binary and code are views of it).
    ///
    /// # Safety
    ///
    /// As [`Module::deserialize`]; and the file must not change while
    /// the module lives (a page not yet read would show the change).
    pub(crate) unsafe fn deserialize_mapped(
        engine: &Engine,
        mapped: Arc<MappedFile>,
        file: &std::fs::File,
    ) -> Result<Module> {
        // SAFETY: the caller's promises; the bytes are the mapping's.
        unsafe { Module::load_precompiled(engine, &mapped, Some((&mapped, file))) }
    }

    /// [`Module::deserialize`] of a file's contents. A regular file is
    /// mapped, not read: its code runs from the file's pages (shared with
    /// the page cache where no relocation writes), and the module keeps
    /// the mapping; its memory image (memory 0's first contents) is
    /// mapped from the file into each new memory, copied on write, so the
    /// module keeps a descriptor of the file where it has one.
    ///
    /// # Safety
    ///
    /// As [`Module::deserialize`]: the file's code runs as it is. And the
    /// file must not change while the module lives: replace it by
    /// renaming another over it (as `walmart compile` and the module
    /// cache do), never by writing into it, since a page not yet read
    /// would show the change, and one past a truncation would fault.
    pub unsafe fn deserialize_file(
        engine: &Engine,
        path: impl AsRef<std::path::Path>,
    ) -> Result<Module> {
        let path = path.as_ref();
        let file = std::fs::File::open(path)
            .map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))?;
        // SAFETY: the caller's promises, passed on.
        unsafe { Module::deserialize_open_file(engine, &file) }.map_err(|e| match e {
            Error::Compile(e) => Error::Usage(format!("{}: {e}", path.display())),
            Error::Usage(e) => Error::Usage(format!("{}: {e}", path.display())),
            other => other,
        })
    }

    /// [`Module::deserialize_file`] of a file already open (as
    /// wasmtime's): a regular file is mapped, anything else (a pipe) read
    /// from where it stands.
    ///
    /// # Safety
    ///
    /// As [`Module::deserialize_file`].
    pub unsafe fn deserialize_open_file(engine: &Engine, file: &std::fs::File) -> Result<Module> {
        let bytes = crate::mapped_file::FileBytes::of(file)
            .map_err(|e| Error::Usage(format!("cannot read it: {e}")))?;
        match bytes {
            // SAFETY: the caller vouches for the file and that it stays.
            crate::mapped_file::FileBytes::Mapped(mapped) => unsafe {
                Module::deserialize_mapped(engine, Arc::new(mapped), file)
            },
            // SAFETY: the caller vouches for the bytes.
            crate::mapped_file::FileBytes::Read(bytes) => unsafe {
                Module::deserialize(engine, bytes)
            },
        }
    }

    /// Validates a binary against `engine`'s features without compiling it.
    pub fn validate(engine: &Engine, wasm: &[u8]) -> Result<()> {
        module_info::parse(wasm, engine.compiler().config().proposals)?;
        Ok(())
    }

    /// The engine that compiled this module.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The module's name from its name section.
    pub fn name(&self) -> Option<&str> {
        self.inner.info.name.as_deref()
    }

    pub(crate) fn info(&self) -> &ModuleInfo {
        &self.inner.info
    }

    /// The module's allocator when it is emmalloc, by its names or its
    /// data, as its compilation for the heap checks found it
    /// ([`walmart_jit::CompiledModule::emmalloc`]): what those checks walk
    /// and the statics where its list of blocks may lie.
    pub(crate) fn emmalloc(&self) -> Option<&walmart_jit::emmalloc::Emmalloc> {
        self.inner.compiled.emmalloc.as_ref()
    }

    /// Imports: (module, name, type), in order.
    pub fn imports(&self) -> impl Iterator<Item = (&str, &str, ExternType)> + '_ {
        let info = &self.inner.info;
        let ids = &self.inner.type_ids;
        info.imports.iter().map(move |i| {
            let ty = match &i.kind {
                ImportKind::Func(t, _) => {
                    ExternType::Func(FuncType::from_sig(&info.types[*t as usize]))
                }
                ImportKind::Table(t) => ExternType::Table(TableType::from_plan(t, ids)),
                ImportKind::Memory(m) => ExternType::Memory(MemoryType::from_plan(m)),
                ImportKind::Global(g) => ExternType::Global(GlobalType::from_plan(g, ids)),
                ImportKind::Tag(t) => ExternType::Tag(tag_type(info, *t)),
            };
            (i.module.as_str(), i.name.as_str(), ty)
        })
    }

    /// Exports: (name, type), in order.
    pub fn exports(&self) -> impl Iterator<Item = (&str, ExternType)> + '_ {
        let info = &self.inner.info;
        let ids = &self.inner.type_ids;
        info.exports.iter().map(move |(name, kind)| {
            let ty = match *kind {
                ExportKind::Func(f) => ExternType::Func(FuncType::from_sig(info.func_sig(f))),
                ExportKind::Table(t) => {
                    ExternType::Table(TableType::from_plan(&info.tables[t as usize], ids))
                }
                ExportKind::Memory(m) => {
                    ExternType::Memory(MemoryType::from_plan(&info.memories[m as usize]))
                }
                ExportKind::Global(g) => {
                    ExternType::Global(GlobalType::from_plan(&info.globals[g as usize], ids))
                }
                ExportKind::Tag(t) => ExternType::Tag(tag_type(info, info.tags[t as usize])),
            };
            (name.as_str(), ty)
        })
    }
}

/// Where a module's memory image comes from.
enum ImageSource<'a> {
    /// Made from its data segments, into a memfd.
    Build,
    /// Mapped from the precompiled file it was loaded from: `len` bytes
    /// at `offset` in `file`, memory 0's from byte `start` on.
    File {
        file: &'a std::fs::File,
        offset: u64,
        start: u64,
        len: u64,
    },
}

/// The tag type of a module's type `index`.
pub(crate) fn tag_type(info: &ModuleInfo, index: u32) -> crate::TagType {
    crate::TagType::new(FuncType::from_sig(&info.types[index as usize]))
}

/// A module file's bytes, or an error naming the file.
pub(crate) fn read_file(path: &std::path::Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))
}

/// Why a precompiled module's fingerprint `found` does not fit this
/// engine's `here`: the first line that differs.
fn fingerprint_mismatch(found: &str, here: &str) -> String {
    let mut theirs = found.lines();
    let mut ours = here.lines();
    loop {
        let (a, b) = match (theirs.next(), ours.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (a, b) => (a.unwrap_or("(nothing)"), b.unwrap_or("(nothing)")),
        };
        // The first lines name the build (`Compiler::fingerprint`,
        // `Engine::fingerprint`).
        let what = if a.starts_with("walmart-") {
            "compiled by another build of walmart"
        } else if ["attest: ", "allocator_events: ", "tags: "]
            .iter()
            .any(|p| a.starts_with(p))
        {
            // The attestation policy shapes the code: the one `walmart
            // compile --attest` was given must be the run's.
            "compiled for another attestation policy (the policy, `--attest` or `Config::attest`, \
             and its code options must be the compile's)"
        } else {
            "compiled with other settings"
        };
        return format!(
            "{what}: `{a}`, where this engine has `{b}` (compile it again with this \
             build and this engine's settings)"
        );
    }
}

/// A text-format error on one line: the parser's message and where
/// (`line L, column C`), without the source excerpt it draws below.
fn one_line(rendered: &str) -> String {
    let mut lines = rendered.lines();
    let message = lines.next().unwrap_or_default().trim();
    let place = lines
        .find_map(|l| l.trim_start().strip_prefix("--> "))
        .and_then(|at| {
            let (rest, column) = at.rsplit_once(':')?;
            let (_, line) = rest.rsplit_once(':')?;
            Some(format!(" (line {line}, column {column})"))
        });
    format!("{message}{}", place.unwrap_or_default())
}
