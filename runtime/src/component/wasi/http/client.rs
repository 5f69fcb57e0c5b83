//! `wasi:http/outgoing-handler` and `future-incoming-response`: the
//! guest's requests, sent as HTTP/1.1 by hyper on the host's runtime
//! (over TLS for `https`: `tls.rs`), to the addresses the context's
//! network policy allows.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_util::rt::TokioIo;

use super::body::{incoming, insert_incoming, ChannelBody};
use super::{
    code, entry, internal, push, res, take, AnswerSlot, ClientAnswer, Head, HttpEntry,
    IncomingHead, OutgoingHead, Timeouts,
};
use crate::component::wasi::event::{event_pair, raise};
use crate::component::wasi::table::{Entry, Wait};
use crate::component::wasi::vals::{arg, err, ok, own, rep};
use crate::component::wasi::{def, iface, resource, GetCtx};
use crate::component::{Linker, LinkerInstance, Val};
use crate::wasi::WasiCtx;
use crate::{Error, Result};

/// How long a connection may take when the guest gives no timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(600);
/// How long the first byte of the response may take, likewise.
const FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(600);

pub(super) fn add_types<T: 'static>(
    inst: &mut LinkerInstance<'_, T>,
    get: GetCtx<T>,
) -> Result<()> {
    resource::<T, res::FutureIncomingResponse>(inst, "future-incoming-response", get)?;
    def(
        inst,
        "[method]future-incoming-response.subscribe",
        get,
        |ctx, p| {
            let fd = match entry(ctx, rep(arg(p, 0)?)?, "a future-incoming-response")? {
                HttpEntry::FutureResponse { fd, .. } => *fd,
                _ => {
                    return Err(Error::Usage(
                        "wasi:http: not a future-incoming-response".into(),
                    ))
                }
            };
            let poll = ctx.p2.push(Entry::Pollable(Wait::Read(fd)));
            Ok(Some(own::<crate::component::wasi::res::Pollable>(poll)))
        },
    )?;
    def(
        inst,
        "[method]future-incoming-response.get",
        get,
        |ctx, p| {
            let r = rep(arg(p, 0)?)?;
            let (slot, taken) = match entry(ctx, r, "a future-incoming-response")? {
                HttpEntry::FutureResponse { slot, taken, .. } => (slot.clone(), taken),
                _ => {
                    return Err(Error::Usage(
                        "wasi:http: not a future-incoming-response".into(),
                    ))
                }
            };
            if *taken {
                return Ok(Some(Val::Option(Some(Box::new(Val::Result(Err(None)))))));
            }
            let Some(answer) = slot.lock().unwrap_or_else(|e| e.into_inner()).take() else {
                return Ok(Some(Val::Option(None)));
            };
            *taken = true;
            let inner = match answer {
                Ok(a) => {
                    let fd = insert_incoming(ctx, a.body)?;
                    ctx.p2.http_in.insert(fd, a.outcome.clone());
                    let head = IncomingHead {
                        head: Head::new(a.headers, a.status),
                        body: Some((fd, a.outcome)),
                    };
                    ok(own::<res::IncomingResponse>(push(
                        ctx,
                        HttpEntry::IncomingResponse(Box::new(head)),
                    )))
                }
                Err(code) => err(code),
            };
            Ok(Some(Val::Option(Some(Box::new(ok(inner))))))
        },
    )?;
    // The error code of an incoming body cut short, behind the stream
    // error its read gave; `none` for any other error.
    def(inst, "http-error-code", get, |ctx, p| {
        let r = rep(arg(p, 0)?)?;
        Ok(Some(Val::Option(
            ctx.p2.http_errors.get(&r).cloned().map(Box::new),
        )))
    })
}

