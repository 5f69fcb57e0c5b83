//! `walmart-benches`: benchmark harnesses that compare walmart side by side
//! (with wasmtime, between configurations) and print ratios. See
//! `benches/RESULTS.md` for recorded figures.
