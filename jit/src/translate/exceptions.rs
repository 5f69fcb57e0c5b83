//! Exception handling: `throw`, `throw_ref`, `try_table`, the legacy
//! instructions (`try`, `catch`, `catch_all`, `delegate`, `rethrow`), and
//! the test after each call that sends a thrown exception to its handler.
//!
//! Exceptions unwind by ordinary returns, not by walking native frames: a
//! `throw` leaves the exception in the store's
//! [`vmctx::VMRuntimeLimits::pending_exception`] and jumps to the landing
//! block of the innermost `try_table` with catch clauses around it. That
//! block tries the clauses in order and branches to the first that
//! matches, clearing the pending exception, or goes on to the next
//! enclosing `try_table`'s landing block; past the outermost, the function
//! returns at once (zero results, its exit work done as at any return).
//! Every call that may throw is followed by a test of the pending word
//! with the same destination, so the caller goes on unwinding. A call
//! from the host sees the word still set when Wasm returns, and reports
//! the exception. Only a module that uses exception handling has the
//! tests ([`ExceptionPlan`]); in it, calls that cannot throw cost nothing,
//! the others two loads and a branch not taken. A propagating return
//! traps instead where the code it returns to has no tests
//! ([`Builtin::ExceptionMayReturn`]).

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{self, types, InstBuilder, Value};
use cranelift_frontend::Variable;
use rayon::prelude::*;
use wasmparser::{BinaryReader, Catch, FunctionBody, Operator, TryTable};

use super::control::FrameKind;
use super::{block_args, vm_flags, FuncTranslator};
use crate::error::CompileError;
use crate::trap::TrapKind;
use crate::vmctx::{self, Builtin};

/// How a module that uses exception handling is compiled: which of its
/// defined functions may end with an exception pending (indexed from the
/// first defined function). Those are the functions that throw, call an
/// import (its code is known only at instantiation), call through a table
/// or a reference, or call a defined function that may; a direct call to
/// any other needs no test after it. Catch clauses are not considered: a
/// function whose every throw its own handlers catch still counts.
#[derive(Clone, Debug)]
pub struct ExceptionPlan {
    pub may_throw: Vec<bool>,
}

impl ExceptionPlan {
    /// The plan of a module that uses exception handling (declares or
    /// imports a tag, or holds a `try_table`, a `throw_ref`, or a legacy
    /// `try` or `rethrow`); `None` for
    /// one that does not, whose calls are compiled without tests: an
    /// exception that would unwind into one of its frames traps instead
    /// ([`TrapKind::UnhandledException`]), which costs the calls of every
    /// other module nothing.
    pub fn new(info: &crate::module_info::ModuleInfo, wasm: &[u8]) -> Option<ExceptionPlan> {
        let imported = info.num_imported_funcs;
        // For each defined function: whether it may throw by itself, the
        // defined functions it calls, and whether it handles exceptions.
        let scans: Vec<(bool, Vec<u32>, bool)> = info
            .func_bodies
            .par_iter()
            .map(|range| {
                let reader = BinaryReader::new(&wasm[range.clone()], range.start as u64);
                let (mut throws, mut callees, mut handles) = (false, Vec::new(), false);
                let Ok(mut ops) = FunctionBody::new(reader).get_operators_reader() else {
                    return (true, callees, true);
                };
                while !ops.eof() {
                    match ops.read() {
                        Ok(
                            Operator::Call { function_index }
                            | Operator::ReturnCall { function_index },
                        ) if function_index >= imported => callees.push(function_index - imported),
                        Ok(
                            Operator::Call { .. }
                            | Operator::ReturnCall { .. }
                            | Operator::CallIndirect { .. }
                            | Operator::ReturnCallIndirect { .. }
                            | Operator::CallRef { .. }
                            | Operator::ReturnCallRef { .. }
                            | Operator::Throw { .. },
                        ) => throws = true,
                        Ok(
                            Operator::ThrowRef
                            | Operator::TryTable { .. }
                            | Operator::Rethrow { .. },
                        ) => {
                            throws = true;
                            handles = true;
                        }
                        // A legacy `try` throws nothing itself.
                        Ok(Operator::Try { .. }) => handles = true,
                        Err(_) => return (true, callees, true),
                        Ok(_) => {}
                    }
                }
                callees.sort_unstable();
                callees.dedup();
                (throws, callees, handles)
            })
            .collect();
        if info.tags.is_empty() && !scans.iter().any(|s| s.2) {
            return None;
        }
        let mut callers: Vec<Vec<u32>> = vec![Vec::new(); scans.len()];
        for (caller, (_, callees, _)) in scans.iter().enumerate() {
            for &callee in callees {
                callers[callee as usize].push(caller as u32);
            }
        }
        let mut may_throw: Vec<bool> = scans.iter().map(|s| s.0).collect();
        let mut work: Vec<u32> = (0..may_throw.len() as u32)
            .filter(|&f| may_throw[f as usize])
            .collect();
        while let Some(f) = work.pop() {
            for &caller in &callers[f as usize] {
                if !may_throw[caller as usize] {
                    may_throw[caller as usize] = true;
                    work.push(caller);
                }
            }
        }
        Some(ExceptionPlan { may_throw })
    }
}

