//! `walmart run` of a component: a WASI 0.2 command, its `wasi:cli/run`
//! called with the command line's WASI context.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use anyhow::anyhow;
use walmart::component::{self, Component, Val};
use walmart::wasi::WasiCtx;
use walmart::{Engine, Store};

/// Why a component's run did not finish.
pub enum Failed {
    /// The guest trapped or exited: its status follows from the error.
    Guest(walmart::Error),
    /// Anything else: reported as it is.
    Other(anyhow::Error),
}

/// A component a file holds.
pub enum ComponentFile {
    /// Its binary, from the text format or a pipe.
    Source(Vec<u8>),
    /// A regular file holding its binary, not read yet: from the cache,
    /// only its name is read from it.
    Binary(std::fs::File),
    /// `walmart compile`'s precompiled form: the file checked to hold it,
    /// mapped when loaded (not read, nor opened again).
    Precompiled(std::fs::File),
    /// The same, read whole from a pipe.
    PrecompiledBytes(Vec<u8>),
}

/// What the file at `path` holds if it is a component (its binary, the
/// text format of one, or a precompiled one); `None` for anything else.
/// What is not a regular file (a pipe, `/dev/stdin`) is read once, whole:
/// where it holds no component, its bytes are left in `piped` for the
/// module loader.
pub fn component_file(
    engine: &Engine,
    path: &Path,
    piped: &mut Option<Vec<u8>>,
) -> anyhow::Result<Option<ComponentFile>> {
    let unreadable = |e: std::io::Error| anyhow!("cannot read {}: {e}", path.display());
    let mut file = std::fs::File::open(path).map_err(unreadable)?;
    if !file.metadata().map_err(unreadable)?.is_file() {
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(unreadable)?;
        if engine.detect_precompiled(&bytes) == Some(walmart::Precompiled::Component) {
            return Ok(Some(ComponentFile::PrecompiledBytes(bytes)));
        }
        // A pipe has no extension to say "text": a component's text is
        // told by parsing it.
        let source = component_source(path, &bytes).or_else(|| {
            (!bytes.starts_with(b"\0asm"))
                .then(|| wat::parse_bytes(&bytes).ok())
                .flatten()
                .filter(|b| Component::is_component(b))
                .map(|b| b.into_owned())
        });
        if let Some(source) = source {
            return Ok(Some(ComponentFile::Source(source)));
        }
        *piped = Some(bytes);
        return Ok(None);
    }
    let mut head = [0u8; 8];
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..]).map_err(unreadable)? {
            0 => break,
            k => n += k,
        }
    }
    let precompiled =
        engine.detect_precompiled(&head[..n]) == Some(walmart::Precompiled::Component);
    let binary = Component::is_component(&head[..n]);
    let text = path.extension().is_some_and(|e| e == "wat") && !head[..n].starts_with(b"\0asm");
    if !binary && !text && !precompiled {
        return Ok(None);
    }
    if precompiled {
        return Ok(Some(ComponentFile::Precompiled(file)));
    }
    if binary {
        return Ok(Some(ComponentFile::Binary(file)));
    }
    let mut bytes = head[..n].to_vec();
    file.read_to_end(&mut bytes).map_err(unreadable)?;
    Ok(component_source(path, &bytes).map(ComponentFile::Source))
}

/// A component's binary from `bytes` read from `path`: its binary as it
/// is, or a `.wat` file's text made binary if it is a component's.
pub fn component_source(path: &Path, bytes: &[u8]) -> Option<Vec<u8>> {
    if Component::is_component(bytes) {
        return Some(bytes.to_vec());
    }
    if path.extension().is_none_or(|e| e != "wat") || bytes.starts_with(b"\0asm") {
        return None;
    }
    // A module's text is left to the module loader, which reports its
    // errors.
    wat::parse_bytes(bytes)
        .ok()
        .filter(|b| Component::is_component(b))
        .map(|b| b.into_owned())
}

