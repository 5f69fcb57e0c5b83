//! `wasi:http` for components: a real proxy component (Python, packaged by
//! componentize-py from `tests/fixtures/python/http_app.py` by
//! `scripts/build-python-component.sh`) answering requests through the
//! embedding API (`ProxyPre`) and through `walmart serve`, its bodies
//! streamed both ways, its outgoing requests under the network policy.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use walmart::component::wasi::http as whttp;
use walmart::component::{self, Component};
use walmart::wasi::WasiCtx;
use walmart::{Config, Engine, Store};
use whttp::server::ProxyPre;

mod python_fixture;

/// The component, built if need be.
fn component_path() -> PathBuf {
    python_fixture::component("http_app")
}

/// One engine and one compile for the whole file.
fn proxy() -> &'static (Engine, ProxyPre<WasiCtx>) {
    static PROXY: OnceLock<(Engine, ProxyPre<WasiCtx>)> = OnceLock::new();
    PROXY.get_or_init(|| {
        let mut config = Config::new();
        config.async_support(true);
        let engine = Engine::new(&config).unwrap();
        let component = Component::from_file(&engine, component_path()).unwrap();
        let mut linker = component::Linker::<WasiCtx>::new(&engine);
        component::wasi::add_to_linker(&mut linker, |c| c).unwrap();
        whttp::add_to_linker(&mut linker, |c| c).unwrap();
        let pre = linker.instantiate_pre(&component).unwrap();
        (engine.clone(), ProxyPre::new(pre, |c| c).unwrap())
    })
}

/// A response as the test reads it.
struct Got {
    status: u16,
    headers: http::HeaderMap,
    body: Vec<u8>,
    /// What the server logged of the guest's failure.
    log: Option<String>,
}

/// `method path` with `body`, answered in a store of `ctx`.
fn request_in(ctx: WasiCtx, method: &str, path: &str, body: &[u8]) -> Got {
    let (engine, proxy) = proxy();
    let req = http::Request::builder()
        .method(method)
        .uri(format!("http://example.test{path}"))
        .header("host", "example.test")
        .header("x-test", "yes")
        .body(Full::new(Bytes::copy_from_slice(body)))
        .unwrap();
    let log = Arc::new(Mutex::new(None));
    let logged = log.clone();
    let store = Store::new(engine, ctx);
    // As an embedder does: guests on a runtime of the caller's, bodies on
    // walmart's.
    static GUESTS: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    let guests = GUESTS.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .unwrap()
    });
    guests.block_on(async move {
        let resp = tokio::time::timeout(
            Duration::from_secs(120),
            proxy.handle(store, req, move |e| {
                *logged.lock().unwrap() = Some(e.to_string())
            }),
        )
        .await
        .expect("an answer within two minutes");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Got {
            status,
            headers,
            body,
            log: log.lock().unwrap().take(),
        }
    })
}

fn request(method: &str, path: &str, body: &[u8]) -> Got {
    request_in(WasiCtx::new(), method, path, body)
}

fn text(g: &Got) -> String {
    String::from_utf8_lossy(&g.body).into_owned()
}

#[test]
fn a_proxy_component_answers_requests() {
    let g = request("GET", "/hello", b"");
    assert_eq!(g.status, 200);
    assert_eq!(g.headers["content-type"], "text/plain");
    assert_eq!(text(&g), "hello from python\n");

    let g = request("GET", "/headers", b"");
    assert_eq!(
        text(&g),
        "method=GET path=/headers authority=example.test scheme=HTTP\n\
         x-test: yes\n"
    );
    assert_eq!(request("GET", "/status/418", b"").status, 418);
    let g = request("GET", "/nowhere", b"");
    assert_eq!((g.status, text(&g).as_str()), (404, "not found\n"));
}

