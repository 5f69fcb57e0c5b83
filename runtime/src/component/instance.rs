//! Instantiating a component: its steps replayed in order, each filling
//! the component model's index spaces, core instances made on the way.

use std::sync::Arc;

use super::abi::Options;
use super::func::Func;
use super::resources::{InstanceState, ResourceType};
use super::translate::{CanonOptions, ComponentDef, CoreSort, ImportDesc, Sort, Step};
use crate::store::{AsContextMut, StoreInner};
use crate::{Error, Extern, Module, Result};

/// An item of a component's index spaces.
#[derive(Clone, Debug)]
pub(crate) enum Item {
    Func(Func),
    Instance(Arc<Exports>),
    Component(Arc<ComponentDef>),
    Module(Module),
    /// A type: a resource type's identity, or nothing at run time.
    Type(Option<ResourceType>),
}

impl Item {
    fn sort(&self) -> Sort {
        match self {
            Item::Func(_) => Sort::Func,
            Item::Instance(_) => Sort::Instance,
            Item::Component(_) => Sort::Component,
            Item::Module(_) => Sort::Module,
            Item::Type(_) => Sort::Type,
        }
    }
}

/// Notes in `state` the resource types an import brought (by the keys its
/// type names them with).
pub(crate) fn register(desc: &ImportDesc, item: &Item, state: &InstanceState) {
    match (desc, item) {
        (ImportDesc::Type(Some(key)), Item::Type(Some(ty))) => state.define(*key, ty.clone()),
        (ImportDesc::Instance(descs), Item::Instance(exports)) => {
            for (name, d) in descs {
                if let Some(item) = exports.get(name) {
                    register(d, item, state);
                }
            }
        }
        _ => {}
    }
}

/// A component instance's exports, by name, in order.
#[derive(Debug, Default)]
pub(crate) struct Exports {
    pub items: Vec<(String, Item)>,
}

impl Exports {
    /// The export `name`, or an interface's at a semver-compatible
    /// version (`wasi:cli/run@0.2.12` finds `@0.2.6`, as in wasmtime).
    pub(crate) fn get(&self, name: &str) -> Option<&Item> {
        super::versions::find_compatible(name, self.items.iter().map(|(n, i)| (n.as_str(), i)))
    }
}

/// A core instance of a component: instantiated, or made of exports
/// (named as the component's definition names them).
enum CoreInstance<'d> {
    Instance(crate::Instance),
    Exports(rustc_hash::FxHashMap<&'d str, Extern>),
}

/// A component instance's index spaces as they fill.
#[derive(Default)]
struct Spaces<'d> {
    core: [Vec<Extern>; 5],
    core_instances: Vec<CoreInstance<'d>>,
    core_modules: Vec<Module>,
    funcs: Vec<Func>,
    instances: Vec<Arc<Exports>>,
    components: Vec<Arc<ComponentDef>>,
    types: Vec<Option<ResourceType>>,
}

fn core_index(sort: CoreSort) -> usize {
    match sort {
        CoreSort::Func => 0,
        CoreSort::Table => 1,
        CoreSort::Memory => 2,
        CoreSort::Global => 3,
        CoreSort::Tag => 4,
    }
}

fn core_sort_of(e: &Extern) -> CoreSort {
    match e {
        Extern::Func(_) => CoreSort::Func,
        Extern::Table(_) => CoreSort::Table,
        Extern::Memory(_) => CoreSort::Memory,
        Extern::Global(_) => CoreSort::Global,
        Extern::Tag(_) => CoreSort::Tag,
    }
}

fn broken(what: &str) -> Error {
    Error::Usage(format!(
        "component: {what} (a walmart bug: validation allowed it)"
    ))
}

