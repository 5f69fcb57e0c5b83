//! `wasi:http` 0.2 for components (wasmtime's `wasmtime_wasi_http`):
//! `wasi:http/types` and `wasi:http/outgoing-handler` for the guest, and
//! the host's side of `wasi:http/incoming-handler` that `walmart serve`
//! calls ([`server`]).
//!
//! HTTP/1.1's framing is hyper's, on a tokio runtime of the host's own
//! ([`runtime`]). A body crosses to the guest as one end of a Unix socket
//! pair in the WASI context's descriptor table: the guest reads and
//! writes it as any `wasi:io` stream (polled, blocking, suspending an
//! asynchronous call), while a task on the runtime moves its bytes to or
//! from hyper. So bodies stream both ways, with the sockets' buffers as
//! back-pressure, and no second stream implementation exists.

mod body;
mod client;
mod fields;
mod messages;
pub mod server;
mod tls;

use std::sync::{Arc, Mutex, OnceLock};

use super::table::Entry;
use super::{GetCtx, LinkerInstance};
use crate::component::{Linker, Val};
use crate::wasi::WasiCtx;
use crate::{Error, Result};

pub(crate) use body::{drain_later, BodyOutcome, Finished};

/// Header or trailer fields: names in lower case, in their order.
pub(crate) type FieldList = Vec<(String, Vec<u8>)>;

/// Host resource types of `wasi:http`, by their Rust markers.
pub(crate) mod res {
    pub struct Fields;
    pub struct IncomingRequest;
    pub struct OutgoingRequest;
    pub struct RequestOptions;
    pub struct ResponseOutparam;
    pub struct IncomingResponse;
    pub struct IncomingBody;
    pub struct FutureTrailers;
    pub struct OutgoingResponse;
    pub struct OutgoingBody;
    pub struct FutureIncomingResponse;
}

/// What a request or response head holds, whichever way it goes (a
/// request's `status`, a response's method and target, go unused).
#[derive(Debug)]
pub(crate) struct Head {
    pub(crate) method: http::Method,
    pub(crate) scheme: Option<http::uri::Scheme>,
    pub(crate) authority: Option<String>,
    pub(crate) path_with_query: Option<String>,
    pub(crate) status: u16,
    pub(crate) headers: FieldList,
}

impl Head {
    /// A head of these fields and status: a GET of no target.
    pub(crate) fn new(headers: FieldList, status: u16) -> Head {
        Head {
            method: http::Method::GET,
            scheme: None,
            authority: None,
            path_with_query: None,
            status,
            headers,
        }
    }
}

/// A request or response as it came from the network: what an
/// `incoming-request` or `incoming-response` gives.
#[derive(Debug)]
pub(crate) struct IncomingHead {
    pub(crate) head: Head,
    /// The body's descriptor in the context (until `consume`) and how it
    /// ended.
    pub(crate) body: Option<(u32, Arc<BodyOutcome>)>,
}

/// An outgoing request or response the guest builds.
#[derive(Debug)]
pub(crate) struct OutgoingHead {
    pub(crate) head: Head,
    /// Whether `body` was called (it may be once).
    pub(crate) body_taken: bool,
    /// The host's end of the body's socket pair, once `body` made it.
    pub(crate) body: Option<body::HostEnd>,
}

/// What `response-outparam.set` sends to the server: the response, or
/// the guest's `error-code`.
pub(crate) type Outcome = std::result::Result<OutgoingHead, Val>;

/// The timeouts of a `request-options` (nanoseconds).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Timeouts {
    pub(crate) connect: Option<u64>,
    pub(crate) first_byte: Option<u64>,
    pub(crate) between_bytes: Option<u64>,
}

/// An outgoing request's answer, as the client's task leaves it.
#[derive(Debug)]
pub(crate) struct ClientAnswer {
    pub(crate) status: u16,
    pub(crate) headers: FieldList,
    /// The guest's end of the body's socket pair.
    pub(crate) body: std::os::fd::OwnedFd,
    pub(crate) outcome: Arc<BodyOutcome>,
}

/// Where the client's task leaves its answer.
pub(crate) type AnswerSlot = Arc<Mutex<Option<std::result::Result<ClientAnswer, Val>>>>;

