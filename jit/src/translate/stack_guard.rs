//! Guards between the frames of the C shadow stack.
//!
//! clang keeps a function's address-taken locals (arrays, structs whose
//! address escapes) in a frame of linear memory below `__stack_pointer`,
//! the module's first global, and frames lie back to back: a buffer that
//! overflows upwards runs over the frames of its callers, which no heap
//! colour or heap check covers. Each function whose frame has clang's
//! usual shape gets 16 bytes more, above the frame's own N: its locals
//! still lie at `sp + 0 .. sp + N`, and the 16 bytes at `sp + N` (right
//! below the caller's frame) are the guard, which an overflow out of the
//! frame writes first.
//!
//! * Under the tag monitor the guard is a granule painted in the redzone
//!   colour as the frame is made and cleared as it is released: the tag
//!   check reports the overflow at the faulting access.
//! * Under `coarse` and `fine` the guard is 16 zero bytes, stored as the
//!   frame is made and checked as it is released: a written guard calls
//!   the runtime ([`vmctx::HookPoint::StackCheck`]) as the function
//!   returns. Zeros, not a random canary: the CNN judges stack pages,
//!   which hold zeros already.
//!
//! The shape, as clang emits it for every frame it writes back:
//!
//! ```text
//! global.get $sp  i32.const N  i32.sub  local.tee $fp  global.set $sp    ;; once
//! local.get $fp   i32.const N  i32.add  global.set $sp                   ;; before each return
//! ```
//!
//! A function with anything else (a second frame, `alloca`, `$fp`
//! written again, an N that is not a multiple of 16) keeps its frame as it
//! is: widening a frame whose every use is not known would move what its
//! code addresses.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Value};
use wasmparser::{FunctionBody, Operator};

use super::FuncTranslator;
use crate::error::CompileError;
use crate::module_info::{ModuleInfo, WasmType};
use crate::vmctx;

/// Bytes of guard above each guarded frame: one tag granule.
pub const FRAME_GUARD: u32 = vmctx::TAG_GRANULE;

/// An aligned 8-byte access of memory 0 at `offset`.
fn guard_memarg(offset: u64) -> wasmparser::MemArg {
    wasmparser::MemArg {
        align: 3,
        max_align: 3,
        offset,
        target: wasmparser::MemArgTarget::Memory(0),
        ordering: None,
    }
}

/// A function's frame, as [`frame_guard`] found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FrameGuard {
    /// The frame's size in the module's code (N).
    frame: u32,
    /// Offsets of the `i32.const N` operators, translated as `N + 16`.
    widened: Vec<u64>,
    /// Offset of the prologue's `global.set`.
    make: u64,
    /// Offsets of the epilogues' `global.set`s.
    release: Vec<u64>,
}

/// What the translator does at an operator of a guarded function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GuardStep {
    /// `i32.const` with this value instead of the module's.
    Const(i32),
    /// Before this `global.set`: paint the guard above the new frame.
    Make,
    /// Before this `global.set`: clear the guard below the restored
    /// stack pointer.
    Release,
}

impl FrameGuard {
    /// What to do at the operator at `offset`, if anything.
    pub(crate) fn step(&self, offset: u64) -> Option<GuardStep> {
        if self.widened.contains(&offset) {
            Some(GuardStep::Const((self.frame + FRAME_GUARD) as i32))
        } else if offset == self.make {
            Some(GuardStep::Make)
        } else if self.release.contains(&offset) {
            Some(GuardStep::Release)
        } else {
            None
        }
    }

    /// The frame's size in the module's code.
    pub(crate) fn frame(&self) -> u32 {
        self.frame
    }
}

/// The module's shadow stack pointer: its first global when that is a
/// defined, mutable i32 (wasm-ld's `__stack_pointer`) and memory 0 is a
/// 32-bit memory.
pub(crate) fn stack_pointer(info: &ModuleInfo) -> Option<u32> {
    let g = info.globals.first()?;
    let memory32 = info.memories.first().is_some_and(|m| !m.memory64);
    (info.num_imported_globals == 0 && g.mutable && g.ty == WasmType::I32 && memory32).then_some(0)
}

