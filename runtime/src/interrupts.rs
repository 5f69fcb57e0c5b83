//! Stopping Wasm that runs too long: a store's fuel
//! ([`crate::Config::consume_fuel`]) and epoch deadline
//! ([`crate::Config::epoch_interruption`]). Generated code keeps both
//! (`walmart_jit::translate::interrupts`); this is the store's side.

use walmart_jit::vmctx;

use crate::error::{Error, Result};
use crate::store::{StoreInner, StoreOpaque};
use crate::vm::traphandlers::{self, HostFailure};

/// What a store's epoch-deadline callback decides
/// ([`crate::Store::epoch_deadline_callback`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateDeadline {
    /// Run on, with the deadline this many epochs past the current one.
    Continue(u64),
    /// Stop: the Wasm call traps with [`crate::TrapKind::Interrupt`].
    Interrupt,
    /// Suspend the asynchronous call this Wasm runs in (its future
    /// returns `Pending` with the task woken, so the executor runs other
    /// tasks first), then run on with the deadline this many epochs past
    /// the epoch it resumes at. A synchronous call fails with an error.
    Yield(u64),
}

/// A store's epoch-deadline callback, with the store's host data type
/// erased (it is handed the whole store).
pub(crate) type EpochCallback =
    Box<dyn FnMut(&mut StoreOpaque) -> Result<UpdateDeadline> + Send + Sync>;

impl<T> StoreInner<T> {
    /// The host data.
    pub fn data(&self) -> &T {
        &self.data
    }

    /// The host data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.data
    }

    /// The fuel left ([`crate::Config::consume_fuel`]). Wasm's count is
    /// written back before each call it makes, each return and each loop
    /// iteration, so a host function or callback reads what is left at
    /// that point; after a trap the operators of the trapping iteration
    /// or straight-line run may be left uncounted.
    pub fn get_fuel(&self) -> Result<u64> {
        fuel_enabled(&self.opaque)?;
        let (spent, reserve) = (self.opaque.limits.fuel_consumed, self.opaque.fuel_reserve);
        // A count past zero (Wasm ran on to its next check) is paid from
        // the reserve.
        Ok(if spent < 0 {
            spent.unsigned_abs().saturating_add(reserve)
        } else {
            reserve.saturating_sub(spent.unsigned_abs())
        })
    }

    /// Sets the fuel left to `fuel` units: Wasm may run about that many
    /// operators more (each costs one, but those that only shape control)
    /// before it traps with [`crate::TrapKind::OutOfFuel`], checked at
    /// function entries, loop headers and bulk operators. Values past `i64::MAX` are
    /// taken as `i64::MAX`.
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        fuel_enabled(&self.opaque)?;
        let store = &mut self.opaque;
        let fuel = fuel.min(i64::MAX as u64);
        let handed = fuel.min(store.fuel_yield_interval.unwrap_or(u64::MAX));
        store.fuel_reserve = fuel - handed;
        store.limits.fuel_consumed = -(handed as i64);
        Ok(())
    }

    /// Makes asynchronous calls yield every `interval` units of fuel
    /// (wasmtime's `fuel_async_yield_interval`; `None` stops it): Wasm is
    /// handed the fuel set an interval at a time, and each time an
    /// interval is spent and more is left, its asynchronous call
    /// suspends once (the executor runs other tasks) and goes on. The
    /// fuel set still bounds the run. A synchronous call that spends an
    /// interval fails, as it cannot yield.
    pub fn fuel_async_yield_interval(&mut self, interval: Option<u64>) -> Result<()> {
        fuel_enabled(&self.opaque)?;
        if interval == Some(0) {
            return Err(Error::Usage(
                "fuel_async_yield_interval needs an interval of at least one unit".into(),
            ));
        }
        if interval.is_some() && !self.opaque.engine.config().async_support {
            return Err(Error::Usage(
                "fuel_async_yield_interval needs an engine with Config::async_support(true)".into(),
            ));
        }
        let left = self.get_fuel()?;
        self.opaque.fuel_yield_interval = interval;
        self.set_fuel(left)
    }

    /// Sets the deadline `ticks` epochs past the engine's current one
    /// ([`crate::Engine::increment_epoch`]): Wasm stops at the first
    /// function entry, loop header or bulk operator that finds the epoch
    /// there.
    pub fn set_epoch_deadline(&mut self, ticks: u64) {
        self.opaque.set_epoch_deadline(ticks);
    }

    /// Wasm that reaches the deadline traps with
    /// [`crate::TrapKind::Interrupt`] (the default), the callback set by
    /// [`Self::epoch_deadline_callback`] dropped.
    pub fn epoch_deadline_trap(&mut self) {
        self.opaque.epoch_callback = None;
    }

    /// Wasm that reaches the deadline yields (wasmtime's
    /// `epoch_deadline_async_yield_and_update`): its asynchronous call
    /// suspends once, letting the executor run other tasks, and goes on
    /// with a deadline `delta` epochs past the epoch it resumes at. For
    /// Wasm called with [`crate::Func::call_async`]; a synchronous call
    /// that reaches the deadline fails.
    pub fn epoch_deadline_async_yield_and_update(&mut self, delta: u64) {
        self.epoch_deadline_callback(move |_| Ok(UpdateDeadline::Yield(delta)));
    }

    /// Wasm that reaches the deadline calls `callback` with the store,
    /// which decides: [`UpdateDeadline::Continue`] sets a later deadline
    /// and runs on, [`UpdateDeadline::Interrupt`] traps, and an error ends
    /// the Wasm call with that error. The callback runs in the guest's
    /// thread, between two of its instructions; it may read and change
    /// the store (its memories, fuel, data), as a host function may.
    pub fn epoch_deadline_callback(
        &mut self,
        mut callback: impl FnMut(&mut StoreInner<T>) -> Result<UpdateDeadline> + Send + Sync + 'static,
    ) {
        self.opaque.epoch_callback = Some(Box::new(move |opaque: &mut StoreOpaque| {
            // SAFETY: installed in this store of host data `T`, and only
            // ever called with it.
            callback(unsafe { opaque.inner_mut::<T>() })
        }));
    }
}

