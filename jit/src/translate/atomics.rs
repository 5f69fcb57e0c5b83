//! The threads proposal's instructions: atomic loads, stores,
//! read-modify-writes and compare-exchanges, `memory.atomic.wait32`/
//! `wait64`, `memory.atomic.notify` and `atomic.fence`.
//!
//! An atomic access is a plain access (the same bounds check, tag check
//! and store barrier, so attestation sees its writes) with an alignment
//! check of its effective address first, as wasmtime orders them. Every
//! access is sequentially consistent, as the proposal's are.

use cranelift_codegen::ir::{types, AtomicRmwOp, InstBuilder, Type, Value};
use wasmparser::{MemArg, Operator};

use super::memory::{heap_flags, target_memory};
use super::FuncTranslator;
use crate::trap::TrapKind;
use crate::vmctx::Builtin;

/// What an atomic operator does, with its value type and access width.
enum Atomic {
    Load(Type, u32),
    Store(u32),
    Rmw(Type, u32, AtomicRmwOp),
    Cmpxchg(Type, u32),
    Wait(Type),
    Notify,
}

/// The operator's kind, or `None` for one that is not atomic.
fn classify(op: &Operator<'_>) -> Option<(Atomic, MemArg)> {
    use types::{I32, I64};
    use AtomicRmwOp::{Add, And, Or, Sub, Xchg, Xor};
    use Operator as O;
    let rmw = |ty, size, op, m: &MemArg| Some((Atomic::Rmw(ty, size, op), *m));
    let cas = |ty, size, m: &MemArg| Some((Atomic::Cmpxchg(ty, size), *m));
    match op {
        O::I32AtomicLoad { memarg } => Some((Atomic::Load(I32, 4), *memarg)),
        O::I64AtomicLoad { memarg } => Some((Atomic::Load(I64, 8), *memarg)),
        O::I32AtomicLoad8U { memarg } => Some((Atomic::Load(I32, 1), *memarg)),
        O::I32AtomicLoad16U { memarg } => Some((Atomic::Load(I32, 2), *memarg)),
        O::I64AtomicLoad8U { memarg } => Some((Atomic::Load(I64, 1), *memarg)),
        O::I64AtomicLoad16U { memarg } => Some((Atomic::Load(I64, 2), *memarg)),
        O::I64AtomicLoad32U { memarg } => Some((Atomic::Load(I64, 4), *memarg)),
        O::I32AtomicStore { memarg } | O::I64AtomicStore32 { memarg } => {
            Some((Atomic::Store(4), *memarg))
        }
        O::I64AtomicStore { memarg } => Some((Atomic::Store(8), *memarg)),
        O::I32AtomicStore8 { memarg } | O::I64AtomicStore8 { memarg } => {
            Some((Atomic::Store(1), *memarg))
        }
        O::I32AtomicStore16 { memarg } | O::I64AtomicStore16 { memarg } => {
            Some((Atomic::Store(2), *memarg))
        }
        O::I32AtomicRmwAdd { memarg } => rmw(I32, 4, Add, memarg),
        O::I64AtomicRmwAdd { memarg } => rmw(I64, 8, Add, memarg),
        O::I32AtomicRmw8AddU { memarg } => rmw(I32, 1, Add, memarg),
        O::I32AtomicRmw16AddU { memarg } => rmw(I32, 2, Add, memarg),
        O::I64AtomicRmw8AddU { memarg } => rmw(I64, 1, Add, memarg),
        O::I64AtomicRmw16AddU { memarg } => rmw(I64, 2, Add, memarg),
        O::I64AtomicRmw32AddU { memarg } => rmw(I64, 4, Add, memarg),
        O::I32AtomicRmwSub { memarg } => rmw(I32, 4, Sub, memarg),
        O::I64AtomicRmwSub { memarg } => rmw(I64, 8, Sub, memarg),
        O::I32AtomicRmw8SubU { memarg } => rmw(I32, 1, Sub, memarg),
        O::I32AtomicRmw16SubU { memarg } => rmw(I32, 2, Sub, memarg),
        O::I64AtomicRmw8SubU { memarg } => rmw(I64, 1, Sub, memarg),
        O::I64AtomicRmw16SubU { memarg } => rmw(I64, 2, Sub, memarg),
        O::I64AtomicRmw32SubU { memarg } => rmw(I64, 4, Sub, memarg),
        O::I32AtomicRmwAnd { memarg } => rmw(I32, 4, And, memarg),
        O::I64AtomicRmwAnd { memarg } => rmw(I64, 8, And, memarg),
        O::I32AtomicRmw8AndU { memarg } => rmw(I32, 1, And, memarg),
        O::I32AtomicRmw16AndU { memarg } => rmw(I32, 2, And, memarg),
        O::I64AtomicRmw8AndU { memarg } => rmw(I64, 1, And, memarg),
        O::I64AtomicRmw16AndU { memarg } => rmw(I64, 2, And, memarg),
        O::I64AtomicRmw32AndU { memarg } => rmw(I64, 4, And, memarg),
        O::I32AtomicRmwOr { memarg } => rmw(I32, 4, Or, memarg),
        O::I64AtomicRmwOr { memarg } => rmw(I64, 8, Or, memarg),
        O::I32AtomicRmw8OrU { memarg } => rmw(I32, 1, Or, memarg),
        O::I32AtomicRmw16OrU { memarg } => rmw(I32, 2, Or, memarg),
        O::I64AtomicRmw8OrU { memarg } => rmw(I64, 1, Or, memarg),
        O::I64AtomicRmw16OrU { memarg } => rmw(I64, 2, Or, memarg),
        O::I64AtomicRmw32OrU { memarg } => rmw(I64, 4, Or, memarg),
        O::I32AtomicRmwXor { memarg } => rmw(I32, 4, Xor, memarg),
        O::I64AtomicRmwXor { memarg } => rmw(I64, 8, Xor, memarg),
        O::I32AtomicRmw8XorU { memarg } => rmw(I32, 1, Xor, memarg),
        O::I32AtomicRmw16XorU { memarg } => rmw(I32, 2, Xor, memarg),
        O::I64AtomicRmw8XorU { memarg } => rmw(I64, 1, Xor, memarg),
        O::I64AtomicRmw16XorU { memarg } => rmw(I64, 2, Xor, memarg),
        O::I64AtomicRmw32XorU { memarg } => rmw(I64, 4, Xor, memarg),
        O::I32AtomicRmwXchg { memarg } => rmw(I32, 4, Xchg, memarg),
        O::I64AtomicRmwXchg { memarg } => rmw(I64, 8, Xchg, memarg),
        O::I32AtomicRmw8XchgU { memarg } => rmw(I32, 1, Xchg, memarg),
        O::I32AtomicRmw16XchgU { memarg } => rmw(I32, 2, Xchg, memarg),
        O::I64AtomicRmw8XchgU { memarg } => rmw(I64, 1, Xchg, memarg),
        O::I64AtomicRmw16XchgU { memarg } => rmw(I64, 2, Xchg, memarg),
        O::I64AtomicRmw32XchgU { memarg } => rmw(I64, 4, Xchg, memarg),
        O::I32AtomicRmwCmpxchg { memarg } => cas(I32, 4, memarg),
        O::I64AtomicRmwCmpxchg { memarg } => cas(I64, 8, memarg),
        O::I32AtomicRmw8CmpxchgU { memarg } => cas(I32, 1, memarg),
        O::I32AtomicRmw16CmpxchgU { memarg } => cas(I32, 2, memarg),
        O::I64AtomicRmw8CmpxchgU { memarg } => cas(I64, 1, memarg),
        O::I64AtomicRmw16CmpxchgU { memarg } => cas(I64, 2, memarg),
        O::I64AtomicRmw32CmpxchgU { memarg } => cas(I64, 4, memarg),
        O::MemoryAtomicWait32 { memarg } => Some((Atomic::Wait(I32), *memarg)),
        O::MemoryAtomicWait64 { memarg } => Some((Atomic::Wait(I64), *memarg)),
        O::MemoryAtomicNotify { memarg } => Some((Atomic::Notify, *memarg)),
        _ => None,
    }
}

