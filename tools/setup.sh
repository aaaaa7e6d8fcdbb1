#!/usr/bin/env bash
# Installs everything Spindle needs to build, test and benchmark, from Debian 12's archive.
# Idempotent: packages already present are not touched, and apt-get runs only when one is missing.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config git
  libtbb-dev libboost-dev libgtest-dev libgmock-dev libbenchmark-dev
  zlib1g-dev libssl-dev libspdlog-dev libfmt-dev libcli11-dev
  clang libclang-rt-14-dev openssl doxygen gnuplot-nox
  erlang-nox erlang-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
