//! Errors raised while decoding, validating or compiling a module.

/// Why a module could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// The binary is malformed or fails validation.
    #[error("{0}")]
    Invalid(#[from] wasmparser::BinaryReaderError),
    /// A malformation wasmparser lets through.
    #[error("{0}")]
    Malformed(String),
    /// The module uses a feature walmart does not support (yet).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Cranelift rejected the generated IR; a walmart bug.
    #[error("code generation failed in function {func}: {message}")]
    Codegen { func: u32, message: String },
    /// A precompiled module that cannot be loaded: damaged, of another
    /// format version, or compiled for other settings.
    #[error("precompiled module: {0}")]
    Artifact(String),
    /// The operating system refused code memory.
    #[error("code memory: {0}")]
    CodeMemory(String),
    /// A function's text could not be written where it was asked
    /// ([`crate::compile::EmitText`]).
    #[error("emitting code text: {0}")]
    Emit(String),
}