/// Fails unless the store's engine counts fuel.
fn fuel_enabled(store: &StoreOpaque) -> Result<()> {
    if store.engine.config().consume_fuel {
        Ok(())
    } else {
        Err(Error::Usage(
            "fuel is not enabled: the engine needs Config::consume_fuel".into(),
        ))
    }
}

/// [`vmctx::Builtin::EpochDeadline`]'s work: Wasm found the engine's epoch
/// at the store's deadline. Runs the store's callback, if any, and
/// answers what generated code does next.
pub(crate) fn deadline_reached(store: &mut StoreOpaque) -> u32 {
    let Some(mut callback) = store.epoch_callback.take() else {
        return vmctx::EPOCH_INTERRUPT;
    };
    let outcome = {
        let _no_suspend = crate::fiber::NoSuspend::new(store.async_cx);
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| callback(&mut *store)))
    };
    // Unless the callback put another in its place.
    if store.epoch_callback.is_none() {
        store.epoch_callback = Some(callback);
    }
    match outcome {
        Ok(Ok(UpdateDeadline::Continue(ticks))) => {
            store.set_epoch_deadline(ticks);
            vmctx::EPOCH_CONTINUE
        }
        Ok(Ok(UpdateDeadline::Interrupt)) => vmctx::EPOCH_INTERRUPT,
        Ok(Ok(UpdateDeadline::Yield(ticks))) => match yield_at_deadline(store, ticks) {
            Ok(()) => vmctx::EPOCH_CONTINUE,
            Err(e) => {
                traphandlers::set_host_failure(HostFailure::Error(e));
                vmctx::EPOCH_HOST_ERROR
            }
        },
        Ok(Err(e)) => {
            traphandlers::set_host_failure(HostFailure::Error(e));
            vmctx::EPOCH_HOST_ERROR
        }
        Err(payload) => {
            traphandlers::set_host_failure(HostFailure::Panic(payload));
            vmctx::EPOCH_HOST_ERROR
        }
    }
}

/// Sets the deadline `ticks` on and suspends the asynchronous call Wasm
/// runs in once, for [`UpdateDeadline::Yield`] (the deadline first, as
/// wasmtime).
fn yield_at_deadline(store: &mut StoreOpaque, ticks: u64) -> Result<()> {
    store.set_epoch_deadline(ticks);
    yield_in_wasm(store, "the epoch deadline (UpdateDeadline::Yield)")
}

/// Suspends the asynchronous call Wasm runs in once, for `what`; an error
/// in a synchronous call, and in an attested store (the executor would
/// run with the module's memory writable: it is write-protected only at
/// host calls and returns).
fn yield_in_wasm(store: &mut StoreOpaque, what: &str) -> Result<()> {
    let acx = crate::fiber::fiber_to_wait_on(store, what)?;
    // SAFETY: published by the fiber this Wasm runs on, alive while it runs.
    unsafe { crate::fiber::yield_now(acx) }
}

/// [`vmctx::Builtin::OutOfFuel`]'s work: Wasm's count of fuel is no
/// longer negative. Pays the overrun from the store's reserve and hands
/// Wasm the next interval of it, yielding the asynchronous call first
/// (`fuel_async_yield_interval`); or answers that none is left.
pub(crate) fn fuel_ran_out(store: &mut StoreOpaque) -> u32 {
    let overrun = store.limits.fuel_consumed.max(0).unsigned_abs();
    let left = store.fuel_reserve.saturating_sub(overrun);
    store.fuel_reserve = 0;
    let Some(interval) = store.fuel_yield_interval.filter(|_| left > 0) else {
        return vmctx::EPOCH_INTERRUPT;
    };
    let handed = left.min(interval).min(i64::MAX as u64);
    store.fuel_reserve = left - handed;
    store.limits.fuel_consumed = -(handed as i64);
    match yield_in_wasm(store, "fuel_async_yield_interval") {
        Ok(()) => vmctx::EPOCH_CONTINUE,
        Err(e) => {
            traphandlers::set_host_failure(HostFailure::Error(e));
            vmctx::EPOCH_HOST_ERROR
        }
    }
}
