//! Entering Wasm and getting out again: the per-thread jump buffer that a
//! trap unwinds to, and what the trap left behind.

use std::cell::{Cell, RefCell};

use walmart_jit::TrapKind;

use super::backtrace::Frame;

extern "C" {
    fn walmart_call_wasm(
        swap: extern "C" fn(*mut libc::c_void) -> *mut libc::c_void,
        trampoline: *const u8,
        vmctx: *mut u8,
        code: *const u8,
        values: *mut u128,
    ) -> libc::c_int;
    fn walmart_unwind(buf: *mut libc::c_void) -> !;
}

/// What the signal handler recorded about a trap.
#[derive(Debug, Clone)]
pub struct TrapState {
    pub kind: TrapKind,
    pub frames: Vec<Frame>,
    /// The address a memory access faulted at (`SIGSEGV`, `SIGBUS`): the
    /// tag monitor reports an access beyond a memory's end from it.
    pub fault: Option<usize>,
}

/// A host function's failure, carried across the Wasm frames it unwinds.
pub enum HostFailure {
    Error(crate::Error),
    Panic(Box<dyn std::any::Any + Send>),
}

thread_local! {
    static JMP_BUF: Cell<*mut libc::c_void> = const { Cell::new(std::ptr::null_mut()) };
    static TRAP: RefCell<Option<TrapState>> = const { RefCell::new(None) };
    static HOST_FAILURE: RefCell<Option<HostFailure>> = const { RefCell::new(None) };
}

thread_local! {
    static STACK_LOW: Cell<Option<usize>> = const { Cell::new(None) };
    /// The lowest usable address of the fiber this thread runs, while it
    /// runs one (0 otherwise): swapped in and out with the fiber.
    static FIBER_STACK_LOW: Cell<usize> = const { Cell::new(0) };
}

/// Publishes `low` as the lowest address of the stack this thread now
/// runs on (a fiber's; 0 for the thread's own), returning the one before.
#[inline(never)]
pub(crate) fn swap_fiber_stack_low(low: usize) -> usize {
    FIBER_STACK_LOW.with(|c| c.replace(low))
}

/// The lowest address of the stack the current code runs on: the
/// fiber's when on one, else the thread's.
#[inline(never)]
pub fn current_stack_low() -> Option<usize> {
    match FIBER_STACK_LOW.with(|c| c.get()) {
        0 => thread_stack_low(),
        low => Some(low),
    }
}

/// The lowest address of the current thread's stack, if the OS tells.
#[inline(never)]
pub fn thread_stack_low() -> Option<usize> {
    if let Some(low) = STACK_LOW.with(|s| s.get()) {
        return Some(low);
    }
    // SAFETY: pthread_getattr_np fills the attribute object for the calling
    // thread; it is destroyed after reading the stack bounds.
    let low = unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut addr: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let rc = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        if rc != 0 {
            return None;
        }
        addr as usize
    };
    STACK_LOW.with(|s| s.set(Some(low)));
    Some(low)
}

/// Whether this thread is inside a Wasm call (a jump buffer is published).
#[inline(never)]
pub fn in_wasm() -> bool {
    !JMP_BUF.with(|b| b.get()).is_null()
}

#[inline(never)]
pub(crate) fn record_trap(state: TrapState) {
    TRAP.with(|t| *t.borrow_mut() = Some(state));
}

/// Jumps back to the innermost `walmart_call_wasm` of this thread.
///
/// # Safety
/// A Wasm call must be active on this thread ([`in_wasm`]) and no frame
/// between here and it may own anything that needs dropping.
#[inline(never)]
pub(crate) unsafe fn unwind() -> ! {
    let buf = JMP_BUF.with(|b| b.get());
    // SAFETY: per the contract, buf is a live jump buffer.
    unsafe { walmart_unwind(buf) }
}

/// Keeps a host function's failure until the trap it causes reaches the
/// embedder.
#[inline(never)]
pub(crate) fn set_host_failure(failure: HostFailure) {
    HOST_FAILURE.with(|h| *h.borrow_mut() = Some(failure));
}

/// Why a Wasm call did not return normally.
pub enum CallFailure {
    Trap(TrapState),
    Host(HostFailure, Vec<Frame>),
}

/// Calls `code` (Wasm convention) through the entry `trampoline` with the
/// values array, catching traps.
///
/// # Safety
/// `trampoline` must be the entry trampoline for `code`'s signature, and
/// `values` must have room for its parameters and results.
pub unsafe fn call_wasm(
    trampoline: *const u8,
    vmctx: *mut u8,
    code: *const u8,
    values: *mut u128,
) -> Result<(), CallFailure> {
    super::signals::install();
    super::signals::ensure_alt_stack();
    // SAFETY: the arguments per the contract.
    let ok = unsafe { walmart_call_wasm(swap_jmp_buf, trampoline, vmctx, code, values) };
    if ok != 0 {
        return Ok(());
    }
    take_failure()
}

/// Publishes `buf` as this thread's innermost jump buffer, returning the
/// one before.
///
/// Not inlined, as every reader of this module's thread-locals after Wasm
/// ran: Wasm on an asynchronous call's fiber may suspend on one thread and
/// resume on another, and a thread-local's address computed before the
/// call must not be reused after it.
#[inline(never)]
pub(crate) extern "C" fn swap_jmp_buf(buf: *mut libc::c_void) -> *mut libc::c_void {
    JMP_BUF.with(|b| b.replace(buf))
}

/// What the trap that just unwound to `walmart_call_wasm` left (see
/// [`swap_jmp_buf`] for why it is not inlined).
#[inline(never)]
fn take_failure() -> Result<(), CallFailure> {
    let trap = TRAP
        .with(|t| t.borrow_mut().take())
        .expect("a trap unwound without recording its state");
    if trap.kind == TrapKind::HostError {
        if let Some(failure) = HOST_FAILURE.with(|h| h.borrow_mut().take()) {
            return Err(CallFailure::Host(failure, trap.frames));
        }
    }
    Err(CallFailure::Trap(trap))
}
