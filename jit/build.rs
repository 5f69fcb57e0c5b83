//! Hashes the translator's sources into `WALMART_JIT_SOURCE_HASH`, part of
//! the fingerprint a precompiled module carries (`Compiler::fingerprint`),
//! and compiles the GDB JIT interface's symbols (`src/gdb_jit.c`).

#[path = "source_hash.rs"]
mod source_hash;

fn main() {
    // The workspace manifest pins Cranelift's version.
    let hash = source_hash::hash(&["src", "Cargo.toml", "../Cargo.toml"], &[]);
    println!("cargo:rustc-env=WALMART_JIT_SOURCE_HASH={hash:016x}");
    // The GDB JIT interface's symbols, weak (see the file).
    println!("cargo:rerun-if-changed=src/gdb_jit.c");
    cc::Build::new()
        .file("src/gdb_jit.c")
        .compile("walmart_gdb_jit");
}
