//! Structs and arrays: `struct.new`, `struct.get`, `struct.set`, the
//! custom-descriptors proposal's `struct.new_desc`,
//! `struct.new_default_desc` and `ref.get_desc`, `array.new`, `array.get`, `array.set`, `array.len`, `array.fill`,
//! `array.copy`. Objects come from the runtime ([`Builtin::GcAlloc`]),
//! zeroed, with a header ([`vmctx::GC_HEADER`]); fields are read and
//! written in place. Objects live outside linear memory, so attestation's
//! hooks do not see these accesses.

use cranelift_codegen::ir::{condcodes::IntCC, types, InstBuilder, MemFlagsData, Value};
use wasmparser::Operator;

use super::{block_args, FuncTranslator};
use crate::error::CompileError;
use crate::gc_types::StorageTy;
use crate::trap::TrapKind;
use crate::vmctx::{self, Builtin, GcFailure, ARRAY_SEGMENT_ELEM};

/// How a packed field is widened when read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Extend {
    None,
    Signed,
    Unsigned,
}

/// Objects are never at an address that traps once checked for null.
fn flags() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

impl FuncTranslator<'_, '_> {
    pub(crate) fn translate_gc_object(&mut self, op: &Operator<'_>) -> Result<(), CompileError> {
        use Operator as O;
        match *op {
            O::StructNew { struct_type_index }
            | O::StructNewDefault { struct_type_index }
            | O::StructNewDesc { struct_type_index }
            | O::StructNewDefaultDesc { struct_type_index } => {
                let def = self.env.info.type_defs[struct_type_index as usize].clone();
                let (offsets, _) = def.struct_layout();
                let desc = if matches!(op, O::StructNewDesc { .. } | O::StructNewDefaultDesc { .. })
                {
                    let desc = self.pop();
                    self.builder
                        .ins()
                        .trapz(desc, TrapKind::NullDescriptorReference.code());
                    Some(desc)
                } else {
                    None
                };
                let values = if matches!(op, O::StructNew { .. } | O::StructNewDesc { .. }) {
                    self.popn(def.fields.len())
                } else {
                    Vec::new()
                };
                let zero = self.builder.ins().iconst(types::I32, 0);
                let obj = self.gc_alloc(struct_type_index, zero);
                if let (Some(desc), Some(at)) = (desc, def.descriptor_offset()) {
                    self.builder.ins().store(flags(), desc, obj, at as i32);
                }
                for ((field, offset), value) in def.fields.iter().zip(&offsets).zip(values) {
                    self.store_storage(field.storage, obj, *offset as i32, value);
                }
                self.push(obj);
            }
            O::RefGetDesc { type_index } => {
                let obj = self.pop();
                self.builder
                    .ins()
                    .trapz(obj, TrapKind::NullReference.code());
                let offset = self.descriptor_offset(type_index)?;
                let desc = self.builder.ins().load(types::I64, flags(), obj, offset);
                self.push(desc);
            }
            O::StructGet {
                struct_type_index,
                field_index,
            }
            | O::StructGetS {
                struct_type_index,
                field_index,
            }
            | O::StructGetU {
                struct_type_index,
                field_index,
            } => {
                let (storage, offset) = self.field(struct_type_index, field_index);
                let obj = self.pop();
                self.builder
                    .ins()
                    .trapz(obj, TrapKind::NullStructReference.code());
                let extend = match op {
                    O::StructGetS { .. } => Extend::Signed,
                    O::StructGetU { .. } => Extend::Unsigned,
                    _ => Extend::None,
                };
                let v = self.load_storage(storage, obj, offset, extend);
                self.push(v);
            }
            O::StructSet {
                struct_type_index,
                field_index,
            } => {
                let (storage, offset) = self.field(struct_type_index, field_index);
                let value = self.pop();
                let obj = self.pop();
                self.builder
                    .ins()
                    .trapz(obj, TrapKind::NullStructReference.code());
                self.store_storage(storage, obj, offset, value);
            }
            O::ArrayNew { array_type_index } => {
                let storage = self.element(array_type_index);
                let len = self.pop();
                let value = self.pop();
                let arr = self.gc_alloc(array_type_index, len);
                let first = self
                    .builder
                    .ins()
                    .iadd_imm_u(arr, i64::from(vmctx::GC_HEADER));
                self.fill(storage, first, len, value);
                self.push(arr);
            }
            O::ArrayNewDefault { array_type_index } => {
                let len = self.pop();
                let arr = self.gc_alloc(array_type_index, len);
                self.push(arr);
            }
            O::ArrayNewFixed {
                array_type_index,
                array_size,
            } => {
                let storage = self.element(array_type_index);
                let values = self.popn(array_size as usize);
                let len = self.builder.ins().iconst(types::I32, i64::from(array_size));
                let arr = self.gc_alloc(array_type_index, len);
                let size = storage.size() as i32;
                for (i, value) in values.into_iter().enumerate() {
                    let offset = vmctx::GC_HEADER + size * i as i32;
                    self.store_storage(storage, arr, offset, value);
                }
                self.push(arr);
            }
            O::ArrayGet { array_type_index }
            | O::ArrayGetS { array_type_index }
            | O::ArrayGetU { array_type_index } => {
                let storage = self.element(array_type_index);
                let index = self.pop();
                let arr = self.pop();
                let one = self.builder.ins().iconst(types::I32, 1);
                let addr = self.element_addr(arr, index, one, storage);
                let extend = match op {
                    O::ArrayGetS { .. } => Extend::Signed,
                    O::ArrayGetU { .. } => Extend::Unsigned,
                    _ => Extend::None,
                };
                let v = self.load_storage(storage, addr, 0, extend);
                self.push(v);
            }
            O::ArraySet { array_type_index } => {
                let storage = self.element(array_type_index);
                let value = self.pop();
                let index = self.pop();
                let arr = self.pop();
                let one = self.builder.ins().iconst(types::I32, 1);
                let addr = self.element_addr(arr, index, one, storage);
                self.store_storage(storage, addr, 0, value);
            }
            O::ArrayLen => {
                let arr = self.pop();
                self.builder
                    .ins()
                    .trapz(arr, TrapKind::NullArrayReference.code());
                let len = self
                    .builder
                    .ins()
                    .load(types::I32, flags(), arr, vmctx::GC_ARRAY_LEN);
                self.push(len);
            }
            O::ArrayFill { array_type_index } => {
                let storage = self.element(array_type_index);
                let n = self.pop();
                let value = self.pop();
                let start = self.pop();
                let arr = self.pop();
                let first = self.element_addr(arr, start, n, storage);
                self.fill(storage, first, n, value);
            }
            O::ArrayCopy {
                array_type_index_dst,
                ..
            } => {
                let storage = self.element(array_type_index_dst);
                let n = self.pop();
                let src_index = self.pop();
                let src = self.pop();
                let dst_index = self.pop();
                let dst = self.pop();
                // Both nulls before either range (the spec's order).
                self.builder
                    .ins()
                    .trapz(src, TrapKind::NullArrayReference.code());
                let dst_addr = self.element_addr(dst, dst_index, n, storage);
                let src_addr = self.element_addr(src, src_index, n, storage);
                self.copy(storage, dst_addr, src_addr, n);
            }
            O::ArrayNewData {
                array_type_index,
                array_data_index,
            } => self.array_new_segment(array_type_index, array_data_index),
            O::ArrayNewElem {
                array_type_index,
                array_elem_index,
            } => self.array_new_segment(array_type_index, array_elem_index | ARRAY_SEGMENT_ELEM),
            O::ArrayInitData {
                array_type_index,
                array_data_index,
            } => self.array_init_segment(array_type_index, array_data_index),
            O::ArrayInitElem {
                array_type_index,
                array_elem_index,
            } => self.array_init_segment(array_type_index, array_elem_index | ARRAY_SEGMENT_ELEM),
            _ => unreachable!("not a struct or array operator: {op:?}"),
        }
        Ok(())
    }