/// The frame of `body`, when it has exactly clang's shape (see the module
/// documentation) with stack pointer global `sp`.
pub(crate) fn frame_guard(
    sp: u32,
    body: &FunctionBody<'_>,
) -> Result<Option<FrameGuard>, CompileError> {
    use Operator as O;
    let mut reader = body.get_operators_reader()?;
    let mut ops = Vec::new();
    while !reader.eof() {
        ops.push(reader.read_with_offset()?);
    }
    // The prologue: (frame, frame pointer local, its tee's offset, plan).
    let mut prologue: Option<(u32, u32, u64, FrameGuard)> = None;
    for w in ops.windows(5) {
        if let [(O::GlobalGet { global_index: g1 }, _), (O::I32Const { value }, at), (O::I32Sub, _), (O::LocalTee { local_index }, tee), (O::GlobalSet { global_index: g2 }, set)] =
            w
        {
            if *g1 != sp || *g2 != sp {
                continue;
            }
            if prologue.is_some() || *value <= 0 {
                return Ok(None);
            }
            let plan = FrameGuard {
                frame: *value as u32,
                widened: vec![*at],
                make: *set,
                release: Vec::new(),
            };
            prologue = Some((*value as u32, *local_index, *tee, plan));
        }
    }
    let Some((frame, fp, tee, mut plan)) = prologue else {
        return Ok(None);
    };
    let fits = frame
        .checked_add(FRAME_GUARD)
        .is_some_and(|w| w <= i32::MAX as u32);
    if frame % FRAME_GUARD != 0 || !fits {
        return Ok(None);
    }
    for w in ops.windows(4) {
        if let [(O::LocalGet { local_index }, _), (O::I32Const { value }, at), (O::I32Add, _), (O::GlobalSet { global_index }, set)] =
            w
        {
            if *global_index != sp {
                continue;
            }
            if *local_index != fp || *value != frame as i32 {
                return Ok(None);
            }
            plan.widened.push(*at);
            plan.release.push(*set);
        }
    }
    if plan.release.is_empty() {
        return Ok(None);
    }
    // Nothing else moves the stack pointer or the frame pointer.
    for (op, offset) in &ops {
        let stray = match op {
            O::GlobalSet { global_index } => {
                *global_index == sp && *offset != plan.make && !plan.release.contains(offset)
            }
            O::LocalSet { local_index } => *local_index == fp,
            O::LocalTee { local_index } => *local_index == fp && *offset != tee,
            _ => false,
        };
        if stray {
            return Ok(None);
        }
    }
    Ok(Some(plan))
}

impl FuncTranslator<'_, '_> {
    /// Translates operator `op` at `offset` of a function, with its frame
    /// guard's work where it has one: the frame's size widened, the guard
    /// made before the prologue's `global.set` and released before each
    /// epilogue's.
    pub(crate) fn translate_guarded(
        &mut self,
        op: &Operator<'_>,
        offset: u64,
    ) -> Result<(), CompileError> {
        let step = self.frame_guard.as_ref().and_then(|g| g.step(offset));
        match step.filter(|_| self.reachable) {
            Some(GuardStep::Const(value)) => self.translate(&Operator::I32Const { value }),
            Some(GuardStep::Make | GuardStep::Release) => {
                self.frame_guard_step(step == Some(GuardStep::Make))?;
                self.translate(op)
            }
            None => self.translate(op),
        }
    }

    /// The guard's work as the frame is made (`make`) or released, for
    /// the stack pointer value on top of the operand stack, which the
    /// next operator stores: the new frame's base as it is made, the
    /// caller's stack pointer as it is released. Under the tag monitor
    /// the guard is a redzone granule in the shadow; under `coarse` and
    /// `fine`, 16 zero bytes in memory, checked as the frame is released.
    fn frame_guard_step(&mut self, make: bool) -> Result<(), CompileError> {
        if self.env.config.tags.is_some() {
            self.frame_guard_shadow(make);
        } else if make {
            self.frame_guard_zero()?;
        } else {
            self.frame_guard_check()?;
        }
        Ok(())
    }

    /// Zeroes the guard above the frame being made: two 8-byte stores at
    /// `sp + N`, translated as the module's own stores are (bounds, store
    /// barrier), so a stack pointer gone wild traps as its code would.
    fn frame_guard_zero(&mut self) -> Result<(), CompileError> {
        let sp = *self.stack.last().expect("validated: global.set operand");
        let frame = self.frame_guard.as_ref().map_or(0, |g| g.frame());
        for half in [0, 8] {
            self.push(sp);
            let zero = self.builder.ins().iconst(types::I64, 0);
            self.push(zero);
            self.translate_reachable(&Operator::I64Store {
                memarg: guard_memarg(u64::from(frame) + half),
            })?;
        }
        Ok(())
    }

    /// Checks the guard below the stack pointer being restored: its 16
    /// bytes must still be zero, else the runtime reports the frame's
    /// overflow ([`vmctx::HookPoint::StackCheck`]).
    fn frame_guard_check(&mut self) -> Result<(), CompileError> {
        let sp = *self.stack.last().expect("validated: global.set operand");
        let at = self.builder.ins().iadd_imm_s(sp, -i64::from(FRAME_GUARD));
        let mut halves = Vec::new();
        for half in [0, 8] {
            self.push(at);
            self.translate_reachable(&Operator::I64Load {
                memarg: guard_memarg(half),
            })?;
            halves.push(self.pop());
        }
        let any = self.builder.ins().bor(halves[0], halves[1]);
        let written = self.builder.ins().icmp_imm_s(IntCC::NotEqual, any, 0);
        self.cold_path(written, |t| {
            t.call_hook_with_arg(vmctx::HookPoint::StackCheck, at)
        });
        Ok(())
    }

