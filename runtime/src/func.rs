//! Functions: calling Wasm from the host, and host functions Wasm can call.

use std::panic::{self, AssertUnwindSafe};

use walmart_jit::vmctx::{self, VMFuncRef, VMHostContextHeader};

use crate::call_hook::CallHook;
use crate::error::{Error, Result, Trap};
use crate::instance::{instance_of_vmctx, Instance};
use crate::store::{AsContext, AsContextMut, StoreInner, StoreOpaque};
use crate::types::FuncType;
use crate::values::{Extern, Val};
use crate::vm::traphandlers::{self, CallFailure, HostFailure};

/// What the store knows about a function.
pub(crate) struct FuncData {
    pub(crate) ty: FuncType,
    pub(crate) func_ref: *const VMFuncRef,
    /// The entry trampoline for the function's type, looked up at its
    /// first call from the host (null before).
    pub(crate) trampoline: *const u8,
}

/// A function handle: a Wasm function of an instance, or a host function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Func {
    pub(crate) store: u64,
    index: u32,
}

/// A host function as its call stub runs it: the arguments in the slots
/// (each value's raw form, as the stub spilled them), the results written
/// back into them (there are as many slots as the larger count).
pub(crate) type HostFn<T> = dyn Fn(Caller<'_, T>, &mut [u128]) -> Result<()> + Send + Sync;

/// A host function over [`Val`]s of type `ty` (`Func::new`,
/// `Linker::func_new`, WASI) as its stub runs it: the values converted in
/// and out, the results checked against `ty`.
pub(crate) fn val_host<T: 'static>(
    ty: FuncType,
    func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
) -> std::sync::Arc<HostFn<T>> {
    std::sync::Arc::new(move |mut caller: Caller<'_, T>, slots: &mut [u128]| {
        let mut vals = std::mem::take(&mut caller.opaque().host_vals);
        vals.clear();
        for (t, raw) in ty.params().iter().zip(slots.iter()) {
            vals.push(Val::from_raw(caller.opaque(), *raw, *t));
        }
        vals.extend(ty.results().iter().map(|t| Val::default_for(*t)));
        let (params, results) = vals.split_at_mut(ty.params().len());
        let r = func(caller.reborrow(), params, results).and_then(|()| {
            for (i, (r, t)) in results.iter().zip(ty.results()).enumerate() {
                if r.ty() != *t {
                    return Err(Error::Usage(format!(
                        "host function returned a {} for result {i}, expected {t}",
                        r.ty()
                    )));
                }
                slots[i] = r.to_raw(caller.opaque())?;
            }
            Ok(())
        });
        // Emptied, its capacity kept for the next call.
        vals.clear();
        caller.opaque().host_vals = vals;
        r
    })
}

/// A host function resolved against an engine once (signature id and call
/// stub), so creating it in each new store takes no engine lock: the linker
/// keeps these and instantiation only allocates the per-store context.
pub(crate) struct HostFuncDef<T: 'static> {
    ty: FuncType,
    type_id: u64,
    code: *const u8,
    func: std::sync::Arc<HostFn<T>>,
    /// `module.name` it was defined under, for attestation events.
    pub(crate) name: Option<std::sync::Arc<str>>,
    /// walmart's own WASI: its writes to guest memory are tracked, so
    /// attestation does not write-protect memory around its calls.
    pub(crate) trusted: bool,
}

// SAFETY: `code` points into engine-owned, immutable executable memory that
// lives as long as the engine; the rest is Send + Sync already.
unsafe impl<T> Send for HostFuncDef<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for HostFuncDef<T> {}

impl<T: 'static> HostFuncDef<T> {
    pub(crate) fn new(
        engine: &crate::Engine,
        ty: FuncType,
        func: std::sync::Arc<HostFn<T>>,
    ) -> Result<HostFuncDef<T>> {
        let type_id = engine.signature_id(&ty.to_sig());
        HostFuncDef::with_type_id(engine, ty, type_id, func)
    }

    /// The engine's id of the function's type.
    pub(crate) fn type_id(&self) -> u64 {
        self.type_id
    }

    /// A host function of the engine's type `type_id`, which `ty` (its
    /// host view) describes: for a type with typed references, which
    /// `FuncType` leaves out.
    pub(crate) fn with_type_id(
        engine: &crate::Engine,
        ty: FuncType,
        type_id: u64,
        func: std::sync::Arc<HostFn<T>>,
    ) -> Result<HostFuncDef<T>> {
        let code = engine.host_stub(type_id)?;
        Ok(HostFuncDef {
            ty,
            type_id,
            code,
            func,
            name: None,
            trusted: false,
        })
    }
}