    fn array_new_segment(&mut self, ty: u32, segment: u32) {
        let len = self.pop();
        let src = self.pop();
        let ty_v = self.builder.ins().iconst(types::I32, i64::from(ty));
        let seg = self
            .builder
            .ins()
            .iconst(types::I32, i64::from(segment as i32));
        let arr = self.call_builtin(
            Builtin::ArrayNewSegment,
            &[types::I32; 4],
            &[types::I64],
            &[ty_v, seg, src, len],
        )[0];
        self.trap_on_segment_failure(arr, segment);
        self.push(arr);
    }

    fn array_init_segment(&mut self, ty: u32, segment: u32) {
        let len = self.pop();
        let src = self.pop();
        let dst = self.pop();
        let arr = self.pop();
        self.builder
            .ins()
            .trapz(arr, TrapKind::NullArrayReference.code());
        let ty_v = self.builder.ins().iconst(types::I32, i64::from(ty));
        let seg = self
            .builder
            .ins()
            .iconst(types::I32, i64::from(segment as i32));
        let r = self.call_builtin(
            Builtin::ArrayInitSegment,
            &[
                types::I32,
                types::I32,
                types::I64,
                types::I32,
                types::I32,
                types::I32,
            ],
            &[types::I64],
            &[ty_v, seg, arr, dst, src, len],
        )[0];
        self.trap_on_segment_failure(r, segment);
    }

