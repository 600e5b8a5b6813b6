#!/usr/bin/env bash
# One command on a fresh Debian machine: install what is missing, build, run the main job on the
# embedded default scenario (Qwen3-32B W8A8 static, TP4, 72 tokens, A3 die, default config).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh -DPREFETCH_TUNER_BUILD_TESTS=OFF -DPREFETCH_TUNER_BUILD_BENCH=OFF
exec build/app/prefetch-tuner "$@"
