#!/usr/bin/env bash
# Collects the CNN's datasets from the project's own programs:
#   lua       benches/workloads/lua.wasm over attest/corpus/lua/{train,test}/*.lua
#   wordindex tests/fixtures/c/wordindex.wasm over text made of the C and
#             Lua sources (training: tests/fixtures/c + corpus/lua/train;
#             test: benches/workloads + corpus/lua/test)
#   sqlite    benches/workloads/sqlite.wasm (one fixed program: split by
#             injection seed only)
#   rust, zig, as
#             attest/corpus/{rust,zig,assemblyscript}/*.wasm over the
#             project's sources and docs (training: wordfreq, records,
#             outline over jit/, attest/, kernels/, the C fixtures, the
#             benchmark results and crate READMEs, and 3 MB of the CVE
#             corpus's library sources (fetched by
#             scripts/fetch-cve-sources.sh, which needs PyPI and npm); test:
#             tokens and invindex, never trained on, over runtime/, the
#             docs and the workloads' C)
#   and, for training only, nine more benchmark workloads (see below).
# Training sets use seed 1 and the train inputs, test sets seed 2 and the
# test inputs, so no Lua or wordindex test page comes from an input
# training saw. SQLite is one fixed program: its test run differs only in
# injection seed and hook timing, and its clean pages resemble training's.
# Training sets simulate the structural attacks (heap-overflow,
# use-after-free, stack-smash); test sets add host-tamper. Host tampering's
# 16 random bytes have no shape to learn (they look like the pointers,
# hashes and packed data pages hold anyway); as training positives they
# teach the network to distrust ordinary pages, and the exact digest and
# write-protection checks catch them with certainty. ATTACKS overrides
# the list for both splits. Payloads pad with `A`, `B`, NOPs and
# breakpoints, not `a` (collect's default has it): a model for any program
# must pass over a page of English's one-letter words packed side by side
# (Zig's general-purpose allocator), which `a` padding taught it to flag.
# Usage: scripts/cnn-datasets.sh OUTDIR [train|test|both]   (default both)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: cnn-datasets.sh OUTDIR [train|test|both]}"
which="${2:-both}"
if [ -n "${WALMART:-}" ]; then
  walmart="$WALMART"
  [ -x "$walmart" ] || { echo "cnn-datasets.sh: WALMART=$walmart is not an executable" >&2; exit 2; }
else
  (cd "$root" && cargo build --release -p walmart)
  walmart="$root/target/release/walmart"
fi
mkdir -p "$out"
# The training texts include the CVE corpus's library sources: fetched by
# version and hash (PyPI, npm) before any collection, so that a machine
# without them fails at once.
if [ "$which" != test ]; then
  "$root/scripts/fetch-cve-sources.sh" >/dev/null
fi

collect() { # split seed app dataset [collect options...]
  local split=$1 seed=$2 app=$3 name=$4 attacks=heap-overflow,use-after-free,stack-smash
  [ "$split" = test ] && attacks=$attacks,host-tamper
  attacks="${ATTACKS:-$attacks}"
  shift 4
  "$walmart" attest collect "$root/$app" --policy fine --inject "$attacks" \
    --seed "$seed" --fillers 41,42,90,cc --out "$out/$name-$split.wds" "$@"
}

one_split() { # split seed
  local split=$1 seed=$2 text="$out/text-$1"
  mkdir -p "$text"
  if [ "$split" = train ]; then
    cat "$root"/tests/fixtures/c/*.c "$root"/attest/corpus/lua/train/*.lua > "$text/input.txt"
  else
    cat "$root"/benches/workloads/*.c "$root"/attest/corpus/lua/test/*.lua > "$text/input.txt"
  fi
  collect "$split" "$seed" benches/workloads/lua.wasm lua --rate 8 --keep 0.2 \
    --inputs "$root/attest/corpus/lua/$split" --args {}
  collect "$split" "$seed" tests/fixtures/c/wordindex.wasm wordindex --rate 16 --keep 0.05 \
    --inputs "$text" --args - 2000
  collect "$split" "$seed" benches/workloads/sqlite.wasm sqlite --rate 4 --keep 0.01
  # Other languages' heaps. Rust: strings without terminators packed
  # into small chunks, vectors grown by doubling, hash tables' control
  # bytes. Zig: the general-purpose allocator's size classes (a page of
  # one-letter words side by side), arenas. AssemblyScript: UTF-16
  # strings behind 20-byte object headers. The C programs alone taught
  # the network that text running up to a chunk's head, or a page of one
  # letter repeated, is an overflow.
  local texts="$out/texts-$split" progs lang
  rm -rf "$texts"
  mkdir -p "$texts"
  if [ "$split" = train ]; then
    progs="wordfreq records outline"
    find "$root/jit/src" -name '*.rs' | sort | xargs cat > "$texts/jit.txt"
    find "$root/attest/src" -name '*.rs' | sort | xargs cat > "$texts/attest.txt"
    find "$root/kernels/src" -name '*.rs' | sort | xargs cat > "$texts/kernels.txt"
    cat "$root"/tests/fixtures/c/*.c > "$texts/fixtures.txt"
    # Prose: English's one-letter words fill a page of Zig's one-byte
    # size class with `a`s, which source code alone does not show.
    cat "$root"/benches/RESULTS.md "$root"/*/README.md "$root"/attest/cve/*/README.md \
      > "$texts/prose.txt"
    # C sources of other projects (the CVE corpus's libraries, fetched
    # first, see above): comments boxed in runs of `*`, `-`, `=`, the look
    # of license texts and of an attacker's padding.
    find "$root/target/cve-src" -mindepth 2 \( -name '*.c' -o -name '*.h' \) -print0 |
      LC_ALL=C sort -z | xargs -0 -r cat > "$out/libraries-all.txt"
    head -c 3000000 "$out/libraries-all.txt" > "$texts/libraries.txt"
    rm -f "$out/libraries-all.txt"
    [ -s "$texts/libraries.txt" ] || { echo "cnn-datasets.sh: no library sources in target/cve-src" >&2; exit 1; }
  else
    progs="tokens invindex"
    find "$root/runtime/src" -name '*.rs' | sort | xargs cat > "$texts/runtime.txt"
    cat "$root/README.md" "$root"/docs/*.md > "$texts/docs.txt"
    cat "$root"/benches/workloads/*.c > "$texts/workloads.txt"
  fi
  for lang in rust zig assemblyscript:as; do
    for prog in $progs; do
      collect "$split" "$seed" "attest/corpus/${lang%%:*}/$prog.wasm" "${lang##*:}-$prog" \
        --rate 8 --keep 0.1 --inputs "$texts" --max-pages 6000
    done
  done
  if [ "$split" = train ]; then
    # More kinds of memory for the built-in model: sorted arrays, hash
    # tables, floats, compressed data and crypto state (high-entropy pages
    # an attack-free program writes all the time). The other libsodium
    # programs stay out, to check false positives on unseen programs.
    for app in sort hash matmul nbody lz4 sodium_box sodium_sign sodium_stream sodium_kdf; do
      collect train "$seed" "benches/workloads/$app.wasm" "$app" --rate 4 --keep 0.05 --max-pages 8000
    done
  fi
}

case "$which" in
  train) one_split train 1 ;;
  test) one_split test 2 ;;
  both) one_split train 1; one_split test 2 ;;
  *) echo "cnn-datasets.sh: split must be train, test or both, not $which" >&2; exit 2 ;;
esac