/// One catch clause of a `try_table`, its label resolved.
#[derive(Clone, Copy, Debug)]
pub struct CatchClause {
    /// The tag it catches; `None`: every exception (`catch_all`).
    pub tag: Option<u32>,
    /// The exception itself goes to the label too (`catch_ref`,
    /// `catch_all_ref`), after the payload.
    pub with_ref: bool,
    /// Index in the control stack of the frame the clause branches to.
    pub frame: usize,
}

/// A legacy `try`'s state (see `FrameKind::LegacyTry`).
#[derive(Debug)]
pub struct LegacyTry {
    /// Where its body's exceptions land.
    pub landing: ir::Block,
    /// Some call or throw of the body goes to `landing`.
    pub landing_used: bool,
    /// Its catches so far, in order: the tag (`None` for `catch_all`) and
    /// the block of the catch's body, whose parameters are the payload.
    pub catches: Vec<(Option<u32>, ir::Block)>,
    /// Past the body: in a catch, whose exceptions go to the handlers
    /// around the `try`, not to its own catches.
    pub catching: bool,
    /// The exception a catch caught, for `rethrow`.
    pub caught: Variable,
    /// A `rethrow` names it: the caught record is kept (the collector
    /// frees it), not freed as its catch starts.
    pub rethrown: bool,
    /// `delegate`: its body's exceptions go to the handlers from this
    /// control frame out, not to catches of its own.
    pub delegate_to: Option<usize>,
}

impl FuncTranslator<'_, '_> {
    /// `try_table`, `throw`, `throw_ref`, or a legacy instruction.
    pub(crate) fn translate_exception(&mut self, op: &Operator<'_>) -> Result<(), CompileError> {
        match op {
            Operator::TryTable { try_table } => return self.translate_try_table(try_table),
            Operator::Throw { tag_index } => self.translate_throw(*tag_index),
            Operator::ThrowRef => self.translate_throw_ref(),
            Operator::Try { blockty } => return self.translate_legacy_try(*blockty),
            Operator::Catch { tag_index } => self.translate_catch(Some(*tag_index)),
            Operator::CatchAll => self.translate_catch(None),
            Operator::Delegate { relative_depth } => self.translate_delegate(*relative_depth),
            Operator::Rethrow { relative_depth } => self.translate_rethrow(*relative_depth),
            _ => unreachable!("not an exception operator: {op:?}"),
        }
        Ok(())
    }

    /// A legacy `try`: a block whose calls and throws land at the catches
    /// that follow it.
    fn translate_legacy_try(&mut self, blockty: wasmparser::BlockType) -> Result<(), CompileError> {
        let sig = self.block_sig(blockty)?;
        let next = self.new_block_with_params(&sig.results);
        let landing = self.builder.create_block();
        let caught = self.builder.declare_var(types::I64);
        let null = self.builder.ins().iconst(types::I64, 0);
        self.builder.def_var(caught, null);
        self.push_frame(
            FrameKind::LegacyTry(Box::new(LegacyTry {
                landing,
                landing_used: false,
                catches: Vec::new(),
                catching: false,
                caught,
                rethrown: false,
                delegate_to: None,
            })),
            next,
            &sig,
        );
        Ok(())
    }

