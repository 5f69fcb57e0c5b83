#!/usr/bin/env bash
# Builds the Rust corpus programs for wasm32-wasip1 into this directory
# (needs `rustup target add wasm32-wasip1`). Training uses wordfreq,
# records and outline; tokens and invindex are held out to measure false
# positives on Rust programs the built-in model never saw.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
cargo build --release --target wasm32-wasip1 --target-dir "$here/target"
for b in wordfreq records outline tokens invindex; do
  cp "target/wasm32-wasip1/release/$b.wasm" "$here/$b.wasm"
done
