//! Calls: direct calls to defined functions, calls to imports through their
//! `VMFuncRef`, and `call_indirect` with its table and signature checks;
//! each also as a tail call (`return_call`, `return_call_indirect`).

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
    let (callee_ref, all) = defined_callee(b, sig, callee, vmctx, args);
    b.ins().call(callee_ref, &all)
}

/// The function reference and full argument list of a direct call.
fn defined_callee(
    b: &mut FunctionBuilder<'_>,
    sig: &FuncSig,
    callee: u32,
    vmctx: Value,
    args: &[Value],
) -> (ir::FuncRef, Vec<Value>) {
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
    (callee_ref, all)
}

/// How a call leaves its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CallKind {
    /// `call`: the caller goes on with the results.
    Plain,
    /// `return_call`: the callee's results are the caller's, and its frame
    /// replaces the caller's.
    Tail,
    /// `return_call` compiled as a call followed by `return`.
    ThenReturn,
}

impl FuncTranslator<'_, '_> {
    pub(crate) fn translate_call(&mut self, op: &Operator<'_>) -> Result<(), CompileError> {
        match *op {
            Operator::Call { function_index } => self.call_direct(function_index),
            Operator::CallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index, CallKind::Plain),
            Operator::ReturnCall { function_index } => {
                self.call_direct_as(function_index, self.tail_kind())
            }
            Operator::ReturnCallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index, self.tail_kind()),
            Operator::CallRef { type_index } => self.call_ref(type_index, CallKind::Plain),
            Operator::ReturnCallRef { type_index } => self.call_ref(type_index, self.tail_kind()),
            _ => unreachable!("not a call: {op:?}"),
        }
        Ok(())
    }

    /// How this function's `return_call`s leave it. A function with work
    /// to do as it returns ([`Self::allocator_return`]'s) calls and then
    /// returns as `return` does, so that work sees the results: such
    /// functions do not recurse, and their stack stays bounded. Every
    /// other function replaces its frame with the callee's.
    fn tail_kind(&self) -> CallKind {
        if self.has_return_work() {
            CallKind::ThenReturn
        } else {
            CallKind::Tail
        }
    }

    /// Ends a call of `kind`: a tail call ends the block; a plain call's
    /// results go on the stack, and a `return_call` compiled as a plain
    /// call returns them as `return` does. A callee that `may_throw` is
    /// followed by the test for its exception.
    fn finish_call(&mut self, call: ir::Inst, kind: CallKind, may_throw: bool) {
        if kind == CallKind::Tail {
            self.reachable = false;
            return;
        }
        self.fuel_reload();
        self.epoch_reload();
        let results = self.builder.inst_results(call).to_vec();
        if may_throw {
            self.test_pending_exception(kind == CallKind::ThenReturn);
        }
        if kind == CallKind::ThenReturn {
            self.return_values(&results);
        } else {
            self.stack.extend(results);
        }
    }

    fn call_direct(&mut self, callee: u32) {
        self.call_direct_as(callee, CallKind::Plain);
    }

    /// A direct call; `kind` as [`Self::tail_kind`] chose for a
    /// `return_call` (which then ends the function either way).
    fn call_direct_as(&mut self, callee: u32, kind: CallKind) {
        let sig = self.env.info.func_sig(callee).clone();
        let args = self.popn(sig.params.len());
        if callee < self.env.info.num_imported_funcs {
            let func_ref = self.func_ref(callee);
            self.call_func_ref(func_ref, &sig, &args, kind);
            return;
        }
        if self.allocator_code && self.env.info.allocator_role(callee).is_some() {
            // The allocator calling itself: its callee's entry counts one.
            self.count_allocator_call(-1);
        }
        let tail = self.leave_for_tail_call(kind);
        self.fuel_save();
        let call = if tail {
            let (callee_ref, all) =
                defined_callee(&mut self.builder, &sig, callee, self.vmctx, &args);
            self.builder.ins().return_call(callee_ref, &all)
        } else {
            call_defined(&mut self.builder, &sig, callee, self.vmctx, &args)
        };
        let defined = (callee - self.env.info.num_imported_funcs) as usize;
        let may_throw = self.env.exceptions.is_some_and(|e| e.may_throw[defined]);
        self.finish_call(call, kind, may_throw);
    }

    /// Before a true tail call: the function's exit hook, as `return`
    /// runs it (the callee's entry hook follows). Whether the call is a
    /// true tail call.
    fn leave_for_tail_call(&mut self, kind: CallKind) -> bool {
        let tail = kind == CallKind::Tail;
        if tail {
            self.function_hook(crate::vmctx::HookPoint::Return);
        }
        tail
    }

    /// Calls through a non-null `*const VMFuncRef` of signature `sig`.
    fn call_func_ref(
        &mut self,
        func_ref: Value,
        sig: &crate::module_info::FuncSig,
        args: &[Value],
        kind: CallKind,
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
        let tail = self.leave_for_tail_call(kind);
        self.fuel_save();
        let mut all = Vec::with_capacity(args.len() + 2);
        all.extend([callee_vmctx, self.vmctx]);
        all.extend_from_slice(args);
        let call = if tail {
            self.builder
                .ins()
                .return_call_indirect(signature, code, &all)
        } else {
            self.builder.ins().call_indirect(signature, code, &all)
        };
        self.finish_call(call, kind, true);
    }

    /// `call_ref`: through a typed function reference. Validation made
    /// the reference's type `type_index`'s, but its signature is checked
    /// as `call_indirect` checks it all the same: a reference the host
    /// handed in (a parameter, a global, a table element) had only its
    /// representation checked, and a wrong one must trap, not call with
    /// the wrong arguments.
    fn call_ref(&mut self, type_index: u32, kind: CallKind) {
        let sig = self.env.info.types[type_index as usize].clone();
        let func_ref = self.pop();
        let args = self.popn(sig.params.len());
        self.builder
            .ins()
            .trapz(func_ref, TrapKind::NullFunctionReference.code());
        self.check_signature(func_ref, type_index);
        self.call_func_ref(func_ref, &sig, &args, kind);
    }

    /// Traps unless the function `func_ref` points at has type
    /// `type_index`'s engine-wide id, or a subtype of it.
    fn check_signature(&mut self, func_ref: Value, type_index: u32) {
        let type_id = self.builder.ins().load(
            types::I64,
            super::vm_flags().with_readonly(),
            func_ref,
            vmctx::FUNCREF_TYPE,
        );
        // A final type (the common case) is one compare, as without GC.
        let matches = self.is_type(type_id, type_index);
        self.builder
            .ins()
            .trapz(matches, TrapKind::IndirectCallTypeMismatch.code());
    }

    fn call_indirect(&mut self, type_index: u32, table: u32, kind: CallKind) {
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
        self.check_signature(func_ref, type_index);
        self.call_func_ref(func_ref, &sig, &args, kind);
    }
}
