#!/usr/bin/env bash
# Trains walmart's built-in CNN from scratch on the project's own programs
# and writes it to attest/models/default.wcnn (compiled into walmart).
#   scripts/train-default-model.sh [WORKDIR]     (default: target/cnn)
# Collects the training datasets (scripts/cnn-datasets.sh), trains with a
# fixed seed, then collects the held-out test datasets and prints the
# evaluation per program. Training is bit-identical for given datasets;
# collection snapshots at timed hooks, so datasets (and the model) vary
# slightly from run to run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$root/target/cnn}"
cd "$root"
cargo build --release -p walmart
walmart="$root/target/release/walmart"
start=$(date +%s)
# Datasets of an earlier recipe must not slip into the training set.
mkdir -p "$work"
rm -f "$work"/*.wds
scripts/cnn-datasets.sh "$work" train
"$walmart" attest train "$work"/*-train.wds --out "$work/default.wcnn" \
  --epochs 12 --seed 1
echo "collection and training: $(( $(date +%s) - start )) s"
cp "$work/default.wcnn" attest/models/default.wcnn
scripts/cnn-datasets.sh "$work" test
for app in lua wordindex sqlite rust-tokens rust-invindex zig-tokens zig-invindex as-tokens as-invindex; do
  echo "== $app (held-out inputs, seed 2)"
  "$walmart" attest eval attest/models/default.wcnn "$work/$app-test.wds"
done
