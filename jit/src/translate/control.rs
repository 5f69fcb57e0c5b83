//! Structured control flow: blocks, loops, `if`, branches, `br_table`,
//! `return`, `unreachable`, plus the stack-shuffling `drop` and `select`.

use cranelift_codegen::ir::{self, InstBuilder, JumpTableData, Value};
use wasmparser::{BlockType, Operator};

use super::{block_args, ir_type, FuncTranslator};
use crate::error::CompileError;
use crate::module_info::FuncSig;
use crate::trap::TrapKind;

/// What opened a control frame.
#[derive(Debug)]
pub enum FrameKind {
    /// The function body itself; its exit returns.
    Function,
    Block,
    Loop {
        header: ir::Block,
    },
    If {
        else_block: ir::Block,
        else_seen: bool,
        /// The `if`'s parameters, which the `else` arm starts from again.
        params: Vec<Value>,
    },
    /// A `try_table`: a block whose exceptions land at `landing`, which
    /// tries its clauses.
    TryTable {
        catches: Vec<super::exceptions::CatchClause>,
        landing: ir::Block,
        /// Some call or throw inside goes to `landing`.
        landing_used: bool,
    },
    /// A legacy `try` (`catch`, `catch_all`, `delegate`): exceptions of
    /// its body land at `landing`, which tries its catches in order.
    LegacyTry(Box<super::exceptions::LegacyTry>),
}

/// One entry of the control stack.
#[derive(Debug)]
pub struct ControlFrame {
    pub kind: FrameKind,
    /// Where control continues after `end`; its block parameters are the
    /// frame's results.
    pub next: ir::Block,
    pub num_params: usize,
    pub num_results: usize,
    /// Operand stack height below the frame's parameters.
    pub height: usize,
    /// Whether any branch (or fall-through) reaches `next`.
    pub exit_reachable: bool,
}

impl ControlFrame {
    /// The block a branch to this frame jumps to and how many values it carries.
    fn branch_target(&self) -> (ir::Block, usize) {
        match self.kind {
            FrameKind::Loop { header } => (header, self.num_params),
            _ => (self.next, self.num_results),
        }
    }
}

impl FuncTranslator<'_, '_> {
    /// Opens a control frame of block type `sig` whose parameters are on
    /// top of the stack, going on at `next`.
    pub(crate) fn push_frame(&mut self, kind: FrameKind, next: ir::Block, sig: &FuncSig) {
        self.frames.push(ControlFrame {
            kind,
            next,
            num_params: sig.params.len(),
            num_results: sig.results.len(),
            height: self.stack.len() - sig.params.len(),
            exit_reachable: false,
        });
    }

    pub(crate) fn block_sig(&self, ty: BlockType) -> Result<FuncSig, CompileError> {
        Ok(match ty {
            BlockType::Empty => FuncSig::default(),
            BlockType::Type(t) => FuncSig {
                results: vec![crate::module_info::WasmType::from_parser(
                    t,
                    &self.env.info.type_kinds,
                )
                .ok_or_else(|| CompileError::Unsupported(format!("block type {t:?}")))?],
                ..FuncSig::default()
            },
            BlockType::FuncType(idx) => self.env.info.types[idx as usize].clone(),
        })
    }

    pub(crate) fn new_block_with_params(
        &mut self,
        types: &[crate::module_info::WasmType],
    ) -> ir::Block {
        let block = self.builder.create_block();
        for t in types {
            self.builder.append_block_param(block, ir_type(*t));
        }
        block
    }

    pub(crate) fn push_function_frame(&mut self, sig: &FuncSig) {
        let next = self.new_block_with_params(&sig.results);
        self.frames.push(ControlFrame {
            kind: FrameKind::Function,
            next,
            num_params: 0,
            num_results: sig.results.len(),
            height: 0,
            exit_reachable: false,
        });
    }

    /// Marks the frame `depth` levels out as a branch target and returns
    /// where to jump and with how many values.
    pub(crate) fn branch_to(&mut self, depth: u32) -> (ir::Block, usize) {
        self.branch_to_frame(self.frames.len() - 1 - depth as usize)
    }

    /// [`Self::branch_to`] the frame at index `idx` of the control stack.
    pub(crate) fn branch_to_frame(&mut self, idx: usize) -> (ir::Block, usize) {
        let frame = &mut self.frames[idx];
        if !matches!(frame.kind, FrameKind::Loop { .. }) {
            frame.exit_reachable = true;
        }
        frame.branch_target()
    }

