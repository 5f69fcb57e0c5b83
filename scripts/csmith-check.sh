#!/usr/bin/env bash
# Random C programs (csmith) built natively and for wasm32-wasi, run
# natively and under walmart without attestation and under every policy:
# each must print the native build's checksum. What `generated` checks on
# modules wasm-smith makes, this checks on what clang makes of real C:
# shadow-stack frames (the stack guards rewrite them), wasi-libc's
# allocator (the heap checks), printf.
#
#   scripts/csmith-check.sh [COUNT] [FIRST_SEED]
#
# The native build is 32-bit (`-m32`): wasm32 is ILP32 as i386 is, and a
# program's `long` or a pointer's size changes its checksum (csmith seed
# 79 prints another one built for x86-64). Needs csmith, libcsmith-dev,
# libc6-dev-i386, clang-16, wasi-libc (installs the first three where
# apt-get can). A program the native build does not finish in 10 s is
# passed over. Exits 1 when any run differs.
set -euo pipefail
count=${1:-50}
first=${2:-1}
root="$(cd "$(dirname "$0")/.." && pwd)"
if ! command -v csmith >/dev/null || [ ! -f /usr/include/csmith/csmith.h ] \
    || [ ! -f /usr/lib32/crt1.o ]; then
    apt-get install -y csmith libcsmith-dev libc6-dev-i386 >/dev/null
fi
walmart="$root/target/release/walmart"
cargo build --release -q -p walmart --manifest-path "$root/Cargo.toml"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
inc="-w -I/usr/include/csmith"
ran=0 skipped=0 differing=0
for seed in $(seq "$first" $((first + count - 1))); do
    c="$work/p$seed.c"
    # In the scratch folder: csmith leaves a platform.info where it runs.
    (cd "$work" && csmith --seed "$seed" > "$c")
    clang-16 -m32 -O1 $inc "$c" -o "$work/native" 2>/dev/null || { skipped=$((skipped + 1)); continue; }
    expected=$(timeout 10 "$work/native" 2>/dev/null) || { skipped=$((skipped + 1)); continue; }
    # Two optimisation levels: -O0 keeps every local in the shadow stack.
    for opt in -O0 -O2; do
        clang-16 --target=wasm32-wasi $opt $inc "$c" -o "$work/p.wasm"
        for policy in off coarse fine tags; do
            got=$(timeout 60 "$walmart" run --attest "$policy" "$work/p.wasm" 2>"$work/err") || true
            if [ "$got" != "$expected" ]; then
                differing=$((differing + 1))
                echo "seed $seed $opt --attest $policy: expected '$expected', got '$got' ($(head -c 300 "$work/err"))"
            fi
        done
    done
    ran=$((ran + 1))
done
echo "$ran programs from seed $first ($skipped passed over): $differing runs differing from native"
[ "$differing" -eq 0 ]