impl Spaces<'_> {
    fn core_item(&self, sort: CoreSort, index: u32) -> Result<Extern> {
        self.core[core_index(sort)]
            .get(index as usize)
            .cloned()
            .ok_or_else(|| broken("a core index past its space"))
    }

    fn core_func(&self, index: u32) -> Result<crate::Func> {
        match self.core_item(CoreSort::Func, index)? {
            Extern::Func(f) => Ok(f),
            _ => Err(broken("a core function that is not one")),
        }
    }

    fn item(&self, sort: Sort, index: u32) -> Result<Item> {
        let i = index as usize;
        let missing = || broken("an index past its space");
        Ok(match sort {
            Sort::Func => Item::Func(self.funcs.get(i).ok_or_else(missing)?.clone()),
            Sort::Instance => Item::Instance(self.instances.get(i).ok_or_else(missing)?.clone()),
            Sort::Component => Item::Component(self.components.get(i).ok_or_else(missing)?.clone()),
            Sort::Module => Item::Module(self.core_modules.get(i).ok_or_else(missing)?.clone()),
            Sort::Type => Item::Type(self.types.get(i).ok_or_else(missing)?.clone()),
        })
    }

    fn push(&mut self, item: Item) {
        match item {
            Item::Func(f) => self.funcs.push(f),
            Item::Instance(i) => self.instances.push(i),
            Item::Component(c) => self.components.push(c),
            Item::Module(m) => self.core_modules.push(m),
            Item::Type(t) => self.types.push(t),
        }
    }

    fn options<T>(&self, store: &StoreInner<T>, o: &CanonOptions) -> Result<Options> {
        let _ = store;
        let memory = match o.memory {
            Some(i) => match self.core_item(CoreSort::Memory, i)? {
                Extern::Memory(m) => Some(m),
                _ => return Err(broken("a memory option that is no memory")),
            },
            None => None,
        };
        Ok(Options {
            memory,
            realloc: o.realloc.map(|i| self.core_func(i)).transpose()?,
            post_return: o.post_return.map(|i| self.core_func(i)).transpose()?,
            encoding: o.encoding,
        })
    }
}

