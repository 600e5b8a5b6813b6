#!/usr/bin/env bash
# The one sanitized build, in build-asan/: clang, AddressSanitizer + UndefinedBehaviorSanitizer
# (every finding aborts), the library instrumented for libFuzzer's coverage feedback. It holds
# both the test suite (scripts/sanitize.sh) and the fuzz targets (scripts/fuzz.sh), so CI
# compiles the sanitized code once. Builds TARGET... (default: everything).
#
#   scripts/sanitized-build.sh [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/install-fuzz-deps.sh
# -O1 -gline-tables-only: the usual sanitizer build (fast enough to run, line numbers in reports).
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only" -DCMAKE_CXX_COMPILER=clang++ \
  -DPREFETCH_TUNER_SANITIZE=ON -DPREFETCH_TUNER_BUILD_FUZZERS=ON -DPREFETCH_TUNER_BUILD_TESTS=ON -DPREFETCH_TUNER_BUILD_BENCH=OFF \
  >/dev/null
if [ $# -gt 0 ]; then
  cmake --build build-asan -j"$(nproc)" --target "$@"
else
  cmake --build build-asan -j"$(nproc)"
fi
