//! Asynchronous calls: Wasm run on a stack of its own (a fiber), so that a
//! host function may wait on a future, or Wasm may yield at an epoch
//! deadline, by suspending the whole Wasm call and returning `Pending` to
//! the executor ([`crate::Config::async_support`]).
//!
//! A [`FiberFuture`] owns the fiber. Each poll switches to it on the
//! polling thread; the code on the fiber finds the poll's [`Context`]
//! through the store's [`AsyncCx`]. A poll may come from another thread
//! than the last one (multi-threaded executors move tasks), so the trap
//! handler's per-thread state travels with the fiber: the innermost jump
//! buffer is swapped in when the fiber resumes and out when it suspends,
//! and code that reads thread-locals after Wasm ran does so through
//! functions that are not inlined (`vm::traphandlers::swap_jmp_buf`).
//!
//! Dropping a future whose call is suspended cancels the call: the fiber
//! is resumed once more, the suspension point fails with
//! an error ([`cancelled`]), and the Wasm frames unwind as for any host error,
//! so nothing on the fiber is left half done and no Rust unwinding ever
//! crosses generated code.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use corosensei::stack::{DefaultStack, Stack};
use corosensei::{Coroutine, CoroutineResult, Yielder};

use crate::error::{Error, Result};
use crate::store::StoreInner;
use crate::vm::{signals, traphandlers};
use crate::Engine;

/// The error a cancelled call's suspension point fails with.
pub(crate) fn cancelled() -> Error {
    Error::Usage("the asynchronous call was cancelled (its future was dropped)".into())
}

/// What the poller hands the fiber when it resumes it.
pub(crate) struct Resume {
    /// The poll's context, valid until the fiber suspends again; null
    /// when the future was dropped: fail at the suspension point.
    cx: *mut Context<'static>,
    /// The resuming code's stack pointer: the frames of an outer call
    /// that made this one (an asynchronous host function's poll) lie
    /// above it, and the collector scans them from there.
    parent_sp: usize,
}

/// The fiber's side of an asynchronous call, reachable from the store
/// (`StoreOpaque::async_cx`) while the call runs.
pub(crate) struct AsyncCx {
    yielder: *const Yielder<Resume, ()>,
    /// The context of the poll that last resumed the fiber.
    cx: *mut Context<'static>,
    /// Set once the future is dropped: every later suspension fails at
    /// once instead of suspending.
    cancelled: bool,
    /// The fiber's stack: its lowest usable address and its top.
    stack: (usize, usize),
    /// Where the code that last resumed the fiber had its stack
    /// ([`Resume::parent_sp`]).
    pub(crate) parent_sp: usize,
    /// For a call nested in another of its store: the outer call's
    /// stack bounds, which every resumption must come from (the
    /// collector scans the outer frames from `parent_sp`).
    outer: Option<(usize, usize)>,
    /// Host code that may not be suspended is running on the fiber (a
    /// synchronous host function, a callback, a future's poll): its
    /// frames could hold what cannot move to another thread, and a
    /// poll's context must not be reused after it returns.
    pub(crate) no_suspend: u32,
}

/// Forbids suspending the fiber while it lives (see
/// [`AsyncCx::no_suspend`]): made around host code with the store's
/// published fiber (null: none, nothing to forbid).
pub(crate) struct NoSuspend(*mut AsyncCx);

impl NoSuspend {
    pub(crate) fn new(acx: *mut AsyncCx) -> NoSuspend {
        if !acx.is_null() {
            // SAFETY: a published fiber's context, alive while it runs,
            // which it does while host code on it runs.
            unsafe { (*acx).no_suspend += 1 };
        }
        NoSuspend(acx)
    }
}

impl Drop for NoSuspend {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: as in `new`.
            unsafe { (*self.0).no_suspend -= 1 };
        }
    }
}

/// Lets the runtime's own wait inside a host call suspend the fiber
/// ([`wait_in_host_call`]): its frames (the runtime's) may move threads.
/// Restores the count however the wait ends.
struct AllowSuspend(*mut AsyncCx, u32);

impl AllowSuspend {
    /// # Safety
    /// `acx` must be the live context of the fiber the caller runs on.
    unsafe fn new(acx: *mut AsyncCx) -> AllowSuspend {
        // SAFETY: per the contract.
        let saved = unsafe { std::mem::replace(&mut (*acx).no_suspend, 0) };
        AllowSuspend(acx, saved)
    }
}

