//! The embedder's side of a world's exports, and the world's struct: an
//! exported interface's `Guest` (a typed function per export, found once
//! when the struct is made, and a `call_` method each), the world's root
//! functions on the world's struct itself, `instantiate`,
//! `add_to_linker` and the `Pre` form for many stores.

use proc_macro2::{Ident, TokenStream as Tokens};
use quote::{format_ident, quote};
use wit_parser::{Function, FunctionKind, InterfaceId, TypeId, WorldItem, WorldKey};

use super::names::{camel, joined, snake};
use super::types::{docs, Pass};
use super::{unsupported, Gen};

/// The typed functions of one scope of exports.
struct GuestSide {
    /// `name: TypedFunc<P, R>` fields.
    fields: Tokens,
    /// Statements making each field from `instance` (with `parent`, the
    /// exported instance's index, or none at the root).
    init: Tokens,
    /// The fields' names.
    names: Vec<Ident>,
    /// `call_` methods of freestanding functions.
    methods: Tokens,
    /// `call_` methods of each resource type's functions (constructor,
    /// methods, static functions), which its `GuestR` holds.
    resource_methods: Vec<(TypeId, Tokens)>,
}

impl Gen<'_> {
    /// An exported interface's module: its types (aliases of the
    /// imported interface's where it is imported too) and `Guest`.
    pub fn export_interface(
        &self,
        key: &WorldKey,
        id: InterfaceId,
        cur: &[String],
    ) -> syn::Result<Tokens> {
        let iface = &self.resolve.interfaces[id];
        let types = self.interface_types(id);
        let mut out = if self.exported_only(id) {
            self.typedefs(cur, &types)?
        } else {
            let mut aliases = Tokens::new();
            for (name, t) in &types {
                let (ident, path) = (camel(name), self.type_path(cur, *t)?);
                aliases.extend(quote!(pub type #ident = #path;));
            }
            aliases
        };
        let funcs: Vec<&Function> = iface.functions.values().collect();
        let side = self.guest_side(cur, &funcs)?;
        let name = self.resolve.name_world_key(key);
        let GuestSide {
            fields,
            init,
            names,
            methods,
            resource_methods,
        } = side;
        let mut accessors = Tokens::new();
        for (r, calls) in resource_methods {
            let wit = self.resolve.types[r].name.clone().unwrap_or_default();
            let guest = joined("Guest", &camel(&wit), "");
            let accessor = snake(&wit);
            out.extend(quote! {
                #[doc = concat!("The component's resource `", #wit, "`: its constructor, methods and static functions.")]
                pub struct #guest<'a> {
                    guest: &'a Guest,
                }

                impl #guest<'_> {
                    #calls
                }
            });
            accessors.extend(quote! {
                #[doc = concat!("Calls of resource `", #wit, "`'s functions.")]
                pub fn #accessor(&self) -> #guest<'_> {
                    #guest { guest: self }
                }
            });
        }
        out.extend(quote! {
            /// The component's exports of this interface, each a typed
            /// function found once.
            #[derive(Clone)]
            pub struct Guest { #fields }

            impl Guest {
                /// Finds the interface's functions in `instance`.
                pub fn new(
                    mut store: impl ::walmart::AsContextMut,
                    instance: &::walmart::component::Instance,
                ) -> ::walmart::Result<Guest> {
                    let parent = instance
                        .get_export_index(&mut store, None, #name)
                        .ok_or_else(|| ::walmart::Error::Usage(format!(
                            "the component exports no instance `{}`", #name
                        )))?;
                    let parent = Some(&parent);
                    #init
                    Ok(Guest { #(#names),* })
                }
                #methods
                #accessors
            }
        });
        Ok(out)
    }

    /// Fields, their initialisation and `call_` methods of exported
    /// functions `funcs`.
    fn guest_side(&self, cur: &[String], funcs: &[&Function]) -> syn::Result<GuestSide> {
        let mut side = GuestSide {
            fields: Tokens::new(),
            init: Tokens::new(),
            names: Vec::new(),
            methods: Tokens::new(),
            resource_methods: Vec::new(),
        };
        let c = quote!(::walmart::component);
        for f in funcs {
            let (owner, method) = match f.kind {
                FunctionKind::Freestanding => (None, snake(&f.name)),
                FunctionKind::Constructor(r) => (Some(r), format_ident!("constructor")),
                FunctionKind::Method(r) | FunctionKind::Static(r) => {
                    (Some(r), snake(f.name.rsplit('.').next().unwrap_or(&f.name)))
                }
                _ => {
                    return Err(unsupported(format_args!(
                        "{} the component exports (`{}`)",
                        kind_name(&f.kind),
                        f.name
                    )))
                }
            };
            if f.params.len() > 16 {
                return Err(unsupported(format_args!(
                    "an exported function of more than 16 parameters (`{}`)",
                    f.name
                )));
            }
            // `[method]r.m` is field `method_r_m`.
            let field = match owner {
                None => snake(&f.name),
                Some(_) => snake(f.name.replace(['[', '.', ']'], "-").trim_start_matches('-')),
            };
            let recv = match owner {
                None => quote!(self.#field),
                Some(_) => quote!(self.guest.#field),
            };
            let types = f
                .params
                .iter()
                .map(|p| self.ty(cur, &p.ty))
                .collect::<syn::Result<Vec<_>>>()?;
            let (result, results) = match &f.result {
                Some(t) => {
                    let t = self.ty(cur, t)?;
                    (t.clone(), quote!((#t,)))
                }
                None => (quote!(()), quote!(())),
            };
            let params = quote!((#(#types,)*));
            let wit = &f.name;
            side.fields
                .extend(quote!(#field: #c::TypedFunc<#params, #results>,));
            side.init.extend(quote! {
                let #field = {
                    let at = instance
                        .get_export_index(&mut store, parent, #wit)
                        .ok_or_else(|| ::walmart::Error::Usage(format!(
                            "the component exports no function `{}`", #wit
                        )))?;
                    instance.get_typed_func::<#params, #results>(&mut store, &at)?
                };
            });
            let names: Vec<_> = f.params.iter().map(|p| snake(&p.name)).collect();
            let arg_types = f
                .params
                .iter()
                .map(|p| self.param_ty(cur, &p.ty))
                .collect::<syn::Result<Vec<_>>>()?;
            let owned = f
                .params
                .iter()
                .zip(&names)
                .map(|(p, n)| match self.pass(&p.ty) {
                    Pass::Value => quote!(#n),
                    Pass::Borrowed => quote!(::std::borrow::ToOwned::to_owned(#n)),
                });
            let args = quote!((#(#owned,)*));
            let take = match f.result {
                Some(_) => quote!(Ok(out.0)),
                None => quote!(Ok(out)),
            };
            let call = joined("call_", &method, "");
            let call_async = joined("call_", &method, "_async");
            let doc = docs(&f.docs);
            let methods = quote! {
                #doc
                pub fn #call<S: ::walmart::AsContextMut>(
                    &self,
                    store: S,
                    #(#names: #arg_types),*
                ) -> ::walmart::Result<#result>
                where
                    S::Data: 'static,
                {
                    let out = #recv.call(store, #args)?;
                    #take
                }

                #[doc = concat!("[`Self::", stringify!(#call), "`] as an asynchronous call.")]
                pub async fn #call_async<S>(
                    &self,
                    store: S,
                    #(#names: #arg_types),*
                ) -> ::walmart::Result<#result>
                where
                    S: ::walmart::AsContextMut,
                    S::Data: Send + 'static,
                {
                    let out = #recv.call_async(store, #args).await?;
                    #take
                }
            };
            match owner {
                None => side.methods.extend(methods),
                Some(r) => match side.resource_methods.iter_mut().find(|(t, _)| *t == r) {
                    Some((_, m)) => m.extend(methods),
                    None => side.resource_methods.push((r, methods)),
                },
            }
            side.names.push(field);
        }
        Ok(side)
    }

    /// The world's struct, its imports' trait at the root and its `Pre`.
    pub fn world_items(&self) -> syn::Result<Tokens> {
        let w = &self.resolve.worlds[self.world];
        let world = camel(&w.name);
        let imports_trait = joined("", &world, "Imports");
        let pre = joined("", &world, "Pre");
        let root: &[String] = &[];
        let c = quote!(::walmart::component);

        // Root imports: functions (and the world's own resource types).
        let root_funcs: Vec<&Function> = w
            .imports
            .values()
            .filter_map(|item| match item {
                WorldItem::Function(f) => Some(f),
                _ => None,
            })
            .collect();
        let root_types = self.world_types();
        let mut bounds = Vec::new();
        let mut link = Tokens::new();
        let mut items = Tokens::new();
        let has_root_imports = !root_funcs.is_empty()
            || root_types.iter().any(|(_, t)| {
                matches!(
                    self.resolve.types[*t].kind,
                    wit_parser::TypeDefKind::Resource
                )
            });
        if has_root_imports {
            let side = self.host_side(root, &imports_trait, &root_funcs, &root_types)?;
            items.extend(side.items);
            let define = side.define;
            link.extend(quote! {{
                let mut inst = linker.root();
                #define
            }});
            bounds.push(quote!(#imports_trait));
        }
        for (key, item) in &w.imports {
            let WorldItem::Interface { id, .. } = item else {
                continue;
            };
            let Some(m) = self.import_mods.get(id) else {
                continue;
            };
            let _ = key;
            let segs: Vec<_> = m.iter().map(|s| snake(s)).collect();
            bounds.push(quote!(#(#segs::)*Host));
            link.extend(quote!(#(#segs::)*add_to_linker(linker, get)?;));
        }

        // Exports: root functions, then interfaces.
        let root_exports: Vec<&Function> = w
            .exports
            .values()
            .filter_map(|item| match item {
                WorldItem::Function(f) => Some(f),
                _ => None,
            })
            .collect();
        let side = self.guest_side(root, &root_exports)?;
        debug_assert!(
            side.resource_methods.is_empty(),
            "a world exports no resource type"
        );
        let mut fields = side.fields;
        let mut init = side.init;
        let mut names = side.names;
        let methods = side.methods;
        let mut accessors = Tokens::new();
        for (key, item) in &w.exports {
            let WorldItem::Interface { id, .. } = item else {
                continue;
            };
            let m = &self.export_mods[id];
            let segs: Vec<_> = m.iter().map(|s| snake(s)).collect();
            let field = format_ident!("interface{}", names.len());
            // `ns_pkg_iface()` for `ns:pkg/iface`, `name()` for a named one.
            let accessor = snake(&m[1..].join("_"));
            let wit = self.resolve.name_world_key(key);
            fields.extend(quote!(#field: #(#segs::)*Guest,));
            init.extend(quote!(let #field = #(#segs::)*Guest::new(&mut store, instance)?;));
            accessors.extend(quote! {
                #[doc = concat!("The component's exports of `", #wit, "`.")]
                pub fn #accessor(&self) -> &#(#segs::)*Guest {
                    &self.#field
                }
            });
            names.push(field);
        }
        let doc = docs(&w.docs);
        let wit = &w.name;
        let (data_bound, _) = self.linker_bounds();
        if self.opts.is_async {
            bounds.push(quote!(Send));
        }
        items.extend(quote! {
            #doc
            #[doc = ""]
            #[doc = concat!("An instance of world `", #wit, "`: its exports as typed calls.")]
            #[derive(Clone)]
            pub struct #world { #fields }

            impl #world {
                /// Finds the world's exports in `instance`.
                pub fn new(
                    mut store: impl ::walmart::AsContextMut,
                    instance: &#c::Instance,
                ) -> ::walmart::Result<#world> {
                    let parent: ::std::option::Option<&#c::ComponentExportIndex> = None;
                    let _ = parent;
                    #init
                    Ok(#world { #(#names),* })
                }

                /// Instantiates `component` from `linker` and finds the
                /// world's exports.
                pub fn instantiate<_T: 'static>(
                    mut store: impl ::walmart::AsContextMut<Data = _T>,
                    component: &#c::Component,
                    linker: &#c::Linker<_T>,
                ) -> ::walmart::Result<#world> {
                    let instance = linker.instantiate(&mut store, component)?;
                    #world::new(store, &instance)
                }

                /// [`Self::instantiate`] as an asynchronous call (the
                /// engine needs `Config::async_support`).
                pub async fn instantiate_async<_T: Send + 'static>(
                    mut store: impl ::walmart::AsContextMut<Data = _T>,
                    component: &#c::Component,
                    linker: &#c::Linker<_T>,
                ) -> ::walmart::Result<#world> {
                    let instance = linker.instantiate_async(&mut store, component).await?;
                    #world::new(store, &instance)
                }

                /// Defines every import of the world in `linker`, each a
                /// call of a trait's method on what `get` returns from the
                /// store's data.
                pub fn add_to_linker<_T: #data_bound, _U>(
                    linker: &mut #c::Linker<_T>,
                    get: impl Fn(&mut _T) -> &mut _U + Send + Sync + Copy + 'static,
                ) -> ::walmart::Result<()>
                where
                    _U: #(#bounds)+*,
                {
                    let _ = get;
                    #link
                    Ok(())
                }

                #methods
                #accessors
            }

            #[doc = concat!("World `", #wit, "` with its imports resolved once, for many stores.")]
            pub struct #pre<_T: 'static> {
                pre: #c::InstancePre<_T>,
            }

            impl<_T: 'static> Clone for #pre<_T> {
                fn clone(&self) -> Self {
                    #pre { pre: self.pre.clone() }
                }
            }

            impl<_T: 'static> #pre<_T> {
                /// The world over an `InstancePre` of its component.
                pub fn new(pre: #c::InstancePre<_T>) -> ::walmart::Result<#pre<_T>> {
                    Ok(#pre { pre })
                }

                /// The instance-pre it instantiates.
                pub fn instance_pre(&self) -> &#c::InstancePre<_T> {
                    &self.pre
                }

                /// Instantiates the component in `store` and finds the
                /// world's exports.
                pub fn instantiate(
                    &self,
                    mut store: impl ::walmart::AsContextMut<Data = _T>,
                ) -> ::walmart::Result<#world> {
                    let instance = self.pre.instantiate(&mut store)?;
                    #world::new(store, &instance)
                }

                /// [`Self::instantiate`] as an asynchronous call.
                pub async fn instantiate_async(
                    &self,
                    mut store: impl ::walmart::AsContextMut<Data = _T>,
                ) -> ::walmart::Result<#world>
                where
                    _T: Send,
                {
                    let instance = self.pre.instantiate_async(&mut store).await?;
                    #world::new(store, &instance)
                }
            }
        });
        Ok(items)
    }
}

/// What a function of this kind is, for errors.
pub fn kind_name(kind: &FunctionKind) -> &'static str {
    match kind {
        FunctionKind::Freestanding => "a function",
        FunctionKind::AsyncFreestanding => "an `async` function",
        FunctionKind::Method(_) => "a resource's method",
        FunctionKind::AsyncMethod(_) => "a resource's `async` method",
        FunctionKind::Static(_) => "a resource's static function",
        FunctionKind::AsyncStatic(_) => "a resource's `async` static function",
        FunctionKind::Constructor(_) => "a resource's constructor",
        FunctionKind::Getter | FunctionKind::MethodGetter(_) | FunctionKind::StaticGetter(_) => {
            "a getter"
        }
        FunctionKind::Setter | FunctionKind::MethodSetter(_) | FunctionKind::StaticSetter(_) => {
            "a setter"
        }
    }
}
