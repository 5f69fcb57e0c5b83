//! Component functions: those a component lifts out of its core code,
//! and the host's; calls into them, and the core functions a component
//! lowers them to (the trampolines its core code calls).

use std::any::Any;
use std::sync::Arc;

use super::abi::{self, Options, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS};
use super::lift::{abi_trap, LiftCx};
use super::lower::LowerCx;
use super::resources::{new_scope, InstanceState};
use super::types::{FuncType, Type};
use super::val::Val;
use crate::store::{AsContextMut, StoreInner};
use crate::{Caller, Error, Result};

/// A host function of a component's imports (see
/// [`super::LinkerInstance::func_new`]).
pub(crate) type HostFn<T> =
    dyn Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static;

/// WASI 0.2's byte streams without a `Val` per byte, in a lowered call
/// ([`Func::lower`]): the function's `list<u8>` parameter, where it has
/// one, comes as bytes (its slot among the values an empty list), and it
/// may give the bytes of its result as [`HostOut::Bytes`]. A call of 64 KiB read as `Val`s made and dropped
/// 64 Ki values: the most of what a component command's reads cost.
pub(crate) type BytesFn<T> =
    dyn Fn(Caller<'_, T>, &[Val], Option<Vec<u8>>) -> Result<HostOut> + Send + Sync + 'static;

/// What a [`BytesFn`] gives back.
pub(crate) enum HostOut {
    /// The function's result, if it has one.
    Val(Option<Val>),
    /// Its result holds these bytes, where the shape says.
    Bytes(Vec<u8>, BytesShape),
}

/// Where the bytes of [`HostOut::Bytes`] sit in the function's result.
#[derive(Clone, Copy)]
pub(crate) enum BytesShape {
    /// The result is the `list<u8>`.
    List,
    /// The `ok` case of a `result<list<u8>, _>`.
    Ok,
    /// The `ok` case of a `result<tuple<list<u8>, bool>, _>`, with this
    /// `bool` (a descriptor's read and its end of file).
    OkWithBool(bool),
}

impl BytesShape {
    /// Whether a result of type `ty` has this shape.
    pub(crate) fn fits(self, ty: &Type) -> bool {
        let is_bytes = |t: &Type| matches!(t, Type::List(e) if **e == Type::U8);
        match (self, ty) {
            (BytesShape::List, t) => is_bytes(t),
            (BytesShape::Ok, Type::Result { ok: Some(ok), .. }) => is_bytes(ok),
            (BytesShape::OkWithBool(_), Type::Result { ok: Some(ok), .. }) => {
                matches!(&**ok, Type::Tuple(ts) if ts.len() == 2 && is_bytes(&ts[0]) && ts[1] == Type::Bool)
            }
            _ => false,
        }
    }

    /// The result as a component value (a `Val` per byte).
    pub(crate) fn value(self, bytes: Vec<u8>) -> Val {
        let list = Val::List(bytes.into_iter().map(Val::U8).collect());
        let ok = |v| Val::Result(Ok(Some(Box::new(v))));
        match self {
            BytesShape::List => list,
            BytesShape::Ok => ok(list),
            BytesShape::OkWithBool(b) => ok(Val::Tuple(vec![list, Val::Bool(b)])),
        }
    }
}

enum Kind {
    Lifted {
        core: crate::Func,
        options: Options,
        state: Arc<InstanceState>,
        shape: Shape,
    },
    /// A linker's function.
    Host {
        /// An `Arc<HostFn<T>>` of the store's data type `T`.
        func: Arc<dyn Any + Send + Sync>,
        /// The import it was given for (`wasi:io/streams@0.2.0#read`),
        /// which attestation events name.
        name: Arc<str>,
        /// walmart's own (WASI 0.2): its writes into guest memory all go
        /// through walmart's API, so attestation does not write-protect
        /// memory around its calls, as for preview 1's.
        trusted: bool,
        /// Its [`BytesFn`] form (an `Arc<BytesFn<T>>`), where it has one.
        bytes: Option<Arc<dyn Any + Send + Sync>>,
    },
}

/// What `canon lower` makes of a function's type, worked out once per
/// component (as it is compiled or loaded) instead of at each
/// instantiation: the core signature the guest calls, where the values
/// travel, and that signature resolved against the engine on first use.
pub(crate) struct LowerShape {
    sig: crate::FuncType,
    /// Its parameters go through memory (more than 16 flat values).
    params_in_memory: bool,
    /// Its result goes through memory (more than one flat value).
    result_in_memory: bool,
    prepared: std::sync::OnceLock<crate::func::PreparedSig>,
}

impl std::fmt::Debug for LowerShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LowerShape")
            .field("sig", &self.sig)
            .finish_non_exhaustive()
    }
}

