//! Bodies: `incoming-body`, `future-trailers`, `outgoing-body`, and the
//! tasks that move their bytes between hyper and the guest's end of a
//! Unix socket pair.

use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::fields::new_fields;
use super::{entry, internal, push, res, FieldList, HttpEntry};
use crate::component::wasi::table::{Entry, Wait, WritePos};
use crate::component::wasi::vals::{arg, err, ok, ok_unit, own, rep};
use crate::component::wasi::{def, resource, GetCtx};
use crate::component::{LinkerInstance, Val};
use crate::wasi::WasiCtx;
use crate::{Error, Result};

/// How an incoming body ended: its trailers, or the `error-code` that
/// cut it short. Set by the task before it closes its end, so a guest
/// that sees the end finds it set.
#[derive(Debug, Default)]
pub(crate) struct BodyOutcome(Mutex<Option<std::result::Result<Option<FieldList>, Val>>>);

impl BodyOutcome {
    fn set(&self, v: std::result::Result<Option<FieldList>, Val>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(v);
    }

    fn get(&self) -> Option<std::result::Result<Option<FieldList>, Val>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The `error-code` that cut the body short, if one did.
    pub(crate) fn failure(&self) -> Option<Val> {
        match self.get() {
            Some(Err(code)) => Some(code),
            _ => None,
        }
    }
}

/// Whether an outgoing body was finished (with its trailers): a body
/// whose end closes without it was dropped, and is not sent whole.
#[derive(Debug, Default)]
pub(crate) struct Finished(Mutex<Option<FieldList>>);

/// The host's end of an outgoing body.
#[derive(Debug)]
pub(crate) struct HostEnd {
    stream: UnixStream,
    finished: Arc<Finished>,
}

/// Bytes the body tasks move at once.
const CHUNK: usize = 64 * 1024;

/// A socket pair for a body: (the guest's end, the host's end), both
/// non-blocking.
fn pair() -> std::io::Result<(UnixStream, UnixStream)> {
    let (guest, host) = UnixStream::pair()?;
    guest.set_nonblocking(true)?;
    host.set_nonblocking(true)?;
    Ok((guest, host))
}

/// Puts a body's end in the context: its descriptor.
fn insert(ctx: &mut WasiCtx, end: OwnedFd) -> Result<u32> {
    ctx.insert_socket(end).map_err(|e| {
        Error::msg(format!(
            "wasi:http: no descriptor for a body: errno {}",
            e.0
        ))
    })
}

/// Starts moving `body` to a new socket pair: the guest's end, and how
/// the body ended once it has.
pub(crate) fn incoming<B>(
    body: B,
    between: Option<std::time::Duration>,
) -> std::io::Result<(OwnedFd, Arc<BodyOutcome>)>
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send,
{
    let (guest, host) = pair()?;
    let outcome = Arc::new(BodyOutcome::default());
    let set = outcome.clone();
    super::runtime().spawn(async move {
        let Ok(mut host) = tokio::net::UnixStream::from_std(host) else {
            set.set(Err(internal(
                "the body's socket could not join the runtime",
            )));
            return;
        };
        let mut body = body;
        let mut trailers = None;
        loop {
            let next = match between {
                Some(d) => match tokio::time::timeout(d, body.frame()).await {
                    Ok(f) => f,
                    Err(_) => {
                        set.set(Err(super::code("connection-read-timeout")));
                        return;
                    }
                },
                None => body.frame().await,
            };
            match next {
                None => break,
                Some(Ok(frame)) => match frame.into_data() {
                    // The guest dropped its end: the rest is not wanted.
                    Ok(data) => {
                        if host.write_all(&data).await.is_err() {
                            return;
                        }
                    }
                    Err(frame) => {
                        if let Ok(t) = frame.into_trailers() {
                            trailers = Some(super::fields::from_network(&t));
                        }
                    }
                },
                Some(Err(e)) => {
                    set.set(Err(body_error(e.into())));
                    return;
                }
            }
        }
        set.set(Ok(trailers));
    });
    Ok((guest.into(), outcome))
}

/// The `error-code` of an incoming body's failure: a connection closed
/// before the length its head gave is `HTTP-response-incomplete`.
fn body_error(e: Box<dyn std::error::Error + Send + Sync>) -> Val {
    // hyper says a body ended early as an I/O error of kind
    // `UnexpectedEof` beneath its own.
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&*e);
    while let Some(c) = cause {
        let early = c
            .downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_incomplete_message)
            || c.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::UnexpectedEof);
        if early {
            return super::code("HTTP-response-incomplete");
        }
        cause = c.source();
    }
    internal(format!("the body failed: {e}"))
}