#[test]
fn bodies_stream_both_ways() {
    // Several socket buffers' worth each way.
    let data: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let g = request("POST", "/echo", &data);
    assert_eq!(g.status, 200);
    assert_eq!(g.headers["x-echo-length"], data.len().to_string().as_str());
    assert!(g.body == data, "the echoed body differs");

    // Non-blocking splices asking for a megabyte: each moves what the
    // response's stream permits.
    let g = request("POST", "/splice-echo", &data);
    assert_eq!(g.status, 200);
    assert!(
        g.body == data,
        "the spliced body differs ({} bytes)",
        g.body.len()
    );

    let g = request("GET", "/big/2500000", b"");
    assert_eq!(g.body.len(), 2_500_000);
    assert!(g
        .body
        .iter()
        .enumerate()
        .all(|(i, &b)| b == (i % 251) as u8));
    // Written without blocking and dropped with bytes unsent, several
    // at once: all of each arrives.
    let handles: Vec<_> = (0..3)
        .map(|_| std::thread::spawn(|| request("GET", "/stream/3000000", b"")))
        .collect();
    for h in handles {
        let g = h.join().unwrap();
        assert_eq!(g.body.len(), 3_000_000);
        assert!(g
            .body
            .iter()
            .enumerate()
            .all(|(i, &b)| b == (i % 251) as u8));
    }
    // An empty body is one too.
    let g = request("POST", "/echo", b"");
    assert_eq!((g.status, g.body.len()), (200, 0));
}

#[test]
fn fields_keep_wasi_http_rules() {
    let g = request("GET", "/fields", b"");
    assert_eq!(
        text(&g),
        "from-list forbidden: err HeaderError_Forbidden\n\
         from-list bad name: err HeaderError_InvalidSyntax\n\
         from-list bad value: err HeaderError_InvalidSyntax\n\
         get a: [b'1', b'3']\n\
         get b: [b'2']\n\
         has A: True has z: False\n\
         after set: [('b', b'2'), ('a', b'9'), ('a', b'8')]\n\
         append forbidden: err HeaderError_Forbidden\n\
         append bad value: err HeaderError_InvalidSyntax\n\
         clone: [('a', b'9'), ('a', b'8'), ('c', b'4')] original: [('a', b'9'), ('a', b'8')]\n\
         incoming headers append: err HeaderError_Immutable\n\
         response headers set: err HeaderError_Immutable\n\
         response headers: [('a', b'9'), ('a', b'8')]\n\
         status 99: err NoneType\n\
         second content-length: err HeaderError_InvalidSyntax\n\
         two content-lengths: err HeaderError_InvalidSyntax\n\
         content-length abc: err HeaderError_InvalidSyntax\n\
         from-list two content-lengths: err HeaderError_InvalidSyntax\n\
         status: 200\n"
    );
}

#[test]
fn a_guest_that_traps_gets_a_500_and_the_next_request_is_served() {
    // Python's own report of the exception goes to the guest's standard
    // error: kept here, not in the test's output.
    let stderr = walmart::wasi::MemoryOutputPipe::new(1 << 16);
    let mut ctx = WasiCtx::new();
    ctx.stderr(stderr.clone());
    let g = request_in(ctx, "GET", "/trap", b"");
    assert!(String::from_utf8_lossy(&stderr.contents()).contains("RuntimeError: trap requested"));
    assert_eq!(g.status, 500);
    assert_eq!(
        text(&g),
        "the component failed (the server's log says how)\n"
    );
    assert!(g.log.is_some_and(|l| l.contains("unreachable")));
    assert_eq!(request("GET", "/hello", b"").status, 200);

    // Fields past the size limit are a trap, as in wasmtime.
    let g = request("GET", "/hugefields", b"");
    assert_eq!(g.status, 500);
    assert!(
        g.log
            .as_deref()
            .is_some_and(|l| l.contains("past the limit of 131072")),
        "{:?}",
        g.log
    );
}

