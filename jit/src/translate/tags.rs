//! The colour-tag memory-safety monitor in generated code: the inline
//! check before loads and stores of memory 0, and the wrappers that put
//! the module's own allocator under the monitor.
//!
//! Shadow byte of a 16-byte granule: `colour << 4 | valid`, where `valid`
//! is the number of addressable bytes of a partly used granule (0: all
//! 16). Colour 0 is memory the monitor does not manage (stack, data) and,
//! with memory colours, live heap memory too; the runtime gives redzones
//! and freed memory colours no pointer carries. An access passes when the
//! granules of its first and last byte carry the pointer's colour (0 with
//! memory colours) and its last byte lies below `valid`.

use std::collections::{HashMap, HashSet};

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    self, types, BlockArg, Function, InstBuilder, MemFlagsData, UserFuncName, Value,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use wasmparser::{BinaryReader, FunctionBody, Operator};

use super::call::call_defined;
use super::trampolines::Trampoline;
use super::{call_builtin, wasm_signature, FuncTranslator, ModuleEnv};
use crate::error::CompileError;
use crate::module_info::ModuleInfo;
use crate::trap::TrapKind;
use crate::vmctx::{self, AllocRole, Builtin, TagAction};

/// What the tag monitor asks of the code generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TagCodegen {
    /// Pointers carry a colour in their top bits: every access of memory 0
    /// strips it, and the check compares it with the granules' colour.
    pub pointer_colours: bool,
    /// Loads are checked as well as stores (off: write-only checking).
    pub check_loads: bool,
    /// Every checked access is also reported to the runtime (`--trace`).
    pub trace_accesses: bool,
    /// Functions whose stack frame has clang's shape get a guard above
    /// it ([`super::stack_guard`]).
    pub stack_guards: bool,
}

/// Checked ranges remembered per straight-line run: a long run (an
/// unrolled loop) would otherwise make each access scan all before it.
const MAX_CHECKED_RANGES: usize = 16;

/// Bytes `[lo, hi)` past a Wasm address value that a check in the current
/// straight-line run has covered: until a branch or a call (the only ways
/// the runtime can recolour memory), another access within them through
/// the same value needs no check of its own (`x[i] += y` checks once).
#[derive(Clone, Copy, Debug)]
pub(crate) struct CheckedRange {
    index: Value,
    lo: u64,
    hi: u64,
    /// Checked as a store: covers loads too, which are checked no less
    /// strictly (a load may also read on to the end of a partly used
    /// granule, see [`FuncTranslator::tag_check`]).
    write: bool,
}

/// The module's allocator as the tag monitor wraps it.
#[derive(Clone, Debug, Default)]
pub struct AllocatorPlan {
    /// Wrapped functions (Wasm index, role). The module's own body of the
    /// `k`th is compiled as an extra function, called as
    /// [`AllocatorPlan::real_index`]`(k)`; its index runs the wrapper.
    pub wrapped: Vec<(u32, AllocRole)>,
    /// Functions compiled without tag checks: the allocator's own code
    /// (helpers only the allocator calls), which legitimately touches
    /// chunk headers and freed memory.
    pub exempt: HashSet<u32>,
    base: u32,
}

impl AllocatorPlan {
    /// Finds the allocator functions (by name, else by export) and the
    /// helpers only they call.
    pub fn new(info: &ModuleInfo, wasm: &[u8]) -> Result<AllocatorPlan, CompileError> {
        let n_imp = info.num_imported_funcs;
        let wrapped: Vec<(u32, AllocRole)> = (n_imp..n_imp + info.num_defined_funcs())
            .filter_map(|f| info.allocator_role(f).map(|r| (f, r)))
            .collect();
        let mut plan = AllocatorPlan {
            exempt: HashSet::new(),
            base: n_imp + info.func_bodies.len() as u32,
            wrapped,
        };
        if plan.wrapped.is_empty() {
            return Ok(plan);
        }
        // Direct call graph: callee -> callers.
        let mut callers: HashMap<u32, HashSet<u32>> = HashMap::new();
        let mut callees: HashMap<u32, Vec<u32>> = HashMap::new();
        for (i, range) in info.func_bodies.iter().enumerate() {
            let f = n_imp + i as u32;
            let body =
                FunctionBody::new(BinaryReader::new(&wasm[range.clone()], range.start as u64));
            let mut ops = body.get_operators_reader()?;
            while !ops.eof() {
                if let Operator::Call { function_index } | Operator::ReturnCall { function_index } =
                    ops.read()?
                {
                    callers.entry(function_index).or_default().insert(f);
                    callees.entry(f).or_default().push(function_index);
                }
            }
        }
        let roots: HashSet<u32> = plan.wrapped.iter().map(|(f, _)| *f).collect();
        let escaping: HashSet<u32> = info.escaping_funcs.iter().copied().collect();
        // Candidates: defined, non-escaping functions the allocator reaches.
        let mut private = HashSet::new();
        let mut work: Vec<u32> = roots.iter().copied().collect();
        while let Some(f) = work.pop() {
            for &c in callees.get(&f).into_iter().flatten() {
                if c >= n_imp && !roots.contains(&c) && !escaping.contains(&c) && private.insert(c)
                {
                    work.push(c);
                }
            }
        }
        // Keep those every caller of which is allocator code.
        loop {
            let outside: Vec<u32> = private
                .iter()
                .copied()
                .filter(|c| {
                    callers
                        .get(c)
                        .into_iter()
                        .flatten()
                        .any(|caller| !roots.contains(caller) && !private.contains(caller))
                })
                .collect();
            if outside.is_empty() {
                break;
            }
            for c in outside {
                private.remove(&c);
            }
        }
        plan.exempt = private;
        Ok(plan)
    }

