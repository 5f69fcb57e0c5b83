//! Reading a component's binary: validated, its core modules compiled,
//! and its definitions kept in order as steps for instantiation to
//! replay (the component model's index spaces are filled in that order).

use std::sync::Arc;

use wasmparser::component_types::{ComponentEntityType, ComponentItem};
use wasmparser::{
    CanonicalFunction, CanonicalOption, ComponentAlias, ComponentExternalKind, ComponentInstance,
    ComponentOuterAliasKind, ComponentTypeRef, Encoding, ExternalKind, Instance, Parser, Payload,
    Validator,
};

use wasmparser::types::TypesRef;

use super::abi::StringEncoding;
use super::func::LowerShape;
use super::resources::ResourceKey;
use super::types::{convert_func, unsupported, FuncType};
use crate::{Engine, Error, Module, Result};

/// A core item's kind (the core index spaces a component keeps).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CoreSort {
    Func,
    Table,
    Memory,
    Global,
    Tag,
}

/// A component-level item's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sort {
    Func,
    Type,
    Instance,
    Component,
    Module,
}

/// The type of an import, as the linker must satisfy it.
#[derive(Clone, Debug)]
pub(crate) enum ImportDesc {
    Func(Arc<FuncType>),
    /// An instance's exports, by name.
    Instance(Vec<(String, ImportDesc)>),
    /// A type: a resource type (the key the component's types name it by)
    /// for the linker to give, or another, which needs nothing.
    Type(Option<ResourceKey>),
    Module,
    Component,
}

/// `canon` options by index, resolved when the step runs.
#[derive(Clone, Debug)]
pub(crate) struct CanonOptions {
    pub memory: Option<u32>,
    pub realloc: Option<u32>,
    pub post_return: Option<u32>,
    pub encoding: StringEncoding,
}

/// One definition of a component, in the order it appears.
#[derive(Debug)]
pub(crate) enum Step {
    /// A core module (defined here or aliased from an enclosing component).
    CoreModule(Module),
    CoreInstantiate {
        module: u32,
        args: Vec<(String, u32)>,
        /// Each import of a module known here: the core instance that
        /// gives it and the export's name (found once, not at each
        /// instantiation).
        imports: Option<Vec<(u32, String)>>,
    },
    CoreInstanceExports(Vec<(String, CoreSort, u32)>),
    CoreAlias {
        instance: u32,
        name: String,
        sort: CoreSort,
    },
    Lift {
        func: u32,
        ty: Arc<FuncType>,
        options: CanonOptions,
    },
    Lower {
        func: u32,
        options: CanonOptions,
        /// The function's type as this component sees it.
        ty: Arc<FuncType>,
        /// What lowering makes of that type, worked out once.
        shape: Arc<LowerShape>,
    },
    /// A resource type this component defines: a new one each instance.
    Resource {
        key: ResourceKey,
        dtor: Option<u32>,
    },
    ResourceNew(ResourceKey),
    ResourceRep(ResourceKey),
    ResourceDrop(ResourceKey),
    Import {
        name: String,
        desc: ImportDesc,
    },
    /// A nested component (defined here or aliased from an enclosing one).
    Component(Arc<ComponentDef>),
    Instantiate {
        component: u32,
        args: Vec<(String, Sort, u32)>,
    },
    InstanceExports(Vec<(String, Sort, u32)>),
    Alias {
        instance: u32,
        name: String,
        sort: Sort,
        /// The key of an aliased resource type.
        resource: Option<ResourceKey>,
    },
    /// Type definitions: no runtime contents, only indices.
    Types(u32),
    /// The component's type `index`, once more (`alias outer 0`).
    TypeAgain(u32),
    Export {
        name: String,
        sort: Sort,
        index: u32,
        /// The key of an exported resource type.
        resource: Option<ResourceKey>,
    },
}

/// A component's definitions, ready to instantiate.
#[derive(Debug, Default)]
pub(crate) struct ComponentDef {
    pub steps: Vec<Step>,
    /// Import names and types, in order.
    pub imports: Vec<(String, ImportDesc)>,
    /// Export names, in order.
    pub exports: Vec<String>,
    /// The core signatures of the resource built-ins (`(i32) -> i32` and
    /// `(i32)`), resolved against the engine once.
    pub builtin_sigs: [std::sync::OnceLock<crate::func::PreparedSig>; 2],
}