impl Drop for AllowSuspend {
    fn drop(&mut self) {
        // SAFETY: as in `new`.
        unsafe { (*self.0).no_suspend = self.1 };
    }
}

/// Waits on `future` from the runtime's frames of a host call (an
/// asynchronous host function's future, an asynchronous call hook, a WASI
/// sleep): the fiber may suspend while it waits, though host code
/// counted as such ([`NoSuspend`]) called this.
///
/// # Safety
/// `acx` must be the live context of the fiber the caller runs on, and
/// only the runtime's frames may lie between the host code's and this.
pub(crate) unsafe fn wait_in_host_call<F: Future + ?Sized>(
    acx: *mut AsyncCx,
    future: Pin<&mut F>,
) -> Result<F::Output> {
    // SAFETY: per the contract.
    let _allow = unsafe { AllowSuspend::new(acx) };
    // SAFETY: per the contract.
    unsafe { block_on(acx, future) }
}

/// The fiber a wait of `what` (a yield, an asynchronous limiter or call
/// hook) may suspend: the store's asynchronous call's. An error in a
/// synchronous call, in a store that leaked a call, and in an attested
/// store, which never suspends Wasm (its memory is writable in the
/// middle of Wasm and around trusted host functions).
pub(crate) fn fiber_to_wait_on(
    store: &crate::store::StoreOpaque,
    what: &str,
) -> Result<*mut AsyncCx> {
    check_not_leaked(store)?;
    if store.attest.is_some() {
        return Err(Error::Usage(format!(
            "{what} cannot wait in an attested store: Wasm would be suspended with its memory \
             writable"
        )));
    }
    if store.async_cx.is_null() {
        return Err(Error::Usage(format!(
            "{what} was reached in a synchronous call: use the `_async` form of the call \
             (`call_async`, `instantiate_async`, `Memory::grow_async`, ...)"
        )));
    }
    Ok(store.async_cx)
}

impl AsyncCx {
    /// Fails (for good) if this nested call was resumed from another
    /// stack than its outer call's.
    fn check_resumed_in_place(&mut self) -> Result<()> {
        match self.outer {
            Some((low, high)) if !(low..high).contains(&self.parent_sp) => {
                self.cancelled = true;
                Err(Error::Usage(
                    "a nested asynchronous call was resumed from another stack (another thread) \
                     than the call it nests in"
                        .into(),
                ))
            }
            _ => Ok(()),
        }
    }
}

/// Fails if the store's asynchronous call was leaked (its future
/// forgotten, never dropped): the store is marked in a call that can
/// never finish, and is unusable. Otherwise (no call, or code on the
/// call's own fiber) fine.
pub(crate) fn check_not_leaked(store: &crate::store::StoreOpaque) -> Result<()> {
    if store.poisoned || is_leaked(store) {
        return Err(Error::Usage(
            "the store's asynchronous call was leaked (its future forgotten, not dropped): the \
             store cannot be used again"
                .into(),
        ));
    }
    Ok(())
}

/// Fails, and poisons the store, if host code (a host function, a hook)
/// left another fiber published than `fiber`, the one it was called on:
/// it leaked (forgot) a nested asynchronous call mid-way, whose call
/// state (depth, stack bounds, roots) the store can no longer restore.
pub(crate) fn still_on(store: &mut crate::store::StoreOpaque, fiber: *mut AsyncCx) -> Result<()> {
    if store.async_cx == fiber {
        return Ok(());
    }
    store.poisoned = true;
    Err(Error::Usage(
        "host code leaked (forgot) a nested asynchronous call: the store cannot be used again"
            .into(),
    ))
}

/// Whether the store's asynchronous call is one this code does not run
/// in: a leaked one ([`check_not_leaked`]).
pub(crate) fn is_leaked(store: &crate::store::StoreOpaque) -> bool {
    if store.async_cx.is_null() {
        return false;
    }
    // SAFETY: an `AsyncCx` lives on its fiber's stack, which a leaked
    // fiber never gives back, and a live one keeps until it unpublishes.
    let (low, high) = unsafe { (*store.async_cx).stack };
    let sp = crate::func::approximate_sp();
    !(low..high).contains(&sp)
}

