//! The host's side of `wasi:http/incoming-handler`: a request from the
//! network handed to a new instance of a proxy component, its response
//! (streamed as the guest writes it) handed back (`walmart serve`,
//! wasmtime's `ProxyPre`).

use std::sync::Arc;

use bytes::Bytes;
use hyper::body::Body;

use super::body::{incoming, insert_incoming, ChannelBody};
use super::{describe, push, res, FieldList, Head, HttpEntry, IncomingHead, Outcome, OutgoingHead};
use crate::component::wasi::vals::own;
use crate::component::wasi::GetCtx;
use crate::component::{InstancePre, Val};
use crate::{Error, Result, Store};

/// A hyper header map of checked fields (`fields` checks them as they
/// are set): `Err` where there are more than a header map holds.
pub(crate) fn header_map(list: &FieldList) -> std::result::Result<http::HeaderMap, String> {
    let too_many = || format!("{} fields: more than an HTTP head may have", list.len());
    let mut map =
        http::HeaderMap::try_with_capacity(list.len().min(1024)).map_err(|_| too_many())?;
    for (n, v) in list {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(n.as_bytes()),
            http::HeaderValue::from_bytes(v),
        ) {
            map.try_append(n, v).map_err(|_| too_many())?;
        }
    }
    Ok(map)
}

/// The `wasi:http/incoming-handler` interface (of any 0.2 version)
/// among a component's export names.
pub fn incoming_handler_interface(exports: &[String]) -> Option<&str> {
    exports
        .iter()
        .map(String::as_str)
        .find(|n| n.starts_with("wasi:http/incoming-handler@0.2."))
}

/// A proxy component (one exporting `wasi:http/incoming-handler`) ready
/// to handle requests, each in a new instance of its own.
pub struct ProxyPre<T: 'static> {
    pre: InstancePre<T>,
    interface: Arc<str>,
    get: GetCtx<T>,
    timeout: Option<std::time::Duration>,
    /// The engine has no asynchronous support: each request runs in a
    /// synchronous store on a thread of its own.
    blocking: bool,
    /// What runs after each request's call, before its store goes.
    finish: Option<Finish<T>>,
}

/// A hook run on a request's store once its guest is done.
type Finish<T> = Arc<dyn Fn(&mut Store<T>) -> Result<()> + Send + Sync>;

/// `handle`'s parameters: the request and the response's outparam.
fn params(request: u32, outparam: u32) -> [Val; 2] {
    [
        own::<res::IncomingRequest>(request),
        own::<res::ResponseOutparam>(outparam),
    ]
}

impl<T: 'static> Clone for ProxyPre<T> {
    fn clone(&self) -> Self {
        ProxyPre {
            pre: self.pre.clone(),
            interface: self.interface.clone(),
            get: self.get,
            timeout: self.timeout,
            blocking: self.blocking,
            finish: self.finish.clone(),
        }
    }
}

/// A response to a request the guest could not answer (it trapped, or
/// set no response): a 500 whose body says why.
pub fn error_response(why: &str) -> hyper::Response<ChannelBody> {
    let mut r = hyper::Response::new(ChannelBody::of(format!("{why}\n").into_bytes()));
    *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
    r
}

