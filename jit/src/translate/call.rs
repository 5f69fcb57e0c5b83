//! Calls: direct calls to defined functions, calls to imports through their
//! `VMFuncRef`, and `call_indirect` with its table and signature checks.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{self, types, InstBuilder, Value};
use wasmparser::Operator;

use super::{wasm_signature, FuncTranslator};
use cranelift_frontend::FunctionBuilder;

use crate::error::CompileError;
use crate::module_info::FuncSig;
use crate::trap::TrapKind;
use crate::vmctx;

/// A direct call to Wasm-level function `callee` of this module (defined,
/// or an allocator body the tag monitor wraps) with signature `sig`,
/// passing `vmctx` as both callee and caller context.
pub(crate) fn call_defined(
    b: &mut FunctionBuilder<'_>,
    sig: &FuncSig,
    callee: u32,
    vmctx: Value,
    args: &[Value],
) -> ir::Inst {
    let signature = b.import_signature(wasm_signature(sig));
    let name = b
        .func
        .declare_imported_user_function(ir::UserExternalName::new(0, callee));
    let callee_ref = b.import_function(ir::ExtFuncData {
        name: ir::ExternalName::user(name),
        signature,
        colocated: true,
        patchable: false,
    });
    let mut all = Vec::with_capacity(args.len() + 2);
    all.extend([vmctx, vmctx]);
    all.extend_from_slice(args);
    b.ins().call(callee_ref, &all)
}

impl FuncTranslator<'_, '_> {
    pub(crate) fn translate_call(&mut self, op: &Operator<'_>) -> Result<(), CompileError> {
        match *op {
            Operator::Call { function_index } => self.call_direct(function_index),
            Operator::CallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index),
            _ => unreachable!("not a call: {op:?}"),
        }
        Ok(())
    }

    fn push_call_results(&mut self, call: ir::Inst) {
        let results = self.builder.inst_results(call).to_vec();
        self.stack.extend(results);
    }

    fn call_direct(&mut self, callee: u32) {
        let sig = self.env.info.func_sig(callee).clone();
        let args = self.popn(sig.params.len());
        if callee < self.env.info.num_imported_funcs {
            let func_ref = self.func_ref(callee);
            self.call_func_ref(func_ref, &sig, &args);
            return;
        }
        if self.allocator_code && self.env.info.allocator_role(callee).is_some() {
            // The allocator calling itself: its callee's entry counts one.
            self.count_allocator_call(-1);
        }
        let call = call_defined(&mut self.builder, &sig, callee, self.vmctx, &args);
        self.push_call_results(call);
    }

    /// Calls through a non-null `*const VMFuncRef` of signature `sig`.
    fn call_func_ref(
        &mut self,
        func_ref: Value,
        sig: &crate::module_info::FuncSig,
        args: &[Value],
    ) {
        let flags = super::vm_flags().with_readonly();
        let code = self
            .builder
            .ins()
            .load(types::I64, flags, func_ref, vmctx::FUNCREF_CODE);
        let callee_vmctx =
            self.builder
                .ins()
                .load(types::I64, flags, func_ref, vmctx::FUNCREF_VMCTX);
        let signature = self.builder.import_signature(wasm_signature(sig));
        let mut all = Vec::with_capacity(args.len() + 2);
        all.extend([callee_vmctx, self.vmctx]);
        all.extend_from_slice(args);
        let call = self.builder.ins().call_indirect(signature, code, &all);
        self.push_call_results(call);
    }

    fn call_indirect(&mut self, type_index: u32, table: u32) {
        let sig = self.env.info.types[type_index as usize].clone();
        let index = self.pop();
        let args = self.popn(sig.params.len());
        let addr = self.table_entry_addr(table, index, TrapKind::UndefinedElement);
        let func_ref = self
            .builder
            .ins()
            .load(types::I64, super::vm_flags(), addr, 0);
        self.builder
            .ins()
            .trapz(func_ref, TrapKind::UninitializedElement.code());
        let type_id = self.builder.ins().load(
            types::I64,
            super::vm_flags().with_readonly(),
            func_ref,
            vmctx::FUNCREF_TYPE,
        );
        let expected = self.env.type_ids[type_index as usize];
        let mismatch = self
            .builder
            .ins()
            .icmp_imm_s(IntCC::NotEqual, type_id, expected as i64);
        self.trap_if(mismatch, TrapKind::IndirectCallTypeMismatch);
        self.call_func_ref(func_ref, &sig, &args);
    }
}
