//! A real `wasi:http` proxy side by side: Python (componentize-py's
//! CPython 3.14, `tests/fixtures/python/http_app.py`, built by
//! `scripts/build-python-component.sh`), each request in a new instance
//! as `walmart serve` and `wasmtime serve` run it, in process (no
//! network: the hyper request handed to the proxy, the response's body
//! collected): `GET /hello`, `POST /echo` of 1 MiB, `GET /big/4194304`.
//!
//! `cargo run --release -p walmart-benches --bin http_proxy [--features wasmtime] [-- --runs N]`
//!
//! Prints medians of `--runs` (default 9), milliseconds a request, for
//! walmart and, with the `wasmtime` feature, for wasmtime.

use std::path::PathBuf;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use walmart_benches::{die, median, runs_argument};

fn component_path() -> PathBuf {
    walmart_benches::python_component("http_app")
}

/// (name, method, path, body, the response body's length).
fn cases() -> Vec<(&'static str, &'static str, &'static str, Vec<u8>, usize)> {
    let mib: Vec<u8> = (0..1 << 20).map(|i| (i % 253) as u8).collect();
    vec![
        ("GET /hello", "GET", "/hello", Vec::new(), 18),
        ("POST /echo 1 MiB", "POST", "/echo", mib, 1 << 20),
        ("GET /big 4 MiB", "GET", "/big/4194304", Vec::new(), 4 << 20),
    ]
}

fn request(method: &str, path: &str, body: &[u8]) -> http::Request<Full<Bytes>> {
    http::Request::builder()
        .method(method)
        .uri(format!("http://localhost{path}"))
        .header("host", "localhost")
        .body(Full::new(Bytes::copy_from_slice(body)))
        .unwrap()
}

/// The runtime the guests run on (two workers, as this machine's cores).
fn guest_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| die(&e.to_string()))
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// walmart's times under `policy` (`off`: the asynchronous server;
/// attested: synchronous stores on the blocking pool, as `walmart serve
/// --attest` runs them).
fn walmart(runs: usize, bytes: &[u8], policy: walmart::attest::Policy) -> Vec<f64> {
    use walmart::attest::Policy;
    use walmart::component::wasi::http as whttp;
    use walmart::component::{Component, Linker};
    use walmart::wasi::WasiCtx;
    use walmart::{Config, Engine, Store};
    let mut config = Config::new();
    config.async_support(policy == Policy::Off);
    config.attest(policy);
    let engine = Engine::new(&config).unwrap_or_else(|e| die(&e.to_string()));
    let component = Component::new(&engine, bytes).unwrap_or_else(|e| die(&e.to_string()));
    let mut linker = Linker::<WasiCtx>::new(&engine);
    walmart::component::wasi::add_to_linker(&mut linker, |c| c).unwrap();
    whttp::add_to_linker(&mut linker, |c| c).unwrap();
    let pre = linker.instantiate_pre(&component).unwrap();
    let mut proxy = whttp::server::ProxyPre::new(pre, |c| c).unwrap();
    if policy != Policy::Off {
        proxy.set_finish(|store| store.finish_attestation().map(|_| ()));
    }
    // Guests on a runtime of the caller's, as `walmart serve` runs them;
    // bodies on walmart's.
    let rt = guest_runtime();
    cases()
        .into_iter()
        .map(|(name, method, path, body, len)| {
            ms(median(runs, || {
                let mut store = Store::new(&engine, WasiCtx::new());
                if policy != Policy::Off {
                    store
                        .configure_attestation(walmart::attest::AttestOptions::new())
                        .unwrap_or_else(|e| die(&e.to_string()));
                }
                let req = request(method, path, &body);
                let got = rt.block_on(async {
                    let resp = proxy.handle(store, req, |e| die(&e.to_string())).await;
                    resp.into_body().collect().await.unwrap().to_bytes()
                });
                assert_eq!(got.len(), len, "{name}");
            }))
        })
        .collect()
}

#[cfg(feature = "wasmtime")]
struct HttpState {
    p2: walmart_benches::WasmtimeP2,
    http: wasmtime_wasi_http::WasiHttpCtx,
}

