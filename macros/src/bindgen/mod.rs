//! `bindgen!`: Rust bindings of a WIT world for an embedder (wasmtime's
//! `component::bindgen!`). The world's imports become traits the host
//! implements and an `add_to_linker`; its exports typed calls on a struct
//! made from an instance; its types Rust types with
//! `#[derive(ComponentType)]`.
//!
//! Layout of the expansion, where the macro is invoked: the world's own
//! types, its struct (`World`, `WorldPre`) and, for root imports,
//! `WorldImports`; an imported interface `ns:pkg/iface` in module
//! `ns::pkg::iface` (its types, `Host`, `add_to_linker`); an exported one
//! in `exports::ns::pkg::iface` (`Guest`). An interface named in the
//! world alone (`import x: interface { ... }`) is module `x`.

mod exports;
mod imports;
mod names;
mod options;
mod types;

use std::collections::{BTreeMap, HashMap};

use proc_macro2::{Span, TokenStream as Tokens};
use quote::quote;
use wit_parser::{InterfaceId, Resolve, TypeId, TypeOwner, WorldId, WorldItem, WorldKey};

pub use options::Options;

/// Expands an invocation.
pub fn expand(input: Tokens) -> syn::Result<Tokens> {
    let opts: Options = syn::parse2(input)?;
    let loaded = opts.load()?;
    let gen = Gen::new(&loaded.resolve, loaded.world, &opts)?;
    let body = gen.generate()?;
    let files = loaded
        .files
        .iter()
        .filter_map(|f| f.canonicalize().ok())
        .map(|f| f.display().to_string());
    Ok(quote! {
        #body
        // Editing the WIT rebuilds the crate.
        const _: () = { #( const _: &str = include_str!(#files); )* };
    })
}

/// A "not supported" error naming the WIT feature.
fn unsupported(what: impl std::fmt::Display) -> syn::Error {
    syn::Error::new(
        Span::call_site(),
        format!("bindgen!: {what} is not supported by walmart's bindgen! yet"),
    )
}

/// Where a named type's Rust item lives.
enum Location<'a> {
    /// A module of the expansion (path from its root).
    Module(&'a [String]),
    /// A module of the user's, from `with`.
    External(&'a syn::Path),
}

/// The generator's view of the world.
pub struct Gen<'a> {
    resolve: &'a Resolve,
    world: WorldId,
    opts: &'a Options,
    /// Modules of the interfaces imported (and so of their types).
    import_mods: HashMap<InterfaceId, Vec<String>>,
    /// Modules of the interfaces exported.
    export_mods: HashMap<InterfaceId, Vec<String>>,
    /// Interfaces given by `with`.
    with: HashMap<InterfaceId, syn::Path>,
    /// Host resource types given by `with` (`"ns:pkg/iface/r"`): the
    /// Rust type behind their handles.
    with_resources: HashMap<TypeId, syn::Path>,
    /// Items per module path, filled as the world is walked.
    modules: std::cell::RefCell<BTreeMap<Vec<String>, Tokens>>,
}

impl<'a> Gen<'a> {
    fn new(resolve: &'a Resolve, world: WorldId, opts: &'a Options) -> syn::Result<Gen<'a>> {
        let w = &resolve.worlds[world];
        let mut gen = Gen {
            resolve,
            world,
            opts,
            import_mods: HashMap::new(),
            export_mods: HashMap::new(),
            with: HashMap::new(),
            with_resources: HashMap::new(),
            modules: Default::default(),
        };
        let mut used_with = vec![false; opts.with.len()];
        for (exported, items) in [(false, &w.imports), (true, &w.exports)] {
            for (key, item) in items {
                let WorldItem::Interface { id, .. } = item else {
                    continue;
                };
                if let Some(at) = gen.with_entry(*id) {
                    used_with[at] = true;
                    if exported {
                        return Err(unsupported(format_args!(
                            "`with` for the exported interface `{}`",
                            resolve.name_world_key(key)
                        )));
                    }
                    gen.with.insert(*id, opts.with[at].1.clone());
                    continue;
                }
                let mut path = gen.interface_module(key, *id);
                if exported {
                    path.insert(0, "exports".to_string());
                    gen.export_mods.insert(*id, path);
                } else {
                    gen.import_mods.insert(*id, path);
                }
            }
        }
        // The rest may name resources of imported interfaces
        // (`"ns:pkg/iface.r"`).
        for (at, (name, path)) in opts.with.iter().enumerate() {
            if used_with[at] {
                continue;
            }
            let Some((iface, res)) = name.rsplit_once('.') else {
                continue;
            };
            for id in gen.import_mods.keys() {
                let Some(full) = resolve.id_of(*id) else {
                    continue;
                };
                let bare = full.split('@').next().unwrap_or(&full);
                if iface != full && iface != bare {
                    continue;
                }
                if let Some(t) = resolve.interfaces[*id].types.get(res) {
                    if matches!(resolve.types[*t].kind, wit_parser::TypeDefKind::Resource) {
                        gen.with_resources.insert(*t, path.clone());
                        used_with[at] = true;
                    }
                }
            }
        }
        if let Some(at) = used_with.iter().position(|u| !u) {
            return Err(syn::Error::new(
                Span::call_site(),
                format!(
                    "bindgen!: `with` names `{}`, which is neither an interface the world `{}` \
                     imports or exports nor a resource of one it imports",
                    opts.with[at].0, w.name
                ),
            ));
        }
        // Two interfaces must not share a module (two versions of one
        // package's interface, say).
        let mut seen = HashMap::new();
        for (id, path) in gen.import_mods.iter().chain(&gen.export_mods) {
            if let Some(other) = seen.insert(path.clone(), *id) {
                let name = |i: InterfaceId| resolve.id_of(i).unwrap_or_else(|| path.join("::"));
                return Err(unsupported(format_args!(
                    "a world with both `{}` and `{}` (one Rust module `{}`)",
                    name(other),
                    name(*id),
                    path.join("::")
                )));
            }
        }
        Ok(gen)
    }

    /// The `with` entry naming interface `id`, with or without its version.
    fn with_entry(&self, id: InterfaceId) -> Option<usize> {
        let full = self.resolve.id_of(id)?;
        let bare = full.split('@').next().unwrap_or(&full).to_string();
        self.opts
            .with
            .iter()
            .position(|(name, _)| *name == full || *name == bare)
    }

    /// `ns::pkg::iface` of a packaged interface, the key's name of one
    /// the world defines.
    fn interface_module(&self, key: &WorldKey, id: InterfaceId) -> Vec<String> {
        let iface = &self.resolve.interfaces[id];
        match (key, iface.package, &iface.name) {
            (WorldKey::Interface(_), Some(pkg), Some(name)) => {
                let p = &self.resolve.packages[pkg].name;
                vec![
                    names::snake_text(&p.namespace),
                    names::snake_text(&p.name),
                    names::snake_text(name),
                ]
            }
            (WorldKey::Name(name), _, _) => vec![names::snake_text(name)],
            (WorldKey::Interface(_), _, _) => vec![format!("interface{}", id.index())],
        }
    }

    /// Adds items to a module of the expansion.
    fn emit(&self, module: &[String], items: Tokens) {
        self.modules
            .borrow_mut()
            .entry(module.to_vec())
            .or_default()
            .extend(items);
    }

    /// Where a named type's item is.
    fn location(&self, id: TypeId) -> syn::Result<Location<'_>> {
        static ROOT: Vec<String> = Vec::new();
        match self.resolve.types[id].owner {
            TypeOwner::World(_) | TypeOwner::None => Ok(Location::Module(&ROOT)),
            TypeOwner::Interface(i) => {
                if let Some(p) = self.with.get(&i) {
                    Ok(Location::External(p))
                } else if let Some(m) = self.import_mods.get(&i).or(self.export_mods.get(&i)) {
                    Ok(Location::Module(m))
                } else {
                    Err(unsupported(format_args!(
                        "a type of `{}`, an interface the world does not name,",
                        self.resolve.id_of(i).unwrap_or_default()
                    )))
                }
            }
        }
    }

    /// The path from module `cur` to the named type `id`.
    fn type_path(&self, cur: &[String], id: TypeId) -> syn::Result<Tokens> {
        let def = &self.resolve.types[id];
        let name = names::camel(def.name.as_deref().unwrap_or("anonymous"));
        Ok(match self.location(id)? {
            Location::External(p) => {
                let p = external(cur, p);
                quote!(#p::#name)
            }
            Location::Module(m) if m == cur => quote!(#name),
            Location::Module(m) => {
                let supers = cur.iter().map(|_| quote!(super::));
                let segs = m.iter().map(|s| names::snake(s));
                quote!(#(#supers)* #(#segs::)* #name)
            }
        })
    }

    /// The world's own named types (name, id).
    fn world_types(&self) -> Vec<(String, TypeId)> {
        self.resolve.worlds[self.world]
            .imports
            .iter()
            .filter_map(|(key, item)| match (key, item) {
                (WorldKey::Name(n), WorldItem::Type { id, .. }) => Some((n.clone(), *id)),
                _ => None,
            })
            .collect()
    }

    /// Interface `id`'s named types (name, id).
    fn interface_types(&self, id: InterfaceId) -> Vec<(String, TypeId)> {
        self.resolve.interfaces[id]
            .types
            .iter()
            .map(|(n, t)| (n.clone(), *t))
            .collect()
    }

    /// Whether interface `i`'s types are generated where it is exported
    /// (it is not imported too).
    fn exported_only(&self, i: InterfaceId) -> bool {
        !self.import_mods.contains_key(&i) && !self.with.contains_key(&i)
    }

    fn generate(&self) -> syn::Result<Tokens> {
        let w = &self.resolve.worlds[self.world];
        let root: &[String] = &[];
        self.emit(root, self.typedefs(root, &self.world_types())?);
        for (key, item) in &w.imports {
            if let WorldItem::Interface { id, .. } = item {
                if let Some(m) = self.import_mods.get(id) {
                    self.emit(m, self.import_interface(key, *id, m)?);
                }
            }
        }
        for (key, item) in &w.exports {
            if let WorldItem::Interface { id, .. } = item {
                let m = &self.export_mods[id];
                self.emit(m, self.export_interface(key, *id, m)?);
            }
        }
        self.emit(root, self.world_items()?);
        Ok(render(&self.modules.borrow()))
    }
}

/// A path of `with`'s as written in module `cur`: paths are the
/// invocation's, so from a module `cur.len()` deep a relative one climbs
/// that much further; `crate::...` and `::...` (another crate's) stay.
fn external(cur: &[String], p: &syn::Path) -> Tokens {
    let first = p.segments.first().map(|s| s.ident.to_string());
    let absolute = p.leading_colon.is_some() || matches!(first.as_deref(), Some("crate"));
    let mut segs: Vec<Tokens> = Vec::new();
    if !absolute {
        segs.extend(cur.iter().map(|_| quote!(super)));
    }
    for (i, s) in p.segments.iter().enumerate() {
        if !(!absolute && i == 0 && s.ident == "self") {
            segs.push(quote!(#s));
        }
    }
    let lead = p.leading_colon.map(|_| quote!(::));
    quote!(#lead #(#segs)::*)
}

/// Nests the modules' items: `a::b`'s inside `pub mod a { pub mod b }`.
fn render(modules: &BTreeMap<Vec<String>, Tokens>) -> Tokens {
    fn level(modules: &BTreeMap<Vec<String>, Tokens>, prefix: &[String]) -> Tokens {
        let mut out = modules.get(prefix).cloned().unwrap_or_default();
        let mut children: Vec<&String> = modules
            .keys()
            .filter(|k| k.len() > prefix.len() && k.starts_with(prefix))
            .map(|k| &k[prefix.len()])
            .collect();
        children.dedup();
        for child in children {
            let mut path = prefix.to_vec();
            path.push(child.clone());
            let inner = level(modules, &path);
            let name = names::snake(child);
            out.extend(quote! {
                #[allow(dead_code, unused_imports, clippy::all)]
                pub mod #name {
                    #inner
                }
            });
        }
        out
    }
    level(modules, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expansion's text, or its error's.
    fn expand_text(input: Tokens) -> Result<String, String> {
        expand(input)
            .map(|t| t.to_string())
            .map_err(|e| e.to_string())
    }

    fn inline(wit: &str) -> Result<String, String> {
        expand_text(quote!({ inline: #wit }))
    }

    #[test]
    fn a_world_s_items_are_generated() {
        let out = inline(
            "package a:b; interface i { record r { x-y: u8 } f: func(v: r) -> list<string>; }
             world w { import i; export i; export g: func(s: string) -> u32; }",
        )
        .unwrap();
        for item in [
            "pub mod a",
            "pub mod exports",
            "pub trait Host",
            "pub fn add_to_linker",
            "pub struct Guest",
            "pub struct R",
            "pub x_y : u8",
            "pub type R = ",
            "pub struct W",
            "pub struct WPre",
            "pub fn call_g",
            "pub fn call_f",
            "pub fn a_b_i",
        ] {
            assert!(out.contains(item), "`{item}` missing from {out}");
        }
        // Interfaces the world names alone, and types of its own.
        let out = inline(
            "package a:b; world w { record p { x: u32 } import log: interface { say: func(m: string); }
             export calc: interface { add: func(a: u32, b: u32) -> u32; } export f: func(v: p) -> p; }",
        )
        .unwrap();
        for item in [
            "pub struct P",
            "pub mod log",
            "fn say (& mut self , m : :: std :: string :: String) ;",
            "pub mod calc",
            "pub fn calc (& self) -> & exports :: calc :: Guest",
            "pub fn call_f",
        ] {
            assert!(out.contains(item), "`{item}` missing from {out}");
        }
        // A resource the component exports: `ResourceAny` handles, its
        // functions in `GuestR`.
        let out = inline(
            "package a:b; interface i { resource r { constructor(); get: func() -> u32; } }
             world w { export i; }",
        )
        .unwrap();
        for item in [
            "pub type R = :: walmart :: component :: ResourceAny",
            "pub struct GuestR",
            "pub fn r (& self) -> GuestR",
            "pub fn call_constructor",
            "pub fn call_get",
            "self_ : :: walmart :: component :: ResourceAny",
        ] {
            assert!(out.contains(item), "`{item}` missing from {out}");
        }
    }

    #[test]
    fn what_is_not_supported_is_named() {
        let cases = [
            (
                "package a:b; world w { export f: func() -> stream<u8>; }",
                "`stream` is not supported",
            ),
            (
                "package a:b; world w { import f: func(x: future<u8>); }",
                "`future` is not supported",
            ),
            (
                "package a:b; world w { export f: async func(); }",
                "an `async` function the component exports (`f`)",
            ),
        ];
        for (wit, said) in cases {
            let err = inline(wit).unwrap_err();
            assert!(err.contains(said), "{wit}: {err}");
        }
    }

    #[test]
    fn bad_invocations_and_bad_wit_say_what_and_where() {
        let err =
            expand_text(quote!({ inline: "package a:b; world w {}", colour: true })).unwrap_err();
        assert!(err.contains("unknown option `colour`"), "{err}");
        let err =
            expand_text(quote!({ inline: "package a:b; world w {}", imports: {} })).unwrap_err();
        assert!(err.contains("option `imports` is not supported"), "{err}");
        let err = expand_text(quote!({ inline: "x", inline: "y" })).unwrap_err();
        assert!(err.contains("`inline` given twice"), "{err}");
        let err = inline("package a:b;\nworld w {\n  import f: func(x: nope);\n}").unwrap_err();
        assert!(
            err.contains("name `nope` does not exist") && err.contains("inline.wit:3:"),
            "{err}"
        );
        let err = expand_text(quote!({ path: "no/such/dir" })).unwrap_err();
        assert!(err.contains("no/such/dir"), "{err}");
        let err = inline("package a:b; world v {} world w {}").unwrap_err();
        assert!(err.contains("world"), "{err}");
        let err = expand_text(quote!({
            inline: "package a:b; world w {}",
            with: { "x:y/z": some::module },
        }))
        .unwrap_err();
        assert!(err.contains("`with` names `x:y/z`"), "{err}");
    }
}
