//! `#[derive(ComponentType)]`: Rust structs and enums as component-model
//! records, enums and variants; and `bindgen!`, Rust bindings of a WIT
//! world (see the crate's README).

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::{parse_macro_input, Attribute, Data, DeriveInput, Fields, LitStr};

mod bindgen;

/// Rust bindings of a WIT world (re-exported as
/// `walmart::component::bindgen`; see its documentation there).
#[proc_macro]
pub fn bindgen(input: TokenStream) -> TokenStream {
    match bindgen::expand(input.into()) {
        Ok(t) => t.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// Implements `walmart::component::ComponentType` for a struct with
/// named fields (a `record`), an enum of unit variants (an `enum`) or an
/// enum of variants with at most one unnamed field (a `variant`).
#[proc_macro_derive(ComponentType, attributes(component))]
pub fn derive_component_type(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(t) => t.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// `#[component(name = "...")]`'s name, if given.
fn renamed(attrs: &[Attribute]) -> syn::Result<Option<String>> {
    Ok(options(attrs)?.name)
}

/// A `#[component(...)]` attribute's options.
#[derive(Default)]
struct Options {
    /// `name = "..."`: the WIT name of a field, case or flag.
    name: Option<String>,
    /// `flags`: a struct of `bool`s is a `flags` type.
    flags: bool,
    /// `variant`: an enum of unit variants is a `variant`, not an `enum`.
    variant: bool,
}

fn options(attrs: &[Attribute]) -> syn::Result<Options> {
    let mut o = Options::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("component")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                o.name = Some(meta.value()?.parse::<LitStr>()?.value());
                Ok(())
            } else if meta.path.is_ident("flags") {
                o.flags = true;
                Ok(())
            } else if meta.path.is_ident("variant") {
                o.variant = true;
                Ok(())
            } else {
                Err(meta.error("expected `name = \"...\"`, `flags` or `variant`"))
            }
        })?;
    }
    Ok(o)
}

/// A Rust field's name in WIT: `snake_case` to `kebab-case`.
fn kebab_of_snake(s: &str) -> String {
    s.trim_start_matches("r#").replace('_', "-")
}