pub(super) fn add_handler<T: 'static>(linker: &mut Linker<T>, get: GetCtx<T>) -> Result<()> {
    let mut inst = iface(linker, "wasi:http/outgoing-handler")?;
    def(&mut inst, "handle", get, |ctx, p| {
        let r = rep(arg(p, 0)?)?;
        let HttpEntry::OutgoingRequest(head) = take(ctx, r, "an outgoing request")? else {
            return Err(Error::Usage(format!(
                "wasi:http: handle {r} is not an outgoing request"
            )));
        };
        let timeouts = match arg(p, 1)? {
            Val::Option(Some(o)) => match take(ctx, rep(o)?, "a request-options")? {
                HttpEntry::RequestOptions(t) => t,
                _ => return Err(Error::Usage("wasi:http: not a request-options".into())),
            },
            _ => Timeouts::default(),
        };
        Ok(Some(match send(ctx, *head, timeouts)? {
            Ok(v) => ok(v),
            Err(code) => err(code),
        }))
    })
}

/// Starts the request: its `future-incoming-response`, or the
/// `error-code` refusing it at once.
fn send(
    ctx: &mut WasiCtx,
    out: OutgoingHead,
    timeouts: Timeouts,
) -> Result<std::result::Result<Val, Val>> {
    let OutgoingHead { head, body, .. } = out;
    // No scheme set: `https`, as wasmtime's default.
    let scheme = head.scheme.clone().unwrap_or(http::uri::Scheme::HTTPS);
    let tls = if scheme == http::uri::Scheme::HTTP {
        false
    } else if scheme == http::uri::Scheme::HTTPS {
        true
    } else {
        return Ok(Err(internal(format!(
            "walmart sends outgoing requests over HTTP and HTTPS: the scheme `{scheme}` is \
             not supported"
        ))));
    };
    let Some(authority) = head.authority.clone() else {
        return Ok(Err(code("HTTP-request-URI-invalid")));
    };
    let Ok(authority) = authority.parse::<http::uri::Authority>() else {
        return Ok(Err(code("HTTP-request-URI-invalid")));
    };
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let policy = ctx.net.clone();
    let roots = policy.http_roots.clone();
    // Refused before any lookup where no address could be allowed: a
    // name is not sent to the resolver for nothing.
    if !policy.may_allow_http() {
        return Ok(Err(code("HTTP-request-denied")));
    }
    // An origin server is sent the origin form (the path and query; the
    // authority goes in `host`), as HTTP/1.1 asks.
    let uri = http::Uri::builder()
        .path_and_query(head.path_with_query.clone().unwrap_or_else(|| "/".into()))
        .build();
    let Ok(uri) = uri else {
        return Ok(Err(code("HTTP-request-URI-invalid")));
    };
    let Ok(size) = super::fields::content_length(&head.headers) else {
        return Ok(Err(internal(
            "the request's content-length is not one number",
        )));
    };
    // A length promised and no body to give it: refused now, as wasmtime.
    if body.is_none() && size.is_some_and(|n| n > 0) {
        return Ok(Err(super::body_size(true, 0)));
    }
    let mut headers = match super::server::header_map(&head.headers) {
        Ok(h) => h,
        Err(e) => return Ok(Err(internal(e))),
    };
    let Ok(host_field) = http::HeaderValue::from_str(authority.as_str()) else {
        return Ok(Err(code("HTTP-request-URI-invalid")));
    };
    headers.insert(http::header::HOST, host_field);
    let mut req = hyper::Request::new(ChannelBody::from_guest(body, size));
    *req.method_mut() = head.method.clone();
    *req.uri_mut() = uri;
    *req.headers_mut() = headers;
    let (event, signal) =
        event_pair().map_err(|e| Error::msg(format!("wasi:http: an eventfd: {e}")))?;
    let fd = ctx
        .insert_owned(event, crate::wasi::types::filetype::UNKNOWN)
        .map_err(|e| {
            Error::msg(format!(
                "wasi:http: no descriptor for a response: errno {}",
                e.0
            ))
        })?;
    let slot: AnswerSlot = Arc::new(Mutex::new(None));
    let answer = slot.clone();
    let task = super::runtime().spawn(async move {
        let out = match resolve(&host, port, &policy).await {
            Ok(addrs) => {
                let tls = tls.then_some((host.as_str(), roots.as_slice()));
                exchange(addrs, tls, req, timeouts).await
            }
            Err(code) => Err(code),
        };
        *answer.lock().unwrap_or_else(|e| e.into_inner()) = Some(out);
        raise(&signal);
    });
    Ok(Ok(own::<res::FutureIncomingResponse>(push(
        ctx,
        HttpEntry::FutureResponse {
            fd,
            slot,
            taken: false,
            _task: super::AbortOnDrop(task.abort_handle()),
        },
    ))))
}

