//! One pass over a function body for what the allocator finders
//! ([`crate::unnamed_dlmalloc`], [`crate::emmalloc`]) read from code: the
//! statics it loads, the functions it calls, the addresses it names.

use wasmparser::{BinaryReader, FunctionBody, MemArgTarget, Operator};

/// What a body does that the finders look at, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Seen {
    /// A load from a static of memory 0: an `i32.const` right before the
    /// load, its offset added (an address past 4 GiB, where the load
    /// traps, is none).
    StaticLoad(u32),
    /// A direct call (or tail call) of this function.
    Call(u32),
    /// An `i32.const`, as an address.
    Constant(u32),
    /// The offset of a load or store of memory 0.
    Offset(u64),
    /// The first parameter plus a constant (`local.get 0`, `i32.const`,
    /// `i32.add`): an address a pointer argument leads to; with the index
    /// of the `i32.add` among the body's operators.
    FirstParamPlus(i32, usize),
}

/// Calls `seen` with what the body at `range` of `wasm` does. A body that
/// does not decode (validation reports it) gives what was read before the
/// error.
pub(crate) fn scan(wasm: &[u8], range: std::ops::Range<usize>, mut seen: impl FnMut(Seen)) {
    let body = FunctionBody::new(BinaryReader::new(&wasm[range.clone()], range.start as u64));
    let Ok(mut ops) = body.get_operators_reader() else {
        return;
    };
    let mut constant: Option<i32> = None;
    // The constant just pushed follows `local.get 0`.
    let mut first_param = false;
    let mut after_first_param = false;
    let mut index = 0;
    while !ops.eof() {
        let Ok(op) = ops.read() else {
            break;
        };
        if let (Operator::I32Add, true, Some(c)) = (&op, after_first_param, constant) {
            seen(Seen::FirstParamPlus(c, index));
        }
        index += 1;
        after_first_param = first_param && matches!(op, Operator::I32Const { .. });
        first_param = matches!(op, Operator::LocalGet { local_index: 0 });
        let (memarg, load) = match &op {
            Operator::I32Load { memarg }
            | Operator::I32Load8U { memarg }
            | Operator::I32Load8S { memarg }
            | Operator::I32Load16U { memarg }
            | Operator::I32Load16S { memarg }
            | Operator::I64Load { memarg } => (Some(memarg), true),
            Operator::I32Store { memarg }
            | Operator::I32Store8 { memarg }
            | Operator::I32Store16 { memarg }
            | Operator::I64Store { memarg } => (Some(memarg), false),
            Operator::Call { function_index } | Operator::ReturnCall { function_index } => {
                seen(Seen::Call(*function_index));
                (None, false)
            }
            _ => (None, false),
        };
        if let Some(m) = memarg.filter(|m| m.target == MemArgTarget::Memory(0)) {
            seen(Seen::Offset(m.offset));
            let at = constant.and_then(|c| {
                u64::from(c as u32)
                    .checked_add(m.offset)
                    .and_then(|a| u32::try_from(a).ok())
            });
            if let (true, Some(at)) = (load, at) {
                seen(Seen::StaticLoad(at));
            }
        }
        constant = match op {
            Operator::I32Const { value } => {
                seen(Seen::Constant(value as u32));
                Some(value)
            }
            _ => None,
        };
    }
}
