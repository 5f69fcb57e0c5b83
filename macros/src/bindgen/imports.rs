//! The host's side of a world's imports: a trait per interface (`Host`),
//! one per resource type it defines (`HostFile` for `file`: constructor,
//! methods, static functions, `drop`), and `add_to_linker`, which defines
//! each function in a component linker as a call of the trait's method on
//! the part of the store's data `get` returns.

use proc_macro2::TokenStream as Tokens;
use quote::{format_ident, quote};
use wit_parser::{Function, FunctionKind, InterfaceId, TypeDefKind, TypeId, WorldKey};

use super::names::{camel, joined, snake};
use super::types::docs;
use super::{unsupported, Gen};

/// The traits and linker definitions of one scope of imports (an
/// interface, or the world's root).
pub struct HostSide {
    /// The traits' items.
    pub items: Tokens,
    /// Statements defining every function and resource in `inst`, a
    /// `LinkerInstance`, with `get` in scope.
    pub define: Tokens,
}

impl Gen<'_> {
    /// An imported interface's module: its types, traits and
    /// `add_to_linker`.
    pub fn import_interface(
        &self,
        key: &WorldKey,
        id: InterfaceId,
        cur: &[String],
    ) -> syn::Result<Tokens> {
        let iface = &self.resolve.interfaces[id];
        let types = self.interface_types(id);
        let mut out = self.typedefs(cur, &types)?;
        let funcs: Vec<&Function> = iface.functions.values().collect();
        let host = format_ident!("Host");
        let side = self.host_side(cur, &host, &funcs, &types)?;
        let name = self.resolve.name_world_key(key);
        let define = side.define;
        let (data_bound, host_bound) = self.linker_bounds();
        out.extend(side.items);
        out.extend(quote! {
            /// Defines this interface's functions and resource types in
            /// `linker`, each a call of `Host`'s method on what `get`
            /// returns from the store's data.
            pub fn add_to_linker<_T: #data_bound, _U: Host #host_bound>(
                linker: &mut ::walmart::component::Linker<_T>,
                get: impl Fn(&mut _T) -> &mut _U + Send + Sync + Copy + 'static,
            ) -> ::walmart::Result<()> {
                let mut inst = linker.instance(#name)?;
                #define
                Ok(())
            }
        });
        Ok(out)
    }

    /// The traits of a scope of imports: `trait_name` for its freestanding
    /// functions, a `Host` trait per resource type among `types`.
    pub fn host_side(
        &self,
        cur: &[String],
        trait_name: &proc_macro2::Ident,
        funcs: &[&Function],
        types: &[(String, TypeId)],
    ) -> syn::Result<HostSide> {
        let resources: Vec<(&String, TypeId)> = types
            .iter()
            .filter(|(_, t)| matches!(self.resolve.types[*t].kind, TypeDefKind::Resource))
            .map(|(n, t)| (n, *t))
            .collect();
        let mut items = Tokens::new();
        let mut define = Tokens::new();
        let mut supertraits = Vec::new();
        for (name, r) in &resources {
            let ty = camel(name);
            let host_trait = joined("Host", &ty, "");
            let mut methods = Tokens::new();
            for f in funcs.iter().filter(|f| resource_of(f) == Some(*r)) {
                let (m, d) = self.host_method(cur, &host_trait, f)?;
                methods.extend(m);
                define.extend(d);
            }
            let wit = name.as_str();
            items.extend(quote! {
                #[doc = concat!("The host's side of resource `", #wit, "`.")]
                pub trait #host_trait {
                    #methods
                    /// The component dropped its owned handle to `rep`.
                    fn drop(&mut self, rep: ::walmart::component::Resource<#ty>) -> ::walmart::Result<()>;
                }
            });
            define.extend(quote! {
                inst.resource(
                    #wit,
                    ::walmart::component::ResourceType::host::<#ty>(),
                    move |mut caller: ::walmart::Caller<'_, _T>, rep: u32| {
                        #host_trait::drop(get(caller.data_mut()), ::walmart::component::Resource::new_own(rep))
                    },
                )?;
            });
            supertraits.push(host_trait);
        }
        let mut methods = Tokens::new();
        for f in funcs.iter().filter(|f| resource_of(f).is_none()) {
            let (m, d) = self.host_method(cur, trait_name, f)?;
            methods.extend(m);
            define.extend(d);
        }
        let bound = if supertraits.is_empty() {
            Tokens::new()
        } else {
            quote!(: #(#supertraits)+*)
        };
        items.extend(quote! {
            /// What the host implements for these imports.
            pub trait #trait_name #bound {
                #methods
            }
        });
        if methods.is_empty() && supertraits.is_empty() {
            // Types only: nothing to implement.
            items.extend(quote!(impl<_T: ?Sized> #trait_name for _T {}));
        }
        Ok(HostSide { items, define })
    }

    /// A trait method for an imported function, and its definition in
    /// the linker instance `inst`.
    fn host_method(
        &self,
        cur: &[String],
        trait_name: &proc_macro2::Ident,
        f: &Function,
    ) -> syn::Result<(Tokens, Tokens)> {
        let method = match &f.kind {
            FunctionKind::Freestanding => snake(&f.name),
            FunctionKind::Constructor(_) => format_ident!("new"),
            FunctionKind::Method(_) | FunctionKind::Static(_) => {
                snake(f.name.rsplit('.').next().unwrap_or(&f.name))
            }
            kind => {
                return Err(unsupported(format_args!(
                    "{} (`{}`)",
                    super::exports::kind_name(kind),
                    f.name
                )))
            }
        };
        if f.params.len() > 16 {
            return Err(unsupported(format_args!(
                "an imported function of more than 16 parameters (`{}`)",
                f.name
            )));
        }
        let names: Vec<_> = f.params.iter().map(|p| snake(&p.name)).collect();
        let types = f
            .params
            .iter()
            .map(|p| self.ty(cur, &p.ty))
            .collect::<syn::Result<Vec<_>>>()?;
        let args: Vec<_> = (0..f.params.len()).map(|i| format_ident!("p{i}")).collect();
        let result = match &f.result {
            Some(t) => self.ty(cur, t)?,
            None => quote!(()),
        };
        let trappable = self.opts.trappable_imports;
        let ret = if trappable {
            quote!(::walmart::Result<#result>)
        } else {
            result.clone()
        };
        let doc = docs(&f.docs);
        let arrow = if self.opts.is_async {
            quote!(-> impl ::std::future::Future<Output = #ret> + Send)
        } else if f.result.is_none() && !trappable {
            Tokens::new()
        } else {
            quote!(-> #ret)
        };
        let sig = quote! {
            #doc
            fn #method(&mut self, #(#names: #types),*) #arrow;
        };
        let q = if trappable { quote!(?) } else { Tokens::new() };
        let call = quote!(#trait_name::#method(get(caller.data_mut()), #(#args),*) #q);
        let (out_ty, body) = match f.result {
            Some(_) => (quote!((#result,)), quote!(Ok((#call,)))),
            None => (quote!(()), quote!(#call; Ok(()))),
        };
        let wit = &f.name;
        if self.opts.is_async {
            // The future holds the caller (and through it the host's
            // part of the store) while it waits.
            let call = quote!(#trait_name::#method(get(caller.data_mut()), #(#args),*).await #q);
            let body = match f.result {
                Some(_) => quote!(Ok((#call,))),
                None => quote!(#call; Ok(())),
            };
            let define = quote! {
                inst.func_wrap_async(
                    #wit,
                    move |mut caller: ::walmart::Caller<'_, _T>, (#(#args,)*): (#(#types,)*)| {
                        ::std::boxed::Box::new(async move {
                            let out: ::walmart::Result<#out_ty> = { #body };
                            out
                        })
                    },
                )?;
            };
            return Ok((sig, define));
        }
        let define = quote! {
            inst.func_wrap(
                #wit,
                move |mut caller: ::walmart::Caller<'_, _T>, (#(#args,)*): (#(#types,)*)| -> ::walmart::Result<#out_ty> {
                    #body
                },
            )?;
        };
        Ok((sig, define))
    }
}

impl Gen<'_> {
    /// The bounds `add_to_linker` puts on the store's data and the host's
    /// part of it: an asynchronous host's futures hold both across
    /// awaits, and so must be `Send`.
    pub fn linker_bounds(&self) -> (Tokens, Tokens) {
        if self.opts.is_async {
            (quote!(Send + 'static), quote!(+ Send))
        } else {
            (quote!('static), Tokens::new())
        }
    }
}

/// The resource type a function belongs to (a constructor, method or
/// static function of it).
fn resource_of(f: &Function) -> Option<TypeId> {
    match f.kind {
        FunctionKind::Constructor(r) | FunctionKind::Method(r) | FunctionKind::Static(r) => Some(r),
        _ => None,
    }
}
