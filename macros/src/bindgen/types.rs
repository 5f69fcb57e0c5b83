//! WIT types as Rust types: the items of named types (records, variants,
//! enums, flags, host resources, aliases) and the Rust type of any use.

use proc_macro2::TokenStream as Tokens;
use quote::quote;
use wit_parser::{Docs, Handle, Type, TypeDefKind, TypeId, TypeOwner};

use super::names::{camel, snake};
use super::{unsupported, Gen};

/// How a parameter of a guest's function is taken by its `call_` method.
pub enum Pass {
    /// As it is (numbers, enums, flags, handles).
    Value,
    /// Borrowed, and made owned for the call (`&str`, `&[T]`, `&T`).
    Borrowed,
}

/// `#[doc = ...]` of WIT's documentation.
pub fn docs(d: &Docs) -> Tokens {
    match &d.contents {
        Some(text) => {
            let lines = text.lines();
            quote!(#(#[doc = #lines])*)
        }
        None => Tokens::new(),
    }
}

impl Gen<'_> {
    /// The Rust type of `t` as written in module `cur`.
    pub fn ty(&self, cur: &[String], t: &Type) -> syn::Result<Tokens> {
        Ok(match t {
            Type::Bool => quote!(bool),
            Type::U8 => quote!(u8),
            Type::U16 => quote!(u16),
            Type::U32 => quote!(u32),
            Type::U64 => quote!(u64),
            Type::S8 => quote!(i8),
            Type::S16 => quote!(i16),
            Type::S32 => quote!(i32),
            Type::S64 => quote!(i64),
            Type::F32 => quote!(f32),
            Type::F64 => quote!(f64),
            Type::Char => quote!(char),
            Type::String => quote!(::std::string::String),
            Type::ErrorContext => return Err(unsupported("`error-context`")),
            Type::Id(id) => {
                let def = &self.resolve.types[*id];
                if def.name.is_some() && !matches!(def.owner, TypeOwner::None) {
                    self.type_path(cur, *id)?
                } else {
                    self.anonymous(cur, &def.kind)?
                }
            }
        })
    }

    /// The Rust type of a structural type (`list<T>`, `option<T>`, ...).
    fn anonymous(&self, cur: &[String], kind: &TypeDefKind) -> syn::Result<Tokens> {
        let opt = |t: &Option<Type>| -> syn::Result<Tokens> {
            match t {
                Some(t) => self.ty(cur, t),
                None => Ok(quote!(())),
            }
        };
        Ok(match kind {
            TypeDefKind::Tuple(t) => {
                let items = t
                    .types
                    .iter()
                    .map(|t| self.ty(cur, t))
                    .collect::<syn::Result<Vec<_>>>()?;
                quote!((#(#items,)*))
            }
            TypeDefKind::Option(t) => {
                let t = self.ty(cur, t)?;
                quote!(::std::option::Option<#t>)
            }
            TypeDefKind::Result(r) => {
                let (ok, err) = (opt(&r.ok)?, opt(&r.err)?);
                quote!(::std::result::Result<#ok, #err>)
            }
            TypeDefKind::List(t) => {
                let t = self.ty(cur, t)?;
                quote!(::std::vec::Vec<#t>)
            }
            TypeDefKind::Handle(Handle::Own(r) | Handle::Borrow(r)) => self.handle(cur, *r)?,
            TypeDefKind::Type(t) => self.ty(cur, t)?,
            TypeDefKind::Future(_) => return Err(unsupported("`future`")),
            TypeDefKind::Stream(_) => return Err(unsupported("`stream`")),
            TypeDefKind::Map(..) => return Err(unsupported("`map`")),
            TypeDefKind::FixedLengthList(..) => return Err(unsupported("a fixed-length list")),
            TypeDefKind::Record(_)
            | TypeDefKind::Variant(_)
            | TypeDefKind::Enum(_)
            | TypeDefKind::Flags(_)
            | TypeDefKind::Resource
            | TypeDefKind::Unknown => {
                return Err(unsupported(
                    "an unnamed record, variant, enum, flags or resource",
                ))
            }
        })
    }

    /// The resource type a handle names, through `use`'s aliases.
    fn resource_of(&self, mut r: TypeId) -> TypeId {
        while let TypeDefKind::Type(Type::Id(next)) = self.resolve.types[r].kind {
            r = next;
        }
        r
    }

    /// Whether resource `r` (after aliases) is the host's: defined in an
    /// imported interface or the world, not in one the component exports.
    pub fn host_resource(&self, r: TypeId) -> bool {
        match self.resolve.types[self.resource_of(r)].owner {
            TypeOwner::Interface(i) => !self.exported_only(i),
            _ => true,
        }
    }

    /// The Rust type of a handle to resource `r`: `Resource<R>` of the
    /// host's, `ResourceAny` of a component's.
    fn handle(&self, cur: &[String], r: TypeId) -> syn::Result<Tokens> {
        if !self.host_resource(r) {
            return Ok(quote!(::walmart::component::ResourceAny));
        }
        let path = self.type_path(cur, r)?;
        Ok(quote!(::walmart::component::Resource<#path>))
    }

    /// How a `call_` method takes a parameter of type `t`.
    pub fn pass(&self, t: &Type) -> Pass {
        match t {
            Type::String => Pass::Borrowed,
            Type::Id(id) => match &self.resolve.types[*id].kind {
                TypeDefKind::Enum(_) | TypeDefKind::Flags(_) | TypeDefKind::Handle(_) => {
                    Pass::Value
                }
                TypeDefKind::Type(t) => self.pass(t),
                _ => Pass::Borrowed,
            },
            _ => Pass::Value,
        }
    }

    /// The parameter type of a `call_` method: `&str` for a string,
    /// `&[T]` for a list, `&T` for other compound types.
    pub fn param_ty(&self, cur: &[String], t: &Type) -> syn::Result<Tokens> {
        if let Pass::Value = self.pass(t) {
            return self.ty(cur, t);
        }
        if let Type::Id(id) = t {
            let def = &self.resolve.types[*id];
            if def.name.is_none() {
                if let TypeDefKind::List(e) = &def.kind {
                    let e = self.ty(cur, e)?;
                    return Ok(quote!(&[#e]));
                }
            }
        }
        if let Type::String = t {
            return Ok(quote!(&str));
        }
        let t = self.ty(cur, t)?;
        Ok(quote!(&#t))
    }

    /// The items of the named types `types` (name, id), in module `cur`.
    pub fn typedefs(&self, cur: &[String], types: &[(String, TypeId)]) -> syn::Result<Tokens> {
        let c = quote!(::walmart::component);
        let mut out = Tokens::new();
        for (name, id) in types {
            let def = &self.resolve.types[*id];
            let doc = docs(&def.docs);
            let ident = camel(name);
            let derive = quote!(#[derive(#c::ComponentType)]);
            out.extend(match &def.kind {
                TypeDefKind::Record(r) => {
                    let fields = r
                        .fields
                        .iter()
                        .map(|f| {
                            let (doc, id, wit, ty) =
                                (docs(&f.docs), snake(&f.name), &f.name, self.ty(cur, &f.ty)?);
                            Ok(quote!(#doc #[component(name = #wit)] pub #id: #ty))
                        })
                        .collect::<syn::Result<Vec<_>>>()?;
                    quote! {
                        #doc #derive #[derive(Clone, Debug, PartialEq)]
                        pub struct #ident { #(#fields,)* }
                    }
                }
                TypeDefKind::Variant(v) => {
                    let cases = v
                        .cases
                        .iter()
                        .map(|case| {
                            let (doc, id, wit) = (docs(&case.docs), camel(&case.name), &case.name);
                            Ok(match &case.ty {
                                Some(t) => {
                                    let t = self.ty(cur, t)?;
                                    quote!(#doc #[component(name = #wit)] #id(#t))
                                }
                                None => quote!(#doc #[component(name = #wit)] #id),
                            })
                        })
                        .collect::<syn::Result<Vec<_>>>()?;
                    quote! {
                        #doc #derive #[component(variant)] #[derive(Clone, Debug, PartialEq)]
                        pub enum #ident { #(#cases,)* }
                    }
                }
                TypeDefKind::Enum(e) => {
                    let cases = e.cases.iter().map(|case| {
                        let (doc, id, wit) = (docs(&case.docs), camel(&case.name), &case.name);
                        quote!(#doc #[component(name = #wit)] #id)
                    });
                    quote! {
                        #doc #derive #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
                        pub enum #ident { #(#cases,)* }
                    }
                }
                TypeDefKind::Flags(f) => {
                    let flags = f.flags.iter().map(|flag| {
                        let (doc, id, wit) = (docs(&flag.docs), snake(&flag.name), &flag.name);
                        quote!(#doc #[component(name = #wit)] pub #id: bool)
                    });
                    quote! {
                        #doc #derive #[component(flags)]
                        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
                        pub struct #ident { #(#flags,)* }
                    }
                }
                TypeDefKind::Resource if !self.host_resource(*id) => {
                    quote! {
                        #doc
                        /// The component's resource type: its handles are
                        /// `ResourceAny`s, dropped with `resource_drop`.
                        pub type #ident = ::walmart::component::ResourceAny;
                    }
                }
                TypeDefKind::Resource if self.with_resources.contains_key(id) => {
                    let path = super::external(cur, &self.with_resources[id]);
                    quote! {
                        #doc
                        /// The host's resource type, given by `with`: its
                        /// handles are `walmart::component::Resource<` this `>`.
                        pub type #ident = #path;
                    }
                }
                TypeDefKind::Resource => {
                    quote! {
                        #doc
                        /// The host's resource type: its handles are
                        /// `walmart::component::Resource<` this `>`.
                        pub enum #ident {}
                    }
                }
                kind => {
                    let t = self.anonymous(cur, kind)?;
                    quote!(#doc pub type #ident = #t;)
                }
            });
        }
        Ok(out)
    }
}
