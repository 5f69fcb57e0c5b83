//! `wasi:cli`: the environment, arguments, exit, standard streams and
//! terminals.

use super::table::{Entry, WritePos};
use super::vals::{arg, own};
use super::{def, iface, res, resource, GetCtx};
use crate::component::{Linker, Val};
use crate::wasi::WasiCtx;
use crate::{Error, Result};

/// Whether the context's descriptor `fd` is a terminal of the host's.
fn is_terminal(ctx: &WasiCtx, fd: u32) -> bool {
    match ctx.get(fd) {
        // SAFETY: isatty only asks about the descriptor.
        Ok(e) if e.pipe.is_none() => unsafe { libc::isatty(e.fd) == 1 },
        _ => false,
    }
}

pub(super) fn add<T: 'static>(linker: &mut Linker<T>, get: GetCtx<T>) -> Result<()> {
    let mut env = iface(linker, "wasi:cli/environment")?;
    def(&mut env, "get-environment", get, |ctx, _| {
        Ok(Some(Val::List(
            ctx.env
                .iter()
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    Val::Tuple(vec![Val::String(k.into()), Val::String(v.into())])
                })
                .collect(),
        )))
    })?;
    def(&mut env, "get-arguments", get, |ctx, _| {
        Ok(Some(Val::List(
            ctx.args.iter().map(|a| Val::String(a.clone())).collect(),
        )))
    })?;
    // The guest's working directory is not the host's: none is given.
    def(&mut env, "initial-cwd", get, |_, _| {
        Ok(Some(Val::Option(None)))
    })?;

    let mut exit = iface(linker, "wasi:cli/exit")?;
    def(&mut exit, "exit", get, |_, params| match arg(params, 0)? {
        Val::Result(Ok(_)) => Err(Error::Exit(0)),
        _ => Err(Error::Exit(1)),
    })?;
    def(&mut exit, "exit-with-code", get, |_, params| {
        match arg(params, 0)? {
            Val::U8(code) => Err(Error::Exit(*code as i32)),
            other => Err(Error::Usage(format!("exit code: a {}", other.kind()))),
        }
    })?;

    let mut stdin = iface(linker, "wasi:cli/stdin")?;
    def(&mut stdin, "get-stdin", get, |ctx, _| {
        let rep = ctx.p2.push(Entry::Input {
            fd: 0,
            offset: None,
        });
        Ok(Some(own::<res::InputStream>(rep)))
    })?;
    for (name, fd) in [("stdout", 1), ("stderr", 2)] {
        let mut out = iface(linker, &format!("wasi:cli/{name}"))?;
        def(&mut out, &format!("get-{name}"), get, move |ctx, _| {
            let rep = ctx.p2.push(Entry::Output {
                fd,
                pos: WritePos::Current,
            });
            Ok(Some(own::<res::OutputStream>(rep)))
        })?;
    }

    resource::<T, res::TerminalInput>(
        &mut iface(linker, "wasi:cli/terminal-input")?,
        "terminal-input",
        get,
    )?;
    resource::<T, res::TerminalOutput>(
        &mut iface(linker, "wasi:cli/terminal-output")?,
        "terminal-output",
        get,
    )?;
    for (name, fd) in [("stdin", 0), ("stdout", 1), ("stderr", 2)] {
        let mut term = iface(linker, &format!("wasi:cli/terminal-{name}"))?;
        def(
            &mut term,
            &format!("get-terminal-{name}"),
            get,
            move |ctx, _| {
                if !is_terminal(ctx, fd) {
                    return Ok(Some(Val::Option(None)));
                }
                let rep = ctx.p2.push(Entry::Terminal);
                let handle = if fd == 0 {
                    own::<res::TerminalInput>(rep)
                } else {
                    own::<res::TerminalOutput>(rep)
                };
                Ok(Some(Val::Option(Some(Box::new(handle)))))
            },
        )?;
    }
    Ok(())
}
