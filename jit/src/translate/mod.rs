//! The translation driver: one Wasm function body to one Cranelift function.
//!
//! The translator keeps Wasm's operand stack as a stack of SSA values and
//! its control stack as [`ControlFrame`]s. Operator families live in the
//! sibling modules (`control`, `numeric`, `conversions`, `memory`, `table`,
//! `call`, `variables`), each an `impl` block on [`FuncTranslator`].

mod atomics;
pub(crate) mod call;
mod control;
mod conversions;
mod emmalloc_check;
pub mod exceptions;
mod gc;
mod gc_objects;
pub(crate) mod hooks;
mod interrupts;
mod memory;
mod numeric;
mod simd;
pub mod stack_guard;
mod table;
pub mod tags;
pub(crate) mod trampolines;
mod variables;
mod wide_arithmetic;

use cranelift_codegen::ir::{
    self, types, AbiParam, ArgumentPurpose, BlockArg, Function, InstBuilder, MemFlagsData,
    Signature, UserFuncName, Value,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use wasmparser::{FunctionBody, Operator};

pub use control::ControlFrame;

use crate::error::CompileError;
use crate::module_info::{FuncSig, ModuleInfo, WasmType};
use crate::trap::TrapKind;
use crate::vmctx::{self, Builtin, VMOffsets};

/// Options that change the code generated for every function.
#[derive(Clone, Debug, Default)]
pub struct TranslateConfig {
    /// When set, 32-bit memories are reservations of 4 GiB plus this many
    /// guard bytes that never move, so an access whose static offset and
    /// size fit in the guard needs no bounds check: an out-of-bounds one
    /// faults and the fault is the trap. `None`: every access is checked
    /// (and memories may move when they grow).
    pub guard_size: Option<u64>,
    /// The proposals validation accepts (`module_info::features`).
    pub proposals: crate::module_info::Proposals,
    /// Attestation instrumentation woven into every function.
    pub attest: AttestCodegen,
    /// The module's allocator functions (`malloc`, `free`, ... found by
    /// name) report each call to the runtime ([`Builtin::HeapEvent`]).
    pub allocator_events: bool,
    /// The colour-tag monitor's checks and allocator wrappers.
    pub tags: Option<tags::TagCodegen>,
    /// Every function counts the operators it runs against the store's
    /// fuel ([`vmctx::VMRuntimeLimits::fuel_consumed`]) and traps when
    /// it runs out (see `interrupts.rs`).
    pub consume_fuel: bool,
    /// With `consume_fuel`: a count that runs out asks the runtime
    /// (`Builtin::OutOfFuel`), which may refill it from the store's
    /// reserve and yield an asynchronous call, rather than trapping at
    /// once (only engines with async support: the call costs the hot
    /// path more than a trap does).
    pub fuel_yields: bool,
    /// Function entries and loop headers compare the engine's epoch with
    /// the store's deadline (see `interrupts.rs`).
    pub epoch_interruption: bool,
    /// How hard Cranelift optimises.
    pub opt_level: OptLevel,
    /// Every NaN a float operator makes is the canonical one (Cranelift's
    /// `enable_nan_canonicalization`): results the same on every CPU, for
    /// embedders that need deterministic execution.
    pub nan_canonicalization: bool,
    /// Cranelift checks its own IR as it compiles (`enable_verifier`,
    /// always on in debug builds): a check of the compiler, not of the
    /// code, which is the same either way (not in the fingerprint).
    pub debug_verifier: bool,
}

/// How hard Cranelift optimises (wasmtime's `OptLevel`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OptLevel {
    /// No optimisation: the fastest compilation, the slowest code.
    None,
    /// Optimise for speed (the default).
    #[default]
    Speed,
    /// Optimise for speed and for code size.
    SpeedAndSize,
}

impl OptLevel {
    /// Cranelift's name for the level.
    pub fn cranelift_name(self) -> &'static str {
        match self {
            OptLevel::None => "none",
            OptLevel::Speed => "speed",
            OptLevel::SpeedAndSize => "speed_and_size",
        }
    }
}

