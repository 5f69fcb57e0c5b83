//! Stopping a guest that runs too long: fuel (`consume_fuel`) and epoch
//! deadlines (`epoch_interruption`), the two ways wasmtime's embedders
//! bound a call.
//!
//! Both are checked where a run can go on without end: at every function
//! entry (recursion) and every loop header (iteration), and before a bulk
//! operator of unknown or large size. Straight-line code between them is
//! bounded by the function's size.
//!
//! **Fuel.** Each operator costs one unit, but those that only shape
//! control (`nop`, `drop`, `block`, `loop`, `else`, `end`, `return`,
//! `unreachable`), which cost nothing; each Wasm function entered one
//! more; bulk operators one a byte or element besides: wasmtime's
//! defaults, so that budgets carry over (`generated --wasmtime` compares
//! the two counts). The count spent is kept in a variable while a
//! function runs, loaded from the store's [`VMRuntimeLimits::fuel_consumed`] on entry; a
//! straight-line run's operators are added as one constant where the run
//! ends (a branch, a call, a block boundary). The variable is written back
//! before every call (the callee, or the host, goes on from it) and read
//! again after, before every return, and at each loop header, so a trap
//! leaves at most the current iteration's operators uncounted. The count
//! is negative while fuel is left: a check is one compare with zero.
//!
//! **Epochs.** The engine keeps a counter the embedder moves
//! (`Engine::increment_epoch`, from any thread); each store has a
//! deadline, which a function keeps in a variable ([`EpochState`]). A
//! check loads the counter, compares, and calls the runtime
//! ([`Builtin::EpochDeadline`]) once the counter reached the deadline; the
//! store then traps (`interrupt`) or lets its callback set a later
//! deadline.
//!
//! [`VMRuntimeLimits::fuel_consumed`]: vmctx::VMRuntimeLimits::fuel_consumed

use cranelift_codegen::ir::{self, condcodes::IntCC, types, InstBuilder};
use cranelift_frontend::Variable;
use wasmparser::Operator;

use super::{vm_flags, FuncTranslator};
use crate::trap::TrapKind;
use crate::vmctx::{self, Builtin};

/// A function's view of the epoch, while it is translated: the counter's
/// address, loaded once on entry, and the store's deadline, kept in a
/// variable (read again after each call and each visit to the runtime,
/// the only places it changes), so that a check is one load and one
/// compare, as in wasmtime.
pub(crate) struct EpochState {
    counter: ir::Value,
    deadline: Variable,
}

/// A function's fuel, while it is translated.
pub(crate) struct FuelState {
    /// The count spent (negative while fuel is left), as of the last
    /// flush.
    var: Variable,
    /// Operators of the current straight-line run not yet added to `var`.
    pending: i64,
}

/// What `op` costs: nothing for the operators that only shape control
/// (wasmtime's choice, so that a budget means the same in both), one for
/// every other.
fn fuel_cost(op: &Operator<'_>) -> i64 {
    use Operator as O;
    match op {
        O::Nop
        | O::Drop
        | O::Block { .. }
        | O::Loop { .. }
        | O::Unreachable
        | O::Return
        | O::Else
        | O::End => 0,
        // The legacy handlers' clauses close a body as `else` and `end`
        // do (wasmtime has not these instructions to follow).
        O::Catch { .. } | O::CatchAll | O::Delegate { .. } => 0,
        _ => 1,
    }
}

/// A bulk operator of at most this many units, known at compile time,
/// is not checked (wasmtime's threshold).
const SMALL_BULK_COST: i64 = 128;

/// Whether `op` works on a count of units given by its last operand.
fn is_bulk(op: &Operator<'_>) -> bool {
    use Operator as O;
    matches!(
        op,
        O::MemoryFill { .. }
            | O::MemoryCopy { .. }
            | O::MemoryInit { .. }
            | O::TableFill { .. }
            | O::TableCopy { .. }
            | O::TableInit { .. }
            | O::TableGrow { .. }
            | O::ArrayNew { .. }
            | O::ArrayNewDefault { .. }
            | O::ArrayNewData { .. }
            | O::ArrayNewElem { .. }
            | O::ArrayFill { .. }
            | O::ArrayCopy { .. }
            | O::ArrayInitData { .. }
            | O::ArrayInitElem { .. }
    )
}

/// `value`'s constant, unsigned and capped at `i64::MAX`, where
/// an `iconst` made it.
fn constant_of(dfg: &ir::DataFlowGraph, value: ir::Value) -> Option<i64> {
    let inst = dfg.value_def(value).inst()?;
    match dfg.insts[inst] {
        ir::InstructionData::UnaryImm {
            opcode: ir::Opcode::Iconst,
            imm,
        } => {
            let bits = imm.bits() as u64;
            let n = if dfg.value_type(value) == types::I32 {
                bits & u64::from(u32::MAX)
            } else {
                bits
            };
            Some(n.min(i64::MAX as u64) as i64)
        }
        _ => None,
    }
}

