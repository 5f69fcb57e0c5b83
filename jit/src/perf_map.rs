//! Symbols for generated code in `perf` profiles: with `WALMART_PERFMAP=1`
//! in the environment, or once an engine asks (`Config::profiler`,
//! `walmart run --profile perfmap`), every placed function is written to
//! `/tmp/perf-PID.map`, the file `perf report` reads to name addresses of
//! code it found in no ELF image.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

/// Asked for by an engine (`Config::profiler`), whatever the environment.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Writes the map from now on, for code placed from now on (an engine
/// configured to profile calls it as it is made).
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Whether the map is written: an engine asked, or the environment does.
pub(crate) fn wanted() -> bool {
    static FROM_ENV: OnceLock<bool> = OnceLock::new();
    ENABLED.load(Ordering::Relaxed)
        || *FROM_ENV.get_or_init(|| {
            std::env::var_os("WALMART_PERFMAP").is_some_and(|v| v != "0" && !v.is_empty())
        })
}

/// The open map file, when profiling is asked for.
fn map_file() -> Option<&'static Mutex<std::fs::File>> {
    static FILE: OnceLock<Option<Mutex<std::fs::File>>> = OnceLock::new();
    if !wanted() {
        return None;
    }
    FILE.get_or_init(|| {
        let path = format!("/tmp/perf-{}.map", std::process::id());
        // Made anew (as wasmtime's): a map a process of the same id left
        // would name this one's addresses wrongly.
        match std::fs::File::create(&path) {
            Ok(f) => Some(Mutex::new(f)),
            Err(e) => {
                // Profiling is a diagnostic aid: say why it is off, run on.
                eprintln!("walmart: perf map: cannot open {path}: {e}");
                None
            }
        }
    })
    .as_ref()
}

/// Records functions placed at `(address, length, name)`.
pub(crate) fn record(functions: &[(usize, usize, String)]) {
    let Some(file) = map_file() else { return };
    let mut text = String::new();
    for (addr, len, name) in functions {
        text.push_str(&format!("{addr:x} {len:x} {name}\n"));
    }
    let mut f = file.lock().unwrap_or_else(|e| e.into_inner());
    // A failed write loses symbols, not correctness.
    let _ = f.write_all(text.as_bytes());
}
