#!/usr/bin/env bash
# Installs the build in $1 into a scratch prefix, then builds and runs a program outside
# the tree against it twice: with CMake's find_package(Spindle) and with pkg-config.
set -euo pipefail
build_dir=$1
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
echo "--- find_package(Spindle)"
cmake -S "$here/consumer" -B "$work/consumer" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/consumer" >/dev/null
"$work/consumer/spindle_consumer"

echo "--- pkg-config spindle"
PKG_CONFIG_PATH="$(dirname "$(find "$work/prefix" -name spindle.pc)")"
export PKG_CONFIG_PATH
# shellcheck disable=SC2046  # pkg-config prints several words on purpose
g++ -std=c++20 -O1 "$here/consumer/main.cpp" -o "$work/pc_consumer" $(pkg-config --cflags --libs spindle)
"$work/pc_consumer"

echo "--- every installed header compiles on its own"
find "$work/prefix/include/spindle" -name '*.hpp' | sort >"$work/headers"
# shellcheck disable=SC2016  # expanded by the inner shell
xargs -P 2 -I{} sh -c 'printf "#include \"%s\"\n" "$1" | g++ -std=c++20 -Wall -Wextra -Werror -fsyntax-only \
  -I"$2/prefix/include" -x c++ - || { echo "not self-contained: $1"; exit 255; }' _ {} "$work" <"$work/headers"
echo "$(wc -l <"$work/headers") headers ok"