/// Compiles (or loads) the component `file` holds.
pub fn load(
    engine: &Engine,
    path: &Path,
    file: &ComponentFile,
    cache: Option<&walmart::ModuleCache>,
) -> anyhow::Result<Component> {
    match file {
        ComponentFile::Source(bytes) => match cache {
            Some(cache) => cache
                .component(engine, bytes)
                .map(crate::compile::warn_unsaved),
            None => Component::from_binary(engine, bytes),
        },
        ComponentFile::Binary(file) => match cache {
            Some(cache) => cache
                .component_from_open_file(engine, file)
                .map(crate::compile::warn_unsaved),
            None => {
                use std::io::Seek;
                let mut bytes = Vec::new();
                let mut stream: &std::fs::File = file;
                stream
                    .rewind()
                    .and_then(|()| stream.read_to_end(&mut bytes))
                    .map_err(|e| anyhow!("cannot read {}: {e}", path.display()))?;
                Component::from_binary(engine, &bytes)
            }
        },
        // SAFETY: the user vouched for the file with --allow-precompiled
        // (the caller refuses it otherwise).
        ComponentFile::Precompiled(file) => unsafe {
            Component::deserialize_open_file(engine, file)
        },
        // SAFETY: as above.
        ComponentFile::PrecompiledBytes(bytes) => unsafe { Component::deserialize(engine, bytes) },
    }
    .map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// Links WASI 0.2 and calls the component's `wasi:cli/run` (or the call
/// `invoke` writes): the exit status its result earns.
pub fn run(
    engine: &Engine,
    path: &Path,
    component: &Component,
    store: &mut Store<WasiCtx>,
    invoke: Option<&str>,
    trap_unknown_imports: bool,
    http: bool,
) -> Result<ExitCode, Failed> {
    let component = component.clone();
    let other = |e: walmart::Error| Failed::Other(anyhow!("{}: {e}", path.display()));
    let mut linker = component::Linker::new(engine);
    component::wasi::add_to_linker(&mut linker, |ctx| ctx).map_err(other)?;
    if http {
        component::wasi::http::add_to_linker(&mut linker, |ctx| ctx).map_err(other)?;
    }
    if trap_unknown_imports {
        linker
            .define_unknown_imports_as_traps(&component)
            .map_err(other)?;
    }
    if let Some(call) = invoke {
        return invoke_export(&linker, &component, path, store, call);
    }
    let interface = component::wasi::run_interface(component.exports())
        .map(str::to_string)
        .ok_or_else(|| {
            if component::wasi::http::server::incoming_handler_interface(component.exports())
                .is_some()
            {
                return Failed::Other(anyhow!(
                    "{}: an HTTP proxy (it exports `wasi:http/incoming-handler`), not a \
                     command: `walmart serve` runs it",
                    path.display()
                ));
            }
            Failed::Other(anyhow!(
                "{}: the component exports no `wasi:cli/run` interface (a WASI 0.2 command's \
                 entry); its exports: {}",
                path.display(),
                match component.exports() {
                    [] => "none".to_string(),
                    names => names.join(", "),
                }
            ))
        })?;
    let instance = linker
        .instantiate(&mut *store, &component)
        .map_err(|e| match e {
            walmart::Error::Link(m) if !http && m.contains("wasi:http/") => Failed::Other(anyhow!(
                "{}: {m} (`-S http` gives a component wasi:http)",
                path.display()
            )),
            walmart::Error::Link(_) => other(e),
            e => Failed::Guest(e),
        })?;
    let run = component::wasi::command_run(&instance, &mut *store)
        .map_err(other)?
        .ok_or_else(|| Failed::Other(anyhow!("{}: `{interface}` has no `run`", path.display())))?;
    let (status,) = run.call(&mut *store, ()).map_err(Failed::Guest)?;
    Ok(match status {
        Ok(()) => ExitCode::SUCCESS,
        Err(()) => ExitCode::FAILURE,
    })
}

/// `--invoke 'NAME(ARG, ...)'`: the export called with the arguments the
/// WAVE text gives, its result printed in WAVE.
fn invoke_export(
    linker: &component::Linker<WasiCtx>,
    component: &Component,
    path: &Path,
    store: &mut Store<WasiCtx>,
    call: &str,
) -> Result<ExitCode, Failed> {
    let fail =
        |e: anyhow::Error| Failed::Other(anyhow!("{}: --invoke {call}: {e}", path.display()));
    let (name, args) = crate::wave::split_call(call).map_err(Failed::Other)?;
    let instance = linker
        .instantiate(&mut *store, component)
        .map_err(|e| match e {
            walmart::Error::Link(_) => Failed::Other(anyhow!("{}: {e}", path.display())),
            e => Failed::Guest(e),
        })?;
    let func = match name.split_once('#') {
        Some((iface, func)) => instance
            .get_export_index(&mut *store, None, iface)
            .and_then(|i| instance.get_export_index(&mut *store, Some(&i), func))
            .and_then(|i| instance.get_func(&mut *store, &i)),
        None => instance.get_func(&mut *store, name),
    }
    .ok_or_else(|| {
        fail(anyhow!(
            "the component exports no function `{name}` (its exports: {})",
            component.exports().join(", ")
        ))
    })?;
    let types: Vec<_> = func.ty().params().iter().map(|(_, t)| t).collect();
    let params = crate::wave::parse_args(args, &types).map_err(fail)?;
    let mut result = vec![Val::Bool(false); func.ty().result().is_some() as usize];
    func.call(&mut *store, &params, &mut result)
        .map_err(Failed::Guest)?;
    if let Some(v) = result.first() {
        println!("{}", crate::wave::print(v));
    }
    Ok(ExitCode::SUCCESS)
}