/// The addresses of `host` the policy lets a request reach, or the
/// `error-code` of a lookup that failed or found none allowed.
async fn resolve(
    host: &str,
    port: u16,
    policy: &crate::wasi::NetPolicy,
) -> std::result::Result<Vec<SocketAddr>, Val> {
    let found: Vec<SocketAddr> = match tokio::net::lookup_host((host, port)).await {
        Ok(a) => a.collect(),
        Err(_) => {
            return Err(Val::Variant(
                "DNS-error".into(),
                Some(Box::new(Val::Record(vec![
                    ("rcode".into(), Val::Option(None)),
                    ("info-code".into(), Val::Option(None)),
                ]))),
            ))
        }
    };
    if found.is_empty() {
        return Err(code("destination-not-found"));
    }
    let allowed: Vec<SocketAddr> = found
        .into_iter()
        .filter(|a| policy.allows_http(*a))
        .collect();
    if allowed.is_empty() {
        return Err(code("HTTP-request-denied"));
    }
    Ok(allowed)
}

fn duration(ns: Option<u64>, default: Duration) -> Duration {
    ns.map(Duration::from_nanos).unwrap_or(default)
}

/// Connects (with TLS to the host of `tls`, trusting its extra roots as
/// well), sends and waits for the response's head.
async fn exchange(
    addrs: Vec<SocketAddr>,
    tls: Option<(&str, &[Vec<u8>])>,
    req: hyper::Request<ChannelBody>,
    timeouts: Timeouts,
) -> std::result::Result<ClientAnswer, Val> {
    let connect = duration(timeouts.connect, CONNECT_TIMEOUT);
    let mut last = code("connection-refused");
    let mut stream = None;
    for a in addrs {
        match tokio::time::timeout(connect, tokio::net::TcpStream::connect(a)).await {
            Ok(Ok(s)) => {
                stream = Some(s);
                break;
            }
            Ok(Err(e)) => {
                last = match e.kind() {
                    std::io::ErrorKind::ConnectionRefused => code("connection-refused"),
                    _ => code("destination-unavailable"),
                }
            }
            Err(_) => last = code("connection-timeout"),
        }
    }
    let Some(stream) = stream else {
        return Err(last);
    };
    let _ = stream.set_nodelay(true);
    let mut sender = match tls {
        Some((host, roots)) => {
            let secure = tokio::time::timeout(connect, super::tls::connect(stream, host, roots))
                .await
                .map_err(|_| code("connection-timeout"))??;
            handshake(secure).await?
        }
        None => handshake(stream).await?,
    };
    let first_byte = duration(timeouts.first_byte, FIRST_BYTE_TIMEOUT);
    let resp = match tokio::time::timeout(first_byte, sender.send_request(req)).await {
        Err(_) => return Err(code("connection-read-timeout")),
        Ok(Err(e)) => {
            return Err(if e.is_incomplete_message() {
                code("HTTP-response-incomplete")
            } else if e.is_parse() {
                code("HTTP-protocol-error")
            } else {
                internal(e.to_string())
            })
        }
        Ok(Ok(r)) => r,
    };
    let (parts, body) = resp.into_parts();
    let between = timeouts.between_bytes.map(Duration::from_nanos);
    let (guest, outcome) =
        incoming(body, between).map_err(|e| internal(format!("a body's socket pair: {e}")))?;
    Ok(ClientAnswer {
        status: parts.status.as_u16(),
        headers: super::fields::from_network(&parts.headers),
        body: guest,
        outcome,
    })
}

/// HTTP/1.1 over `io`: the sender of the request (the connection runs
/// in a task of its own).
async fn handshake<IO>(
    io: IO,
) -> std::result::Result<hyper::client::conn::http1::SendRequest<ChannelBody>, Val>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| internal(format!("HTTP handshake: {e}")))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}