/// A host function's signature resolved against an engine once (its id
/// and call stub), for the functions the runtime makes again at every
/// instantiation (a component's lowered imports and canonical built-ins):
/// making one then takes no lock and no hashing of its type.
#[derive(Clone)]
pub(crate) struct PreparedSig {
    engine: crate::Engine,
    ty: FuncType,
    type_id: u64,
    code: *const u8,
}

// SAFETY: as `HostFuncDef`'s: `code` points into the engine's immutable
// executable memory, which `engine` keeps alive.
unsafe impl Send for PreparedSig {}
// SAFETY: as above.
unsafe impl Sync for PreparedSig {}

impl std::fmt::Debug for PreparedSig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedSig")
            .field("ty", &self.ty)
            .field("type_id", &self.type_id)
            .finish_non_exhaustive()
    }
}

impl PreparedSig {
    /// `ty` resolved against `engine`.
    pub(crate) fn new(engine: &crate::Engine, ty: FuncType) -> Result<PreparedSig> {
        let type_id = engine.signature_id(&ty.to_sig());
        let code = engine.host_stub(type_id)?;
        Ok(PreparedSig {
            engine: engine.clone(),
            ty,
            type_id,
            code,
        })
    }

    /// Whether it was resolved against `engine`.
    pub(crate) fn for_engine(&self, engine: &crate::Engine) -> bool {
        crate::Engine::same(&self.engine, engine)
    }
}

/// The context a host function's code receives as its vmctx.
#[repr(C)]
struct HostContext<T: 'static> {
    header: VMHostContextHeader,
    func_ref: VMFuncRef,
    store: *mut StoreInner<T>,
    /// Shared by every store the function is made in: each instantiation
    /// makes its imports again, and one count to raise is cheaper than
    /// the type's, the closure's and the name's.
    def: std::sync::Arc<HostFuncDef<T>>,
}

/// The calling side of a host function call: the store and the calling
/// instance.
pub struct Caller<'a, T> {
    store: &'a mut StoreInner<T>,
    caller: Option<Instance>,
}

impl<'a, T> Caller<'a, T> {
    /// A call from `caller` (none: from the host) in `store`.
    pub(crate) fn new(store: &'a mut StoreInner<T>, caller: Option<Instance>) -> Caller<'a, T> {
        Caller { store, caller }
    }

    /// The whole store.
    pub(crate) fn inner(&mut self) -> &mut StoreInner<T> {
        self.store
    }

    /// The store's runtime part (for conversions of raw values).
    pub(crate) fn opaque(&mut self) -> &mut StoreOpaque {
        &mut self.store.opaque
    }

    /// The same caller, borrowed again (to hand on and keep using).
    pub(crate) fn reborrow(&mut self) -> Caller<'_, T> {
        Caller {
            store: &mut *self.store,
            caller: self.caller,
        }
    }

    /// The store's host data.
    pub fn data(&self) -> &T {
        &self.store.data
    }

