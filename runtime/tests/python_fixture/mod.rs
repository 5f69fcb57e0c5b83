//! The Python components the tests run (componentize-py's CPython 3.14,
//! from `tests/fixtures/python/`), built by
//! `scripts/build-python-component.sh` when missing or older than their
//! source.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `target/python-component/NAME.wasm`, built from `NAME.py` if need be.
pub fn component(name: &str) -> PathBuf {
    let wasm = root().join(format!("target/python-component/{name}.wasm"));
    let source = root().join(format!("tests/fixtures/python/{name}.py"));
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if !matches!((modified(&wasm), modified(&source)), (Some(w), Some(s)) if w >= s) {
        let out = Command::new("bash")
            .arg(root().join("scripts/build-python-component.sh"))
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "scripts/build-python-component.sh failed (it needs python3 and PyPI): {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    wasm
}
