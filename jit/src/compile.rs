//! The compiler: ISA setup, parallel compilation of a module's functions,
//! and the trampolines between the host's array calling convention and
//! Wasm's.

use std::sync::Arc;

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{self, types, AbiParam, InstBuilder, Signature, UserFuncName};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{Context, FinalizedRelocTarget};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use rayon::prelude::*;
use wasmparser::{BinaryReader, FunctionBody};

use crate::code_memory::{
    CodeFile, CodeImage, CodeMemory, CompiledFunction, DebugNames, RelocTarget, Relocation,
};
use crate::error::CompileError;
use crate::module_info::{FuncSig, ModuleInfo};
use crate::sites::Sites;
use crate::translate::exceptions::ExceptionPlan;
use crate::translate::tags::AllocatorPlan;
use crate::translate::trampolines::Trampoline;
use crate::translate::{self, ir_type, wasm_signature, ModuleEnv, TranslateConfig};
use crate::trap::TrapKind;
use crate::vmctx::{self, VMOffsets};

/// Compiles modules and trampolines for the host machine.
pub struct Compiler {
    isa: OwnedTargetIsa,
    config: TranslateConfig,
    /// Where the text of each function is written, if anywhere
    /// ([`Compiler::emit_text`]).
    emit: EmitText,
    /// Whether a module's functions compile on every core (the default)
    /// or on one ([`Compiler::parallel_compilation`]).
    parallel: bool,
}

/// Directories the compiler writes each Wasm function's text into, as it
/// compiles it: for reading what walmart generates (the attestation
/// hooks and barriers a policy weaves in included). Changes no code.
#[derive(Clone, Debug, Default)]
pub struct EmitText {
    /// Cranelift IR as translated, before Cranelift optimises it
    /// (`wasm_func_N.clif`, as wasmtime's `--emit-clif`).
    pub clif: Option<std::path::PathBuf>,
    /// The machine code, as Cranelift prints its instructions
    /// (`wasm_func_N.s`).
    pub asm: Option<std::path::PathBuf>,
}

impl EmitText {
    /// Writes `text` as `dir/stem.ext`.
    fn write(dir: &std::path::Path, stem: &str, ext: &str, text: &str) -> Result<(), CompileError> {
        let path = dir.join(format!("{stem}.{ext}"));
        std::fs::write(&path, text)
            .map_err(|e| CompileError::Emit(format!("cannot write {}: {e}", path.display())))
    }
}

impl std::fmt::Debug for Compiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiler")
            .field("isa", &self.isa.name())
            .field("config", &self.config)
            .finish()
    }
}

/// The machine code of one module.
#[derive(Debug)]
pub struct CompiledModule {
    /// Defined function `i` (Wasm index `num_imported + i`) is function `i` here.
    pub code: Arc<CodeMemory>,
    /// The vmctx layout the code was compiled against.
    pub offsets: VMOffsets,
    /// The allocator the tag monitor wraps, when it does.
    pub tag_plan: Option<AllocatorPlan>,
    /// Where dlmalloc's state lies, by the code of its functions
    /// ([`crate::unnamed_dlmalloc::find`] in a module without names,
    /// [`crate::unnamed_dlmalloc::named_state`] in one with them), when
    /// the heap is checked: a hint the runtime checks.
    pub dlmalloc_state: Option<u32>,
    /// emmalloc as the module's data and code show it
    /// ([`crate::emmalloc::find`]), when the heap is checked: what its
    /// checks were compiled for and what the runtime's walk of its heap
    /// reads.
    pub emmalloc: Option<crate::emmalloc::Emmalloc>,
    /// The module uses exception handling: its calls test for exceptions
    /// and pass them on ([`ExceptionPlan`]).
    pub handles_exceptions: bool,
}

/// What a module's compilation decides from its code before translating
/// any function, and what placing its code needs again.
struct ModulePlans {
    /// The allocator's functions, when the tag monitor wraps them or its
    /// calls are counted.
    allocator: Option<AllocatorPlan>,
    unnamed_dlmalloc: Option<crate::unnamed_dlmalloc::UnnamedDlmalloc>,
    /// emmalloc told by its data and code, under the heap checks
    /// ([`crate::emmalloc`]).
    emmalloc: Option<crate::emmalloc::Emmalloc>,
    exceptions: Option<ExceptionPlan>,
    /// Where dlmalloc's state lies ([`CompiledModule::dlmalloc_state`]).
    dlmalloc_state: Option<u32>,
    /// The tag monitor wraps the allocator.
    tag_monitor: bool,
}

