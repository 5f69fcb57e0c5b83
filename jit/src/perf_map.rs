//! Symbols for generated code in `perf` profiles: with `WALMART_PERFMAP=1`
//! in the environment, every placed function is appended to
//! `/tmp/perf-PID.map`, the file `perf report` reads to name addresses of
//! code it found in no ELF image.

use std::io::Write;
use std::sync::{Mutex, OnceLock};

/// The open map file, when profiling is asked for.
fn map_file() -> Option<&'static Mutex<std::fs::File>> {
    static FILE: OnceLock<Option<Mutex<std::fs::File>>> = OnceLock::new();
    FILE.get_or_init(|| {
        let wanted = std::env::var_os("WALMART_PERFMAP").is_some_and(|v| v != "0" && !v.is_empty());
        if !wanted {
            return None;
        }
        let path = format!("/tmp/perf-{}.map", std::process::id());
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
        {
            Ok(f) => Some(Mutex::new(f)),
            Err(e) => {
                // Profiling is a diagnostic aid: say why it is off, run on.
                eprintln!("walmart: WALMART_PERFMAP: cannot open {path}: {e}");
                None
            }
        }
    })
    .as_ref()
}

/// Records functions placed at `(address, length, name)`.
pub(crate) fn record(functions: impl Iterator<Item = (usize, usize, String)>) {
    let Some(file) = map_file() else { return };
    let mut text = String::new();
    for (addr, len, name) in functions {
        text.push_str(&format!("{addr:x} {len:x} {name}\n"));
    }
    let mut f = file.lock().unwrap_or_else(|e| e.into_inner());
    // A failed write loses symbols, not correctness.
    let _ = f.write_all(text.as_bytes());
}