/// One `wasi:http` resource of the table.
#[derive(Debug)]
pub(crate) enum HttpEntry {
    Fields {
        list: FieldList,
        mutable: bool,
    },
    IncomingRequest(Box<IncomingHead>),
    IncomingResponse(Box<IncomingHead>),
    OutgoingRequest(Box<OutgoingHead>),
    OutgoingResponse(Box<OutgoingHead>),
    RequestOptions(Timeouts),
    ResponseOutparam(Option<tokio::sync::oneshot::Sender<Outcome>>),
    /// A body being read: `fd` is the guest's end; `streamed`: its
    /// stream was taken.
    IncomingBody {
        fd: u32,
        outcome: Arc<BodyOutcome>,
        streamed: bool,
    },
    /// An incoming body's trailers to come (`fd`: the body's end, which
    /// becomes readable at its end).
    FutureTrailers {
        fd: u32,
        outcome: Arc<BodyOutcome>,
        taken: bool,
    },
    /// A body being written: `fd` is the guest's end.
    OutgoingBody {
        fd: u32,
        finished: Arc<Finished>,
        streamed: bool,
        /// Its length, where its head's `content-length` gives one, and
        /// whether it is a request's (for `finish`'s error code).
        size: Option<u64>,
        request: bool,
    },
    /// An outgoing request's response to come: `fd` is an eventfd the
    /// client's task raises.
    FutureResponse {
        fd: u32,
        slot: AnswerSlot,
        taken: bool,
        /// The request's task, stopped when the guest drops the future.
        _task: AbortOnDrop,
    },
}

/// Stops a task when dropped.
#[derive(Debug)]
pub(crate) struct AbortOnDrop(pub(crate) tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl HttpEntry {
    /// The context's descriptor the entry owns (closed with it).
    pub(crate) fn owned_fd(&self) -> Option<u32> {
        match self {
            HttpEntry::IncomingRequest(h) | HttpEntry::IncomingResponse(h) => {
                h.body.as_ref().map(|(fd, _)| *fd)
            }
            HttpEntry::IncomingBody { fd, .. }
            | HttpEntry::FutureTrailers { fd, .. }
            | HttpEntry::OutgoingBody { fd, .. }
            | HttpEntry::FutureResponse { fd, .. } => Some(*fd),
            _ => None,
        }
    }
}

/// The `wasi:http` entry `rep`, or an error naming what it should be.
pub(crate) fn entry<'a>(ctx: &'a mut WasiCtx, rep: u32, what: &str) -> Result<&'a mut HttpEntry> {
    match ctx.p2.get_mut(rep) {
        Some(Entry::Http(e)) => Ok(e),
        _ => Err(Error::Usage(format!(
            "wasi:http: handle {rep} is not {what}"
        ))),
    }
}

/// Takes the `wasi:http` entry `rep` out of the table (an owned handle
/// the guest passed on).
pub(crate) fn take(ctx: &mut WasiCtx, rep: u32, what: &str) -> Result<HttpEntry> {
    match ctx.p2.remove(rep) {
        Some(Entry::Http(e)) => Ok(*e),
        Some(other) => {
            ctx.p2.put(rep, other);
            Err(Error::Usage(format!(
                "wasi:http: handle {rep} is not {what}"
            )))
        }
        None => Err(Error::Usage(format!(
            "wasi:http: handle {rep} is not {what}"
        ))),
    }
}

/// Adds a `wasi:http` entry: its representation.
pub(crate) fn push(ctx: &mut WasiCtx, e: HttpEntry) -> u32 {
    ctx.p2.push(Entry::Http(Box::new(e)))
}

/// The runtime HTTP's tasks run on: made at the first use, shared by
/// every store of the process (two worker threads: the tasks only move
/// bytes).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("walmart-http")
            .enable_all()
            .build()
            .expect("a tokio runtime for wasi:http")
    })
}

/// `method` as a `wasi:http/types.method` value.
pub(crate) fn method_val(m: &http::Method) -> Val {
    let case = match *m {
        http::Method::GET => "get",
        http::Method::HEAD => "head",
        http::Method::POST => "post",
        http::Method::PUT => "put",
        http::Method::DELETE => "delete",
        http::Method::CONNECT => "connect",
        http::Method::OPTIONS => "options",
        http::Method::TRACE => "trace",
        http::Method::PATCH => "patch",
        ref other => {
            return Val::Variant(
                "other".into(),
                Some(Box::new(Val::String(other.as_str().into()))),
            )
        }
    };
    Val::Variant(case.into(), None)
}

