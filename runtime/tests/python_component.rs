//! A real WASI 0.2 program: Python (CPython 3.14 for WASI 0.2), packaged
//! as a command component by componentize-py from
//! `tests/fixtures/python/net_app.py` (`scripts/build-python-component.sh`,
//! which this test runs when the component is missing or older than its
//! source). Such components import `wasi:sockets` whether or not they use
//! the network; here the program also uses it, through Python's `socket`
//! module, against the network policy's switches.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod python_fixture;

/// The component, built if need be.
fn component() -> PathBuf {
    python_fixture::component("net_app")
}

/// `walmart ARGS` with `input` on standard input, killed (and the test
/// failed) after two minutes: a regression hangs no CI run.
fn walmart(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_walmart"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("walmart runs");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("walmart {args:?} ran for two minutes");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// A server of the host's on a free port that takes one connection and
/// runs `serve` on it; `None` where no guest came within a minute.
fn host_server(
    serve: impl FnOnce(TcpStream) -> Vec<u8> + Send + 'static,
) -> (String, std::thread::JoinHandle<Option<Vec<u8>>>) {
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port().to_string();
    server.set_nonblocking(true).unwrap();
    let served = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match server.accept() {
                Ok((conn, _)) => {
                    conn.set_nonblocking(false).unwrap();
                    conn.set_read_timeout(Some(Duration::from_secs(60)))
                        .unwrap();
                    return Some(serve(conn));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if Instant::now() > deadline {
                        return None;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => panic!("accept: {e}"),
            }
        }
    });
    (port, served)
}

#[test]
fn a_python_component_runs_and_uses_the_network_it_is_given() {
    let wasm = component();
    let dir = std::env::temp_dir().join(format!("walmart-python-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/input.txt"), "some data\n").unwrap();
    // Compiled once (18 MB of Wasm), run precompiled.
    let cwasm = dir.join("net_app.cwasm");
    let out = walmart(
        &[
            "compile",
            wasm.to_str().unwrap(),
            "-o",
            cwasm.to_str().unwrap(),
        ],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let data = format!("{}::/data", dir.join("data").display());
    let run = |flags: &[&str], args: &[&str], input: &[u8]| {
        let mut all = vec!["run", "--allow-precompiled", "--dir", &data];
        all.extend_from_slice(flags);
        all.push(cwasm.to_str().unwrap());
        all.extend_from_slice(args);
        let out = walmart(&all, input);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };

    let stdout = run(&["--env", "GREETING=hi"], &["stdlib", "x"], b"a line\n");
    assert_eq!(
        stdout,
        "argv ['stdlib', 'x']\n\
         {\"a\": [1, 2, 3], \"b\": {\"c\": \"xxx\"}}\n\
         943c3eeb252dbd176df2295566dad51a65ddc81165de0df9873a4ae9f7bf09bd\n\
         deflated 29\n\
         env hi\n\
         files ['input.txt']\n\
         read some data\n\
         stdin a line\n"
    );

    // No address without -S inherit-network: Python's PermissionError.
    assert_eq!(run(&[], &["tcp"], b""), "error PermissionError\n");
    assert_eq!(run(&[], &["udp"], b""), "error PermissionError\n");
    let net = ["-S", "inherit-network"];
    assert_eq!(
        run(&net, &["tcp"], b""),
        "peer 127.0.0.1 True\nserver got 10000\nclient got b'pong'\nafter close b''\n"
    );
    assert_eq!(run(&net, &["udp"], b""), "udp got b'hello udp' True\n");
    // asyncio: five clients of its own server at once, over one poll of
    // many sockets (lookups: `open_connection` resolves its host).
    assert_eq!(
        run(
            &["-S", "inherit-network", "-S", "allow-ip-name-lookup"],
            &["asyncio"],
            b""
        ),
        "clients [True, True, True, True, True]\n"
    );
    // The network without TCP.
    assert_eq!(
        run(&["-S", "inherit-network", "-S", "tcp=n"], &["tcp"], b""),
        "error PermissionError\n"
    );
    // Names: refused unless allowed.
    assert_eq!(run(&[], &["lookup"], b""), "error gaierror\n");
    assert_eq!(
        run(&["-S", "allow-ip-name-lookup"], &["lookup"], b""),
        "localhost True\n"
    );

    // A server of the host's: the guest connects, writes and reads.
    let (port, served) = host_server(|mut conn| {
        let mut line = Vec::new();
        let mut byte = [0u8];
        while byte[0] != b'\n' {
            conn.read_exact(&mut byte).unwrap();
            line.push(byte[0]);
        }
        let mut reply = b"echo:".to_vec();
        reply.extend_from_slice(&line);
        conn.write_all(&reply).unwrap();
        line
    });
    let stdout = run(
        &["-S", "inherit-network", "-S", "allow-ip-name-lookup"],
        &["client", &port],
        b"",
    );
    assert_eq!(stdout, "reply b'echo:from the guest\\n'\n");
    assert_eq!(served.join().unwrap().unwrap(), b"from the guest\n");

    // Two MiB sent whole, then the socket closed at once: a reader
    // slower than the sender still gets every byte (what waits unsent
    // when Python closes goes out first).
    let (port, served) = host_server(|mut conn| {
        std::thread::sleep(Duration::from_millis(200));
        let mut all = Vec::new();
        conn.read_to_end(&mut all).unwrap();
        all
    });
    let stdout = run(
        &["-S", "inherit-network", "-S", "allow-ip-name-lookup"],
        &["bulk", &port],
        b"",
    );
    assert_eq!(stdout, "sent 2097152\n");
    let got = served.join().unwrap().expect("the guest connected");
    assert_eq!(got.len(), 256 * 8192);
    assert!(got
        .chunks(256)
        .all(|c| c.iter().enumerate().all(|(i, &b)| b == i as u8)));
    std::fs::remove_dir_all(&dir).unwrap();
}
