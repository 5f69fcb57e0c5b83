//! Wasm backtraces: walking the frame-pointer chain of generated code.

use walmart_jit::FrameInfo;

use crate::error::printable;

/// One frame of a Wasm backtrace.
pub type Frame = FrameInfo;

/// Walks from a trapping `pc` with frame pointer `fp` up through the Wasm
/// frames, stopping at the first return address outside generated code.
/// Generated code always keeps frame pointers, so each frame holds the
/// caller's frame pointer at `[fp]` and the return address at `[fp + 8]`.
pub fn walk(pc: usize, fp: usize) -> Vec<Frame> {
    let mut frames = Vec::new();
    if let Some(f) = walmart_jit::lookup_frame(pc) {
        frames.push(f);
    }
    frames.extend(frames_of(&return_addresses(fp, 100_000)));
    frames
}

/// The frames of return addresses found by [`return_addresses`].
pub fn frames_of(returns: &[usize]) -> Vec<Frame> {
    // The return address follows the call; step back into the call
    // instruction to find its source location. Each address is looked up
    // once: a deep recursion repeats a few (a lookup decodes its
    // function's source locations up to the address).
    let mut seen: std::collections::HashMap<usize, Option<Frame>> = Default::default();
    returns
        .iter()
        .filter_map(|&r| {
            seen.entry(r)
                .or_insert_with(|| walmart_jit::lookup_frame(r - 1))
                .clone()
        })
        .collect()
}

/// The return addresses into generated code on the frame-pointer chain
/// from `fp` (a frame of generated code), at most `max`, innermost first.
pub fn return_addresses(fp: usize, max: usize) -> Vec<usize> {
    let mut out = Vec::new();
    walk_return_addresses(fp, max, |ret| out.push(ret));
    out
}

/// Hands `each` the return addresses of up to `max` frames of generated
/// code, innermost first, from frame pointer `fp` (see
/// [`return_addresses`]); allocates nothing.
pub fn walk_return_addresses(fp: usize, max: usize, mut each: impl FnMut(usize)) {
    let mut fp = fp;
    walmart_jit::with_jit_code_test(|is_jit_code| {
        // Bounded: a corrupted chain must not loop forever.
        for _ in 0..max {
            if fp == 0 || !fp.is_multiple_of(8) {
                break;
            }
            // SAFETY: fp is the frame pointer of a frame of generated code
            // (checked below for each step).
            let (next_fp, ret) = unsafe { frame_record(fp) };
            if !is_jit_code(ret) {
                break;
            }
            each(ret);
            if next_fp <= fp {
                break;
            }
            fp = next_fp;
        }
    });
}

/// The caller's frame pointer and the return address a frame of
/// generated code keeps at its frame pointer `fp` (x86-64's and AArch64's
/// frame record: the saved frame pointer, then the return address).
///
/// # Safety
/// `fp` must be the frame pointer of a frame of generated code (which
/// always keeps frame pointers) that is live.
pub unsafe fn frame_record(fp: usize) -> (usize, usize) {
    // SAFETY: per the contract, the record's two words are there.
    unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) }
}

/// One frame as wasmtime prints it, without the index:
/// `0x1a2 - module!name`, and ` at file:line:column` where the module's
/// DWARF says.
pub fn frame_line(f: &Frame) -> String {
    let (offset, name) = frame_parts(f);
    match source(f) {
        Some(at) => format!("{offset} - {name} at {at}"),
        None => format!("{offset} - {name}"),
    }
}

/// `file:line:column` of a frame (the line and column where known), from
/// its module's DWARF line tables.
fn source(f: &Frame) -> Option<String> {
    let at = f.source_location()?;
    let mut out = printable(&at.file).into_owned();
    if at.line > 0 {
        out.push_str(&format!(":{}", at.line));
        if at.column > 0 {
            out.push_str(&format!(":{}", at.column));
        }
    }
    Some(out)
}

/// A frame's code offset (`0x1a2`, or `?`) and `module!name`.
fn frame_parts(f: &Frame) -> (String, String) {
    let offset = f
        .wasm_offset
        .map(|o| format!("{o:#x}"))
        .unwrap_or_else(|| "?".to_string());
    // Names come from the module's name section: one line each.
    let module = printable(f.module_name.as_deref().unwrap_or("<unknown>"));
    let name = match &f.func_name {
        Some(n) => format!("{module}!{}", printable(n)),
        None => format!("{module}!<wasm function {}>", f.func_index),
    };
    (offset, name)
}

/// Formats frames the way wasmtime prints them:
/// `    0:   0x1a2 - module!name`, each followed by
/// `                    at file:line:column` where the module's DWARF
/// gives one (and the engine keeps them: `Config::wasm_backtrace_details`).
pub fn format(frames: &[Frame]) -> String {
    let mut out = String::from("wasm backtrace:");
    for (i, f) in frames.iter().enumerate() {
        let (offset, name) = frame_parts(f);
        out.push_str(&format!("\n  {i:>4}: {offset:>8} - {name}"));
        if let Some(at) = source(f) {
            out.push_str(&format!("\n                    at {at}"));
        }
    }
    out
}
