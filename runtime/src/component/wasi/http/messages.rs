//! Requests and responses: `incoming-request`, `outgoing-request`,
//! `request-options`, `response-outparam`, `incoming-response` and
//! `outgoing-response`.

use super::body::{incoming_handle, outgoing};
use super::fields::{new_fields, take_fields};
use super::{
    entry, method_of, method_val, push, res, scheme_of, scheme_val, take, Head, HttpEntry,
    IncomingHead, OutgoingHead, Timeouts,
};
use crate::component::wasi::vals::{arg, ok, ok_unit, own, rep, string_of, u16_of, u64_of};
use crate::component::wasi::{def, resource, GetCtx};
use crate::component::{LinkerInstance, Val};
use crate::wasi::WasiCtx;
use crate::{Error, Result};

/// `result::err` without a payload: a setter refusing its value.
fn refused() -> Val {
    Val::Result(Err(None))
}

fn incoming_head(ctx: &mut WasiCtx, rep: u32) -> Result<&mut IncomingHead> {
    match entry(ctx, rep, "an incoming request or response")? {
        HttpEntry::IncomingRequest(h) | HttpEntry::IncomingResponse(h) => Ok(h),
        _ => Err(Error::Usage(format!(
            "wasi:http: handle {rep} is not an incoming request or response"
        ))),
    }
}

fn outgoing_head(ctx: &mut WasiCtx, rep: u32) -> Result<&mut OutgoingHead> {
    match entry(ctx, rep, "an outgoing request or response")? {
        HttpEntry::OutgoingRequest(h) | HttpEntry::OutgoingResponse(h) => Ok(h),
        _ => Err(Error::Usage(format!(
            "wasi:http: handle {rep} is not an outgoing request or response"
        ))),
    }
}

/// The head of any request or response, incoming or outgoing.
fn head(ctx: &mut WasiCtx, rep: u32) -> Result<&mut Head> {
    match entry(ctx, rep, "a request or response")? {
        HttpEntry::IncomingRequest(h) | HttpEntry::IncomingResponse(h) => Ok(&mut h.head),
        HttpEntry::OutgoingRequest(h) | HttpEntry::OutgoingResponse(h) => Ok(&mut h.head),
        _ => Err(Error::Usage(format!(
            "wasi:http: handle {rep} is not a request or response"
        ))),
    }
}

fn opt_string(s: &Option<String>) -> Val {
    Val::Option(s.clone().map(|s| Box::new(Val::String(s))))
}

/// An `option<string>` parameter.
fn opt_string_of(v: &Val) -> Result<Option<String>> {
    match v {
        Val::Option(None) => Ok(None),
        Val::Option(Some(s)) => Ok(Some(string_of(s)?.to_owned())),
        other => Err(Error::Usage(format!(
            "an option<string> expected, found a {}",
            other.kind()
        ))),
    }
}

/// A new outgoing head of these headers.
fn new_head(headers: super::FieldList, status: u16) -> OutgoingHead {
    OutgoingHead {
        head: Head::new(headers, status),
        body_taken: false,
        body: None,
    }
}

/// The `incoming-request` (or `incoming-response`) `-consume`: the body
/// once.
fn consume(ctx: &mut WasiCtx, r: u32) -> Result<Val> {
    match incoming_head(ctx, r)?.body.take() {
        Some((fd, outcome)) => Ok(ok(incoming_handle(ctx, fd, outcome))),
        None => Ok(refused()),
    }
}

/// The `-body` of an outgoing request or response: once.
fn body_of(ctx: &mut WasiCtx, r: u32) -> Result<Val> {
    if std::mem::replace(&mut outgoing_head(ctx, r)?.body_taken, true) {
        return Ok(refused());
    }
    Ok(ok(outgoing(ctx, r)?))
}

/// Timeout getters and setters of `request-options`.
fn timeout<'a>(t: &'a mut Timeouts, name: &str) -> &'a mut Option<u64> {
    match name {
        "connect-timeout" => &mut t.connect,
        "first-byte-timeout" => &mut t.first_byte,
        _ => &mut t.between_bytes,
    }
}

fn options(ctx: &mut WasiCtx, rep: u32) -> Result<&mut Timeouts> {
    match entry(ctx, rep, "a request-options")? {
        HttpEntry::RequestOptions(t) => Ok(t),
        _ => Err(Error::Usage(format!(
            "wasi:http: handle {rep} is not a request-options"
        ))),
    }
}

