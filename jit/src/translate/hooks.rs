//! Attestation instrumentation: the store barrier that keeps the dirty-page
//! bitmap, and the function hooks that hand dirty pages to the runtime.
//!
//! Both are emitted only when the engine's policy asks for them
//! ([`super::AttestCodegen`]), so code compiled without attestation pays
//! nothing.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder, Value};

use super::FuncTranslator;
use crate::trap::TrapKind;
use crate::vmctx::{self, Builtin, HookPoint};

impl FuncTranslator<'_, '_> {
    /// Marks the page(s) of a `size`-byte store at native address `addr`
    /// of memory `mem` dirty. Runs after the store, so an access that traps
    /// never marks a page outside the memory: the biased bitmap is indexed
    /// by the address's page number and needs no bounds check.
    pub(crate) fn store_barrier(&mut self, mem: u32, addr: Value, size: u32) {
        let attest = self.env.config.attest;
        if !attest.store_barrier {
            return;
        }
        let def = self.memory_def(mem);
        let flags = self.memory_field_flags(mem);
        let dirty = self
            .builder
            .ins()
            .load(types::I64, flags, def, vmctx::MEMORY_DIRTY);
        let one = self.builder.ins().iconst(types::I8, 1);
        let first = self
            .builder
            .ins()
            .ushr_imm_s(addr, i64::from(vmctx::DIRTY_PAGE_SHIFT));
        let slot = self.builder.ins().iadd(dirty, first);
        self.builder.ins().store(super::vm_flags(), one, slot, 0);
        if size > 1 {
            // An unaligned access may straddle two pages; then the page of
            // its last byte is marked too, which keeps the bitmap exact.
            // The test is a predictable branch: a second store on every
            // access costs far more in store-bound loops (matmul: 2.28x
            // against 1.65x with the branch).
            let mask = (1i64 << vmctx::DIRTY_PAGE_SHIFT) - 1;
            let in_page = self.builder.ins().band_imm_s(addr, mask);
            let limit = (1i64 << vmctx::DIRTY_PAGE_SHIFT) - i64::from(size);
            let straddles =
                self.builder
                    .ins()
                    .icmp_imm_s(IntCC::UnsignedGreaterThan, in_page, limit);
            self.cold_path(straddles, |t| {
                let next = t.builder.ins().iadd_imm_s(slot, 1);
                t.builder.ins().store(super::vm_flags(), one, next, 0);
            });
        }
        if attest.barrier_arms {
            let state = self.load_fixed_ptr(self.vmctx, vmctx::ATTEST);
            let armed = self.builder.ins().iconst(types::I32, 1);
            self.builder
                .ins()
                .store(super::vm_flags(), armed, state, vmctx::ATTEST_ARMED);
        }
    }

    /// A function hook: two instructions while unarmed (load the flag,
    /// branch); when armed, a call into the runtime that snapshots the
    /// dirty pages and may ask for a trap.
    pub(crate) fn function_hook(&mut self, point: HookPoint) {
        if !self.env.config.attest.function_hooks {
            return;
        }
        let state = self.load_fixed_ptr(self.vmctx, vmctx::ATTEST);
        let armed =
            self.builder
                .ins()
                .load(types::I32, super::vm_flags(), state, vmctx::ATTEST_ARMED);
        self.cold_path(armed, |t| {
            let func = t.builder.ins().iconst(types::I32, i64::from(t.func_index));
            let offset = t
                .builder
                .ins()
                .iconst(types::I32, i64::from(t.offset as i32));
            let point = t.builder.ins().iconst(types::I32, point as i64);
            let r = t.call_builtin(
                Builtin::AttestHook,
                &[types::I32, types::I32, types::I32],
                &[types::I32],
                &[func, offset, point],
            );
            t.trap_if(r[0], TrapKind::AttestationViolation);
        });
    }

    /// Emits `body` in a cold block entered when `cond` is non-zero; code
    /// continues after it either way.
    fn cold_path(&mut self, cond: Value, body: impl FnOnce(&mut Self)) {
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