/// Instantiates `def`, each import given by `import` (from the linker at
/// the root, from the instantiation's arguments below it).
pub(crate) fn instantiate<T: 'static>(
    store: &mut StoreInner<T>,
    def: &ComponentDef,
    import: &mut dyn FnMut(&str, &ImportDesc, &InstanceState) -> Result<Item>,
    top: bool,
) -> Result<Arc<Exports>> {
    let state = Arc::new(InstanceState::default());
    let mut s = Spaces::default();
    let mut exports = Exports::default();
    for step in &def.steps {
        match step {
            Step::CoreModule(m) => s.core_modules.push(m.clone()),
            Step::CoreInstantiate {
                module,
                args,
                imports,
            } => {
                let module = s
                    .core_modules
                    .get(*module as usize)
                    .ok_or_else(|| broken("a core module index past its space"))?
                    .clone();
                // Which instance gives each import, and under what name.
                let found;
                let imports = match imports {
                    Some(imports) => imports,
                    None => {
                        found = module
                            .imports()
                            .map(|(from, name, _)| {
                                let (_, instance) = args
                                    .iter()
                                    .find(|(n, _)| n == from)
                                    .ok_or_else(|| broken("a core import without an argument"))?;
                                Ok((*instance, name.to_string()))
                            })
                            .collect::<Result<Vec<_>>>()?;
                        &found
                    }
                };
                let mut externs = Vec::with_capacity(imports.len());
                for (instance, name) in imports {
                    let item = match s.core_instances.get(*instance as usize) {
                        Some(CoreInstance::Instance(i)) => i.get_export(&mut *store, name),
                        Some(CoreInstance::Exports(e)) => e.get(name.as_str()).copied(),
                        None => None,
                    };
                    externs.push(item.ok_or_else(|| {
                        Error::Link(format!(
                            "component: core instance {instance} has no export `{name}`"
                        ))
                    })?);
                }
                // Its start function, if any, enters Wasm as the fiber's
                // own call in an asynchronous instantiation.
                let instance = super::func::core_call(store, top, |s| {
                    crate::Instance::new(s, &module, &externs)
                })?;
                s.core_instances.push(CoreInstance::Instance(instance));
            }
            Step::CoreInstanceExports(items) => {
                let exports = items
                    .iter()
                    .map(|(n, sort, i)| Ok((n.as_str(), s.core_item(*sort, *i)?)))
                    .collect::<Result<_>>()?;
                s.core_instances.push(CoreInstance::Exports(exports));
            }
            Step::CoreAlias {
                instance,
                name,
                sort,
            } => {
                let item = match s.core_instances.get(*instance as usize) {
                    Some(CoreInstance::Instance(i)) => i.get_export(&mut *store, name),
                    Some(CoreInstance::Exports(e)) => e.get(name.as_str()).copied(),
                    None => None,
                }
                .filter(|e| core_sort_of(e) == *sort)
                .ok_or_else(|| broken("an alias of a core export that is not there"))?;
                s.core[core_index(*sort)].push(item);
            }
            Step::Lift { func, ty, options } => {
                let core = s.core_func(*func)?;
                let options = s.options(store, options)?;
                s.funcs
                    .push(Func::lifted(core, options, state.clone(), ty.clone()));
            }
            Step::Lower {
                func,
                options,
                ty,
                shape,
            } => {
                let callee = s
                    .funcs
                    .get(*func as usize)
                    .ok_or_else(|| broken("a function index past its space"))?
                    .clone();
                let options = s.options(store, options)?;
                let core = callee.lower(store, options, (ty.clone(), shape), state.clone())?;
                s.core[core_index(CoreSort::Func)].push(Extern::Func(core));
            }
            Step::Import { name, desc } => {
                let item = import(name, desc, &state)?;
                register(desc, &item, &state);
                s.push(item);
            }
            Step::Component(c) => s.components.push(c.clone()),
            Step::Instantiate { component, args } => {
                let def = s
                    .components
                    .get(*component as usize)
                    .ok_or_else(|| broken("a component index past its space"))?
                    .clone();
                let args: Vec<(String, Item)> = args
                    .iter()
                    .map(|(n, sort, i)| Ok((n.clone(), s.item(*sort, *i)?)))
                    .collect::<Result<_>>()?;
                let exports = instantiate(
                    store,
                    &def,
                    &mut |name, _, _| {
                        args.iter()
                            .find(|(n, _)| n == name)
                            .map(|(_, i)| i.clone())
                            .ok_or_else(|| broken("an import without an argument"))
                    },
                    top,
                )?;
                s.instances.push(exports);
            }
            Step::InstanceExports(items) => {
                let exports = Exports {
                    items: items
                        .iter()
                        .map(|(n, sort, i)| Ok((n.clone(), s.item(*sort, *i)?)))
                        .collect::<Result<_>>()?,
                };
                s.instances.push(Arc::new(exports));
            }
            Step::Alias {
                instance,
                name,
                sort,
                resource,
            } => {
                let item = s
                    .instances
                    .get(*instance as usize)
                    .and_then(|i| i.get(name))
                    .filter(|i| i.sort() == *sort)
                    .cloned()
                    .ok_or_else(|| broken("an alias of an export that is not there"))?;
                if let (Some(key), Item::Type(Some(ty))) = (resource, &item) {
                    state.define(*key, ty.clone());
                }
                s.push(item);
            }
            Step::Types(n) => s.types.extend((0..*n).map(|_| None)),
            Step::TypeAgain(i) => {
                let ty = s.types.get(*i as usize).cloned().flatten();
                s.types.push(ty);
            }
            Step::Resource { key, dtor } => {
                let dtor = dtor.map(|i| s.core_func(i)).transpose()?;
                let ty = ResourceType::guest(dtor, &state);
                state.define(*key, ty.clone());
                s.types.push(Some(ty));
            }
            Step::ResourceNew(key) | Step::ResourceRep(key) | Step::ResourceDrop(key) => {
                let ty = state.resolve(key)?;
                let core = super::canon::resource_builtin(store, def, step, ty, state.clone())?;
                s.core[core_index(CoreSort::Func)].push(Extern::Func(core));
            }
            Step::Export {
                name,
                sort,
                index,
                resource,
            } => {
                let item = s.item(*sort, *index)?;
                if let (Some(key), Item::Type(Some(ty))) = (resource, &item) {
                    state.define(*key, ty.clone());
                }
                exports.items.push((name.clone(), item.clone()));
                s.push(item);
            }
        }
    }
    Ok(Arc::new(exports))
}

