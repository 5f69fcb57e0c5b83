//! The linker: names for host objects and instances, resolved against a
//! module's imports at instantiation.

use std::collections::HashMap;
use std::sync::Arc;

use crate::engine::Engine;
use crate::error::{printable, Error, Result};
use crate::func::{Caller, Func, HostFn, HostFuncDef};
use crate::instance::{self, Instance};
use crate::module::Module;
use crate::store::AsContextMut;
use crate::types::FuncType;
use crate::values::{Extern, Val};
use walmart_jit::module_info::ImportKind;

enum Definition<T: 'static> {
    Extern(Extern),
    /// A host function not yet created in a store.
    HostFunc(Arc<HostFuncDef<T>>),
}

impl<T: 'static> Definition<T> {
    /// The item in `store`: a host function is made there as it is asked.
    fn in_store(&self, store: impl AsContextMut<Data = T>) -> Extern {
        match self {
            Definition::Extern(e) => *e,
            Definition::HostFunc(def) => Extern::Func(Func::from_def(store, def)),
        }
    }
}

impl<T: 'static> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Extern(e) => Definition::Extern(*e),
            Definition::HostFunc(def) => Definition::HostFunc(def.clone()),
        }
    }
}

/// What [`Linker::define_unknown_imports`] defines a module's unknown
/// function imports as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnknownImports {
    /// Functions that fail, naming the import, when called.
    Trap,
    /// Functions that return zeros and nulls.
    DefaultValues,
}

/// Resolves imports by `(module, name)`.
pub struct Linker<T: 'static> {
    engine: Engine,
    /// Keyed by module, then name, so lookups borrow the import's strings.
    defs: HashMap<String, HashMap<String, Definition<T>>>,
    /// A later definition of a name replaces the earlier one
    /// ([`Linker::allow_shadowing`]).
    allow_shadowing: bool,
}

impl<T: 'static> Clone for Linker<T> {
    /// A linker with the same definitions (host functions shared, not
    /// copied), which each may then extend on its own.
    fn clone(&self) -> Self {
        Linker {
            engine: self.engine.clone(),
            defs: self.defs.clone(),
            allow_shadowing: self.allow_shadowing,
        }
    }
}

impl<T: 'static> std::fmt::Debug for Linker<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut modules: Vec<&String> = self.defs.keys().collect();
        modules.sort();
        f.debug_struct("Linker")
            .field("modules", &modules)
            .field("allow_shadowing", &self.allow_shadowing)
            .finish()
    }
}