/// A body hyper sends from the frames a task reads off the host's end.
pub struct ChannelBody {
    frames: tokio::sync::mpsc::Receiver<std::result::Result<Frame<Bytes>, BodyError>>,
    /// Its length, where its `content-length` says it.
    size: Option<u64>,
}

/// Why an outgoing body was not sent whole.
#[derive(Debug)]
pub struct BodyError(String);

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BodyError {}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<Frame<Bytes>, BodyError>>> {
        self.frames.poll_recv(cx)
    }

    // hyper frames a body of known length with `content-length` (any
    // method's, a GET's too), as the guest said.
    fn size_hint(&self) -> hyper::body::SizeHint {
        match self.size {
            Some(n) => hyper::body::SizeHint::with_exact(n),
            None => hyper::body::SizeHint::default(),
        }
    }
}

impl ChannelBody {
    /// A body of these bytes.
    pub(crate) fn of(bytes: Vec<u8>) -> ChannelBody {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let size = Some(bytes.len() as u64);
        if !bytes.is_empty() {
            let _ = tx.try_send(Ok(Frame::data(Bytes::from(bytes))));
        }
        ChannelBody { frames: rx, size }
    }

    /// The body a guest writes at the other end of `end` (empty where
    /// it made none); `size`: the length its `content-length` gives,
    /// which it must have (more or fewer bytes fail it, as WASI says).
    pub(crate) fn from_guest(end: Option<HostEnd>, size: Option<u64>) -> ChannelBody {
        let Some(end) = end else {
            return ChannelBody::of(Vec::new());
        };
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        super::runtime().spawn(async move {
            let Ok(mut stream) = tokio::net::UnixStream::from_std(end.stream) else {
                let _ = tx
                    .send(Err(BodyError(
                        "the body's socket could not join the runtime".into(),
                    )))
                    .await;
                return;
            };
            let mut buf = vec![0u8; CHUNK];
            let mut sent = 0u64;
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) => break,
                    Ok(n) => {
                        sent += n as u64;
                        if size.is_some_and(|s| sent > s) {
                            let _ = tx
                                .send(Err(BodyError(format!(
                                    "the guest wrote more than the {} bytes its content-length \
                                     says",
                                    size.unwrap_or(0)
                                ))))
                                .await;
                            return;
                        }
                        if tx
                            .send(Ok(Frame::data(Bytes::copy_from_slice(&buf[..n]))))
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx
                            .send(Err(BodyError(format!("reading the body: {e}"))))
                            .await;
                        return;
                    }
                }
            }
            let finished = end
                .finished
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            let last = match finished {
                _ if size.is_some_and(|s| s != sent) => Some(Err(BodyError(format!(
                    "the guest wrote {sent} bytes where its content-length says {}",
                    size.unwrap_or(0)
                )))),
                Some(t) if t.is_empty() => None,
                Some(t) => Some(
                    super::server::header_map(&t)
                        .map(Frame::trailers)
                        .map_err(BodyError),
                ),
                None => Some(Err(BodyError(
                    "the guest dropped the body without finishing it".into(),
                ))),
            };
            if let Some(last) = last {
                let _ = tx.send(last).await;
            }
        });
        ChannelBody { frames: rx, size }
    }
}

/// Makes an outgoing body for a request or response head: the guest's
/// `outgoing-body` handle (the host's end goes into the head).
pub(crate) fn outgoing(ctx: &mut WasiCtx, head: u32) -> Result<Val> {
    let (guest, host) =
        pair().map_err(|e| Error::msg(format!("wasi:http: a body's socket pair: {e}")))?;
    let fd = insert(ctx, OwnedFd::from(guest))?;
    let finished = Arc::new(Finished::default());
    let e = entry(ctx, head, "an outgoing request or response")?;
    let request = matches!(e, HttpEntry::OutgoingRequest(_));
    let (HttpEntry::OutgoingRequest(h) | HttpEntry::OutgoingResponse(h)) = e else {
        return Err(Error::Usage(format!(
            "wasi:http: handle {head} is not an outgoing request or response"
        )));
    };
    h.body = Some(HostEnd {
        stream: host,
        finished: finished.clone(),
    });
    let size = super::fields::content_length(&h.head.headers)
        .ok()
        .flatten();
    ctx.p2.http_out.insert(fd, 0);
    if let Some(limit) = size {
        ctx.p2.http_limit.insert(fd, (limit, request));
    }
    Ok(own::<res::OutgoingBody>(push(
        ctx,
        HttpEntry::OutgoingBody {
            fd,
            finished,
            streamed: false,
            size,
            request,
        },
    )))
}

