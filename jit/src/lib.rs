//! `walmart-jit`: WebAssembly to Cranelift IR to machine code.
//!
//! [`module_info::parse`] validates a module and decodes its structure;
//! [`Compiler::compile_module`] translates every function body (in
//! parallel) and places the code in a [`CodeMemory`], whose trap tables
//! the runtime's signal handler consults through [`lookup_trap`]. The
//! [`vmctx`] module is the layout contract between generated code and the
//! runtime.

pub mod artifact;
mod body_scan;
pub mod code_memory;
pub mod compile;
pub mod debug_lines;
pub mod emmalloc;
pub mod error;
pub mod gc_types;
pub mod gdb_jit;
pub mod jitdump;
pub mod module_info;
pub mod perf_map;
pub mod sites;
pub mod translate;
pub mod trap;
pub mod unnamed_dlmalloc;
pub mod vmctx;

pub use code_memory::{lookup_frame, lookup_trap, with_jit_code_test, CodeMemory, FrameInfo};
pub use compile::{CompiledModule, Compiler, EmitText, ModuleFacts};
pub use error::CompileError;
pub use module_info::{FuncSig, ModuleInfo, WasmType};
pub use translate::{AttestCodegen, OptLevel, TranslateConfig};
pub use trap::TrapKind;
