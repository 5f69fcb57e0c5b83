#!/bin/bash
# The exact heap checks' sweep: every input of the CVE corpus (benign,
# training, exploit, malformed), the Lua programs and the workloads, each
# module as built and with its names stripped (llvm-strip-16), under
# `coarse` and `fine` with no CNN, and the corpus's named modules under
# `fine --attest-sync` too (the store barrier and the digest audit of
# every clean page at every hook). Prints one line per run that reports a
# detection (or fails to start) and, last, the count of exploit runs with
# one: anything but exploit lines is a false positive to read.
#
#   scripts/heap-check-sweep.sh [WALMART]    (default target/release/walmart)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
walmart=${1:-$root/target/release/walmart}
command -v llvm-strip-16 >/dev/null || {
  echo "heap-check-sweep: llvm-strip-16 is missing (apt install llvm-16)" >&2
  exit 1
}
[ -x "$walmart" ] || {
  echo "heap-check-sweep: $walmart is missing (cargo build --release)" >&2
  exit 1
}
stripped=$(mktemp -d)
trap 'rm -rf "$stripped"' EXIT
cd "$root"

# The first detection line of a run, if any.
found() {
  "$walmart" run --attest "$1" --model none "${@:2}" 2>&1 >/dev/null |
    grep -E "^walmart: detection|^error" | head -1 | cut -c1-200 || true
}

exploits=0
for dir in attest/cve/*/; do
  app=$(basename "$dir")
  llvm-strip-16 --strip-all -o "$stripped/$app.wasm" "$dir$app.wasm"
  for module in "$dir$app.wasm" "$stripped/$app.wasm"; do
    for policy in coarse fine sync; do
      [ "$policy" = sync ] && [ "$module" != "$dir$app.wasm" ] && continue
      for input in "$dir"benign/*.in "$dir"train/*.in "$dir"exploit/*.in "$dir"malformed/*.in; do
        [ -f "$input" ] || continue
        if [ "$policy" = sync ]; then
          line=$(found fine --attest-sync "$module" <"$input")
        else
          line=$(found "$policy" "$module" <"$input")
        fi
        [ -n "$line" ] || continue
        kind=$(basename "$(dirname "$input")")
        [ "$kind" = exploit ] && exploits=$((exploits + 1))
        echo "$app $(basename "$module") $policy $kind/$(basename "$input"): $line"
      done
    done
  done
done

lua=benches/workloads/lua.wasm
llvm-strip-16 --strip-all -o "$stripped/lua.wasm" "$lua"
for module in "$lua" "$stripped/lua.wasm"; do
  for policy in coarse fine; do
    for script in attest/corpus/lua/*/*.lua benches/workloads/bench.lua; do
      line=$(found "$policy" --dir attest/corpus/lua --dir benches/workloads "$module" "$script")
      [ -z "$line" ] || echo "lua $(basename "$module") $policy $script: $line"
    done
  done
done

for wasm in benches/workloads/*.wasm; do
  name=$(basename "$wasm" .wasm)
  [ "$name" = lua ] && continue
  llvm-strip-16 --strip-all -o "$stripped/$name.wasm" "$wasm"
  for module in "$wasm" "$stripped/$name.wasm"; do
    for policy in coarse fine; do
      line=$(found "$policy" "$module")
      [ -z "$line" ] || echo "workload $name $(basename "$module") $policy: $line"
    done
  done
done
echo "exploit runs with a detection: $exploits"
