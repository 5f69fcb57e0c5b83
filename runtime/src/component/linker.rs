//! The component linker: host functions grouped in instances under the
//! names a component imports (`wasi:cli/environment@0.2.0`, ...).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::compiled::Component;
use super::func::{Func, HostFn};
use super::instance::{instantiate, Exports, Instance, Item};
use super::resources::{InstanceState, ResourceType};
use super::translate::ImportDesc;
use super::typed::{ComponentNamedList, ComponentResults};
use super::types::{matches, FuncType};
use super::val::Val;
use crate::store::AsContextMut;
use crate::{Caller, Engine, Error, Result};

enum Definition<T: 'static> {
    /// A host function, with the type it was written for where it is
    /// typed (checked against the import's at instantiation), whether it
    /// is walmart's own ([`LinkerInstance::trusted`]), and its bytes form
    /// ([`super::func::BytesFn`]) where it has one.
    Func(
        Arc<HostFn<T>>,
        Option<FuncType>,
        bool,
        Option<Arc<super::func::BytesFn<T>>>,
    ),
    Instance(Namespace<T>),
    /// A host resource type, with its destructor.
    Resource(ResourceType),
}

impl<T: 'static> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Func(f, t, trusted, b) => {
                Definition::Func(f.clone(), t.clone(), *trusted, b.clone())
            }
            Definition::Instance(ns) => Definition::Instance(ns.clone()),
            Definition::Resource(ty) => Definition::Resource(ty.clone()),
        }
    }
}

struct Namespace<T: 'static> {
    defs: BTreeMap<String, Definition<T>>,
}

impl<T: 'static> Clone for Namespace<T> {
    fn clone(&self) -> Self {
        Namespace {
            defs: self.defs.clone(),
        }
    }
}

impl<T: 'static> Default for Namespace<T> {
    fn default() -> Self {
        Namespace {
            defs: BTreeMap::new(),
        }
    }
}

/// Host definitions for components' imports (wasmtime's
/// `component::Linker`): functions at the root or in named instances.
pub struct Linker<T: 'static> {
    engine: Engine,
    root: Namespace<T>,
    /// The imports of the component [`Linker::instantiate`] instantiated
    /// last, resolved: instantiating the same component again (a server
    /// instantiating per request) skips resolving them, about a sixth of
    /// the `hello` command's instantiation and run. Emptied by every
    /// change to the definitions (each takes `&mut self`).
    last: std::sync::Mutex<Option<InstancePre<T>>>,
}

impl<T: 'static> Clone for Linker<T> {
    fn clone(&self) -> Self {
        Linker {
            engine: self.engine.clone(),
            root: self.root.clone(),
            last: std::sync::Mutex::new(None),
        }
    }
}

/// A component with its imports found and checked (wasmtime's
/// `component::InstancePre`), for instantiating in any store of its
/// engine.
pub struct InstancePre<T: 'static> {
    component: Component,
    /// Each import's item, by name, in the component's order.
    items: Arc<Vec<(String, Item)>>,
    _data: std::marker::PhantomData<fn(T)>,
}

impl<T: 'static> Clone for InstancePre<T> {
    fn clone(&self) -> Self {
        InstancePre {
            component: self.component.clone(),
            items: self.items.clone(),
            _data: std::marker::PhantomData,
        }
    }
}

impl<T: 'static> InstancePre<T> {
    /// The component.
    pub fn component(&self) -> &Component {
        &self.component
    }

    /// A new instance of the component in `store`.
    pub fn instantiate(&self, mut store: impl AsContextMut<Data = T>) -> Result<Instance> {
        if !Engine::same(self.component.engine(), &store.as_context().opaque.engine) {
            return Err(Error::Usage(
                "a component instantiated in a store of another engine".into(),
            ));
        }
        let store = store.as_context_mut();
        let top = super::func::entered_from_host(&mut store.opaque)?;
        let exports = instantiate(
            store,
            self.component.def(),
            &mut |name, _, _| {
                self.items
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, i)| i.clone())
                    .ok_or_else(|| Error::Link(format!("component import `{name}` not resolved")))
            },
            top,
        )?;
        Ok(Instance::new(exports))
    }

    /// [`InstancePre::instantiate`] as an asynchronous call (see
    /// [`Linker::instantiate_async`]).
    pub async fn instantiate_async(
        &self,
        mut store: impl AsContextMut<Data = T>,
    ) -> Result<Instance>
    where
        T: Send,
    {
        let store = store.as_context_mut();
        crate::fiber::on_fiber(store, |s| self.instantiate(s)).await
    }
}