/// The attestation instrumentation a policy asks of the code generator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AttestCodegen {
    /// Every store, and so every page written, marks the dirty bitmap.
    pub store_barrier: bool,
    /// A hook at every function entry and before every return.
    pub function_hooks: bool,
    /// The barrier also arms the hooks, so the first hook after a write
    /// always snapshots (synchronous attestation: exact blame).
    pub barrier_arms: bool,
    /// The module's dlmalloc functions (found by name) keep the lowest
    /// address they returned in [`vmctx::VMAttestState::heap_floor`]:
    /// where the runtime's check of the allocator's chunk chain starts;
    /// and each of its entry points checks the top chunk's head against
    /// dlmalloc's state (`FuncTranslator::heap_entry_check`); and
    /// dlmalloc's `malloc` and `realloc` mark the slack past each request
    /// (`FuncTranslator::mark_slack`), which `free`, `realloc` and the
    /// runtime's walk check.
    pub heap_floor: bool,
    /// Functions whose stack frame has clang's shape get 16 zero bytes
    /// above it, checked as they return ([`stack_guard`]).
    pub stack_guards: bool,
    /// Each call to one of the module's allocator functions (`malloc`,
    /// `free`, ... by name or export, [`crate::module_info::ModuleInfo::allocator_role`]) from
    /// outside the allocator adds one to
    /// [`vmctx::VMAttestState::allocator_calls`]: a point of the run that
    /// runs of the same program and input share, whatever their timing and
    /// whatever wraps the allocator. Counted at the allocator function's
    /// entry (so calls through a table count too; not in a function that
    /// only forwards to another, whose callee counts) and taken back at
    /// the allocator's own direct calls to its functions (from its
    /// functions and the helpers only they call); the tag monitor's
    /// wrappers count at their entry and call the allocator's bodies,
    /// which do not. The entry also calls the runtime when the count
    /// reaches [`vmctx::VMAttestState::allocator_call_mark`] (not in the
    /// tag monitor's wrappers).
    pub allocator_calls: bool,
}

/// What the translator needs to know about the module being compiled.
pub struct ModuleEnv<'a> {
    pub info: &'a ModuleInfo,
    pub offsets: VMOffsets,
    pub config: &'a TranslateConfig,
    pub pointer_type: ir::Type,
    /// The platform C calling convention, used for builtins.
    pub host_call_conv: CallConv,
    pub frontend_config: cranelift_codegen::isa::TargetFrontendConfig,
    /// The allocator the tag monitor wraps (with [`TranslateConfig::tags`]).
    pub tag_plan: Option<&'a tags::AllocatorPlan>,
    /// Functions only the allocator's functions call
    /// ([`tags::AllocatorPlan::exempt`]), with
    /// [`AttestCodegen::allocator_calls`] or the tag monitor.
    pub allocator_helpers: Option<&'a std::collections::HashSet<u32>>,
    /// dlmalloc told by its code, in a module without names under
    /// [`AttestCodegen::heap_floor`] (`crate::unnamed_dlmalloc`).
    pub unnamed_dlmalloc: Option<&'a crate::unnamed_dlmalloc::UnnamedDlmalloc>,
    /// emmalloc's `free` told by its code, in a module without emmalloc's
    /// names under [`AttestCodegen::heap_floor`] ([`crate::emmalloc`]).
    pub emmalloc_free: Option<u32>,
    /// Where emmalloc's buckets lie, where the module's data places them,
    /// under [`AttestCodegen::heap_floor`] ([`crate::emmalloc`]).
    pub emmalloc_buckets: Option<u32>,
    /// How the module handles exceptions; `None`: it uses none, and its
    /// calls are compiled without tests for them.
    pub exceptions: Option<&'a exceptions::ExceptionPlan>,
}

