//! Tables and references: `table.get/set/size` inline, `table.grow/fill/
//! copy/init` and `elem.drop` through builtins, `ref.null/is_null/func`.
//! A 64-bit table (memory64) takes `i64` indices and sizes; the builtins
//! take 32-bit ones, which such a value past `u32::MAX` becomes (no table
//! holds that many elements, so it is out of bounds either way).

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder, Value};
use wasmparser::Operator;

use super::FuncTranslator;
use crate::trap::TrapKind;
use crate::vmctx::{self, Builtin};

impl FuncTranslator<'_, '_> {
    fn table_def(&mut self, table: u32) -> Value {
        let offset = self.env.offsets.table(table);
        self.load_fixed_ptr(self.vmctx, offset)
    }

    /// Address of entry `index` of `table`, trapping with `oob` past the end.
    pub(crate) fn table_entry_addr(&mut self, table: u32, index: Value, oob: TrapKind) -> Value {
        let def = self.table_def(table);
        let length =
            self.builder
                .ins()
                .load(types::I64, super::vm_flags(), def, vmctx::TABLE_LENGTH);
        let index = if self.table64(table) {
            index
        } else {
            self.builder.ins().uextend(types::I64, index)
        };
        let out = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, length);
        self.trap_if(out, oob);
        let base = self
            .builder
            .ins()
            .load(types::I64, super::vm_flags(), def, vmctx::TABLE_BASE);
        let scaled = self.builder.ins().ishl_imm_s(index, 3);
        self.builder.ins().iadd(base, scaled)
    }

    /// A table index, size or length as the builtins take it: an `i64`
    /// one past `u32::MAX` becomes `u32::MAX`, which is as far out of
    /// bounds (and as far past any table's maximum) as it was.
    fn table_operand_u32(&mut self, v: Value) -> Value {
        if self.builder.func.dfg.value_type(v) != types::I64 {
            return v;
        }
        let most = self.builder.ins().iconst(types::I64, i64::from(u32::MAX));
        let v = self.builder.ins().umin(v, most);
        self.builder.ins().ireduce(types::I32, v)
    }

    fn table64(&self, table: u32) -> bool {
        self.env.info.tables[table as usize].table64
    }

    /// The `*const VMFuncRef` of function `func`.
    pub(crate) fn func_ref(&mut self, func: u32) -> Value {
        let offset = self.env.offsets.funcref(func);
        self.load_fixed_ptr(self.vmctx, offset)
    }

    pub(crate) fn translate_table(&mut self, op: &Operator<'_>) {
        use types::{I32, I64};
        use Operator as O;
        match *op {
            O::RefNull { .. } => {
                let v = self.builder.ins().iconst(I64, 0);
                self.push(v);
            }
            O::RefIsNull => {
                let r = self.pop();
                let c = self.builder.ins().icmp_imm_s(IntCC::Equal, r, 0);
                let v = self.builder.ins().uextend(I32, c);
                self.push(v);
            }
            O::RefAsNonNull => {
                let r = self.pop();
                self.builder.ins().trapz(r, TrapKind::NullReference.code());
                self.push(r);
            }
            O::RefFunc { function_index } => {
                let v = self.func_ref(function_index);
                self.push(v);
            }
            O::TableGet { table } => {
                let index = self.pop();
                let addr = self.table_entry_addr(table, index, TrapKind::TableOutOfBounds);
                let v = self.builder.ins().load(I64, super::vm_flags(), addr, 0);
                self.push(v);
            }
            O::TableSet { table } => {
                let (index, value) = self.pop2();
                let addr = self.table_entry_addr(table, index, TrapKind::TableOutOfBounds);
                self.builder.ins().store(super::vm_flags(), value, addr, 0);
            }
            O::TableSize { table } => {
                let def = self.table_def(table);
                let length =
                    self.builder
                        .ins()
                        .load(I64, super::vm_flags(), def, vmctx::TABLE_LENGTH);
                let v = if self.table64(table) {
                    length
                } else {
                    self.builder.ins().ireduce(I32, length)
                };
                self.push(v);
            }
            O::TableGrow { table } => {
                let (init, delta) = self.pop2();
                let delta = self.table_operand_u32(delta);
                let t = self.builder.ins().iconst(I32, i64::from(table));
                let r = self.call_builtin(
                    Builtin::TableGrow,
                    &[I32, I64, I32],
                    &[I32],
                    &[t, init, delta],
                );
                let failed = self.builder.ins().icmp_imm_u(
                    IntCC::Equal,
                    r[0],
                    i64::from(vmctx::TABLE_GROW_FAILED),
                );
                self.builder
                    .ins()
                    .trapnz(failed, TrapKind::HostError.code());
                let v = if self.table64(table) {
                    // The old size, or -1 (`u32::MAX` from the builtin);
                    // no table reaches 2^31 elements (the runtime's
                    // limit is 10 million), so the sign bit is the -1's.
                    self.builder.ins().sextend(I64, r[0])
                } else {
                    r[0]
                };
                self.push(v);
            }
            O::TableFill { table } => {
                let (dst, val, len) = self.pop3();
                let dst = self.table_operand_u32(dst);
                let len = self.table_operand_u32(len);
                let t = self.builder.ins().iconst(I32, i64::from(table));
                let r = self.call_builtin(
                    Builtin::TableFill,
                    &[I32, I32, I64, I32],
                    &[I32],
                    &[t, dst, val, len],
                );
                self.trap_if(r[0], TrapKind::TableOutOfBounds);
            }
            O::TableCopy {
                dst_table,
                src_table,
            } => {
                let (dst, src, len) = self.pop3();
                let (dst, src) = (self.table_operand_u32(dst), self.table_operand_u32(src));
                let len = self.table_operand_u32(len);
                let d = self.builder.ins().iconst(I32, i64::from(dst_table));
                let s = self.builder.ins().iconst(I32, i64::from(src_table));
                let r = self.call_builtin(
                    Builtin::TableCopy,
                    &[I32, I32, I32, I32, I32],
                    &[I32],
                    &[d, s, dst, src, len],
                );
                self.trap_if(r[0], TrapKind::TableOutOfBounds);
            }
            O::TableInit { elem_index, table } => {
                let (dst, src, len) = self.pop3();
                let dst = self.table_operand_u32(dst);
                let t = self.builder.ins().iconst(I32, i64::from(table));
                let e = self.builder.ins().iconst(I32, i64::from(elem_index));
                let r = self.call_builtin(
                    Builtin::TableInit,
                    &[I32, I32, I32, I32, I32],
                    &[I32],
                    &[t, e, dst, src, len],
                );
                self.trap_if(r[0], TrapKind::TableOutOfBounds);
            }
            O::ElemDrop { elem_index } => {
                let e = self.builder.ins().iconst(I32, i64::from(elem_index));
                self.call_builtin(Builtin::ElemDrop, &[I32], &[], &[e]);
            }
            _ => unreachable!("not a table operator: {op:?}"),
        }
    }
}
