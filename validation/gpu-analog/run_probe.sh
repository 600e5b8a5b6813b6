#!/usr/bin/env bash
# Builds probe.cu for sm_90a and runs the sweeps; CSVs and meta.json go to OUTDIR.
# usage: validation/gpu-analog/run_probe.sh OUTDIR [probe options: --quick --reps N --chunk B
#        --deadline-s S --only bandwidth,vec,forkjoin,prefetch,arrival,gemm,seq,contention,
#        context,combined_i,layer,combined_ii]
# Needs an NVIDIA Hopper GPU (sm_90) with nvcc and cuBLASLt. Not part of the CMake build.
set -euo pipefail
out=${1:?usage: run_probe.sh OUTDIR [probe options]}
shift
here=$(cd "$(dirname "$0")" && pwd)
build=${GPU_ANALOG_BUILD:-${TMPDIR:-/tmp}/gpu-analog-build}
mkdir -p "$out" "$build"
nvcc -O3 -std=c++17 -gencode=arch=compute_90a,code=sm_90a -o "$build/probe" "$here/probe.cu" \
  -lcublasLt
smi() {
  nvidia-smi --query-gpu=name,driver_version,pstate,clocks.sm,clocks.mem,clocks.max.sm,power.draw,power.limit,temperature.gpu \
    --format=csv,nounits 2>/dev/null || echo "nvidia-smi unavailable"
}
{ echo "# before"; smi; } >"$out/nvidia_smi.txt"
PROBE_DATE=${PROBE_DATE:-$(date -u +%F)} "$build/probe" "$out" "$@"
{ echo "# after"; smi; } >>"$out/nvidia_smi.txt"
