#!/usr/bin/env bash
# Lists the tests of the last ctest run in BUILD_DIR (default: build) that were skipped, each with
# the reason its GTEST_SKIP gave, so that a skip is seen in CI's output and not only counted.
#
#   scripts/print-skips.sh [BUILD_DIR]
set -euo pipefail
log="${1:-build}/Testing/Temporary/LastTest.log"
[ -f "$log" ] || exit 0
# gtest prints "<file>:<line>: Skipped", the message, then "[  SKIPPED ] <test> (<n> ms)".
skips="$(awk '
  /: Skipped$/ { grab = 1; msg = ""; next }
  grab && /^\[  SKIPPED \]/ {
    name = $0; sub(/^\[  SKIPPED \] /, "", name); sub(/ \([0-9]+ ms\)$/, "", name)
    print "  " name ": " msg; grab = 0; next
  }
  grab { msg = msg (msg == "" ? "" : " ") $0 }
' "$log" | sort -u)"
if [ -n "$skips" ]; then
  echo "skipped tests ($(printf '%s\n' "$skips" | wc -l)), and why:"
  printf '%s\n' "$skips"
else
  echo "no test was skipped"
fi
