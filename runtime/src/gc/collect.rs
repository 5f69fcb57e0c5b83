//! The collector: marks what the roots reach, frees the rest.
//!
//! Roots are found two ways. The store's own holders of references (its
//! globals, tables, element segments, the exception being thrown and the
//! references the host holds, [`crate::gc::roots`]) are read word by
//! word, and so are the payloads of the exception records found
//! referenced ([`crate::gc::records`]). Wasm frames are
//! not described (no stack maps): every word of the stack between the
//! host's entry into Wasm and the end of Wasm's frames (where the
//! allocating builtin's stub pushed the callee-saved registers; without
//! the stub, the collector's own frame, registers spilled into it) is
//! taken as a possible reference, and an object any of them points into
//! is live. Such a scan may keep a dead object whose address
//! an integer happens to hold, never free a live one, and it sees
//! references compiled code derived (an address into an object) as well.
//! Objects' fields are traced exactly, by their types.

use super::heap::GcHeap;
use super::records::RecordMarks;
use crate::store::StoreOpaque;

/// Collects the store's GC heap. Runs only with Wasm stopped at a call
/// into the runtime (or not running at all), on the thread that runs it.
pub(crate) fn collect(store: &mut StoreOpaque, from: ScanFrom) {
    // A leaked asynchronous call's frames never run again, and lie on
    // another stack than this code's.
    let scan = store.wasm_depth > 0 && !store.poisoned && !crate::fiber::is_leaked(store);
    store.gc_heap.begin_collection(&mut store.limits);
    let mut records = RecordMarks::new(store);
    let mut roots = Roots {
        heap: &mut store.gc_heap,
        records: &mut records,
    };
    if scan {
        scan_stack(&mut roots, from, store.gc_stack_top);
        for &(fiber, outer_low, outer_top) in &store.gc_outer_stacks {
            // SAFETY: a nested call's fiber context lives on its stack
            // while the call runs, which it does while listed.
            let parent_sp = unsafe { (*fiber).parent_sp };
            // Resumed from elsewhere than the outer call's stack: the
            // nested call fails at once (`fiber::AsyncCx::suspend`).
            if !(outer_low..outer_top).contains(&parent_sp) {
                continue;
            }
            // Below the resuming frame too: the switch saved the outer
            // code's callee-saved registers under it.
            let low = parent_sp.saturating_sub(SWITCH_SLACK).max(outer_low);
            scan_words(&mut roots, low, outer_top);
        }
    }
    roots.word(store.limits.pending_exception as u64);
    for global in &store.globals {
        let raw = u128::from_le_bytes(global.cell.bytes);
        roots.word(raw as u64);
    }
    for table in &store.tables {
        for &raw in table.raw_elements() {
            roots.word(raw);
        }
    }
    for inst in &store.instances {
        for segment in inst.elements.iter().flatten() {
            for &raw in segment {
                roots.word(raw);
            }
        }
    }
    for raw in store.gc_roots.addresses() {
        roots.word(raw);
    }
    // Objects and exception records reach each other (fields of `exnref`
    // type, payloads): trace both until neither finds more.
    loop {
        roots.heap.trace();
        for raw in std::mem::take(&mut roots.heap.exn_words) {
            roots.records.mark(raw);
        }
        let Some(index) = roots.records.pending.pop() else {
            if roots.heap.tracing() {
                continue;
            }
            break;
        };
        for &raw in store.exceptions[index as usize][1..].iter() {
            roots.word(raw as u64);
            roots.word((raw >> 64) as u64);
        }
    }
    store.gc_heap.sweep();
    records.free_unmarked(store);
    store.new_record_bytes = 0;
}

/// Where a root's word goes: to the object it may point into and to the
/// exception record it may point into.
struct Roots<'a> {
    heap: &'a mut GcHeap,
    records: &'a mut RecordMarks,
}

impl Roots<'_> {
    fn word(&mut self, word: u64) {
        self.heap.mark_conservatively(word);
        self.records.mark(word);
    }
}

