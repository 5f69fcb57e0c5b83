// Compiles the small C helper that owns sigsetjmp/siglongjmp: Rust cannot
// call setjmp soundly, so the jump buffer lives in a C frame.
fn main() {
    println!("cargo:rerun-if-changed=src/vm/unwind.c");
    cc::Build::new()
        .file("src/vm/unwind.c")
        .compile("walmart_unwind");
}