impl ModulePlans {
    fn new(
        config: &TranslateConfig,
        info: &ModuleInfo,
        wasm: &[u8],
    ) -> Result<ModulePlans, CompileError> {
        // The allocator and its helpers: what the tag monitor wraps and
        // exempts, and whose calls to itself the count of allocator calls
        // takes back.
        let allocator = (config.tags.is_some() || config.attest.allocator_calls)
            .then(|| AllocatorPlan::new(info, wasm))
            .transpose()?;
        let emmalloc = config
            .attest
            .heap_floor
            .then(|| crate::emmalloc::find(info, wasm))
            .flatten();
        // A module whose allocator is emmalloc has no dlmalloc to look
        // for: its code would be taken for one by chance.
        let unnamed_dlmalloc = emmalloc
            .is_none()
            .then(|| translate::unnamed_dlmalloc(config, info, wasm))
            .flatten();
        let dlmalloc_state = match &unnamed_dlmalloc {
            Some(d) => Some(d.state),
            None if config.attest.heap_floor && info.dlmalloc => {
                crate::unnamed_dlmalloc::named_state(info, wasm)
            }
            None => None,
        };
        let exceptions = config
            .proposals
            .exceptions
            .then(|| ExceptionPlan::new(info, wasm))
            .flatten();
        Ok(ModulePlans {
            allocator,
            unnamed_dlmalloc,
            emmalloc,
            exceptions,
            dlmalloc_state,
            tag_monitor: config.tags.is_some(),
        })
    }

    /// The allocator plan when the tag monitor wraps the allocator.
    fn tag_plan(&self) -> Option<&AllocatorPlan> {
        self.allocator.as_ref().filter(|_| self.tag_monitor)
    }

    fn facts(&self) -> ModuleFacts {
        ModuleFacts {
            handles_exceptions: self.exceptions.is_some(),
            dlmalloc_state: self.dlmalloc_state,
            emmalloc: self.emmalloc.clone(),
        }
    }
}

/// What placing a module's code needs to know of the module besides the
/// functions, decided as it was compiled; a precompiled module carries it
/// ([`crate::artifact`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModuleFacts {
    /// [`CompiledModule::handles_exceptions`].
    pub handles_exceptions: bool,
    /// [`CompiledModule::dlmalloc_state`].
    pub dlmalloc_state: Option<u32>,
    /// [`CompiledModule::emmalloc`].
    pub emmalloc: Option<crate::emmalloc::Emmalloc>,
}

/// The Wasm function index of each function compilation produces, in
/// order ([`Compiler::compile_functions`]): defined functions, the bodies
/// of the allocator functions the tag monitor wraps, the trampolines.
fn function_indices(
    config: &TranslateConfig,
    info: &ModuleInfo,
    tag_plan: Option<&AllocatorPlan>,
) -> Vec<Option<u32>> {
    let wrapped = tag_plan.map_or(&[][..], |p| &p.wrapped[..]);
    let defined = info.num_imported_funcs..info.num_imported_funcs + info.func_bodies.len() as u32;
    defined
        .chain(wrapped.iter().map(|w| w.0))
        .map(Some)
        .chain(Trampoline::needed(config).into_iter().map(|_| None))
        .collect()
}

/// Places a module's compiled functions in code memory.
fn place(
    wasm: &[u8],
    info: &ModuleInfo,
    place_code: impl FnOnce(DebugNames) -> Result<Arc<CodeMemory>, CompileError>,
    facts: ModuleFacts,
    tag_plan: Option<AllocatorPlan>,
) -> Result<CompiledModule, CompileError> {
    let names = DebugNames {
        module: info.name.clone(),
        funcs: info.func_names.clone(),
        lines: crate::debug_lines::DebugLines::new(
            wasm,
            &info.debug_sections,
            info.code_section_start,
            info.func_bodies.first().map_or(usize::MAX, |b| b.start),
        )
        .map(Arc::new),
    };
    Ok(CompiledModule {
        handles_exceptions: facts.handles_exceptions,
        code: place_code(names)?,
        offsets: VMOffsets::new(info),
        tag_plan,
        dlmalloc_state: facts.dlmalloc_state,
        emmalloc: facts.emmalloc,
    })
}