impl<T: Send + 'static> ProxyPre<T> {
    /// `pre`'s component must export `wasi:http/incoming-handler`; `get`
    /// finds the [`crate::wasi::WasiCtx`] in a store's data.
    pub fn new(pre: InstancePre<T>, get: GetCtx<T>) -> Result<ProxyPre<T>> {
        let interface = incoming_handler_interface(pre.component().exports())
            .ok_or_else(|| {
                Error::Usage(
                    "the component exports no `wasi:http/incoming-handler` interface: it is \
                     not an HTTP proxy (`walmart serve` runs those; `walmart run` runs commands)"
                        .into(),
                )
            })?
            .into();
        Ok(ProxyPre {
            blocking: !pre.component().engine().config().async_support,
            pre,
            interface,
            get,
            timeout: None,
            finish: None,
        })
    }

    /// Runs `finish` on each request's store once its guest is done (an
    /// attested store's last checks: `Store::finish_attestation`); its
    /// error is the request's, as a trap's.
    pub fn set_finish(
        &mut self,
        finish: impl Fn(&mut Store<T>) -> Result<()> + Send + Sync + 'static,
    ) {
        self.finish = Some(Arc::new(finish));
    }

    /// How long a request's guest may take, waiting included (an epoch
    /// deadline ends only Wasm that runs): past it the call is cancelled
    /// and its store dropped, so a request whose response has not begun
    /// gets a 500 and one whose body has is cut off. `None`: no limit.
    pub fn set_timeout(&mut self, timeout: Option<std::time::Duration>) {
        self.timeout = timeout;
    }

    /// Handles `req` in a new instance in `store` (the store goes with
    /// the instance, until its response is written): the response, whose
    /// body comes as the guest writes it. A guest that traps or sets no
    /// response gives a 500, and its error goes to `log`.
    pub async fn handle<B>(
        &self,
        mut store: Store<T>,
        req: hyper::Request<B>,
        log: impl FnOnce(&Error) + Send + 'static,
    ) -> hyper::Response<ChannelBody>
    where
        B: Body<Data = Bytes> + Send + Unpin + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send,
    {
        let (parts, body) = req.into_parts();
        let ctx = (self.get)(store.data_mut());
        let (guest_end, outcome) = match incoming(body, None) {
            Ok(b) => b,
            Err(e) => {
                return error_response(&format!("walmart: a request body's socket pair: {e}"))
            }
        };
        let fd = match insert_incoming(ctx, guest_end) {
            Ok(fd) => fd,
            Err(e) => return error_response(&format!("walmart: {e}")),
        };
        ctx.p2.http_in.insert(fd, outcome.clone());
        let authority = parts.uri.authority().map(|a| a.to_string()).or_else(|| {
            parts
                .headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        });
        let head = Head {
            method: parts.method.clone(),
            scheme: Some(
                parts
                    .uri
                    .scheme()
                    .cloned()
                    .unwrap_or(http::uri::Scheme::HTTP),
            ),
            authority,
            path_with_query: Some(
                parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_else(|| "/".into()),
            ),
            status: 0,
            headers: super::fields::from_network(&parts.headers),
        };
        let request = push(
            ctx,
            HttpEntry::IncomingRequest(Box::new(IncomingHead {
                head,
                body: Some((fd, outcome)),
            })),
        );
        let (tx, rx) = tokio::sync::oneshot::channel::<Outcome>();
        let outparam = push(ctx, HttpEntry::ResponseOutparam(Some(tx)));
        let this = self.clone();
        // The guest runs on the caller's runtime; its body's tasks on
        // `runtime()`, so a guest holding a thread never holds theirs.
        // Set before the store (and the response-outparam in it) goes.
        let failed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let fail = failed.clone();
        // After the guest: the finish hook, then the error (if any) to the
        // log and the flag, before the store (and the outparam in it) goes.
        let done = move |this: &ProxyPre<T>, store: &mut Store<T>, r: Result<()>| {
            let r = r.and_then(|()| this.finish.as_ref().map_or(Ok(()), |f| f(store)));
            if let Err(e) = &r {
                fail.store(true, std::sync::atomic::Ordering::Release);
                log(e);
            }
        };
        if this.blocking {
            // A synchronous store (an attested one may not suspend): its
            // waits block a thread of the runtime's blocking pool, not a
            // worker some other task needs.
            tokio::task::spawn_blocking(move || {
                let r = this.call_blocking(&mut store, request, outparam);
                done(&this, &mut store, r);
            });
        } else {
            tokio::runtime::Handle::current().spawn(async move {
                let r = match this.timeout {
                    Some(limit) => {
                        tokio::time::timeout(limit, this.call(&mut store, request, outparam))
                            .await
                            .unwrap_or_else(|_| {
                                Err(Error::msg(format!(
                                    "the request ran past its timeout of {limit:?}"
                                )))
                            })
                    }
                    None => this.call(&mut store, request, outparam).await,
                };
                done(&this, &mut store, r);
            });
        }
        match rx.await {
            Ok(Ok(OutgoingHead { head, body, .. })) => {
                let Ok(size) = super::fields::content_length(&head.headers) else {
                    return error_response("the component's response has a bad content-length");
                };
                let headers = match header_map(&head.headers) {
                    Ok(h) => h,
                    Err(e) => return error_response(&format!("the component's response: {e}")),
                };
                let mut resp = hyper::Response::new(ChannelBody::from_guest(body, size));
                *resp.status_mut() =
                    http::StatusCode::from_u16(head.status).unwrap_or(http::StatusCode::OK);
                *resp.headers_mut() = headers;
                resp
            }
            Ok(Err(code)) => error_response(&format!(
                "the component answered with an error: {}",
                describe(&code)
            )),
            // The guest dropped its response-outparam, or its store went
            // (it failed: what it said is in the log).
            Err(_) if failed.load(std::sync::atomic::Ordering::Acquire) => {
                error_response("the component failed (the server's log says how)")
            }
            Err(_) => error_response("the component set no response"),
        }
    }

    /// The instance's `handle` export.
    fn handle_of(
        &self,
        store: &mut Store<T>,
        instance: &crate::component::Instance,
    ) -> Result<crate::component::Func> {
        let iface = instance
            .get_export_index(&mut *store, None, &self.interface)
            .ok_or_else(|| Error::Usage(format!("no export `{}`", self.interface)))?;
        instance
            .get_export_index(&mut *store, Some(&iface), "handle")
            .and_then(|i| instance.get_func(&mut *store, &i))
            .ok_or_else(|| {
                Error::Usage(format!("`{}` exports no function `handle`", self.interface))
            })
    }

    async fn call(&self, store: &mut Store<T>, request: u32, outparam: u32) -> Result<()> {
        let instance = self.pre.instantiate_async(&mut *store).await?;
        let handle = self.handle_of(store, &instance)?;
        handle
            .call_async(&mut *store, &params(request, outparam), &mut [])
            .await
    }

    /// [`ProxyPre::call`] in a synchronous store, on a thread it may
    /// block.
    fn call_blocking(&self, store: &mut Store<T>, request: u32, outparam: u32) -> Result<()> {
        let instance = self.pre.instantiate(&mut *store)?;
        let handle = self.handle_of(store, &instance)?;
        handle.call(&mut *store, &params(request, outparam), &mut [])
    }
}