/// A `method` value as hyper's; `None` for an invalid one.
pub(crate) fn method_of(v: &Val) -> Result<Option<http::Method>> {
    match v {
        Val::Variant(case, payload) => Ok(match (case.as_str(), payload) {
            ("other", Some(p)) => match &**p {
                Val::String(s) => http::Method::from_bytes(s.as_bytes()).ok(),
                _ => None,
            },
            (c, None) => http::Method::from_bytes(c.to_ascii_uppercase().as_bytes()).ok(),
            _ => None,
        }),
        other => Err(Error::Usage(format!(
            "a method expected, found a {}",
            other.kind()
        ))),
    }
}

/// `scheme` as a `wasi:http/types.scheme` value.
pub(crate) fn scheme_val(s: &http::uri::Scheme) -> Val {
    if *s == http::uri::Scheme::HTTP {
        Val::Variant("HTTP".into(), None)
    } else if *s == http::uri::Scheme::HTTPS {
        Val::Variant("HTTPS".into(), None)
    } else {
        Val::Variant(
            "other".into(),
            Some(Box::new(Val::String(s.as_str().into()))),
        )
    }
}

/// A `scheme` value as hyper's; `None` for an invalid one.
pub(crate) fn scheme_of(v: &Val) -> Result<Option<http::uri::Scheme>> {
    match v {
        Val::Variant(case, payload) => Ok(match (case.as_str(), payload) {
            ("HTTP", None) => Some(http::uri::Scheme::HTTP),
            ("HTTPS", None) => Some(http::uri::Scheme::HTTPS),
            ("other", Some(p)) => match &**p {
                Val::String(s) => s.parse().ok(),
                _ => None,
            },
            _ => None,
        }),
        other => Err(Error::Usage(format!(
            "a scheme expected, found a {}",
            other.kind()
        ))),
    }
}

/// An `error-code` case without a payload.
pub(crate) fn code(case: &str) -> Val {
    Val::Variant(case.into(), None)
}

/// `error-code.internal-error` with a message.
pub(crate) fn internal(message: impl Into<String>) -> Val {
    Val::Variant(
        "internal-error".into(),
        Some(Box::new(Val::Option(Some(Box::new(Val::String(
            message.into(),
        )))))),
    )
}

/// `HTTP-request-body-size` or `HTTP-response-body-size` of `size`.
pub(crate) fn body_size(request: bool, size: u64) -> Val {
    let case = if request {
        "HTTP-request-body-size"
    } else {
        "HTTP-response-body-size"
    };
    Val::Variant(
        case.into(),
        Some(Box::new(Val::Option(Some(Box::new(Val::U64(size)))))),
    )
}

/// An `error-code` in words, for the server's log and responses.
pub(crate) fn describe(code: &Val) -> String {
    match code {
        Val::Variant(case, None) => case.clone(),
        Val::Variant(case, Some(p)) => match &**p {
            Val::Option(Some(m)) => match &**m {
                Val::String(s) => format!("{case}: {s}"),
                other => format!("{case}: {other:?}"),
            },
            other => format!("{case}: {other:?}"),
        },
        other => format!("{other:?}"),
    }
}

/// `wasi:http/types` at the version walmart defines its interfaces at.
fn types_iface<'a, T: 'static>(linker: &'a mut Linker<T>) -> Result<LinkerInstance<'a, T>> {
    super::iface(linker, "wasi:http/types")
}

/// Defines `wasi:http/types` and `wasi:http/outgoing-handler` in
/// `linker` (the WASI 0.2 interfaces they use come from
/// [`super::add_to_linker`]); `get` finds the [`WasiCtx`] inside the
/// store's data. Outgoing requests (HTTP/1.1, over TLS for `https`)
/// reach what the context's network policy allows ([`WasiCtx`]'s
/// `socket_addr_check`, or any address after `allow_http_outgoing`).
pub fn add_to_linker<T: 'static>(linker: &mut Linker<T>, get: GetCtx<T>) -> Result<()> {
    {
        let mut inst = types_iface(linker)?;
        fields::add(&mut inst, get)?;
        messages::add(&mut inst, get)?;
        body::add(&mut inst, get)?;
        client::add_types(&mut inst, get)?;
    }
    client::add_handler(linker, get)
}
