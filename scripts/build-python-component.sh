#!/usr/bin/env bash
# Builds tests/fixtures/python/net_app.py into a WASI 0.2 command
# component with componentize-py (CPython 3.14 for WASI 0.2, from PyPI,
# pinned by version and hash) at target/python-component/net_app.wasm,
# for runtime/tests/python_component.rs. The component (18 MB) is not
# committed; this script is quick (a wheel and a few seconds) and
# idempotent. The WIT it targets is the project's own few lines
# (`wasi:cli/run`): CPython's imports come from its own build.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/target/python-component"
src="$root/tests/fixtures/python"
wasm="$out/net_app.wasm"
if [ -f "$wasm" ] && [ "$wasm" -nt "$src/net_app.py" ]; then
    exit 0
fi
mkdir -p "$out"
if [ ! -x "$out/venv/bin/componentize-py" ]; then
    python3 -m venv "$out/venv"
    cat > "$out/requirements.txt" <<'REQ'
componentize-py==0.25.1 \
    --hash=sha256:8623cd8cab8453cb0cd8bf03f3c7103420d06f2f3d360186a280a70a1ca5e89f
REQ
    "$out/venv/bin/pip" install -q --require-hashes --only-binary :all: \
        -r "$out/requirements.txt"
fi
# componentize-py runs the program's module at build time (to snapshot
# it): from a copy, so no __pycache__ lands in the source tree.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$src/net_app.py" "$src/wit" "$work/"
(cd "$work" && "$out/venv/bin/componentize-py" -q -d wit -w app componentize net_app \
    -o "$wasm.tmp")
mv "$wasm.tmp" "$wasm"
