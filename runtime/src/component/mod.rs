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
//! Not yet run (a clear error names each): resources (`own`, `borrow`,
//! `resource.new`, ...), `async` functions, `stream`, `future`,
//! `error-context`, component values and start functions, the GC options.

mod abi;
mod artifact;
mod canon;
mod compiled;
mod func;
mod instance;
mod lift;
mod linker;
mod lower;
mod resources;
mod translate;
mod typed;
mod types;
mod val;
pub mod wasi;

pub(crate) use artifact::is_precompiled_component;
pub use compiled::{Component, ComponentItem};
pub use func::Func;
pub use instance::{ComponentExportIndex, Instance, InstanceExportLookup};
pub use linker::{InstancePre, Linker, LinkerInstance};
pub use resources::{Resource, ResourceAny, ResourceKey, ResourceType};
pub use typed::{ComponentNamedList, ComponentResults, ComponentType, ResultCase, TypedFunc};
pub use types::{FuncType, Type};
pub use val::Val;
/// `#[derive(ComponentType)]`: a struct as a `record`, an enum as an `enum`
/// or a `variant`, a struct of `bool`s marked `#[component(flags)]` as
/// `flags` (names in kebab-case, or `#[component(name = "...")]`).
pub use walmart_macros::ComponentType;