impl ModuleEnv<'_> {
    /// Whether defined function `func` is one of dlmalloc's entries: by
    /// its name ([`ModuleInfo::enters_dlmalloc`]) or, without names, by
    /// its code.
    pub fn enters_dlmalloc(&self, func: u32) -> bool {
        self.info.enters_dlmalloc(func)
            || self
                .unnamed_dlmalloc
                .is_some_and(|d| d.entries.binary_search(&func).is_ok())
    }

    /// The request whose chunk defined function `func`, one of dlmalloc's
    /// entries, may take from a small bin or a tree bin, for the entry's
    /// check of that bin (`FuncTranslator::bin_take_check`): by name, `malloc`'s size,
    /// `realloc`'s new size (it allocates anew when it cannot resize in
    /// place) and `calloc`'s product; without names, the first parameter
    /// of every entry of `malloc`'s signature (any value is safe to check
    /// with: the check reads, and a sound heap passes it).
    pub fn bin_request(&self, func: u32) -> Option<BinRequest> {
        use crate::vmctx::AllocRole::{Calloc, Malloc, Realloc};
        if self.info.dlmalloc {
            return match self.info.allocator_role(func)? {
                Malloc => Some(BinRequest::Param(0)),
                Realloc => Some(BinRequest::Param(1)),
                Calloc => Some(BinRequest::Product),
                _ => None,
            };
        }
        let d = self.unnamed_dlmalloc?;
        let sig = self.info.func_sig(func);
        let mallocs = sig.params == [WasmType::I32] && sig.results == [WasmType::I32];
        (d.entries.binary_search(&func).is_ok() && mallocs).then_some(BinRequest::Param(0))
    }

    /// The request of defined function `func` when it is one of
    /// emmalloc's allocating entries by name (`malloc`, `calloc`,
    /// `realloc`, `aligned_alloc`, `posix_memalign`, `emmalloc_memalign`)
    /// in a module whose data places emmalloc's buckets, for the check of
    /// the bucket the request takes from
    /// (`FuncTranslator::emmalloc_take_check`).
    pub fn emmalloc_request(&self, func: u32) -> Option<BinRequest> {
        use crate::vmctx::AllocRole::*;
        self.emmalloc_buckets?;
        if !self.info.emmalloc {
            return None;
        }
        match self.info.allocator_role(func)? {
            Malloc => Some(BinRequest::Param(0)),
            Realloc | AlignedAlloc => Some(BinRequest::Param(1)),
            PosixMemalign => Some(BinRequest::Param(2)),
            Calloc => Some(BinRequest::Product),
            Free => None,
        }
    }

    /// Whether defined function `func` is dlmalloc's `free` or `realloc`,
    /// its first parameter a pointer dlmalloc returned: by name, or
    /// without names dlmalloc's one entry of `free`'s signature.
    pub fn frees_dlmalloc_chunk(&self, func: u32) -> bool {
        use crate::vmctx::AllocRole::{Free, Realloc};
        (self.info.dlmalloc && matches!(self.info.allocator_role(func), Some(Free | Realloc)))
            || self.unnamed_dlmalloc.is_some_and(|d| d.free == Some(func))
    }

    /// Whether defined function `func` hands emmalloc a region to free or
    /// resize (its first parameter), in a module whose allocator is
    /// emmalloc: `free` and `realloc`, and emmalloc's own names for them
    /// (a wrapper that forwards to one is checked as well: two checks of
    /// the same region cost a few loads); without names, the `free` its
    /// code shows ([`crate::emmalloc::Emmalloc::free`]).
    pub fn frees_emmalloc_region(&self, func: u32) -> bool {
        use crate::vmctx::AllocRole::{Free, Realloc};
        self.emmalloc_free == Some(func)
            || self.info.emmalloc
                && (matches!(self.info.allocator_role(func), Some(Free | Realloc))
                    || self.info.func_names.get(&func).is_some_and(|n| {
                        matches!(
                            n,
                            "emmalloc_free" | "emmalloc_realloc" | "emmalloc_aligned_realloc"
                        )
                    }) && self.info.func_sig(func).params.first() == Some(&crate::WasmType::I32))
    }
}

/// Where an allocator entry's request lies, for the check of the bin it
/// may take from ([`ModuleEnv::bin_request`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinRequest {
    /// The parameter of this index.
    Param(usize),
    /// The product of the first two (`calloc`'s count and size).
    Product,
}

/// dlmalloc told by its code ([`crate::unnamed_dlmalloc`]) in a module
/// whose names do not name it (none at all, or dlmalloc's functions
/// inlined into others under link-time optimisation), under
/// [`AttestCodegen::heap_floor`].
pub fn unnamed_dlmalloc(
    config: &TranslateConfig,
    info: &ModuleInfo,
    wasm: &[u8],
) -> Option<crate::unnamed_dlmalloc::UnnamedDlmalloc> {
    (config.attest.heap_floor && !info.dlmalloc && !info.emmalloc)
        .then(|| crate::unnamed_dlmalloc::find(info, wasm))
        .flatten()
}

/// The Cranelift type that carries a Wasm value.
pub fn ir_type(ty: WasmType) -> ir::Type {
    match ty {
        WasmType::I32 => types::I32,
        WasmType::I64 => types::I64,
        WasmType::F32 => types::F32,
        WasmType::F64 => types::F64,
        WasmType::V128 => types::I8X16,
        WasmType::FuncRef | WasmType::ExternRef | WasmType::ExnRef | WasmType::AnyRef => types::I64,
    }
}

/// walmart's calling convention for Wasm functions: `tail` (so tail calls
/// can come), the callee's vmctx, the caller's vmctx (host functions use it
/// to find the calling instance), then the Wasm parameters.
pub fn wasm_signature(sig: &FuncSig) -> Signature {
    let mut s = Signature::new(CallConv::Tail);
    s.params
        .push(AbiParam::special(types::I64, ArgumentPurpose::VMContext));
    s.params.push(AbiParam::new(types::I64));
    s.params
        .extend(sig.params.iter().map(|t| AbiParam::new(ir_type(*t))));
    s.returns
        .extend(sig.results.iter().map(|t| AbiParam::new(ir_type(*t))));
    s
}

