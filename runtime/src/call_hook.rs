//! A store's call hook (wasmtime's `Store::call_hook`): the embedder's
//! function run at every crossing between the host and Wasm, to time or
//! account for each side, or to refuse a crossing.

use std::panic::{self, AssertUnwindSafe};

use crate::error::Result;
use crate::store::{Store, StoreInner, StoreOpaque};

/// Which crossing a call hook is told of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallHook {
    /// The host calls a function (`Func::call`, `TypedFunc::call`, a start
    /// function): Wasm is about to run.
    CallingWasm,
    /// That call returned or failed: the host runs again.
    ReturningFromWasm,
    /// Wasm calls a host function, which is about to run.
    CallingHost,
    /// The host function returned or failed: Wasm runs again.
    ReturningFromHost,
}

impl CallHook {
    /// Whether the crossing enters host code.
    pub fn entering_host(self) -> bool {
        matches!(self, CallHook::ReturningFromWasm | CallHook::CallingHost)
    }

    /// Whether the crossing leaves host code.
    pub fn exiting_host(self) -> bool {
        !self.entering_host()
    }
}

/// A call hook that answers with a future (wasmtime's
/// `CallHookHandler`; implement it with `#[async_trait::async_trait]`),
/// set with [`crate::Store::call_hook_async`]: at each crossing the
/// asynchronous call waits on it. Crossings in synchronous calls fail,
/// naming it.
#[async_trait::async_trait]
pub trait CallHookHandler<T: Send>: Send {
    /// Decides about crossing `kind`, as [`StoreInner::call_hook`]'s hook.
    async fn handle_call_event(&self, store: &mut StoreInner<T>, kind: CallHook) -> Result<()>;
}

/// A store's hook with its host data's type erased.
pub(crate) type CallHookFn = Box<dyn FnMut(&mut StoreOpaque, CallHook) -> Result<()> + Send + Sync>;

impl<T> StoreInner<T> {
    /// Runs `hook` at every crossing between the host and Wasm, replacing
    /// any other. An error from it at [`CallHook::CallingWasm`] fails the
    /// call before Wasm runs; at [`CallHook::CallingHost`] the host
    /// function does not run and Wasm traps with the error, as it would
    /// with the function's own; at the two returns it fails the call that
    /// returned (a call that failed already keeps its own error).
    ///
    /// The hook is host code: it changes guest memory through
    /// [`crate::Memory`]'s API. Around walmart's own WASI functions,
    /// whose writes are tracked, memory is not write-protected, so a write
    /// through a raw pointer there is not reported as tampering, as it is
    /// around other host functions and between calls.
    pub fn call_hook(
        &mut self,
        mut hook: impl FnMut(&mut StoreInner<T>, CallHook) -> Result<()> + Send + Sync + 'static,
    ) {
        self.opaque.call_hook = Some(Box::new(move |opaque: &mut StoreOpaque, kind| {
            // SAFETY: installed in this store of host data `T`, and only
            // ever called with it.
            hook(unsafe { opaque.inner_mut::<T>() }, kind)
        }));
        self.opaque.host_call_steps = true;
    }

    /// Waits on `handler` at every crossing between the host and Wasm
    /// (wasmtime's `call_hook_async`), replacing any other hook; the
    /// answers are [`Self::call_hook`]'s. The crossings must be in
    /// asynchronous calls ([`crate::Func::call_async`]).
    pub fn call_hook_async(&mut self, handler: impl CallHookHandler<T> + Sync + 'static)
    where
        T: Send,
    {
        self.opaque.call_hook = Some(Box::new(move |opaque: &mut StoreOpaque, kind| {
            let acx = crate::fiber::fiber_to_wait_on(
                opaque,
                &format!(
                    "an asynchronous call hook (Store::call_hook_async), asked about {kind:?},"
                ),
            )?;
            // SAFETY: installed in this store of host data `T`, and only
            // ever called with it.
            let store = unsafe { opaque.inner_mut::<T>() };
            let mut future = handler.handle_call_event(store, kind);
            // SAFETY: the store publishes the fiber this code runs on; the
            // crossing's frames are the runtime's.
            unsafe { crate::fiber::wait_in_host_call(acx, future.as_mut()) }?
        }));
        self.opaque.host_call_steps = true;
    }

    /// Removes the call hook (not from within the hook itself, which
    /// may replace itself with [`Self::call_hook`] instead).
    pub fn remove_call_hook(&mut self) {
        self.opaque.call_hook = None;
        self.opaque.host_call_steps = self.opaque.attest.is_some();
    }
}

impl<T> Store<T> {
    /// Runs `hook` at every crossing between the host and Wasm
    /// ([`StoreInner::call_hook`]).
    pub fn call_hook(
        &mut self,
        hook: impl FnMut(&mut StoreInner<T>, CallHook) -> Result<()> + Send + Sync + 'static,
    ) {
        self.inner.call_hook(hook)
    }

    /// Waits on `handler` at every crossing between the host and Wasm
    /// ([`StoreInner::call_hook_async`]).
    pub fn call_hook_async(&mut self, handler: impl CallHookHandler<T> + Sync + 'static)
    where
        T: Send,
    {
        self.inner.call_hook_async(handler)
    }

    /// Removes the call hook ([`StoreInner::remove_call_hook`]).
    pub fn remove_call_hook(&mut self) {
        self.inner.remove_call_hook()
    }
}

impl StoreOpaque {
    /// Tells the store's call hook, if any, of crossing `kind`. A panic in
    /// it unwinds as the host's own would (callers run it where a host
    /// function's panic is caught).
    #[inline]
    pub(crate) fn run_call_hook(&mut self, kind: CallHook) -> Result<()> {
        if self.call_hook.is_none() {
            // Every call from the host asks, twice: no call, no result
            // moved, when there is no hook.
            return Ok(());
        }
        self.call_hook_now(kind)
    }

    /// [`StoreOpaque::run_call_hook`] with a hook.
    #[inline(never)]
    fn call_hook_now(&mut self, kind: CallHook) -> Result<()> {
        let Some(mut hook) = self.call_hook.take() else {
            return Ok(());
        };
        let fiber = self.async_cx;
        let result = {
            let _no_suspend = crate::fiber::NoSuspend::new(fiber);
            panic::catch_unwind(AssertUnwindSafe(|| hook(self, kind)))
        };
        // Unless it put another in its place (one that removes itself
        // stays: the hook is out of its place while it runs), and after a
        // panic too.
        if self.call_hook.is_none() {
            self.call_hook = Some(hook);
            self.host_call_steps = true;
        }
        let result = result.unwrap_or_else(|payload| panic::resume_unwind(payload));
        crate::fiber::still_on(self, fiber)?;
        result
    }
}