impl CompiledModule {
    /// What placing this module's code again needs besides its functions.
    pub fn facts(&self) -> ModuleFacts {
        ModuleFacts {
            handles_exceptions: self.handles_exceptions,
            dlmalloc_state: self.dlmalloc_state,
            emmalloc: self.emmalloc.clone(),
        }
    }

    /// Entry address of defined function `i`.
    pub fn defined_func(&self, i: u32) -> *const u8 {
        self.code.function_ptr(i as usize)
    }
}

impl Compiler {
    /// A compiler for the host CPU.
    pub fn new(config: TranslateConfig) -> Result<Compiler, CompileError> {
        let mut flags = settings::builder();
        let set = |flags: &mut settings::Builder, k: &str, v: &str| {
            flags
                .set(k, v)
                .map_err(|e| CompileError::Unsupported(format!("cranelift setting {k}: {e}")))
        };
        set(&mut flags, "opt_level", config.opt_level.cranelift_name())?;
        let canonical = if config.nan_canonicalization {
            "true"
        } else {
            "false"
        };
        set(&mut flags, "enable_nan_canonicalization", canonical)?;
        let verify = cfg!(debug_assertions) || config.debug_verifier;
        set(
            &mut flags,
            "enable_verifier",
            if verify { "true" } else { "false" },
        )?;
        // Frame pointers let the runtime walk Wasm stacks for backtraces.
        set(&mut flags, "preserve_frame_pointers", "true")?;
        set(&mut flags, "enable_probestack", "true")?;
        set(&mut flags, "probestack_strategy", "inline")?;
        set(&mut flags, "unwind_info", "false")?;
        // A function may return more values than the calling convention
        // has registers for (Wasm sets no limit: a generated module
        // returned 19): Cranelift then passes a hidden pointer to a
        // return area, in callers and callees alike. Every call into,
        // out of and within Wasm code goes through signatures built
        // here, so both sides always agree. Deprecated in Cranelift in
        // favour of an explicit `StructReturn` parameter; the pinned
        // version has it.
        set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
        let builder = cranelift_native::builder()
            .map_err(|e| CompileError::Unsupported(format!("host CPU: {e}")))?;
        let isa = builder
            .finish(settings::Flags::new(flags))
            .map_err(|e| CompileError::Unsupported(format!("host CPU: {e}")))?;
        Ok(Compiler {
            isa,
            config,
            emit: EmitText::default(),
            parallel: true,
        })
    }

    /// Whether a module's functions compile on every core (true, the
    /// default) or on one at a time (wasmtime's `parallel_compilation`):
    /// for hosts that must not take every core for a compile. The code
    /// is the same either way.
    pub fn parallel_compilation(&mut self, parallel: bool) {
        self.parallel = parallel;
    }

    /// Runs `work` (which may use rayon) on every core, or, where
    /// compilation is not parallel, on a pool of one thread (the caller
    /// waits for it): one core at a time.
    fn on_cores<R: Send>(&self, work: impl FnOnce() -> R + Send) -> R {
        static ONE: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
        if self.parallel {
            return work();
        }
        let pool = ONE.get_or_init(|| rayon::ThreadPoolBuilder::new().num_threads(1).build().ok());
        match pool {
            Some(pool) => pool.install(work),
            // No thread to be had: here, on every core.
            None => work(),
        }
    }

    /// Writes each function's text into `emit`'s directories as it is
    /// compiled (they must exist).
    pub fn emit_text(&mut self, emit: EmitText) {
        self.emit = emit;
    }

    /// The translation options this compiler applies.
    pub fn config(&self) -> &TranslateConfig {
        &self.config
    }