impl<T: 'static> Linker<T> {
    /// An empty linker.
    pub fn new(engine: &Engine) -> Linker<T> {
        Linker {
            engine: engine.clone(),
            defs: HashMap::new(),
            allow_shadowing: false,
        }
    }

    /// Whether defining a name again replaces the earlier definition. Off
    /// by default, as in wasmtime: a second definition of a name is an
    /// error, so two host libraries cannot silently take each other's
    /// functions.
    pub fn allow_shadowing(&mut self, allow: bool) -> &mut Self {
        self.allow_shadowing = allow;
        self
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Defines `module::name` as `item` (an error if the name is defined
    /// already, unless [`Linker::allow_shadowing`]).
    pub fn define(
        &mut self,
        _store: impl AsContextMut<Data = T>,
        module: &str,
        name: &str,
        item: impl Into<Extern>,
    ) -> Result<&mut Self> {
        self.insert(module, name.to_string(), Definition::Extern(item.into()))?;
        Ok(self)
    }

    /// Defines a host function; it is created in each store that
    /// instantiates through this linker.
    pub fn func_new(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<&mut Self> {
        let host = crate::func::val_host(ty.clone(), func);
        self.host_func(module, name, ty, host, false)
    }

    /// Defines a host function from a Rust closure whose parameter and
    /// result types give its Wasm type (as wasmtime's `func_wrap`):
    /// `linker.func_wrap("env", "add", |a: i32, b: i32| a + b)`, or with
    /// the [`Caller`] first; see [`crate::IntoFunc`].
    pub fn func_wrap<Params, Results>(
        &mut self,
        module: &str,
        name: &str,
        func: impl crate::IntoFunc<T, Params, Results>,
    ) -> Result<&mut Self> {
        let (ty, host) = func.into_host();
        self.host_func(module, name, ty, host, false)
    }

    /// Defines an asynchronous host function (wasmtime's
    /// `func_wrap_async`): `func` takes the [`Caller`] and the Wasm
    /// parameters as a tuple, and returns a boxed future of the results
    /// (a value, a tuple, `()` or a `Result` of those, as
    /// [`Linker::func_wrap`]'s). Wasm that calls it must run in an
    /// asynchronous call ([`crate::Func::call_async`],
    /// [`Linker::instantiate_async`]), which is suspended while the future
    /// is pending; from a synchronous call it fails.
    ///
    /// ```ignore
    /// linker.func_wrap_async("env", "fetch", |caller: Caller<'_, T>, (key,): (i32,)| {
    ///     Box::new(async move { lookup(key).await })
    /// })?;
    /// ```
    pub fn func_wrap_async<Params, Results, F>(
        &mut self,
        module: &str,
        name: &str,
        func: F,
    ) -> Result<&mut Self>
    where
        Params: crate::WasmList + 'static,
        Results: crate::WasmResults + 'static,
        F: for<'a> Fn(Caller<'a, T>, Params) -> crate::HostFuture<'a, Results>
            + Send
            + Sync
            + 'static,
    {
        self.async_enabled(module, name)?;
        let (ty, host) = crate::async_host::typed(func);
        self.host_func(module, name, ty, host, false)
    }

    /// Defines an asynchronous host function of type `ty` over [`Val`]s
    /// (wasmtime's `func_new_async`; see [`Linker::func_wrap_async`]).
    pub fn func_new_async<F>(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        func: F,
    ) -> Result<&mut Self>
    where
        F: for<'a> Fn(Caller<'a, T>, &'a [Val], &'a mut [Val]) -> crate::HostFuture<'a, Result<()>>
            + Send
            + Sync
            + 'static,
    {
        self.async_enabled(module, name)?;
        let host = crate::async_host::untyped(ty.clone(), func);
        self.host_func(module, name, ty, host, false)
    }

    /// Fails unless the engine allows asynchronous calls, naming the
    /// asynchronous host function that needs them.
    fn async_enabled(&self, module: &str, name: &str) -> Result<()> {
        if self.engine.config().async_support {
            return Ok(());
        }
        Err(Error::Usage(format!(
            "asynchronous host function `{module}::{name}` needs an engine with \
             Config::async_support(true)"
        )))
    }

    /// Defines a host function; `trusted` marks walmart's own WASI, whose
    /// writes to guest memory are tracked (attestation does not
    /// write-protect memory around it).
    pub(crate) fn host_func(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        func: Arc<HostFn<T>>,
        trusted: bool,
    ) -> Result<&mut Self> {
        let def = HostFuncDef::new(&self.engine, ty, func)?;
        self.define_host(module, name, def, trusted)
    }

    /// Defines the host function `def` as `module::name`.
    fn define_host(
        &mut self,
        module: &str,
        name: &str,
        mut def: HostFuncDef<T>,
        trusted: bool,
    ) -> Result<&mut Self> {
        def.name = Some(format!("{module}.{name}").into());
        def.trusted = trusted;
        self.insert(
            module,
            name.to_string(),
            Definition::HostFunc(Arc::new(def)),
        )?;
        Ok(self)
    }

    /// Defines every export of `instance` under `module`.
    pub fn instance(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        instance: Instance,
    ) -> Result<&mut Self> {
        let exports = instance::export_map(&mut store.as_context_mut().opaque, instance);
        // All or nothing: no export is defined when one name is taken.
        for name in exports.keys() {
            self.check_free(module, name)?;
        }
        for (name, ext) in exports {
            self.insert(module, name, Definition::Extern(ext))?;
        }
        Ok(self)
    }

    /// Defines `module`'s exports under `module_name`, as wasmtime's
    /// `Linker::module` does, by the kind of WASI module it is:
    ///
    /// * A reactor (no `_start` export) is instantiated now, in `store`,
    ///   its `_initialize` (a function of no parameters and results) called
    ///   when it exports one, and its exports defined (as
    ///   [`Linker::instance`]).
    /// * A command (a `_start` function) gets a fresh instance for each
    ///   call of one of its exported functions, which are what is defined
    ///   (its other exports are not). Its imports are resolved now, against
    ///   this linker's definitions as they are (a missing one is an error
    ///   here). Each call's instance, with its memories, stays in the
    ///   calling store until the store is dropped, as in wasmtime: a
    ///   long-lived store calling a command often grows, and under the
    ///   pooling allocator holds a slot a call.
    ///
    /// A module that exports both `_start` and `_initialize` is an error,
    /// and so is a `_start` or `_initialize` that is not such a function.
    pub fn module(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module_name: &str,
        module: &Module,
    ) -> Result<&mut Self> {
        let functions = match self.module_kind(module_name, module)? {
            ModuleKind::Reactor => {
                let instance = self.instantiate(&mut store, module)?;
                if let Some(init) = instance.get_func(&mut store, "_initialize") {
                    init.call(&mut store, &[], &mut [])?;
                }
                return self.instance(store, module_name, instance);
            }
            ModuleKind::Command(functions) => functions,
        };
        let pre = Arc::new(self.instantiate_pre(module)?);
        for (name, ty) in functions {
            let (pre, export) = (pre.clone(), name.clone());
            self.func_new(
                module_name,
                &name,
                ty,
                move |mut caller, params, results| {
                    let instance = pre.instantiate(&mut caller)?;
                    let func = instance
                        .get_func(&mut caller, &export)
                        .expect("the module exports this function");
                    func.call(&mut caller, params, results)
                },
            )?;
        }
        Ok(self)
    }

    /// [`Linker::module`] for asynchronous calls (wasmtime's
    /// `module_async`): a reactor is instantiated and initialized as
    /// asynchronous calls, and a command's exports are asynchronous host
    /// functions that instantiate it and call the export with
    /// `instantiate_async` and `call_async` (nested in the calling Wasm's
    /// asynchronous call).
    pub async fn module_async(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module_name: &str,
        module: &Module,
    ) -> Result<&mut Self>
    where
        T: Send,
    {
        let functions = match self.module_kind(module_name, module)? {
            ModuleKind::Reactor => {
                let instance = self.instantiate_async(&mut store, module).await?;
                if let Some(init) = instance.get_func(&mut store, "_initialize") {
                    init.call_async(&mut store, &[], &mut []).await?;
                }
                return self.instance(store, module_name, instance);
            }
            ModuleKind::Command(functions) => functions,
        };
        let pre = Arc::new(self.instantiate_pre(module)?);
        for (name, ty) in functions {
            let (pre, export) = (pre.clone(), Arc::new(name.clone()));
            self.func_new_async(
                module_name,
                &name,
                ty,
                move |mut caller, params, results| {
                    let (pre, export) = (pre.clone(), export.clone());
                    Box::new(async move {
                        let instance = pre.instantiate_async(&mut caller).await?;
                        let func = instance
                            .get_func(&mut caller, &export)
                            .expect("the module exports this function");
                        func.call_async(&mut caller, params, results).await
                    })
                },
            )?;
        }
        Ok(self)
    }

    /// Which kind of WASI module `module` is, for [`Linker::module`]: a
    /// reactor, or a command and its exported functions (each name free
    /// under `module_name`, checked before any is defined).
    fn module_kind(&self, module_name: &str, module: &Module) -> Result<ModuleKind> {
        self.same_engine(module)?;
        let entry = |name: &str| {
            module
                .exports()
                .find(|(n, _)| *n == name)
                .map(|(_, ty)| match ty {
                    crate::ExternType::Func(f)
                        if f.params().is_empty() && f.results().is_empty() =>
                    {
                        Ok(())
                    }
                    _ => Err(Error::Usage(format!(
                        "module `{}`: `{name}` is not a function of no parameters and results",
                        printable(module_name)
                    ))),
                })
        };
        let (start, initialize) = (entry("_start"), entry("_initialize"));
        if start.is_some() && initialize.is_some() {
            return Err(Error::Usage(format!(
                "module `{}` exports both `_start` and `_initialize`: it is neither a command nor a \
                 reactor",
                printable(module_name)
            )));
        }
        if start.is_none() {
            initialize.transpose()?;
            return Ok(ModuleKind::Reactor);
        }
        start.transpose()?;
        let functions: Vec<(String, FuncType)> = module
            .exports()
            .filter_map(|(name, ty)| match ty {
                crate::ExternType::Func(ty) => Some((name.to_string(), ty)),
                _ => None,
            })
            .collect();
        // All or nothing: no export is defined when one name is taken.
        for (name, _) in &functions {
            self.check_free(module_name, name)?;
        }
        Ok(ModuleKind::Command(functions))
    }

    /// The function a module defined under `module` runs by default
    /// (wasmtime's `Linker::get_default`): its export named `""`, or else
    /// `_start`, or else a function that does nothing. Anything else of
    /// those names is an error.
    pub fn get_default(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
    ) -> Result<Func> {
        for name in ["", "_start"] {
            match self.get(&mut store, module, name) {
                Some(Extern::Func(f)) => return Ok(f),
                Some(_) => {
                    return Err(Error::Usage(format!(
                        "`{}::{}` is not a function",
                        printable(module),
                        printable(name)
                    )))
                }
                None => {}
            }
        }
        Ok(Func::wrap(&mut store, || {}))
    }

    /// Defines every function `module` imports that this linker does not
    /// define as one that fails with an error naming the import when it
    /// is called (wasmtime's `define_unknown_imports_as_traps`): a module
    /// importing more than the host offers runs until it calls what is
    /// missing. Imports of other kinds stay undefined.
    pub fn define_unknown_imports_as_traps(&mut self, module: &Module) -> Result<()> {
        self.define_unknown_imports(module, UnknownImports::Trap)
    }

    /// Defines every function `module` imports that this linker does not
    /// define as one that returns zeros and nulls (wasmtime's
    /// `define_unknown_imports_as_default_values`). Imports of other
    /// kinds stay undefined.
    pub fn define_unknown_imports_as_default_values(&mut self, module: &Module) -> Result<()> {
        self.define_unknown_imports(module, UnknownImports::DefaultValues)
    }

    /// Defines every function `module` imports that this linker does not
    /// define as `how` says.
    pub fn define_unknown_imports(&mut self, module: &Module, how: UnknownImports) -> Result<()> {
        match how {
            UnknownImports::Trap => self.define_unknown_as_traps(module),
            UnknownImports::DefaultValues => self.define_unknown_as_default_values(module),
        }
    }

    fn define_unknown_as_traps(&mut self, module: &Module) -> Result<()> {
        self.define_unknown_functions(module, |m, n, _| {
            let what = format!("{}::{}", printable(m), printable(n));
            // A host error, so the call fails as a trap in Wasm code does,
            // with the Wasm frames that called it.
            move |_, _: &[Val], _: &mut [Val]| {
                Err(Error::from(anyhow::anyhow!(
                    "unknown import `{what}` called: it has not been defined"
                )))
            }
        })
    }

    fn define_unknown_as_default_values(&mut self, module: &Module) -> Result<()> {
        // A non-nullable reference has no default: refused by name, as in
        // wasmtime, before anything is defined.
        for import in &module.info().imports {
            if let ImportKind::Func(t, _) = import.kind {
                let sig = &module.info().types[t as usize];
                let param_refs = sig.params.iter().filter(|p| p.is_ref()).count();
                if sig.refs.iter().skip(param_refs).any(|r| !r.nullable)
                    && !self.defines(&import.module, &import.name)
                {
                    return Err(Error::Link(format!(
                        "cannot define `{}::{}` to return default values: a result is a \
                         non-nullable reference",
                        printable(&import.module),
                        printable(&import.name)
                    )));
                }
            }
        }
        self.define_unknown_functions(module, |_, _, ty| {
            let defaults: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
            move |_, _: &[Val], results: &mut [Val]| {
                results.clone_from_slice(&defaults);
                Ok(())
            }
        })
    }

    /// Defines each function import of `module` this linker lacks with
    /// the host function `make(module, name, type)` gives.
    fn define_unknown_functions<F>(
        &mut self,
        module: &Module,
        make: impl Fn(&str, &str, &FuncType) -> F,
    ) -> Result<()>
    where
        F: Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    {
        let info = module.info();
        for import in &info.imports {
            let ImportKind::Func(t, _) = import.kind else {
                continue;
            };
            let (m, n) = (import.module.as_str(), import.name.as_str());
            // A module may import one name twice: defined once.
            if self.defines(m, n) {
                continue;
            }
            // Of the import's exact type (typed references included, which
            // a `FuncType` does not tell), so that it links.
            let ty = FuncType::from_sig(&info.types[t as usize]);
            let host = crate::func::val_host(ty.clone(), make(m, n, &ty));
            let type_id = module.inner.type_ids[t as usize];
            let def = HostFuncDef::with_type_id(&self.engine, ty, type_id, host)?;
            self.define_host(m, n, def, false)?;
        }
        Ok(())
    }

    /// Defines `as_module::as_name` as what `module::name` is defined as.
    pub fn alias(
        &mut self,
        module: &str,
        name: &str,
        as_module: &str,
        as_name: &str,
    ) -> Result<&mut Self> {
        let def = self.lookup(module, name)?;
        self.insert(as_module, as_name.to_string(), def)?;
        Ok(self)
    }

    /// Defines every name under `module` under `as_module` too.
    pub fn alias_module(&mut self, module: &str, as_module: &str) -> Result<&mut Self> {
        let names: Vec<String> = self
            .defs
            .get(module)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        for name in &names {
            self.check_free(as_module, name)?;
        }
        for name in names {
            let def = self.lookup(module, &name)?;
            self.insert(as_module, name, def)?;
        }
        Ok(self)
    }

    /// A copy of the definition of `module::name`.
    fn lookup(&self, module: &str, name: &str) -> Result<Definition<T>> {
        match self.defs.get(module).and_then(|m| m.get(name)) {
            Some(Definition::Extern(e)) => Ok(Definition::Extern(*e)),
            Some(Definition::HostFunc(def)) => Ok(Definition::HostFunc(def.clone())),
            None => Err(Error::Link(format!(
                "`{}::{}` is not defined",
                printable(module),
                printable(name)
            ))),
        }
    }

    /// Whether `module::name` is defined.
    fn defines(&self, module: &str, name: &str) -> bool {
        self.defs.get(module).is_some_and(|m| m.contains_key(name))
    }

    /// An error if defining `module::name` would replace a definition
    /// and shadowing is not allowed.
    fn check_free(&self, module: &str, name: &str) -> Result<()> {
        if !self.allow_shadowing && self.defines(module, name) {
            return Err(Error::Link(format!(
                "`{}::{}` is defined twice (Linker::allow_shadowing(true) lets a later \
                 definition replace an earlier one)",
                printable(module),
                printable(name)
            )));
        }
        Ok(())
    }

    fn insert(&mut self, module: &str, name: String, def: Definition<T>) -> Result<()> {
        self.check_free(module, &name)?;
        self.defs
            .entry(module.to_string())
            .or_default()
            .insert(name, def);
        Ok(())
    }

    /// Every definition, as `(module, name, item)` (wasmtime's
    /// `Linker::iter`): host functions are made in `store` as they are
    /// listed. In no particular order.
    pub fn iter<'a>(
        &'a self,
        mut store: impl AsContextMut<Data = T> + 'a,
    ) -> impl Iterator<Item = (&'a str, &'a str, Extern)> + 'a {
        self.defs
            .iter()
            .flat_map(|(module, names)| names.iter().map(move |(name, def)| (module, name, def)))
            .map(move |(module, name, def)| {
                (module.as_str(), name.as_str(), def.in_store(&mut store))
            })
    }

    /// Looks up a definition.
    pub fn get(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        name: &str,
    ) -> Option<Extern> {
        Some(self.defs.get(module)?.get(name)?.in_store(&mut store))
    }

    /// Instantiates `module` as an asynchronous call ([`Linker::instantiate`]
    /// on a fiber, as [`crate::Func::call_async`]): its start function may
    /// await asynchronous host functions.
    pub async fn instantiate_async(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &Module,
    ) -> Result<Instance>
    where
        T: Send,
    {
        crate::fiber::on_fiber(store.as_context_mut(), |s| self.instantiate(s, module)).await
    }

    /// Instantiates `module`, resolving its imports here.
    pub fn instantiate(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &Module,
    ) -> Result<Instance> {
        self.same_engine(module)?;
        // By name only: the types are checked where the imports are
        // linked, and building them here cost more than the lookups.
        let mut imports = Vec::with_capacity(module.info().imports.len());
        for import in &module.info().imports {
            let (m, n) = (import.module.as_str(), import.name.as_str());
            let ext = self
                .get(&mut store, m, n)
                .ok_or_else(|| unknown_import(m, n))?;
            imports.push(ext);
        }
        Instance::new(store, module, &imports)
    }

    /// `module` with its imports resolved here once (wasmtime's
    /// `instantiate_pre`): [`InstancePre::instantiate`] then makes an
    /// instance in any store without looking a name up. A name the linker
    /// lacks is an error now, and so is a host function of another type
    /// than the import's; the types of other definitions (memories,
    /// tables, globals, tags, instances' functions) are checked at each
    /// instantiation, in the store that owns them.
    pub fn instantiate_pre(&self, module: &Module) -> Result<InstancePre<T>> {
        self.same_engine(module)?;
        let engine = module.engine();
        let mut defs = Vec::with_capacity(module.info().imports.len());
        for import in &module.info().imports {
            let (m, n) = (import.module.as_str(), import.name.as_str());
            let def = self.lookup(m, n).map_err(|_| unknown_import(m, n))?;
            if let (ImportKind::Func(t, exact), Definition::HostFunc(f)) = (&import.kind, &def) {
                let want = module.inner.type_ids[*t as usize];
                if !engine.fits(f.type_id(), want, *exact) {
                    return Err(Error::Link(format!(
                        "incompatible import type for `{}::{}`: the host function is of \
                         another type",
                        printable(m),
                        printable(n)
                    )));
                }
            }
            defs.push(def);
        }
        let hosts = defs
            .iter()
            .filter(|d| matches!(d, Definition::HostFunc(_)))
            .count();
        Ok(InstancePre {
            module: module.clone(),
            defs: Arc::new(defs),
            hosts,
        })
    }
}