    /// The store's host data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.store.data
    }

    /// The fuel left as the call was made ([`crate::StoreInner::get_fuel`]).
    pub fn get_fuel(&self) -> Result<u64> {
        self.store.get_fuel()
    }

    /// Sets the fuel left ([`crate::StoreInner::set_fuel`]): the calling
    /// Wasm goes on with it.
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.store.set_fuel(fuel)
    }

    /// Sets the store's epoch deadline
    /// ([`crate::StoreInner::set_epoch_deadline`]).
    pub fn set_epoch_deadline(&mut self, ticks: u64) {
        self.store.set_epoch_deadline(ticks)
    }

    /// The epoch at which the store's Wasm stops.
    pub(crate) fn epoch_deadline(&self) -> u64 {
        self.store.opaque.limits.epoch_deadline
    }

    /// The store's fixed bounds on growth and counts, if it holds some.
    pub(crate) fn fixed_limits(&self) -> Option<crate::StoreLimits> {
        self.store.opaque.fixed_limits()
    }

    /// An export of the calling instance (WASI uses `memory`).
    pub fn get_export(&mut self, name: &str) -> Option<Extern> {
        let instance = self.caller?;
        instance.get_export(&mut *self, name)
    }

    /// The bytes of `memory` and the host data, borrowed together (host
    /// functions such as WASI's read guest buffers while updating state).
    ///
    /// # Panics
    /// As [`crate::Memory::data`], for a memory other threads may write.
    pub fn memory_and_data(&mut self, memory: crate::Memory) -> (&mut [u8], &mut T) {
        let StoreInner { opaque, data } = &mut *self.store;
        (memory.data_in_mut(opaque).bytes_unshared(), data)
    }

    /// The mask host code applies to pointers into `memory` (see
    /// `MemoryData::addr_mask`).
    pub(crate) fn memory_addr_mask(&self, memory: crate::Memory) -> u32 {
        memory.data_in(&self.store.opaque).addr_mask
    }

    /// The address and length of `memory`'s bytes (not a slice: other
    /// threads may write a shared memory), its attestation state (its
    /// dirty bitmap, its record of input) for writers walmart trusts, and
    /// the host data.
    pub(crate) fn memory_raw_attest_and_data(
        &mut self,
        memory: crate::Memory,
    ) -> (
        *mut u8,
        usize,
        Option<&crate::attest::session::MemoryAttest>,
        &mut T,
    ) {
        let StoreInner { opaque, data } = &mut *self.store;
        let mem = memory.data_in(opaque);
        let (base, len) = mem.base_len();
        (base, len as usize, mem.attest.as_ref(), data)
    }

    /// The calling instance, if a Wasm function made the call.
    pub fn caller(&self) -> Option<Instance> {
        self.caller
    }

    /// The fiber of the asynchronous call this host call runs in, where
    /// the runtime's own waits (WASI's asynchronous sleeps) may suspend
    /// it ([`crate::fiber::fiber_to_wait_on`]); `None` where they block.
    pub(crate) fn suspendable_fiber(&mut self) -> Option<*mut crate::fiber::AsyncCx> {
        crate::fiber::fiber_to_wait_on(self.opaque(), "a WASI sleep").ok()
    }
}

impl<T> AsContext for Caller<'_, T> {
    type Data = T;
    fn as_context(&self) -> &StoreInner<T> {
        self.store
    }
}

impl<T> AsContextMut for Caller<'_, T> {
    fn as_context_mut(&mut self) -> &mut StoreInner<T> {
        self.store
    }
}

impl Func {
    pub(crate) fn from_parts(store: u64, index: u32) -> Func {
        Func { store, index }
    }

    /// A host function of type `ty`. Errors it returns become traps in the
    /// Wasm caller and come back to the embedder from the outer call.
    pub fn new<T: 'static>(
        store: impl AsContextMut<Data = T>,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Func {
        let host = val_host(ty.clone(), func);
        Func::from_host(store, ty, host)
    }