impl LowerShape {
    /// The shape of a lowered function of type `ty`.
    pub(crate) fn of(ty: &FuncType) -> LowerShape {
        LowerShape {
            sig: abi::lowered_signature(ty),
            params_in_memory: abi::flatten_all(ty.params.iter().map(|(_, t)| t)).len()
                > MAX_FLAT_PARAMS,
            result_in_memory: abi::flatten_all(ty.result.iter()).len() > MAX_FLAT_RESULTS,
            prepared: std::sync::OnceLock::new(),
        }
    }

    /// The signature resolved against `engine`: kept from the first
    /// instantiation (a component is compiled for one engine; another
    /// engine's gets its own, not kept).
    fn prepared(
        &self,
        engine: &crate::Engine,
    ) -> Result<std::borrow::Cow<'_, crate::func::PreparedSig>> {
        prepared_once(&self.prepared, engine, &self.sig)
    }
}

/// `sig` resolved against `engine`, kept in `cell` for the engine it was
/// first resolved for.
pub(crate) fn prepared_once<'a>(
    cell: &'a std::sync::OnceLock<crate::func::PreparedSig>,
    engine: &crate::Engine,
    sig: &crate::FuncType,
) -> Result<std::borrow::Cow<'a, crate::func::PreparedSig>> {
    use crate::func::PreparedSig;
    use std::borrow::Cow;
    if cell.get().is_none() {
        let _ = cell.set(PreparedSig::new(engine, sig.clone())?);
    }
    match cell.get() {
        Some(p) if p.for_engine(engine) => Ok(Cow::Borrowed(p)),
        _ => Ok(Cow::Owned(PreparedSig::new(engine, sig.clone())?)),
    }
}

/// A component function (wasmtime's `component::Func`): called with
/// component values, which the canonical ABI lowers into the callee's
/// core values and memory and lifts back.
#[derive(Clone, Debug)]
pub struct Func {
    kind: Arc<Kind>,
    ty: Arc<FuncType>,
}

impl std::fmt::Debug for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kind::Lifted { core, .. } => write!(f, "lifted {core:?}"),
            Kind::Host { name, .. } => write!(f, "host function `{name}`"),
        }
    }
}

impl Func {
    pub(crate) fn lifted(
        core: crate::Func,
        options: Options,
        state: Arc<InstanceState>,
        ty: Arc<FuncType>,
    ) -> Func {
        Func {
            kind: Arc::new(Kind::Lifted {
                core,
                options,
                state,
                shape: Shape::of(&ty),
            }),
            ty,
        }
    }

