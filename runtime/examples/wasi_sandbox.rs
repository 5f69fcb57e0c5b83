//! Running a WASI program as a sandboxed function of its input: standard
//! input from bytes in memory, standard output captured into a buffer, a
//! host directory shared read only, clocks rounded to a millisecond, and
//! the exit status read back.
//!
//! `cargo run -p walmart --example wasi_sandbox`

use std::time::Duration;

use walmart::wasi::{self, DirPerms, FilePerms, MemoryInputPipe, MemoryOutputPipe, WasiCtx};
use walmart::{Engine, Error, Linker, Module, Store};

/// `wc.c` from the test fixtures: counts the lines, words and bytes of its
/// standard input.
const WC: &[u8] = include_bytes!("../../tests/fixtures/c/wc.wasm");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let engine = Engine::default();
    let module = Module::new(&engine, WC)?;
    let mut linker = Linker::new(&engine);
    wasi::add_to_linker(&mut linker, |ctx: &mut WasiCtx| ctx)?;

    // A directory the guest may read and list but never change.
    let shared = std::env::temp_dir().join(format!("walmart-example-{}", std::process::id()));
    std::fs::create_dir_all(&shared)?;
    std::fs::write(shared.join("notes.txt"), "read only\n")?;

    for request in ["one line\n", "two\nlines here\n", ""] {
        let stdout = MemoryOutputPipe::new(64 * 1024);
        let stderr = MemoryOutputPipe::new(64 * 1024);
        let mut ctx = WasiCtx::new();
        ctx.args(["wc"])
            .stdin(MemoryInputPipe::new(request))
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .clock_resolution(Duration::from_millis(1));
        ctx.preopened_dir(&shared, "/shared", DirPerms::READ, FilePerms::READ)?;

        let mut store = Store::new(&engine, ctx);
        let instance = linker.instantiate(&mut store, &module)?;
        let start = instance.get_func(&mut store, "_start").ok_or("no _start")?;
        let status = match start.call(&mut store, &[], &mut []) {
            Ok(()) => 0,
            // `exit(n)` in the guest.
            Err(Error::Exit(code)) => code,
            Err(e) => return Err(e.into()),
        };
        println!(
            "{request:?} -> exit {status}, stdout {:?}, stderr {:?}",
            String::from_utf8_lossy(&stdout.contents()),
            String::from_utf8_lossy(&stderr.contents()),
        );
    }
    std::fs::remove_dir_all(&shared)?;
    Ok(())
}
