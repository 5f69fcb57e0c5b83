//! The C fixtures under `tests/fixtures/c` give the same output, exit
//! status and file effects under `walmart run` as the same sources built
//! natively with the system C compiler, and so do the WASI 0.2 commands
//! made of them (`tests/fixtures/components`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/c")
}

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("walmart-native-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Builds `name.c` natively into `dir`.
fn native(name: &str, dir: &Path) -> PathBuf {
    let exe = dir.join(format!("{name}-native"));
    let status = Command::new("cc")
        .args(["-O2", "-o"])
        .arg(&exe)
        .arg(fixtures().join(format!("{name}.c")))
        .status()
        .expect("a C compiler (`cc`) is needed to build the native side of the comparison");
    assert!(status.success(), "native build of {name}.c failed");
    exe
}

fn run(mut cmd: Command, stdin: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

struct Case<'a> {
    name: &'a str,
    args: &'a [&'a str],
    env: &'a [(&'a str, &'a str)],
    stdin: &'a [u8],
    /// Give the program a `data` directory (cwd-relative natively, a
    /// preopen under walmart) and compare its contents afterwards.
    data_dir: bool,
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries {
            let e = e.unwrap();
            let path = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                for (sub, bytes) in snapshot(&path) {
                    out.push((format!("{name}/{sub}"), bytes));
                }
                out.push((format!("{name}/"), Vec::new()));
            } else {
                out.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn check(case: Case<'_>) {
    let root = scratch(case.name);
    let exe = native(case.name, &root);
    let native_cwd = root.join("native");
    std::fs::create_dir_all(native_cwd.join("data")).unwrap();
    let mut n = Command::new(&exe);
    n.args(case.args).current_dir(&native_cwd).env_clear();
    for (k, v) in case.env {
        n.env(k, v);
    }
    let n = run(n, case.stdin);

    // The module, and the WASI 0.2 command made of it where there is one
    // (tests/fixtures/components): the same output and file effects. A
    // component's exit carries no number (WASI 0.2's `exit` is a
    // `result`): only success or failure is compared for it.
    let component = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/components")
        .join(format!("{}.wasm", case.name));
    let mut forms = vec![("module", fixtures().join(format!("{}.wasm", case.name)))];
    if component.exists() {
        forms.push(("component", component));
    }
    for (form, wasm) in forms {
        let wasm_cwd = root.join(form);
        std::fs::create_dir_all(wasm_cwd.join("data")).unwrap();
        let mut w = Command::new(env!("CARGO_BIN_EXE_walmart"));
        w.arg("run").current_dir(&wasm_cwd);
        for (k, v) in case.env {
            w.arg("--env").arg(format!("{k}={v}"));
        }
        if case.data_dir {
            w.arg("--dir")
                .arg(format!("{}::data", wasm_cwd.join("data").display()));
        }
        w.arg(&wasm).args(case.args);
        let w = run(w, case.stdin);

        let name = format!("{} ({form})", case.name);
        assert_eq!(
            String::from_utf8_lossy(&w.stdout),
            String::from_utf8_lossy(&n.stdout),
            "{name}: stdout differs (walmart stderr: {})",
            String::from_utf8_lossy(&w.stderr)
        );
        assert_eq!(w.stderr, n.stderr, "{name}: stderr differs");
        if form == "module" {
            assert_eq!(
                w.status.code(),
                n.status.code(),
                "{name}: exit status differs"
            );
        } else {
            assert_eq!(
                w.status.success(),
                n.status.success(),
                "{name}: success differs"
            );
        }
        if case.data_dir {
            assert_eq!(
                snapshot(&wasm_cwd.join("data")),
                snapshot(&native_cwd.join("data")),
                "{name}: file effects differ"
            );
        }
    }
    std::fs::remove_dir_all(&root).unwrap();
}

const TEXT: &[u8] = b"the quick brown fox\njumps over\n\n  the lazy dog  \n\xc3\xa9t\xc3\xa9\n";

#[test]
fn hello_args_env_and_exit_status() {
    check(Case {
        name: "hello",
        args: &["7", "two words"],
        env: &[("GREETING", "hi")],
        stdin: b"",
        data_dir: false,
    });
    check(Case {
        name: "hello",
        args: &[],
        env: &[],
        stdin: b"",
        data_dir: false,
    });
}

#[test]
fn stdin_processing() {
    check(Case {
        name: "wc",
        args: &[],
        env: &[],
        stdin: TEXT,
        data_dir: false,
    });
    // No input: the program's own failure status comes through.
    check(Case {
        name: "wc",
        args: &[],
        env: &[],
        stdin: b"",
        data_dir: false,
    });
}

#[test]
fn clocks_and_random() {
    check(Case {
        name: "clocks_random",
        args: &[],
        env: &[],
        stdin: b"",
        data_dir: false,
    });
}

#[test]
fn positioned_reads_and_writes() {
    check(Case {
        name: "pread",
        args: &[],
        env: &[],
        stdin: b"",
        data_dir: true,
    });
}

#[test]
fn files_and_directories() {
    check(Case {
        name: "files",
        args: &[],
        env: &[],
        stdin: b"",
        data_dir: true,
    });
}

#[test]
fn compressor_round_trip_and_output_file() {
    check(Case {
        name: "lz",
        args: &[],
        env: &[],
        stdin: b"",
        data_dir: false,
    });
    let mut big = Vec::new();
    for i in 0..2000 {
        big.extend_from_slice(format!("record {i} value {}\n", i * i % 977).as_bytes());
    }
    check(Case {
        name: "lz",
        args: &["-", "data/out.lz"],
        env: &[],
        stdin: &big,
        data_dir: true,
    });
}