/// Memory flags for loads of VM structures that never trap and never
/// alias linear memory.
pub(crate) fn vm_flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Wraps values as block-call arguments.
pub(crate) fn block_args(values: &[Value]) -> Vec<BlockArg> {
    values.iter().map(|v| BlockArg::Value(*v)).collect()
}

/// Calls a runtime builtin through the vmctx's builtin table, with the
/// platform calling convention (`vmctx` first, then `args`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn call_builtin(
    b: &mut FunctionBuilder<'_>,
    pointer_type: ir::Type,
    host_call_conv: CallConv,
    vmctx: Value,
    builtin: Builtin,
    params: &[ir::Type],
    returns: &[ir::Type],
    args: &[Value],
) -> Vec<Value> {
    // Builtins are Rust `extern "C"` functions: more than one result
    // would take Cranelift's own return area (`enable_multi_ret_implicit_sret`),
    // which no C ABI matches.
    debug_assert!(returns.len() <= 1, "a builtin returns at most one value");
    let mut sig = Signature::new(host_call_conv);
    sig.params.push(AbiParam::new(pointer_type));
    sig.params.extend(params.iter().map(|t| AbiParam::new(*t)));
    sig.returns
        .extend(returns.iter().map(|t| AbiParam::new(*t)));
    let sig_ref = b.import_signature(sig);
    let fixed = vm_flags().with_readonly().with_can_move();
    let table = b.ins().load(pointer_type, fixed, vmctx, vmctx::BUILTINS);
    let callee = b.ins().load(pointer_type, fixed, table, 8 * builtin as i32);
    let mut all = vec![vmctx];
    all.extend_from_slice(args);
    let call = b.ins().call_indirect(sig_ref, callee, &all);
    b.inst_results(call).to_vec()
}

/// Per-function translation state.
pub struct FuncTranslator<'a, 'b> {
    pub(crate) builder: FunctionBuilder<'b>,
    pub(crate) env: &'a ModuleEnv<'a>,
    pub(crate) vmctx: Value,
    pub(crate) locals: Vec<(Variable, WasmType)>,
    pub(crate) stack: Vec<Value>,
    pub(crate) frames: Vec<ControlFrame>,
    pub(crate) reachable: bool,
    /// Nesting depth of blocks opened while unreachable (skipped).
    pub(crate) dead_depth: usize,
    /// Wasm-level function index, for diagnostics.
    pub(crate) func_index: u32,
    /// Module offset of the operator being translated (hooks report it).
    pub(crate) offset: u32,
    /// Stores whose dirty marks are not emitted yet (see `hooks.rs`).
    pub(crate) pending_marks: Vec<hooks::PendingMark>,
    /// This function's allocator role and its entry parameters, when its
    /// calls are reported (see `hooks.rs`).
    pub(crate) allocator: Option<(vmctx::AllocRole, Vec<Value>)>,
    /// This function returns dlmalloc's chunks and records its results in
    /// [`vmctx::VMAttestState::heap_floor`].
    pub(crate) heap_floor: bool,
    /// The request's size, as this function's call received it, when the
    /// chunk it returns gets slack marks ([`ModuleInfo::slack_request`]).
    pub(crate) slack_request: Option<Value>,
    /// This function is one of dlmalloc's entries, checked on entry, and
    /// copies the top chunk's first free bytes as it returns
    /// (`FuncTranslator::record_top`).
    pub(crate) records_top: bool,
    /// Loads and stores get the tag monitor's checks (not in the
    /// allocator's own code).
    pub(crate) tag_checks: bool,
    /// Accesses the tag check already covers in the current straight-line
    /// run (see [`Self::heap_access`]).
    pub(crate) tag_checked: Vec<tags::CheckedRange>,
    /// The guard above this function's stack frame, under the tag
    /// monitor ([`stack_guard`]).
    pub(crate) frame_guard: Option<stack_guard::FrameGuard>,
    /// This is the allocator's own code (one of its functions, or a
    /// helper only they call) under [`AttestCodegen::allocator_calls`],
    /// not a function that only forwards to another: its direct calls to
    /// the allocator's functions take back the one their entries count.
    pub(crate) allocator_code: bool,
    /// The block that returns with an exception pending, once some call
    /// or throw needs it (see `exceptions.rs`).
    pub(crate) propagate: Option<ir::Block>,
    /// The function's fuel count, under [`TranslateConfig::consume_fuel`].
    pub(crate) fuel: Option<interrupts::FuelState>,
    /// The epoch's counter and deadline, under
    /// [`TranslateConfig::epoch_interruption`].
    pub(crate) epoch: Option<interrupts::EpochState>,
}