    /// What the code this compiler generates depends on, one `key: value`
    /// a line: this build of the translator, the target and its CPU
    /// features, Cranelift's settings and every translation option. A
    /// precompiled module runs only where the fingerprint is the same
    /// ([`crate::artifact`]).
    pub fn fingerprint(&self) -> String {
        use std::fmt::Write;
        // Destructured so that a new option cannot be left out.
        let TranslateConfig {
            guard_size,
            proposals,
            attest,
            allocator_events,
            tags,
            consume_fuel,
            fuel_yields,
            epoch_interruption,
            opt_level,
            nan_canonicalization,
            // Checks the compiler, not the code (left out above too).
            debug_verifier: _,
        } = &self.config;
        let mut s = format!(
            "walmart-jit: {} (sources {})\ntarget: {}\n",
            env!("CARGO_PKG_VERSION"),
            env!("WALMART_JIT_SOURCE_HASH"),
            self.isa.triple()
        );
        for line in self.isa.flags().to_string().lines() {
            // The IR verifier checks the compiler, not the code (debug
            // builds run it): a release build's code loads in a debug one.
            if !line.is_empty() && !line.starts_with('[') && !line.starts_with("enable_verifier") {
                let _ = writeln!(s, "cranelift {line}");
            }
        }
        for v in self.isa.isa_flags() {
            let _ = writeln!(s, "cpu {v}");
        }
        let _ = writeln!(s, "guard_size: {guard_size:?}");
        let _ = writeln!(s, "proposals: {proposals:?}");
        let _ = writeln!(s, "attest: {attest:?}");
        let _ = writeln!(s, "allocator_events: {allocator_events:?}");
        let _ = writeln!(s, "tags: {tags:?}");
        let _ = writeln!(s, "consume_fuel: {consume_fuel:?}");
        let _ = writeln!(s, "fuel_yields: {fuel_yields:?}");
        let _ = writeln!(s, "epoch_interruption: {epoch_interruption:?}");
        let _ = writeln!(s, "opt_level: {opt_level:?}");
        let _ = writeln!(s, "nan_canonicalization: {nan_canonicalization:?}");
        s
    }

    /// Compiles every defined function of a (validated) module and places
    /// the code.
    pub fn compile_module(
        &self,
        wasm: &[u8],
        info: &ModuleInfo,
    ) -> Result<CompiledModule, CompileError> {
        let (plans, functions) = self.on_cores(|| {
            let plans = ModulePlans::new(&self.config, info, wasm)?;
            let functions = self.compile_functions(wasm, info, &plans)?;
            Ok::<_, CompileError>((plans, functions))
        })?;
        let facts = plans.facts();
        let tag_plan = plans.allocator.filter(|_| plans.tag_monitor);
        let passes = facts.handles_exceptions;
        let place_code = |names| CodeMemory::new(functions, names, passes);
        place(wasm, info, place_code, facts, tag_plan)
    }

    /// Places code compiled earlier for module `wasm`
    /// ([`CodeMemory::image`] and [`CompiledModule::facts`] of a module
    /// this compiler's settings compiled). The functions' number, Wasm
    /// indices, layout and relocations are checked against the module;
    /// their code and the facts are trusted as they are. With `file`, the
    /// code is mapped from where that file holds `image`'s code
    /// ([`CodeMemory::from_image`]).
    pub fn place_compiled(
        &self,
        wasm: &[u8],
        info: &ModuleInfo,
        image: CodeImage<'_>,
        facts: ModuleFacts,
        file: Option<CodeFile<'_>>,
    ) -> Result<CompiledModule, CompileError> {
        // Of the plans compilation made, only the tag monitor's is needed
        // at run time.
        let tag_plan = self
            .config
            .tags
            .is_some()
            .then(|| AllocatorPlan::new(info, wasm))
            .transpose()?;
        let expected = function_indices(&self.config, info, tag_plan.as_ref());
        let functions = image.functions;
        if functions.len() != expected.len() {
            return Err(CompileError::CodeMemory(format!(
                "{} compiled functions for a module that needs {}",
                functions.len(),
                expected.len()
            )));
        }
        for (i, (f, want)) in functions.iter().zip(&expected).enumerate() {
            if f.func_index != *want {
                return Err(CompileError::CodeMemory(format!(
                    "compiled function {i} is {:?}, where the module needs {want:?}",
                    f.func_index
                )));
            }
        }
        let passes = facts.handles_exceptions;
        let place_code = |names| CodeMemory::from_image(image, names, passes, file);
        place(wasm, info, place_code, facts, tag_plan)
    }

