#!/usr/bin/env bash
# Rebuilds the committed WASI 0.2 component fixtures: the preview 1 C
# fixtures (scripts/build-fixtures.sh) wrapped into command components by
# wit-component with wasmtime's preview 1 adapter (both from crates.io,
# pinned in componentize/Cargo.toml), the way `wasm-tools component new`
# does it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tool="$root/tests/fixtures/components/componentize"
cargo build --release --manifest-path "$tool/Cargo.toml" --target-dir /tmp/componentize-target
for f in hello files clocks_random trap wc records heap_overflow pread; do
    /tmp/componentize-target/release/componentize \
        "$root/tests/fixtures/c/$f.wasm" "$root/tests/fixtures/components/$f.wasm"
done
ls -l "$root"/tests/fixtures/components/*.wasm
