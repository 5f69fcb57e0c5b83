//! Preserve-all trampolines: extra functions compiled after a module's
//! defined functions (and the allocator bodies the tag monitor wraps) that
//! cold paths call to reach a runtime builtin.
//!
//! A plain call, even on a path never taken, clobbers every caller-saved
//! register: values live across it (all float values: their registers are
//! all caller-saved) are spilled and reloaded on the hot path too, and a
//! leaf function becomes a non-leaf that saves callee-saved registers
//! (memcmp: 4 instructions without hooks became 40; matmul under the tag
//! monitor ran 6x instead of 3x slower). A trampoline has Cranelift's
//! `preserve_all` convention, so its call clobbers nothing; it calls the
//! builtin with the platform convention and leaves the answer (non-zero:
//! stop the guest) at [`vmctx::TRAMPOLINE_STOP`], where the caller reads
//! it.

use cranelift_codegen::ir::{self, types, InstBuilder, Value};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::FunctionBuilder;

use super::{call_builtin, FuncTranslator, ModuleEnv, TranslateConfig};
use crate::trap::TrapKind;
use crate::vmctx::{self, Builtin};

/// A module's preserve-all trampolines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Trampoline {
    /// Function hooks and the allocator's entry check:
    /// [`Builtin::AttestHook`] `(func, offset, point)`.
    Hook,
    /// Failed tag checks and bulk ranges: [`Builtin::TagCheck`].
    TagCheck,
}

impl Trampoline {
    /// The trampolines a module compiled with `config` has, in the order
    /// they are placed.
    pub(crate) fn needed(config: &TranslateConfig) -> Vec<Trampoline> {
        let mut out = Vec::new();
        // The allocator's entry check, the stack guards and the mark of
        // allocator calls call the same builtin.
        if config.attest.function_hooks
            || config.attest.heap_floor
            || config.attest.stack_guards
            || config.attest.allocator_calls
        {
            out.push(Trampoline::Hook);
        }
        if config.tags.is_some() {
            out.push(Trampoline::TagCheck);
        }
        out
    }

    /// The function index this trampoline is called by.
    fn index(self, env: &ModuleEnv<'_>) -> u32 {
        let info = env.info;
        let wrapped = env.tag_plan.map_or(0, |p| p.wrapped.len() as u32);
        let position = Self::needed(env.config)
            .iter()
            .position(|t| *t == self)
            .expect("a trampoline the module has") as u32;
        info.num_imported_funcs + info.func_bodies.len() as u32 + wrapped + position
    }

    fn builtin(self) -> Builtin {
        match self {
            Trampoline::Hook => Builtin::AttestHook,
            Trampoline::TagCheck => Builtin::TagCheck,
        }
    }

    /// The builtin's parameters after the vmctx, which the trampoline
    /// takes too.
    fn params(self) -> &'static [ir::Type] {
        match self {
            Trampoline::Hook => &[types::I32; 3],
            Trampoline::TagCheck => &[types::I64; 4],
        }
    }

    /// `(vmctx, params...)` with the `preserve_all` convention.
    pub(crate) fn signature(self, pointer_type: ir::Type) -> ir::Signature {
        let mut sig = ir::Signature::new(CallConv::PreserveAll);
        sig.params.push(ir::AbiParam::new(pointer_type));
        sig.params
            .extend(self.params().iter().map(|t| ir::AbiParam::new(*t)));
        sig
    }

    /// The body: calls the builtin with the platform convention and
    /// stores its answer at [`vmctx::TRAMPOLINE_STOP`].
    pub(crate) fn build(
        self,
        b: &mut FunctionBuilder<'_>,
        pointer_type: ir::Type,
        host_call_conv: CallConv,
    ) {
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        b.seal_block(block);
        let args = b.block_params(block).to_vec();
        let stop = call_builtin(
            b,
            pointer_type,
            host_call_conv,
            args[0],
            self.builtin(),
            self.params(),
            &[types::I32],
            &args[1..],
        )[0];
        b.ins()
            .store(super::vm_flags(), stop, args[0], vmctx::TRAMPOLINE_STOP);
        b.ins().return_(&[]);
    }
}

impl FuncTranslator<'_, '_> {
    /// Calls trampoline `t` with `args` (after the vmctx) and traps if the
    /// runtime says the guest must stop.
    pub(crate) fn call_trampoline(&mut self, t: Trampoline, args: &[Value]) {
        let signature = self
            .builder
            .import_signature(t.signature(self.env.pointer_type));
        let name = self
            .builder
            .func
            .declare_imported_user_function(ir::UserExternalName::new(0, t.index(self.env)));
        let callee = self.builder.import_function(ir::ExtFuncData {
            name: ir::ExternalName::user(name),
            signature,
            colocated: true,
            patchable: false,
        });
        let mut all = vec![self.vmctx];
        all.extend_from_slice(args);
        self.builder.ins().call(callee, &all);
        // The vmctx survives the call: the trampoline preserves it.
        let stop = self.builder.ins().load(
            types::I32,
            super::vm_flags(),
            self.vmctx,
            vmctx::TRAMPOLINE_STOP,
        );
        self.trap_if(stop, TrapKind::AttestationViolation);
    }
}
