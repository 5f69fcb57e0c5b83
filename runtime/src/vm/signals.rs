//! The trap handler: SIGSEGV, SIGBUS, SIGILL and SIGFPE raised by generated
//! code become Wasm traps; any other fault goes to the handler that was
//! installed before walmart's.

use std::cell::Cell;
use std::sync::Once;

use super::backtrace;
use super::traphandlers::{self, TrapState};

const SIGNALS: [libc::c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

static mut PREVIOUS: [std::mem::MaybeUninit<libc::sigaction>; 4] =
    [std::mem::MaybeUninit::uninit(); 4];

/// Installs the handlers once per process.
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for (i, sig) in SIGNALS.iter().enumerate() {
            // SAFETY: sigaction with a zeroed struct, our handler and a
            // full mask; PREVIOUS is written once, here, before any use.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = handler as *const () as usize;
                // NODEFER: the handler leaves by longjmp, and the signal
                // must not stay blocked for the next trap on this thread.
                action.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                let prev = std::ptr::addr_of_mut!(PREVIOUS[i]);
                if libc::sigaction(*sig, &action, (*prev).as_mut_ptr()) != 0 {
                    panic!("walmart: cannot install the handler for signal {sig}");
                }
            }
        }
    });
}

thread_local! {
    static ALT_STACK: Cell<bool> = const { Cell::new(false) };
}

const ALT_STACK_SIZE: usize = 256 * 1024;

/// A thread's alternate signal stack, given back as the thread ends
/// (`drop` switches it off before the memory goes).
struct AltStack {
    _memory: Box<[u8]>,
}

impl Drop for AltStack {
    fn drop(&mut self) {
        let off = libc::stack_t {
            ss_sp: std::ptr::null_mut(),
            ss_flags: libc::SS_DISABLE,
            ss_size: 0,
        };
        // SAFETY: switching this thread's alternate stack off before its
        // memory goes.
        let off = unsafe { libc::sigaltstack(&off, std::ptr::null_mut()) } == 0;
        if !off {
            // A handler is running on it (EPERM): it stays, memory and all.
            std::mem::forget(std::mem::take(&mut self._memory));
        }
        // Wasm a later thread-local destructor runs sets one up again.
        ALT_STACK.with(|c| c.set(false));
    }
}

thread_local! {
    static OWNED_ALT_STACK: std::cell::RefCell<Option<AltStack>> =
        const { std::cell::RefCell::new(None) };
}

/// Gives the current thread an alternate signal stack, so a fault on a
/// exhausted stack can still be handled. Done once per thread; the stack
/// is freed as the thread ends (threads that run Wasm come and go with
/// wasi-threads).
#[inline(never)]
pub fn ensure_alt_stack() {
    if ALT_STACK.with(|c| c.get()) {
        return;
    }
    ALT_STACK.with(|c| c.set(true));
    // SAFETY: querying the current alternate stack has no preconditions.
    unsafe {
        let mut old: libc::stack_t = std::mem::zeroed();
        if libc::sigaltstack(std::ptr::null(), &mut old) == 0
            && old.ss_flags & libc::SS_DISABLE == 0
            && old.ss_size >= ALT_STACK_SIZE
        {
            return;
        }
    }
    let mut mem = vec![0u8; ALT_STACK_SIZE].into_boxed_slice();
    let stack = libc::stack_t {
        ss_sp: mem.as_mut_ptr() as *mut libc::c_void,
        ss_flags: 0,
        ss_size: ALT_STACK_SIZE,
    };
    // SAFETY: the memory lives in this thread's `OWNED_ALT_STACK` until
    // the thread ends, and its drop switches the stack off first.
    unsafe {
        libc::sigaltstack(&stack, std::ptr::null_mut());
    }
    OWNED_ALT_STACK.with(|owned| *owned.borrow_mut() = Some(AltStack { _memory: mem }));
}

/// Reads the faulting PC and frame pointer from the signal context.
///
/// # Safety
/// `context` must be the `ucontext_t` the kernel passed to the handler.
unsafe fn pc_and_fp(context: *mut libc::c_void) -> (usize, usize) {
    let cx = context as *const libc::ucontext_t;
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: per the function contract.
        let gregs = unsafe { &(*cx).uc_mcontext.gregs };
        (
            gregs[libc::REG_RIP as usize] as usize,
            gregs[libc::REG_RBP as usize] as usize,
        )
    }
    #[cfg(target_arch = "aarch64")]
    {
        // SAFETY: per the function contract.
        let mc = unsafe { &(*cx).uc_mcontext };
        (mc.pc as usize, mc.regs[29] as usize)
    }
}

extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    // The address a memory access faulted at; none for a signal another
    // process sent (si_code <= 0), whose si_addr means nothing.
    // SAFETY: the kernel passes a valid siginfo for every signal handled.
    let sent = unsafe { (*info).si_code } <= 0;
    let fault = (!sent && (sig == libc::SIGSEGV || sig == libc::SIGBUS)).then(|| {
        // SAFETY: as above; si_addr is set for these signals.
        unsafe { (*info).si_addr() as usize }
    });
    // A write to an attested memory while it is write-protected: host
    // tampering, recorded; the page is made writable and the write retried.
    if sig == libc::SIGSEGV && fault.is_some_and(crate::attest::tamper::handle_fault) {
        return;
    }
    // SAFETY: the kernel passes a valid ucontext.
    let (pc, fp) = unsafe { pc_and_fp(context) };
    if traphandlers::in_wasm() {
        if let Some(kind) = walmart_jit::lookup_trap(pc) {
            let frames = backtrace::walk(pc, fp);
            traphandlers::record_trap(TrapState {
                kind,
                frames,
                fault,
            });
            // SAFETY: in_wasm() means a jump buffer of a live
            // walmart_call_wasm frame is published for this thread.
            unsafe { traphandlers::unwind() }
        }
    }
    // SAFETY: not ours: hand it to the previous disposition.
    unsafe { forward(sig, info, context) }
}

/// Delivers a signal walmart does not own to the handler installed before.
///
/// # Safety
/// Must be called from the signal handler with its arguments.
unsafe fn forward(sig: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    let i = SIGNALS.iter().position(|s| *s == sig).unwrap_or(0);
    // SAFETY: PREVIOUS was initialised by install() before the handler ran.
    let prev = unsafe { (*std::ptr::addr_of!(PREVIOUS[i])).assume_init_ref() };
    if prev.sa_flags & libc::SA_SIGINFO != 0 && prev.sa_sigaction > 1 {
        let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
            // SAFETY: an SA_SIGINFO handler has this signature.
            unsafe { std::mem::transmute(prev.sa_sigaction) };
        f(sig, info, context);
    } else if prev.sa_sigaction == libc::SIG_IGN {
        // Ignored before: ignore it still.
    } else if prev.sa_sigaction > 1 {
        // SAFETY: a plain handler takes the signal number.
        let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(prev.sa_sigaction) };
        f(sig);
    } else {
        // Default action: restore it and return, so the faulting
        // instruction runs again and the kernel applies the default
        // (a core dump for a host crash, as without walmart).
        // SAFETY: resetting a disposition to the default is always allowed.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}