/// The definitions of one instance of a [`Linker`] (or of its root).
pub struct LinkerInstance<'a, T: 'static> {
    ns: &'a mut Namespace<T>,
    path: String,
    /// The engine runs asynchronous calls (`Config::async_support`).
    async_support: bool,
    /// Functions defined through it are walmart's own ([`Self::trusted`]).
    trusted: bool,
}

impl<T: 'static> Linker<T> {
    /// An empty linker for components of `engine`.
    pub fn new(engine: &Engine) -> Linker<T> {
        Linker {
            engine: engine.clone(),
            root: Namespace::default(),
            last: std::sync::Mutex::new(None),
        }
    }

    /// Forgets the imports resolved for the last instantiation: the
    /// definitions are about to change.
    fn changing(&mut self) {
        *self.last.get_mut().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The root's definitions (imports of functions by plain names).
    pub fn root(&mut self) -> LinkerInstance<'_, T> {
        self.changing();
        LinkerInstance {
            ns: &mut self.root,
            path: String::new(),
            async_support: self.engine.config().async_support,
            trusted: false,
        }
    }

    /// The definitions of the instance `name` (an interface, such as
    /// `wasi:cli/environment@0.2.0`), made empty if there are none yet.
    pub fn instance(&mut self, name: &str) -> Result<LinkerInstance<'_, T>> {
        self.changing();
        let async_support = self.engine.config().async_support;
        self.root.instance_mut(name, "", async_support)
    }

    /// [`Linker::instantiate`] as an asynchronous call (the engine needs
    /// `Config::async_support`): what instantiating runs (core start
    /// functions) may call asynchronous host functions.
    pub async fn instantiate_async(
        &self,
        mut store: impl AsContextMut<Data = T>,
        component: &Component,
    ) -> Result<Instance>
    where
        T: Send,
    {
        let store = store.as_context_mut();
        crate::fiber::on_fiber(store, |s| self.instantiate(s, component)).await
    }

    /// Defines every function `component` imports that this linker does
    /// not define (at the root, or in an imported instance) as one that
    /// fails, naming the import, when it is called (wasmtime's
    /// `define_unknown_imports_as_traps`): a component importing more than
    /// the host offers runs until it calls what is missing. An unknown
    /// resource type cannot be made up: it stays undefined.
    pub fn define_unknown_imports_as_traps(&mut self, component: &Component) -> Result<()> {
        self.changing();
        fn trap<T: 'static>(path: String) -> Definition<T> {
            let host = move |_: Caller<'_, T>, _: &[Val], _: &mut [Val]| -> Result<()> {
                Err(Error::msg(format!(
                    "unknown import: `{path}` has not been defined (--trap-unknown-imports)"
                )))
            };
            Definition::Func(Arc::new(host), None, false, None)
        }
        for (name, desc) in &component.def().imports {
            match desc {
                ImportDesc::Func(_) if find(&self.root.defs, name).is_none() => {
                    self.root.defs.insert(name.clone(), trap(name.clone()));
                }
                ImportDesc::Instance(items) => {
                    let known = find(&self.root.defs, name).is_some();
                    let ns = match self.root.defs.get_mut(name) {
                        Some(Definition::Instance(ns)) => ns,
                        // Defined under another (compatible) version, or
                        // as something else: left as it is.
                        Some(_) => continue,
                        None if known => continue,
                        None => match self
                            .root
                            .defs
                            .entry(name.clone())
                            .or_insert_with(|| Definition::Instance(Namespace::default()))
                        {
                            Definition::Instance(ns) => ns,
                            _ => unreachable!("an instance was just inserted"),
                        },
                    };
                    for (item, d) in items {
                        if matches!(d, ImportDesc::Func(_)) && !ns.defs.contains_key(item) {
                            ns.defs.insert(item.clone(), trap(format!("{name}#{item}")));
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The imports of `component` found and checked once (wasmtime's
    /// `instantiate_pre`): an [`InstancePre`] instantiates it in any store
    /// of the engine without looking them up again.
    pub fn instantiate_pre(&self, component: &Component) -> Result<InstancePre<T>> {
        if !Engine::same(component.engine(), &self.engine) {
            return Err(Error::Usage(
                "a component instantiated with a linker of another engine".into(),
            ));
        }
        // The resource types imports bring are noted as they come, as in
        // an instantiation: the functions after them name them.
        let state = InstanceState::default();
        let mut items = Vec::new();
        for (name, desc) in &component.def().imports {
            let path = ImportPath {
                instance: None,
                name,
            };
            let item = resolve(find(&self.root.defs, name), desc, &path, &state)?;
            super::instance::register(desc, &item, &state);
            items.push((name.clone(), item));
        }
        Ok(InstancePre {
            component: component.clone(),
            items: Arc::new(items),
            _data: std::marker::PhantomData,
        })
    }

    /// Instantiates `component`, its imports from this linker's
    /// definitions (an [`InstancePre`], kept for the next instantiation
    /// of the same component while the definitions stay as they are).
    pub fn instantiate(
        &self,
        store: impl AsContextMut<Data = T>,
        component: &Component,
    ) -> Result<Instance> {
        let last = |l: &Option<InstancePre<T>>| {
            l.as_ref().filter(|p| p.component.same(component)).cloned()
        };
        let kept = last(&self.last.lock().unwrap_or_else(|e| e.into_inner()));
        let pre = match kept {
            Some(pre) => pre,
            None => {
                let pre = self.instantiate_pre(component)?;
                *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(pre.clone());
                pre
            }
        };
        pre.instantiate(store)
    }
}

impl<T: 'static> Namespace<T> {
    fn instance_mut(
        &mut self,
        name: &str,
        parent: &str,
        async_support: bool,
    ) -> Result<LinkerInstance<'_, T>> {
        let path = if parent.is_empty() {
            name.to_string()
        } else {
            format!("{parent}/{name}")
        };
        let def = self
            .defs
            .entry(name.to_string())
            .or_insert_with(|| Definition::Instance(Namespace::default()));
        match def {
            Definition::Instance(ns) => Ok(LinkerInstance {
                ns,
                path,
                async_support,
                trusted: false,
            }),
            _ => Err(Error::Link(format!(
                "`{path}` is defined already, and not as an instance"
            ))),
        }
    }
}

impl<T: 'static> LinkerInstance<'_, T> {
    /// The definitions of the instance `name` inside this one.
    pub fn instance(&mut self, name: &str) -> Result<LinkerInstance<'_, T>> {
        self.ns.instance_mut(name, &self.path, self.async_support)
    }

    /// Functions defined through this from now on are walmart's own (WASI
    /// 0.2's): every write they make into guest memory goes through
    /// walmart's API (the canonical ABI's lowering), so attestation does
    /// not write-protect memory around their calls, as it does around an
    /// embedder's.
    pub(crate) fn trusted(mut self) -> Self {
        self.trusted = true;
        self
    }

    fn define(&mut self, name: &str, mut def: Definition<T>) -> Result<()> {
        if let Definition::Func(_, _, trusted, _) = &mut def {
            *trusted = self.trusted;
        }
        if self.ns.defs.contains_key(name) {
            let at = if self.path.is_empty() {
                String::new()
            } else {
                format!(" in `{}`", self.path)
            };
            return Err(Error::Link(format!("`{name}`{at} is defined twice")));
        }
        self.ns.defs.insert(name.to_string(), def);
        Ok(())
    }

    /// Defines `name` as the host resource type `ty` (made with
    /// [`ResourceType::host`]); `dtor` runs with its representation when a
    /// component drops an owned handle to one.
    pub fn resource(
        &mut self,
        name: &str,
        ty: ResourceType,
        dtor: impl Fn(Caller<'_, T>, u32) -> Result<()> + Send + Sync + 'static,
    ) -> Result<()> {
        let dtor: Arc<super::resources::HostDtor<T>> = Arc::new(dtor);
        let trusted = self.trusted;
        self.define(name, Definition::Resource(ty.with_host_dtor(dtor, trusted)))
    }

    /// Defines `name` as a host function of WASI 0.2's byte streams in its
    /// [`super::func::BytesFn`] form: a lowered call passes its `list<u8>`
    /// parameter (it has at most one) as bytes and lowers an `ok` of bytes
    /// whole; any other call goes through `Val`s, the first list of `u8`s
    /// among the parameters taken as the bytes.
    pub(crate) fn func_bytes(
        &mut self,
        name: &str,
        fast: impl Fn(Caller<'_, T>, &[Val], Option<Vec<u8>>) -> Result<super::func::HostOut>
            + Send
            + Sync
            + 'static,
    ) -> Result<()> {
        use super::func::HostOut;
        let fast: Arc<super::func::BytesFn<T>> = Arc::new(fast);
        let generic = fast.clone();
        let f = move |caller: Caller<'_, T>, params: &[Val], results: &mut [Val]| {
            let bytes = params
                .iter()
                .find_map(|v| match v {
                    // An empty list of any type passes for one: WASI's
                    // bytes functions have a single list parameter.
                    Val::List(items) if items.iter().all(|b| matches!(b, Val::U8(_))) => {
                        Some(items)
                    }
                    _ => None,
                })
                .map(|items| super::val::u8_list(items))
                .transpose()?;
            let out = match generic(caller, params, bytes)? {
                HostOut::Val(v) => v,
                HostOut::Bytes(b, shape) => Some(shape.value(b)),
            };
            if let (Some(slot), Some(v)) = (results.first_mut(), out) {
                *slot = v;
            }
            Ok(())
        };
        self.define(name, Definition::Func(Arc::new(f), None, false, Some(fast)))
    }

    /// Defines `name` as a host function of component values: `params`
    /// as the import's type says, `results` one slot to fill when it
    /// returns a value. Errors become traps in the calling component.
    pub fn func_new(
        &mut self,
        name: &str,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<()> {
        self.define(name, Definition::Func(Arc::new(func), None, false, None))
    }

    /// Defines `name` as an asynchronous host function of component values
    /// (wasmtime's `func_new_async`): the future it returns is awaited
    /// with the asynchronous call that reached it suspended (the engine
    /// needs `Config::async_support`; a synchronous call reaching it
    /// fails).
    pub fn func_new_async<F>(&mut self, name: &str, func: F) -> Result<()>
    where
        F: for<'a> Fn(Caller<'a, T>, &'a [Val], &'a mut [Val]) -> crate::HostFuture<'a, Result<()>>
            + Send
            + Sync
            + 'static,
    {
        self.async_enabled(name)?;
        let host = move |mut caller: Caller<'_, T>, params: &[Val], results: &mut [Val]| {
            let acx = crate::async_host::fiber_of(&mut caller)?;
            let future = func(caller.reborrow(), params, results);
            // SAFETY: the fiber the call that reached this runs on; the
            // frames between are the runtime's.
            unsafe { crate::fiber::wait_in_host_call(acx, std::pin::Pin::from(future).as_mut()) }?
        };
        self.define(name, Definition::Func(Arc::new(host), None, false, None))
    }

    /// [`LinkerInstance::func_wrap`] of an asynchronous closure (wasmtime's
    /// `func_wrap_async`; see [`LinkerInstance::func_new_async`]).
    pub fn func_wrap_async<P, R, F>(&mut self, name: &str, func: F) -> Result<()>
    where
        P: ComponentNamedList,
        R: ComponentResults,
        F: for<'a> Fn(Caller<'a, T>, P) -> crate::HostFuture<'a, Result<R>> + Send + Sync + 'static,
    {
        self.async_enabled(name)?;
        let ty = FuncType::new(
            P::types().into_iter().map(|t| (String::new(), t)).collect(),
            R::ty(),
        );
        let host = move |mut caller: Caller<'_, T>, params: &[Val], results: &mut [Val]| {
            let params = P::from_vals(params)?;
            let acx = crate::async_host::fiber_of(&mut caller)?;
            let future = func(caller.reborrow(), params);
            // SAFETY: as in `func_new_async`.
            let r = unsafe {
                crate::fiber::wait_in_host_call(acx, std::pin::Pin::from(future).as_mut())
            }??;
            if let (Some(slot), Some(v)) = (results.first_mut(), r.into_val()) {
                *slot = v;
            }
            Ok(())
        };
        self.define(
            name,
            Definition::Func(Arc::new(host), Some(ty), false, None),
        )
    }

    fn async_enabled(&self, name: &str) -> Result<()> {
        if self.async_support {
            return Ok(());
        }
        Err(Error::Usage(format!(
            "asynchronous host function `{name}` needs an engine with \
             Config::async_support(true)"
        )))
    }

    /// Defines `name` as a host function of Rust values: a tuple of its
    /// parameters in, a tuple of its result (or `()`) out. Its types are
    /// checked against the import's when a component is instantiated.
    pub fn func_wrap<P, R>(
        &mut self,
        name: &str,
        func: impl Fn(Caller<'_, T>, P) -> Result<R> + Send + Sync + 'static,
    ) -> Result<()>
    where
        P: ComponentNamedList,
        R: ComponentResults,
    {
        use super::func::{BytesShape, HostOut};
        use super::typed::{Arg, Elem};
        let ty = FuncType::new(
            P::types().into_iter().map(|t| (String::new(), t)).collect(),
            R::ty(),
        );
        let func = Arc::new(func);
        // A list of numbers as a parameter (the first such: see
        // `lowered_bytes_call`), or a `list<u8>` result, crosses as bytes in
        // a lowered call, not a `Val` per element.
        let numbers = |t: &super::types::Type| match t {
            super::types::Type::List(e) => Elem::of(e),
            _ => None,
        };
        let slot = ty
            .params
            .iter()
            .enumerate()
            .find_map(|(i, (_, t))| numbers(t).map(|e| (i, e)));
        let bytes_result = ty
            .result
            .as_ref()
            .is_some_and(|t| BytesShape::List.fits(t) || BytesShape::Ok.fits(t));
        let fast = (slot.is_some() || bytes_result).then(|| {
            let func = func.clone();
            let fast = move |caller: Caller<'_, T>, params: &[Val], bytes: Option<Vec<u8>>| {
                let mut bytes = bytes;
                let args = params
                    .iter()
                    .enumerate()
                    .map(
                        |(i, v)| match (bytes.take_if(|_| slot.is_some_and(|s| s.0 == i)), slot) {
                            (Some(b), Some((_, elem))) => Arg::Elems(b, elem),
                            _ => Arg::Val(v.clone()),
                        },
                    )
                    .collect();
                let r = func(caller, P::from_args(args)?)?;
                Ok(match r.into_arg() {
                    Some(Arg::Elems(b, Elem::U8)) => HostOut::Bytes(b, BytesShape::List),
                    Some(Arg::OkBytes(b)) => HostOut::Bytes(b, BytesShape::Ok),
                    other => HostOut::Val(other.map(Arg::into_val)),
                })
            };
            Arc::new(fast) as Arc<super::func::BytesFn<T>>
        });
        let host = move |caller: Caller<'_, T>, params: &[Val], results: &mut [Val]| {
            let params = P::from_vals(params)?;
            let r = func(caller, params)?;
            if let (Some(slot), Some(v)) = (results.first_mut(), r.into_val()) {
                *slot = v;
            }
            Ok(())
        };
        self.define(
            name,
            Definition::Func(Arc::new(host), Some(ty), false, fast),
        )
    }
}

