//! Attestation instrumentation: the store barrier that keeps the dirty-page
//! bitmap, and the function hooks that hand dirty pages to the runtime.
//!
//! Both are emitted only when the engine's policy asks for them
//! ([`super::AttestCodegen`]), so code compiled without attestation pays
//! nothing.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, Block, InstBuilder, Value};

use super::memory::{heap_flags, never_faults};
use super::trampolines::Trampoline;
use super::{block_args, FuncTranslator};
use crate::vmctx::{self, Builtin, HookPoint};

/// An allocator entry's request as [`FuncTranslator::bin_take_check`]
/// reads it: the bytes asked, the chunk size dlmalloc pads them to, and
/// whether a small bin may serve them.
#[derive(Clone, Copy)]
struct Request {
    bytes: Value,
    size: Value,
    small: Value,
}

/// Groups of stores waiting for their dirty mark, at most: beyond, the
/// oldest is marked at once.
const MAX_PENDING_MARKS: usize = 4;

/// Stores whose dirty mark is not emitted yet. Their indexes are one value
/// `base` plus small constants (`local.get $p` with offsets, or `$p + 8`
/// computed by `i32.add`), so together they cover `[base + lo, base + hi)`
/// (displacements include the static offsets), at most one page long: one
/// mark (with the straddle test) covers them all.
///
/// The mark is computed from one of the stores, `anchor`: its index in a
/// guarded memory, its native address in others. Where no index wrapped
/// around, that is exact. Indexes
/// computed by `i32.add` may wrap around 2^32; with constants below a
/// page, a group can then only mix the top page of a 4 GiB memory with
/// its first two pages, and the mark lands one byte before or up to two
/// bytes after the bitmap: the bitmap keeps slack there and folds it back
/// onto those pages (runtime `DirtyBitmap`), so the mark stays exact.
pub(crate) struct PendingMark {
    mem: u32,
    base: Value,
    anchor: Value,
    anchor_disp: u64,
    lo: u64,
    hi: u64,
}

impl FuncTranslator<'_, '_> {
    /// The store barrier for a `size`-byte store at `index + offset` of
    /// memory `mem` (native address `addr`): its page(s) become dirty.
    ///
    /// Marks are coalesced: stores through one base index in a
    /// straight-line run (an unrolled loop body, a struct's fields) get
    /// one mark, emitted when the run ends, i.e. before any branch, call,
    /// builtin or hook ([`Self::flush_marks`]), so every hook still sees
    /// every page written before it. A trap can end a run early; the
    /// runtime then marks the memory's resident pages instead.
    pub(crate) fn store_barrier(
        &mut self,
        mem: u32,
        index: Value,
        offset: u64,
        size: u32,
        addr: Value,
    ) {
        if !self.env.config.attest.store_barrier {
            return;
        }
        let (base, constant) = self.index_base(index);
        // Saturated: a 64-bit memory's offset near `u64::MAX` trapped in
        // the access before this store (its marks are never reached).
        let disp = constant.saturating_add(offset);
        let end = disp.saturating_add(u64::from(size));
        let page = 1u64 << vmctx::DIRTY_PAGE_SHIFT;
        if let Some(p) = self
            .pending_marks
            .iter_mut()
            .find(|p| p.mem == mem && p.base == base && p.hi.max(end) - p.lo.min(disp) <= page)
        {
            p.lo = p.lo.min(disp);
            p.hi = p.hi.max(end);
            return;
        }
        if self.pending_marks.len() == MAX_PENDING_MARKS {
            let oldest = self.pending_marks.remove(0);
            self.emit_mark(&oldest);
        }
        // A guarded memory's mark is computed from the index (with
        // attestation its bitmap sits `vmctx::GUARDED_DIRTY_BELOW` below
        // the heap base); others from the native address (their bitmap
        // pointer is biased by the base).
        let (anchor, anchor_disp) = if self.memory_never_moves(mem) {
            (self.builder.ins().uextend(types::I64, index), constant)
        } else {
            (addr, disp)
        };
        self.pending_marks.push(PendingMark {
            mem,
            base,
            anchor,
            anchor_disp,
            lo: disp,
            hi: end,
        });
    }

    /// `index` as a base value plus a constant below one page, looking
    /// through `iadd` of constants.
    fn index_base(&self, index: Value) -> (Value, u64) {
        use cranelift_codegen::ir::{InstructionData, Opcode, ValueDef};
        let dfg = &self.builder.func.dfg;
        let constant = |v: Value| match dfg.value_def(v) {
            ValueDef::Result(inst, _) => match dfg.insts[inst] {
                InstructionData::UnaryImm {
                    opcode: Opcode::Iconst,
                    imm,
                } => Some(imm.bits()),
                _ => None,
            },
            _ => None,
        };
        let (mut base, mut total) = (dfg.resolve_aliases(index), 0u64);
        for _ in 0..4 {
            let ValueDef::Result(inst, _) = dfg.value_def(base) else {
                break;
            };
            let InstructionData::Binary {
                opcode: Opcode::Iadd,
                args: [a, b],
            } = dfg.insts[inst]
            else {
                break;
            };
            let (next, c) = match (constant(a), constant(b)) {
                (_, Some(c)) => (a, c),
                (Some(c), _) => (b, c),
                _ => break,
            };
            // Constants are sign-extended to 64 bits; only small positive
            // ones keep the group within a page of its base.
            let c = c as u64;
            if c >= 1 << vmctx::DIRTY_PAGE_SHIFT || total + c >= 1 << vmctx::DIRTY_PAGE_SHIFT {
                break;
            }
            (base, total) = (dfg.resolve_aliases(next), total + c);
        }
        (base, total)
    }