pub(super) fn add<T: 'static>(inst: &mut LinkerInstance<'_, T>, get: GetCtx<T>) -> Result<()> {
    for name in [
        "incoming-request",
        "outgoing-request",
        "request-options",
        "response-outparam",
        "incoming-response",
        "outgoing-response",
    ] {
        match name {
            "incoming-request" => resource::<T, res::IncomingRequest>(inst, name, get)?,
            "outgoing-request" => resource::<T, res::OutgoingRequest>(inst, name, get)?,
            "request-options" => resource::<T, res::RequestOptions>(inst, name, get)?,
            "response-outparam" => resource::<T, res::ResponseOutparam>(inst, name, get)?,
            "incoming-response" => resource::<T, res::IncomingResponse>(inst, name, get)?,
            _ => resource::<T, res::OutgoingResponse>(inst, name, get)?,
        }
    }
    // incoming-request
    def(inst, "[method]incoming-request.method", get, |ctx, p| {
        Ok(Some(method_val(&head(ctx, rep(arg(p, 0)?)?)?.method)))
    })?;
    def(
        inst,
        "[method]incoming-request.path-with-query",
        get,
        |ctx, p| {
            Ok(Some(opt_string(
                &head(ctx, rep(arg(p, 0)?)?)?.path_with_query,
            )))
        },
    )?;
    def(inst, "[method]incoming-request.scheme", get, |ctx, p| {
        let h = head(ctx, rep(arg(p, 0)?)?)?;
        Ok(Some(Val::Option(
            h.scheme.as_ref().map(|s| Box::new(scheme_val(s))),
        )))
    })?;
    def(inst, "[method]incoming-request.authority", get, |ctx, p| {
        Ok(Some(opt_string(&head(ctx, rep(arg(p, 0)?)?)?.authority)))
    })?;
    def(inst, "[method]incoming-request.headers", get, |ctx, p| {
        let list = head(ctx, rep(arg(p, 0)?)?)?.headers.clone();
        Ok(Some(new_fields(ctx, list, false)))
    })?;
    def(inst, "[method]incoming-request.consume", get, |ctx, p| {
        consume(ctx, rep(arg(p, 0)?)?).map(Some)
    })?;
    // incoming-response
    def(inst, "[method]incoming-response.status", get, |ctx, p| {
        Ok(Some(Val::U16(head(ctx, rep(arg(p, 0)?)?)?.status)))
    })?;
    def(inst, "[method]incoming-response.headers", get, |ctx, p| {
        let list = head(ctx, rep(arg(p, 0)?)?)?.headers.clone();
        Ok(Some(new_fields(ctx, list, false)))
    })?;
    def(inst, "[method]incoming-response.consume", get, |ctx, p| {
        consume(ctx, rep(arg(p, 0)?)?).map(Some)
    })?;
    // outgoing-request
    def(inst, "[constructor]outgoing-request", get, |ctx, p| {
        let headers = take_fields(ctx, arg(p, 0)?)?;
        let head = new_head(headers, 200);
        Ok(Some(own::<res::OutgoingRequest>(push(
            ctx,
            HttpEntry::OutgoingRequest(Box::new(head)),
        ))))
    })?;
    def(inst, "[method]outgoing-request.body", get, |ctx, p| {
        body_of(ctx, rep(arg(p, 0)?)?).map(Some)
    })?;
    def(inst, "[method]outgoing-request.method", get, |ctx, p| {
        Ok(Some(method_val(&head(ctx, rep(arg(p, 0)?)?)?.method)))
    })?;
    def(
        inst,
        "[method]outgoing-request.set-method",
        get,
        |ctx, p| {
            let Some(m) = method_of(arg(p, 1)?)? else {
                return Ok(Some(refused()));
            };
            head(ctx, rep(arg(p, 0)?)?)?.method = m;
            Ok(Some(ok_unit()))
        },
    )?;
    def(
        inst,
        "[method]outgoing-request.path-with-query",
        get,
        |ctx, p| {
            Ok(Some(opt_string(
                &head(ctx, rep(arg(p, 0)?)?)?.path_with_query,
            )))
        },
    )?;
    def(
        inst,
        "[method]outgoing-request.set-path-with-query",
        get,
        |ctx, p| {
            let v = opt_string_of(arg(p, 1)?)?;
            if let Some(pq) = &v {
                if pq.parse::<http::uri::PathAndQuery>().is_err() {
                    return Ok(Some(refused()));
                }
            }
            head(ctx, rep(arg(p, 0)?)?)?.path_with_query = v;
            Ok(Some(ok_unit()))
        },
    )?;
    def(inst, "[method]outgoing-request.scheme", get, |ctx, p| {
        let h = head(ctx, rep(arg(p, 0)?)?)?;
        Ok(Some(Val::Option(
            h.scheme.as_ref().map(|s| Box::new(scheme_val(s))),
        )))
    })?;
    def(
        inst,
        "[method]outgoing-request.set-scheme",
        get,
        |ctx, p| {
            let v = match arg(p, 1)? {
                Val::Option(None) => None,
                Val::Option(Some(s)) => match scheme_of(s)? {
                    Some(s) => Some(s),
                    None => return Ok(Some(refused())),
                },
                other => {
                    return Err(Error::Usage(format!(
                        "an option<scheme> expected, found a {}",
                        other.kind()
                    )))
                }
            };
            head(ctx, rep(arg(p, 0)?)?)?.scheme = v;
            Ok(Some(ok_unit()))
        },
    )?;
    def(inst, "[method]outgoing-request.authority", get, |ctx, p| {
        Ok(Some(opt_string(&head(ctx, rep(arg(p, 0)?)?)?.authority)))
    })?;
    def(
        inst,
        "[method]outgoing-request.set-authority",
        get,
        |ctx, p| {
            let v = opt_string_of(arg(p, 1)?)?;
            if let Some(a) = &v {
                if a.parse::<http::uri::Authority>().is_err() {
                    return Ok(Some(refused()));
                }
            }
            head(ctx, rep(arg(p, 0)?)?)?.authority = v;
            Ok(Some(ok_unit()))
        },
    )?;
    def(inst, "[method]outgoing-request.headers", get, |ctx, p| {
        let list = head(ctx, rep(arg(p, 0)?)?)?.headers.clone();
        Ok(Some(new_fields(ctx, list, false)))
    })?;
    // request-options
    def(inst, "[constructor]request-options", get, |ctx, _| {
        Ok(Some(own::<res::RequestOptions>(push(
            ctx,
            HttpEntry::RequestOptions(Timeouts::default()),
        ))))
    })?;
    for name in [
        "connect-timeout",
        "first-byte-timeout",
        "between-bytes-timeout",
    ] {
        def(
            inst,
            &format!("[method]request-options.{name}"),
            get,
            move |ctx, p| {
                let t = *timeout(options(ctx, rep(arg(p, 0)?)?)?, name);
                Ok(Some(Val::Option(t.map(|n| Box::new(Val::U64(n))))))
            },
        )?;
        def(
            inst,
            &format!("[method]request-options.set-{name}"),
            get,
            move |ctx, p| {
                let v = match arg(p, 1)? {
                    Val::Option(None) => None,
                    Val::Option(Some(n)) => Some(u64_of(n)?),
                    other => {
                        return Err(Error::Usage(format!(
                            "an option<duration> expected, found a {}",
                            other.kind()
                        )))
                    }
                };
                *timeout(options(ctx, rep(arg(p, 0)?)?)?, name) = v;
                Ok(Some(ok_unit()))
            },
        )?;
    }
    // response-outparam
    def(inst, "[static]response-outparam.set", get, |ctx, p| {
        let r = rep(arg(p, 0)?)?;
        let HttpEntry::ResponseOutparam(sender) = take(ctx, r, "a response-outparam")? else {
            return Err(Error::Usage(format!(
                "wasi:http: handle {r} is not a response-outparam"
            )));
        };
        let outcome = match arg(p, 1)? {
            Val::Result(Ok(Some(resp))) => match take(ctx, rep(resp)?, "an outgoing response")? {
                HttpEntry::OutgoingResponse(h) => Ok(*h),
                _ => {
                    return Err(Error::Usage(
                        "wasi:http: response-outparam.set of what is not an outgoing response"
                            .into(),
                    ))
                }
            },
            Val::Result(Err(Some(code))) => Err((**code).clone()),
            other => {
                return Err(Error::Usage(format!(
                    "a result<outgoing-response, error-code> expected, found a {}",
                    other.kind()
                )))
            }
        };
        match sender {
            Some(s) => {
                // The server may have gone (its client left): the guest
                // carries on, as with any closed connection.
                let _ = s.send(outcome);
                Ok(None)
            }
            None => Err(Error::msg("wasi:http: a response-outparam set twice")),
        }
    })?;
    // outgoing-response
    def(inst, "[constructor]outgoing-response", get, |ctx, p| {
        let headers = take_fields(ctx, arg(p, 0)?)?;
        Ok(Some(own::<res::OutgoingResponse>(push(
            ctx,
            HttpEntry::OutgoingResponse(Box::new(new_head(headers, 200))),
        ))))
    })?;
    def(
        inst,
        "[method]outgoing-response.status-code",
        get,
        |ctx, p| Ok(Some(Val::U16(head(ctx, rep(arg(p, 0)?)?)?.status))),
    )?;
    def(
        inst,
        "[method]outgoing-response.set-status-code",
        get,
        |ctx, p| {
            let status = u16_of(arg(p, 1)?)?;
            if http::StatusCode::from_u16(status).is_err() {
                return Ok(Some(refused()));
            }
            head(ctx, rep(arg(p, 0)?)?)?.status = status;
            Ok(Some(ok_unit()))
        },
    )?;
    def(inst, "[method]outgoing-response.headers", get, |ctx, p| {
        let list = head(ctx, rep(arg(p, 0)?)?)?.headers.clone();
        Ok(Some(new_fields(ctx, list, false)))
    })?;
    def(inst, "[method]outgoing-response.body", get, |ctx, p| {
        body_of(ctx, rep(arg(p, 0)?)?).map(Some)
    })
}