/// Gives an incoming body's guest end to the context: the
/// `incoming-body` handle.
pub(crate) fn incoming_handle(ctx: &mut WasiCtx, fd: u32, outcome: Arc<BodyOutcome>) -> Val {
    ctx.p2.http_in.insert(fd, outcome.clone());
    own::<res::IncomingBody>(push(
        ctx,
        HttpEntry::IncomingBody {
            fd,
            outcome,
            streamed: false,
        },
    ))
}

/// Puts an incoming body's guest end in the context: its descriptor.
pub(crate) fn insert_incoming(ctx: &mut WasiCtx, end: OwnedFd) -> Result<u32> {
    insert(ctx, end)
}

/// Sends what waits unsent on the body stream `rep` (descriptor `fd`)
/// from a task, as the stream goes: a second descriptor of the guest's
/// end keeps the pair open until the bytes are in, so the body's reader
/// sees them before its end, and the guest's thread (which may be one
/// the reader needs) does not wait.
pub(crate) fn drain_later(ctx: &mut WasiCtx, rep: u32, fd: u32) -> Result<()> {
    let Some(bytes) = ctx.p2.unsent.remove(&rep) else {
        return Ok(());
    };
    if let Some(written) = ctx.p2.http_out.get_mut(&fd) {
        *written += bytes.len() as u64;
    }
    let raw = crate::component::wasi::sockets::host_fd(ctx, fd)?;
    // SAFETY: the context keeps `raw` open for this call; the borrow
    // only makes a descriptor of our own from it.
    let dup = unsafe { std::os::fd::BorrowedFd::borrow_raw(raw) }
        .try_clone_to_owned()
        .map_err(|e| Error::msg(format!("wasi:http: a body's descriptor: {e}")))?;
    let end = UnixStream::from(dup);
    super::runtime().spawn(async move {
        if let Ok(mut end) = tokio::net::UnixStream::from_std(end) {
            let _ = end.write_all(&bytes).await;
        }
    });
    Ok(())
}

/// Whether a child (a stream, a pollable) of descriptor `fd` lives.
fn has_children(ctx: &WasiCtx, fd: u32) -> bool {
    ctx.p2.uses_fd(fd)
}

