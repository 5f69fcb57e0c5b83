#!/usr/bin/env bash
# Rebuilds the committed Wasm test fixtures from their C sources.
# Needs clang-16, lld-16, wasi-libc and the wasm32 compiler runtime:
#   apt-get install clang-16 lld-16 wasi-libc libclang-rt-16-dev-wasm32
set -euo pipefail
cd "$(dirname "$0")/../tests/fixtures/c"
cc="clang-16 --target=wasm32-wasi -O2 -Wl,--strip-debug"
$cc hello.c -o hello.wasm
$cc files.c -o files.wasm
$cc -msimd128 simd.c -o simd.wasm
$cc trap.c -o trap.wasm
# With its DWARF (no --strip-debug): source positions in backtraces.
clang-16 --target=wasm32-wasi -O1 -g trap.c -o trap_debug.wasm
$cc clocks_random.c -o clocks_random.wasm
$cc wc.c -o wc.wasm
$cc lz.c -o lz.wasm
$cc wordindex.c -o wordindex.wasm
$cc heap_overflow.c -o heap_overflow.wasm
$cc tag_violations.c -o tag_violations.wasm
$cc heap_segments.c -o heap_segments.wasm
$cc heap_stress.c -o heap_stress.wasm
$cc heap_unlink.c -o heap_unlink.wasm
$cc heap_top.c -o heap_top.wasm
# Exports cabi_realloc: wrapped into a component (build-component-fixtures.sh).
$cc records.c -o records.wasm
$cc pread.c -o pread.wasm
$cc echo_server.c -o echo_server.wasm
# emmalloc, wasi-libc's other allocator, as zig's wasi-libc builds it
# (whole-program optimized: `malloc` inlined into `emmalloc_memalign`'s
# callers); zig from PyPI, its DWARF stripped and its names kept.
python3 -m venv /tmp/walmart-zig
/tmp/walmart-zig/bin/pip install -q ziglang==0.13.0
# Its heap is walked and its `free` checked as emmalloc lays regions out.
# realloc_stress's one `realloc` is inlined into `main`, out of the tag
# monitor's wrapper.
for f in heap_overflow tag_violations heap_stress heap_segments heap_unlink realloc_stress; do
  /tmp/walmart-zig/bin/python -m ziglang cc -target wasm32-wasi -O2 $f.c -o ${f}_emmalloc.wasm
  python3 ../../../scripts/strip-wasm-debug.py ${f}_emmalloc.wasm
done
# Guaranteed tail calls (`musttail`) become `return_call_indirect`.
$cc -mtail-call tail_calls.c -o tail_calls.wasm
# simd.expected is what the same computation prints as a native program:
# wasm_simd128.h only targets Wasm, so the native side is a scalar C port
# with the same lane-wise summation order.
cat > /tmp/simd_native.c <<'C'
#include <stdint.h>
#include <stdio.h>
#define N 4096
static float a[N], b[N];
static uint8_t img[N], out[N];
int main(void) {
    for (int i = 0; i < N; i++) { a[i] = (float)(i % 97) * 0.5f; b[i] = (float)((i * 7) % 31) - 15.0f; img[i] = (uint8_t)(i * 37); }
    float lanes[4] = {0, 0, 0, 0};
    for (int i = 0; i < N; i += 4) for (int l = 0; l < 4; l++) lanes[l] += a[i + l] * b[i + l];
    float dot = lanes[0] + lanes[1] + lanes[2] + lanes[3];
    for (int i = 0; i < N; i++) { int v = img[i] + 40; out[i] = v > 255 ? 255 : v; }
    uint32_t checksum = 0; for (int i = 0; i < N; i++) checksum = checksum * 31 + out[i];
    int minv = 255; for (int i = 0; i < N; i++) if (out[i] < minv) minv = out[i];
    printf("dot=%.1f checksum=%u min=%d\n", dot, checksum, minv);
    return 0;
}
C
cc -O2 -ffp-contract=off /tmp/simd_native.c -o /tmp/simd_native
/tmp/simd_native > simd.expected
# The interpreter's checksum, natively (its arithmetic is all 32-bit).
clang-16 -O2 tail_calls.c -o /tmp/tail_calls_native
/tmp/tail_calls_native > tail_calls.expected
ls -l ./*.wasm simd.expected tail_calls.expected
