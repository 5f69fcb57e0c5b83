//! Asynchronous host functions (wasmtime's `func_wrap_async`,
//! `func_new_async`): the closure returns a future, which the host call
//! polls from the fiber of the asynchronous call that reached it
//! (`crate::fiber`), suspending the call while the future is pending.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::func::{val_host, Caller, HostFn};
use crate::typed_func::WasmList;
use crate::types::FuncType;
use crate::values::Val;
use crate::wrap::WasmResults;

/// A host function's future, borrowing its caller.
pub type HostFuture<'a, R> = Box<dyn Future<Output = R> + Send + 'a>;

/// The fiber the calling Wasm runs on, or the error of a call that has
/// none (a synchronous call reached an asynchronous host function).
pub(crate) fn fiber_of<T>(caller: &mut Caller<'_, T>) -> Result<*mut crate::fiber::AsyncCx> {
    crate::fiber::check_not_leaked(caller.opaque())?;
    let acx = caller.opaque().async_cx;
    if acx.is_null() && !caller.opaque().engine.config().async_support {
        return Err(Error::Usage(
            "an asynchronous host function was called in an engine without \
             Config::async_support(true)"
                .into(),
        ));
    }
    if acx.is_null() {
        return Err(Error::Usage(
            "an asynchronous host function was called from a synchronous call: call Wasm with \
             `call_async` or instantiate with `instantiate_async`"
                .into(),
        ));
    }
    Ok(acx)
}

/// A host function from a closure that takes its Wasm parameters as a
/// tuple and returns a future of its results.
pub(crate) fn typed<T, P, R, F>(func: F) -> (FuncType, Arc<HostFn<T>>)
where
    T: 'static,
    P: WasmList + 'static,
    R: WasmResults + 'static,
    F: for<'a> Fn(Caller<'a, T>, P) -> HostFuture<'a, R> + Send + Sync + 'static,
{
    let ty = FuncType::new(P::valtypes(), R::valtypes());
    let host = move |mut caller: Caller<'_, T>, slots: &mut [u128]| {
        let acx = fiber_of(&mut caller)?;
        let params = P::from_raws(caller.opaque(), slots);
        let out = {
            let future = func(caller.reborrow(), params);
            // SAFETY: the store publishes the fiber this host call runs
            // on for as long as the call runs; the frames between are the
            // runtime's.
            unsafe { crate::fiber::wait_in_host_call(acx, Pin::from(future).as_mut()) }
        };
        out?.into_raws(caller.opaque(), slots)
    };
    (ty, Arc::new(host))
}

/// A host function of type `ty` over [`Val`]s whose closure returns a
/// future.
pub(crate) fn untyped<T, F>(ty: FuncType, func: F) -> Arc<HostFn<T>>
where
    T: 'static,
    F: for<'a> Fn(Caller<'a, T>, &'a [Val], &'a mut [Val]) -> HostFuture<'a, Result<()>>
        + Send
        + Sync
        + 'static,
{
    val_host(ty, move |mut caller: Caller<'_, T>, params, results| {
        let acx = fiber_of(&mut caller)?;
        let out = {
            let future = func(caller.reborrow(), params, results);
            // SAFETY: as in `typed`.
            unsafe { crate::fiber::wait_in_host_call(acx, Pin::from(future).as_mut()) }
        };
        out?
    })
}
