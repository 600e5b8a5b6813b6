#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer (gcc, the default
# compiler), in build-asan/. Any sanitizer report aborts the test that triggered it.
# Extra arguments go to ctest (e.g. -R Cli).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# -O1 -g1: the usual sanitizer build (fast enough to run, half the compile time of -O2 -g, line numbers in reports).
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DPREFETCH_TUNER_SANITIZE=ON \
  -DPREFETCH_TUNER_BUILD_TESTS=ON -DPREFETCH_TUNER_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j"$(nproc)"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# The "tools" test (msprof-analyze on the exports) checks files, not memory safety: not run here.
ctest --test-dir build-asan --output-on-failure -j"$(nproc)" -LE tools "$@"
scripts/print-skips.sh build-asan
