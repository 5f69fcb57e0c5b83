//! `walmart-benches`: benchmark harnesses that compare walmart side by side
//! (with wasmtime, between configurations) and print ratios. See
//! `benches/RESULTS.md` for recorded figures.

/// Ends a harness on bad arguments or input: one line, exit status 2.
pub fn die(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(2)
}
