//! Locals and globals: `local.get/set/tee`, `global.get/set`.

use cranelift_codegen::ir::{InstBuilder, MemFlagsData};
use wasmparser::Operator;

use super::{ir_type, FuncTranslator};

impl FuncTranslator<'_, '_> {
    pub(crate) fn translate_variable(&mut self, op: &Operator<'_>) {
        use Operator as O;
        match *op {
            O::LocalGet { local_index } => {
                let v = self.builder.use_var(self.locals[local_index as usize].0);
                self.push(v);
            }
            O::LocalSet { local_index } => {
                let v = self.pop();
                self.builder.def_var(self.locals[local_index as usize].0, v);
            }
            O::LocalTee { local_index } => {
                let v = *self.stack.last().expect("validated: tee operand");
                self.builder.def_var(self.locals[local_index as usize].0, v);
            }
            O::GlobalGet { global_index } => {
                let plan = self.env.info.globals[global_index as usize];
                let cell = self.load_fixed_ptr(self.vmctx, self.env.offsets.global(global_index));
                // An immutable global never changes after instantiation.
                let mut flags = MemFlagsData::trusted();
                if !plan.mutable {
                    flags = flags.with_readonly().with_can_move();
                }
                let v = self.builder.ins().load(ir_type(plan.ty), flags, cell, 0);
                self.push(v);
            }
            O::GlobalSet { global_index } => {
                let v = self.pop();
                let cell = self.load_fixed_ptr(self.vmctx, self.env.offsets.global(global_index));
                self.builder
                    .ins()
                    .store(MemFlagsData::trusted(), v, cell, 0);
            }
            _ => unreachable!("not a variable operator: {op:?}"),
        }
    }
}