    /// The linker's function `host` given for the import `name`
    /// (`trusted`: see [`Kind::Host`]).
    pub(crate) fn host<T: 'static>(
        host: Arc<HostFn<T>>,
        ty: Arc<FuncType>,
        name: Arc<str>,
        trusted: bool,
        bytes: Option<Arc<BytesFn<T>>>,
    ) -> Func {
        Func {
            kind: Arc::new(Kind::Host {
                func: Arc::new(host),
                name,
                trusted,
                bytes: bytes.map(|b| Arc::new(b) as Arc<dyn Any + Send + Sync>),
            }),
            ty,
        }
    }

    /// The function's type.
    pub fn ty(&self) -> &FuncType {
        &self.ty
    }

    /// The instance a lifted function belongs to (its resource types).
    pub(crate) fn state(&self) -> Option<&InstanceState> {
        match &*self.kind {
            Kind::Lifted { state, .. } => Some(state),
            Kind::Host { .. } => None,
        }
    }

    /// Calls the function with `params`; `results` needs one slot when the
    /// function returns a value. A trap leaves the component instance
    /// unusable: later calls into it fail.
    pub fn call<S: AsContextMut>(
        &self,
        mut store: S,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()>
    where
        S::Data: 'static,
    {
        let want = self.ty.result.is_some() as usize;
        if params.len() != self.ty.params.len() || results.len() != want {
            return Err(Error::Usage(format!(
                "component function of type `{}` called with {} arguments and {} result slots",
                self.ty,
                params.len(),
                results.len()
            )));
        }
        let store = store.as_context_mut();
        let top = entered_from_host(&mut store.opaque)?;
        let result = self.call_in(store, None, params, top)?;
        if let (Some(slot), Some(v)) = (results.first_mut(), result) {
            *slot = v;
        }
        Ok(())
    }

    /// [`Func::call`] as an asynchronous call (wasmtime's `call_async`;
    /// the engine needs `Config::async_support`): the future is pending
    /// while an asynchronous host function the component called awaits.
    pub async fn call_async<S>(
        &self,
        mut store: S,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()>
    where
        S: AsContextMut,
        S::Data: Send + 'static,
    {
        crate::fiber::on_fiber(store.as_context_mut(), |s| self.call(s, params, results)).await
    }

    /// A typed call ([`super::TypedFunc::call`]): its lists of numbers
    /// as their bytes, and its result's where `want_bytes`
    /// ([`super::typed::Arg`]), none of them a `Val` per element.
    pub(crate) fn call_args<S: AsContextMut>(
        &self,
        mut store: S,
        args: Vec<super::typed::Arg>,
        want_bytes: bool,
    ) -> Result<Option<super::typed::Arg>>
    where
        S::Data: 'static,
    {
        use super::typed::{Arg, Elem};
        if args.len() != self.ty.params.len() {
            return Err(Error::Usage(format!(
                "component function of type `{}` called with {} arguments",
                self.ty,
                args.len(),
            )));
        }
        let store = store.as_context_mut();
        let top = entered_from_host(&mut store.opaque)?;
        let params: Option<Vec<Param<'_>>> = self
            .ty
            .params
            .iter()
            .zip(&args)
            .map(|((_, t), a)| match a {
                Arg::Val(v) => Some(Param::Val(v)),
                Arg::Elems(b, e) if matches!(t, Type::List(x) if **x == e.ty()) => {
                    Some(Param::Elems(b, *e))
                }
                _ => None,
            })
            .collect();
        let lifted = self.kind.lifted().filter(|l| !l.shape.params_in_memory);
        let (Some(lifted), Some(params)) = (lifted, params) else {
            let vals: Vec<Val> = args.into_iter().map(Arg::into_val).collect();
            return Ok(self.call_in(store, None, &vals, top)?.map(Arg::Val));
        };
        let want_bytes = want_bytes
            && match &self.ty.result {
                Some(Type::List(e)) => Elem::of(e).is_some(),
                Some(Type::Result { ok: Some(ok), .. }) => **ok == Type::List(Box::new(Type::U8)),
                _ => false,
            };
        self.checked_call(store, lifted, &params, top, want_bytes)
    }

    /// A lifted function's call: every value checked before any moves (a
    /// refused call leaves the host's handles and the callee as they
    /// were), then the call inside the instance.
    fn checked_call<T: 'static>(
        &self,
        store: &mut StoreInner<T>,
        lifted: Lifted<'_>,
        params: &[Param<'_>],
        top: bool,
        want_bytes: bool,
    ) -> Result<Option<super::typed::Arg>> {
        let mut checker = LowerCx {
            store: &mut *store,
            opts: lifted.options,
            state: lifted.state,
            scope: 0,
            borrows: Vec::new(),
            top,
        };
        for ((_, t), p) in self.ty.params.iter().zip(params) {
            if let Param::Val(v) = p {
                checker.check(t, v)?;
            }
        }
        lifted
            .state
            .enter(|| self.call_lifted(store, lifted, params, top, want_bytes))
    }

    /// The call itself, from the host or from a trampoline.
    /// `top`: the call is an asynchronous call's own (its core calls enter
    /// Wasm as the fiber's entry), not one made from the runtime's frames
    /// inside Wasm (which re-enter it).
    pub(crate) fn call_in<T: 'static>(
        &self,
        store: &mut StoreInner<T>,
        caller: Option<crate::Instance>,
        params: &[Val],
        top: bool,
    ) -> Result<Option<Val>> {
        match &*self.kind {
            Kind::Host { func: host, .. } => {
                let host = host.downcast_ref::<Arc<HostFn<T>>>().ok_or_else(|| {
                    Error::Usage("a host function called with a store of another data type".into())
                })?;
                let mut results = vec![Val::placeholder(); self.ty.result.is_some() as usize];
                // As a core host function runs.
                in_host_frames(store, |s| {
                    host(Caller::new(s, caller), params, &mut results)
                })??;
                Ok(results.pop())
            }
            Kind::Lifted { .. } => {
                let lifted = self.kind.lifted().expect("a lifted function");
                let params: Vec<Param<'_>> = params.iter().map(Param::Val).collect();
                let out = self.checked_call(store, lifted, &params, top, false)?;
                Ok(out.map(super::typed::Arg::into_val))
            }
        }
    }

    /// `want_bytes`: the result is a list of numbers, or an `ok` of bytes,
    /// the caller takes as bytes ([`super::typed::Arg`]).
    fn call_lifted<T: 'static>(
        &self,
        store: &mut StoreInner<T>,
        Lifted {
            core,
            shape,
            options,
            state,
        }: Lifted<'_>,
        params: &[Param<'_>],
        top: bool,
        want_bytes: bool,
    ) -> Result<Option<super::typed::Arg>> {
        let ty = &self.ty;
        let param_types = || ty.params.iter().map(|(_, t)| t);
        let mut flat = Vec::new();
        let scope = new_scope();
        let borrows = {
            let mut cx = LowerCx {
                store: &mut *store,
                opts: options,
                state,
                scope,
                borrows: Vec::new(),
                top,
            };
            if shape.params_in_memory {
                let tuple = abi::params_tuple(ty);
                let (size, align) = abi::size_align(&tuple);
                let ptr = cx.realloc(align, size)?;
                let vals = params.iter().map(Param::to_val).collect();
                cx.store(&tuple, &Val::Tuple(vals), ptr)?;
                flat.push(crate::Val::I32(ptr as i32));
            } else {
                for (t, p) in param_types().zip(params) {
                    match p {
                        Param::Val(v) => cx.lower_flat(t, v, &mut flat)?,
                        Param::Elems(b, e) => {
                            let (ptr, len) = cx.elem_list(b, *e)?;
                            flat.push(crate::Val::I32(ptr as i32));
                            flat.push(crate::Val::I32(len as i32));
                        }
                    }
                }
            }
            cx.borrows
        };
        let mut core_results: Vec<crate::Val> = shape
            .core_results
            .iter()
            .map(|t| crate::Val::default_for(*t))
            .collect();
        core_call(store, top, |s| core.call(s, &flat, &mut core_results))?;
        if !borrows.is_empty() && state.lent(&borrows, scope) {
            return Err(abi_trap(
                "a borrowed handle was not dropped before the call returned",
            ));
        }
        let result = match &ty.result {
            None => None,
            // A list of numbers, or an `ok` of bytes, whole (a list is
            // two flat values: always in the return area); an `err`, or a
            // bad discriminant's trap, as through `Val`s.
            Some(t) if want_bytes && shape.result_in_memory => {
                use super::typed::{Arg, Elem};
                let cx = LiftCx::of(&*store, options, state);
                let at = core_results[0].unwrap_i32() as u32;
                cx.check_area(t, at)?;
                // The list whose (pointer, length) lies at `list_at`.
                let list =
                    |list_at: u32, e: Elem| cx.elem_list(cx.u32(list_at)?, cx.u32(list_at + 4)?, e);
                Some(match t {
                    Type::List(e) => match Elem::of(e) {
                        Some(e) => Arg::Elems(list(at, e)?, e),
                        None => Arg::Val(cx.load_checked(t, at)?),
                    },
                    _ if cx.u8_at(at)? == 0 => {
                        let cases = abi::cases(t).unwrap_or_default();
                        Arg::OkBytes(list(at + abi::payload_offset(&cases), Elem::U8)?)
                    }
                    _ => Arg::Val(cx.load_checked(t, at)?),
                })
            }
            Some(t) => {
                let cx = LiftCx::of(&*store, options, state);
                Some(super::typed::Arg::Val(if shape.result_in_memory {
                    cx.load_checked(t, core_results[0].unwrap_i32() as u32)?
                } else {
                    cx.lift_flat(t, &mut core_results.iter().copied())?
                }))
            }
        };
        if let Some(post) = options.post_return {
            core_call(store, top, |s| post.call(s, &core_results, &mut []))?;
        }
        Ok(result)
    }

    /// The core function that `canon lower` makes of this one for the
    /// component instance `state`, whose boundary has `options` and sees
    /// the function's type as `ty`.
    pub(crate) fn lower<T: 'static>(
        &self,
        store: &mut StoreInner<T>,
        options: Options,
        (ty, shape): (Arc<FuncType>, &LowerShape),
        state: Arc<InstanceState>,
    ) -> Result<crate::Func> {
        let callee = self.clone();
        let (params_in_memory, result_in_memory) = (shape.params_in_memory, shape.result_in_memory);
        let sig = shape.prepared(&store.opaque.engine)?;
        // Named for attestation's events: the import, or the component
        // function's own core export.
        let (name, trusted) = match &*self.kind {
            Kind::Host { name, trusted, .. } => (name.clone(), *trusted),
            Kind::Lifted { .. } => (Arc::from("a lifted component function"), false),
        };
        // The bytes form where the call's values are flat (WASI 0.2's
        // reads and writes are).
        let fast = match &*self.kind {
            Kind::Host { bytes: Some(b), .. } if !params_in_memory => {
                b.downcast_ref::<Arc<BytesFn<T>>>().cloned()
            }
            _ => None,
        };
        Ok(crate::Func::new_named(
            &mut *store,
            &sig,
            name,
            trusted,
            move |mut caller: Caller<'_, T>, args, rets| {
                let instance = caller.caller();
                let store = caller.inner();
                if let Some(fast) = &fast {
                    return lowered_bytes_call(
                        store,
                        instance,
                        fast,
                        (&ty, &options, &state),
                        args,
                        rets,
                        result_in_memory,
                    );
                }
                let params = {
                    let cx = LiftCx::of(&*store, &options, &state);
                    if params_in_memory {
                        let tuple = abi::params_tuple(&ty);
                        match cx.load_checked(&tuple, args[0].unwrap_i32() as u32)? {
                            Val::Tuple(v) => v,
                            _ => unreachable!("a tuple loads as a tuple"),
                        }
                    } else {
                        let mut flat = args.iter().copied();
                        ty.params
                            .iter()
                            .map(|(_, t)| cx.lift_flat(t, &mut flat))
                            .collect::<Result<Vec<_>>>()?
                    }
                };
                let result = callee.call_in(&mut *store, instance, &params, false)?;
                lower_result(
                    store,
                    (&ty, &options, &state),
                    HostOut::Val(result),
                    args,
                    rets,
                    result_in_memory,
                )
            },
        ))
    }
}