    /// `catch tag` or `catch_all`: the end of the body or of the catch
    /// before, and a new catch's body, which starts from the payload.
    fn translate_catch(&mut self, tag: Option<u32>) {
        let params: Vec<ir::Type> = tag
            .map(|t| self.tag_params(t).into_iter().map(super::ir_type).collect())
            .unwrap_or_default();
        let reachable = self.reachable;
        let frame = self.frames.last_mut().expect("validated: catch inside try");
        let (next, num_results, height) = (frame.next, frame.num_results, frame.height);
        if reachable {
            frame.exit_reachable = true;
        }
        let block = self.builder.create_block();
        for ty in &params {
            self.builder.append_block_param(block, *ty);
        }
        let FrameKind::LegacyTry(legacy) = &mut frame.kind else {
            unreachable!("validated: catch closes a try's body or catch");
        };
        legacy.catching = true;
        legacy.catches.push((tag, block));
        if reachable {
            let results = self.popn(num_results);
            self.builder.ins().jump(next, &block_args(&results));
        }
        self.stack.truncate(height);
        // Sealed at the try's end, once its landing has jumped here.
        self.builder.switch_to_block(block);
        let payload = self.builder.block_params(block).to_vec();
        self.stack.extend(payload);
        self.reachable = true;
    }

    /// `delegate label`: the end of a `try` whose body's exceptions go to
    /// the handlers around `label` (counted from outside the `try`).
    fn translate_delegate(&mut self, depth: u32) {
        let outside = self.frames.len() - 2;
        let frame = self
            .frames
            .last_mut()
            .expect("validated: delegate closes a try");
        let FrameKind::LegacyTry(legacy) = &mut frame.kind else {
            unreachable!("validated: delegate closes a try");
        };
        legacy.delegate_to = Some(outside - depth as usize);
        self.translate_end();
    }

    /// `rethrow label`: the exception the catch at `label` caught, thrown
    /// again.
    fn translate_rethrow(&mut self, depth: u32) {
        let index = self.frames.len() - 1 - depth as usize;
        let FrameKind::LegacyTry(legacy) = &mut self.frames[index].kind else {
            unreachable!("validated: rethrow names a catch");
        };
        legacy.rethrown = true;
        let caught = legacy.caught;
        let exn = self.builder.use_var(caught);
        self.raise(exn);
    }

    /// After a legacy `try`'s `end` (its frame popped, the current block
    /// filled): its landing, trying its catches in order (or going where
    /// `delegate` sends it), then its catches' blocks sealed.
    pub(crate) fn end_legacy_try(&mut self, legacy: &LegacyTry) {
        if legacy.landing_used {
            self.builder.switch_to_block(legacy.landing);
            self.builder.seal_block(legacy.landing);
            if let Some(index) = legacy.delegate_to {
                let target = self.landing_target_from(index + 1);
                self.builder.ins().jump(target, &[]);
            } else {
                self.emit_legacy_landing(legacy);
            }
        }
        for (_, block) in &legacy.catches {
            self.builder.seal_block(*block);
        }
    }

    fn emit_legacy_landing(&mut self, legacy: &LegacyTry) {
        let exn = self.pending();
        let thrown = legacy.catches.iter().any(|c| c.0.is_some()).then(|| {
            self.builder
                .ins()
                .load(types::I64, vm_flags(), exn, vmctx::EXCEPTION_TAG)
        });
        for &(tag, block) in &legacy.catches {
            let (args, miss) = match (tag, thrown) {
                (Some(tag), Some(thrown)) => {
                    let (args, miss) = self.match_tag(exn, thrown, tag);
                    (args, Some(miss))
                }
                _ => (Vec::new(), None),
            };
            let null = self.builder.ins().iconst(types::I64, 0);
            self.set_pending(null);
            if legacy.rethrown {
                self.keep_record(exn);
                self.builder.def_var(legacy.caught, exn);
            } else {
                self.call_builtin(Builtin::ExceptionDone, &[types::I64], &[], &[exn]);
            }
            self.builder.ins().jump(block, &block_args(&args));
            match miss {
                Some(miss) => self.builder.switch_to_block(miss),
                // Catches after a `catch_all` never run.
                None => return,
            }
        }
        let outer = self.landing_target();
        self.builder.ins().jump(outer, &[]);
    }

    /// `try_table`: a block whose calls and throws land at its clauses.
    fn translate_try_table(&mut self, table: &TryTable) -> Result<(), CompileError> {
        let sig = self.block_sig(table.ty)?;
        // A clause's label is counted from outside the try_table.
        let outside = self.frames.len() - 1;
        let catches = table
            .catches
            .iter()
            .map(|c| {
                let (tag, with_ref, label) = match *c {
                    Catch::One { tag, label } => (Some(tag), false, label),
                    Catch::OneRef { tag, label } => (Some(tag), true, label),
                    Catch::All { label } => (None, false, label),
                    Catch::AllRef { label } => (None, true, label),
                };
                CatchClause {
                    tag,
                    with_ref,
                    frame: outside - label as usize,
                }
            })
            .collect();
        let next = self.new_block_with_params(&sig.results);
        let landing = self.builder.create_block();
        self.push_frame(
            FrameKind::TryTable {
                catches,
                landing,
                landing_used: false,
            },
            next,
            &sig,
        );
        Ok(())
    }

