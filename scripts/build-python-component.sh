#!/usr/bin/env bash
# Builds the Python test programs in tests/fixtures/python into WASI 0.2
# components with componentize-py (CPython 3.14 for WASI 0.2, from PyPI,
# pinned by version and hash), in target/python-component/:
#   net_app.wasm   a command (`wasi:cli/run`, WIT in wit/: the project's own
#                  few lines; CPython's imports come from its own build),
#                  for runtime/tests/python_component.rs;
#   http_app.wasm  a `wasi:http/proxy` handler (WIT in http_wit/: the WASI
#                  0.2.12 files as wasmtime-wasi-http ships them), for
#                  `walmart serve` and the host's wasi:http.
# The components (about 18 MB each) are not committed; this script is
# quick (a wheel and a few seconds each) and idempotent: a component is
# rebuilt only when its .py is newer.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/target/python-component"
src="$root/tests/fixtures/python"
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

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# build APP WIT_DIR WORLD: tests/fixtures/python/APP.py -> APP.wasm.
build() {
    local app="$1" wit="$2" world="$3" wasm="$out/$1.wasm"
    if [ -f "$wasm" ] && [ "$wasm" -nt "$src/$app.py" ]; then
        return 0
    fi
    # componentize-py runs the program's module at build time (to snapshot
    # it): from a copy, so no __pycache__ lands in the source tree.
    mkdir "$work/$app"
    cp -r "$src/$app.py" "$src/$wit" "$work/$app/"
    (cd "$work/$app" && "$out/venv/bin/componentize-py" -q -d "$wit" -w "$world" \
        componentize "$app" -o "$wasm.tmp")
    mv "$wasm.tmp" "$wasm"
}

build net_app wit app
build http_app http_wit http-app