impl<T: 'static> Linker<T> {
    /// An error unless `module` is of this linker's engine: type ids are
    /// engine-wide numbers, and host functions' stubs live in their
    /// engine, so another engine's could link to the wrong type.
    fn same_engine(&self, module: &Module) -> Result<()> {
        if Engine::same(&self.engine, module.engine()) {
            Ok(())
        } else {
            Err(Error::Usage(
                "the module was compiled by another engine than the linker's".into(),
            ))
        }
    }
}

/// The error of an import defined by another store's object.
pub(crate) fn another_store(module: &str, name: &str) -> Error {
    Error::Link(format!(
        "import `{}::{}` is defined by an object of another store",
        printable(module),
        printable(name)
    ))
}

fn unknown_import(module: &str, name: &str) -> Error {
    // A module built for WASI 0.2 (`wasi:cli/...@0.2.0`) names the
    // component model's interfaces: say which WASI walmart has.
    let hint = if module.starts_with("wasi:") {
        " (a WASI 0.2 interface of the component model: a core module's WASI is \
         preview 1, `wasi_snapshot_preview1`; WASI 0.2 is for components)"
    } else {
        ""
    };
    Error::Link(format!(
        "unknown import: {}::{}{hint}",
        printable(module),
        printable(name)
    ))
}

