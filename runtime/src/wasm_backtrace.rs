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

/// Where Wasm left for the host: a note on the stack of the runtime's
/// frame that Wasm called (a host function's dispatcher, the epoch
/// deadline's builtin), linked to the note of the call around it.
pub(crate) struct Exit {
    /// A frame pointer whose saved return addresses lead into the Wasm
    /// that left: the host-call stub's, or the calling function's own.
    pub(crate) fp: usize,
    /// For the epoch deadline: the function that reached it (its
    /// instance, index and Wasm offset), which `fp`'s chain starts above.
    pub(crate) at: Option<(*const InstanceData, u32, u32)>,
    /// The note of the host call this one's Wasm runs inside, or null.
    pub(crate) outer: *const Exit,
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

    /// As [`WasmBacktrace::capture`] (wasmtime's name for a capture made
    /// whatever the configuration says; walmart's always is).
    pub fn force_capture(store: impl AsContext) -> WasmBacktrace {
        WasmBacktrace::capture(store)
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
    // A leaked asynchronous call's notes stay behind on its stack: they
    // are not what the store runs now.
    if crate::fiber::is_leaked(store) {
        return out;
    }
    let mut exit = store.wasm_exit;
    while !exit.is_null() && out.len() < MAX_FRAMES {
        // SAFETY: a note lives in the frame of the runtime function that
        // linked it ([`noted`], the host dispatcher), which unlinks it
        // before it returns; until then it is on the stack. A cancelled
        // asynchronous call returns through those frames; a leaked one's
        // stack is never freed (and its store refuses calls).
        let e = unsafe { &*exit };
        if let Some((inst, func, offset)) = e.at {
            // SAFETY: the instance that called the builtin lives while its
            // code runs.
            out.push(frame_at(unsafe { &*inst }, func, offset));
        }
        let left = MAX_FRAMES.saturating_sub(out.len());
        out.extend(backtrace::frames_of(&backtrace::return_addresses(
            e.fp, left,
        )));
        exit = e.outer;
    }
    out
}

/// Runs `f` with where Wasm left (`fp`, and the function `at`) noted on
/// `store` for a capture inside it, and takes the note back after.
pub(crate) fn noted<R>(
    store: &mut StoreOpaque,
    fp: usize,
    at: Option<(*const InstanceData, u32, u32)>,
    f: impl FnOnce(&mut StoreOpaque) -> R,
) -> R {
    let exit = Exit {
        fp,
        at,
        outer: store.wasm_exit,
    };
    store.wasm_exit = &exit;
    let r = f(store);
    store.wasm_exit = exit.outer;
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
