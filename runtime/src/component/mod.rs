//! The component model (wasmtime's `wasmtime::component`): components of
//! core modules, instantiated from a [`Linker`] of host functions, their
//! functions called with component values ([`Val`], or Rust types through
//! [`TypedFunc`]) that the canonical ABI lifts out of and lowers into
//! each side's core values and memory.
//!
//! ```
//! use walmart::component::{Component, Linker, Val};
//! use walmart::{Engine, Store};
//!
//! let engine = Engine::default();
//! let component = Component::new(&engine, r#"
//!     (component
//!       (core module $m
//!         (func (export "double") (param i32) (result i32)
//!           local.get 0 local.get 0 i32.add))
//!       (core instance $i (instantiate $m))
//!       (func (export "double") (param "x" u32) (result u32)
//!         (canon lift (core func $i "double"))))
//! "#)?;
//! let mut store = Store::new(&engine, ());
//! let instance = Linker::new(&engine).instantiate(&mut store, &component)?;
//! let double = instance.get_typed_func::<(u32,), (u32,)>(&mut store, "double")?;
//! assert_eq!(double.call(&mut store, (21,))?, (42,));
//! # Ok::<(), walmart::Error>(())
//! ```
//!
//! Typed bindings of a whole WIT world are what [`bindgen!`] writes.
//!
//! Not yet run (a clear error names each): `async` functions, `stream`,
//! `future`, `error-context`, component values and start functions, the
//! GC options.

mod abi;
mod artifact;
mod canon;
mod compiled;
mod func;
mod instance;
mod lift;
mod linker;
mod lower;
mod resource_table;
mod resources;
mod translate;
mod typed;
mod types;
mod val;
mod versions;
pub mod wasi;

pub(crate) use artifact::is_precompiled_component;
pub use compiled::{Component, ComponentItem};
pub use func::Func;
pub use instance::{ComponentExportIndex, Instance, InstanceExportLookup};
pub use linker::{InstancePre, Linker, LinkerInstance};
pub use resource_table::{ResourceTable, ResourceTableError};
pub use resources::{Resource, ResourceAny, ResourceKey, ResourceType};
pub use typed::{ComponentNamedList, ComponentResults, ComponentType, ResultCase, TypedFunc};
pub use types::{FuncType, Type};
pub use val::Val;
/// `#[derive(ComponentType)]`: a struct as a `record`, an enum as an `enum`
/// or a `variant`, a struct of `bool`s marked `#[component(flags)]` as
/// `flags` (names in kebab-case, or `#[component(name = "...")]`).
pub use walmart_macros::ComponentType;

/// Rust bindings of a WIT world (wasmtime's `component::bindgen!`).
///
/// ```no_run
/// walmart::component::bindgen!({
///     inline: "
///         package example:greet;
///         interface log {
///             enum level { info, warn }
///             log: func(level: level, message: string);
///         }
///         world greeter {
///             import log;
///             export greet: func(name: string) -> string;
///         }
///     ",
/// });
///
/// struct Host;
/// impl example::greet::log::Host for Host {
///     fn log(&mut self, level: example::greet::log::Level, message: String) {
///         println!("{level:?}: {message}");
///     }
/// }
///
/// let engine = walmart::Engine::default();
/// let component = walmart::component::Component::from_file(&engine, "greeter.wasm")?;
/// let mut linker = walmart::component::Linker::new(&engine);
/// Greeter::add_to_linker(&mut linker, |host: &mut Host| host)?;
/// let mut store = walmart::Store::new(&engine, Host);
/// let greeter = Greeter::instantiate(&mut store, &component, &linker)?;
/// println!("{}", greeter.call_greet(&mut store, "world")?);
/// # Ok::<(), walmart::Error>(())
/// ```
///
/// It takes `"world"`, `"world" in "path"`, or `{ key: value, ... }` of:
/// `world` (needed when the packages hold several), `path` (a WIT file or
/// a directory with its `deps/`, or a list of them, relative to the
/// crate's `Cargo.toml`; `wit` when neither `path` nor `inline` is
/// given), `inline` (WIT in the invocation), `trappable_imports: true`
/// (host methods return `walmart::Result<_>`, and an error traps the
/// guest), `async: true` (host methods return `impl Future + Send`, an
/// `async fn` in the implementation; they are defined with
/// `func_wrap_async`, so the engine needs `Config::async_support` and
/// the calls `call_NAME_async`) and
/// `with: { "ns:pkg/iface": path::to::module }` (an imported
/// interface whose Rust side is elsewhere: its types are taken from that
/// module, and the world's `add_to_linker` leaves it to the embedder; or
/// `"ns:pkg/iface.r": path::to::Type`, the Rust type behind the host
/// resource `r`'s handles, which a [`ResourceTable`] keeps). Paths are
/// read where the macro is invoked (`MyType`, `self::m`, `super::m`), or
/// from the crate's root (`crate::...`) or another crate's (`::other::...`).
///
/// What it writes where it is invoked:
/// - each named WIT type as a Rust type with
///   `#[derive(ComponentType)]`: a record a struct, a variant an enum, an
///   enum an enum, flags a struct of `bool`s, `type` an alias; a host
///   resource an empty enum `R`, its handles `Resource<R>`;
/// - for an imported interface `ns:pkg/iface`, module `ns::pkg::iface`
///   with its types, a trait `Host` of its functions, a trait `HostR` per
///   resource type `r` (its constructor `new`, methods, static functions
///   and `drop`) and `add_to_linker(linker, get)`;
/// - for an exported one, module `exports::ns::pkg::iface` with `Guest`,
///   whose `call_NAME` (and `call_NAME_async`) call its functions, and
///   for each resource type `r` it defines, `Guest::r()` giving a
///   `GuestR` with `call_constructor`, its methods (the handle first) and
///   static functions; its handles are [`ResourceAny`]s (dropped with
///   [`ResourceAny::resource_drop`], which runs the component's
///   destructor);
/// - the world's struct (`Greeter` for world `greeter`): `instantiate`,
///   `new` (from an instance), `add_to_linker` of every import (the
///   world's own functions through `GreeterImports`), a `call_NAME` per
///   function the world exports and an accessor per exported interface
///   (`ns_pkg_iface()`); and `GreeterPre` over an [`InstancePre`].
///
/// `call_` methods take strings as `&str`, lists as `&[T]` and other
/// compound values by reference; host methods take and return owned
/// values. Not supported yet, each refused with an error naming it:
/// `async` functions of the component model, `stream`, `future`,
/// `error-context`, `map` and fixed-length lists, getters and setters.
///
/// A world that includes WASI's interfaces: link walmart's WASI with
/// [`wasi::add_to_linker`] and the world's own interfaces with their
/// modules' `add_to_linker` (the world's `add_to_linker` would ask for
/// WASI's host traits too).
pub use walmart_macros::bindgen;
