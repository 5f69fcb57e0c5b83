#!/usr/bin/env bash
# Random C programs (csmith) built natively and for wasm32-wasi, run
# natively and under walmart without attestation and under every policy:
# each must print the native build's checksum and exit 0, with nothing
# detected. What `generated` checks on modules wasm-smith makes, this
# checks on what clang makes of real C: shadow-stack frames (the stack
# guards rewrite them), wasi-libc's allocator (the heap checks), printf.
#
#   scripts/csmith-check.sh [COUNT] [FIRST_SEED]
#
# The native build is 32-bit (`-m32 -malign-double`): wasm32 is ILP32 as
# i386 is, with 8-byte alignment for `double` and `long long` as i386 has
# only with that flag; a program's `long` or a pointer's size changes its
# checksum (csmith seed 79 prints another one built for x86-64). Needs
# csmith, libcsmith-dev, gcc-multilib, clang-16, wasi-libc (installs the
# first three where apt-get can). A program csmith's native build does
# not build or finish in 10 s is passed over. Exits 1 when any run
# differs, or when no program ran.
set -euo pipefail
count=${1:-50}
first=${2:-1}
[[ "$count" =~ ^[0-9]+$ && "$first" =~ ^[0-9]+$ ]] || {
    echo "usage: $0 [COUNT] [FIRST_SEED]" >&2
    exit 2
}
root="$(cd "$(dirname "$0")/.." && pwd)"
if ! command -v csmith >/dev/null || [ ! -f /usr/include/csmith/csmith.h ] \
    || [ ! -f /usr/lib32/crt1.o ]; then
    apt-get install -y csmith libcsmith-dev gcc-multilib >/dev/null \
        || { echo "csmith-check: cannot install csmith, libcsmith-dev, gcc-multilib" >&2; exit 2; }
fi
command -v clang-16 >/dev/null || { echo "csmith-check: needs clang-16 and wasi-libc" >&2; exit 2; }
walmart="$root/target/release/walmart"
cargo build --release -q -p walmart --manifest-path "$root/Cargo.toml"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
inc=(-w -I/usr/include/csmith)
ran=0 skipped=0 differing=0
for seed in $(seq "$first" $((first + count - 1))); do
    c="$work/p$seed.c"
    # In the scratch folder: csmith leaves a platform.info where it runs.
    (cd "$work" && csmith --seed "$seed" > "$c")
    if ! clang-16 -m32 -malign-double -O1 "${inc[@]}" "$c" -o "$work/native" 2>"$work/err"; then
        skipped=$((skipped + 1))
        continue
    fi
    expected=$(timeout 10 "$work/native" 2>/dev/null) || { skipped=$((skipped + 1)); continue; }
    # Two optimisation levels: -O0 keeps every local in the shadow stack.
    for opt in -O0 -O2; do
        if ! clang-16 --target=wasm32-wasi "$opt" "${inc[@]}" "$c" -o "$work/p.wasm" 2>"$work/err"; then
            differing=$((differing + 1))
            echo "seed $seed $opt: the wasm build failed: $(head -c 300 "$work/err")"
            continue
        fi
        for policy in off coarse fine tags; do
            rc=0
            got=$(timeout 60 "$walmart" run --attest "$policy" --on-detect trap "$work/p.wasm" 2>"$work/err") || rc=$?
            if [ "$got" != "$expected" ] || [ "$rc" -ne 0 ]; then
                differing=$((differing + 1))
                echo "seed $seed $opt --attest $policy: expected '$expected' (exit 0), got '$got' (exit $rc; $(head -c 300 "$work/err"))"
            fi
        done
    done
    ran=$((ran + 1))
done
echo "$ran programs from seed $first ($skipped passed over): $differing runs differing from native"
if [ "$ran" -eq 0 ] && [ "$count" -gt 0 ]; then
    echo "csmith-check: no program ran (is the 32-bit native build broken? $(head -c 300 "$work/err"))" >&2
    exit 1
fi
[ "$differing" -eq 0 ]
