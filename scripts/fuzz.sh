#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in build-asan/ (scripts/sanitized-build.sh,
# shared with scripts/sanitize.sh: after it nothing is compiled again) and runs each one for
# SECONDS (default 30) from its seed corpus, two at a time (FUZZ_JOBS, default: the core count).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 600 trace_json_fuzz
#
# New interesting inputs accumulate in build-asan/corpus/<target>/ (kept between runs); a crash,
# a sanitizer report, an escaped exception other than pt::InputError, a hang (-timeout) or a
# broken invariant leaves its input in build-asan/artifacts/ and makes the script exit 1. Replay
# one with: build-asan/fuzz/<target> build-asan/artifacts/<file>.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
shift || true
case "$seconds" in '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 2 ;; esac

scripts/sanitized-build.sh fuzz_seeds $(cd fuzz && ls *_fuzz.cc | sed 's/\.cc$//')

# target:dictionary:max input length
table="prefetch_config_fuzz:json:4096
model_config_fuzz:json:8192
hardware_profile_fuzz:json:8192
calibration_fuzz:json:8192
layer_template_fuzz:json:32768
trace_json_fuzz:json:16384
kernel_csv_fuzz:csv:8192
task_time_csv_fuzz:csv:8192
workload_csv_fuzz:csv:4096
op_times_csv_fuzz:csv:8192
csv_stream_fuzz:csv:8192
msprof_db_fuzz:none:65536
cluster_discovery_fuzz:csv:16384"
if [ $# -gt 0 ]; then
  selected=""
  for t in "$@"; do
    line="$(printf '%s\n' "$table" | grep "^${t%_fuzz}_fuzz:" || true)"
    [ -n "$line" ] || { echo "unknown fuzz target: $t" >&2; exit 2; }
    selected+="$line"$'\n'
  done
  table="$selected"
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
mkdir -p build-asan/logs build-asan/artifacts

run_target() {
  local name="$1" dict="$2" max_len="$3"
  mkdir -p "build-asan/corpus/$name"
  local status=0
  "build-asan/fuzz/$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
    $([ "$dict" = none ] || echo "-dict=fuzz/dicts/$dict.dict") -print_final_stats=1 -artifact_prefix="build-asan/artifacts/$name-" \
    "build-asan/corpus/$name" "build-asan/fuzz/seeds/$name" >"build-asan/logs/$name.log" 2>&1 || status=$?
  echo "$status" >"build-asan/logs/$name.status"
}

jobs_max="${FUZZ_JOBS:-$(nproc)}"
while IFS=: read -r name dict max_len; do
  [ -n "$name" ] || continue
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
  echo "fuzzing $name for ${seconds}s" >&2
  run_target "$name" "$dict" "$max_len" &
done <<<"$table"
wait

failed=0
printf '%-24s %8s %12s %10s %8s  %s\n' target seconds executions exec/s corpus result
while IFS=: read -r name dict max_len; do
  [ -n "$name" ] || continue
  log="build-asan/logs/$name.log"
  status="$(cat "build-asan/logs/$name.status")"
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)"
  secs="$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)"
  corpus="$(ls "build-asan/corpus/$name" | wc -l)"
  result=ok
  if [ "$status" != 0 ]; then
    result="FAILED (exit $status): see $log"
    failed=1
  fi
  printf '%-24s %8s %12s %10s %8s  %s\n' "$name" "${secs:-?}" "${runs:-?}" "${rate:-?}" "$corpus" "$result"
done <<<"$table"
if [ "$failed" != 0 ]; then
  for f in build-asan/logs/*.status; do
    [ "$(cat "$f")" = 0 ] && continue
    log="${f%.status}.log"
    echo "---- $log (tail)" >&2
    grep -v '^#[0-9]' "$log" | tail -n 40 >&2
  done
  exit 1
fi
