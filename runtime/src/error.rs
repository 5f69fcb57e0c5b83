//! The errors the embedding API returns.

use walmart_jit::TrapKind;

use crate::vm::backtrace::{self, Frame};

/// A Wasm trap: why execution stopped, and where.
#[derive(Debug, Clone)]
pub struct Trap {
    kind: TrapKind,
    frames: Vec<Frame>,
    coredump: Option<std::sync::Arc<crate::WasmCoreDump>>,
}

impl Trap {
    pub(crate) fn new(kind: TrapKind, frames: Vec<Frame>) -> Trap {
        Trap {
            kind,
            frames,
            coredump: None,
        }
    }

    /// This trap with the store's snapshot taken as it trapped.
    pub(crate) fn with_coredump(mut self, coredump: crate::WasmCoreDump) -> Trap {
        self.coredump = Some(std::sync::Arc::new(coredump));
        self
    }

    /// The store's memories, globals and frames as they were at the trap,
    /// when the engine takes them (`Config::coredump_on_trap`).
    pub fn coredump(&self) -> Option<&crate::WasmCoreDump> {
        self.coredump.as_deref()
    }

    /// The reason.
    pub fn kind(&self) -> TrapKind {
        self.kind
    }

    /// The Wasm frames active at the trap, innermost first.
    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }

    /// The backtrace in wasmtime's format, or an empty string.
    pub fn backtrace(&self) -> String {
        if self.frames.is_empty() {
            String::new()
        } else {
            backtrace::format(&self.frames)
        }
    }
}

impl std::fmt::Display for Trap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "wasm trap: {}", self.kind.message())?;
        if !self.frames.is_empty() {
            write!(f, "\n{}", self.backtrace())?;
        }
        Ok(())
    }
}

impl std::error::Error for Trap {}

/// Everything that can go wrong in walmart's API.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The module is malformed, invalid, or uses an unsupported feature.
    #[error("{0}")]
    Compile(#[from] walmart_jit::CompileError),
    /// Text format that does not parse, or bytes in neither format.
    #[error("{0}")]
    Wat(String),
    /// Guest execution trapped.
    #[error("{0}")]
    Trap(Trap),
    /// Imports that cannot satisfy a module.
    #[error("{0}")]
    Link(String),
    /// A host function failed; `frames` tells where the Wasm code called it.
    #[error("{error}")]
    Host {
        error: Box<dyn std::error::Error + Send + Sync>,
        frames: Vec<Frame>,
    },
    /// The guest asked to exit (WASI `proc_exit`).
    #[error("exit with status {0}")]
    Exit(i32),
    /// Misuse of the API: wrong argument types, a handle of another store...
    #[error("{0}")]
    Usage(String),
    /// Resources the OS refused (memory reservations...).
    #[error("{0}")]
    Resource(String),
    /// A Wasm exception no handler caught. A host function may return
    /// one to throw it into its Wasm caller.
    #[error("uncaught Wasm exception")]
    Exception(crate::ExnRef),
}

/// A host function's `anyhow` error (`?` in a closure of
/// [`crate::Func::wrap`] or [`crate::Linker::func_wrap`]).
impl From<anyhow::Error> for Error {
    fn from(error: anyhow::Error) -> Error {
        Error::Host {
            error: error.into(),
            frames: Vec::new(),
        }
    }
}

impl Error {
    /// An error with a message, for host functions.
    pub fn msg(message: impl std::fmt::Display) -> Error {
        Error::Host {
            error: message.to_string().into(),
            frames: Vec::new(),
        }
    }

    /// The trap, if this error is one.
    pub fn trap(&self) -> Option<&Trap> {
        match self {
            Error::Trap(t) => Some(t),
            _ => None,
        }
    }

    /// The uncaught exception, if this error is one.
    pub fn exception(&self) -> Option<crate::ExnRef> {
        match self {
            Error::Exception(e) => Some(*e),
            _ => None,
        }
    }

    /// The exit status, if the guest exited.
    pub fn exit_status(&self) -> Option<i32> {
        match self {
            Error::Exit(code) => Some(*code),
            _ => None,
        }
    }

    /// The Wasm backtrace attached to this error, if any.
    pub fn backtrace(&self) -> Option<String> {
        let frames = match self {
            Error::Trap(t) => t.frames(),
            Error::Host { frames, .. } => frames,
            _ => return None,
        };
        (!frames.is_empty()).then(|| backtrace::format(frames))
    }
}

/// Result alias of the embedding API.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `text` from a module (an import's or a function's name) fit for a
/// one-line message: control characters escaped (`\n`, `\u{1b}`), the
/// rest as it is.
pub(crate) fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

#[cfg(test)]
mod printable_tests {
    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(super::printable("proc_exit"), "proc_exit");
        assert_eq!(
            super::printable("pr\nc_\u{1b}[31mexit"),
            "pr\\nc_\\u{1b}[31mexit"
        );
        assert_eq!(super::printable("héllo→"), "héllo→");
    }
}