/// A component being read, with what outer aliases may name of it: its
/// core modules and components where they are defined statically.
#[derive(Default)]
struct Builder {
    def: ComponentDef,
    modules: Vec<Option<Module>>,
    components: Vec<Option<Arc<ComponentDef>>>,
}

fn core_sort(kind: ExternalKind) -> CoreSort {
    match kind {
        ExternalKind::Func | ExternalKind::FuncExact => CoreSort::Func,
        ExternalKind::Table => CoreSort::Table,
        ExternalKind::Memory => CoreSort::Memory,
        ExternalKind::Global => CoreSort::Global,
        ExternalKind::Tag => CoreSort::Tag,
    }
}

fn sort(kind: ComponentExternalKind) -> Result<Sort> {
    Ok(match kind {
        ComponentExternalKind::Func => Sort::Func,
        ComponentExternalKind::Type => Sort::Type,
        ComponentExternalKind::Instance => Sort::Instance,
        ComponentExternalKind::Component => Sort::Component,
        ComponentExternalKind::Module => Sort::Module,
        ComponentExternalKind::Value => return Err(usage(unsupported("component values"))),
    })
}

fn usage(msg: String) -> Error {
    Error::Usage(format!("component: {msg}"))
}

impl Builder {
    /// Notes a new entry of `sort`'s index space, with its static
    /// definition where an outer alias may name it.
    fn push(&mut self, sort: Sort, module: Option<Module>, component: Option<Arc<ComponentDef>>) {
        match sort {
            Sort::Module => self.modules.push(module),
            Sort::Component => self.components.push(component),
            _ => {}
        }
    }

    /// The item `index` of `sort`, where it is static.
    fn static_of(&self, sort: Sort, index: u32) -> (Option<Module>, Option<Arc<ComponentDef>>) {
        match sort {
            Sort::Module => (self.modules[index as usize].clone(), None),
            Sort::Component => (None, self.components[index as usize].clone()),
            _ => (None, None),
        }
    }
}

/// The import type of an entity.
fn import_desc(types: TypesRef<'_>, ty: &ComponentEntityType) -> Result<ImportDesc> {
    Ok(match ty {
        ComponentEntityType::Func(id) => {
            ImportDesc::Func(Arc::new(convert_func(types, *id).map_err(usage)?))
        }
        ComponentEntityType::Instance(id) => ImportDesc::Instance(
            types[*id]
                .exports
                .iter()
                .map(|(name, item): (&String, &ComponentItem)| {
                    Ok((name.clone(), import_desc(types, &item.ty)?))
                })
                .collect::<Result<_>>()?,
        ),
        ComponentEntityType::Type { created, .. } => ImportDesc::Type(key_of(*created)),
        ComponentEntityType::Module(_) => ImportDesc::Module,
        ComponentEntityType::Component(_) => ImportDesc::Component,
        ComponentEntityType::Value(_) => return Err(usage(unsupported("component values"))),
    })
}

/// The resource key of a type, if it is a resource.
fn key_of(ty: wasmparser::component_types::ComponentAnyTypeId) -> Option<ResourceKey> {
    match ty {
        wasmparser::component_types::ComponentAnyTypeId::Resource(id) => {
            Some(ResourceKey::component(id.resource()))
        }
        _ => None,
    }
}

/// The resource key of the component's type `index`.
fn key_at(types: TypesRef<'_>, index: u32) -> Option<ResourceKey> {
    key_of(types.component_any_type_at(index))
}

fn canon_options(options: &[CanonicalOption]) -> Result<CanonOptions> {
    let mut out = CanonOptions {
        memory: None,
        realloc: None,
        post_return: None,
        encoding: StringEncoding::Utf8,
    };
    for o in options {
        match o {
            CanonicalOption::UTF8 => out.encoding = StringEncoding::Utf8,
            CanonicalOption::UTF16 => out.encoding = StringEncoding::Utf16,
            CanonicalOption::CompactUTF16 => out.encoding = StringEncoding::CompactUtf16,
            CanonicalOption::Memory(i) => out.memory = Some(*i),
            CanonicalOption::Realloc(i) => out.realloc = Some(*i),
            CanonicalOption::PostReturn(i) => out.post_return = Some(*i),
            CanonicalOption::Async | CanonicalOption::Callback(_) => {
                return Err(usage(unsupported("`async` canonical options")))
            }
            CanonicalOption::CoreType(_) | CanonicalOption::Gc => {
                return Err(usage(unsupported("the GC canonical options")))
            }
        }
    }
    Ok(out)
}

