//! walmart: a WebAssembly runtime with memory attestation built in.
//!
//! The API follows wasmtime's shape: an [`Engine`] compiles [`Module`]s; a
//! [`Store`] owns instances and host data; a [`Linker`] resolves imports;
//! [`Func`], [`Memory`], [`Table`] and [`Global`] are handles into a store.
//!
//! ```
//! use walmart::{Engine, Module, Store, Linker, Val};
//! let engine = Engine::default();
//! let module = Module::new(&engine, r#"(module (func (export "add") (param i32 i32) (result i32)
//!     local.get 0 local.get 1 i32.add))"#).unwrap();
//! let mut store = Store::new(&engine, ());
//! let instance = Linker::new(&engine).instantiate(&mut store, &module).unwrap();
//! let add = instance.get_func(&mut store, "add").unwrap();
//! let mut out = [Val::I32(0)];
//! add.call(&mut store, &[Val::I32(2), Val::I32(3)], &mut out).unwrap();
//! assert_eq!(out[0], Val::I32(5));
//! ```

mod any_ref;
mod async_host;
pub mod attest;
mod call_hook;
pub mod component;
mod coredump;
mod engine;
mod error;
mod exception;
mod fd_ready;
mod fiber;
mod func;
mod gc;
mod global;
mod guest_profiler;
mod instance;
mod interrupts;
mod limits;
mod linker;
mod mapped_file;
mod memory;
mod memory_image;
mod module;
mod module_cache;
mod pooling;
mod shared_memory;
mod store;
mod table;
mod timer;
mod typed_func;
mod types;
mod values;
pub mod vm;
pub mod wasi;
mod wasm_backtrace;
pub mod wast;
mod wrap;

pub use any_ref::AnyRef;
pub use async_host::HostFuture;
pub use attest::AttestOptions;
pub use call_hook::{CallHook, CallHookHandler};
pub use coredump::WasmCoreDump;
pub use engine::{Config, Engine, Precompiled, ProfilingStrategy, WasmBacktraceDetails};
pub use error::{Error, Result, Trap};
pub use exception::{ExnRef, Tag, TagType};
pub use func::{Caller, Func};
pub use gc::{ArrayType, FieldType, StorageType, StructType};
pub use global::Global;
pub use guest_profiler::GuestProfiler;
pub use instance::Instance;
pub use interrupts::UpdateDeadline;
pub use limits::{
    ResourceLimiter, ResourceLimiterAsync, StoreLimits, StoreLimitsBuilder, DEFAULT_COUNT,
};
pub use linker::{InstancePre, Linker, UnknownImports};
pub use memory::{Memory, PAGE_SIZE};
pub use module::{ExternType, Module};
pub use module_cache::{CacheOutcome, ModuleCache, DEFAULT_CACHE_SIZE_LIMIT};
pub use pooling::{InstanceAllocationStrategy, PoolingAllocationConfig};
pub use shared_memory::SharedMemory;
pub use store::{AsContext, AsContextMut, GcStats, Store, StoreInner};
pub use table::Table;
pub use typed_func::{TypedFunc, WasmList, WasmTy};
pub use types::{FuncType, GlobalType, MemoryType, Mutability, RefType, TableType, ValType};
pub use values::{Extern, ExternRef, Val};
pub use walmart_jit::debug_lines::SourceLocation;
pub use walmart_jit::OptLevel;
pub use walmart_jit::TrapKind;
pub use wasm_backtrace::WasmBacktrace;
pub use wrap::{IntoFunc, WasmResults, WithCaller};