#[cfg(feature = "wasmtime")]
impl wasmtime_wasi::WasiView for HttpState {
    fn ctx(&mut self) -> wasmtime_wasi::WasiCtxView<'_> {
        self.p2.ctx()
    }
}

#[cfg(feature = "wasmtime")]
impl wasmtime_wasi_http::WasiHttpView for HttpState {
    fn http(&mut self) -> wasmtime_wasi_http::WasiHttpCtxView<'_> {
        wasmtime_wasi_http::WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.p2.table,
            hooks: Default::default(),
        }
    }
}

#[cfg(feature = "wasmtime")]
fn wasmtime(runs: usize, bytes: &[u8]) -> Vec<f64> {
    use wasmtime::component::{Component, Linker};
    use wasmtime::{Config, Engine, Store};
    use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
    use wasmtime_wasi_http::p2::bindings::ProxyPre;
    use wasmtime_wasi_http::WasiHttpView;
    let engine = Engine::new(&Config::new()).unwrap_or_else(|e| die(&e.to_string()));
    let component = Component::new(&engine, bytes).unwrap_or_else(|e| die(&e.to_string()));
    let mut linker = Linker::<HttpState>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).unwrap();
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).unwrap();
    let pre = ProxyPre::new(linker.instantiate_pre(&component).unwrap()).unwrap();
    let rt = guest_runtime();
    cases()
        .into_iter()
        .map(|(name, method, path, body, len)| {
            ms(median(runs, || {
                let mut store = Store::new(
                    &engine,
                    HttpState {
                        p2: walmart_benches::WasmtimeP2::new(
                            wasmtime_wasi::WasiCtx::builder().build(),
                        ),
                        http: wasmtime_wasi_http::WasiHttpCtx::new(),
                    },
                );
                let req = request(method, path, &body);
                let pre = pre.clone();
                let got = rt.block_on(async move {
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    let req = store
                        .data_mut()
                        .http()
                        .new_incoming_request(Scheme::Http, req)
                        .unwrap();
                    let out = store.data_mut().http().new_response_outparam(tx).unwrap();
                    let task = tokio::spawn(async move {
                        let proxy = pre.instantiate_async(&mut store).await.unwrap();
                        proxy
                            .wasi_http_incoming_handler()
                            .call_handle(&mut store, req, out)
                            .await
                            .unwrap();
                    });
                    let resp = rx.await.unwrap().unwrap();
                    let body = resp.into_body().collect().await.unwrap().to_bytes();
                    task.await.unwrap();
                    body
                });
                assert_eq!(got.len(), len, "{name}");
            }))
        })
        .collect()
}

fn main() {
    use walmart::attest::Policy;
    let runs = runs_argument();
    let bytes = std::fs::read(component_path()).unwrap_or_else(|e| die(&e.to_string()));
    let ours = walmart(runs, &bytes, Policy::Off);
    #[cfg(feature = "wasmtime")]
    let theirs = Some(wasmtime(runs, &bytes));
    #[cfg(not(feature = "wasmtime"))]
    let theirs: Option<Vec<f64>> = None;
    println!(
        "{:<28} {:>10} {:>10} {:>7}",
        "python proxy (ms a request)", "walmart", "wasmtime", "ratio"
    );
    for (i, (name, ..)) in cases().iter().enumerate() {
        match &theirs {
            Some(t) => println!(
                "{name:<28} {:>10.2} {:>10.2} {:>7.2}",
                ours[i],
                t[i],
                ours[i] / t[i]
            ),
            None => println!("{name:<28} {:>10.2}", ours[i]),
        }
    }
    // Attestation's price on a request: each policy against `off`.
    println!(
        "\n{:<28} {:>10} {:>10} {:>10} {:>7} {:>7}",
        "attested (ms a request)", "off", "coarse", "fine", "coarse", "fine"
    );
    let coarse = walmart(runs, &bytes, Policy::Coarse);
    let fine = walmart(runs, &bytes, Policy::Fine);
    for (i, (name, ..)) in cases().iter().enumerate() {
        println!(
            "{name:<28} {:>10.2} {:>10.2} {:>10.2} {:>7.2} {:>7.2}",
            ours[i],
            coarse[i],
            fine[i],
            coarse[i] / ours[i],
            fine[i] / ours[i]
        );
    }
}