    /// [`Compiler::finish_function`], writing the function's text where
    /// [`Compiler::emit_text`] asks: `wasm_func_N` for function N (the
    /// wrapper, where the tag monitor wraps an allocator function, whose
    /// own body is `wasm_func_N_body`), headed by its name.
    fn finish_emitting(
        &self,
        ctx: &mut Context,
        (func_index, allocator_body, name): (u32, bool, Option<&str>),
        num_imported: u32,
    ) -> Result<CompiledFunction, CompileError> {
        let stem = match allocator_body {
            true => format!("wasm_func_{func_index}_body"),
            false => format!("wasm_func_{func_index}"),
        };
        // The name escaped: a comment line, whatever it holds.
        let heading = match name {
            Some(name) => format!("; wasm function {func_index}: {name:?}\n"),
            None => format!("; wasm function {func_index}\n"),
        };
        if let Some(dir) = &self.emit.clif {
            let text = format!("{heading}{}", ctx.func.display());
            EmitText::write(dir, &stem, "clif", &text)?;
        }
        ctx.set_disasm(self.emit.asm.is_some());
        let compiled = self.finish_function(ctx, Some(func_index), num_imported)?;
        if let Some(dir) = &self.emit.asm {
            let vcode = ctx.compiled_code().and_then(|c| c.vcode.as_deref());
            let text = format!("{heading}{}", vcode.unwrap_or(""));
            EmitText::write(dir, &stem, "s", &text)?;
        }
        Ok(compiled)
    }

    /// Translates and compiles the module's functions, in parallel: defined
    /// functions (a wrapper in place of each wrapped allocator function),
    /// then the allocator's own bodies, then the trampolines.
    fn compile_functions(
        &self,
        wasm: &[u8],
        info: &ModuleInfo,
        plans: &ModulePlans,
    ) -> Result<Vec<CompiledFunction>, CompileError> {
        let plan = plans.tag_plan();
        let env = ModuleEnv {
            info,
            offsets: VMOffsets::new(info),
            config: &self.config,
            pointer_type: self.isa.pointer_type(),
            host_call_conv: self.isa.default_call_conv(),
            frontend_config: self.isa.frontend_config(),
            tag_plan: plan,
            allocator_helpers: plans.allocator.as_ref().map(|a| &a.exempt),
            unnamed_dlmalloc: plans.unnamed_dlmalloc.as_ref(),
            emmalloc_free: plans.emmalloc.as_ref().and_then(|e| e.free),
            emmalloc_buckets: plans.emmalloc.as_ref().and_then(|e| e.buckets),
            exceptions: plans.exceptions.as_ref(),
        };
        let num_imported = info.num_imported_funcs;
        let num_defined = info.func_bodies.len();
        let wrapped = plan.map_or(&[][..], |p| &p.wrapped[..]);
        let mut functions: Vec<CompiledFunction> = (0..num_defined + wrapped.len())
            .into_par_iter()
            .map_init(
                || (Context::new(), FunctionBuilderContext::new()),
                |(ctx, fctx), i| {
                    let (func_index, allocator_body) = match i.checked_sub(num_defined) {
                        Some(k) => (wrapped[k].0, true),
                        None => (num_imported + i as u32, false),
                    };
                    ctx.clear();
                    let wrap = (!allocator_body)
                        .then(|| plan?.position(func_index))
                        .flatten();
                    ctx.func = match (wrap, plan) {
                        (Some(k), Some(plan)) => translate::tags::build_wrapper(
                            &env,
                            plan,
                            fctx,
                            func_index,
                            wrapped[k].1,
                        ),
                        _ => {
                            let range = &info.func_bodies[(func_index - num_imported) as usize];
                            let reader =
                                BinaryReader::new(&wasm[range.clone()], range.start as u64);
                            let body = FunctionBody::new(reader);
                            translate::translate_function(
                                &env,
                                fctx,
                                func_index,
                                &body,
                                allocator_body,
                            )?
                        }
                    };
                    if self.emit.clif.is_none() && self.emit.asm.is_none() {
                        return self.finish_function(ctx, Some(func_index), num_imported);
                    }
                    let name = info.func_names.get(&func_index);
                    self.finish_emitting(ctx, (func_index, allocator_body, name), num_imported)
                },
            )
            .collect::<Result<_, _>>()?;
        for t in Trampoline::needed(&self.config) {
            functions.push(self.trampoline(t)?);
        }
        Ok(functions)
    }