    pub(crate) fn translate_control(&mut self, op: &Operator<'_>) -> Result<(), CompileError> {
        use Operator as O;
        match op {
            O::Unreachable => self.trap(TrapKind::Unreachable),
            O::Nop => {}
            O::Drop => {
                self.pop();
            }
            O::Select | O::TypedSelect { .. } => {
                let (a, b, cond) = self.pop3();
                let v = self.builder.ins().select(cond, a, b);
                self.push(v);
            }
            O::Block { blockty } => {
                let sig = self.block_sig(*blockty)?;
                let next = self.new_block_with_params(&sig.results);
                self.push_frame(FrameKind::Block, next, &sig);
            }
            O::Loop { blockty } => {
                let sig = self.block_sig(*blockty)?;
                let header = self.new_block_with_params(&sig.params);
                let next = self.new_block_with_params(&sig.results);
                let args = self.popn(sig.params.len());
                self.builder.ins().jump(header, &block_args(&args));
                self.builder.switch_to_block(header);
                let params = self.builder.block_params(header).to_vec();
                self.interrupt_checks(true);
                self.stack.extend(params);
                self.push_frame(FrameKind::Loop { header }, next, &sig);
            }
            O::If { blockty } => {
                let sig = self.block_sig(*blockty)?;
                let cond = self.pop();
                let then_block = self.builder.create_block();
                let else_block = self.builder.create_block();
                let next = self.new_block_with_params(&sig.results);
                self.builder
                    .ins()
                    .brif(cond, then_block, &[], else_block, &[]);
                self.builder.seal_block(then_block);
                self.builder.seal_block(else_block);
                self.builder.switch_to_block(then_block);
                let params = self.stack[self.stack.len() - sig.params.len()..].to_vec();
                let kind = FrameKind::If {
                    else_block,
                    else_seen: false,
                    params,
                };
                self.push_frame(kind, next, &sig);
            }
            O::Else => self.translate_else(),
            O::End => self.translate_end(),
            O::Br { relative_depth } => {
                let (target, arity) = self.branch_to(*relative_depth);
                let args = self.stack[self.stack.len() - arity..].to_vec();
                self.builder.ins().jump(target, &block_args(&args));
                self.reachable = false;
            }
            O::BrIf { relative_depth } => {
                let cond = self.pop();
                let (target, arity) = self.branch_to(*relative_depth);
                let args = self.stack[self.stack.len() - arity..].to_vec();
                let fallthrough = self.builder.create_block();
                self.builder
                    .ins()
                    .brif(cond, target, &block_args(&args), fallthrough, &[]);
                self.builder.seal_block(fallthrough);
                self.builder.switch_to_block(fallthrough);
            }
            O::BrTable { targets } => self.translate_br_table(targets)?,
            O::BrOnNull { relative_depth } => {
                // Null: out to the label with the values below the
                // reference; else on, with it.
                let r = self.pop();
                let (target, arity) = self.branch_to(*relative_depth);
                let args = self.stack[self.stack.len() - arity..].to_vec();
                let non_null = self.builder.create_block();
                self.builder
                    .ins()
                    .brif(r, non_null, &[], target, &block_args(&args));
                self.builder.seal_block(non_null);
                self.builder.switch_to_block(non_null);
                self.push(r);
            }
            O::BrOnNonNull { relative_depth } => {
                // Not null: out to the label with the reference on top;
                // else on, without it.
                let r = self.pop();
                let (target, arity) = self.branch_to(*relative_depth);
                let mut args = self.stack[self.stack.len() - (arity - 1)..].to_vec();
                args.push(r);
                let null = self.builder.create_block();
                self.builder
                    .ins()
                    .brif(r, target, &block_args(&args), null, &[]);
                self.builder.seal_block(null);
                self.builder.switch_to_block(null);
            }
            O::Return => {
                let n = self.frames[0].num_results;
                let results = self.stack[self.stack.len() - n..].to_vec();
                self.return_values(&results);
            }
            _ => unreachable!("not a control operator: {op:?}"),
        }
        Ok(())
    }