/// The definition of the import `name`: of that name, or else of the
/// same interface at the newest semver-compatible version.
fn find<'a, T: 'static>(
    defs: &'a BTreeMap<String, Definition<T>>,
    name: &str,
) -> Option<&'a Definition<T>> {
    if let Some(def) = defs.get(name) {
        return Some(def);
    }
    super::versions::find_compatible(name, defs.iter().map(|(n, d)| (n.as_str(), d)))
}

/// An import's name for messages, written only when one is: `name` at
/// the root or `instance#name`.
struct ImportPath<'a> {
    instance: Option<&'a str>,
    name: &'a str,
}

impl std::fmt::Display for ImportPath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.instance {
            Some(i) => write!(f, "{i}#{}", self.name),
            None => write!(f, "{}", self.name),
        }
    }
}

/// The item the linker gives for the import `path` of type `desc`; the
/// resource types it gives are noted in `state` as they come (the
/// functions after them name them).
fn resolve<T: 'static>(
    def: Option<&Definition<T>>,
    desc: &ImportDesc,
    path: &ImportPath<'_>,
    state: &InstanceState,
) -> Result<Item> {
    match (desc, def) {
        (ImportDesc::Type(None), _) => Ok(Item::Type(None)),
        (ImportDesc::Type(Some(key)), Some(Definition::Resource(ty))) => {
            state.define(*key, ty.clone());
            Ok(Item::Type(Some(ty.clone())))
        }
        // A type the interface uses from another (`use wasi:io/error.{error}`):
        // an import before this one gave it.
        (ImportDesc::Type(Some(key)), None) if state.resolve(key).is_ok() => {
            Ok(Item::Type(Some(state.resolve(key)?)))
        }
        (ImportDesc::Func(ty), Some(Definition::Func(f, typed, trusted, bytes))) => {
            if let Some(typed) = typed {
                let same = ty.params().len() == typed.params().len()
                    && ty
                        .params()
                        .iter()
                        .zip(typed.params())
                        .all(|((_, a), (_, b))| matches(a, b, Some(state)))
                    && match (ty.result(), typed.result()) {
                        (Some(a), Some(b)) => matches(a, b, Some(state)),
                        (None, None) => true,
                        _ => false,
                    };
                if !same {
                    return Err(Error::Link(format!(
                        "component imports `{path}` of type `{ty}`; the linker's function \
                         has type `{typed}`"
                    )));
                }
            }
            Ok(Item::Func(Func::host(
                f.clone(),
                ty.clone(),
                path.to_string().into(),
                *trusted,
                bytes.clone(),
            )))
        }
        (ImportDesc::Instance(exports), Some(Definition::Instance(ns))) => {
            let items = exports
                .iter()
                .map(|(name, d)| {
                    let inner = ImportPath {
                        instance: Some(path.name),
                        name,
                    };
                    let item = resolve(ns.defs.get(name), d, &inner, state)?;
                    Ok((name.clone(), item))
                })
                .collect::<Result<_>>()?;
            Ok(Item::Instance(Arc::new(Exports { items })))
        }
        (ImportDesc::Module | ImportDesc::Component, _) => Err(Error::Link(format!(
            "component imports `{path}`, a core module or a component: the linker defines \
             functions, resource types and instances of them"
        ))),
        (d, None) => Err(Error::Link(format!(
            "component imports {} `{path}`, which the linker does not define",
            match d {
                ImportDesc::Func(ty) => format!("the function of type `{ty}`"),
                ImportDesc::Type(_) => "the resource type".to_string(),
                _ => "the instance".to_string(),
            }
        ))),
        (d, Some(def)) => Err(Error::Link(format!(
            "component imports `{path}` as {}; the linker defines {}",
            match d {
                ImportDesc::Func(_) => "a function",
                ImportDesc::Type(_) => "a resource type",
                _ => "an instance",
            },
            match def {
                Definition::Func(..) => "a function",
                Definition::Resource(_) => "a resource type",
                Definition::Instance(_) => "an instance",
            }
        ))),
    }
}