/// Translates the body of defined function `func_index` into IR.
/// `allocator_body`: this is the module's own body of a function the tag
/// monitor wraps, compiled without tag checks.
pub fn translate_function(
    env: &ModuleEnv<'_>,
    func_ctx: &mut FunctionBuilderContext,
    func_index: u32,
    body: &FunctionBody<'_>,
    allocator_body: bool,
) -> Result<Function, CompileError> {
    let sig = env.info.func_sig(func_index);
    let mut func =
        Function::with_name_signature(UserFuncName::user(0, func_index), wasm_signature(sig));
    // Prologues compare SP against the limit the runtime keeps in the vmctx,
    // which is how deep recursion becomes `call stack exhausted`.
    let vmctx_gv = func.create_global_value(ir::GlobalValueData::VMContext);
    let flags = func
        .dfg
        .mem_flags
        .insert(vm_flags())
        .expect("one memory-flags entry fits");
    let limits = func.create_global_value(ir::GlobalValueData::Load {
        base: vmctx_gv,
        offset: vmctx::RUNTIME_LIMITS.into(),
        global_type: env.pointer_type,
        flags,
    });
    let limit = func.create_global_value(ir::GlobalValueData::Load {
        base: limits,
        offset: vmctx::LIMITS_STACK_LIMIT.into(),
        global_type: env.pointer_type,
        flags,
    });
    func.stack_limit = Some(limit);

    let mut builder = FunctionBuilder::new(&mut func, func_ctx);
    let entry = builder.create_block();
    builder.append_block_params_for_function_params(entry);
    builder.switch_to_block(entry);
    builder.seal_block(entry);
    let params = builder.block_params(entry).to_vec();
    let vmctx = params[0];

    let mut locals = Vec::new();
    for (ty, value) in sig.params.iter().zip(&params[2..]) {
        let var = builder.declare_var(ir_type(*ty));
        builder.def_var(var, *value);
        locals.push((var, *ty));
    }
    let mut reader = body.get_locals_reader()?;
    for _ in 0..reader.get_count() {
        let (count, ty) = reader.read()?;
        let ty = WasmType::from_parser(ty, &env.info.type_kinds)
            .ok_or_else(|| CompileError::Unsupported(format!("local type {ty:?}")))?;
        let zero = zero_value(&mut builder, ty);
        for _ in 0..count {
            let var = builder.declare_var(ir_type(ty));
            builder.def_var(var, zero);
            locals.push((var, ty));
        }
    }

    // What an allocator function only forwards to, read once.
    let is_allocator = env.info.allocator_role(func_index).is_some();
    let forwards = (is_allocator
        && (env.config.attest.heap_floor || env.config.attest.allocator_calls))
        .then(|| forwards_to(env, body))
        .flatten();
    // wasi-libc's `malloc` forwarding to `dlmalloc`: the callee checks the
    // heap on entry, so the forwarder need not.
    let forwarded = forwards.filter(|&f| env.config.attest.heap_floor && env.enters_dlmalloc(f));
    // Such a function leaves the count of allocator calls to its callee:
    // its entry does not count and its call takes nothing back. Not the
    // body a tag monitor's wrapper calls: the wrapper counted, so its
    // call takes back.
    let counting_forwarder = env.config.attest.allocator_calls
        && !allocator_body
        && forwards.is_some_and(|f| env.info.allocator_role(f).is_some());
    // A body the tag monitor wraps was counted by its wrapper.
    let counts_entry =
        env.config.attest.allocator_calls && is_allocator && !allocator_body && !counting_forwarder;
    // The tag monitor's guards live in the shadow, which only a guarded
    // memory has (as its checks do).
    let guards = match env.config.tags {
        Some(t) => t.stack_guards && env.config.guard_size.is_some(),
        None => env.config.attest.stack_guards,
    };
    let frame_guard = match guards
        .then(|| stack_guard::stack_pointer(env.info))
        .flatten()
    {
        Some(sp) => stack_guard::frame_guard(sp, body)?,
        None => None,
    };
    let mut t = FuncTranslator {
        builder,
        env,
        vmctx,
        locals,
        stack: Vec::new(),
        frames: Vec::new(),
        reachable: true,
        dead_depth: 0,
        func_index,
        offset: body.range().start as u32,
        pending_marks: Vec::new(),
        allocator: env
            .config
            .allocator_events
            .then(|| env.info.allocator_role(func_index))
            .flatten()
            .map(|role| (role, params[2..].to_vec())),
        // Not in a wrapper that only forwards to a function that records
        // the same chunk (wasi-libc's `malloc` calling `dlmalloc`).
        heap_floor: env.config.attest.heap_floor
            && env.info.returns_dlmalloc_chunk(func_index)
            && !forwarded.is_some_and(|callee| env.info.returns_dlmalloc_chunk(callee)),
        tag_checks: env.config.tags.is_some()
            && !allocator_body
            && !env.tag_plan.is_some_and(|p| p.exempt.contains(&func_index)),
        slack_request: None,
        records_top: false,
        tag_checked: Vec::new(),
        frame_guard,
        allocator_code: env.config.attest.allocator_calls
            && !counting_forwarder
            && (is_allocator
                || env
                    .allocator_helpers
                    .is_some_and(|h| h.contains(&func_index))),
        propagate: None,
        fuel: None,
        epoch: None,
    };
    t.push_function_frame(sig);
    // What the entry's checks trap with points at the function's start.
    t.builder.set_srcloc(ir::SourceLoc::new(t.offset));
    t.function_hook(vmctx::HookPoint::Entry);
    t.enter_interruptible();
    // Before the entry's checks, whose findings carry the count.
    if counts_entry {
        t.count_allocator_entry();
    }
    if env.config.attest.heap_floor && env.enters_dlmalloc(func_index) && forwarded.is_none() {
        let request = env.bin_request(func_index).map(|r| t.request_value(r));
        t.heap_entry_check(env.frees_dlmalloc_chunk(func_index), request);
        let one_memory = env.info.memories.len() == 1 && !env.info.memories[0].memory64;
        // Not in a shared memory: another thread's allocator calls would
        // change the top's bytes behind this store's copy.
        t.records_top = one_memory && !env.info.memories[0].shared;
        if let Some(param) = env.info.slack_request(func_index).filter(|_| one_memory) {
            // Captured here: dlmalloc may reuse its parameter's local.
            t.slack_request = Some(t.builder.use_var(t.locals[param].0));
        }
    }
    if env.config.attest.heap_floor && env.frees_emmalloc_region(func_index) {
        t.emmalloc_free_check();
    }
    if let (true, Some(request), Some(buckets)) = (
        env.config.attest.heap_floor,
        env.emmalloc_request(func_index),
        env.emmalloc_buckets,
    ) {
        let request = t.request_value(request);
        t.emmalloc_take_check(request, buckets);
    }
    let mut ops = body.get_operators_reader()?;
    while !ops.eof() {
        let (op, offset) = ops.read_with_offset()?;
        t.builder.set_srcloc(ir::SourceLoc::new(offset as u32));
        t.offset = offset as u32;
        t.translate_guarded(&op, offset)?;
    }
    t.emit_propagate();
    t.builder.finalize(env.frontend_config);
    Ok(func)
}

