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

enum Definition<T: 'static> {
    Extern(Extern),
    /// A host function not yet created in a store.
    HostFunc(HostFuncDef<T>),
}

/// Resolves imports by `(module, name)`.
pub struct Linker<T: 'static> {
    engine: Engine,
    /// Keyed by module, then name, so lookups borrow the import's strings.
    defs: HashMap<String, HashMap<String, Definition<T>>>,
}

impl<T: 'static> Linker<T> {
    /// An empty linker.
    pub fn new(engine: &Engine) -> Linker<T> {
        Linker {
            engine: engine.clone(),
            defs: HashMap::new(),
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Defines `module::name` as `item`, replacing any earlier definition.
    pub fn define(
        &mut self,
        _store: impl AsContextMut<Data = T>,
        module: &str,
        name: &str,
        item: impl Into<Extern>,
    ) -> Result<&mut Self> {
        self.insert(module, name.to_string(), Definition::Extern(item.into()));
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
        let mut def = HostFuncDef::new(&self.engine, ty, func)?;
        def.name = Some(format!("{module}.{name}"));
        def.trusted = trusted;
        self.insert(module, name.to_string(), Definition::HostFunc(def));
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
        for (name, ext) in exports {
            self.insert(module, name, Definition::Extern(ext));
        }
        Ok(self)
    }

    fn insert(&mut self, module: &str, name: String, def: Definition<T>) {
        self.defs
            .entry(module.to_string())
            .or_default()
            .insert(name, def);
    }

    /// Looks up a definition.
    pub fn get(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        name: &str,
    ) -> Option<Extern> {
        match self.defs.get(module)?.get(name)? {
            Definition::Extern(e) => Some(*e),
            Definition::HostFunc(def) => Some(Extern::Func(Func::from_def(&mut store, def))),
        }
    }

    /// Instantiates `module`, resolving its imports here.
    pub fn instantiate(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &Module,
    ) -> Result<Instance> {
        // By name only: the types are checked where the imports are
        // linked, and building them here cost more than the lookups.
        let mut imports = Vec::with_capacity(module.info().imports.len());
        for import in &module.info().imports {
            let (m, n) = (import.module.as_str(), import.name.as_str());
            let ext = self.get(&mut store, m, n).ok_or_else(|| {
                Error::Link(format!(
                    "unknown import: {}::{}",
                    printable(m),
                    printable(n)
                ))
            })?;
            imports.push(ext);
        }
        Instance::new(store, module, &imports)
    }
}