    /// `throw tag`: a new exception with the operands as its payload.
    fn translate_throw(&mut self, tag: u32) {
        let params = self.tag_params(tag);
        let payload = self.popn(params.len());
        let index = self.builder.ins().iconst(types::I32, i64::from(tag));
        let exn = self.call_builtin(
            Builtin::ExceptionNew,
            &[types::I32],
            &[types::I64],
            &[index],
        )[0];
        for (i, v) in payload.into_iter().enumerate() {
            let offset = vmctx::EXCEPTION_PAYLOAD + 16 * i as i32;
            self.builder.ins().store(vm_flags(), v, exn, offset);
        }
        self.raise(exn);
    }

    /// `throw_ref`: the exception a handler caught, thrown again.
    fn translate_throw_ref(&mut self) {
        let exn = self.pop();
        self.builder
            .ins()
            .trapz(exn, TrapKind::NullReference.code());
        self.raise(exn);
    }

    /// Makes `exn` the pending exception and goes to its handlers.
    fn raise(&mut self, exn: Value) {
        self.set_pending(exn);
        let target = self.landing_target();
        self.builder.ins().jump(target, &[]);
        self.reachable = false;
    }

    /// After a call that may throw: on to the handlers when it did.
    /// `leaving`: the call is a `return_call` compiled as a call and a
    /// return, whose exception no handler of this function may catch.
    pub(crate) fn test_pending_exception(&mut self, leaving: bool) {
        if self.env.exceptions.is_none() {
            return;
        }
        let pending = self.pending();
        let target = if leaving {
            self.propagate_block()
        } else {
            self.landing_target()
        };
        let go_on = self.builder.create_block();
        self.builder.ins().brif(pending, target, &[], go_on, &[]);
        self.builder.seal_block(go_on);
        self.builder.switch_to_block(go_on);
    }

    /// Where a pending exception goes from here: the landing block of the
    /// innermost `try_table` with catch clauses or legacy `try` in its
    /// body, or out of the function.
    fn landing_target(&mut self) -> ir::Block {
        self.landing_target_from(self.frames.len())
    }

    /// [`Self::landing_target`] among the control frames below `end`.
    fn landing_target_from(&mut self, end: usize) -> ir::Block {
        for frame in self.frames[..end].iter_mut().rev() {
            match &mut frame.kind {
                FrameKind::TryTable {
                    catches,
                    landing,
                    landing_used,
                } if !catches.is_empty() => {
                    *landing_used = true;
                    return *landing;
                }
                FrameKind::LegacyTry(legacy) if !legacy.catching => {
                    legacy.landing_used = true;
                    return legacy.landing;
                }
                _ => {}
            }
        }
        self.propagate_block()
    }

    /// The block that returns with the exception still pending.
    fn propagate_block(&mut self) -> ir::Block {
        *self
            .propagate
            .get_or_insert_with(|| self.builder.create_block())
    }

    /// Fills the landing block of a `try_table` whose `end` was just
    /// translated (the current block is filled): its clauses in order,
    /// then the enclosing handlers.
    pub(crate) fn emit_landing(&mut self, catches: &[CatchClause], landing: ir::Block) {
        self.builder.switch_to_block(landing);
        self.builder.seal_block(landing);
        let exn = self.pending();
        // The thrown tag, read once for every clause that names one.
        let thrown = catches.iter().any(|c| c.tag.is_some()).then(|| {
            self.builder
                .ins()
                .load(types::I64, vm_flags(), exn, vmctx::EXCEPTION_TAG)
        });
        for clause in catches {
            if let (Some(tag), Some(thrown)) = (clause.tag, thrown) {
                let (args, miss) = self.match_tag(exn, thrown, tag);
                self.catch_into(clause, exn, args);
                self.builder.switch_to_block(miss);
            } else {
                self.catch_into(clause, exn, Vec::new());
                // Clauses after a `catch_all` never run.
                return;
            }
        }
        let outer = self.landing_target();
        self.builder.ins().jump(outer, &[]);
    }