    /// Traps with the kind the segment builtins' failures stand for.
    fn trap_on_segment_failure(&mut self, answer: Value, segment: u32) {
        let source = if segment & ARRAY_SEGMENT_ELEM != 0 {
            GcFailure::ElemOutOfBounds
        } else {
            GcFailure::DataOutOfBounds
        };
        for failure in [GcFailure::Exhausted, source, GcFailure::ArrayOutOfBounds] {
            self.trap_on_failure(answer, failure);
        }
    }

    /// Traps with `failure`'s kind when a GC builtin answered it.
    fn trap_on_failure(&mut self, answer: Value, failure: GcFailure) {
        let hit = self
            .builder
            .ins()
            .icmp_imm_u(IntCC::Equal, answer, failure as i64);
        self.trap_if(hit, failure.trap());
    }

    /// How field `field` of struct type `ty` is stored, and its offset.
    fn field(&self, ty: u32, field: u32) -> (StorageTy, i32) {
        let def = &self.env.info.type_defs[ty as usize];
        let offset = def.struct_layout().0[field as usize] as i32;
        (def.fields[field as usize].storage, offset)
    }

    /// Where objects of the module's struct type `ty` and its subtypes
    /// hold their descriptor (validation has checked it has one).
    pub(crate) fn descriptor_offset(&self, ty: u32) -> Result<i32, CompileError> {
        self.env.info.type_defs[ty as usize]
            .descriptor_offset()
            .map(|at| at as i32)
            .ok_or_else(|| CompileError::Unsupported(format!("type {ty} without a descriptor")))
    }

    fn element(&self, array_type_index: u32) -> StorageTy {
        self.env.info.type_defs[array_type_index as usize].fields[0].storage
    }