/// A host server answering each request with `hello`, and what it was
/// sent (the request's head and body).
fn upstream() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            conn.set_read_timeout(Some(Duration::from_secs(30)))
                .unwrap();
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut head = String::new();
            let mut length = 0usize;
            let mut chunked = false;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                chunked |= lower.starts_with("transfer-encoding:") && lower.contains("chunked");
                head.push_str(&line);
            }
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            // A body of unknown length comes in chunks: size in hex, data.
            while chunked {
                let mut size = String::new();
                reader.read_line(&mut size).unwrap();
                let n = usize::from_str_radix(size.trim(), 16).unwrap();
                let mut chunk = vec![0u8; n + 2];
                reader.read_exact(&mut chunk).unwrap();
                body.extend_from_slice(&chunk[..n]);
                chunked = n > 0;
            }
            record
                .lock()
                .unwrap()
                .push(format!("{head}\n{}", String::from_utf8_lossy(&body)));
            let _ = conn.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello",
            );
        }
    });
    (port, seen)
}

#[test]
fn outgoing_requests_reach_only_what_the_policy_allows() {
    let (port, seen) = upstream();
    let path = format!("/fetch?url=http://127.0.0.1:{port}/up?x=1");

    // A context as it comes allows no address.
    let g = request("GET", &path, b"");
    assert_eq!(
        (g.status, text(&g).as_str()),
        (502, "error ErrorCode_HttpRequestDenied()\n")
    );
    assert!(seen.lock().unwrap().is_empty());

    let mut any = WasiCtx::new();
    any.allow_http_outgoing(true);
    let g = request_in(any, "GET", &path, b"");
    assert_eq!((g.status, text(&g).as_str()), (200, "upstream 200\nhello"));
    let first = seen.lock().unwrap()[0].clone();
    assert!(first.starts_with("GET /up?x=1 HTTP/1.1\r\n"), "{first}");
    assert!(
        first.contains(&format!("host: 127.0.0.1:{port}")),
        "{first}"
    );

    // The socket policy decides when HTTP is not allowed everywhere: here
    // the upstream's port and no other.
    let mut some = WasiCtx::new();
    some.socket_addr_check(move |a, _| a.port() == port);
    let g = request_in(some, "POST", &path, b"forwarded body");
    assert_eq!((g.status, text(&g).as_str()), (200, "upstream 200\nhello"));
    let second = seen.lock().unwrap()[1].clone();
    assert!(second.starts_with("POST /up?x=1 HTTP/1.1\r\n"), "{second}");
    assert!(second.ends_with("\nforwarded body"), "{second}");

    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut any = WasiCtx::new();
    any.allow_http_outgoing(true);
    let g = request_in(
        any,
        "GET",
        &format!("/fetch?url=http://127.0.0.1:{closed_port}/"),
        b"",
    );
    assert_eq!(
        (g.status, text(&g).as_str()),
        (502, "error ErrorCode_ConnectionRefused()\n")
    );
}

/// `walmart serve` on a port of its choosing: the child and its address.
fn serve(args: &[&str]) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_walmart"))
        .arg("serve")
        .args(["--addr", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("walmart runs");
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("walmart serve: listening on http://")
        .and_then(|a| a.strip_suffix('/'))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    (child, addr)
}

/// A raw HTTP/1.1 exchange: the whole response as text.
fn get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn walmart_serve_answers_over_the_network() {
    let wasm = component_path();
    let cache = std::env::temp_dir().join(format!("walmart-serve-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let (mut child, addr) = serve(&[
        "--cache-dir",
        cache.to_str().unwrap(),
        wasm.to_str().unwrap(),
    ]);
    let hello = get(&addr, "/hello");
    let headers = get(&addr, "/headers");
    let fetched = get(&addr, &format!("/fetch?url=http://{addr}/hello"));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(hello.starts_with("HTTP/1.1 200 OK\r\n"), "{hello}");
    assert!(
        hello.ends_with("hello from python\n\r\n0\r\n\r\n"),
        "{hello}"
    );
    assert!(
        headers.contains(&format!(
            "method=GET path=/headers authority={addr} scheme=HTTP\n"
        )),
        "{headers}"
    );
    // `walmart serve` lets requests out, as `wasmtime serve`: here to
    // itself.
    assert!(
        fetched.starts_with("HTTP/1.1 200")
            && fetched.contains("upstream 200\n")
            && fetched.contains("hello from python\n"),
        "{fetched}"
    );
    // The compiled component was kept for the next start (`--cache-dir`):
    // which then answers from it.
    let kept: Vec<_> = std::fs::read_dir(&cache).unwrap().flatten().collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let (mut child, addr) = serve(&[
        "--cache-dir",
        cache.to_str().unwrap(),
        wasm.to_str().unwrap(),
    ]);
    let again = get(&addr, "/hello");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        again.ends_with("hello from python\n\r\n0\r\n\r\n"),
        "{again}"
    );
    std::fs::remove_dir_all(&cache).unwrap();
}