    /// Emits the marks of every pending store (see [`Self::store_barrier`]).
    pub(crate) fn flush_marks(&mut self) {
        if self.pending_marks.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending_marks);
        for p in &pending {
            self.emit_mark(p);
        }
        if self.env.config.attest.barrier_arms {
            let state = self.load_fixed_ptr(self.vmctx, vmctx::ATTEST);
            let armed = self.builder.ins().iconst(types::I32, 1);
            self.builder
                .ins()
                .store(super::vm_flags(), armed, state, vmctx::ATTEST_ARMED);
        }
    }

    /// Marks the page(s) of the stores of `p` (see [`PendingMark`]).
    fn emit_mark(&mut self, p: &PendingMark) {
        let delta = p.lo.wrapping_sub(p.anchor_disp) as i64;
        self.mark_range(p.mem, p.anchor, delta, p.hi - p.lo);
    }

    /// Marks the page(s) of the `size` bytes (at most a page) at `at +
    /// delta` in memory `mem`, where `at` is the index (guarded memories)
    /// or the native address. The bitmap is indexed by page number and
    /// needs no bounds check: the stores did not trap, so their bytes are
    /// inside the memory (or, for a wrapped group, in the bitmap's slack:
    /// the arithmetic shift takes an index just below 0 to the byte before
    /// the bitmap).
    fn mark_range(&mut self, mem: u32, at: Value, delta: i64, size: u64) {
        let at = if delta == 0 {
            at
        } else {
            self.builder.ins().iadd_imm_s(at, delta)
        };
        let def = self.memory_def(mem);
        let flags = self.memory_field_flags(mem);
        let shift = i64::from(vmctx::DIRTY_PAGE_SHIFT);
        let (slot, disp) = if self.memory_never_moves(mem) {
            // The heap base is live at the store: no bitmap pointer to keep.
            let base = self
                .builder
                .ins()
                .load(types::I64, flags, def, vmctx::MEMORY_BASE);
            let page = self.builder.ins().sshr_imm_s(at, shift);
            let slot = self.builder.ins().iadd(base, page);
            (slot, -vmctx::GUARDED_DIRTY_BELOW)
        } else {
            let dirty = self
                .builder
                .ins()
                .load(types::I64, flags, def, vmctx::MEMORY_DIRTY);
            let page = self.builder.ins().ushr_imm_s(at, shift);
            (self.builder.ins().iadd(dirty, page), 0)
        };
        let one = self.builder.ins().iconst(types::I8, 1);
        self.builder.ins().store(super::vm_flags(), one, slot, disp);
        if size > 1 {
            // The bytes may straddle two pages; then the page of the last
            // byte is marked too, which keeps the bitmap exact. The test is
            // a predictable branch: a second store on every access costs
            // far more in store-bound loops (matmul: 2.28x against 1.65x
            // with the branch, before coalescing).
            let mask = (1i64 << vmctx::DIRTY_PAGE_SHIFT) - 1;
            let in_page = self.builder.ins().band_imm_s(at, mask);
            let limit = (1i64 << vmctx::DIRTY_PAGE_SHIFT) - size as i64;
            let straddles =
                self.builder
                    .ins()
                    .icmp_imm_s(IntCC::UnsignedGreaterThan, in_page, limit);
            self.cold_path(straddles, |t| {
                t.builder
                    .ins()
                    .store(super::vm_flags(), one, slot, disp + 1);
            });
        }
    }

    /// A function hook: two instructions while unarmed (load the flag,
    /// branch); when armed, a call into the runtime that snapshots the
    /// dirty pages and may ask for a trap.
    pub(crate) fn function_hook(&mut self, point: HookPoint) {
        if !self.env.config.attest.function_hooks {
            return;
        }
        self.flush_marks();
        let state = self.attest_state();
        let armed =
            self.builder
                .ins()
                .load(types::I32, super::vm_flags(), state, vmctx::ATTEST_ARMED);
        self.cold_path(armed, |t| t.call_hook(point));
    }

    /// The store's `VMAttestState`, loaded afresh at each use: a pointer
    /// shared by a function's hooks would stay live through the whole
    /// function and cost a register or a spill slot (and a store) in
    /// every function.
    fn attest_state(&mut self) -> Value {
        self.builder.ins().load(
            self.env.pointer_type,
            super::vm_flags(),
            self.vmctx,
            vmctx::ATTEST,
        )
    }

    /// Adds `delta` to [`vmctx::VMAttestState::allocator_calls`]
    /// ([`super::AttestCodegen::allocator_calls`]).
    pub(crate) fn count_allocator_call(&mut self, delta: i64) {
        count_allocator_calls(&mut self.builder, self.env.pointer_type, self.vmctx, delta);
    }

    /// At an allocator function's entry: counts the call, and calls the
    /// runtime when the count reaches the store's mark
    /// ([`vmctx::VMAttestState::allocator_call_mark`]).
    pub(crate) fn count_allocator_entry(&mut self) {
        let (state, calls) =
            count_allocator_calls(&mut self.builder, self.env.pointer_type, self.vmctx, 1);
        let mark = self.builder.ins().load(
            types::I64,
            super::vm_flags(),
            state,
            vmctx::ATTEST_ALLOCATOR_CALL_MARK,
        );
        let marked = self.builder.ins().icmp(IntCC::Equal, calls, mark);
        self.cold_path(marked, |t| t.call_hook(HookPoint::AllocatorMark));
    }

    /// Calls the runtime's hook at `point` through the module's hook
    /// trampoline, which clobbers no register: a leaf function stays a
    /// leaf.
    pub(crate) fn call_hook(&mut self, point: HookPoint) {
        let func = self
            .builder
            .ins()
            .iconst(types::I32, i64::from(self.func_index));
        let offset = self
            .builder
            .ins()
            .iconst(types::I32, i64::from(self.offset as i32));
        let point = self.builder.ins().iconst(types::I32, point as i64);
        self.call_trampoline(Trampoline::Hook, &[func, offset, point]);
    }

    /// The store's `VMAttestState` (for the checks that go on to use it),
    /// the address of dlmalloc's state as the runtime recorded it
    /// ([`vmctx::VMAttestState::heap_state`]), and whether that is a state
    /// (not 0, not looked for; not 1, not found).
    fn heap_state(&mut self) -> (Value, Value, Value) {
        let state_ptr = self.attest_state();
        let gm = self.builder.ins().load(
            types::I32,
            super::vm_flags(),
            state_ptr,
            vmctx::ATTEST_HEAP_STATE,
        );
        let known = self.builder.ins().icmp_imm_u(
            IntCC::UnsignedGreaterThan,
            gm,
            i64::from(vmctx::HEAP_STATE_NONE),
        );
        (state_ptr, gm, known)
    }

    /// Calls the runtime at `point` with `arg` in
    /// [`vmctx::VMAttestState::heap_arg`] (the pointer a free check
    /// refused, the request whose tree search to follow).
    pub(crate) fn call_hook_with_arg(&mut self, point: HookPoint, arg: Value) {
        let state_ptr = self.attest_state();
        self.builder
            .ins()
            .store(super::vm_flags(), arg, state_ptr, vmctx::ATTEST_HEAP_ARG);
        self.call_hook(point);
    }

    /// The 32-bit word at `offset + (index << shift)` of dlmalloc's state
    /// (host address `state`): a bin's header or a tree bin's root, the
    /// index kept to the 32 bins by the caller.
    fn state_word(&mut self, state: Value, index: Value, shift: i64, offset: i32) -> Value {
        let at = self.builder.ins().ishl_imm_u(index, shift);
        let at = self.builder.ins().uextend(self.env.pointer_type, at);
        let at = self.builder.ins().iadd(state, at);
        self.builder
            .ins()
            .load(types::I32, never_faults(), at, offset)
    }

    /// The value of an allocator entry's request: a parameter, or
    /// `calloc`'s product of its two.
    pub(crate) fn request_value(&mut self, request: super::BinRequest) -> Value {
        match request {
            super::BinRequest::Param(i) => self.builder.use_var(self.locals[i].0),
            super::BinRequest::Product => {
                let n = self.builder.use_var(self.locals[0].0);
                let size = self.builder.use_var(self.locals[1].0);
                self.builder.ins().imul(n, size)
            }
        }
    }

    /// At the entry of one of dlmalloc's functions, where its heap is
    /// consistent: checks that the top chunk's head is `topsize | PINUSE`,
    /// as dlmalloc's state says, and calls the runtime (through the hook
    /// trampoline, `HookPoint::HeapCheck`) when it is not, or when the
    /// runtime has not looked for the state yet. Why here: an overflow
    /// past the last allocation carved from the top chunk lands on the
    /// top's head, and dlmalloc rewrites that head from its state at its
    /// next allocation from the top or merge into it, erasing the
    /// corruption before a walk at the next import call could see it.
    /// Six loads in a guarded memory (the state's address, the memory's
    /// base, the state's `top` and `topsize`, the top's head: lines
    /// dlmalloc itself reads; addresses through `heap_addr`, so other
    /// memories bound them by their length),
    /// a compare and two predictable branches per call, and the
    /// designated victim's head compared the same way
    /// ([`Self::dv_head_wrong`]: three loads more); not in a wrapper
    /// that only forwards to another of the allocator's functions, which
    /// checks (wasi-libc's `malloc` calling `dlmalloc`). With
    /// `checks_pointer` (`free`, `realloc`), the known-state path goes on
    /// to [`Self::pointer_check`] with the values it loaded (the state's
    /// address, `top`, `dv`, the memory's length where bounded). With a
    /// `request` (`malloc`, `calloc`, `realloc`), it first checks the bin
    /// the request would take a chunk from ([`Self::bin_take_check`]).
    pub(crate) fn heap_entry_check(&mut self, checks_pointer: bool, request: Option<Value>) {
        let info = self.env.info;
        if info.memories.len() != 1 || info.memories[0].memory64 {
            return;
        }
        let (state_ptr, gm, known) = self.heap_state();
        let check = self.builder.create_block();
        let other = self.builder.create_block();
        let done = self.builder.create_block();
        self.builder.set_cold_block(other);
        self.builder.ins().brif(known, check, &[], other, &[]);

        // Not known: ask the runtime to look for it, unless it did.
        self.builder.seal_block(other);
        self.builder.switch_to_block(other);
        let unknown = self.builder.ins().icmp_imm_u(IntCC::Equal, gm, 0);
        self.cold_path(unknown, |t| t.call_hook(HookPoint::HeapCheck));
        self.builder.ins().jump(done, &[]);

        self.builder.seal_block(check);
        self.builder.switch_to_block(check);
        // The runtime records a state whose fields read here lie inside
        // memory, and memory never shrinks.
        let state = self.heap_addr(0, gm, 0, vmctx::HEAP_STATE_BYTES);
        let never_faults = never_faults();
        let top = self
            .builder
            .ins()
            .load(types::I32, never_faults, state, vmctx::HEAP_STATE_TOP);
        let topsize =
            self.builder
                .ins()
                .load(types::I32, never_faults, state, vmctx::HEAP_STATE_TOPSIZE);
        // A guarded memory reads heads without a bound of its own.
        let length = (!self.memory_never_moves(0)).then(|| self.memory_length(0));
        let wrong = self.head_differs(top, topsize, gm, length);
        let (dv, dvsize, dv_wrong) = self.dv_head_wrong(state, gm, length);
        let wrong = self.builder.ins().bor(wrong, dv_wrong);
        let wrong = if info.memories[0].shared {
            wrong
        } else {
            let written = self.top_bytes_written(state_ptr, top, gm);
            self.builder.ins().bor(wrong, written)
        };
        self.cold_path(wrong, |t| t.call_hook(HookPoint::HeapCheck));
        let length = match request {
            Some(request) => {
                let length = length.unwrap_or_else(|| self.memory_length(0));
                self.bin_take_check(state, gm, dvsize, request, length);
                Some(length)
            }
            None => length,
        };
        if checks_pointer {
            self.pointer_check(state_ptr, state, top, dv, length, done);
        } else {
            self.builder.ins().jump(done, &[]);
        }
        self.builder.seal_block(done);
        self.builder.switch_to_block(done);
    }

    /// On the entry check's known-state path: whether the top chunk at
    /// `top` is the one whose first free bytes the allocator's last return
    /// copied ([`Self::record_top`]) and they no longer hold what was
    /// copied. Why: no code but dlmalloc may write into the top chunk,
    /// and dlmalloc writes there only as it moves the top, so a change
    /// while the top stayed put is the program's: an index past the end
    /// of the last allocation that skips the top's head (Oniguruma's
    /// CVE-2017-9226 sets a bit 27 bytes past its 44-byte node), or a
    /// write through a pointer to the last allocation after `free` merged
    /// it into the top. The runtime's walk makes the same comparison and
    /// reports the first byte changed. Reads only where the top is the one
    /// copied (inside memory when copied, and memory never shrinks), else
    /// dlmalloc's state (`gm`, as harmless). Five loads (two pairs of
    /// 16-byte vectors), a vector test and a compare.
    fn top_bytes_written(&mut self, state_ptr: Value, top: Value, gm: Value) -> Value {
        let recorded = self.recorded_top(state_ptr);
        let same = self.builder.ins().icmp(IntCC::Equal, recorded, top);
        let at = self.builder.ins().select(same, top, gm);
        let from = self.top_bytes_at(at);
        let mut differs = None;
        for i in 0..TOP_COPY_VECTORS {
            let now = self
                .builder
                .ins()
                .load(types::I8X16, never_faults(), from, 16 * i);
            let then = self.builder.ins().load(
                types::I8X16,
                copy_flags(),
                state_ptr,
                vmctx::ATTEST_HEAP_TOP_BYTES + 16 * i,
            );
            let x = self.builder.ins().bxor(now, then);
            differs = Some(match differs {
                Some(d) => self.builder.ins().bor(d, x),
                None => x,
            });
        }
        let differs = differs.expect("bytes are copied");
        let differs = self.builder.ins().vany_true(differs);
        self.builder.ins().band(same, differs)
    }

    /// As one of dlmalloc's checked entries returns
    /// ([`super::FuncTranslator::records_top`]): copies the
    /// [`vmctx::HEAP_TOP_COPIED`] bytes past the top chunk's head into
    /// [`vmctx::VMAttestState::heap_top_bytes`] and the top's address into
    /// `heap_top`, for the next entry's [`Self::top_bytes_written`]; 0
    /// where the top is smaller than those bytes (or, in a memory with
    /// bounds checks, lies past memory: the state written over). Nothing
    /// before the runtime has found the state, nor where the top is the
    /// one copied (it did not move, so its bytes did not change). Every
    /// return of these functions looks, so a top that moves and comes
    /// back (an allocation carved from it, then freed into it) is copied
    /// afresh. Three loads and a compare; where the top moved, three
    /// loads and three stores more (the bytes in two 16-byte vectors).
    fn record_top(&mut self) {
        let (state_ptr, gm, known) = self.heap_state();
        let record = self.builder.create_block();
        let copy = self.builder.create_block();
        let done = self.builder.create_block();
        self.builder.ins().brif(known, record, &[], done, &[]);
        self.builder.seal_block(record);
        self.builder.switch_to_block(record);
        let state = self.heap_addr(0, gm, 0, vmctx::HEAP_STATE_BYTES);
        let top = self
            .builder
            .ins()
            .load(types::I32, never_faults(), state, vmctx::HEAP_STATE_TOP);
        let recorded = self.recorded_top(state_ptr);
        // A top that did not move kept its bytes: dlmalloc writes there
        // only as it moves the top, and the entry found them unchanged.
        let moved = self.builder.ins().icmp(IntCC::NotEqual, top, recorded);
        self.builder.ins().brif(moved, copy, &[], done, &[]);
        self.builder.seal_block(copy);
        self.builder.switch_to_block(copy);
        let topsize =
            self.builder
                .ins()
                .load(types::I32, never_faults(), state, vmctx::HEAP_STATE_TOPSIZE);
        let extent = vmctx::HEAP_TOP_COPY_FROM + vmctx::HEAP_TOP_COPIED;
        let ok = self.builder.ins().icmp_imm_u(
            IntCC::UnsignedGreaterThanOrEqual,
            topsize,
            i64::from(extent),
        );
        let ok = if self.memory_never_moves(0) {
            ok
        } else {
            let length = self.memory_length(0);
            let inside = self.fits_in_memory(top, i64::from(extent), length);
            self.builder.ins().band(ok, inside)
        };
        let at = self.builder.ins().select(ok, top, gm);
        let from = self.top_bytes_at(at);
        for i in 0..TOP_COPY_VECTORS {
            let bytes = self
                .builder
                .ins()
                .load(types::I8X16, never_faults(), from, 16 * i);
            self.builder.ins().store(
                copy_flags(),
                bytes,
                state_ptr,
                vmctx::ATTEST_HEAP_TOP_BYTES + 16 * i,
            );
        }
        let zero = self.builder.ins().iconst(types::I32, 0);
        let recorded = self.builder.ins().select(ok, top, zero);
        self.builder.ins().store(
            super::vm_flags(),
            recorded,
            state_ptr,
            vmctx::ATTEST_HEAP_TOP,
        );
        self.builder.ins().jump(done, &[]);
        self.builder.seal_block(done);
        self.builder.switch_to_block(done);
    }

    /// The top chunk whose bytes [`vmctx::VMAttestState::heap_top_bytes`]
    /// holds (0: none), from the store's `VMAttestState` at `state_ptr`.
    fn recorded_top(&mut self, state_ptr: Value) -> Value {
        self.builder.ins().load(
            types::I32,
            super::vm_flags(),
            state_ptr,
            vmctx::ATTEST_HEAP_TOP,
        )
    }

    /// The host address of the bytes the top copy holds of the chunk at
    /// `chunk` (the caller picks a chunk whose bytes lie inside memory).
    fn top_bytes_at(&mut self, chunk: Value) -> Value {
        self.heap_addr(
            0,
            chunk,
            u64::from(vmctx::HEAP_TOP_COPY_FROM),
            vmctx::HEAP_TOP_COPIED,
        )
    }

    /// On the entry check's known-state path of an entry that may take a
    /// chunk from a bin for `request` bytes (`malloc`, `calloc`,
    /// `realloc`), with the state's address `gm`, its host address
    /// `state` and the memory's `length`: the first chunk of the first
    /// non-empty small bin that could serve the request must sit in its
    /// list as dlmalloc keeps it ([`Self::links_agree`]), else the runtime
    /// is asked to walk (`HookPoint::HeapCheck`). Why: dlmalloc takes the
    /// first chunk of that bin and unlinks it by writing the bin's address
    /// through the chunk's `fd` (`F->bk = B`), a check it would make first
    /// compiled out in wasi-libc; a use after free that wrote over a
    /// freed small chunk's links makes that a write to an address of the
    /// attacker's choosing. The bin checked is the one dlmalloc takes from,
    /// where it takes from a small bin at all (the request's own or the
    /// next, else the least larger non-empty one where the victim is too
    /// small); it writes nothing, so any request is safe to check. About a dozen
    /// instructions and five loads. Where dlmalloc would search a tree
    /// bin instead (a large request, or a small one no small bin or the
    /// victim serves) and its tree map is not empty, the runtime follows
    /// that search and checks the tree chunks it reaches
    /// (`HookPoint::TreeCheck`, the request in `heap_arg`): the search
    /// walks pointers, which the runtime does better than inline code.
    fn bin_take_check(
        &mut self,
        state: Value,
        gm: Value,
        dvsize: Value,
        request: Value,
        length: Value,
    ) {
        let look = self.builder.create_block();
        let take = self.builder.create_block();
        let small_tree = self.builder.create_block();
        let trees = self.builder.create_block();
        let search = self.builder.create_block();
        let done = self.builder.create_block();
        let never_faults = never_faults();
        let treemap =
            self.builder
                .ins()
                .load(types::I32, never_faults, state, vmctx::HEAP_STATE_TREEMAP);
        // `pad_request` with 16-byte alignment (wasi-libc's; a request
        // below dlmalloc's minimum pads to its 16-byte minimum chunk too).
        let padded = self.builder.ins().iadd_imm_s(request, 4 + 15);
        let size = self.builder.ins().band_imm_s(padded, !15);
        let small = self.builder.ins().icmp_imm_u(
            IntCC::UnsignedLessThanOrEqual,
            request,
            i64::from(vmctx::HEAP_MAX_SMALL_REQUEST),
        );
        self.builder.ins().brif(small, look, &[], trees, &[]);
        self.builder.seal_block(look);
        self.builder.switch_to_block(look);
        // `small_index`.
        let index = self.builder.ins().ushr_imm_u(size, 3);
        let smallmap =
            self.builder
                .ins()
                .load(types::I32, never_faults, state, vmctx::HEAP_STATE_SMALLMAP);
        let bits = self.builder.ins().ushr(smallmap, index);
        // No small bin from the request's up and no tree: dlmalloc carves
        // the victim or the top, and there is no list to check. The
        // commonest case in programs that allocate and free in turn
        // (c-ares: every call), so it is decided first.
        let decide = self.builder.create_block();
        let lists = self.builder.ins().bor(bits, treemap);
        self.builder.ins().brif(lists, decide, &[], done, &[]);
        self.builder.seal_block(decide);
        self.builder.switch_to_block(decide);
        // dlmalloc takes from a small bin where the request's own (or the
        // next) holds a chunk, or a larger one does and the victim is too
        // small; else from the victim, or a tree where none is larger.
        let above = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThan, size, dvsize);
        let near = self.builder.ins().band_imm_u(bits, 3);
        let near = self.builder.ins().icmp_imm_u(IntCC::NotEqual, near, 0);
        let any = self.builder.ins().icmp_imm_u(IntCC::NotEqual, bits, 0);
        let larger = self.builder.ins().band(any, above);
        let takes = self.builder.ins().bor(near, larger);
        self.builder.ins().brif(takes, take, &[], small_tree, &[]);
        self.builder.seal_block(take);
        self.builder.switch_to_block(take);
        let skip = self.builder.ins().ctz(bits);
        let bin = self.builder.ins().iadd(index, skip);
        // The bin header's `fd`.
        let first = self.state_word(state, bin, 3, vmctx::HEAP_STATE_SMALLBINS + 8);
        let agree = self.links_agree(first, gm, length);
        let wrong = self.builder.ins().icmp_imm_u(IntCC::Equal, agree, 0);
        self.cold_path(wrong, |t| t.call_hook(HookPoint::HeapCheck));
        self.builder.ins().jump(done, &[]);
        // No small bin serves it: a tree does where no small bin is
        // larger and the victim is smaller.
        self.builder.seal_block(small_tree);
        self.builder.switch_to_block(small_tree);
        let none = self.builder.ins().icmp_imm_u(IntCC::Equal, any, 0);
        let to_tree = self.builder.ins().band(none, above);
        self.builder.ins().brif(to_tree, trees, &[], done, &[]);
        self.builder.seal_block(trees);
        self.builder.switch_to_block(trees);
        let any_tree = self.builder.ins().icmp_imm_u(IntCC::NotEqual, treemap, 0);
        self.builder.ins().brif(any_tree, search, &[], done, &[]);
        self.builder.seal_block(search);
        self.builder.switch_to_block(search);
        let request = Request {
            bytes: request,
            size,
            small,
        };
        self.lone_tree_check(state, gm, request, treemap, length, done);
        self.builder.seal_block(done);
        self.builder.switch_to_block(done);
    }

    /// [`Self::bin_take_check`]'s tree path, where the tree map is not
    /// empty: the tree whose chunk dlmalloc's search would take (the
    /// request's bin, else the next non-empty one; for a small request
    /// the least non-empty one) is checked here where it is a lone chunk
    /// (no children) that the search takes: its head free, its ring
    /// links pointing back at it, its parent the bin's slot, its index and
    /// its size the bin's. Any other tree, or a lone chunk that fails, goes to the
    /// runtime, which follows the search as dlmalloc does
    /// (`HookPoint::TreeCheck`, the request in `heap_arg`), and reports.
    /// Why inline: a program that frees and asks again for the same large
    /// buffer (Oniguruma's match stack) meets such a tree at each call,
    /// and a call into the runtime costs more than these dozen loads.
    /// Every path ends at `done`.
    fn lone_tree_check(
        &mut self,
        state: Value,
        gm: Value,
        request: Request,
        treemap: Value,
        length: Value,
        done: Block,
    ) {
        let Request { bytes, size, small } = request;
        let never_faults = never_faults();
        let large = self.builder.create_block();
        let next_bin = self.builder.create_block();
        let lone = self.builder.create_block();
        let check = self.builder.create_block();
        let runtime = self.builder.create_block();
        self.builder.set_cold_block(runtime);
        // (bin, its root, whether the root must hold the request)
        for t in [types::I32, types::I32, types::I8] {
            self.builder.append_block_param(lone, t);
        }
        self.builder.append_block_param(next_bin, types::I32);
        let root_of =
            |t: &mut Self, bin: Value| t.state_word(state, bin, 2, vmctx::HEAP_STATE_TREEBINS);
        // A small request: the least non-empty bin's tree (`tmalloc_small`).
        let least = self.builder.ins().ctz(treemap);
        let least_root = root_of(self, least);
        let no = self.builder.ins().iconst(types::I8, 0);
        let yes = self.builder.ins().iconst(types::I8, 1);
        self.builder.ins().brif(
            small,
            lone,
            &block_args(&[least, least_root, no]),
            large,
            &[],
        );
        // A large one (`tmalloc_large`): the request's bin
        // (`compute_tree_index`), whose chunk must hold it.
        self.builder.seal_block(large);
        self.builder.switch_to_block(large);
        let bin = self.tree_index(size);
        let root = root_of(self, bin);
        self.builder.ins().brif(
            root,
            lone,
            &block_args(&[bin, root, yes]),
            next_bin,
            &block_args(&[bin]),
        );
        // An empty bin, or one whose lone chunk is too small: the least
        // non-empty one above it, if any.
        self.builder.switch_to_block(next_bin);
        let bin = self.builder.block_params(next_bin)[0];
        let above = self.builder.ins().iconst(types::I32, -2);
        let above = self.builder.ins().ishl(above, bin);
        let left = self.builder.ins().band(treemap, above);
        let next = self.builder.ins().ctz(left);
        let next = self.builder.ins().band_imm_u(next, 31);
        let next_root = root_of(self, next);
        self.builder
            .ins()
            .brif(left, lone, &block_args(&[next, next_root, no]), done, &[]);

        self.builder.seal_block(lone);
        self.builder.switch_to_block(lone);
        let params = self.builder.block_params(lone).to_vec();
        let (bin, root, must_hold) = (params[0], params[1], params[2]);
        let inside = self.fits_in_memory(root, 32, length);
        let at = self.builder.ins().select(inside, root, gm);
        let fields = self.heap_addr(0, at, 0, 32);
        let load = |t: &mut Self, offset: i32| {
            t.builder
                .ins()
                .load(types::I32, never_faults, fields, offset)
        };
        let head = load(self, 4);
        let children = load(self, 16);
        let second = load(self, 20);
        let children = self.builder.ins().bor(children, second);
        let childless = self.builder.ins().icmp_imm_u(IntCC::Equal, children, 0);
        let chunk_size = self.builder.ins().band_imm_s(head, !7);
        let holds = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, chunk_size, size);
        let need = self.builder.ins().icmp_imm_u(IntCC::NotEqual, must_hold, 0);
        let short = self.builder.ins().icmp_imm_u(IntCC::Equal, holds, 0);
        let short = self.builder.ins().band(need, short);
        let fast = self.builder.ins().band(inside, childless);
        let too_small = self.builder.ins().band(fast, short);
        let slow = self.builder.ins().icmp_imm_u(IntCC::Equal, fast, 0);
        let slow = self.builder.ins().bor(slow, short);
        let settled = self.builder.create_block();
        self.builder
            .ins()
            .brif(too_small, next_bin, &block_args(&[bin]), settled, &[]);
        self.builder.seal_block(next_bin);
        self.builder.seal_block(settled);
        self.builder.switch_to_block(settled);
        self.builder.ins().brif(slow, runtime, &[], check, &[]);

        self.builder.seal_block(check);
        self.builder.switch_to_block(check);
        let parent = load(self, 24);
        let index = load(self, 28);
        let slot = self.builder.ins().ishl_imm_u(bin, 2);
        let slot = self.builder.ins().iadd(gm, slot);
        let slot = self
            .builder
            .ins()
            .iadd_imm_s(slot, i64::from(vmctx::HEAP_STATE_TREEBINS));
        let parent_ok = self.builder.ins().icmp(IntCC::Equal, parent, slot);
        let index_ok = self.builder.ins().icmp(IntCC::Equal, index, bin);
        // Its size files it in this bin: a size written over would have
        // dlmalloc split off a remainder over chunks in use.
        let large = self.builder.ins().icmp_imm_u(
            IntCC::UnsignedGreaterThanOrEqual,
            chunk_size,
            i64::from(vmctx::HEAP_MIN_LARGE),
        );
        let filed = self.tree_index(chunk_size);
        let filed = self.builder.ins().icmp(IntCC::Equal, filed, bin);
        let index_ok = self.builder.ins().band(index_ok, large);
        let index_ok = self.builder.ins().band(index_ok, filed);
        let in_use = self.builder.ins().band_imm_u(head, 2);
        let free = self.builder.ins().icmp_imm_u(IntCC::Equal, in_use, 0);
        let linked = self.links_agree(root, gm, length);
        let ok = self.builder.ins().band(parent_ok, index_ok);
        let ok = self.builder.ins().band(ok, free);
        let ok = self.builder.ins().band(ok, linked);
        self.builder.ins().brif(ok, done, &[], runtime, &[]);

        self.builder.seal_block(runtime);
        self.builder.switch_to_block(runtime);
        self.call_hook_with_arg(HookPoint::TreeCheck, bytes);
        self.builder.ins().jump(done, &[]);
    }

    /// dlmalloc's `compute_tree_index` of `size` (two bins per power of
    /// two from 256 bytes, the last for 16 MiB and up), kept to the 32
    /// bins whatever `size` (below 256, or a request that wrapped as it
    /// was padded, gives some bin, as harmless to read as any).
    fn tree_index(&mut self, size: Value) -> Value {
        let x = self.builder.ins().ushr_imm_u(size, 8);
        let high = self.builder.ins().clz(x);
        // 31 - clz for x of 1 or more (clz 0 to 31).
        let k = self.builder.ins().bxor_imm_u(high, 31);
        let k_shift = self.builder.ins().iadd_imm_s(k, 7);
        let half = self.builder.ins().ushr(size, k_shift);
        let half = self.builder.ins().band_imm_u(half, 1);
        let bin = self.builder.ins().ishl_imm_u(k, 1);
        let bin = self.builder.ins().iadd(bin, half);
        let huge = self
            .builder
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThan, x, 0xffff);
        let last = self.builder.ins().iconst(types::I32, 31);
        let bin = self.builder.ins().select(huge, last, bin);
        self.builder.ins().band_imm_u(bin, 31)
    }

    /// Whether the free chunk at `c` sits in its list as dlmalloc keeps
    /// it: its `fd` and `bk` (at `c + 8`, `c + 12`) lead to chunks (or
    /// bin headers in the state) inside memory whose `bk` and `fd` point
    /// back at `c` ([`Self::links_point_back`]).
    fn links_agree(&mut self, c: Value, safe: Value, length: Value) -> Value {
        self.links_point_back(c, 8, 12, safe, length)
    }

    /// Whether the list node at `c`, whose forward link is the word at
    /// `c + fd` and backward link the word at `c + bk` (adjacent words),
    /// lies in a doubly linked list whose neighbours point back at it:
    /// the forward neighbour's backward link (at its `+ bk`) and the
    /// backward neighbour's forward link (at its `+ fd`) hold `c`. Every
    /// address is checked against the memory's `length` first, and one
    /// that fails is read at `safe` (a node known to lie inside, its 16
    /// bytes readable) and fails the check; so no load faults.
    pub(crate) fn links_point_back(
        &mut self,
        c: Value,
        fd: i64,
        bk: i64,
        safe: Value,
        length: Value,
    ) -> Value {
        debug_assert!((fd - bk).abs() == 4 && fd.max(bk) < 16);
        let never_faults = never_faults();
        let low = fd.min(bk);
        let c_in = self.fits_in_memory(c, 16, length);
        let c_at = self.builder.ins().select(c_in, c, safe);
        let links = self.heap_addr(0, c_at, low as u64, 8);
        let fd_link = self
            .builder
            .ins()
            .load(types::I32, never_faults, links, (fd - low) as i32);
        let bk_link = self
            .builder
            .ins()
            .load(types::I32, never_faults, links, (bk - low) as i32);
        let fd_in = self.fits_in_memory(fd_link, 16, length);
        let bk_in = self.fits_in_memory(bk_link, 16, length);
        let fd_at = self.builder.ins().select(fd_in, fd_link, safe);
        let bk_at = self.builder.ins().select(bk_in, bk_link, safe);
        let fd_bk_addr = self.heap_addr(0, fd_at, bk as u64, 4);
        let fd_bk = self
            .builder
            .ins()
            .load(types::I32, never_faults, fd_bk_addr, 0);
        let bk_fd_addr = self.heap_addr(0, bk_at, fd as u64, 4);
        let bk_fd = self
            .builder
            .ins()
            .load(types::I32, never_faults, bk_fd_addr, 0);
        let back = self.builder.ins().icmp(IntCC::Equal, fd_bk, c);
        let forth = self.builder.ins().icmp(IntCC::Equal, bk_fd, c);
        let all = self.builder.ins().band(c_in, fd_in);
        let all = self.builder.ins().band(all, bk_in);
        let all = self.builder.ins().band(all, back);
        self.builder.ins().band(all, forth)
    }

    /// Whether the designated victim's head, on the entry check's
    /// known-state path (the state at `state`, its address `gm`), is not
    /// `dvsize | PINUSE`, as dlmalloc writes it wherever it keeps a
    /// victim (`dvsize` not 0), with the victim (`dv`) it loaded. Why:
    /// dlmalloc carves small requests from
    /// the victim, so the victim's remainder follows a fresh allocation
    /// as the top does, and an overflow of that allocation lands on its
    /// head, which dlmalloc rewrites from its state at the next carve
    /// (jq's CVE-2023-50246: a NUL over the remainder's `PINUSE`). In a
    /// memory that is bounds-checked, a victim past memory (the state
    /// written over) is wrong, its head then read from the state instead.
    /// Three loads on lines dlmalloc itself reads (`dvsize` and `dv`
    /// share the state's line with `top`), a compare.
    fn dv_head_wrong(
        &mut self,
        state: Value,
        gm: Value,
        length: Option<Value>,
    ) -> (Value, Value, Value) {
        let never_faults = never_faults();
        let dv = self
            .builder
            .ins()
            .load(types::I32, never_faults, state, vmctx::HEAP_STATE_DV);
        let dvsize =
            self.builder
                .ins()
                .load(types::I32, never_faults, state, vmctx::HEAP_STATE_DVSIZE);
        // None kept: the head is read from the state, and not judged.
        let kept = self.builder.ins().icmp_imm_u(IntCC::NotEqual, dvsize, 0);
        let at = self.builder.ins().select(kept, dv, gm);
        let wrong = self.head_differs(at, dvsize, gm, length);
        (dv, dvsize, self.builder.ins().band(kept, wrong))
    }

    /// Whether the head of the chunk at `chunk` is not `size | PINUSE`
    /// (the top's and the victim's, as dlmalloc writes them). In a guarded
    /// memory (`length` `None`) any 32-bit `chunk` lies in the
    /// reservation, and one past the accessible bytes (dlmalloc's state
    /// itself corrupt) faults as an out-of-bounds access, as dlmalloc's
    /// own next use of it would. In a bounds-checked one (`length` the
    /// memory's), a chunk past memory is itself wrong, its head then read
    /// from `fallback` (the state: a harmless place).
    fn head_differs(
        &mut self,
        chunk: Value,
        size: Value,
        fallback: Value,
        length: Option<Value>,
    ) -> Value {
        let expect = self.builder.ins().bor_imm_u(size, 1);
        let Some(length) = length else {
            let head_addr = self.heap_addr(0, chunk, 4, 4);
            let head = self
                .builder
                .ins()
                .load(types::I32, heap_flags(), head_addr, 0);
            return self.builder.ins().icmp(IntCC::NotEqual, head, expect);
        };
        let inside = self.fits_in_memory(chunk, 8, length);
        let at = self.builder.ins().select(inside, chunk, fallback);
        let head_addr = self.heap_addr(0, at, 4, 4);
        let head = self
            .builder
            .ins()
            .load(types::I32, heap_flags(), head_addr, 0);
        let differs = self.builder.ins().icmp(IntCC::NotEqual, head, expect);
        let outside = self.builder.ins().icmp_imm_u(IntCC::Equal, inside, 0);
        self.builder.ins().bor(differs, outside)
    }

    /// After the entry check of dlmalloc's `free` or `realloc` (its first
    /// parameter the pointer), on the path where the state is known, with
    /// the state's address, `top`, `dv` and (a bounds-checked memory) the
    /// memory's length it loaded: checks the pointer as dlmalloc itself does
    /// before it frees or resizes a chunk (`ok_address`, `ok_inuse`,
    /// `ok_next`, `ok_pinuse`: the chunk lies at or above the heap's
    /// lowest byte, is in use, its size leads forward, and its successor
    /// says it is in use), and calls the runtime
    /// (`HookPoint::FreeCheck`, the pointer in `heap_arg`) when one fails.
    /// Why: wasi-libc's dlmalloc takes such a pointer as a usage error and
    /// ignores it, so a double free, or a free of a pointer it never
    /// returned, went by unseen. The loads are the ones dlmalloc makes
    /// next, in the same order and under the same conditions, so they
    /// fault only where dlmalloc's own would (a successor past the end of
    /// memory is reported instead of read). Then one step further than
    /// dlmalloc: the successor's own size must lead to a chunk that agrees
    /// it is in use or free (read only inside memory), which finds a
    /// buffer overflowed over its successor's head as it is freed. A null
    /// pointer is not checked (`free(NULL)`). Every path ends at `done`.
    fn pointer_check(
        &mut self,
        state_ptr: Value,
        state: Value,
        top: Value,
        dv: Value,
        length: Option<Value>,
        done: Block,
    ) {
        let ptr = self.builder.use_var(self.locals[0].0);
        let refuse = self.builder.create_block();
        let address = self.builder.create_block();
        let head_block = self.builder.create_block();
        let next_block = self.builder.create_block();
        self.builder.set_cold_block(refuse);
        let non_null = self.builder.ins().icmp_imm_u(IntCC::NotEqual, ptr, 0);
        self.builder.ins().brif(non_null, address, &[], done, &[]);
        self.builder.seal_block(address);
        self.builder.switch_to_block(address);
        // `ok_address`: the chunk at or above the heap's lowest byte.
        let never_faults = never_faults();
        let least = self.builder.ins().load(
            types::I32,
            never_faults,
            state,
            vmctx::HEAP_STATE_LEAST_ADDR,
        );
        let chunk = self.builder.ins().iadd_imm_s(ptr, -8);
        let below = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedLessThan, chunk, least);
        // And its head inside memory: a pointer a few bytes below 2^32
        // (`free(1)`, a bit set in a pointer field) puts it past the end,
        // where dlmalloc's read of it traps before anything is reported.
        let length = length.unwrap_or_else(|| self.memory_length(0));
        let head_inside = self.fits_in_memory(chunk, 8, length);
        let outside = self.builder.ins().icmp_imm_u(IntCC::Equal, head_inside, 0);
        let refused = self.builder.ins().bor(below, outside);
        self.builder
            .ins()
            .brif(refused, refuse, &[], head_block, &[]);

        // `ok_inuse`, and `ok_next`: the size leads forward.
        self.builder.seal_block(head_block);
        self.builder.switch_to_block(head_block);
        let head_addr = self.heap_addr(0, chunk, 4, 4);
        let head = self
            .builder
            .ins()
            .load(types::I32, heap_flags(), head_addr, 0);
        let size = self.builder.ins().band_imm_s(head, !7);
        let next = self.builder.ins().iadd(chunk, size);
        let in_use = self.builder.ins().band_imm_u(head, 2);
        let free = self.builder.ins().icmp_imm_u(IntCC::Equal, in_use, 0);
        let backward = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedLessThanOrEqual, next, chunk);
        // A successor past the end of memory: dlmalloc's read of its head
        // traps; reported first.
        let next_inside = self.fits_in_memory(next, 8, length);
        let past = self.builder.ins().icmp_imm_u(IntCC::Equal, next_inside, 0);
        let wrong = self.builder.ins().bor(free, backward);
        let wrong = self.builder.ins().bor(wrong, past);
        self.builder.ins().brif(wrong, refuse, &[], next_block, &[]);

        // `ok_pinuse`: the successor says this chunk is in use.
        self.builder.seal_block(next_block);
        self.builder.switch_to_block(next_block);
        let next_head_addr = self.heap_addr(0, next, 4, 4);
        let next_head = self
            .builder
            .ins()
            .load(types::I32, heap_flags(), next_head_addr, 0);
        let pinuse = self.builder.ins().band_imm_u(next_head, 1);
        let slack_block = self.builder.create_block();
        let beyond = self.builder.create_block();
        self.builder
            .ins()
            .brif(pinuse, slack_block, &[], refuse, &[]);

        // A chunk with slack marks (`Self::mark_slack`): the last byte
        // before the successor's head is the mark of the slack's length
        // under the store's key, and the slack's first byte must hold the
        // same mark. Both lie inside the
        // chunk or the successor's `prev_foot` (the chunk's while in use),
        // before the successor's head, just read inside memory.
        self.builder.seal_block(slack_block);
        self.builder.switch_to_block(slack_block);
        let marked = self
            .builder
            .ins()
            .band_imm_u(head, i64::from(vmctx::HEAP_SLACK_MARKED));
        let check_slack = self.builder.create_block();
        let links = self.builder.create_block();
        self.builder
            .ins()
            .brif(marked, check_slack, &[], links, &[]);
        self.builder.seal_block(check_slack);
        self.builder.switch_to_block(check_slack);
        let end = self.builder.ins().iadd_imm_s(next, 4);
        let last = self.builder.ins().iadd_imm_s(next, 3);
        let last_addr = self.heap_addr(0, last, 0, 1);
        let mark = self
            .builder
            .ins()
            .uload8(types::I32, never_faults, last_addr, 0);
        let slack = self.slack_of_mark(state_ptr, mark);
        // At most the payload (`size - 4`): the first byte stays inside.
        // A mark is never 0.
        let own = self.builder.ins().iadd_imm_s(size, -4);
        let less = self.builder.ins().iadd_imm_s(slack, -1);
        let fits = self.builder.ins().icmp(IntCC::UnsignedLessThan, less, own);
        let marked = self.builder.ins().icmp_imm_u(IntCC::NotEqual, mark, 0);
        let fits = self.builder.ins().band(fits, marked);
        let start = self.builder.ins().isub(end, slack);
        let start = self.builder.ins().select(fits, start, last);
        let first_addr = self.heap_addr(0, start, 0, 1);
        let first = self
            .builder
            .ins()
            .uload8(types::I32, never_faults, first_addr, 0);
        let same = self.builder.ins().icmp(IntCC::Equal, first, mark);
        let kept = self.builder.ins().band(fits, same);
        self.builder.ins().brif(kept, links, &[], refuse, &[]);

        // The free neighbours dlmalloc merges with, and so unlinks from
        // their lists: their links must point back at them (wasi-libc
        // builds dlmalloc with its own checks compiled out, so links
        // written over, by a use after free or an overflow, would have it
        // write through them). Not the top or the designated victim,
        // which are in no list. The chunk before: `prev_foot` back, when
        // `PINUSE` says it is free, and inside the heap.
        self.builder.seal_block(links);
        self.builder.switch_to_block(links);
        let prev_block = self.builder.create_block();
        let next_links = self.builder.create_block();
        let prev_in_use = self.builder.ins().band_imm_u(head, 1);
        self.builder
            .ins()
            .brif(prev_in_use, next_links, &[], prev_block, &[]);
        self.builder.seal_block(prev_block);
        self.builder.switch_to_block(prev_block);
        let foot_addr = self.heap_addr(0, chunk, 0, 4);
        let prev_size = self
            .builder
            .ins()
            .load(types::I32, never_faults, foot_addr, 0);
        let prev = self.builder.ins().isub(chunk, prev_size);
        let big_enough =
            self.builder
                .ins()
                .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, prev_size, 16);
        let above = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, prev, least);
        let before = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedLessThan, prev, chunk);
        let placed = self.builder.ins().band(big_enough, above);
        let placed = self.builder.ins().band(placed, before);
        let is_dv = self.builder.ins().icmp(IntCC::Equal, prev, dv);
        let agree = self.links_agree(prev, chunk, length);
        let fine = self.builder.ins().bor(is_dv, agree);
        let fine = self.builder.ins().band(placed, fine);
        self.builder.ins().brif(fine, next_links, &[], refuse, &[]);
        // The chunk after, when free and not the top or the victim.
        self.builder.seal_block(next_links);
        self.builder.switch_to_block(next_links);
        let next_in_use = self.builder.ins().band_imm_u(next_head, 2);
        let next_is_top = self.builder.ins().icmp(IntCC::Equal, next, top);
        let next_is_dv = self.builder.ins().icmp(IntCC::Equal, next, dv);
        let unlinked = self.builder.ins().bor(next_is_top, next_is_dv);
        let next_in_use = self
            .builder
            .ins()
            .icmp_imm_u(IntCC::NotEqual, next_in_use, 0);
        let skip = self.builder.ins().bor(unlinked, next_in_use);
        let next_check = self.builder.create_block();
        self.builder.ins().brif(skip, beyond, &[], next_check, &[]);
        self.builder.seal_block(next_check);
        self.builder.switch_to_block(next_check);
        let agree = self.links_agree(next, chunk, length);
        self.builder.ins().brif(agree, beyond, &[], refuse, &[]);

        // One step further than dlmalloc looks: the successor, unless it
        // is the top (whose head this entry compared with the state) or a
        // fence post, leads to a chunk inside memory whose `PINUSE` says
        // what the successor's `CINUSE` says. An overflow of the freed
        // chunk over its successor's head breaks that, where dlmalloc
        // would merge with a chunk of the overflow's making. Its head is
        // read only when inside memory (dlmalloc reads none there).
        self.builder.seal_block(beyond);
        self.builder.switch_to_block(beyond);
        let is_top = self.builder.ins().icmp(IntCC::Equal, next, top);
        let fence = self.builder.ins().icmp_imm_u(
            IntCC::Equal,
            next_head,
            i64::from(vmctx::HEAP_FENCE_POST),
        );
        let stop = self.builder.ins().bor(is_top, fence);
        let step = self.builder.create_block();
        self.builder.ins().brif(stop, done, &[], step, &[]);
        self.builder.seal_block(step);
        self.builder.switch_to_block(step);
        let next_size = self.builder.ins().band_imm_s(next_head, !7);
        let after = self.builder.ins().iadd(next, next_size);
        let forward = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThan, after, next);
        let inside = self.fits_in_memory(after, 8, length);
        let readable = self.builder.ins().band(forward, inside);
        let read = self.builder.create_block();
        self.builder.ins().brif(readable, read, &[], refuse, &[]);
        self.builder.seal_block(read);
        self.builder.switch_to_block(read);
        let after_head_addr = self.heap_addr(0, after, 4, 4);
        let after_head = self
            .builder
            .ins()
            .load(types::I32, never_faults, after_head_addr, 0);
        let after_pinuse = self.builder.ins().band_imm_u(after_head, 1);
        let next_cinuse = self.builder.ins().ushr_imm_u(next_head, 1);
        let next_cinuse = self.builder.ins().band_imm_u(next_cinuse, 1);
        let agree = self
            .builder
            .ins()
            .icmp(IntCC::Equal, after_pinuse, next_cinuse);
        self.builder.ins().brif(agree, done, &[], refuse, &[]);

        self.builder.seal_block(refuse);
        self.builder.switch_to_block(refuse);
        self.call_hook_with_arg(HookPoint::FreeCheck, ptr);
        self.builder.ins().jump(done, &[]);
    }

    /// Whether [`Self::allocator_return`] has work in this function (a
    /// `return_call` then calls and returns, so the work sees the result).
    pub(crate) fn has_return_work(&self) -> bool {
        self.heap_floor
            || self.slack_request.is_some()
            || self.records_top
            || self.allocator.is_some()
    }

    /// As an allocator function returns: records the chunk a dlmalloc
    /// function returns in the heap floor, and reports the call when calls
    /// are reported.
    pub(crate) fn allocator_return(&mut self, results: &[Value]) {
        if self.heap_floor {
            if let Some(&result) = results.first() {
                self.record_heap_floor(result);
            }
        }
        if let (Some(request), Some(&result)) = (self.slack_request, results.first()) {
            self.mark_slack(result, request);
        }
        if self.records_top {
            self.record_top();
        }
        self.allocator_event(results);
    }

    /// The store's slack key ([`vmctx::VMAttestState::heap_slack_key`]),
    /// from its `VMAttestState` at `state_ptr`.
    fn slack_key(&mut self, state_ptr: Value) -> Value {
        self.builder.ins().load(
            types::I32,
            super::vm_flags(),
            state_ptr,
            vmctx::ATTEST_HEAP_SLACK_KEY,
        )
    }

    /// The mark of a slack of `k` bytes (1 to 255), as
    /// [`vmctx::slack_mark`] computes it: `(k - 1 + key) mod 255 + 1`.
    fn slack_mark(&mut self, state_ptr: Value, k: Value) -> Value {
        let key = self.slack_key(state_ptr);
        let t = self.builder.ins().iadd(k, key);
        let t = self.builder.ins().iadd_imm_s(t, -1);
        let over = self
            .builder
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, t, 255);
        let less = self.builder.ins().iadd_imm_s(t, -255);
        let t = self.builder.ins().select(over, less, t);
        self.builder.ins().iadd_imm_s(t, 1)
    }

    /// The slack length a mark of 1 to 255 says ([`vmctx::slack_of_mark`];
    /// the caller refuses a mark of 0).
    fn slack_of_mark(&mut self, state_ptr: Value, mark: Value) -> Value {
        let key = self.slack_key(state_ptr);
        let above = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThan, mark, key);
        let less = self.builder.ins().isub(mark, key);
        let wrapped = self.builder.ins().iadd_imm_s(less, 255);
        self.builder.ins().select(above, less, wrapped)
    }

    /// As dlmalloc's `malloc` or `realloc` returns `ptr` for a request of
    /// `request` bytes: when the chunk holds slack past the request
    /// (`k` bytes, 1 to [`vmctx::HEAP_SLACK_MAX`], up to the successor's
    /// head: its `prev_foot` belongs to the chunk while the chunk is in
    /// use), writes `k`'s mark under the store's key
    /// ([`vmctx::slack_mark`]) into the slack's first and last byte and sets
    /// [`vmctx::HEAP_SLACK_MARKED`] in the chunk's head. Why: dlmalloc
    /// pads requests to its alignment and serves some with a larger free
    /// chunk whole, so an overflow of a few bytes lands in the chunk's own
    /// slack, which no check of the heap's structure sees (13 bytes asked
    /// of a 32-byte chunk leave 15). [`Self::pointer_check`] and the
    /// runtime's walk check the marks; an overflow from the request's end
    /// changes the first. The bytes written were the allocation's own,
    /// unset; a program may not read or write them. Not where that
    /// `prev_foot` holds the state's address xor its magic (a build with
    /// `FOOTERS`, which keeps its footer there and checks it at `free`),
    /// nor before the runtime has found the state. A few loads, a compare
    /// and three stores per marked allocation.
    fn mark_slack(&mut self, ptr: Value, request: Value) {
        // Its own stores' dirty marks are emitted in the blocks that store
        // (under the store barrier: the pages would otherwise change
        // unmarked, and the digest audit take that for the host's write).
        self.flush_marks();
        let head_block = self.builder.create_block();
        let in_use_block = self.builder.create_block();
        let mark = self.builder.create_block();
        let done = self.builder.create_block();
        let non_null = self.builder.ins().icmp_imm_u(IntCC::NotEqual, ptr, 0);
        self.builder
            .ins()
            .brif(non_null, head_block, &[], done, &[]);
        self.builder.seal_block(head_block);
        self.builder.switch_to_block(head_block);
        let chunk = self.builder.ins().iadd_imm_s(ptr, -8);
        let head_addr = self.heap_addr(0, chunk, 4, 4);
        let head = self
            .builder
            .ins()
            .load(types::I32, heap_flags(), head_addr, 0);
        let in_use = self.builder.ins().band_imm_u(head, 2);
        self.builder
            .ins()
            .brif(in_use, in_use_block, &[], done, &[]);
        self.builder.seal_block(in_use_block);
        self.builder.switch_to_block(in_use_block);
        let size = self.builder.ins().band_imm_s(head, !7);
        // The slack ends where the successor's head starts, `ptr - 4 +
        // size`: its `prev_foot` is the chunk's while the chunk is in use.
        let own = self.builder.ins().iadd_imm_s(size, -4);
        let slack = self.builder.ins().isub(own, request);
        let less = self.builder.ins().iadd_imm_s(slack, -1);
        let fits = self.builder.ins().icmp_imm_u(
            IntCC::UnsignedLessThan,
            less,
            i64::from(vmctx::HEAP_SLACK_MAX),
        );
        // Not in a build with footers, which keeps `state ^ magic` in
        // that `prev_foot` (dlmalloc's `FOOTERS`, checked at `free`), nor
        // before the runtime has found the state to tell.
        let (state_ptr, gm, known) = self.heap_state();
        let zero = self.builder.ins().iconst(types::I32, 0);
        let at = self.builder.ins().select(known, gm, zero);
        let state = self.heap_addr(0, at, 0, vmctx::HEAP_STATE_BYTES);
        let magic =
            self.builder
                .ins()
                .load(types::I32, never_faults(), state, vmctx::HEAP_STATE_MAGIC);
        let footer = self.builder.ins().bxor(gm, magic);
        let next = self.builder.ins().iadd(chunk, size);
        let foot_addr = self.heap_addr(0, next, 0, 4);
        let foot = self
            .builder
            .ins()
            .load(types::I32, heap_flags(), foot_addr, 0);
        let footless = self.builder.ins().icmp(IntCC::NotEqual, foot, footer);
        let fits = self.builder.ins().band(fits, known);
        let fits = self.builder.ins().band(fits, footless);
        // The flag is cleared where no marks fit: `realloc` in place
        // keeps the head, and with it the marks of the request before.
        let marked = self
            .builder
            .ins()
            .bor_imm_u(head, i64::from(vmctx::HEAP_SLACK_MARKED));
        let unmarked = self
            .builder
            .ins()
            .band_imm_s(head, !i64::from(vmctx::HEAP_SLACK_MARKED));
        let new_head = self.builder.ins().select(fits, marked, unmarked);
        self.builder
            .ins()
            .store(heap_flags(), new_head, head_addr, 0);
        self.store_barrier(0, chunk, 4, 4, head_addr);
        self.flush_marks();
        self.builder.ins().brif(fits, mark, &[], done, &[]);
        self.builder.seal_block(mark);
        self.builder.switch_to_block(mark);
        let first = self.builder.ins().iadd(ptr, request);
        let last = self.builder.ins().iadd(ptr, own);
        let last = self.builder.ins().iadd_imm_s(last, -1);
        let mark = self.slack_mark(state_ptr, slack);
        let first_addr = self.heap_addr(0, first, 0, 1);
        self.builder
            .ins()
            .istore8(heap_flags(), mark, first_addr, 0);
        self.store_barrier(0, first, 0, 1, first_addr);
        let last_addr = self.heap_addr(0, last, 0, 1);
        self.builder.ins().istore8(heap_flags(), mark, last_addr, 0);
        self.store_barrier(0, last, 0, 1, last_addr);
        self.flush_marks();
        self.builder.ins().jump(done, &[]);
        self.builder.seal_block(done);
        self.builder.switch_to_block(done);
    }

    /// `floor = min(floor, result)` with 0 standing for "none" on either
    /// side, without a branch: both minus one, unsigned minimum, plus one.
    /// A load, four arithmetic instructions and a store per allocation.
    fn record_heap_floor(&mut self, result: Value) {
        let state = self.attest_state();
        let floor = self.builder.ins().load(
            types::I32,
            super::vm_flags(),
            state,
            vmctx::ATTEST_HEAP_FLOOR,
        );
        let floor_less = self.builder.ins().iadd_imm_s(floor, -1);
        let result_less = self.builder.ins().iadd_imm_s(result, -1);
        let lowest = self.builder.ins().umin(floor_less, result_less);
        let new = self.builder.ins().iadd_imm_s(lowest, 1);
        self.builder
            .ins()
            .store(super::vm_flags(), new, state, vmctx::ATTEST_HEAP_FLOOR);
    }

    /// In an allocator function whose calls are reported: tells the
    /// runtime about this call (role, arguments, result) as it returns.
    fn allocator_event(&mut self, results: &[Value]) {
        let Some((role, params)) = self.allocator.clone() else {
            return;
        };
        let zero = self.builder.ins().iconst(types::I32, 0);
        let role = self.builder.ins().iconst(types::I32, role as i64);
        let arg = |i: usize| params.get(i).copied().unwrap_or(zero);
        let args = [
            role,
            arg(0),
            arg(1),
            arg(2),
            results.first().copied().unwrap_or(zero),
        ];
        self.call_builtin(Builtin::HeapEvent, &[types::I32; 5], &[], &args);
    }

    /// Emits `body` in a cold block entered when `cond` is non-zero; code
    /// continues after it either way.
    pub(crate) fn cold_path(&mut self, cond: Value, body: impl FnOnce(&mut Self)) {
        let cold = self.builder.create_block();
        let done = self.builder.create_block();
        self.builder.set_cold_block(cold);
        self.builder.ins().brif(cond, cold, &[], done, &[]);
        self.builder.seal_block(cold);
        self.builder.switch_to_block(cold);
        body(self);
        self.builder.ins().jump(done, &[]);
        self.builder.seal_block(done);
        self.builder.switch_to_block(done);
    }
}