impl FuncTranslator<'_, '_> {
    /// At the function's entry: the fuel variable, loaded from the store,
    /// and the entry's checks.
    pub(crate) fn enter_interruptible(&mut self) {
        if self.env.config.consume_fuel {
            let var = self.builder.declare_var(types::I64);
            // A call costs one unit whatever its body holds (wasmtime's
            // rule: even an empty function spends some).
            self.fuel = Some(FuelState { var, pending: 1 });
            self.fuel_reload();
        }
        if self.env.config.epoch_interruption {
            let limits = self.limits();
            let counter = self.load_fixed_ptr(limits, vmctx::LIMITS_EPOCH_COUNTER);
            let deadline = self.builder.declare_var(types::I64);
            self.epoch = Some(EpochState { counter, deadline });
            self.epoch_reload();
        }
        self.interrupt_checks(false);
    }

    /// Before `op` (reachable): counts it against the fuel, and charges a
    /// bulk operator by the units it is about to work on.
    pub(crate) fn before_operator(&mut self, op: &Operator<'_>) {
        if let Some(fuel) = &mut self.fuel {
            fuel.pending += fuel_cost(op);
        }
        let config = self.env.config;
        if !(config.consume_fuel || config.epoch_interruption) {
            return;
        }
        // Operators that end the run add its count where they are
        // translated (`FuncTranslator::end_run`).
        if is_bulk(op) {
            self.charge_bulk();
        } else if matches!(op, Operator::Unreachable) {
            // The count as the guest traps, for the host to read.
            self.fuel_save();
        }
    }

    /// A bulk operator, whose count of units (bytes, elements) is the
    /// operand on top of the stack: each costs one unit of fuel (as
    /// wasmtime's defaults), and the operator is checked as a loop header
    /// is, unless its count is a constant worth at most
    /// [`SMALL_BULK_COST`].
    fn charge_bulk(&mut self) {
        let units = *self
            .stack
            .last()
            .expect("validation left the count on the stack");
        let constant = constant_of(&self.builder.func.dfg, units);
        match (&mut self.fuel, constant) {
            (None, _) => {}
            (Some(fuel), Some(n)) if n <= SMALL_BULK_COST => fuel.pending += n,
            (Some(_), _) => {
                self.fuel_flush();
                let wide = match constant {
                    Some(n) => self.builder.ins().iconst(types::I64, n),
                    None if self.builder.func.dfg.value_type(units) == types::I32 => {
                        self.builder.ins().uextend(types::I64, units)
                    }
                    None => {
                        let max = self.builder.ins().iconst(types::I64, i64::MAX);
                        self.builder.ins().umin(units, max)
                    }
                };
                // Saturating: a count taken a little past zero by an
                // overrun must not wrap round to fuel left.
                let var = self.fuel.as_ref().expect("matched above").var;
                let spent = self.builder.use_var(var);
                let sum = self.builder.ins().iadd(spent, wide);
                let wrapped = self.builder.ins().icmp(IntCC::SignedLessThan, sum, spent);
                let max = self.builder.ins().iconst(types::I64, i64::MAX);
                let spent = self.builder.ins().select(wrapped, max, sum);
                self.builder.def_var(var, spent);
            }
        }
        if constant.is_some_and(|n| n <= SMALL_BULK_COST) {
            return;
        }
        self.interrupt_checks(true);
    }

    /// Unreachable code is never run: nothing of it is counted (the run
    /// before it was flushed by the operator that ended it).
    pub(crate) fn forget_unreachable_fuel(&mut self) {
        if let Some(fuel) = &mut self.fuel {
            debug_assert_eq!(
                fuel.pending, 0,
                "the operator that ended the run counted it"
            );
            fuel.pending = 0;
        }
    }

    /// Adds the pending count to the variable.
    pub(crate) fn fuel_flush(&mut self) {
        let Some(fuel) = &mut self.fuel else {
            return;
        };
        let pending = std::mem::take(&mut fuel.pending);
        if pending == 0 {
            return;
        }
        let var = fuel.var;
        let spent = self.builder.use_var(var);
        let spent = self.builder.ins().iadd_imm_s(spent, pending);
        self.builder.def_var(var, spent);
    }

    /// The store's limits record.
    fn limits(&mut self) -> ir::Value {
        self.load_fixed_ptr(self.vmctx, vmctx::RUNTIME_LIMITS)
    }

    /// Writes the count back to the store: before a call, a return, and
    /// at loop headers.
    pub(crate) fn fuel_save(&mut self) {
        self.fuel_flush();
        let Some(fuel) = &self.fuel else {
            return;
        };
        let spent = self.builder.use_var(fuel.var);
        let limits = self.limits();
        self.builder
            .ins()
            .store(vm_flags(), spent, limits, vmctx::LIMITS_FUEL_CONSUMED);
    }