/// A lowered call of a host function's [`BytesFn`] form: its first list
/// of numbers (WASI's `list<u8>`, a typed host function's `Vec` of any
/// number) lifted as bytes, an `ok` of bytes lowered whole.
fn lowered_bytes_call<T: 'static>(
    store: &mut StoreInner<T>,
    instance: Option<crate::Instance>,
    fast: &Arc<BytesFn<T>>,
    (ty, options, state): (&FuncType, &Options, &Arc<InstanceState>),
    args: &[crate::Val],
    rets: &mut [crate::Val],
    result_in_memory: bool,
) -> Result<()> {
    let mut flat = args.iter().copied();
    let mut bytes = None;
    let mut params = Vec::with_capacity(ty.params.len());
    {
        let cx = LiftCx::of(&*store, options, state);
        for (_, t) in &ty.params {
            let numbers = match t {
                Type::List(e) if bytes.is_none() => super::typed::Elem::of(e),
                _ => None,
            };
            match numbers {
                Some(elem) => {
                    let mut word = || match flat.next() {
                        Some(crate::Val::I32(v)) => Ok(v as u32),
                        _ => Err(Error::Usage("a list's flat values are two i32s".into())),
                    };
                    let (ptr, len) = (word()?, word()?);
                    bytes = Some(cx.elem_list(ptr, len, elem)?);
                    params.push(Val::List(Vec::new()));
                }
                None => params.push(cx.lift_flat(t, &mut flat)?),
            }
        }
    }
    let out = in_host_frames(store, |s| fast(Caller::new(s, instance), &params, bytes))??;
    lower_result(
        store,
        (ty, options, state),
        out,
        args,
        rets,
        result_in_memory,
    )
}

