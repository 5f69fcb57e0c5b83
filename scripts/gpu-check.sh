#!/usr/bin/env bash
# The `gpu` back end's checks and measurements on a machine with a CUDA
# device, in two steps, for GPU machines that have no Rust toolchain:
#
#   scripts/gpu-check.sh build   # here: builds the test and bench binaries
#                                # into .gpu-check/bins.tgz (stripped, ~20 MB)
#   scripts/gpu-check.sh run     # there, from the repository's root, with
#                                # .gpu-check carried along; log in $OUT/log
#                                # (or .gpu-check/log)
#
# `run` checks that the GPU scores pages as the CPU does (log-odds within
# 5e-4, relatively beyond 1) for
# three architectures and batches that fill no block evenly, that
# `--backend gpu` gives the native output, then measures inference
# throughput by batch size (and the CPU/GPU crossover), the overhead of
# `coarse` and `fine` with each application's CNN on each back end (zlib,
# jq, lz4), and `fine` with the built-in CNN on the benchmark workloads. NVRTC is looked for in the
# CUDA toolkit and in pip's nvidia-cuda-nvrtc package.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/.gpu-check"

build() {
  cd "$root"
  rm -rf "$dir"
  mkdir -p "$dir"
  local tests
  tests=$(cargo test --release --no-run --message-format=json \
    -p walmart-kernels --test gpu_device --test gpu_emulated \
    -p walmart-attest --lib -p walmart --test verifier_backends 2> /dev/null |
    python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["target"]["name"] + " " + m["executable"])')
  cargo build --release -q -p walmart -p walmart-benches --bin walmart --bin cnn_throughput --bin cve_overhead --bin compare
  while read -r name exe; do
    case "$name" in
      gpu_device | gpu_emulated | walmart_attest | verifier_backends) strip -o "$dir/test-$name" "$exe" ;;
    esac
  done <<< "$tests"
  for b in walmart cnn_throughput cve_overhead compare; do
    strip -o "$dir/$b" "target/release/$b"
  done
  # The tests find the corpus through the path they were built in.
  echo "$root" > "$dir/built-in"
  # Compressed: the tree a GPU machine is sent is limited to 64 MiB.
  tar czf "$root/bins.tgz" -C "$dir" .
  rm -rf "$dir"/*
  mv "$root/bins.tgz" "$dir/"
  du -sh "$dir"
}

run() {
  cd "$root"
  [ -f "$dir/bins.tgz" ] || { echo "gpu-check.sh: no .gpu-check/bins.tgz (run 'build' first and carry .gpu-check)" >&2; exit 2; }
  tar xzf "$dir/bins.tgz" -C "$dir"
  local out="${OUT:-$dir}"
  local built
  built="$(cat "$dir/built-in")"
  if [ "$built" != "$root" ] && [ ! -e "$built" ]; then
    mkdir -p "$(dirname "$built")"
    ln -s "$root" "$built"
  fi
  local nvrtc
  nvrtc="$(python3 -c 'import nvidia, os; [print(os.path.join(p, "cu13", "lib")) for p in nvidia.__path__]' 2> /dev/null | head -1 || true)"
  export LD_LIBRARY_PATH="${nvrtc:+$nvrtc:}/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
  # Binaries there live in target/release for the benches' own paths.
  mkdir -p target/release
  cp --remove-destination "$dir"/walmart "$dir"/cnn_throughput "$dir"/cve_overhead "$dir"/compare target/release/
  # Every check runs and reports, whatever the one before it gave.
  set +e +o pipefail
  {
    nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
    echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
    for t in gpu_device gpu_emulated "walmart_attest gpu" "verifier_backends backend"; do
      set -- $t
      echo "== $1"
      "$dir/test-$1" --nocapture --test-threads 1 ${2:-} 2>&1 || echo "FAILED: $1"
    done
    echo "== --backend gpu on zlib's benign input"
    target/release/walmart run --attest fine --model attest/cve/zlib/model.wcnn --backend gpu \
      attest/cve/zlib/zlib.wasm < attest/cve/zlib/benign/access-log.in |
      cmp - attest/cve/zlib/benign/access-log.out && echo "same output as natively"
    echo "== cnn_throughput --gpu"
    target/release/cnn_throughput --gpu --seconds 1
    for app in zlib jq lz4; do
      echo "== cve_overhead $app"
      target/release/cve_overhead "$app" 5 off fine+cnn fine+gpu coarse+cnn coarse+gpu
    done
    echo "== compare: fine with the built-in CNN on cpu and on gpu, the benchmark workloads"
    target/release/compare --attest fine-cnn,fine-gpu --rounds 2 --runs 1
  } 2>&1 | tee "$out/log"
}

case "${1:-}" in
  build) build ;;
  run) run ;;
  *) echo "usage: scripts/gpu-check.sh build|run" >&2; exit 2 ;;
esac