impl AsyncCx {
    /// Suspends the fiber (the poll returns `Pending`) until the executor
    /// polls the future again.
    ///
    /// Not inlined: the code after it may run on another thread, and must
    /// compute thread-local addresses afresh.
    #[inline(never)]
    fn suspend(&mut self) -> Result<()> {
        if self.cancelled {
            return Err(cancelled());
        }
        if self.no_suspend > 0 {
            return Err(Error::Usage(
                "an asynchronous call cannot suspend inside host code (a synchronous host \
                 function, a callback, or an asynchronous host function's future): use the \
                 `_async` form of the call there (`Memory::grow_async`, `call_async`, ...)"
                    .into(),
            ));
        }
        // SAFETY: the yielder belongs to the fiber this code runs on, which
        // is alive while its code runs.
        let resume = unsafe { (*self.yielder).suspend(()) };
        self.parent_sp = resume.parent_sp;
        if resume.cx.is_null() {
            self.cancelled = true;
            return Err(cancelled());
        }
        self.cx = resume.cx;
        self.check_resumed_in_place()
    }
}

/// Polls `future` to completion from the fiber `acx` runs on, suspending
/// the fiber (and so the whole Wasm call) each time it is pending.
///
/// # Safety
/// `acx` must be the live context of the fiber the caller runs on.
pub(crate) unsafe fn block_on<F: Future + ?Sized>(
    acx: *mut AsyncCx,
    mut future: Pin<&mut F>,
) -> Result<F::Output> {
    loop {
        // SAFETY: per the contract; the context is the current poll's,
        // valid until the next suspension.
        let acx = unsafe { &mut *acx };
        if acx.cancelled {
            return Err(cancelled());
        }
        if acx.no_suspend > 0 {
            // Inside host code that may not suspend (another future's
            // poll, whose context is not to be shared): one poll, with a
            // waker of its own; pending is the error `suspend` gives.
            let mut cx = Context::from_waker(std::task::Waker::noop());
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return Ok(out);
            }
            acx.suspend()?;
            continue;
        }
        // SAFETY: set by the poll that resumed the fiber, which is still
        // running (it waits for the fiber to suspend or finish).
        let cx = unsafe { &mut *acx.cx };
        let polled = {
            // The future's own poll may not suspend the fiber.
            acx.no_suspend += 1;
            let polled =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| future.as_mut().poll(cx)));
            acx.no_suspend -= 1;
            polled.unwrap_or_else(|payload| std::panic::resume_unwind(payload))
        };
        if let Poll::Ready(out) = polled {
            return Ok(out);
        }
        acx.suspend()?;
    }
}

/// Lets the executor run other tasks: wakes this task and suspends once.
///
/// # Safety
/// As [`block_on`].
pub(crate) unsafe fn yield_now(acx: *mut AsyncCx) -> Result<()> {
    // SAFETY: per the contract.
    let acx = unsafe { &mut *acx };
    if acx.cancelled {
        return Err(cancelled());
    }
    // SAFETY: as in `block_on`.
    unsafe { (*acx.cx).waker().wake_by_ref() };
    acx.suspend()
}

/// The stacks fibers run on, kept by the engine for the next call (making
/// one is two system calls and a fault per page touched).
#[derive(Default)]
pub(crate) struct StackPool {
    free: std::sync::Mutex<Vec<DefaultStack>>,
}

/// The smallest stack an asynchronous call may have: what invoke keeps
/// below Wasm's limit for host functions and the trap handler, twice.
pub(crate) const MIN_STACK: usize = 256 * 1024;

/// Stacks an engine keeps for reuse.
const POOLED_STACKS: usize = 16;

impl StackPool {
    fn take(&self, size: usize) -> Result<DefaultStack> {
        let reused = self.free.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match reused {
            Some(stack) => Ok(stack),
            None => DefaultStack::new(size).map_err(|e| {
                Error::Usage(format!(
                    "cannot map a {size}-byte stack for an asynchronous call: {e}"
                ))
            }),
        }
    }

    fn give_back(&self, stack: DefaultStack) {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if free.len() < POOLED_STACKS {
            free.push(stack);
        }
    }
}

/// The body a fiber runs: the store's call, with the store reached through
/// a raw pointer the future's borrow keeps valid.
type Body<'a, R> = Box<dyn FnOnce(*mut AsyncCx) -> R + Send + 'a>;