/// An instance of a component (wasmtime's `component::Instance`).
#[derive(Clone, Debug)]
pub struct Instance {
    exports: Arc<Exports>,
}

/// Where to find an export of a component instance: a path of names
/// from the root (wasmtime's `ComponentExportIndex`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentExportIndex {
    path: Vec<String>,
}

/// What [`Instance::get_func`] takes: an export's name at the root, or
/// an index from [`Instance::get_export_index`].
pub trait InstanceExportLookup {
    /// The names from the root to the export.
    fn path(&self) -> Vec<&str>;
}

impl InstanceExportLookup for &str {
    fn path(&self) -> Vec<&str> {
        vec![self]
    }
}

impl InstanceExportLookup for String {
    fn path(&self) -> Vec<&str> {
        vec![self.as_str()]
    }
}

impl InstanceExportLookup for &String {
    fn path(&self) -> Vec<&str> {
        vec![self.as_str()]
    }
}

impl InstanceExportLookup for ComponentExportIndex {
    fn path(&self) -> Vec<&str> {
        self.path.iter().map(String::as_str).collect()
    }
}

impl InstanceExportLookup for &ComponentExportIndex {
    fn path(&self) -> Vec<&str> {
        self.path.iter().map(String::as_str).collect()
    }
}

impl Instance {
    pub(crate) fn new(exports: Arc<Exports>) -> Instance {
        Instance { exports }
    }

    fn lookup(&self, path: &[&str]) -> Option<&Item> {
        let (last, parents) = path.split_last()?;
        let mut exports = &*self.exports;
        for name in parents {
            match exports.get(name)? {
                Item::Instance(i) => exports = i,
                _ => return None,
            }
        }
        exports.get(last)
    }

    /// The index of the export `name`, at the root or inside the
    /// exported instance `parent` (an interface such as
    /// `wasi:cli/run@0.2.0`).
    pub fn get_export_index(
        &self,
        _store: impl AsContextMut,
        parent: Option<&ComponentExportIndex>,
        name: &str,
    ) -> Option<ComponentExportIndex> {
        let mut path = parent.map(|p| p.path.clone()).unwrap_or_default();
        path.push(name.to_string());
        let names: Vec<&str> = path.iter().map(String::as_str).collect();
        self.lookup(&names)?;
        Some(ComponentExportIndex { path })
    }

    /// The exported function `name` (a name at the root or an index of
    /// an export inside an exported instance).
    pub fn get_func(
        &self,
        _store: impl AsContextMut,
        name: impl InstanceExportLookup,
    ) -> Option<Func> {
        match self.lookup(&name.path())? {
            Item::Func(f) => Some(f.clone()),
            _ => None,
        }
    }

    /// The exported function `name` with Rust types: `P` a tuple of its
    /// parameters' types, `R` `()` or a tuple of its result's.
    pub fn get_typed_func<P, R>(
        &self,
        store: impl AsContextMut,
        name: impl InstanceExportLookup,
    ) -> Result<super::TypedFunc<P, R>>
    where
        P: super::ComponentNamedList,
        R: super::ComponentResults,
    {
        let path = name.path().join("/");
        let func = self.get_func(store, name).ok_or_else(|| {
            Error::Usage(format!(
                "the component instance exports no function `{path}`"
            ))
        })?;
        super::TypedFunc::new(func)
    }

    /// The names of the instance's exports at the root, in order.
    pub fn exports(&self) -> Vec<String> {
        self.exports.items.iter().map(|(n, _)| n.clone()).collect()
    }
}
