#!/usr/bin/env bash
# Builds the Zig corpus programs for wasm32-wasi into this directory with
# Zig 0.13.0, fetched from PyPI (the `ziglang` wheel, hash-checked) into
# ./toolchain. Training uses wordfreq, records and outline; tokens and
# invindex are held out to measure false positives on Zig programs the
# built-in model never saw. Debug sections are stripped (llvm-strip-16);
# the name section stays.
set -euo pipefail
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
for p in wordfreq records outline tokens invindex; do
  libc=()
  # These two allocate through wasi-libc (`std.heap.c_allocator`).
  case $p in outline | invindex) libc=(-lc) ;; esac
  "$zig" build-exe "src/$p.zig" -target wasm32-wasi -O ReleaseFast "${libc[@]}" -femit-bin="$p.wasm"
  llvm-strip-16 --strip-debug "$p.wasm"
done
rm -f ./*.o
