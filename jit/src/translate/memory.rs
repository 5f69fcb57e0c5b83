//! Linear memory: loads and stores (with the one bounds check the guarded
//! mode switches off), `memory.size`/`memory.grow` and bulk memory.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, Endianness, InstBuilder, MemFlagsData, TrapCode, Type, Value};
use wasmparser::{MemArg, Operator};

use super::FuncTranslator;
use crate::trap::TrapKind;
use crate::vmctx::{self, Builtin};

/// Flags of a Wasm heap access: little-endian, may be unaligned, and a
/// fault is an out-of-bounds access.
pub(crate) fn heap_flags() -> MemFlagsData {
    MemFlagsData::new()
        .with_endianness(Endianness::Little)
        .with_trap_code(Some(TrapCode::HEAP_OUT_OF_BOUNDS))
}

/// Flags of a heap read the generated code has bounded itself (the
/// allocator checks' reads): it cannot fault, and is no trap site.
pub(crate) fn never_faults() -> MemFlagsData {
    heap_flags().with_trap_code(None).with_notrap()
}

/// The memory a load or store addresses.
pub(crate) fn target_memory(memarg: &MemArg) -> u32 {
    match memarg.target {
        wasmparser::MemArgTarget::Memory(mem) => mem,
        wasmparser::MemArgTarget::Array(_) => {
            unreachable!("validated: GC array accesses are not enabled")
        }
    }
}

impl FuncTranslator<'_, '_> {
    pub(crate) fn memory_def(&mut self, mem: u32) -> Value {
        let offset = self.env.offsets.memory(mem);
        self.load_fixed_ptr(self.vmctx, offset)
    }

    /// The current length in bytes of memory `mem` (64 bits).
    pub(crate) fn memory_length(&mut self, mem: u32) -> Value {
        let def = self.memory_def(mem);
        self.builder
            .ins()
            .load(types::I64, super::vm_flags(), def, vmctx::MEMORY_LENGTH)
    }

    /// Whether the `bytes` bytes at 32-bit address `at` lie inside a
    /// memory of `length` bytes (from [`Self::memory_length`]).
    pub(crate) fn fits_in_memory(&mut self, at: Value, bytes: i64, length: Value) -> Value {
        let at64 = self.builder.ins().uextend(types::I64, at);
        let end = self.builder.ins().iadd_imm_s(at64, bytes);
        self.builder
            .ins()
            .icmp(IntCC::UnsignedLessThanOrEqual, end, length)
    }

    /// Whether memory `mem` is guarded (a 32-bit memory in a 4 GiB + guard
    /// reservation): it never moves, and with attestation its dirty
    /// bitmap lies at a fixed place below its base.
    pub(crate) fn memory_never_moves(&self, mem: u32) -> bool {
        let plan = &self.env.info.memories[mem as usize];
        self.env.config.guard_size.is_some() && !plan.memory64 && plan.default_pages()
    }

    /// Flags for loading a `VMMemory` field that moves only with the
    /// memory: a guarded memory never moves, so its fields are
    /// loop-invariant; a small reservation may move at any call.
    pub(crate) fn memory_field_flags(&self, mem: u32) -> MemFlagsData {
        if self.memory_never_moves(mem) {
            super::vm_flags().with_readonly().with_can_move()
        } else {
            super::vm_flags()
        }
    }

    /// An address or length operand of memory `mem` as a 64-bit value.
    fn extend_index(&mut self, mem: u32, index: Value) -> Value {
        if self.env.info.memories[mem as usize].memory64 {
            index
        } else {
            self.builder.ins().uextend(types::I64, index)
        }
    }

    /// The native address of a `size`-byte access at `index + offset` in
    /// memory `mem`. This is the one place a bounds check is emitted.
    pub(crate) fn heap_addr(&mut self, mem: u32, index: Value, offset: u64, size: u32) -> Value {
        let def = self.memory_def(mem);
        let index = self.extend_index(mem, index);
        // A 64-bit memory's offset may come near `u64::MAX`: saturated,
        // such an access is out of bounds whatever its index (the check
        // below traps), as it is.
        let extent = offset.saturating_add(u64::from(size));
        let guarded = self.guard_covers(mem, extent);
        let base_flags = self.memory_field_flags(mem);
        let base = self
            .builder
            .ins()
            .load(types::I64, base_flags, def, vmctx::MEMORY_BASE);
        if !guarded {
            self.bounds_check(mem, def, index, extent);
        }
        let addr = self.builder.ins().iadd(base, index);
        if offset == 0 {
            addr
        } else {
            self.builder.ins().iadd_imm_s(addr, offset as i64)
        }
    }