    /// Whether a function of `role` is wrapped.
    pub fn has(&self, role: AllocRole) -> bool {
        self.wrapped.iter().any(|(_, r)| *r == role)
    }

    /// The index the module's own body of wrapped function `k` is called
    /// by: functions after the defined ones.
    pub fn real_index(&self, k: usize) -> u32 {
        self.base + k as u32
    }

    /// The module's own body of a function of `role`: the index it is
    /// called by, and the wrapped function (whose signature it has).
    fn real_of(&self, role: AllocRole) -> Option<(u32, u32)> {
        let k = self.wrapped.iter().position(|(_, r)| *r == role)?;
        Some((self.real_index(k), self.wrapped[k].0))
    }

    /// The wrapper position of Wasm function `func`, if it is wrapped.
    pub fn position(&self, func: u32) -> Option<usize> {
        self.wrapped.iter().position(|(f, _)| *f == func)
    }
}

/// The wrapper compiled at the index of allocator function `func`: asks
/// the runtime ([`Builtin::TagEnter`]) what to do, calls the module's own
/// allocator for a chunk with redzones, lets the runtime colour it
/// ([`Builtin::TagExit`]), and hands chunks leaving quarantine to the
/// module's `free` ([`Builtin::TagEvict`]).
pub(crate) fn build_wrapper(
    env: &ModuleEnv<'_>,
    plan: &AllocatorPlan,
    fctx: &mut FunctionBuilderContext,
    func: u32,
    role: AllocRole,
) -> Function {
    use types::{I32, I64};
    let sig = env.info.func_sig(func).clone();
    let k = plan.position(func).expect("a wrapped function");
    let mut f = Function::with_name_signature(UserFuncName::user(0, func), wasm_signature(&sig));
    let mut b = FunctionBuilder::new(&mut f, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let params = b.block_params(entry).to_vec();
    let vmctx = params[0];
    let args = params[2..].to_vec();
    if env.config.attest.allocator_calls {
        // In place of the body's entry, which does not count.
        super::hooks::count_allocator_calls(&mut b, env.pointer_type, vmctx, 1);
    }
    let zero = b.ins().iconst(I32, 0);
    let mut a = args.clone();
    a.resize(3, zero);
    let fp = b.ins().get_frame_pointer(I64);
    let role_v = b.ins().iconst(I32, role as i64);
    let r = call_builtin(
        &mut b,
        env.pointer_type,
        env.host_call_conv,
        vmctx,
        Builtin::TagEnter,
        &[I32, I32, I32, I32, I64],
        &[I64],
        &[role_v, a[0], a[1], a[2], fp],
    )[0];
    let hi = b.ins().ushr_imm_s(r, 32);
    let action = b.ins().ireduce(I32, hi);
    let value = b.ins().ireduce(I32, r);

    let pass = b.create_block();
    let alloc = b.create_block();
    let ret = b.create_block();
    let trap = b.create_block();
    let evict = b.create_block();
    b.append_block_param(evict, I32);
    let hand_back = b.create_block();
    let out = b.create_block();
    b.append_block_param(out, I32);
    let default = b.func.dfg.block_call(trap, &[]);
    let targets = [pass, alloc, ret, trap].map(|t| b.func.dfg.block_call(t, &[]));
    let jt = b.create_jump_table(ir::JumpTableData::new(default, &targets));
    debug_assert_eq!(TagAction::Trap as u32, 3);
    b.ins().br_table(action, jt);

    b.switch_to_block(pass);
    b.seal_block(pass);
    let call = call_defined(&mut b, &sig, plan.real_index(k), vmctx, &args);
    let res = b.inst_results(call).to_vec();
    b.ins().return_(&res);

    b.switch_to_block(alloc);
    b.seal_block(alloc);
    let own = (plan.real_index(k), func);
    let ((callee, sig_of), call_args) = match role {
        AllocRole::Malloc | AllocRole::Free => (own, vec![value]),
        AllocRole::Calloc | AllocRole::Realloc => match plan.real_of(AllocRole::Malloc) {
            Some(malloc) => (malloc, vec![value]),
            None => {
                let first = if role == AllocRole::Calloc { 1 } else { 0 };
                let first = b.ins().iconst(I32, first);
                (own, vec![first, value])
            }
        },
        AllocRole::AlignedAlloc => (own, vec![args[0], value]),
        AllocRole::PosixMemalign => (own, vec![args[0], args[1], value]),
    };
    let call = call_defined(&mut b, env.info.func_sig(sig_of), callee, vmctx, &call_args);
    let got = b.inst_results(call).first().copied().unwrap_or(zero);
    let user = call_builtin(
        &mut b,
        env.pointer_type,
        env.host_call_conv,
        vmctx,
        Builtin::TagExit,
        &[I32],
        &[I32],
        &[got],
    )[0];
    b.ins().jump(evict, &[BlockArg::Value(user)]);

    b.switch_to_block(ret);
    b.seal_block(ret);
    b.ins().jump(evict, &[BlockArg::Value(value)]);

    b.switch_to_block(trap);
    b.seal_block(trap);
    b.ins().trap(TrapKind::AttestationViolation.code());

    b.switch_to_block(evict);
    let result = b.block_params(evict)[0];
    let q = call_builtin(
        &mut b,
        env.pointer_type,
        env.host_call_conv,
        vmctx,
        Builtin::TagEvict,
        &[],
        &[I64],
        &[],
    )[0];
    let done = b.ins().icmp_imm_s(IntCC::Equal, q, -1);
    b.ins()
        .brif(done, out, &[BlockArg::Value(result)], hand_back, &[]);

    b.switch_to_block(hand_back);
    b.seal_block(hand_back);
    if let Some((free, free_func)) = plan.real_of(AllocRole::Free) {
        let chunk = b.ins().ireduce(I32, q);
        call_defined(&mut b, env.info.func_sig(free_func), free, vmctx, &[chunk]);
    }
    b.ins().jump(evict, &[BlockArg::Value(result)]);
    b.seal_block(evict);

    b.switch_to_block(out);
    b.seal_block(out);
    let result = b.block_params(out)[0];
    if sig.results.is_empty() {
        b.ins().return_(&[]);
    } else {
        b.ins().return_(&[result]);
    }
    b.finalize(env.frontend_config);
    f
}

impl FuncTranslator<'_, '_> {
    /// The monitor's settings when it watches memory `mem`: memory 0,
    /// guarded (its shadow sits at a fixed bias from its base).
    fn tags_for(&self, mem: u32) -> Option<TagCodegen> {
        self.env
            .config
            .tags
            .filter(|_| mem == 0 && self.memory_never_moves(mem))
    }

    /// The native address of a `size`-byte access at `index + offset` of
    /// memory `mem`, with the tag monitor's work before it: the pointer's
    /// colour stripped, and the access checked (see the module docs).
    /// Also returns the index as used (stripped), for the store barrier.
    pub(crate) fn heap_access(
        &mut self,
        mem: u32,
        index: Value,
        offset: u64,
        size: u32,
        write: bool,
    ) -> (Value, Value) {
        let Some(t) = self.tags_for(mem) else {
            return (self.heap_addr(mem, index, offset, size), index);
        };
        let tagged = index;
        let index = if t.pointer_colours {
            self.builder
                .ins()
                .band_imm_s(index, i64::from(vmctx::TAG_ADDR_MASK))
        } else {
            index
        };
        let addr = self.heap_addr(mem, index, offset, size);
        // Saturated: an offset near `u64::MAX` traps in `heap_addr`.
        let end = offset.saturating_add(u64::from(size));
        // The check's own blocks make a local read after it a block
        // parameter that the frontend then resolves to an alias.
        let dfg = &self.builder.func.dfg;
        let tagged = dfg.resolve_aliases(tagged);
        // A trace wants every access.
        let covered = !t.trace_accesses
            && self.tag_checked.iter().any(|c| {
                dfg.resolve_aliases(c.index) == tagged
                    && c.lo <= offset
                    && end <= c.hi
                    && (c.write || !write)
            });
        if self.tag_checks && (write || t.check_loads) && !covered {
            self.tag_check(addr, tagged, offset, size, write, t.pointer_colours);
            if self.tag_checked.len() == MAX_CHECKED_RANGES {
                self.tag_checked.remove(0);
            }
            self.tag_checked.push(CheckedRange {
                index: tagged,
                lo: offset,
                hi: end,
                write,
            });
            if t.trace_accesses {
                let at = self.wasm_address(tagged, offset);
                let sw = self
                    .builder
                    .ins()
                    .iconst(types::I32, i64::from(size | (u32::from(write) << 8)));
                self.call_builtin(Builtin::TagTrace, &[types::I64, types::I32], &[], &[at, sw]);
            }
        }
        (addr, index)
    }

    /// A bulk-memory operand of memory 0 under the tag monitor: checks
    /// `len` bytes at `ptr` ([`Builtin::TagCheck`]) and strips the colour.
    /// Other memories' operands come back as they are.
    pub(crate) fn tag_bulk_operand(
        &mut self,
        mem: u32,
        ptr: Value,
        len: Option<Value>,
        write: bool,
    ) -> Value {
        let Some(t) = self.tags_for(mem) else {
            return ptr;
        };
        if let (Some(len), true) = (len, self.tag_checks) {
            let at = self.builder.ins().uextend(types::I64, ptr);
            let len = self.builder.ins().uextend(types::I64, len);
            self.call_tag_check(at, len, write);
        }
        if t.pointer_colours {
            self.builder
                .ins()
                .band_imm_s(ptr, i64::from(vmctx::TAG_ADDR_MASK))
        } else {
            ptr
        }
    }

    /// Asks the runtime to check `len` bytes at Wasm address `at` (colour
    /// bits included; [`Builtin::TagCheck`]) and traps if it says so.
    fn call_tag_check(&mut self, at: Value, len: Value, write: bool) {
        use types::I64;
        // The runtime may look at the dirty bitmap.
        self.flush_marks();
        let len_write = if write {
            self.builder.ins().bor_imm_s(len, i64::MIN)
        } else {
            len
        };
        let site = (u64::from(self.func_index) << 32) | u64::from(self.offset);
        let site = self.builder.ins().iconst(I64, site as i64);
        let fp = self.builder.ins().get_frame_pointer(I64);
        self.call_trampoline(Trampoline::TagCheck, &[at, len_write, site, fp]);
    }

    /// `index + offset` as a 64-bit Wasm address, colour bits included.
    fn wasm_address(&mut self, index: Value, offset: u64) -> Value {
        let wide = self.builder.ins().uextend(types::I64, index);
        self.builder.ins().iadd_imm_s(wide, offset as i64)
    }

    /// The inline check: under memory colours, one compare with the heap's
    /// floor; then two shadow loads and one compare; a cold block for
    /// partly used granules; a colder one calling [`Builtin::TagCheck`].
    fn tag_check(
        &mut self,
        addr: Value,
        tagged: Value,
        offset: u64,
        size: u32,
        write: bool,
        pointer_colours: bool,
    ) {
        // The branches below end straight-line runs of store marks.
        self.flush_marks();
        let last = if size == 1 {
            addr
        } else {
            self.builder.ins().iadd_imm_s(addr, i64::from(size - 1))
        };
        let cont = self.builder.create_block();
        if !pointer_colours {
            // Static data and the C stack lie below the heap, where no
            // granule is ever coloured: one compare instead of the shadow.
            // (A coloured pointer down there is itself a violation, so
            // pointer colours always look.)
            let def = self.memory_def(0);
            let floor = self.builder.ins().load(
                types::I64,
                super::vm_flags(),
                def,
                vmctx::MEMORY_TAG_FLOOR,
            );
            let below = self
                .builder
                .ins()
                .icmp(IntCC::UnsignedLessThan, last, floor);
            let heap = self.builder.create_block();
            self.builder.ins().brif(below, cont, &[], heap, &[]);
            self.builder.switch_to_block(heap);
            self.builder.seal_block(heap);
        }
        self.tag_check_shadow(
            addr,
            last,
            tagged,
            offset,
            size,
            write,
            pointer_colours,
            cont,
        );
        self.builder.switch_to_block(cont);
        self.builder.seal_block(cont);
    }

    /// Where the shadow byte of native address `native` lies, for a
    /// memory whose biased shadow pointer is `bias` (`VMMemory::tags`).
    pub(crate) fn shadow_byte(&mut self, bias: Value, native: Value) -> Value {
        let granule = self
            .builder
            .ins()
            .ushr_imm_s(native, i64::from(vmctx::TAG_GRANULE_SHIFT));
        self.builder.ins().iadd(bias, granule)
    }

    /// The shadow part of [`Self::tag_check`]: `last` is the native
    /// address of the access's last byte; ends by jumping to `cont`.
    #[allow(clippy::too_many_arguments)]
    fn tag_check_shadow(
        &mut self,
        addr: Value,
        last: Value,
        tagged: Value,
        offset: u64,
        size: u32,
        write: bool,
        pointer_colours: bool,
        cont: ir::Block,
    ) {
        use types::{I32, I64};
        let def = self.memory_def(0);
        let flags = self.memory_field_flags(0);
        let bias = self.builder.ins().load(I64, flags, def, vmctx::MEMORY_TAGS);
        let shadow = MemFlagsData::trusted();
        let load_shadow = |t: &mut Self, at: Value| {
            let p = t.shadow_byte(bias, at);
            t.builder.ins().uload8(I32, shadow, p, 0)
        };
        let expected = if pointer_colours {
            let c = self
                .builder
                .ins()
                .ushr_imm_s(tagged, i64::from(vmctx::TAG_COLOUR_SHIFT));
            Some(self.builder.ins().ishl_imm_s(c, 4))
        } else {
            None
        };
        let differ = |t: &mut Self, s: Value| match expected {
            Some(e) => t.builder.ins().bxor(s, e),
            None => s,
        };
        let s1 = load_shadow(self, addr);
        let x1 = differ(self, s1);
        let (s2, x2) = if size == 1 {
            (s1, x1)
        } else {
            let s2 = load_shadow(self, last);
            (s2, differ(self, s2))
        };
        let any = if size == 1 {
            x1
        } else {
            self.builder.ins().bor(x1, x2)
        };
        let slow = self.builder.create_block();
        let report = self.builder.create_block();
        self.builder.set_cold_block(slow);
        self.builder.set_cold_block(report);
        self.builder.ins().brif(any, slow, &[], cont, &[]);

        // A partly used last granule is fine below its count; anything
        // else that differs is a violation.
        self.builder.switch_to_block(slow);
        self.builder.seal_block(slow);
        let colour_bad = self
            .builder
            .ins()
            .icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, any, 16);
        let valid = self.builder.ins().band_imm_s(s2, 15);
        let last32 = self.builder.ins().ireduce(I32, last);
        let last_off = self.builder.ins().band_imm_s(last32, 15);
        let partial = self.builder.ins().icmp_imm_s(IntCC::NotEqual, valid, 0);
        let beyond = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, last_off, valid);
        let mut partial_bad = self.builder.ins().band(partial, beyond);
        if !write && size > 1 {
            // Word-at-a-time string functions (strlen, memchr) read whole
            // aligned words that start inside a string: an aligned load
            // whose first byte is valid may run on to the granule's end.
            let addr32 = self.builder.ins().ireduce(I32, addr);
            let misaligned = self.builder.ins().band_imm_s(addr32, i64::from(size - 1));
            let aligned = self.builder.ins().icmp_imm_s(IntCC::Equal, misaligned, 0);
            let first_off = self.builder.ins().band_imm_s(addr32, 15);
            let starts_inside = self
                .builder
                .ins()
                .icmp(IntCC::UnsignedLessThan, first_off, valid);
            let word_read = self.builder.ins().band(aligned, starts_inside);
            let not_word = self.builder.ins().bxor_imm_s(word_read, 1);
            partial_bad = self.builder.ins().band(partial_bad, not_word);
        }
        let bad = self.builder.ins().bor(colour_bad, partial_bad);
        self.builder.ins().brif(bad, report, &[], cont, &[]);

        self.builder.switch_to_block(report);
        self.builder.seal_block(report);
        let at = self.wasm_address(tagged, offset);
        let len = self.builder.ins().iconst(I64, i64::from(size));
        self.call_tag_check(at, len, write);
        self.builder.ins().jump(cont, &[]);
    }
}
