#!/usr/bin/env bash
# Builds the AssemblyScript corpus programs (WASI through
# @assemblyscript/wasi-shim) into this directory; the compiler comes from
# npm at the versions package-lock.json pins. Training uses wordfreq,
# records and outline; tokens and invindex are held out to measure false
# positives on AssemblyScript programs the built-in model never saw.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
npm ci --no-audit --no-fund
for p in wordfreq records outline tokens invindex; do
  npx asc "assembly/$p.ts" --config ./node_modules/@assemblyscript/wasi-shim/asconfig.json \
    -O3 -o "$p.wasm"
done