#[test]
fn walmart_serve_bounds_each_request_with_w() {
    let wasm = component_path();
    let (mut child, addr) = serve(&["-W", "timeout=300ms", wasm.to_str().unwrap()]);
    let started = std::time::Instant::now();
    let spun = get(&addr, "/spin");
    // Waiting counts too, not only running Wasm.
    let slept = get(&addr, "/sleep");
    let took = started.elapsed();
    let hello = get(&addr, "/hello");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(spun.starts_with("HTTP/1.1 500"), "{spun}");
    assert!(slept.starts_with("HTTP/1.1 500"), "{slept}");
    assert!(took < Duration::from_secs(20), "{took:?}");
    assert!(hello.contains("hello from python"), "{hello}");
    let out = Command::new(env!("CARGO_BIN_EXE_walmart"))
        .args(["serve", "-W", "timeout=soon", wasm.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("-W timeout=soon"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn walmart_serve_attests_each_request() {
    let wasm = component_path();
    let (mut child, addr) = serve(&["--attest", "fine", wasm.to_str().unwrap()]);
    let hello = get(&addr, "/hello");
    // Waits (for the body, for its own answer) in a store that may not
    // suspend: on a thread of the request's own, no worker held.
    let fetched = get(&addr, &format!("/fetch?url=http://{addr}/hello"));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        hello.ends_with("hello from python\n\r\n0\r\n\r\n"),
        "{hello}"
    );
    // Chunked as the guest wrote it: its two writes, each a chunk or not.
    assert!(
        fetched.starts_with("HTTP/1.1 200")
            && fetched.contains("upstream 200\n")
            && fetched.contains("hello from python\n"),
        "{fetched}"
    );
}

#[test]
fn walmart_serve_refuses_what_is_not_a_proxy() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_walmart"))
            .arg("serve")
            .args(args)
            .output()
            .unwrap()
    };
    let dir = std::env::temp_dir().join(format!("walmart-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let module = dir.join("m.wat");
    std::fs::write(&module, "(module)").unwrap();
    let command = dir.join("c.wat");
    std::fs::write(&command, "(component)").unwrap();
    let out = run(&[module.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a component"));
    let out = run(&[command.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("exports no `wasi:http/incoming-handler`"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // What the policy cannot watch is said at start: the Python proxy's
    // allocator is not one the tag monitor can find.
    let wasm = component_path();
    let out = run(&["--attest", "tags", wasm.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("allocator"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["-S", "nonsense", command.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("-S nonsense: unknown option"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `GET path` whose guest says it writes a body of another length than
/// its content-length: the body's error as the client sees it, and what
/// the guest printed (its calls' results).
fn wrong_length(path: &str, lines: usize) -> (String, String) {
    let (engine, proxy) = proxy();
    let req = http::Request::builder()
        .uri(format!("http://example.test{path}"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let stdout = walmart::wasi::MemoryOutputPipe::new(1 << 12);
    let mut ctx = WasiCtx::new();
    ctx.stdout(stdout.clone());
    let store = Store::new(engine, ctx);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_time()
        .build()
        .unwrap();
    let client = rt.block_on(async move {
        let resp = proxy.handle(store, req, |_| {}).await;
        let e = resp.into_body().collect().await.expect_err("a failed body");
        e.to_string()
    });
    // The guest runs on after its response's head: waited for here.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let said = || String::from_utf8_lossy(&stdout.contents()).into_owned();
    while said().lines().count() < lines && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    (client, said())
}

#[test]
fn a_body_of_another_length_than_its_content_length_fails() {
    // Shorter: the body is cut off, and the guest's finish fails.
    let (client, said) = wrong_length("/badlength", 1);
    assert!(
        client.contains("5 bytes where its content-length says 10"),
        "{client}"
    );
    assert_eq!(
        said,
        "finish: err ErrorCode_HttpResponseBodySize(value=5)\n"
    );
    // Longer: the write that would pass it fails, saying the size.
    let (_, said) = wrong_length("/overlength", 2);
    assert_eq!(
        said,
        "write: err ErrorCode_HttpResponseBodySize(value=10)\n\
         finish: err ErrorCode_HttpResponseBodySize(value=0)\n"
    );
}

/// An `https` server of the test's own (a certificate for `localhost`
/// it made itself), answering each request with `secret`: its port and
/// certificate.
fn tls_upstream() -> (u16, Vec<u8>) {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let cert = made.cert.der().to_vec();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(made.key_pair.serialize_der().into());
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.clone().into()], key)
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            conn.set_read_timeout(Some(Duration::from_secs(30)))
                .unwrap();
            let tls = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut s = rustls::StreamOwned::new(tls, conn);
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                match s.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    // A client that refused the certificate.
                    _ => break,
                }
            }
            if head.ends_with(b"\r\n\r\n") {
                let _ = s.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\nsecret",
                );
                s.conn.send_close_notify();
                let _ = s.flush();
            }
        }
    });
    (port, cert)
}

#[test]
fn https_requests_check_the_server_certificate() {
    let (port, cert) = tls_upstream();
    let path = format!("/fetch?url=https://localhost:{port}/secure");
    let mut trusting = WasiCtx::new();
    trusting
        .allow_http_outgoing(true)
        .add_http_root_certificate(cert);
    let g = request_in(trusting, "GET", &path, b"");
    assert_eq!((g.status, text(&g).as_str()), (200, "upstream 200\nsecret"));

    // Mozilla's roots alone do not vouch for it.
    let mut plain = WasiCtx::new();
    plain.allow_http_outgoing(true);
    let g = request_in(plain, "GET", &path, b"");
    assert_eq!(
        (g.status, text(&g).as_str()),
        (502, "error ErrorCode_TlsCertificateError()\n")
    );
}

#[test]
fn a_response_body_cut_short_fails_with_its_error_code() {
    // A server that promises 100 bytes, sends 5 and goes.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut head = [0u8; 4096];
            let _ = conn.read(&mut head);
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nshort");
        }
    });
    let mut any = WasiCtx::new();
    any.allow_http_outgoing(true);
    let g = request_in(
        any,
        "GET",
        &format!("/fetch?url=http://127.0.0.1:{port}/"),
        b"",
    );
    // The guest's read of the body failed, and `http-error-code` told it
    // why (not a whole body of 5 bytes).
    assert_eq!(
        (g.status, text(&g).as_str()),
        (502, "body error ErrorCode_HttpResponseIncomplete()\n")
    );
}

/// A request body of these frames (data, then trailers).
struct Frames(std::collections::VecDeque<hyper::body::Frame<Bytes>>);

impl hyper::body::Body for Frames {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(self.0.pop_front().map(Ok))
    }
}

#[test]
fn trailers_cross_both_ways() {
    use hyper::body::Frame;
    let (engine, proxy) = proxy();
    let mut trailers = http::HeaderMap::new();
    trailers.insert("x-checksum", "abc123".parse().unwrap());
    let body = Frames(
        [
            Frame::data(Bytes::from_static(b"hello ")),
            Frame::data(Bytes::from_static(b"world")),
            Frame::trailers(trailers),
        ]
        .into(),
    );
    let req = http::Request::builder()
        .method("POST")
        .uri("http://example.test/trailers")
        .body(body)
        .unwrap();
    let store = Store::new(engine, WasiCtx::new());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async move {
        let resp = proxy.handle(store, req, |e| panic!("{e}")).await;
        assert_eq!(resp.status(), 200);
        let got = resp.into_body().collect().await.unwrap();
        let sent = got.trailers().cloned().expect("the response's trailers");
        assert_eq!(sent["x-checksum"], "abc123");
        assert_eq!(sent["x-done"], "yes");
        assert_eq!(&got.to_bytes()[..], b"11 bytes\nx-checksum: abc123\n");
    });
}

/// An attested proxy (`coarse`, so synchronous stores: `ProxyPre` runs
/// each request on a thread of its own): `GET /echo`-like exchanges with
/// an honest host, and with a host that tampers with the guest's memory
/// at its calls (injected), which the attestation finds. Each request's
/// instance starts from the component's memory image: its pages are
/// taken from the image at the first snapshot, and the heap CPython
/// left in it (dlmalloc's, with small bins dlmalloc emptied) is walked,
/// its state found.
#[test]
fn an_attested_proxy_answers_and_finds_a_tampering_host() {
    use walmart::attest::{AttestOptions, OnDetect, Policy};
    let mut config = Config::new();
    config.attest(Policy::Coarse);
    let engine = Engine::new(&config).unwrap();
    let component = Component::from_file(&engine, component_path()).unwrap();
    let mut linker = component::Linker::<WasiCtx>::new(&engine);
    component::wasi::add_to_linker(&mut linker, |c| c).unwrap();
    whttp::add_to_linker(&mut linker, |c| c).unwrap();
    let mut proxy = ProxyPre::new(linker.instantiate_pre(&component).unwrap(), |c| c).unwrap();
    let stats = Arc::new(Mutex::new(Vec::new()));
    let kept = stats.clone();
    proxy.set_finish(move |store| {
        let s = store.finish_attestation()?;
        kept.lock().unwrap().extend(s);
        Ok(())
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_time()
        .build()
        .unwrap();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 241) as u8).collect();
    let exchange = |tamper: bool| {
        let mut store = Store::new(&engine, WasiCtx::new());
        let mut options = AttestOptions::new().on_detect(OnDetect::Trap);
        if tamper {
            options = options.inject_host_tamper(1.0, 11);
        }
        store.configure_attestation(options).unwrap();
        let req = http::Request::builder()
            .method("POST")
            .uri("http://example.test/echo")
            .body(Full::new(Bytes::from(data.clone())))
            .unwrap();
        let log = Arc::new(Mutex::new(None));
        let logged = log.clone();
        rt.block_on(async {
            let resp = proxy
                .handle(store, req, move |e| {
                    *logged.lock().unwrap() = Some(e.to_string())
                })
                .await;
            let status = resp.status().as_u16();
            let body = resp
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes().to_vec());
            (status, body, log.lock().unwrap().clone())
        })
    };
    for _ in 0..2 {
        let (status, body, log) = exchange(false);
        assert_eq!(status, 200, "{log:?}");
        assert!(body.unwrap() == data, "the echoed body differs");
        assert_eq!(log, None);
    }
    // Each request's last checks run once its guest has returned, which
    // may be after the client has its response.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while stats.lock().unwrap().len() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(stats.lock().unwrap().len(), 2);
    for s in stats.lock().unwrap().iter() {
        assert_eq!(s.detections, 0, "{s:?}");
        // Thousands of the image's pages, taken without being read.
        assert!(s.pages_input > 1000, "{s:?}");
        assert!(s.heap_walked && s.heap_chunks > 1000, "{s:?}");
        assert!(s.heap_state.is_some(), "dlmalloc's state not found: {s:?}");
    }
    // Tampered with at its first host call: stopped before it answered.
    let (status, _, log) = exchange(true);
    assert_eq!(status, 500);
    assert!(
        log.as_deref().is_some_and(|l| l.contains("attestation")),
        "{log:?}"
    );
}