/// A Rust variant's name in WIT: `CamelCase` to `kebab-case`.
fn kebab_of_camel(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn expand(input: &DeriveInput) -> syn::Result<Tokens> {
    let name = &input.ident;
    let (imp, ty_generics, where_clause) = input.generics.split_for_impl();
    let c = quote!(::walmart::component);
    let Options { flags, variant, .. } = options(&input.attrs)?;
    let (ty, into, from) = match &input.data {
        Data::Struct(s) if flags => {
            // `#[component(flags)]`: a struct of `bool`s, each a flag.
            let Fields::Named(fields) = &s.fields else {
                return Err(syn::Error::new_spanned(
                    &input.ident,
                    "ComponentType: flags are a struct of named `bool` fields",
                ));
            };
            let mut names = Vec::new();
            let mut idents = Vec::new();
            for f in &fields.named {
                let ident = f.ident.clone().expect("named");
                names
                    .push(renamed(&f.attrs)?.unwrap_or_else(|| kebab_of_snake(&ident.to_string())));
                idents.push(ident);
            }
            (
                quote!(#c::Type::Flags(vec![#(#names.to_string()),*])),
                quote! {
                    let mut set = Vec::new();
                    #(if self.#idents { set.push(#names.to_string()); })*
                    #c::Val::Flags(set)
                },
                quote! {
                    let #c::Val::Flags(set) = val else {
                        return Err(::walmart::Error::Usage(format!(
                            "flags expected for `{}`, found {:?}", stringify!(#name), val
                        )));
                    };
                    Ok(Self { #(#idents: set.iter().any(|f| f == #names)),* })
                },
            )
        }
        Data::Struct(s) => {
            let Fields::Named(fields) = &s.fields else {
                return Err(syn::Error::new_spanned(
                    &input.ident,
                    "ComponentType: a struct needs named fields (a record)",
                ));
            };
            let mut names = Vec::new();
            let mut idents = Vec::new();
            let mut types = Vec::new();
            for f in &fields.named {
                let ident = f.ident.clone().expect("named");
                names
                    .push(renamed(&f.attrs)?.unwrap_or_else(|| kebab_of_snake(&ident.to_string())));
                idents.push(ident);
                types.push(f.ty.clone());
            }
            (
                quote! {
                    #c::Type::Record(vec![#((#names.to_string(), <#types as #c::ComponentType>::ty())),*])
                },
                quote! {
                    #c::Val::Record(vec![#((#names.to_string(), #c::ComponentType::into_val(self.#idents))),*])
                },
                quote! {
                    let #c::Val::Record(mut fields) = val else {
                        return Err(::walmart::Error::Usage(format!(
                            "a record expected for `{}`, found a {:?}", stringify!(#name), val
                        )));
                    };
                    let mut take = |field: &str| -> ::walmart::Result<#c::Val> {
                        let at = fields.iter().position(|(n, _)| n == field).ok_or_else(|| {
                            ::walmart::Error::Usage(format!(
                                "a record without field `{field}` for `{}`", stringify!(#name)
                            ))
                        })?;
                        Ok(fields.swap_remove(at).1)
                    };
                    Ok(Self { #(#idents: #c::ComponentType::from_val(take(#names)?)?),* })
                },
            )
        }
        Data::Enum(e) => {
            let unit = !variant && e.variants.iter().all(|v| matches!(v.fields, Fields::Unit));
            let mut names = Vec::new();
            let mut into_arms = Vec::new();
            let mut from_arms = Vec::new();
            let mut case_types = Vec::new();
            for v in &e.variants {
                let ident = &v.ident;
                let case = renamed(&v.attrs)?.unwrap_or_else(|| kebab_of_camel(&ident.to_string()));
                match &v.fields {
                    Fields::Unit if unit => {
                        into_arms.push(quote!(Self::#ident => #c::Val::Enum(#case.to_string())));
                        from_arms.push(quote!(#c::Val::Enum(n) if n == #case => Ok(Self::#ident)));
                    }
                    Fields::Unit => {
                        case_types.push(quote!((#case.to_string(), None)));
                        into_arms.push(
                            quote!(Self::#ident => #c::Val::Variant(#case.to_string(), None)),
                        );
                        from_arms.push(
                            quote!(#c::Val::Variant(n, None) if n == #case => Ok(Self::#ident)),
                        );
                    }
                    Fields::Unnamed(f) if f.unnamed.len() == 1 => {
                        let t = &f.unnamed[0].ty;
                        case_types.push(
                            quote!((#case.to_string(), Some(<#t as #c::ComponentType>::ty()))),
                        );
                        into_arms.push(quote! {
                            Self::#ident(v) => #c::Val::Variant(
                                #case.to_string(),
                                Some(Box::new(#c::ComponentType::into_val(v))),
                            )
                        });
                        from_arms.push(quote! {
                            #c::Val::Variant(n, Some(v)) if n == #case => {
                                Ok(Self::#ident(#c::ComponentType::from_val(*v)?))
                            }
                        });
                    }
                    _ => {
                        return Err(syn::Error::new_spanned(
                            v,
                            "ComponentType: a variant case holds at most one unnamed value",
                        ))
                    }
                }
                names.push(case);
            }
            let ty = if unit {
                quote!(#c::Type::Enum(vec![#(#names.to_string()),*]))
            } else {
                quote!(#c::Type::Variant(vec![#(#case_types),*]))
            };
            (
                ty,
                quote!(match self { #(#into_arms,)* }),
                quote! {
                    match val {
                        #(#from_arms,)*
                        other => Err(::walmart::Error::Usage(format!(
                            "no case of `{}` in {:?}", stringify!(#name), other
                        ))),
                    }
                },
            )
        }
        Data::Union(_) => {
            return Err(syn::Error::new_spanned(
                &input.ident,
                "ComponentType: unions are not component types",
            ))
        }
    };
    Ok(quote! {
        impl #imp #c::ComponentType for #name #ty_generics #where_clause {
            fn ty() -> #c::Type {
                #ty
            }
            fn into_val(self) -> #c::Val {
                #into
            }
            fn from_val(val: #c::Val) -> ::walmart::Result<Self> {
                #from
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_kebab_case() {
        assert_eq!(kebab_of_snake("data_access_time"), "data-access-time");
        assert_eq!(kebab_of_snake("r#type"), "type");
        assert_eq!(
            kebab_of_camel("LastOperationFailed"),
            "last-operation-failed"
        );
        assert_eq!(kebab_of_camel("Ok"), "ok");
    }
}
