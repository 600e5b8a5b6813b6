#!/usr/bin/env bash
# Installs what the fuzz build needs on top of install-deps.sh, only what is missing: Debian's
# default clang and its compiler runtime (libclang-rt-N-dev holds libFuzzer, -fsanitize=fuzzer,
# and the sanitizer runtimes; clang only recommends it). The normal build never needs clang.
set -euo pipefail
packages=()
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
installed clang || packages+=(clang)
# The clang major version Debian's "clang" package pulls in (clang-14 on Debian 12).
major=""
if command -v clang++ >/dev/null 2>&1; then
  major="$(clang++ -dumpversion | cut -d. -f1)"
else
  major="$(apt-cache depends clang 2>/dev/null | sed -n 's/^ *Depends: clang-\([0-9][0-9]*\)$/\1/p' | head -n1)"
fi
if [ -n "$major" ] && apt-cache show "libclang-rt-$major-dev" >/dev/null 2>&1; then
  installed "libclang-rt-$major-dev" || packages+=("libclang-rt-$major-dev")
fi
if [ ${#packages[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${packages[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
# A first install of clang: the runtime package name follows its version.
if [ -z "$major" ]; then
  major="$(clang++ -dumpversion | cut -d. -f1)"
  if apt-cache show "libclang-rt-$major-dev" >/dev/null 2>&1 && ! installed "libclang-rt-$major-dev"; then
    $sudo apt-get install -y -qq --no-install-recommends "libclang-rt-$major-dev" >/dev/null
  fi
fi
