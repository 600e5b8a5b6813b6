#!/usr/bin/env bash
# One command: install what is missing, build everything, run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh -DPREFETCH_TUNER_BUILD_TESTS=ON -DPREFETCH_TUNER_BUILD_BENCH=ON
ctest --test-dir build --output-on-failure -j"$(nproc)"
scripts/print-skips.sh build