/// The defined function `body` does nothing but call, once, with locals
/// as the arguments (`local.get`s, one `call` or `return_call`, `end`; a
/// `return` only after the call).
fn forwards_to(env: &ModuleEnv<'_>, body: &FunctionBody<'_>) -> Option<u32> {
    let Ok(mut ops) = body.get_operators_reader() else {
        return None;
    };
    let mut callee = None;
    while !ops.eof() {
        match ops.read() {
            Ok(Operator::LocalGet { .. }) | Ok(Operator::End) => {}
            Ok(Operator::Return) if callee.is_some() => {}
            Ok(Operator::Call { function_index } | Operator::ReturnCall { function_index })
                if callee.is_none() =>
            {
                callee = Some(function_index)
            }
            _ => return None,
        }
    }
    callee.filter(|&f| f >= env.info.num_imported_funcs)
}

/// The zero (or null) value of a type, used to initialise locals.
pub(crate) fn zero_value(builder: &mut FunctionBuilder<'_>, ty: WasmType) -> Value {
    match ty {
        WasmType::I32 => builder.ins().iconst(types::I32, 0),
        WasmType::I64
        | WasmType::FuncRef
        | WasmType::ExternRef
        | WasmType::ExnRef
        | WasmType::AnyRef => builder.ins().iconst(types::I64, 0),
        WasmType::F32 => builder.ins().f32const(0.0),
        WasmType::F64 => builder.ins().f64const(0.0),
        WasmType::V128 => {
            let c = builder.func.dfg.constants.insert(vec![0u8; 16].into());
            builder.ins().vconst(types::I8X16, c)
        }
    }
}