    /// Reads the count from the store: on entry, and after a call (the
    /// callee spent from it, or the host changed it).
    pub(crate) fn fuel_reload(&mut self) {
        if let Some(var) = self.fuel.as_ref().map(|f| f.var) {
            self.reload(var, vmctx::LIMITS_FUEL_CONSUMED);
        }
    }

    /// Defines `var` as the store's limits word at `offset`.
    fn reload(&mut self, var: Variable, offset: i32) {
        let limits = self.limits();
        let value = self
            .builder
            .ins()
            .load(types::I64, vm_flags(), limits, offset);
        self.builder.def_var(var, value);
    }

    /// The checks of a function entry, or (`save`) a loop header or bulk
    /// operator, where the count is written back first: fuel left, and
    /// the epoch before the deadline. Out of fuel traps; the epoch's
    /// deadline goes to a cold block; the current block afterwards is
    /// where the code goes on.
    pub(crate) fn interrupt_checks(&mut self, save: bool) {
        // Counted before the checks branch (a flush in one arm would be
        // lost to the other), and so counted by the check, as wasmtime's
        // is; so are the store barrier's pending marks (before a bulk
        // operator the run may have some), which the cold path's builtin
        // call would otherwise flush into its arm alone.
        self.fuel_flush();
        self.flush_marks();
        if self.fuel.is_some() {
            if save {
                self.fuel_save();
            }
            self.fuel_check();
        }
        self.epoch_check();
    }

    /// Once the count is no longer negative: traps with
    /// [`TrapKind::OutOfFuel`], or (`fuel_yields`) asks the runtime,
    /// which refills it from the store's reserve
    /// (`fuel_async_yield_interval` hands fuel out an interval at a
    /// time, yielding between) or answers that none is left: the trap.
    fn fuel_check(&mut self) {
        let Some(fuel) = &self.fuel else {
            return;
        };
        let spent = self.builder.use_var(fuel.var);
        let out = self
            .builder
            .ins()
            .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, spent, 0);
        if !self.env.config.fuel_yields {
            self.builder.ins().trapnz(out, TrapKind::OutOfFuel.code());
            return;
        }
        self.cold_path(out, |t| {
            t.ask_runtime(Builtin::OutOfFuel, TrapKind::OutOfFuel, false)
        });
    }

    /// Calls `builtin`, which answers as [`Builtin::EpochDeadline`] does,
    /// and traps as it answers: with `stop`, or with the host's error.
    /// The fuel count is written back first (the runtime, or the
    /// embedder's callback, may read or set it) and read again after.
    /// With `at`, the builtin also gets where the function stands (its
    /// frame pointer, and its index and Wasm offset), so that the
    /// embedder's callback can see the Wasm stack (a profiler's sample).
    fn ask_runtime(&mut self, builtin: Builtin, stop: TrapKind, at: bool) {
        self.fuel_save();
        let answer = if at {
            let site = (u64::from(self.func_index) << 32) | u64::from(self.offset);
            let site = self.builder.ins().iconst(types::I64, site as i64);
            let fp = self.builder.ins().get_frame_pointer(types::I64);
            let params = [types::I64; 2];
            self.call_builtin(builtin, &params, &[types::I32], &[fp, site])[0]
        } else {
            self.call_builtin(builtin, &[], &[types::I32], &[])[0]
        };
        let failed =
            self.builder
                .ins()
                .icmp_imm_u(IntCC::Equal, answer, i64::from(vmctx::EPOCH_HOST_ERROR));
        self.builder
            .ins()
            .trapnz(failed, TrapKind::HostError.code());
        self.builder.ins().trapnz(answer, stop.code());
        self.fuel_reload();
    }

    /// Calls the runtime once the engine's epoch reached the store's
    /// deadline, and traps as it answers.
    fn epoch_check(&mut self) {
        let Some(epoch) = &self.epoch else {
            return;
        };
        let (counter, deadline) = (epoch.counter, self.builder.use_var(epoch.deadline));
        // Not read-only: another thread moves it.
        let epoch = self.builder.ins().load(types::I64, vm_flags(), counter, 0);
        let reached = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, epoch, deadline);
        self.cold_path(reached, |t| {
            t.ask_runtime(Builtin::EpochDeadline, TrapKind::Interrupt, true);
            t.epoch_reload();
        });
    }

    /// Reads the store's deadline into the variable: on entry, after a
    /// call (a host function may have set it) and after the runtime's
    /// answer at a deadline.
    pub(crate) fn epoch_reload(&mut self) {
        if let Some(var) = self.epoch.as_ref().map(|e| e.deadline) {
            self.reload(var, vmctx::LIMITS_EPOCH_DEADLINE);
        }
    }
}