    /// The Cranelift IR walmart generates for function `func_index` of a
    /// module, before optimisation, as text. For inspection and tests.
    pub fn function_ir(&self, wasm: &[u8], func_index: u32) -> Result<String, CompileError> {
        let info = crate::module_info::parse(wasm, self.config.proposals)?;
        let defined = func_index
            .checked_sub(info.num_imported_funcs)
            .filter(|i| (*i as usize) < info.func_bodies.len())
            .ok_or_else(|| {
                CompileError::Unsupported(format!(
                    "function {func_index} is not defined in the module"
                ))
            })?;
        let plans = ModulePlans::new(&self.config, &info, wasm)?;
        let env = ModuleEnv {
            info: &info,
            offsets: VMOffsets::new(&info),
            config: &self.config,
            pointer_type: self.isa.pointer_type(),
            host_call_conv: self.isa.default_call_conv(),
            frontend_config: self.isa.frontend_config(),
            tag_plan: None,
            allocator_helpers: None,
            unnamed_dlmalloc: plans.unnamed_dlmalloc.as_ref(),
            emmalloc_free: plans.emmalloc.as_ref().and_then(|e| e.free),
            emmalloc_buckets: plans.emmalloc.as_ref().and_then(|e| e.buckets),
            exceptions: plans.exceptions.as_ref(),
        };
        let range = info.func_bodies[defined as usize].clone();
        let body = FunctionBody::new(BinaryReader::new(&wasm[range.clone()], range.start as u64));
        let func = translate::translate_function(
            &env,
            &mut FunctionBuilderContext::new(),
            func_index,
            &body,
            false,
        )?;
        Ok(func.display().to_string())
    }

    /// Runs Cranelift on `ctx.func` and collects code, traps, source
    /// locations and relocations.
    fn finish_function(
        &self,
        ctx: &mut Context,
        func_index: Option<u32>,
        num_imported: u32,
    ) -> Result<CompiledFunction, CompileError> {
        let user_names = ctx.func.params.user_named_funcs().clone();
        let code = ctx
            .compile(&*self.isa, &mut ControlPlane::default())
            .map_err(|e| CompileError::Codegen {
                func: func_index.unwrap_or(u32::MAX),
                message: format!("{:?}", e.inner),
            })?;
        let buffer = &code.buffer;
        let mut traps: Vec<(u32, TrapKind)> = buffer
            .traps()
            .iter()
            .filter_map(|t| TrapKind::from_code(t.code).map(|k| (t.offset, k)))
            .collect();
        traps.sort_by_key(|(o, _)| *o);
        let srclocs: Vec<_> = buffer
            .get_srclocs_sorted()
            .iter()
            .filter(|s| !s.loc.is_default())
            .map(|s| (s.start, s.end, s.loc.bits()))
            .collect();
        let mut relocs = Vec::new();
        for r in buffer.relocs() {
            let target = match &r.target {
                FinalizedRelocTarget::Func(off) => RelocTarget::SelfOffset(*off),
                FinalizedRelocTarget::ExternalName(ir::ExternalName::User(name)) => {
                    let callee = user_names[*name].index;
                    RelocTarget::Function((callee - num_imported) as usize)
                }
                FinalizedRelocTarget::ExternalName(other) => {
                    return Err(CompileError::Unsupported(format!(
                        "call to external symbol {other:?}"
                    )))
                }
            };
            relocs.push(Relocation {
                offset: r.offset,
                kind: r.kind,
                target,
                addend: r.addend,
            });
        }
        Ok(CompiledFunction::new(
            buffer.data().to_vec(),
            relocs,
            func_index,
            Sites::new(&traps, &srclocs),
        ))
    }

    /// Compiles a module's preserve-all trampoline `t`.
    fn trampoline(&self, t: Trampoline) -> Result<CompiledFunction, CompileError> {
        let ptr = self.isa.pointer_type();
        let mut ctx = Context::new();
        ctx.func = ir::Function::with_name_signature(UserFuncName::default(), t.signature(ptr));
        let mut fctx = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        t.build(&mut b, ptr, self.isa.default_call_conv());
        b.finalize(self.isa.frontend_config());
        self.finish_function(&mut ctx, None, 0)
    }

