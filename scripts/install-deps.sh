#!/usr/bin/env bash
# Installs the Debian packages prefetch-tuner builds with, only those missing.
set -euo pipefail
packages=(g++ cmake make libcli11-dev nlohmann-json3-dev libfmt-dev libeigen3-dev libgtest-dev libbenchmark-dev libsqlite3-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