/// The top copy in 16-byte vectors.
const TOP_COPY_VECTORS: i32 = (vmctx::HEAP_TOP_COPIED / 16) as i32;

/// Flags of the top copy's 16-byte loads and stores in the store's
/// attestation state: it is 8-aligned, not 16, so not `aligned` (which
/// would let a load fold into an instruction that requires 16).
fn copy_flags() -> cranelift_codegen::ir::MemFlagsData {
    cranelift_codegen::ir::MemFlagsData::new().with_notrap()
}

/// Adds `delta` to the store's [`vmctx::VMAttestState::allocator_calls`]
/// (in a translated function or a tag monitor's wrapper); the state's
/// address and the new count.
pub(crate) fn count_allocator_calls(
    b: &mut cranelift_frontend::FunctionBuilder<'_>,
    pointer_type: types::Type,
    vmctx: Value,
    delta: i64,
) -> (Value, Value) {
    let state = b
        .ins()
        .load(pointer_type, super::vm_flags(), vmctx, vmctx::ATTEST);
    let calls = b.ins().load(
        types::I64,
        super::vm_flags(),
        state,
        vmctx::ATTEST_ALLOCATOR_CALLS,
    );
    let calls = b.ins().iadd_imm_s(calls, delta);
    b.ins().store(
        super::vm_flags(),
        calls,
        state,
        vmctx::ATTEST_ALLOCATOR_CALLS,
    );
    (state, calls)
}