/// Runs host code as a host function runs: its frames are not to be
/// suspended with the fiber (an asynchronous one's wrapper allows its own
/// wait), and a nested asynchronous call it leaked mid-way poisons the
/// store.
fn in_host_frames<T: 'static, R>(
    store: &mut StoreInner<T>,
    f: impl FnOnce(&mut StoreInner<T>) -> R,
) -> Result<R> {
    let fiber = store.opaque.async_cx;
    let r = {
        let _no_suspend = crate::fiber::NoSuspend::new(fiber);
        f(&mut *store)
    };
    crate::fiber::still_on(&mut store.opaque, fiber)?;
    Ok(r)
}

/// Lowers what a host function gave for a lowered call's result: into
/// the guest's return area (its last argument) when the result goes
/// through memory, else into `rets`.
fn lower_result<T: 'static>(
    store: &mut StoreInner<T>,
    (ty, options, state): (&FuncType, &Options, &Arc<InstanceState>),
    out: HostOut,
    args: &[crate::Val],
    rets: &mut [crate::Val],
    result_in_memory: bool,
) -> Result<()> {
    let mut cx = LowerCx {
        store,
        opts: options,
        state,
        scope: 0,
        borrows: Vec::new(),
        top: false,
    };
    let retptr = || args[args.len() - 1].unwrap_i32() as u32;
    match (&ty.result, out) {
        (Some(t), HostOut::Bytes(b, shape)) if result_in_memory => {
            cx.store_bytes(t, &b, shape, retptr())
        }
        (Some(t), HostOut::Val(Some(v))) if result_in_memory => cx.store_checked(t, &v, retptr()),
        (Some(t), HostOut::Val(Some(v))) => {
            let mut flat = Vec::with_capacity(1);
            cx.lower_flat(t, &v, &mut flat)?;
            rets.copy_from_slice(&flat);
            Ok(())
        }
        (Some(t), HostOut::Bytes(..)) => Err(Error::Usage(format!(
            "a host function gave bytes for a result of type `{t}`"
        ))),
        // A result the import has no room for is dropped.
        (None, _) => Ok(()),
        (Some(t), HostOut::Val(None)) => Err(Error::Usage(format!(
            "a host function gave no result for one of type `{t}`"
        ))),
    }
}

