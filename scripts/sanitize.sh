#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer (clang), in build-asan/
# (scripts/sanitized-build.sh, shared with the fuzz targets). Any sanitizer report aborts the test
# that triggered it. Extra arguments go to ctest (e.g. -R Cli).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/sanitized-build.sh
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# The "tools" tests (msprof-analyze on the exports) check files, not memory safety: not built here.
ctest --test-dir build-asan --output-on-failure -j"$(nproc)" -LE tools "$@"
scripts/print-skips.sh build-asan