    /// Whether memory `mem`'s guard region catches an access `extent`
    /// bytes past its index, so that [`Self::heap_addr`] checks no bounds.
    pub(crate) fn guard_covers(&self, mem: u32, extent: u64) -> bool {
        self.memory_never_moves(mem) && self.env.config.guard_size.is_some_and(|g| extent <= g)
    }

    /// Traps unless `extent` bytes at 64-bit `index` of memory `mem`
    /// (whose `VMMemory` is at `def`) lie inside it.
    fn bounds_check(&mut self, mem: u32, def: Value, index: Value, extent: u64) {
        let length =
            self.builder
                .ins()
                .load(types::I64, super::vm_flags(), def, vmctx::MEMORY_LENGTH);
        let end = if self.env.info.memories[mem as usize].memory64 {
            let extent = self.builder.ins().iconst(types::I64, extent as i64);
            self.builder
                .ins()
                .uadd_overflow_trap(index, extent, TrapKind::MemoryOutOfBounds.code())
        } else {
            // A 32-bit index plus a 32-bit offset cannot overflow 64 bits.
            self.builder.ins().iadd_imm_s(index, extent as i64)
        };
        let oob = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThan, end, length);
        self.trap_if(oob, TrapKind::MemoryOutOfBounds);
    }

    /// The explicit bounds check of an address that nothing dereferences
    /// in generated code (`memory.atomic.wait`'s and `notify`'s), where
    /// [`Self::heap_addr`] left it to a guard region that would catch
    /// nothing: `index` as a Wasm index of memory `mem`.
    pub(crate) fn check_in_bounds(&mut self, mem: u32, index: Value, offset: u64, size: u32) {
        let extent = offset.saturating_add(u64::from(size));
        if !self.guard_covers(mem, extent) {
            // `heap_addr` checked them.
            return;
        }
        let def = self.memory_def(mem);
        let index = self.extend_index(mem, index);
        self.bounds_check(mem, def, index, extent);
    }

    pub(crate) fn translate_load_store(&mut self, op: &Operator<'_>, memarg: &MemArg) {
        use types::{F32, F64, I32, I64};
        use Operator as O;
        enum Access {
            Load(Type, u32, Option<bool>),
            Store(u32),
        }
        // (result type, width in bytes, Some(signed) for extending loads)
        let access = match op {
            O::I32Load { .. } => Access::Load(I32, 4, None),
            O::I64Load { .. } => Access::Load(I64, 8, None),
            O::F32Load { .. } => Access::Load(F32, 4, None),
            O::F64Load { .. } => Access::Load(F64, 8, None),
            O::I32Load8S { .. } => Access::Load(I32, 1, Some(true)),
            O::I32Load8U { .. } => Access::Load(I32, 1, Some(false)),
            O::I32Load16S { .. } => Access::Load(I32, 2, Some(true)),
            O::I32Load16U { .. } => Access::Load(I32, 2, Some(false)),
            O::I64Load8S { .. } => Access::Load(I64, 1, Some(true)),
            O::I64Load8U { .. } => Access::Load(I64, 1, Some(false)),
            O::I64Load16S { .. } => Access::Load(I64, 2, Some(true)),
            O::I64Load16U { .. } => Access::Load(I64, 2, Some(false)),
            O::I64Load32S { .. } => Access::Load(I64, 4, Some(true)),
            O::I64Load32U { .. } => Access::Load(I64, 4, Some(false)),
            O::I32Store { .. } | O::F32Store { .. } | O::I64Store32 { .. } => Access::Store(4),
            O::I64Store { .. } | O::F64Store { .. } => Access::Store(8),
            O::I32Store8 { .. } | O::I64Store8 { .. } => Access::Store(1),
            O::I32Store16 { .. } | O::I64Store16 { .. } => Access::Store(2),
            _ => unreachable!("not a load or store: {op:?}"),
        };
        let mem = target_memory(memarg);
        match access {
            Access::Load(ty, size, ext) => {
                let index = self.pop();
                let (addr, _) = self.heap_access(mem, index, memarg.offset, size, false);
                let flags = heap_flags();
                let ins = self.builder.ins();
                let v = match (size, ext) {
                    (_, None) => ins.load(ty, flags, addr, 0),
                    (1, Some(true)) => ins.sload8(ty, flags, addr, 0),
                    (1, Some(false)) => ins.uload8(ty, flags, addr, 0),
                    (2, Some(true)) => ins.sload16(ty, flags, addr, 0),
                    (2, Some(false)) => ins.uload16(ty, flags, addr, 0),
                    (4, Some(true)) => ins.sload32(flags, addr, 0),
                    (4, Some(false)) => ins.uload32(flags, addr, 0),
                    _ => unreachable!(),
                };
                self.push(v);
            }
            Access::Store(size) => {
                let (index, value) = self.pop2();
                let (addr, index) = self.heap_access(mem, index, memarg.offset, size, true);
                let flags = heap_flags();
                let value_size = self.builder.func.dfg.value_type(value).bytes();
                let ins = self.builder.ins();
                match (size, value_size) {
                    (1, _) => ins.istore8(flags, value, addr, 0),
                    (2, _) => ins.istore16(flags, value, addr, 0),
                    (4, 8) => ins.istore32(flags, value, addr, 0),
                    _ => ins.store(flags, value, addr, 0),
                };
                self.store_barrier(mem, index, memarg.offset, size, addr);
            }
        }
    }

    pub(crate) fn translate_bulk_memory(&mut self, op: &Operator<'_>) {
        use types::{I32, I64};
        use Operator as O;
        match *op {
            O::MemorySize { mem } => {
                let length = self.memory_length(mem);
                let shift = self.env.info.memories[mem as usize].page_size_log2;
                let pages = self.builder.ins().ushr_imm_s(length, i64::from(shift));
                let v = if self.env.info.memories[mem as usize].memory64 {
                    pages
                } else {
                    self.builder.ins().ireduce(I32, pages)
                };
                self.push(v);
            }
            O::MemoryGrow { mem } => {
                let delta = self.pop();
                let delta = self.extend_index(mem, delta);
                let index = self.builder.ins().iconst(I32, i64::from(mem));
                let r =
                    self.call_builtin(Builtin::MemoryGrow, &[I32, I64], &[I64], &[index, delta]);
                let failed = self.builder.ins().icmp_imm_s(
                    IntCC::Equal,
                    r[0],
                    vmctx::MEMORY_GROW_FAILED as i64,
                );
                self.builder
                    .ins()
                    .trapnz(failed, TrapKind::HostError.code());
                let v = if self.env.info.memories[mem as usize].memory64 {
                    r[0]
                } else {
                    self.builder.ins().ireduce(I32, r[0])
                };
                self.push(v);
            }
            O::MemoryFill { mem } => {
                let (dst, val, len) = self.pop3();
                let dst = self.tag_bulk_operand(mem, dst, Some(len), true);
                let dst = self.extend_index(mem, dst);
                let len = self.extend_index(mem, len);
                let index = self.builder.ins().iconst(I32, i64::from(mem));
                let r = self.call_builtin(
                    Builtin::MemoryFill,
                    &[I32, I64, I32, I64],
                    &[I32],
                    &[index, dst, val, len],
                );
                self.trap_if(r[0], TrapKind::MemoryOutOfBounds);
            }
            O::MemoryCopy { dst_mem, src_mem } => {
                let (dst, src, len) = self.pop3();
                let src = self.tag_bulk_operand(src_mem, src, Some(len), false);
                let dst = self.tag_bulk_operand(dst_mem, dst, Some(len), true);
                let dst = self.extend_index(dst_mem, dst);
                let src = self.extend_index(src_mem, src);
                // The length has the smaller of the two index types.
                let len = if self.env.info.memories[dst_mem as usize].memory64
                    && self.env.info.memories[src_mem as usize].memory64
                {
                    len
                } else {
                    self.builder.ins().uextend(I64, len)
                };
                let d = self.builder.ins().iconst(I32, i64::from(dst_mem));
                let s = self.builder.ins().iconst(I32, i64::from(src_mem));
                let r = self.call_builtin(
                    Builtin::MemoryCopy,
                    &[I32, I32, I64, I64, I64],
                    &[I32],
                    &[d, s, dst, src, len],
                );
                self.trap_if(r[0], TrapKind::MemoryOutOfBounds);
            }
            O::MemoryInit { data_index, mem } => {
                let (dst, src, len) = self.pop3();
                let dst = self.tag_bulk_operand(mem, dst, Some(len), true);
                let dst = self.extend_index(mem, dst);
                let m = self.builder.ins().iconst(I32, i64::from(mem));
                let d = self.builder.ins().iconst(I32, i64::from(data_index));
                let r = self.call_builtin(
                    Builtin::MemoryInit,
                    &[I32, I32, I64, I32, I32],
                    &[I32],
                    &[m, d, dst, src, len],
                );
                self.trap_if(r[0], TrapKind::MemoryOutOfBounds);
            }
            O::DataDrop { data_index } => {
                let d = self.builder.ins().iconst(I32, i64::from(data_index));
                self.call_builtin(Builtin::DataDrop, &[I32], &[], &[d]);
            }
            _ => unreachable!("not a memory operator: {op:?}"),
        }
    }
}