    /// Compares the `thrown` tag of exception `exn` with the module's tag
    /// `tag`: on a match, goes on (the current block) with the payload
    /// loaded; the block where a miss goes on is returned too.
    fn match_tag(&mut self, exn: Value, thrown: Value, tag: u32) -> (Vec<Value>, ir::Block) {
        let offset = self.env.offsets.tag(tag);
        let ours = self.load_fixed_ptr(self.vmctx, offset);
        let same = self.builder.ins().icmp(IntCC::Equal, thrown, ours);
        let hit = self.builder.create_block();
        let miss = self.builder.create_block();
        self.builder.ins().brif(same, hit, &[], miss, &[]);
        self.builder.seal_block(hit);
        self.builder.seal_block(miss);
        self.builder.switch_to_block(hit);
        let args = self
            .tag_params(tag)
            .into_iter()
            .enumerate()
            .map(|(i, ty)| {
                let offset = vmctx::EXCEPTION_PAYLOAD + 16 * i as i32;
                self.builder
                    .ins()
                    .load(super::ir_type(ty), vm_flags(), exn, offset)
            })
            .collect();
        (args, miss)
    }

    /// Catches the pending `exn` by `clause`: clears it and branches to
    /// the clause's label with `args` (and the exception, for a `_ref`,
    /// which is then kept for good; else the record is done with).
    fn catch_into(&mut self, clause: &CatchClause, exn: Value, mut args: Vec<Value>) {
        let null = self.builder.ins().iconst(types::I64, 0);
        self.set_pending(null);
        if clause.with_ref {
            self.keep_record(exn);
            args.push(exn);
        } else {
            self.call_builtin(Builtin::ExceptionDone, &[types::I64], &[], &[exn]);
        }
        let (target, _) = self.branch_to_frame(clause.frame);
        self.builder.ins().jump(target, &block_args(&args));
    }

    /// Marks exception record `exn` kept by Wasm: the collector frees it
    /// once nothing refers to it.
    fn keep_record(&mut self, exn: Value) {
        let index = self
            .builder
            .ins()
            .load(types::I64, vm_flags(), exn, vmctx::EXCEPTION_INDEX);
        let kept = self
            .builder
            .ins()
            .bor_imm_s(index, vmctx::EXCEPTION_KEPT as i64);
        self.builder
            .ins()
            .store(vm_flags(), kept, exn, vmctx::EXCEPTION_INDEX);
    }

    /// Fills the function's propagating return, if anything uses it (the
    /// current block is filled): zero results, and the exit work any
    /// return does.
    pub(crate) fn emit_propagate(&mut self) {
        let Some(block) = self.propagate else {
            return;
        };
        self.builder.switch_to_block(block);
        self.builder.seal_block(block);
        // Only into code that tests for it: the code the return goes to,
        // not the caller's context, which a tail call leaves behind.
        let ra = self.builder.ins().get_return_address(types::I64);
        let passes = self.call_builtin(
            Builtin::ExceptionMayReturn,
            &[types::I64],
            &[types::I32],
            &[ra],
        )[0];
        self.builder
            .ins()
            .trapz(passes, TrapKind::UnhandledException.code());
        let results: Vec<Value> = self
            .env
            .info
            .func_sig(self.func_index)
            .results
            .clone()
            .into_iter()
            .map(|t| super::zero_value(&mut self.builder, t))
            .collect();
        self.return_values(&results);
    }

    /// The pending exception (null when none), from the store's limits.
    fn pending(&mut self) -> Value {
        let limits = self.load_fixed_ptr(self.vmctx, vmctx::RUNTIME_LIMITS);
        self.builder.ins().load(
            types::I64,
            vm_flags(),
            limits,
            vmctx::LIMITS_PENDING_EXCEPTION,
        )
    }

    /// Makes `exn` (or null) the pending exception.
    fn set_pending(&mut self, exn: Value) {
        let limits = self.load_fixed_ptr(self.vmctx, vmctx::RUNTIME_LIMITS);
        self.builder
            .ins()
            .store(vm_flags(), exn, limits, vmctx::LIMITS_PENDING_EXCEPTION);
    }

    /// The payload types of tag `tag`.
    fn tag_params(&self, tag: u32) -> Vec<crate::module_info::WasmType> {
        let info = self.env.info;
        info.types[info.tags[tag as usize] as usize].params.clone()
    }
}
