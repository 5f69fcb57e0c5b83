//! The machinery under the API: trap handling, builtins, backtraces.

pub mod backtrace;
pub(crate) mod libcalls;
pub(crate) mod mmap;
pub(crate) mod parking;
pub(crate) mod signals;
pub(crate) mod traphandlers;