impl FuncTranslator<'_, '_> {
    pub(crate) fn pop(&mut self) -> Value {
        self.stack
            .pop()
            .expect("validated: operand stack underflow")
    }

    pub(crate) fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop();
        let a = self.pop();
        (a, b)
    }

    pub(crate) fn pop3(&mut self) -> (Value, Value, Value) {
        let c = self.pop();
        let (a, b) = self.pop2();
        (a, b, c)
    }

    pub(crate) fn popn(&mut self, n: usize) -> Vec<Value> {
        let at = self.stack.len() - n;
        self.stack.split_off(at)
    }

    pub(crate) fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    /// Emits an unconditional trap and marks the rest of the block dead.
    pub(crate) fn trap(&mut self, kind: TrapKind) {
        self.flush_marks();
        self.builder.ins().trap(kind.code());
        self.reachable = false;
    }

    /// Traps with `kind` when `cond` is non-zero.
    pub(crate) fn trap_if(&mut self, cond: Value, kind: TrapKind) {
        self.builder.ins().trapnz(cond, kind.code());
    }

    /// Loads a pointer that stays fixed for the life of the instance
    /// (vmctx entity pointers), so Cranelift may reuse it freely.
    pub(crate) fn load_fixed_ptr(&mut self, base: Value, offset: i32) -> Value {
        let ty = self.env.pointer_type;
        let flags = vm_flags().with_readonly().with_can_move();
        self.builder.ins().load(ty, flags, base, offset)
    }

    /// Calls a runtime builtin through the vmctx's builtin table.
    pub(crate) fn call_builtin(
        &mut self,
        builtin: Builtin,
        params: &[ir::Type],
        returns: &[ir::Type],
        args: &[Value],
    ) -> Vec<Value> {
        // The runtime may look at the dirty bitmap, and change the shadow.
        self.flush_marks();
        self.tag_checked.clear();
        call_builtin(
            &mut self.builder,
            self.env.pointer_type,
            self.env.host_call_conv,
            self.vmctx,
            builtin,
            params,
            returns,
            args,
        )
    }

    /// Translates one operator.
    fn translate(&mut self, op: &Operator<'_>) -> Result<(), CompileError> {
        if !self.reachable {
            self.forget_unreachable_fuel();
            return self.translate_unreachable(op);
        }
        self.before_operator(op);
        self.translate_reachable(op)
    }

    /// Ends the straight-line run before an operator that branches,
    /// calls, throws or returns (or, as casts and GC objects do, branches
    /// inside): the store barrier's pending marks, the accesses the tag
    /// check covered, and the run's fuel, so that every path out of the
    /// run carries them.
    fn end_run(&mut self) {
        self.flush_marks();
        self.tag_checked.clear();
        self.fuel_flush();
    }

    /// Translates one reachable operator, uncounted: the module's own
    /// (counted first by [`Self::translate`]) or one the instrumentation
    /// adds (`stack_guard.rs`), which costs the guest no fuel.
    pub(crate) fn translate_reachable(&mut self, op: &Operator<'_>) -> Result<(), CompileError> {
        use Operator as O;
        // Control flow and calls end the straight-line run pending store
        // marks and fuel belong to (builtin calls flush the marks on their
        // own).
        match op {
            O::Nop | O::Drop | O::Select | O::TypedSelect { .. } => self.translate_control(op),
            O::Unreachable
            | O::Block { .. }
            | O::Loop { .. }
            | O::If { .. }
            | O::Else
            | O::End
            | O::Br { .. }
            | O::BrIf { .. }
            | O::BrTable { .. }
            | O::BrOnNull { .. }
            | O::BrOnNonNull { .. }
            | O::Return => {
                self.end_run();
                self.translate_control(op)
            }
            // Casts branch inside (the header of an object, the runtime
            // for a non-final type).
            O::BrOnCast { .. }
            | O::BrOnCastFail { .. }
            | O::RefI31
            | O::I31GetS
            | O::I31GetU
            | O::RefEq
            | O::AnyConvertExtern
            | O::ExternConvertAny
            | O::RefTestNonNull { .. }
            | O::RefTestNullable { .. }
            | O::RefCastNonNull { .. }
            | O::RefCastNullable { .. }
            | O::RefCastDescEqNonNull { .. }
            | O::RefCastDescEqNullable { .. }
            | O::BrOnCastDescEq { .. }
            | O::BrOnCastDescEqFail { .. } => {
                self.end_run();
                self.translate_gc(op)
            }
            O::StructNew { .. }
            | O::StructNewDefault { .. }
            | O::StructNewDesc { .. }
            | O::StructNewDefaultDesc { .. }
            | O::RefGetDesc { .. }
            | O::StructGet { .. }
            | O::StructGetS { .. }
            | O::StructGetU { .. }
            | O::StructSet { .. }
            | O::ArrayNew { .. }
            | O::ArrayNewDefault { .. }
            | O::ArrayNewFixed { .. }
            | O::ArrayNewData { .. }
            | O::ArrayNewElem { .. }
            | O::ArrayGet { .. }
            | O::ArrayGetS { .. }
            | O::ArrayGetU { .. }
            | O::ArraySet { .. }
            | O::ArrayLen
            | O::ArrayFill { .. }
            | O::ArrayCopy { .. }
            | O::ArrayInitData { .. }
            | O::ArrayInitElem { .. } => {
                self.end_run();
                self.translate_gc_object(op)
            }
            O::TryTable { .. }
            | O::Throw { .. }
            | O::ThrowRef
            | O::Try { .. }
            | O::Catch { .. }
            | O::CatchAll
            | O::Delegate { .. }
            | O::Rethrow { .. } => {
                self.end_run();
                self.translate_exception(op)
            }
            O::Call { .. }
            | O::CallIndirect { .. }
            | O::ReturnCall { .. }
            | O::ReturnCallIndirect { .. }
            | O::CallRef { .. }
            | O::ReturnCallRef { .. } => {
                self.end_run();
                self.translate_call(op)
            }
            O::LocalGet { .. }
            | O::LocalSet { .. }
            | O::LocalTee { .. }
            | O::GlobalGet { .. }
            | O::GlobalSet { .. } => {
                self.translate_variable(op);
                Ok(())
            }
            O::I32Load { memarg }
            | O::I64Load { memarg }
            | O::F32Load { memarg }
            | O::F64Load { memarg }
            | O::I32Load8S { memarg }
            | O::I32Load8U { memarg }
            | O::I32Load16S { memarg }
            | O::I32Load16U { memarg }
            | O::I64Load8S { memarg }
            | O::I64Load8U { memarg }
            | O::I64Load16S { memarg }
            | O::I64Load16U { memarg }
            | O::I64Load32S { memarg }
            | O::I64Load32U { memarg }
            | O::I32Store { memarg }
            | O::I64Store { memarg }
            | O::F32Store { memarg }
            | O::F64Store { memarg }
            | O::I32Store8 { memarg }
            | O::I32Store16 { memarg }
            | O::I64Store8 { memarg }
            | O::I64Store16 { memarg }
            | O::I64Store32 { memarg } => {
                self.translate_load_store(op, memarg);
                Ok(())
            }
            O::MemorySize { .. }
            | O::MemoryGrow { .. }
            | O::MemoryFill { .. }
            | O::MemoryCopy { .. }
            | O::MemoryInit { .. }
            | O::DataDrop { .. } => {
                self.translate_bulk_memory(op);
                Ok(())
            }
            O::TableGet { .. }
            | O::TableSet { .. }
            | O::TableSize { .. }
            | O::TableGrow { .. }
            | O::TableFill { .. }
            | O::TableCopy { .. }
            | O::TableInit { .. }
            | O::ElemDrop { .. }
            | O::RefNull { .. }
            | O::RefIsNull
            | O::RefAsNonNull
            | O::RefFunc { .. } => {
                self.translate_table(op);
                Ok(())
            }
            _ => {
                if self.translate_numeric(op)
                    || self.translate_conversion(op)
                    || self.translate_simd(op)
                    || self.translate_atomic(op)
                    || self.translate_wide_arithmetic(op)
                {
                    Ok(())
                } else {
                    Err(CompileError::Unsupported(format!(
                        "operator {} in function {}",
                        operator_name(op),
                        self.func_index
                    )))
                }
            }
        }
    }
}

/// A short name for an operator in error messages.
fn operator_name(op: &Operator<'_>) -> String {
    let text = format!("{op:?}");
    let end = text.find([' ', '{', '(']).unwrap_or(text.len());
    let name = &text[..end];
    if name.starts_with("V128")
        || name.starts_with("I8x16")
        || name.starts_with("I16x8")
        || name.starts_with("I32x4")
        || name.starts_with("I64x2")
        || name.starts_with("F32x4")
        || name.starts_with("F64x2")
    {
        format!("{name} (SIMD)")
    } else {
        name.to_string()
    }
}