    /// A new zeroed object of the module's type `ty` (`len` elements for
    /// an array; 0 for a struct), header written. Inline while the
    /// store's current range has room (the runtime hands out ranges
    /// zeroed), else from the runtime, which may collect.
    fn gc_alloc(&mut self, ty: u32, len: Value) -> Value {
        let def = &self.env.info.type_defs[ty as usize];
        let is_array = def.kind == crate::module_info::TypeKind::Array;
        let size = if is_array {
            let elem = i64::from(def.fields[0].storage.size());
            let len = self.builder.ins().uextend(types::I64, len);
            let bytes = self.builder.ins().imul_imm_u(len, elem);
            let bytes = self
                .builder
                .ins()
                .iadd_imm_u(bytes, i64::from(vmctx::GC_HEADER) + 7);
            self.builder.ins().band_imm_s(bytes, -8)
        } else {
            let size = i64::from(def.struct_size());
            self.builder.ins().iconst(types::I64, size)
        };
        let limits = self.load_fixed_ptr(self.vmctx, vmctx::RUNTIME_LIMITS);
        let cursor = self.builder.ins().load(
            types::I64,
            super::vm_flags(),
            limits,
            vmctx::LIMITS_GC_CURSOR,
        );
        let end =
            self.builder
                .ins()
                .load(types::I64, super::vm_flags(), limits, vmctx::LIMITS_GC_END);
        let next = self.builder.ins().iadd(cursor, size);
        let fits = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedLessThanOrEqual, next, end);
        let fast = self.builder.create_block();
        let slow = self.builder.create_block();
        let done = self.builder.create_block();
        let obj = self.builder.append_block_param(done, types::I64);
        self.builder.ins().brif(fits, fast, &[], slow, &[]);
        self.builder.seal_block(fast);
        self.builder.seal_block(slow);

        self.builder.switch_to_block(fast);
        self.builder
            .ins()
            .store(super::vm_flags(), next, limits, vmctx::LIMITS_GC_CURSOR);
        let info = self.type_constant(super::gc::TypeConstant::Info, ty);
        self.builder
            .ins()
            .store(flags(), info, cursor, vmctx::GC_TYPE_INFO);
        self.builder
            .ins()
            .store(flags(), len, cursor, vmctx::GC_ARRAY_LEN);
        if is_array {
            let kind = self.builder.ins().iconst(types::I32, 1);
            self.builder
                .ins()
                .store(flags(), kind, cursor, vmctx::GC_KIND);
        }
        self.builder.ins().jump(done, &block_args(&[cursor]));

