//! What `bindgen!` is given: the world, where its WIT is, and the knobs
//! (wasmtime's spelling where walmart has the same knob).

use std::path::{Path, PathBuf};

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{braced, bracketed, Ident, LitBool, LitStr, Token};
use wit_parser::{Resolve, WorldId};

/// The parsed invocation.
#[derive(Default)]
pub struct Options {
    /// The world's name (`"name"` or `"ns:pkg/name"`), when the packages
    /// hold more than one.
    pub world: Option<String>,
    /// WIT files or directories (with their `deps/`), relative to the
    /// crate's manifest; `wit` when neither this nor `inline` is given.
    pub paths: Vec<String>,
    /// WIT source written in the invocation.
    pub inline: Option<String>,
    /// Host functions return `walmart::Result<_>`: an error traps the guest.
    pub trappable_imports: bool,
    /// Host functions are asynchronous (`async: true`): the traits'
    /// methods return futures, defined with `func_wrap_async`.
    pub is_async: bool,
    /// Interfaces whose Rust side is elsewhere: `"ns:pkg/iface"` (with or
    /// without its version) to a module path holding its types; not
    /// generated, nor linked by the world's `add_to_linker`. Or
    /// `"ns:pkg/iface.r"`: the Rust type behind host resource `r`'s
    /// handles.
    pub with: Vec<(String, syn::Path)>,
}

impl Parse for Options {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut o = Options::default();
        if input.is_empty() {
            return Ok(o);
        }
        if input.peek(LitStr) {
            // `bindgen!("world")` or `bindgen!("world" in "path")`.
            o.world = Some(input.parse::<LitStr>()?.value());
            if input.peek(Token![in]) {
                input.parse::<Token![in]>()?;
                o.paths.push(input.parse::<LitStr>()?.value());
            }
            if !input.is_empty() {
                return Err(input.error(
                    "bindgen!: expected `\"world\"`, `\"world\" in \"path\"` or `{ key: value, ... }`",
                ));
            }
            return Ok(o);
        }
        let body;
        braced!(body in input);
        let mut seen: Vec<String> = Vec::new();
        while !body.is_empty() {
            let key = Ident::parse_any(&body)?;
            let name = key.to_string();
            if seen.contains(&name) {
                return Err(syn::Error::new(
                    key.span(),
                    format!("bindgen!: `{name}` given twice"),
                ));
            }
            seen.push(name.clone());
            body.parse::<Token![:]>()?;
            match name.as_str() {
                "world" => o.world = Some(body.parse::<LitStr>()?.value()),
                "path" => {
                    if body.peek(syn::token::Bracket) {
                        let list;
                        bracketed!(list in body);
                        let paths = list.parse_terminated(|p| p.parse::<LitStr>(), Token![,])?;
                        o.paths.extend(paths.iter().map(LitStr::value));
                    } else {
                        o.paths.push(body.parse::<LitStr>()?.value());
                    }
                }
                "inline" => o.inline = Some(body.parse::<LitStr>()?.value()),
                "trappable_imports" => o.trappable_imports = body.parse::<LitBool>()?.value,
                "async" => o.is_async = body.parse::<LitBool>()?.value,
                "with" => {
                    let map;
                    braced!(map in body);
                    while !map.is_empty() {
                        let iface = map.parse::<LitStr>()?.value();
                        map.parse::<Token![:]>()?;
                        let path = map.parse::<syn::Path>()?;
                        o.with.push((iface, path));
                        if map.is_empty() {
                            break;
                        }
                        map.parse::<Token![,]>()?;
                    }
                }
                "imports" | "exports" | "trappable_error_type" | "additional_derives" => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!(
                            "bindgen!: option `{name}` is not supported by walmart's bindgen! yet"
                        ),
                    ))
                }
                _ => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!(
                            "bindgen!: unknown option `{name}` (walmart's bindgen! takes \
                             `world`, `path`, `inline`, `async`, `trappable_imports` and `with`)"
                        ),
                    ))
                }
            }
            if body.is_empty() {
                break;
            }
            body.parse::<Token![,]>()?;
        }
        if !input.is_empty() {
            return Err(input.error("bindgen!: unexpected tokens after `{ ... }`"));
        }
        Ok(o)
    }
}

/// The WIT read, the world chosen and the files read (which the expansion
/// names so that editing them rebuilds the crate).
pub struct Loaded {
    pub resolve: Resolve,
    pub world: WorldId,
    pub files: Vec<PathBuf>,
}

impl Options {
    /// Reads the WIT and picks the world.
    pub fn load(&self) -> syn::Result<Loaded> {
        let fail = |msg: String| syn::Error::new(Span::call_site(), msg);
        let root = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        let mut resolve = Resolve::default();
        let mut packages = Vec::new();
        let mut files = Vec::new();
        let mut paths: Vec<&str> = self.paths.iter().map(String::as_str).collect();
        if paths.is_empty() && self.inline.is_none() {
            paths.push("wit");
        }
        for p in paths {
            let full = if Path::new(p).is_absolute() {
                PathBuf::from(p)
            } else {
                root.join(p)
            };
            let (pkg, sources) = resolve.push_path(&full).map_err(|e| {
                fail(format!(
                    "bindgen!: {}: {}",
                    full.display(),
                    resolve.render_error(&e)
                ))
            })?;
            packages.push(pkg);
            files.extend(sources.paths().map(Path::to_path_buf));
        }
        if let Some(text) = &self.inline {
            let pkg = resolve.push_str("inline.wit", text).map_err(|e| {
                fail(format!(
                    "bindgen!: the inline WIT: {}",
                    resolve.render_error(&e)
                ))
            })?;
            packages.push(pkg);
        }
        let world = resolve
            .select_world(&packages, self.world.as_deref())
            .map_err(|e| fail(format!("bindgen!: {e:#}")))?;
        Ok(Loaded {
            resolve,
            world,
            files,
        })
    }
}
