//! Compiles the small C helper that owns sigsetjmp/siglongjmp (Rust cannot
//! call setjmp soundly, so the jump buffer lives in a C frame), and hashes
//! the runtime's side of the contract with generated code (builtins,
//! vmctx contents, object layouts, hooks) into
//! `WALMART_RUNTIME_SOURCE_HASH`, part of a precompiled module's
//! fingerprint (`Engine::fingerprint`). The command line, the spec-test
//! runner and WASI are left out: they do not change what code expects.

#[path = "../jit/source_hash.rs"]
mod source_hash;

fn main() {
    println!("cargo:rerun-if-changed=src/vm/unwind.c");
    cc::Build::new()
        .file("src/vm/unwind.c")
        .compile("walmart_unwind");
    let hash = source_hash::hash(&["src"], &["bin", "wast", "wasi"]);
    println!("cargo:rustc-env=WALMART_RUNTIME_SOURCE_HASH={hash:016x}");
}
