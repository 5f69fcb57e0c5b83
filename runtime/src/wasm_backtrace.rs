//! Backtraces the host takes while Wasm is on the stack: from inside a
//! host function, or from the epoch deadline's callback (where a
//! profiler samples, [`crate::GuestProfiler`]), as wasmtime's
//! `WasmBacktrace::capture`.
//!
//! Each time Wasm leaves for the host (a host function's call stub, the
//! epoch deadline's builtin) the store notes where the Wasm frames
//! stand ([`Exit`]); a capture walks the frame-pointer chain from each
//! note, innermost call first. Notes stack up as host functions call
//! back into Wasm, so a capture shows every activation's frames.

use std::fmt;

use crate::instance::InstanceData;
use crate::store::{AsContext, StoreOpaque};
use crate::vm::backtrace::{self, Frame};

/// Where Wasm left for the host.
pub(crate) enum Exit {
    /// A host function's call stub, whose frame pointer is `fp`: the
    /// frames it saved lead into the calling Wasm.
    Host { fp: usize },
    /// The epoch deadline's builtin, called by the function of
    /// `innermost` with frame pointer `fp`.
    Deadline { fp: usize, innermost: Box<Frame> },
}

/// Frames deeper than this are left out of a capture (a runaway
/// recursion's stack holds up to the stack's size in frames).
const MAX_FRAMES: usize = 100_000;

/// The Wasm frames on the stack when it was captured, innermost first.
#[derive(Clone, Debug, Default)]
pub struct WasmBacktrace {
    frames: Vec<Frame>,
}

impl WasmBacktrace {
    /// The Wasm frames active in `store` now: those of the Wasm that
    /// called the host function running (and of the Wasm that called the
    /// host functions around it), or, in an epoch deadline's callback,
    /// of the Wasm that reached the deadline. Empty when no Wasm is on
    /// the stack.
    pub fn capture(store: impl AsContext) -> WasmBacktrace {
        WasmBacktrace {
            frames: frames(&store.as_context().opaque),
        }
    }

    /// The frames, innermost first.
    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }
}

impl fmt::Display for WasmBacktrace {
    /// As wasmtime prints a backtrace: a `wasm backtrace:` line, then
    /// `    0:   0x1a2 - module!name`, a line a frame; nothing without
    /// frames.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.frames.is_empty() {
            return Ok(());
        }
        f.write_str(&backtrace::format(&self.frames))
    }
}

/// The frames of every activation `store` has on the stack, innermost
/// first.
pub(crate) fn frames(store: &StoreOpaque) -> Vec<Frame> {
    let mut out = Vec::new();
    for exit in store.wasm_exits.iter().rev() {
        let fp = match exit {
            Exit::Host { fp } => *fp,
            Exit::Deadline { fp, innermost } => {
                out.push((**innermost).clone());
                *fp
            }
        };
        let left = MAX_FRAMES.saturating_sub(out.len());
        out.extend(backtrace::frames_of(&backtrace::return_addresses(fp, left)));
    }
    out
}

/// Runs `f` with the exit `exit` noted on `store` (for a capture inside
/// it), and takes the note back after.
pub(crate) fn noted<R>(
    store: &mut StoreOpaque,
    exit: Exit,
    f: impl FnOnce(&mut StoreOpaque) -> R,
) -> R {
    store.wasm_exits.push(exit);
    let depth = store.wasm_exits.len();
    let r = f(store);
    store.wasm_exits.truncate(depth - 1);
    r
}

/// The frame of function `func` of `inst`'s module at Wasm offset
/// `offset` (where generated code that knows both called the runtime).
pub(crate) fn frame_at(inst: &InstanceData, func: u32, offset: u32) -> Frame {
    let module = inst.module.info();
    Frame {
        func_index: func,
        func_name: module.func_names.get(&func).map(str::to_string),
        module_name: module.name.clone(),
        wasm_offset: Some(offset),
        lines: inst.module.inner.compiled.code.debug_lines(),
        code: inst.module.inner.compiled.code.start(),
    }
}