    /// Compiles the entry trampoline for signature `sig`: a C-ABI function
    /// `fn(vmctx, code, values: *mut [u128])` that loads the arguments from
    /// `values`, calls `code` with Wasm's convention and stores the results
    /// back into `values`.
    pub fn entry_trampoline(&self, sig: &FuncSig) -> Result<Arc<CodeMemory>, CompileError> {
        let ptr = self.isa.pointer_type();
        let mut tsig = Signature::new(self.isa.default_call_conv());
        tsig.params.extend([AbiParam::new(ptr); 3]);
        let mut ctx = Context::new();
        ctx.func = ir::Function::with_name_signature(UserFuncName::default(), tsig);
        let mut fctx = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        b.seal_block(block);
        let p = b.block_params(block).to_vec();
        let (vmctx, code, values) = (p[0], p[1], p[2]);
        let mut args = vec![vmctx, vmctx];
        for (i, t) in sig.params.iter().enumerate() {
            let flags = ir::MemFlagsData::trusted();
            args.push(
                b.ins()
                    .load(ir_type(*t), flags, values, i as i32 * vmctx::VALUE_SLOT),
            );
        }
        let callee_sig = b.import_signature(wasm_signature(sig));
        let call = b.ins().call_indirect(callee_sig, code, &args);
        let results = b.inst_results(call).to_vec();
        for (i, r) in results.into_iter().enumerate() {
            b.ins().store(
                ir::MemFlagsData::trusted(),
                r,
                values,
                i as i32 * vmctx::VALUE_SLOT,
            );
        }
        b.ins().return_(&[]);
        b.finalize(self.isa.frontend_config());
        let f = self.finish_function(&mut ctx, None, 0)?;
        CodeMemory::new(vec![f], DebugNames::default(), true)
    }

    /// Compiles the host-call stub for signature `sig`: a function with
    /// Wasm's convention whose vmctx is a host context. It spills the
    /// arguments to the stack, calls the context's `dispatch` and traps
    /// with [`TrapKind::HostError`] if the host failed.
    pub fn host_stub(&self, sig: &FuncSig) -> Result<Arc<CodeMemory>, CompileError> {
        let ptr = self.isa.pointer_type();
        let mut ctx = Context::new();
        ctx.func = ir::Function::with_name_signature(UserFuncName::default(), wasm_signature(sig));
        let mut fctx = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        b.seal_block(block);
        let p = b.block_params(block).to_vec();
        let host_ctx = p[0];
        let slots = sig.params.len().max(sig.results.len()).max(1) as u32;
        let slot = b.create_sized_stack_slot(ir::StackSlotData::new(
            ir::StackSlotKind::ExplicitSlot,
            slots * vmctx::VALUE_SLOT as u32,
            4,
        ));
        let caller_vmctx = p[1];
        for (i, v) in p[2..].iter().enumerate() {
            b.ins()
                .stack_store(ptr, *v, slot, i as i32 * vmctx::VALUE_SLOT);
        }
        let values = b.ins().stack_addr(ptr, slot, 0);
        // The stub's own frame: its return address and saved frame
        // pointer lead into the calling Wasm's frames (a backtrace taken
        // while the host runs, the code an exception the host throws
        // returns to).
        let fp = b.ins().get_frame_pointer(ptr);
        let dispatch = b.ins().load(
            ptr,
            ir::MemFlagsData::trusted().with_readonly(),
            host_ctx,
            vmctx::HOST_DISPATCH,
        );
        let mut dsig = Signature::new(self.isa.default_call_conv());
        dsig.params.extend([AbiParam::new(ptr); 4]);
        dsig.returns.push(AbiParam::new(types::I32));
        let dsig = b.import_signature(dsig);
        let call = b
            .ins()
            .call_indirect(dsig, dispatch, &[host_ctx, caller_vmctx, values, fp]);
        let status = b.inst_results(call)[0];
        b.ins().trapnz(status, TrapKind::HostError.code());
        let mut results = Vec::new();
        for (i, t) in sig.results.iter().enumerate() {
            results.push(
                b.ins()
                    .stack_load(ptr, ir_type(*t), slot, i as i32 * vmctx::VALUE_SLOT),
            );
        }
        b.ins().return_(&results);
        b.finalize(self.isa.frontend_config());
        let f = self.finish_function(&mut ctx, None, 0)?;
        CodeMemory::new(vec![f], DebugNames::default(), true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_debug_verifier_switches_cranelifts_own() {
        let config = TranslateConfig {
            debug_verifier: true,
            ..Default::default()
        };
        assert!(Compiler::new(config).unwrap().isa.flags().enable_verifier());
        // Off, unless this is a debug build (which always checks).
        let plain = Compiler::new(TranslateConfig::default()).unwrap();
        assert_eq!(plain.isa.flags().enable_verifier(), cfg!(debug_assertions));
    }
}