        self.builder.switch_to_block(slow);
        let ty = self.builder.ins().iconst(types::I32, i64::from(ty));
        let made = self.call_builtin(
            Builtin::GcAlloc,
            &[types::I32, types::I32],
            &[types::I64],
            &[ty, len],
        )[0];
        self.trap_on_failure(made, GcFailure::Exhausted);
        self.builder.ins().jump(done, &block_args(&[made]));
        self.builder.seal_block(done);
        self.builder.switch_to_block(done);
        obj
    }

    /// The address of element `index` of array `arr`, after the checks
    /// that `arr` is not null and that `count` elements from `index` lie
    /// within it (`count` is 1 for one access).
    fn element_addr(
        &mut self,
        arr: Value,
        index: Value,
        count: Value,
        storage: StorageTy,
    ) -> Value {
        self.builder
            .ins()
            .trapz(arr, TrapKind::NullArrayReference.code());
        let len = self
            .builder
            .ins()
            .load(types::I32, flags(), arr, vmctx::GC_ARRAY_LEN);
        let len = self.builder.ins().uextend(types::I64, len);
        let index = self.builder.ins().uextend(types::I64, index);
        let count = self.builder.ins().uextend(types::I64, count);
        let end = self.builder.ins().iadd(index, count);
        let past = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThan, end, len);
        self.trap_if(past, TrapKind::ArrayOutOfBounds);
        let offset = self
            .builder
            .ins()
            .imul_imm_u(index, i64::from(storage.size()));
        let base = self.builder.ins().iadd(arr, offset);
        self.builder
            .ins()
            .iadd_imm_u(base, i64::from(vmctx::GC_HEADER))
    }

    fn store_storage(&mut self, storage: StorageTy, base: Value, offset: i32, value: Value) {
        let ins = self.builder.ins();
        match storage {
            StorageTy::I8 => ins.istore8(flags(), value, base, offset),
            StorageTy::I16 => ins.istore16(flags(), value, base, offset),
            _ => ins.store(flags(), value, base, offset),
        };
    }

    fn load_storage(
        &mut self,
        storage: StorageTy,
        base: Value,
        offset: i32,
        extend: Extend,
    ) -> Value {
        let ins = self.builder.ins();
        match (storage, extend) {
            (StorageTy::I8, Extend::Signed) => ins.sload8(types::I32, flags(), base, offset),
            (StorageTy::I8, _) => ins.uload8(types::I32, flags(), base, offset),
            (StorageTy::I16, Extend::Signed) => ins.sload16(types::I32, flags(), base, offset),
            (StorageTy::I16, _) => ins.uload16(types::I32, flags(), base, offset),
            (storage, _) => {
                let ty = super::ir_type(storage.unpacked());
                ins.load(ty, flags(), base, offset)
            }
        }
    }

    /// Writes `value` to `n` elements from the one at `first` (checked).
    fn fill(&mut self, storage: StorageTy, first: Value, n: Value, value: Value) {
        let size = i64::from(storage.size());
        let n = self.builder.ins().uextend(types::I64, n);
        self.counted_loop(n, |t, i| {
            let offset = t.builder.ins().imul_imm_u(i, size);
            let addr = t.builder.ins().iadd(first, offset);
            t.store_storage(storage, addr, 0, value);
        });
    }

    /// Copies `n` elements from `src` to `dst` (checked addresses), as
    /// `memmove` would when the ranges overlap.
    fn copy(&mut self, storage: StorageTy, dst: Value, src: Value, n: Value) {
        let size = i64::from(storage.size());
        let n = self.builder.ins().uextend(types::I64, n);
        let forward = self.builder.create_block();
        let backward = self.builder.create_block();
        let done = self.builder.create_block();
        let below = self.builder.ins().icmp(IntCC::UnsignedLessThan, dst, src);
        self.builder.ins().brif(below, forward, &[], backward, &[]);
        self.builder.seal_block(forward);
        self.builder.seal_block(backward);
        for (block, reverse) in [(forward, false), (backward, true)] {
            self.builder.switch_to_block(block);
            self.counted_loop(n, |t, i| {
                let i = if reverse {
                    let last = t.builder.ins().iadd_imm_s(n, -1);
                    t.builder.ins().isub(last, i)
                } else {
                    i
                };
                let offset = t.builder.ins().imul_imm_u(i, size);
                let from = t.builder.ins().iadd(src, offset);
                let to = t.builder.ins().iadd(dst, offset);
                let v = t.load_storage(storage, from, 0, Extend::None);
                t.store_storage(storage, to, 0, v);
            });
            self.builder.ins().jump(done, &[]);
        }
        self.builder.seal_block(done);
        self.builder.switch_to_block(done);
    }

    /// Runs `body` for `i` in `0..n` (`i64`s).
    fn counted_loop(&mut self, n: Value, mut body: impl FnMut(&mut Self, Value)) {
        let header = self.builder.create_block();
        let i = self.builder.append_block_param(header, types::I64);
        let step = self.builder.create_block();
        let exit = self.builder.create_block();
        let zero = self.builder.ins().iconst(types::I64, 0);
        self.builder.ins().jump(header, &block_args(&[zero]));
        self.builder.switch_to_block(header);
        let more = self.builder.ins().icmp(IntCC::UnsignedLessThan, i, n);
        self.builder.ins().brif(more, step, &[], exit, &[]);
        self.builder.seal_block(step);
        self.builder.switch_to_block(step);
        body(self, i);
        let next = self.builder.ins().iadd_imm_u(i, 1);
        self.builder.ins().jump(header, &block_args(&[next]));
        self.builder.seal_block(header);
        self.builder.seal_block(exit);
        self.builder.switch_to_block(exit);
    }
}