    /// A host function from a Rust closure whose parameter and result
    /// types give its Wasm type (as wasmtime's `Func::wrap`):
    /// `Func::wrap(&mut store, |a: i32, b: i32| a + b)`, or with the
    /// [`Caller`] first; see [`crate::IntoFunc`].
    pub fn wrap<T: 'static, Params, Results>(
        store: impl AsContextMut<Data = T>,
        func: impl crate::IntoFunc<T, Params, Results>,
    ) -> Func {
        let (ty, host) = func.into_host();
        Func::from_host(store, ty, host)
    }

    /// An asynchronous host function of type `ty` (wasmtime's
    /// `Func::new_async`; see [`crate::Linker::func_wrap_async`]).
    pub fn new_async<T: 'static, F>(
        store: impl AsContextMut<Data = T>,
        ty: FuncType,
        func: F,
    ) -> Func
    where
        F: for<'a> Fn(Caller<'a, T>, &'a [Val], &'a mut [Val]) -> crate::HostFuture<'a, Result<()>>
            + Send
            + Sync
            + 'static,
    {
        let host = crate::async_host::untyped(ty.clone(), func);
        Func::from_host(store, ty, host)
    }

    /// An asynchronous host function from a closure that takes its Wasm
    /// parameters as a tuple (wasmtime's `Func::wrap_async`; see
    /// [`crate::Linker::func_wrap_async`]).
    pub fn wrap_async<T: 'static, P, R, F>(store: impl AsContextMut<Data = T>, func: F) -> Func
    where
        P: crate::WasmList + 'static,
        R: crate::WasmResults + 'static,
        F: for<'a> Fn(Caller<'a, T>, P) -> crate::HostFuture<'a, R> + Send + Sync + 'static,
    {
        let (ty, host) = crate::async_host::typed(func);
        Func::from_host(store, ty, host)
    }

    /// A host function of type `ty` in `store`.
    fn from_host<T: 'static>(
        store: impl AsContextMut<Data = T>,
        ty: FuncType,
        host: std::sync::Arc<HostFn<T>>,
    ) -> Func {
        Func::from_host_named(store, ty, host, None, false)
    }

    /// [`Func::new`] for a function of the runtime's own making (a
    /// component's lowered import, a canonical built-in): `name` names it
    /// in attestation events; `trusted`, all its writes into guest memory
    /// go through walmart's API, so attestation does not write-protect
    /// memory around its calls.
    pub(crate) fn new_named<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        sig: &PreparedSig,
        name: std::sync::Arc<str>,
        trusted: bool,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Func {
        let host = val_host(sig.ty.clone(), func);
        debug_assert!(sig.for_engine(&store.as_context_mut().opaque.engine));
        let def = HostFuncDef {
            ty: sig.ty.clone(),
            type_id: sig.type_id,
            code: sig.code,
            func: host,
            name: Some(name),
            trusted,
        };
        Func::from_def(store, &std::sync::Arc::new(def))
    }

    fn from_host_named<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        ty: FuncType,
        host: std::sync::Arc<HostFn<T>>,
        name: Option<std::sync::Arc<str>>,
        trusted: bool,
    ) -> Func {
        let engine = store.as_context_mut().opaque.engine.clone();
        let mut def = HostFuncDef::new(&engine, ty, host)
            .expect("compiling a host-call stub cannot fail for a valid signature");
        def.name = name;
        def.trusted = trusted;
        Func::from_def(store, &std::sync::Arc::new(def))
    }

    /// Creates a prepared host function in `store`.
    pub(crate) fn from_def<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        def: &std::sync::Arc<HostFuncDef<T>>,
    ) -> Func {
        let inner: &mut StoreInner<T> = store.as_context_mut();
        let store_ptr: *mut StoreInner<T> = inner;
        let opaque = &mut inner.opaque;
        let mut ctx = Box::new(HostContext {
            header: VMHostContextHeader {
                magic: vmctx::HOST_CTX_MAGIC,
                dispatch: host_dispatch::<T> as *const () as usize,
            },
            func_ref: VMFuncRef {
                code: def.code,
                vmctx: std::ptr::null_mut(),
                type_id: def.type_id,
            },
            store: store_ptr,
            def: def.clone(),
        });
        ctx.func_ref.vmctx = &mut *ctx as *mut HostContext<T> as *mut u8;
        let func_ref: *const VMFuncRef = &ctx.func_ref;
        opaque.host_contexts.push(ctx);
        let index = opaque.push_func(FuncData {
            ty: def.ty.clone(),
            func_ref,
            trampoline: std::ptr::null(),
        });
        Func {
            store: opaque.id,
            index,
        }
    }

    /// Handle for defined function `func_index` of instance number `instance`.
    pub(crate) fn for_instance_func(
        store: &mut StoreOpaque,
        instance: usize,
        func_index: u32,
    ) -> Func {
        let inst = &store.instances[instance];
        let ty = inst.module.inner.func_type(func_index);
        let func_ref = inst.func_ref(func_index);
        // Only functions a reference may name have one (exports, the start
        // function, those constant expressions name).
        debug_assert!(
            !func_ref.is_null(),
            "function {func_index} has no VMFuncRef"
        );
        if let Some(idx) = store.func_by_ref.get(&(func_ref as usize)) {
            return Func::from_parts(store.id, *idx);
        }
        let index = store.push_func(FuncData {
            ty,
            func_ref,
            trampoline: std::ptr::null(),
        });
        Func::from_parts(store.id, index)
    }

    fn data(self, store: &StoreOpaque) -> &FuncData {
        store.check(self.store);
        &store.funcs[self.index as usize]
    }

    pub(crate) fn vm_func_ref(self, store: &StoreOpaque) -> Result<*const VMFuncRef> {
        if store.id != self.store {
            return Err(Error::Usage(
                "function used with a store that does not own it".into(),
            ));
        }
        Ok(self.data(store).func_ref)
    }

    /// The function's type.
    pub fn ty(&self, store: impl AsContext) -> FuncType {
        self.ty_in(&store.as_context().opaque)
    }

    pub(crate) fn ty_in(self, store: &StoreOpaque) -> FuncType {
        self.data(store).ty.clone()
    }

    /// Calls the function as an asynchronous call (wasmtime's
    /// `call_async`; the engine needs [`crate::Config::async_support`]):
    /// Wasm runs on a stack of its own, and the future is pending while
    /// an asynchronous host function it called awaits, or while it yields
    /// at an epoch deadline. Dropping the future before it is ready
    /// cancels the call: the Wasm frames unwind as for a host error.
    pub async fn call_async<S>(
        &self,
        mut store: S,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()>
    where
        S: AsContextMut,
        S::Data: Send,
    {
        crate::fiber::on_fiber(store.as_context_mut(), |s| self.call(s, params, results)).await
    }

    /// Calls the function. `results` must have one slot per result.
    pub fn call(
        &self,
        mut store: impl AsContextMut,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()> {
        // The whole store's, not its field's: the call hook widens it
        // back to the store.
        let store = store.as_context_mut().opaque_whole();
        let data = self.data(store);
        let ty = data.ty.clone();
        let func_ref = data.func_ref;
        if params.len() != ty.params().len() || results.len() != ty.results().len() {
            return Err(Error::Usage(format!(
                "function of type {ty} called with {} arguments and {} result slots",
                params.len(),
                results.len()
            )));
        }
        let mut values = vec![0u128; params.len().max(results.len()).max(1)];
        // The exact types of the reference parameters, in order, where
        // any is other than `funcref` or `externref` (asked only of a
        // function that takes references: the registry is locked).
        let takes_refs = ty.params().iter().any(|t| t.to_wasm().is_ref());
        let refs = if takes_refs {
            // SAFETY: func_ref belongs to this store, which keeps it alive.
            store.engine.signature_refs(unsafe { (*func_ref).type_id })
        } else {
            Vec::new()
        };
        let mut exact = refs.iter().copied();
        for (i, (p, t)) in params.iter().zip(ty.params()).enumerate() {
            if p.ty() != *t {
                return Err(Error::Usage(format!(
                    "argument {i} has type {}, expected {t}",
                    p.ty()
                )));
            }
            if t.to_wasm().is_ref() {
                p.check_exact(store, exact.next())
                    .map_err(|e| Error::Usage(format!("argument {i}: {e}")))?;
            }
            values[i] = p.to_raw(store)?;
        }
        self.call_raw(store, &mut values, |store, values| {
            for (i, t) in ty.results().iter().enumerate() {
                results[i] = Val::from_raw(store, values[i], *t);
            }
        })
    }

    /// Calls the function with its arguments' raw values in `values`
    /// (sized for its parameters and results, checked by the caller),
    /// and hands `results` the raw results of a call that returned.
    pub(crate) fn call_raw(
        &self,
        store: &mut StoreOpaque,
        values: &mut [u128],
        results: impl FnOnce(&mut StoreOpaque, &[u128]),
    ) -> Result<()> {
        store.check(self.store);
        if store.poisoned || !store.async_cx.is_null() {
            crate::fiber::check_not_leaked(store)?;
        }
        let fiber_entry = std::mem::take(&mut store.fiber_entry);
        let reentry = std::mem::take(&mut store.runtime_reentry);
        if !store.async_cx.is_null() && !fiber_entry && !reentry {
            // Only the asynchronous call's own entry. As wasmtime: Wasm
            // called back from a host function (or a call hook) could
            // suspend the fiber with that function's frames on it, and
            // they may hold what cannot move to another thread.
            return Err(Error::Usage(
                "a host function cannot call back into Wasm synchronously during an \
                 asynchronous call (it could suspend with the host function's frames on the \
                 fiber): use `call_async`"
                    .into(),
            ));
        }
        let data = &mut store.funcs[self.index as usize];
        let func_ref = data.func_ref;
        // SAFETY: func_ref belongs to this store, which keeps it alive.
        let (code, callee_vmctx, type_id) =
            unsafe { ((*func_ref).code, (*func_ref).vmctx, (*func_ref).type_id) };
        if data.trampoline.is_null() {
            data.trampoline = store.engine.entry_trampoline(type_id)?;
        }
        let trampoline = store.funcs[self.index as usize].trampoline;
        store.run_call_hook(CallHook::CallingWasm)?;
        // Told to `invoke` only now, so that no other path leaves it set.
        store.fiber_stack_entry = fiber_entry;
        let r = if store.attest.is_some() {
            invoke_attested(store, func_ref, trampoline, values)
        } else {
            invoke(store, trampoline, callee_vmctx, code, values)
        };
        // The results are values (GC references rooted) before the hook
        // runs, which may allocate and collect.
        if r.is_ok() {
            results(store, values);
        }
        // A success is answered afresh, not moved: a `Result` returned
        // through memory has its tag written by a narrower store than a
        // move's wide loads, which the CPU cannot forward to them (the
        // stall took about a third of a typed call's time).
        if r.is_ok() && store.call_hook.is_none() {
            return Ok(());
        }
        let hook = store.run_call_hook(CallHook::ReturningFromWasm);
        // The call's own failure first.
        r.and(hook)
    }
}

/// [`invoke`] between the boundary hooks of an export call: memory is
/// checked for tampering and snapshotted on entry, snapshotted on exit and
/// write-protected again when control goes back to the embedder (or to the
/// untrusted host function that made this call).
fn invoke_attested(
    store: &mut StoreOpaque,
    func_ref: *const VMFuncRef,
    trampoline: *const u8,
    values: &mut [u128],
) -> Result<()> {
    use crate::attest::session;
    use walmart_attest::HookKind;
    let site = |kind: HookKind| {
        move |store: &StoreOpaque| crate::instance::hook_site_of(store, func_ref, kind)
    };
    let was_protected = session::from_host(store, false, &site(HookKind::ExportEntry))?;
    // SAFETY: func_ref belongs to this store, which keeps it alive.
    let (code, vmctx) = unsafe { ((*func_ref).code, (*func_ref).vmctx) };
    // The Wasm is not the trusted host that called it, if one did.
    let in_trusted = std::mem::replace(&mut store.in_trusted_host, false);
    let r = invoke(store, trampoline, vmctx, code, values);
    store.in_trusted_host = in_trusted;
    if r.is_err() {
        session::after_trap(store);
    }
    let protect = store.wasm_depth == 0 || was_protected;
    if store.wasm_depth == 0 && crate::instance::is_command_start(store, func_ref) {
        session::defer_exit(store, &site(HookKind::ExportExit));
    }
    let exit = session::to_host(store, protect, false, &site(HookKind::ExportExit));
    match (r, exit) {
        // A guest that asked to exit (`proc_exit`) with its memory found
        // corrupt as it left fails as detected, not with the status it
        // chose.
        (Err(Error::Exit(_)), Err(detected)) => Err(detected),
        (r, exit) => r.and(exit),
    }
}

/// Runs a Wasm call with the store's stack limit set, turning traps and
/// host failures into errors (and host panics back into panics).
pub(crate) fn invoke(
    store: &mut StoreOpaque,
    trampoline: *const u8,
    vmctx: *mut u8,
    code: *const u8,
    values: &mut [u128],
) -> Result<()> {
    // The first call on a stack: the host's, or an asynchronous call's
    // fiber (which may nest in a call of this store).
    let fiber_entry = std::mem::take(&mut store.fiber_stack_entry);
    let outermost = store.wasm_depth == 0 || fiber_entry;
    let nested = outermost && store.wasm_depth > 0;
    let saved_limit = store.limits.stack_limit;
    let (saved_top, saved_low) = (store.gc_stack_top, store.gc_stack_low);
    // Wasm's frames all lie below this frame's locals.
    let frame_marker = 0u8;
    // The stack this call's frames go on: a fiber's when this runs on
    // one (an asynchronous call's, or another store's call made from
    // code on it), else the thread's.
    let stack_low = if outermost {
        traphandlers::current_stack_low()
    } else {
        None
    };
    if outermost {
        store.gc_stack_top = std::hint::black_box(&frame_marker) as *const u8 as usize;
        store.gc_stack_low = stack_low.unwrap_or(0);
    }
    // Only a tag-monitored store's instances have tag heaps.
    let tagged = store.engine.config().tag_monitor().is_some();
    if outermost && !nested {
        // Nothing runs around a new outermost call (a cancelled call
        // unlinked its notes as it unwound; a leaked one's store refuses
        // calls): no note of an earlier call may stand.
        store.wasm_exit = std::ptr::null();
    }
    if outermost && !nested && tagged {
        // A trap inside the module's allocator left its wrapper's call
        // unfinished; a new call starts afresh.
        for inst in store.instances.iter_mut() {
            if let Some(h) = inst.tags.as_deref_mut() {
                h.busy = false;
            }
        }
    }
    if outermost {
        let here = approximate_sp();
        let wanted = here.saturating_sub(store.engine.config().max_wasm_stack);
        // Never let Wasm run into the thread's own guard page: a thread with
        // a smaller stack than the configured maximum gets what it has,
        // less room for the trap handler and host calls.
        let floor = stack_low.map_or(0, |low| low + STACK_RESERVE);
        store.limits.stack_limit = wanted.max(floor);
        // Only where Wasm may use the stack cleared (a host deep in its
        // own stack gets Wasm's `call stack exhausted`, not a fault).
        let clearable = here.saturating_sub(crate::gc::CLEARED_STACK) >= store.limits.stack_limit;
        if store.gc_heap.bytes > 0 && clearable {
            crate::gc::clear_stack_below();
        }
    }
    // The tag monitor's stack guards a failed call abandons are cleared.
    let guarded = if tagged && store.engine.config().attest_stack_guards {
        crate::attest::tags::stack_pointers(store)
    } else {
        Vec::new()
    };
    store.wasm_depth += 1;
    // SAFETY: the trampoline matches the callee's signature (both come from
    // its type id) and `values` is sized for its parameters and results.
    let r = unsafe { traphandlers::call_wasm(trampoline, vmctx, code, values.as_mut_ptr()) };
    store.wasm_depth -= 1;
    if r.is_err() {
        // A trap (an exception unwinding into a module without exception
        // handling, or an exit hook's trap) abandons the exception with
        // the frames.
        crate::exception::abandon_pending(store);
    }
    if r.is_err() && !guarded.is_empty() {
        crate::attest::tags::clear_abandoned_guards(store, &guarded);
    }
    store.limits.stack_limit = saved_limit;
    (store.gc_stack_top, store.gc_stack_low) = (saved_top, saved_low);
    match r {
        // An exception no handler caught: the pending word still holds it.
        Ok(()) => match crate::exception::take_pending(store) {
            Some(exn) => Err(Error::Exception(exn)),
            None => Ok(()),
        },
        Err(CallFailure::Trap(t)) => {
            let kind = crate::attest::tags::trap_kind(store, &t);
            if kind == walmart_jit::TrapKind::OutOfFuel {
                // None left, whatever the count reached past zero (a bulk
                // operator may have saturated it): nothing later adds to
                // it and wraps it round to fuel.
                store.limits.fuel_consumed = 0;
                store.fuel_reserve = 0;
            }
            Err(Error::Trap(dumped(store, Trap::new(kind, t.frames), None)))
        }
        Err(CallFailure::Host(HostFailure::Panic(payload), _)) => panic::resume_unwind(payload),
        Err(CallFailure::Host(HostFailure::Error(e), frames)) => Err(match e {
            Error::Host { error, frames: f } if f.is_empty() => Error::Host { error, frames },
            // A trap a builtin raised (an attestation hook's stop): the
            // snapshot where Wasm called it.
            Error::Trap(t) => Error::Trap(dumped(store, t, Some(&frames))),
            other => other,
        }),
    }
}

/// `trap` with the store's snapshot at `frames` (the trap's own where
/// `None`), where the engine takes them (`Config::coredump_on_trap`) and
/// it has none yet.
fn dumped(store: &StoreOpaque, trap: Trap, frames: Option<&[crate::vm::backtrace::Frame]>) -> Trap {
    if !store.engine.config().coredump_on_trap || trap.coredump().is_some() {
        return trap;
    }
    let dump = crate::WasmCoreDump::capture(store, frames.unwrap_or(trap.frames()));
    trap.with_coredump(dump)
}

/// Leaves the exception a host function threw pending for the code its
/// stub returns to at `return_address`, if that code passes exceptions on
/// (its module handles them, or it is the host's entry): the return
/// address, not the caller's context, which a tail call leaves behind.
/// Code compiled without exception handling never does.
fn throw_to_caller(store: &mut StoreOpaque, exn: crate::ExnRef, return_address: u64) -> Result<()> {
    if !walmart_jit::code_memory::passes_exceptions(return_address as usize) {
        return Err(Error::Usage(
            "a host function threw an exception into a module that does not use exception \
             handling"
                .into(),
        ));
    }
    store.limits.pending_exception = exn.raw(store)? as usize;
    Ok(())
}

/// Stack kept free below the Wasm limit for host functions Wasm calls and
/// for the signal handler.
const STACK_RESERVE: usize = 128 * 1024;

/// An address in a frame just below the caller's: below every word of
/// the caller's frame.
#[inline(never)]
pub(crate) fn approximate_sp() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Called by host-call stubs: runs the closure behind `ctx` on the values
/// array. Returns non-zero when the host failed; the failure is parked for
/// the trap that follows.
extern "C" fn host_dispatch<T: 'static>(
    ctx: *mut u8,
    caller_vmctx: *mut u8,
    values: *mut u128,
    fp: u64,
) -> u32 {
    // The host's handles on GC objects made for this call (its
    // parameters, and whatever it reads) are released when it returns.
    // Where the calling Wasm stands is noted for a backtrace the host
    // takes (`WasmBacktrace::capture`), until it returns.
    // SAFETY: as below: the context and its store outlive the call.
    let outer = unsafe { (*(*(ctx as *const HostContext<T>)).store).opaque.wasm_exit };
    let exit = crate::wasm_backtrace::Exit {
        fp: fp as usize,
        at: None,
        outer,
    };
    // SAFETY: as above.
    let (roots_mark, fiber) = unsafe {
        let opaque = &mut (*(*(ctx as *const HostContext<T>)).store).opaque;
        // Unlinked below, before this frame returns.
        opaque.wasm_exit = &exit;
        (opaque.gc_roots.mark(), opaque.async_cx)
    };
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the stub passes the HostContext<T> it was created with,
        // whose store outlives every call into it.
        let ctx = unsafe { &*(ctx as *const HostContext<T>) };
        // SAFETY: the store is not otherwise accessed while Wasm it called
        // runs; this is the only live reference during the host call.
        let store = unsafe { &mut *ctx.store };
        // A synchronous host function's frames may not be suspended with
        // the fiber (an asynchronous one's wrapper allows its own future).
        let _no_suspend = crate::fiber::NoSuspend::new(store.opaque.async_cx);
        let def = &*ctx.def;
        let nparams = def.ty.params().len();
        let nresults = def.ty.results().len();
        // SAFETY: the stub's slot array holds max(params, results) slots.
        let slots = unsafe { std::slice::from_raw_parts_mut(values, nparams.max(nresults)) };
        let caller = instance_of_vmctx(&store.opaque, caller_vmctx);
        if !store.opaque.host_call_steps {
            // No boundary to attest and no hook: the call alone. (One path with the
            // attested steps behind tests of the same flag measured slower:
            // 6-10 ns a call against 5, `host_calls`.)
            return (def.func)(
                Caller {
                    store: &mut *store,
                    caller,
                },
                slots,
            );
        }
        use crate::attest::session;
        use walmart_attest::{HookKind, HookSite};
        let site = |kind: HookKind| {
            move |_: &StoreOpaque| HookSite {
                name: def.name.as_deref().map(str::to_string),
                ..HookSite::new(kind)
            }
        };
        // Both transitions are no-ops without attestation; the call hook
        // runs on the host's side of them.
        session::to_host(
            &mut store.opaque,
            !def.trusted,
            true,
            &site(HookKind::ImportCall),
        )?;
        let r = store
            .opaque_whole()
            .run_call_hook(CallHook::CallingHost)
            .and_then(|()| {
                let outer = std::mem::replace(&mut store.opaque.in_trusted_host, def.trusted);
                let r = (def.func)(
                    Caller {
                        store: &mut *store,
                        caller,
                    },
                    slots,
                );
                store.opaque.in_trusted_host = outer;
                // The function's own failure first.
                let hook = store
                    .opaque_whole()
                    .run_call_hook(CallHook::ReturningFromHost);
                r.and(hook)
            });
        // Memory is unprotected before any error goes back to Wasm.
        let back = session::from_host(&mut store.opaque, true, &site(HookKind::ImportReturn));
        r?;
        back?;
        Ok(())
    }));
    // SAFETY: as above.
    let opaque = unsafe { &mut (*(*(ctx as *const HostContext<T>)).store).opaque };
    opaque.gc_roots.release_to(roots_mark);
    opaque.wasm_exit = exit.outer;
    // A nested asynchronous call the host function forgot mid-way: its
    // error in place of the function's outcome. (Tested, not matched
    // into a new outcome: moving the large result through memory after
    // the call cost a store-forwarding stall, half of a host call's time.)
    if opaque.async_cx != fiber {
        if let Err(e) = crate::fiber::still_on(opaque, fiber) {
            traphandlers::set_host_failure(HostFailure::Error(e));
            return 1;
        }
    }
    match result {
        Ok(Ok(())) => 0,
        // Thrown into the Wasm caller: pending, with the results zero,
        // as a Wasm callee leaves it (the caller tests the word).
        Ok(Err(Error::Exception(exn))) => {
            // SAFETY: as above: the context and its store outlive the call.
            let store = unsafe { &mut (*(*(ctx as *const HostContext<T>)).store).opaque };
            // SAFETY: the stub's frame, live while it waits for this call.
            let (_, return_address) = unsafe { crate::vm::backtrace::frame_record(fp as usize) };
            match throw_to_caller(store, exn, return_address as u64) {
                Ok(()) => 0,
                Err(e) => {
                    traphandlers::set_host_failure(HostFailure::Error(e));
                    1
                }
            }
        }
        Ok(Err(e)) => {
            traphandlers::set_host_failure(HostFailure::Error(e));
            1
        }
        Err(payload) => {
            traphandlers::set_host_failure(HostFailure::Panic(payload));
            1
        }
    }
}