    /// Paints (`make`) or clears the guard granule of this function's
    /// frame in the tag monitor's shadow.
    fn frame_guard_shadow(&mut self, make: bool) {
        use types::I64;
        let frame = self.frame_guard.as_ref().map_or(0, |g| g.frame() as i64);
        let sp = *self.stack.last().expect("validated: global.set operand");
        let delta = if make { frame } else { -i64::from(FRAME_GUARD) };
        let mut wasm = self.builder.ins().iadd_imm_s(sp, delta);
        if self.env.config.tags.is_some_and(|t| t.pointer_colours) {
            // A stack in memory the allocator returned carries a colour.
            wasm = self
                .builder
                .ins()
                .band_imm_s(wasm, i64::from(vmctx::TAG_ADDR_MASK));
        }
        // The tag monitor's memory is guarded: no bounds check here.
        let native = self.heap_addr(0, wasm, 0, FRAME_GUARD);
        let def = self.memory_def(0);
        if make {
            self.lower_tag_floor(def, native);
        }
        let flags = self.memory_field_flags(0);
        let bias = self.builder.ins().load(I64, flags, def, vmctx::MEMORY_TAGS);
        let at = self.shadow_byte(bias, native);
        let byte = if make { vmctx::TAG_STACK_GUARD } else { 0 };
        let byte = self.builder.ins().iconst(types::I8, i64::from(byte));
        self.builder
            .ins()
            .store(MemFlagsData::trusted(), byte, at, 0);
        // The shadow changed: what the run's checks covered may not hold.
        self.tag_checked.clear();
    }

    /// Generated code skips the shadow below the lowest coloured granule
    /// (memory colours); a guard lowers it to itself.
    fn lower_tag_floor(&mut self, def: Value, native: Value) {
        let floor =
            self.builder
                .ins()
                .load(types::I64, super::vm_flags(), def, vmctx::MEMORY_TAG_FLOOR);
        let lower = self.builder.ins().umin(floor, native);
        self.builder
            .ins()
            .store(super::vm_flags(), lower, def, vmctx::MEMORY_TAG_FLOOR);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`frame_guard`] of the first function of a module whose body is
    /// `body` (global 0 the stack pointer, local 0 the frame pointer).
    fn guard_of(body: &str) -> Option<FrameGuard> {
        let wat = format!(
            "(module (memory 1) (global $sp (mut i32) (i32.const 4096))
               (func (result i32) (local i32) {body}))"
        );
        let wasm = wat::parse_str(&wat).unwrap();
        for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
            if let wasmparser::Payload::CodeSectionEntry(b) = payload.unwrap() {
                return frame_guard(0, &b).unwrap();
            }
        }
        unreachable!("a function")
    }

    const PROLOGUE: &str = "global.get 0 i32.const 32 i32.sub local.tee 0 global.set 0";
    const EPILOGUE: &str = "local.get 0 i32.const 32 i32.add global.set 0";

    #[test]
    fn clangs_frame_is_found_with_its_consts_and_stack_pointer_writes() {
        let g = guard_of(&format!(
            "{PROLOGUE} local.get 0 i32.load
             if {EPILOGUE} i32.const 1 return end
             {EPILOGUE} i32.const 32"
        ))
        .expect("clang's shape");
        assert_eq!(g.frame(), 32);
        assert_eq!(g.widened.len(), 3);
        assert_eq!(g.release.len(), 2);
        let widened: Vec<_> = g.widened.iter().map(|&o| g.step(o)).collect();
        assert!(widened.iter().all(|s| *s == Some(GuardStep::Const(48))));
        assert_eq!(g.step(g.make), Some(GuardStep::Make));
        assert!(g
            .release
            .iter()
            .all(|&o| g.step(o) == Some(GuardStep::Release)));
    }

    #[test]
    fn anything_else_that_moves_the_stack_or_frame_pointer_leaves_the_frame_alone() {
        let cases = [
            // No epilogue (a function that does not return).
            format!("{PROLOGUE} unreachable"),
            // An `alloca`: another write of the stack pointer.
            format!(
                "{PROLOGUE} global.get 0 i32.const 64 i32.sub global.set 0 {EPILOGUE} i32.const 0"
            ),
            // The frame pointer written again.
            format!("{PROLOGUE} i32.const 8 local.set 0 {EPILOGUE} i32.const 0"),
            // An epilogue of another size.
            format!("{PROLOGUE} local.get 0 i32.const 48 i32.add global.set 0 i32.const 0"),
            // A frame that is no whole number of granules.
            "global.get 0 i32.const 24 i32.sub local.tee 0 global.set 0
             local.get 0 i32.const 24 i32.add global.set 0 i32.const 0"
                .to_string(),
            // Two frames.
            format!("{PROLOGUE} {PROLOGUE} {EPILOGUE} i32.const 0"),
            // No frame at all.
            "i32.const 0".to_string(),
        ];
        for body in cases {
            assert_eq!(guard_of(&body), None, "{body}");
        }
    }
}
