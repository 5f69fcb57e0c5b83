#!/usr/bin/env bash
# Builds the Zig corpus programs for wasm32-wasi into this directory with
# Zig 0.13.0, fetched from PyPI (the `ziglang` wheel, hash-checked) into
# ./toolchain. Training uses wordfreq, records and outline; tokens and
# invindex are held out to measure false positives on Zig programs the
# built-in model never saw. Debug sections are stripped (llvm-strip-16,
# or $LLVM_STRIP); the name section stays. The wheel is x86_64 Linux's.
set -euo pipefail
strip="${LLVM_STRIP:-llvm-strip-16}"
command -v "$strip" >/dev/null || { echo "build.sh: $strip not found (apt install llvm-16, or set LLVM_STRIP)" >&2; exit 1; }
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
wheel=ziglang-0.13.0-py3-none-manylinux_2_12_x86_64.manylinux2010_x86_64.musllinux_1_1_x86_64.whl
sha=3ce0c9f16547e5d61b32e0d226926e9a2552ef4b91fccf7ab5ea1a623a77824b
if [ ! -x toolchain/ziglang/zig ]; then
  mkdir -p toolchain
  python3 -m pip download --no-deps --only-binary=:all: --platform manylinux_2_12_x86_64 \
    ziglang==0.13.0 -d toolchain
  echo "$sha  toolchain/$wheel" | sha256sum -c -
  python3 -m zipfile -e "toolchain/$wheel" toolchain
  chmod +x toolchain/ziglang/zig
fi
zig="$here/toolchain/ziglang/zig"
version="$("$zig" version)"
[ "$version" = 0.13.0 ] || { echo "build.sh: toolchain/ holds Zig $version, not 0.13.0 (remove it)" >&2; exit 1; }
for p in wordfreq records outline tokens invindex; do
  libc=""
  # These two allocate through Zig's wasi-libc (`std.heap.c_allocator`).
  case $p in outline | invindex) libc=-lc ;; esac
  # shellcheck disable=SC2086 # $libc is one flag or none
  "$zig" build-exe "src/$p.zig" -target wasm32-wasi -O ReleaseFast $libc -femit-bin="$p.wasm"
  "$strip" --strip-debug "$p.wasm"
done
rm -f ./*.o