/// An asynchronous call in progress: a fiber running `body`, polled by the
/// executor. Borrows what the call borrows (the store, the arguments).
pub(crate) struct FiberFuture<'a, R> {
    engine: Engine,
    coroutine: Option<Coroutine<Resume, (), R, DefaultStack>>,
    /// This call's innermost jump buffer while the fiber is suspended.
    jmp_buf: *mut libc::c_void,
    /// The fiber stack's lowest usable address, published to the thread
    /// that runs it (stack limits of calls made on it).
    stack_low: usize,
    _borrow: PhantomData<&'a mut ()>,
}

// SAFETY: the fiber's stack holds only the call's frames (generated code,
// the runtime's, and host functions', whose futures are `Send`), and the
// body is `Send`; per-thread state the frames rely on is swapped in on the
// thread that resumes it (see the module's documentation).
unsafe impl<R: Send> Send for FiberFuture<'_, R> {}

impl<'a, R: 'a> FiberFuture<'a, R> {
    /// A fiber that runs `body` once polled; `body` receives the fiber's
    /// [`AsyncCx`] and must publish it in the store for its duration.
    pub(crate) fn new(engine: &Engine, body: Body<'a, R>) -> Result<FiberFuture<'a, R>> {
        let config = engine.config();
        if !config.async_support {
            return Err(Error::Usage(
                "asynchronous calls need an engine with Config::async_support(true)".into(),
            ));
        }
        let stack = engine.fiber_stacks().take(config.async_stack_size)?;
        let bounds = (stack.limit().get(), stack.base().get());
        let run = move |yielder: &Yielder<Resume, ()>, first: Resume| {
            // (A fiber is only cancelled once it has started: `cx` is set.)
            let mut acx = AsyncCx {
                yielder,
                cx: first.cx,
                cancelled: false,
                stack: bounds,
                parent_sp: first.parent_sp,
                outer: None,
                no_suspend: 0,
            };
            body(&mut acx)
        };
        // SAFETY: what `run` borrows lives for 'a, and the future (which
        // the borrow checker holds to 'a) finishes or cancels the fiber
        // before it is dropped (`Drop`).
        let coroutine = unsafe { Coroutine::with_stack_unchecked(stack, run) };
        Ok(FiberFuture {
            engine: engine.clone(),
            coroutine: Some(coroutine),
            jmp_buf: std::ptr::null_mut(),
            stack_low: bounds.0,
            _borrow: PhantomData,
        })
    }
}

impl<R> FiberFuture<'_, R> {
    /// Resumes the fiber on this thread with the thread's trap state
    /// swapped for the call's, and swapped back however the fiber stops.
    fn resume(&mut self, cx: *mut Context<'static>) -> Option<CoroutineResult<(), R>> {
        let coroutine = self.coroutine.as_mut()?;
        signals::install();
        signals::ensure_alt_stack();
        struct Restore<'b> {
            outer: *mut libc::c_void,
            outer_low: usize,
            saved: &'b mut *mut libc::c_void,
        }
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                *self.saved = traphandlers::swap_jmp_buf(self.outer);
                traphandlers::swap_fiber_stack_low(self.outer_low);
            }
        }
        let _restore = Restore {
            outer: traphandlers::swap_jmp_buf(self.jmp_buf),
            outer_low: traphandlers::swap_fiber_stack_low(self.stack_low),
            saved: &mut self.jmp_buf,
        };
        let parent_sp = crate::func::approximate_sp();
        Some(coroutine.resume(Resume { cx, parent_sp }))
    }

    /// The fiber finished: its stack goes back to the engine.
    fn finish(&mut self) {
        if let Some(coroutine) = self.coroutine.take() {
            if coroutine.done() {
                self.engine.fiber_stacks().give_back(coroutine.into_stack());
            }
        }
    }
}

impl<R> Future for FiberFuture<'_, R> {
    type Output = R;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<R> {
        // SAFETY: nothing here is structurally pinned (the fiber's stack
        // is its own allocation).
        let this = unsafe { self.get_unchecked_mut() };
        // The lifetime is erased: the fiber uses it only until it suspends.
        let cx: *mut Context<'static> = (cx as *mut Context<'_>).cast();
        match this.resume(cx) {
            Some(CoroutineResult::Yield(())) => Poll::Pending,
            Some(CoroutineResult::Return(out)) => {
                this.finish();
                Poll::Ready(out)
            }
            None => panic!("an asynchronous call polled after it finished"),
        }
    }
}