pub(super) fn add<T: 'static>(inst: &mut LinkerInstance<'_, T>, get: GetCtx<T>) -> Result<()> {
    resource::<T, res::IncomingBody>(inst, "incoming-body", get)?;
    resource::<T, res::FutureTrailers>(inst, "future-trailers", get)?;
    resource::<T, res::OutgoingBody>(inst, "outgoing-body", get)?;
    def(inst, "[method]incoming-body.stream", get, |ctx, p| {
        let HttpEntry::IncomingBody { fd, streamed, .. } =
            entry(ctx, rep(arg(p, 0)?)?, "an incoming body")?
        else {
            return Err(Error::Usage("wasi:http: not an incoming body".into()));
        };
        if std::mem::replace(streamed, true) {
            return Ok(Some(err_unit()));
        }
        let fd = *fd;
        let s = ctx.p2.push(Entry::Input { fd, offset: None });
        Ok(Some(ok(own::<crate::component::wasi::res::InputStream>(s))))
    })?;
    def(inst, "[static]incoming-body.finish", get, |ctx, p| {
        let r = rep(arg(p, 0)?)?;
        let (fd, outcome) = match entry(ctx, r, "an incoming body")? {
            HttpEntry::IncomingBody { fd, outcome, .. } => (*fd, outcome.clone()),
            _ => return Err(Error::Usage("wasi:http: not an incoming body".into())),
        };
        if has_children(ctx, fd) {
            return Err(Error::msg(
                "wasi:http: incoming-body.finish while its stream lives (drop it first)",
            ));
        }
        ctx.p2.remove(r);
        ctx.p2.http_in.insert(fd, outcome.clone());
        Ok(Some(own::<res::FutureTrailers>(push(
            ctx,
            HttpEntry::FutureTrailers {
                fd,
                outcome,
                taken: false,
            },
        ))))
    })?;
    def(inst, "[method]future-trailers.subscribe", get, |ctx, p| {
        let fd = match entry(ctx, rep(arg(p, 0)?)?, "a future-trailers")? {
            HttpEntry::FutureTrailers { fd, .. } => *fd,
            _ => return Err(Error::Usage("wasi:http: not a future-trailers".into())),
        };
        let poll = ctx.p2.push(Entry::Pollable(Wait::Read(fd)));
        Ok(Some(own::<crate::component::wasi::res::Pollable>(poll)))
    })?;
    def(inst, "[method]future-trailers.get", get, |ctx, p| {
        let r = rep(arg(p, 0)?)?;
        let (fd, outcome, taken) = match entry(ctx, r, "a future-trailers")? {
            HttpEntry::FutureTrailers {
                fd, outcome, taken, ..
            } => (*fd, outcome.clone(), *taken),
            _ => return Err(Error::Usage("wasi:http: not a future-trailers".into())),
        };
        if taken {
            return Ok(Some(Val::Option(Some(Box::new(err_unit())))));
        }
        // The body's rest, unread by the guest, is not wanted: taken off
        // the socket so the task can reach the end (and the trailers).
        let ended = discard(ctx, fd);
        let Some(out) = outcome.get().filter(|_| ended) else {
            return Ok(Some(Val::Option(None)));
        };
        if let Ok(HttpEntry::FutureTrailers { taken, .. }) = entry(ctx, r, "") {
            *taken = true;
        }
        let inner = match out {
            Ok(None) => ok(Val::Option(None)),
            Ok(Some(list)) => ok(Val::Option(Some(Box::new(new_fields(ctx, list, false))))),
            Err(code) => err(code),
        };
        Ok(Some(Val::Option(Some(Box::new(ok(inner))))))
    })?;
    def(inst, "[method]outgoing-body.write", get, |ctx, p| {
        let HttpEntry::OutgoingBody { fd, streamed, .. } =
            entry(ctx, rep(arg(p, 0)?)?, "an outgoing body")?
        else {
            return Err(Error::Usage("wasi:http: not an outgoing body".into()));
        };
        if std::mem::replace(streamed, true) {
            return Ok(Some(err_unit()));
        }
        let fd = *fd;
        let s = ctx.p2.push(Entry::Output {
            fd,
            pos: WritePos::Socket,
        });
        Ok(Some(ok(own::<crate::component::wasi::res::OutputStream>(
            s,
        ))))
    })?;
    def(inst, "[static]outgoing-body.finish", get, |ctx, p| {
        let r = rep(arg(p, 0)?)?;
        let (fd, finished, size, request) = match entry(ctx, r, "an outgoing body")? {
            HttpEntry::OutgoingBody {
                fd,
                finished,
                size,
                request,
                ..
            } => (*fd, finished.clone(), *size, *request),
            _ => return Err(Error::Usage("wasi:http: not an outgoing body".into())),
        };
        if has_children(ctx, fd) {
            return Err(Error::msg(
                "wasi:http: outgoing-body.finish while its stream lives (drop it first)",
            ));
        }
        let trailers = match arg(p, 1)? {
            Val::Option(Some(t)) => super::fields::take_fields(ctx, t)?,
            _ => Vec::new(),
        };
        *finished.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(trailers);
        let written = ctx.p2.http_out.get(&fd).copied().unwrap_or(0);
        ctx.p2.remove(r);
        ctx.fd_close(fd)
            .map_err(|e| Error::msg(format!("wasi:http: closing a body: errno {}", e.0)))?;
        // A length other than its content-length's: the body fails (its
        // reader sees it too), and so does the finish, as WASI says.
        Ok(Some(match size {
            Some(s) if s != written => err(super::body_size(request, written)),
            _ => ok_unit(),
        }))
    })?;
    Ok(())
}

/// `result::err` without a payload.
fn err_unit() -> Val {
    Val::Result(Err(None))
}

/// Reads and drops what waits on the body's end `fd`: whether its end
/// came.
fn discard(ctx: &mut WasiCtx, fd: u32) -> bool {
    let Ok(raw) = crate::component::wasi::sockets::host_fd(ctx, fd) else {
        return true;
    };
    let mut buf = [0u8; 8192];
    loop {
        // SAFETY: a read into a local buffer from a descriptor the
        // context holds open.
        let n = unsafe { libc::read(raw, buf.as_mut_ptr().cast(), buf.len()) };
        match n {
            0 => return true,
            n if n > 0 => continue,
            _ => return false,
        }
    }
}
