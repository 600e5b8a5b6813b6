#!/bin/sh
# Rewrites every sample profile here from the simulation (the commands in README.md).
# Usage: sample_profiles/profiles/regenerate.sh [path/to/prefetch-tuner]
set -eu
bin=${1:-build/app/prefetch-tuner}
here=$(cd "$(dirname "$0")" && pwd)
off='{"weight_prefetch_config":{"enabled":false}}'
common="--model Qwen3-8B --tp 4 -q w8a8 --hardware a3-die --jitter 3"
make() {
  dir=$1; shift
  rm -rf "$here/$dir"
  "$bin" export-profile $common --out-dir "$here/$dir" "$@"
}
make qwen3-8b-tp4-t16-prefetch-on --num-tokens 16 --steps 2 --seed 1
make qwen3-8b-tp4-t16-prefetch-off --num-tokens 16 --steps 2 --seed 2 --additional-config "$off"
make qwen3-8b-tp4-t16-msprof --num-tokens 16 --steps 1 --seed 3 --layout msprof
for n in 8 32 72; do
  make calibration-qwen3-8b-tp4-off-t$n --num-tokens $n --steps 1 --seed $n --additional-config "$off"
done
# The SQLite export (what msprof-analyze's DB recipes read) and a whole cluster, one run per rank
# of TP4 with rank 2 slowed by 10 % (analyze and calibrate read the directory whole).
make qwen3-8b-tp4-t16-db --num-tokens 16 --steps 1 --seed 4 --format db
make qwen3-8b-tp4-t16-cluster --num-tokens 16 --steps 1 --seed 5 --ranks 4 --slow-rank 2:10