impl<R> Drop for FiberFuture<'_, R> {
    fn drop(&mut self) {
        let Some(coroutine) = &self.coroutine else {
            return;
        };
        if coroutine.started() && !coroutine.done() {
            // Cancelled while suspended: every further suspension fails,
            // so the call unwinds and returns (its result is dropped). A
            // panic of the call's (a host function's, a hook's) is not
            // let out of a drop, which may run during unwinding.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                while let Some(CoroutineResult::Yield(())) = self.resume(std::ptr::null_mut()) {}
            }));
        }
        if self
            .coroutine
            .as_ref()
            .is_some_and(|c| c.started() && !c.done())
        {
            // Still suspended (it could not be resumed): corosensei's drop
            // would unwind it with a panic through generated code, which
            // cannot be unwound. Its stack is leaked instead.
            std::mem::forget(self.coroutine.take());
        }
        self.finish();
    }
}

/// A raw pointer the fiber's body may carry to another thread: the store
/// it points to is borrowed by the future for as long as the body runs.
struct StorePtr<T>(*mut StoreInner<T>);

// SAFETY: the pointee is a `StoreInner<T>` with `T: Send` (bounded where
// it is made), exclusively borrowed by the future that owns the body.
unsafe impl<T: Send> Send for StorePtr<T> {}

/// Runs `f` with `store` on a fiber of its own, as an asynchronous call:
/// the future is pending whenever a host future or an epoch yield on the
/// fiber is. Inside a call of the same store (an asynchronous host
/// function's future calling back into Wasm) the new fiber nests in it:
/// the collector then scans the outer call's frames too
/// (`StoreOpaque::gc_outer_stacks`).
pub(crate) async fn on_fiber<T: Send, R: Send>(
    store: &mut StoreInner<T>,
    f: impl FnOnce(&mut StoreInner<T>) -> Result<R> + Send,
) -> Result<R> {
    check_not_leaked(&store.opaque)?;
    let engine = store.opaque.engine.clone();
    let ptr = StorePtr(store as *mut StoreInner<T>);
    let body: Body<'_, Result<R>> = Box::new(move |acx| {
        let ptr = ptr;
        /// Unpublishes the fiber however the call ends: the outer call's
        /// (if this one nests in one) is the store's again.
        struct Unpublish<T> {
            store: *mut StoreInner<T>,
            outer: (*mut AsyncCx, bool, usize),
            nested: bool,
        }
        impl<T> Drop for Unpublish<T> {
            fn drop(&mut self) {
                // SAFETY: as below.
                let store = unsafe { &mut (*self.store).opaque };
                (store.async_cx, store.fiber_entry) = (self.outer.0, self.outer.1);
                if self.nested {
                    store.gc_stack_top = self.outer.2;
                    store.gc_outer_stacks.pop();
                }
            }
        }
        // SAFETY: the future borrows the store for as long as the body
        // runs, and nothing else reaches it meanwhile.
        let store = unsafe { &mut *ptr.0 };
        let opaque = &mut store.opaque;
        let outer = (opaque.async_cx, opaque.fiber_entry, opaque.gc_stack_top);
        // Inside a call of the store (an asynchronous host function's
        // future calling back): the outer call's frames stay roots, from
        // where it resumes this fiber, for the fiber's whole run (call
        // hooks and instantiation may collect before Wasm is entered).
        let nested = opaque.wasm_depth > 0;
        if nested {
            // SAFETY: the fiber's context, alive while its body runs.
            let cx = unsafe { &mut *acx };
            cx.outer = Some((opaque.gc_stack_low, opaque.gc_stack_top));
            cx.check_resumed_in_place()?;
        }
        let frame_marker = 0u8;
        opaque.async_cx = acx;
        opaque.fiber_entry = true;
        if nested {
            let (low, top) = (opaque.gc_stack_low, opaque.gc_stack_top);
            opaque.gc_outer_stacks.push((acx, low, top));
            opaque.gc_stack_top = std::hint::black_box(&frame_marker) as *const u8 as usize;
        }
        let _unpublish = Unpublish {
            store: ptr.0,
            outer,
            nested,
        };
        f(store)
    });
    FiberFuture::new(&engine, body)?.await
}