/// Validates and reads a component's binary, compiling its core modules.
pub(crate) fn translate(engine: &Engine, bytes: &[u8]) -> Result<ComponentDef> {
    let proposals = engine.compiler().config().proposals;
    let features =
        walmart_jit::module_info::features(proposals) | wasmparser::WasmFeatures::COMPONENT_MODEL;
    let mut validator = Validator::new_with_features(features);
    let mut stack: Vec<Builder> = Vec::new();
    // Payloads of a nested core module: validated, compiled as a whole.
    let mut in_module = 0usize;
    let invalid = |e| Error::Compile(walmart_jit::CompileError::Invalid(e));
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(invalid)?;
        validator.payload(&payload).map_err(invalid)?;
        if in_module > 0 {
            match payload {
                Payload::End(_) => in_module -= 1,
                Payload::ModuleSection { .. } => in_module += 1,
                _ => {}
            }
            continue;
        }
        let types = || validator.types(0).expect("inside a component");
        match payload {
            Payload::Version { encoding, .. } => match encoding {
                Encoding::Component => stack.push(Builder::default()),
                Encoding::Module => {
                    return Err(Error::Usage(
                        "a core module, not a component: load it with `Module::new`".into(),
                    ))
                }
            },
            Payload::ModuleSection {
                unchecked_range, ..
            } => {
                in_module = 1;
                // The module's own payloads follow; it is validated by
                // then only in part, but compiling validates it whole.
                let module = Module::from_binary(
                    engine,
                    &bytes[unchecked_range.start as usize..unchecked_range.end as usize],
                )?;
                let b = stack.last_mut().expect("inside a component");
                b.def.steps.push(Step::CoreModule(module.clone()));
                b.push(Sort::Module, Some(module), None);
            }
            Payload::ComponentSection { .. } => {}
            Payload::End(_) => {
                let done = stack.pop().expect("a component ends");
                let def = Arc::new(done.def);
                match stack.last_mut() {
                    Some(parent) => {
                        parent.def.steps.push(Step::Component(def.clone()));
                        parent.push(Sort::Component, None, Some(def));
                    }
                    None => {
                        return Arc::try_unwrap(def)
                            .map_err(|_| Error::Usage("component shared while read".into()))
                    }
                }
            }
            Payload::InstanceSection(reader) => {
                let b = stack.last_mut().expect("inside a component");
                for instance in reader {
                    b.def.steps.push(match instance.map_err(invalid)? {
                        Instance::Instantiate { module_index, args } => {
                            let imports = b.modules[module_index as usize].as_ref().and_then(|m| {
                                m.imports()
                                    .map(|(from, name, _)| {
                                        let arg = args.iter().find(|a| a.name == from)?;
                                        Some((arg.index, name.to_string()))
                                    })
                                    .collect()
                            });
                            Step::CoreInstantiate {
                                module: module_index,
                                args: args.iter().map(|a| (a.name.to_string(), a.index)).collect(),
                                imports,
                            }
                        }
                        Instance::FromExports(exports) => Step::CoreInstanceExports(
                            exports
                                .iter()
                                .map(|e| (e.name.to_string(), core_sort(e.kind), e.index))
                                .collect(),
                        ),
                    });
                }
            }
            Payload::CoreTypeSection(_) | Payload::CustomSection(_) => {}
            Payload::ComponentInstanceSection(reader) => {
                let b = stack.last_mut().expect("inside a component");
                for instance in reader {
                    b.def.steps.push(match instance.map_err(invalid)? {
                        ComponentInstance::Instantiate {
                            component_index,
                            args,
                        } => Step::Instantiate {
                            component: component_index,
                            args: args
                                .iter()
                                .map(|a| Ok((a.name.to_string(), sort(a.kind)?, a.index)))
                                .collect::<Result<_>>()?,
                        },
                        ComponentInstance::FromExports(exports) => Step::InstanceExports(
                            exports
                                .iter()
                                .map(|e| Ok((e.name.name.to_string(), sort(e.kind)?, e.index)))
                                .collect::<Result<_>>()?,
                        ),
                    });
                }
            }
            Payload::ComponentAliasSection(reader) => {
                let depth = stack.len();
                let types = types();
                let aliases = reader
                    .into_iter()
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(invalid)?;
                let new_types = aliases
                    .iter()
                    .filter(|a| {
                        matches!(
                            a,
                            ComponentAlias::InstanceExport {
                                kind: ComponentExternalKind::Type,
                                ..
                            } | ComponentAlias::Outer {
                                kind: ComponentOuterAliasKind::Type,
                                ..
                            }
                        )
                    })
                    .count() as u32;
                let mut next_type = types.component_type_count() - new_types;
                for alias in aliases {
                    match alias {
                        ComponentAlias::InstanceExport {
                            kind,
                            instance_index,
                            name,
                        } => {
                            let s = sort(kind)?;
                            let resource = if s == Sort::Type {
                                next_type += 1;
                                key_at(types, next_type - 1)
                            } else {
                                None
                            };
                            let b = stack.last_mut().expect("inside a component");
                            b.def.steps.push(Step::Alias {
                                instance: instance_index,
                                name: name.to_string(),
                                sort: s,
                                resource,
                            });
                            b.push(s, None, None);
                        }
                        ComponentAlias::CoreInstanceExport {
                            kind,
                            instance_index,
                            name,
                        } => stack
                            .last_mut()
                            .expect("inside a component")
                            .def
                            .steps
                            .push(Step::CoreAlias {
                                instance: instance_index,
                                name: name.to_string(),
                                sort: core_sort(kind),
                            }),
                        ComponentAlias::Outer { kind, count, index } => {
                            let outer = &stack[depth - 1 - count as usize];
                            let step = match kind {
                                ComponentOuterAliasKind::CoreType => continue,
                                // This component's own type again: a resource
                                // keeps its identity.
                                ComponentOuterAliasKind::Type if count == 0 => {
                                    next_type += 1;
                                    Step::TypeAgain(index)
                                }
                                ComponentOuterAliasKind::Type => {
                                    next_type += 1;
                                    Step::Types(1)
                                }
                                ComponentOuterAliasKind::CoreModule => Step::CoreModule(
                                    outer.modules[index as usize].clone().ok_or_else(|| {
                                        usage(unsupported("an outer alias of an imported module"))
                                    })?,
                                ),
                                ComponentOuterAliasKind::Component => Step::Component(
                                    outer.components[index as usize].clone().ok_or_else(|| {
                                        usage(unsupported(
                                            "an outer alias of an imported component",
                                        ))
                                    })?,
                                ),
                            };
                            let b = stack.last_mut().expect("inside a component");
                            match &step {
                                Step::CoreModule(m) => b.push(Sort::Module, Some(m.clone()), None),
                                Step::Component(c) => {
                                    b.push(Sort::Component, None, Some(c.clone()))
                                }
                                _ => {}
                            }
                            b.def.steps.push(step);
                        }
                    }
                }
            }
            Payload::ComponentTypeSection(reader) => {
                let types = types();
                let first = types.component_type_count() - reader.count();
                let b = stack.last_mut().expect("inside a component");
                for (i, ty) in reader.into_iter().enumerate() {
                    b.def.steps.push(match ty.map_err(invalid)? {
                        wasmparser::ComponentType::Resource { dtor, .. } => Step::Resource {
                            key: key_at(types, first + i as u32).ok_or_else(|| {
                                Error::Usage("component: a resource type that is none".into())
                            })?,
                            dtor,
                        },
                        _ => Step::Types(1),
                    });
                }
            }
            Payload::ComponentCanonicalSection(reader) => {
                let types = types();
                let mut steps = Vec::new();
                for canon in reader {
                    steps.push(match canon.map_err(invalid)? {
                        CanonicalFunction::Lift {
                            core_func_index,
                            type_index,
                            options,
                        } => Step::Lift {
                            func: core_func_index,
                            ty: Arc::new(
                                convert_func(
                                    types,
                                    types.component_any_type_at(type_index).unwrap_func(),
                                )
                                .map_err(usage)?,
                            ),
                            options: canon_options(&options)?,
                        },
                        CanonicalFunction::Lower {
                            func_index,
                            options,
                        } => {
                            let ty = convert_func(types, types.component_function_at(func_index))
                                .map_err(usage)?;
                            Step::Lower {
                                func: func_index,
                                options: canon_options(&options)?,
                                shape: Arc::new(LowerShape::of(&ty)),
                                ty: Arc::new(ty),
                            }
                        }
                        CanonicalFunction::ResourceNew { resource } => {
                            Step::ResourceNew(resource_key(types, resource)?)
                        }
                        CanonicalFunction::ResourceRep { resource } => {
                            Step::ResourceRep(resource_key(types, resource)?)
                        }
                        CanonicalFunction::ResourceDrop { resource } => {
                            Step::ResourceDrop(resource_key(types, resource)?)
                        }
                        other => {
                            return Err(usage(unsupported(&format!(
                                "the canonical built-in `{}`",
                                canon_name(&other)
                            ))))
                        }
                    });
                }
                stack
                    .last_mut()
                    .expect("inside a component")
                    .def
                    .steps
                    .extend(steps);
            }
            Payload::ComponentImportSection(reader) => {
                let types = types();
                let mut steps = Vec::new();
                let imports = reader
                    .into_iter()
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(invalid)?;
                let new_types = imports
                    .iter()
                    .filter(|i| matches!(i.ty, ComponentTypeRef::Type(_)))
                    .count() as u32;
                let mut next_type = types.component_type_count() - new_types;
                for import in imports {
                    let name = import.name.name.to_string();
                    let desc = match import.ty {
                        ComponentTypeRef::Func(i) => ImportDesc::Func(Arc::new(
                            convert_func(types, types.component_any_type_at(i).unwrap_func())
                                .map_err(usage)?,
                        )),
                        // The instance as imported: its resources are new
                        // ones, which the component's functions name.
                        ComponentTypeRef::Instance(i) => {
                            match types.component_item_for_import(&name) {
                                Some(item) => import_desc(types, &item.ty)?,
                                None => import_desc(
                                    types,
                                    &ComponentEntityType::Instance(
                                        types.component_any_type_at(i).unwrap_instance(),
                                    ),
                                )?,
                            }
                        }
                        ComponentTypeRef::Type(_) => {
                            next_type += 1;
                            ImportDesc::Type(key_at(types, next_type - 1))
                        }
                        ComponentTypeRef::Module(_) => ImportDesc::Module,
                        ComponentTypeRef::Component(_) => ImportDesc::Component,
                        ComponentTypeRef::Value(_) => {
                            return Err(usage(unsupported("component values")))
                        }
                    };
                    steps.push((name, desc));
                }
                let b = stack.last_mut().expect("inside a component");
                for (name, desc) in steps {
                    let s = match &desc {
                        ImportDesc::Func(_) => Sort::Func,
                        ImportDesc::Instance(_) => Sort::Instance,
                        ImportDesc::Type(_) => Sort::Type,
                        ImportDesc::Module => Sort::Module,
                        ImportDesc::Component => Sort::Component,
                    };
                    b.push(s, None, None);
                    b.def.imports.push((name.clone(), desc.clone()));
                    b.def.steps.push(Step::Import { name, desc });
                }
            }
            Payload::ComponentExportSection(reader) => {
                let types = types();
                let exports = reader
                    .into_iter()
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(invalid)?;
                let new_types = exports
                    .iter()
                    .filter(|e| e.kind == ComponentExternalKind::Type)
                    .count() as u32;
                let mut next_type = types.component_type_count() - new_types;
                let b = stack.last_mut().expect("inside a component");
                for export in exports {
                    let s = sort(export.kind)?;
                    let resource = if s == Sort::Type {
                        next_type += 1;
                        key_at(types, next_type - 1)
                    } else {
                        None
                    };
                    let (module, component) = b.static_of(s, export.index);
                    b.push(s, module, component);
                    b.def.exports.push(export.name.name.to_string());
                    b.def.steps.push(Step::Export {
                        name: export.name.name.to_string(),
                        sort: s,
                        index: export.index,
                        resource,
                    });
                }
            }
            Payload::ComponentStartSection { .. } => {
                return Err(usage(unsupported("start functions")))
            }
            other => {
                // Core sections outside a module cannot pass validation.
                return Err(usage(format!("unexpected section {other:?}")));
            }
        }
    }
    Err(Error::Usage(
        "component: the binary ends before its component does".into(),
    ))
}

/// The key of the resource type `index` a `canon resource.*` names.
fn resource_key(types: TypesRef<'_>, index: u32) -> Result<ResourceKey> {
    key_at(types, index)
        .ok_or_else(|| Error::Usage("component: a resource type that is none".into()))
}

/// A canonical built-in's name, for errors.
fn canon_name(f: &CanonicalFunction) -> String {
    let debug = format!("{f:?}");
    let name = debug.split([' ', '{', '(']).next().unwrap_or("");
    // `TaskReturn` as the text format spells it: `task.return`.
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('.');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}