    fn translate_br_table(
        &mut self,
        targets: &wasmparser::BrTable<'_>,
    ) -> Result<(), CompileError> {
        let index = self.pop();
        let mut depths = Vec::with_capacity(targets.len() as usize);
        for depth in targets.targets() {
            depths.push(depth?);
        }
        let default = targets.default();
        let (_, arity) = self.frames[self.frames.len() - 1 - default as usize].branch_target();
        let args = self.stack[self.stack.len() - arity..].to_vec();
        // Jump-table entries carry no arguments here: targets that need
        // values get a small edge block that passes them.
        let mut edge_blocks: std::collections::HashMap<u32, ir::Block> = Default::default();
        let mut block_for = |t: &mut Self, depth: u32| -> ir::Block {
            if let Some(b) = edge_blocks.get(&depth) {
                return *b;
            }
            let (target, _) = t.branch_to(depth);
            let block = if arity == 0 {
                target
            } else {
                t.builder.create_block()
            };
            edge_blocks.insert(depth, block);
            block
        };
        let default_block = block_for(self, default);
        let table: Vec<ir::Block> = depths.iter().map(|d| block_for(self, *d)).collect();
        let pool = &mut self.builder.func.dfg.value_lists;
        let default_call = ir::BlockCall::new(default_block, [], pool);
        let calls: Vec<ir::BlockCall> = table
            .iter()
            .map(|b| ir::BlockCall::new(*b, [], pool))
            .collect();
        let jt = self
            .builder
            .create_jump_table(JumpTableData::new(default_call, &calls));
        self.builder.ins().br_table(index, jt);
        if arity > 0 {
            let mut edges: Vec<(u32, ir::Block)> = edge_blocks.into_iter().collect();
            edges.sort_by_key(|(d, _)| *d);
            for (depth, edge) in edges {
                let (target, _) =
                    self.frames[self.frames.len() - 1 - depth as usize].branch_target();
                self.builder.seal_block(edge);
                self.builder.switch_to_block(edge);
                self.builder.ins().jump(target, &block_args(&args));
            }
        }
        self.reachable = false;
        Ok(())
    }

    fn translate_else(&mut self) {
        let reachable = self.reachable;
        let frame = self.frames.last_mut().expect("validated: else inside if");
        let next = frame.next;
        let num_results = frame.num_results;
        let height = frame.height;
        let FrameKind::If {
            else_block,
            else_seen,
            params,
        } = &mut frame.kind
        else {
            unreachable!("validated: else closes an if");
        };
        *else_seen = true;
        let else_block = *else_block;
        let params = params.clone();
        if reachable {
            frame.exit_reachable = true;
            let results = self.popn(num_results);
            self.builder.ins().jump(next, &block_args(&results));
        }
        self.stack.truncate(height);
        self.stack.extend(params);
        self.builder.switch_to_block(else_block);
        // The if was reachable when its frame was pushed, so its else is too.
        self.reachable = true;
    }

    pub(crate) fn translate_end(&mut self) {
        let mut frame = self.frames.pop().expect("validated: end closes a frame");
        if self.reachable {
            frame.exit_reachable = true;
            let results = self.popn(frame.num_results);
            self.builder.ins().jump(frame.next, &block_args(&results));
        }
        if let FrameKind::TryTable {
            catches,
            landing,
            landing_used: true,
        } = &frame.kind
        {
            self.emit_landing(catches, *landing);
        }
        if let FrameKind::LegacyTry(legacy) = &frame.kind {
            self.end_legacy_try(legacy);
        }
        match &frame.kind {
            FrameKind::If {
                else_block,
                else_seen: false,
                params,
            } => {
                // No else arm: the false path carries the parameters straight
                // to the end (validation made them equal to the results).
                frame.exit_reachable = true;
                self.builder.switch_to_block(*else_block);
                self.builder.ins().jump(frame.next, &block_args(params));
            }
            FrameKind::Loop { header } => self.builder.seal_block(*header),
            _ => {}
        }
        self.stack.truncate(frame.height);
        if !frame.exit_reachable {
            self.reachable = false;
            return;
        }
        self.builder.switch_to_block(frame.next);
        self.builder.seal_block(frame.next);
        let results = self.builder.block_params(frame.next).to_vec();
        if let FrameKind::Function = frame.kind {
            self.return_values(&results);
        } else {
            self.stack.extend(results);
            self.reachable = true;
        }
    }

    /// Returns `results` from the function: the allocator's bookkeeping
    /// and the exit hook first.
    pub(crate) fn return_values(&mut self, results: &[Value]) {
        self.allocator_return(results);
        self.function_hook(crate::vmctx::HookPoint::Return);
        self.fuel_save();
        self.builder.ins().return_(results);
        self.reachable = false;
    }

    /// Skips operators in dead code, tracking nesting so the `else`/`end`
    /// that revive translation are found.
    pub(crate) fn translate_unreachable(&mut self, op: &Operator<'_>) -> Result<(), CompileError> {
        use Operator as O;
        match op {
            O::Block { .. }
            | O::Loop { .. }
            | O::If { .. }
            | O::TryTable { .. }
            | O::Try { .. } => self.dead_depth += 1,
            O::Else if self.dead_depth == 0 => self.translate_else(),
            O::Catch { .. } | O::CatchAll if self.dead_depth == 0 => {
                self.translate_exception(op)?
            }
            O::Delegate { .. } => {
                if self.dead_depth > 0 {
                    self.dead_depth -= 1;
                } else {
                    self.translate_exception(op)?;
                }
            }
            O::End => {
                if self.dead_depth > 0 {
                    self.dead_depth -= 1;
                } else {
                    self.translate_end();
                }
            }
            _ => {}
        }
        Ok(())
    }
}