/// Whether a call the host makes may go on: always in a synchronous call;
/// in an asynchronous one only as the fiber's own entry (the call
/// `call_async` makes), not from a host function's frames, where Wasm
/// could suspend the fiber with them on it. `true`: the fiber's entry.
pub(crate) fn entered_from_host(store: &mut crate::store::StoreOpaque) -> Result<bool> {
    let top = std::mem::take(&mut store.fiber_entry);
    if !store.async_cx.is_null() && !top {
        return Err(Error::Usage(
            "a component function cannot be called synchronously from a host function during \
             an asynchronous call (it could suspend with the host function's frames on the \
             fiber): use `call_async`"
                .into(),
        ));
    }
    Ok(top)
}

/// Runs `f`, a core call the component runtime makes, letting it enter
/// Wasm during an asynchronous call: as the fiber's entry (`top`) or as a
/// re-entry from the runtime's frames on it. The permission ends with the
/// call, used or not. Nothing to do in a synchronous call.
pub(crate) fn core_call<T, R>(
    store: &mut StoreInner<T>,
    top: bool,
    f: impl FnOnce(&mut StoreInner<T>) -> Result<R>,
) -> Result<R> {
    let opaque = &mut store.opaque;
    if opaque.async_cx.is_null() {
        return f(store);
    }
    if top {
        opaque.fiber_entry = true;
    } else {
        opaque.runtime_reentry = true;
    }
    let r = f(store);
    (store.opaque.fiber_entry, store.opaque.runtime_reentry) = (false, false);
    r
}