/// The integer type of a `size`-byte access.
fn access_type(size: u32) -> Type {
    match size {
        1 => types::I8,
        2 => types::I16,
        4 => types::I32,
        _ => types::I64,
    }
}

impl FuncTranslator<'_, '_> {
    /// Translates `op` if it is one of the threads proposal's; false for
    /// any other operator.
    pub(crate) fn translate_atomic(&mut self, op: &Operator<'_>) -> bool {
        if let Operator::AtomicFence { .. } = op {
            self.builder.ins().fence();
            return true;
        }
        let Some((atomic, memarg)) = classify(op) else {
            return false;
        };
        let mem = target_memory(&memarg);
        match atomic {
            Atomic::Load(ty, size) => {
                let index = self.pop();
                let (addr, _) = self.atomic_access(mem, index, &memarg, size, false);
                let v = self
                    .builder
                    .ins()
                    .atomic_load(access_type(size), heap_flags(), addr);
                let v = self.widen(ty, v);
                self.push(v);
            }
            Atomic::Store(size) => {
                let (index, value) = self.pop2();
                let (addr, index) = self.atomic_access(mem, index, &memarg, size, true);
                let value = self.narrow(size, value);
                self.builder.ins().atomic_store(heap_flags(), value, addr);
                self.store_barrier(mem, index, memarg.offset, size, addr);
            }
            Atomic::Rmw(ty, size, rmw) => {
                let (index, value) = self.pop2();
                let (addr, index) = self.atomic_access(mem, index, &memarg, size, true);
                let value = self.narrow(size, value);
                let old = self.builder.ins().atomic_rmw(
                    access_type(size),
                    heap_flags(),
                    rmw,
                    addr,
                    value,
                );
                self.store_barrier(mem, index, memarg.offset, size, addr);
                let old = self.widen(ty, old);
                self.push(old);
            }
            Atomic::Cmpxchg(ty, size) => {
                let (index, expected, replacement) = self.pop3();
                let (addr, index) = self.atomic_access(mem, index, &memarg, size, true);
                let expected = self.narrow(size, expected);
                let replacement = self.narrow(size, replacement);
                let old = self
                    .builder
                    .ins()
                    .atomic_cas(heap_flags(), addr, expected, replacement);
                self.store_barrier(mem, index, memarg.offset, size, addr);
                let old = self.widen(ty, old);
                self.push(old);
            }
            Atomic::Wait(ty) => {
                let (index, expected, timeout) = self.pop3();
                let size = ty.bytes();
                let addr = self.untouched_atomic_address(mem, index, &memarg, size);
                let result = if self.env.info.memories[mem as usize].shared {
                    let expected = self.widen(types::I64, expected);
                    let wide = self
                        .builder
                        .ins()
                        .iconst(types::I32, i64::from(ty == types::I64));
                    let r = self.call_builtin(
                        Builtin::MemoryAtomicWait,
                        &[types::I64, types::I64, types::I64, types::I32],
                        &[types::I32],
                        &[addr, expected, timeout, wide],
                    );
                    r[0]
                } else {
                    // After the address checks, as wasmtime orders them.
                    let always = self.builder.ins().iconst(types::I32, 1);
                    self.trap_if(always, TrapKind::AtomicWaitNonShared);
                    self.builder.ins().iconst(types::I32, 0)
                };
                self.push(result);
            }
            Atomic::Notify => {
                let (index, count) = self.pop2();
                let addr = self.untouched_atomic_address(mem, index, &memarg, 4);
                let woken = if self.env.info.memories[mem as usize].shared {
                    let r = self.call_builtin(
                        Builtin::MemoryAtomicNotify,
                        &[types::I64, types::I32],
                        &[types::I32],
                        &[addr, count],
                    );
                    r[0]
                } else {
                    // Nothing can wait on an unshared memory.
                    self.builder.ins().iconst(types::I32, 0)
                };
                self.push(woken);
            }
        }
        true
    }