/// Where the collector's scan of the stack starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScanFrom {
    /// At the collector's own frame, the callee-saved registers spilled
    /// into it first (a collection the host or a builtin without the
    /// stub asked for).
    Here,
    /// Where Wasm's frames end, as an allocating builtin's stub passed it
    /// (the stub pushed the callee-saved registers there): the runtime's
    /// own frames below are not read.
    WasmSp(usize),
}

/// Marks what the words of the stack point into, from `from` to the
/// host's outermost entry into Wasm (`high`).
#[inline(never)]
fn scan_stack(roots: &mut Roots<'_>, from: ScanFrom, high: usize) {
    match from {
        ScanFrom::WasmSp(low) => scan_words(roots, low, high),
        ScanFrom::Here => {
            let registers = spill_callee_saved();
            std::hint::black_box(&registers);
            scan_words(roots, crate::func::approximate_sp(), high);
            std::hint::black_box(&registers);
        }
    }
}

/// Marks what the words of the stack from `low` to `high` point into.
fn scan_words(roots: &mut Roots<'_>, low: usize, high: usize) {
    let mut at = low & !7;
    while at + 8 <= high {
        // SAFETY: `low..high` is this thread's stack, from a frame below
        // the collector's caller up to a frame of `crate::func::invoke`
        // that is still running: mapped memory, read as plain words.
        let word = unsafe { std::ptr::read_volatile(at as *const u64) };
        roots.word(word);
        at += 8;
    }
}

/// Bytes below a suspended outer call's resuming frame that are scanned
/// as well: where the fiber switch saved its callee-saved registers.
const SWITCH_SLACK: usize = 4096;

/// Bytes of stack [`clear_stack_below`] zeroes.
pub(crate) const CLEARED_STACK: usize = 16 << 10;

/// Zeroes the stack just below the caller's frame, where the frames of
/// the call it is about to make will lie: a slot those frames do not
/// write before a collection then holds no reference an earlier call left
/// (the conservative scan would keep its object, and all it reaches,
/// alive). Called as the host enters Wasm (for Wasm's frames) and, where
/// no stub tells the collector where Wasm's frames end, as Wasm enters an
/// allocating builtin (for the runtime's own frames down to the
/// collector, which hold the last allocation's address from the call
/// before: Wasm's stack limit leaves room below it for host calls, more
/// than this takes). Deeper frames are not cleared.
#[inline(never)]
pub(crate) fn clear_stack_below() {
    let zeroes = [0u8; CLEARED_STACK];
    std::hint::black_box(&zeroes);
}

/// The callee-saved registers' values: a reference compiled code keeps
/// in one across the call into the runtime may be in no frame yet.
#[inline(never)]
fn spill_callee_saved() -> [u64; 12] {
    let mut regs = [0u64; 12];
    #[cfg(target_arch = "x86_64")]
    // SAFETY: only stores to `regs`, which holds twelve words.
    unsafe {
        std::arch::asm!(
            "mov [{0}], rbx",
            "mov [{0} + 8], rbp",
            "mov [{0} + 16], r12",
            "mov [{0} + 24], r13",
            "mov [{0} + 32], r14",
            "mov [{0} + 40], r15",
            in(reg) regs.as_mut_ptr(),
            options(nostack, preserves_flags),
        );
    }
    #[cfg(target_arch = "aarch64")]
    // SAFETY: only stores to `regs`, which holds twelve words.
    unsafe {
        std::arch::asm!(
            "stp x19, x20, [{0}]",
            "stp x21, x22, [{0}, #16]",
            "stp x23, x24, [{0}, #32]",
            "stp x25, x26, [{0}, #48]",
            "stp x27, x28, [{0}, #64]",
            "stp x29, x30, [{0}, #80]",
            in(reg) regs.as_mut_ptr(),
            options(nostack, preserves_flags),
        );
    }
    regs
}