/// What [`Linker::module`] makes of a module.
enum ModuleKind {
    /// No `_start`: instantiated once, `_initialize` called.
    Reactor,
    /// `_start`: a fresh instance per call of each exported function.
    Command(Vec<(String, FuncType)>),
}

/// A module with its imports resolved by a [`Linker`]
/// ([`Linker::instantiate_pre`]), ready to instantiate in any store of its
/// engine (whose data is a `T`) without name lookups: what a server that
/// makes an instance per request keeps. Cheap to clone; shareable across
/// threads.
pub struct InstancePre<T: 'static> {
    module: Module,
    defs: Arc<Vec<Definition<T>>>,
    /// How many of `defs` are host functions, each made in the store.
    hosts: usize,
}

impl<T: 'static> Clone for InstancePre<T> {
    fn clone(&self) -> Self {
        InstancePre {
            module: self.module.clone(),
            defs: self.defs.clone(),
            hosts: self.hosts,
        }
    }
}

impl<T: 'static> std::fmt::Debug for InstancePre<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstancePre")
            .field("module", &self.module)
            .field("imports", &self.defs.len())
            .finish()
    }
}

impl<T: 'static> InstancePre<T> {
    /// The module.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// Instantiates the module as an asynchronous call
    /// ([`InstancePre::instantiate`] on a fiber, as
    /// [`crate::Func::call_async`]).
    pub async fn instantiate_async(
        &self,
        mut store: impl AsContextMut<Data = T>,
    ) -> Result<Instance>
    where
        T: Send,
    {
        crate::fiber::on_fiber(store.as_context_mut(), |s| self.instantiate(s)).await
    }

    /// Instantiates the module in `store`: host functions are made in it,
    /// other definitions must belong to it.
    pub fn instantiate(&self, mut store: impl AsContextMut<Data = T>) -> Result<Instance> {
        // Checked before any host function is made in the store (as
        // `Instance::new` checks the definitions' stores).
        let opaque = &mut store.as_context_mut().opaque;
        if !Engine::same(&opaque.engine, self.module.engine()) {
            return Err(Error::Usage(
                "the store is of another engine than the module's".into(),
            ));
        }
        opaque.reserve_host_funcs(self.hosts);
        let imports: Vec<Extern> = self
            .defs
            .iter()
            .map(|def| match def {
                Definition::Extern(e) => *e,
                Definition::HostFunc(def) => Extern::Func(Func::from_def(&mut store, def)),
            })
            .collect();
        Instance::new(store, &self.module, &imports)
    }
}