    /// The native address of an atomic access of `size` bytes, after its
    /// alignment check; also the index as used, for the store barrier
    /// (see [`Self::heap_access`]).
    fn atomic_access(
        &mut self,
        mem: u32,
        index: Value,
        memarg: &MemArg,
        size: u32,
        write: bool,
    ) -> (Value, Value) {
        if size > 1 {
            // The low bits of the effective address: wrapping is harmless,
            // and a pointer colour lives in the top bits only.
            let low = self.builder.ins().iadd_imm_s(index, memarg.offset as i64);
            let misaligned = self.builder.ins().band_imm_s(low, i64::from(size - 1));
            self.trap_if(misaligned, TrapKind::UnalignedAtomic);
        }
        self.heap_access(mem, index, memarg.offset, size, write)
    }

    /// The native address `memory.atomic.wait`/`notify` name: checked
    /// like an access of `size` bytes that reads, but explicitly for
    /// bounds (generated code dereferences nothing there, and the runtime
    /// must not reach a guard page).
    fn untouched_atomic_address(
        &mut self,
        mem: u32,
        index: Value,
        memarg: &MemArg,
        size: u32,
    ) -> Value {
        if memarg.offset != 0 {
            // An effective address past the index type's range is out of
            // bounds before it is unaligned here, as wasmtime orders them.
            let ty = self.builder.func.dfg.value_type(index);
            let offset = self.builder.ins().iconst(ty, memarg.offset as i64);
            self.builder.ins().uadd_overflow_trap(
                index,
                offset,
                TrapKind::MemoryOutOfBounds.code(),
            );
        }
        let (addr, used) = self.atomic_access(mem, index, memarg, size, false);
        self.check_in_bounds(mem, used, memarg.offset, size);
        addr
    }

    /// `v`, an access's integer, zero-extended to `ty` where narrower.
    fn widen(&mut self, ty: Type, v: Value) -> Value {
        if self.builder.func.dfg.value_type(v) == ty {
            v
        } else {
            self.builder.ins().uextend(ty, v)
        }
    }

    /// `v` reduced to the `size` bytes an access writes.
    fn narrow(&mut self, size: u32, v: Value) -> Value {
        let ty = access_type(size);
        if self.builder.func.dfg.value_type(v) == ty {
            v
        } else {
            self.builder.ins().ireduce(ty, v)
        }
    }
}