/// A parameter of a call as the lowering takes it: a value, or a
/// `list<u8>`'s bytes.
enum Param<'a> {
    Val(&'a Val),
    /// A list of numbers' little-endian bytes.
    Elems(&'a [u8], super::typed::Elem),
}

/// What a call of a lifted function needs of it.
#[derive(Clone, Copy)]
struct Lifted<'a> {
    core: crate::Func,
    shape: &'a Shape,
    options: &'a Options,
    state: &'a Arc<InstanceState>,
}

impl Kind {
    /// Its lifted function's parts, if it is one.
    fn lifted(&self) -> Option<Lifted<'_>> {
        match self {
            Kind::Lifted {
                core,
                options,
                state,
                shape,
            } => Some(Lifted {
                core: *core,
                shape,
                options,
                state,
            }),
            Kind::Host { .. } => None,
        }
    }
}

impl Param<'_> {
    fn to_val(&self) -> Val {
        match self {
            Param::Val(v) => (*v).clone(),
            Param::Elems(b, e) => super::typed::Arg::Elems(b.to_vec(), *e).into_val(),
        }
    }
}

/// How a lifted function's values travel, worked out once.
struct Shape {
    /// Its parameters go through memory (more than 16 flat values).
    params_in_memory: bool,
    /// Its result comes back through memory (more than one flat value).
    result_in_memory: bool,
    /// The core function's result types.
    core_results: Vec<crate::ValType>,
}

impl Shape {
    fn of(ty: &FuncType) -> Shape {
        let sig = abi::lifted_signature(ty);
        Shape {
            params_in_memory: abi::flatten_all(ty.params.iter().map(|(_, t)| t)).len()
                > MAX_FLAT_PARAMS,
            result_in_memory: abi::flatten_all(ty.result.iter()).len() > MAX_FLAT_RESULTS,
            core_results: sig.results().to_vec(),
        }
    }
}
