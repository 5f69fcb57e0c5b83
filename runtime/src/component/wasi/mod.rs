//! WASI 0.2 (the component model's WASI, wasmtime's `wasmtime_wasi::p2`):
//! `wasi:cli`, `wasi:io`, `wasi:clocks`, `wasi:random`,
//! `wasi:filesystem` and `wasi:sockets` for components, on the same [`WasiCtx`] as preview
//! 1 (arguments, environment, preopened directories and their
//! permissions, the embedder's streams, clocks and randomness). Each
//! function is preview 1's call of the same meaning made on the host's
//! side (over a buffer of the host's), so the two share one sandbox.
//!
//! `wasi:sockets` makes host sockets in the same table, reaching what
//! the context's network policy allows (nothing, by default).
//!
//! `wasi:http` ([`http`]) is added apart, by [`http::add_to_linker`]:
//! a component's outgoing requests and `walmart serve`'s incoming ones.

mod cli;
mod clocks;
mod event;
mod filesystem;
mod host_memory;
pub mod http;
mod io;
mod sockets;
mod table;
mod vals;

pub use table::Table;

use super::func::{BytesShape, HostOut};
use super::{LinkerInstance, Val};
use crate::wasi::WasiCtx;
use crate::{Error, Result};

/// The version walmart defines its interfaces at; imports of other 0.2
/// versions link to them too (the linker's semver rule).
pub const VERSION: &str = "0.2.6";

/// Finds the store's [`WasiCtx`].
pub(crate) type GetCtx<T> = fn(&mut T) -> &mut WasiCtx;

/// Host resource types of WASI 0.2, by their Rust markers.
pub(crate) mod res {
    pub struct InputStream;
    pub struct OutputStream;
    pub struct Pollable;
    pub struct IoError;
    pub struct Descriptor;
    pub struct DirectoryEntryStream;
    pub struct TerminalInput;
    pub struct TerminalOutput;
    pub struct Network;
    pub struct TcpSocket;
    pub struct UdpSocket;
    pub struct IncomingDatagramStream;
    pub struct OutgoingDatagramStream;
    pub struct ResolveAddressStream;
}

/// The interface `name` at [`VERSION`].
fn iface<'a, T: 'static>(
    linker: &'a mut super::Linker<T>,
    name: &str,
) -> Result<LinkerInstance<'a, T>> {
    Ok(linker.instance(&format!("{name}@{VERSION}"))?.trusted())
}

/// Defines `name` as a function of the context: `f` gets the parameters
/// and gives the result, if the function has one.
fn def<T: 'static>(
    inst: &mut LinkerInstance<'_, T>,
    name: &str,
    get: GetCtx<T>,
    f: impl Fn(&mut WasiCtx, &[Val]) -> Result<Option<Val>> + Send + Sync + 'static,
) -> Result<()> {
    def_waiting(inst, name, get, move |caller, get, params| {
        get(caller.data_mut()).with_state(|c| f(c, params))
    })
}

/// Defines `name` as a function that may wait (a `poll`, a blocking read
/// or write): `f` gets the caller, whose asynchronous call it suspends
/// while it waits, and finds the context through `get` itself.
fn def_waiting<T: 'static>(
    inst: &mut LinkerInstance<'_, T>,
    name: &str,
    get: GetCtx<T>,
    f: impl Fn(&mut crate::Caller<'_, T>, GetCtx<T>, &[Val]) -> Result<Option<Val>>
        + Send
        + Sync
        + 'static,
) -> Result<()> {
    inst.func_new(name, move |mut caller, params, results| {
        let r = f(&mut caller, get, params)?;
        if let (Some(slot), Some(v)) = (results.first_mut(), r) {
            *slot = v;
        }
        Ok(())
    })
}

/// [`def_waiting`] for a function of byte streams (a read, a write), in
/// its bytes form ([`super::func::BytesFn`]): `f` gets the `list<u8>`
/// parameter as bytes, and may give an `ok` of bytes as
/// [`HostOut::Bytes`], so that no byte becomes a `Val`.
fn def_bytes<T: 'static>(
    inst: &mut LinkerInstance<'_, T>,
    name: &str,
    get: GetCtx<T>,
    f: impl Fn(&mut crate::Caller<'_, T>, GetCtx<T>, &[Val], Option<Vec<u8>>) -> Result<HostOut>
        + Send
        + Sync
        + 'static,
) -> Result<()> {
    inst.func_bytes(name, move |mut caller, params, bytes| {
        f(&mut caller, get, params, bytes)
    })
}

/// Defines the host resource type `name` (marker `R`), whose handles'
/// drops remove their entry from the context's table (`close`: and close
/// a descriptor the entry owns).
fn resource<T: 'static, R: 'static>(
    inst: &mut LinkerInstance<'_, T>,
    name: &str,
    get: GetCtx<T>,
) -> Result<()> {
    inst.resource(
        name,
        super::ResourceType::host::<R>(),
        move |mut caller, rep| {
            get(caller.data_mut()).with_state(|c| {
                if let Some(fd) = c.p2.get(rep).and_then(table::Entry::owned_fd) {
                    // Its number would go to the next file opened, and
                    // its streams with it: dropped first, as WASI says.
                    if c.p2.uses_fd(fd) || c.p2.watches(rep) {
                        return Err(Error::msg(
                            "WASI: a descriptor or socket dropped while a stream or \
                             pollable of it lives (drop those first)",
                        ));
                    }
                    c.p2.remove(rep);
                    return c.fd_close(fd).map_err(|e| {
                        Error::msg(format!("WASI: closing descriptor {fd}: errno {}", e.0))
                    });
                }
                // A socket's stream dropped with bytes waiting sends them
                // first (wasi-libc's `close` drops it unflushed): blocking,
                // as wasmtime's drop waits for its pending write.
                if c.p2.unsent.contains_key(&rep) {
                    io::drain_on_drop(c, rep)?;
                }
                c.p2.remove(rep);
                Ok(())
            })
        },
    )
}

/// The `wasi:cli/run` interface (of any 0.2 version) among a component's
/// export names: a WASI 0.2 command's entry.
pub fn run_interface(exports: &[String]) -> Option<&str> {
    exports
        .iter()
        .map(String::as_str)
        .find(|n| n.starts_with("wasi:cli/run@0.2."))
}

/// A WASI 0.2 command's `run`: `func() -> result`.
pub type CommandRun = super::TypedFunc<(), (std::result::Result<(), ()>,)>;

/// A WASI 0.2 command's `run` (`func() -> result`) in `instance`; `None`
/// where the component exports no `wasi:cli/run` (or it has no `run`).
pub fn command_run(
    instance: &super::Instance,
    mut store: impl crate::AsContextMut,
) -> Result<Option<CommandRun>> {
    let names = instance.exports();
    let Some(iface) = run_interface(&names) else {
        return Ok(None);
    };
    let run = instance
        .get_export_index(&mut store, None, iface)
        .and_then(|i| instance.get_export_index(&mut store, Some(&i), "run"));
    match run {
        Some(run) => instance.get_typed_func(&mut store, &run).map(Some),
        None => Ok(None),
    }
}

/// Defines every WASI 0.2 interface walmart provides in `linker`; `get`
/// finds the [`WasiCtx`] inside the store's data.
pub fn add_to_linker<T: 'static>(linker: &mut super::Linker<T>, get: GetCtx<T>) -> Result<()> {
    io::add(linker, get)?;
    cli::add(linker, get)?;
    clocks::add(linker, get)?;
    filesystem::add(linker, get)?;
    sockets::add(linker, get)?;
    Ok(())
}
