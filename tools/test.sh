#!/usr/bin/env bash
# Builds and runs every test: unit and Erlang interop tests in the release build (and the
# API reference, which fails on any Doxygen warning; and the libraries under clang), the
# whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer, and everything
# with threads (all but the single-threaded codec tests, labelled "core") under
# ThreadSanitizer; then, where clang is installed, a minute of each libFuzzer target
# (tools/fuzz.sh, docs/fuzzing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh

run_preset() {
  local preset=$1
  shift
  echo "=== $preset: configure and build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
  echo "=== $preset: test"
  ctest --preset "$preset" --timeout 900 --no-tests=error "$@"
}

run_preset release
echo "=== release: API reference (Doxygen, no warnings allowed)"
cmake --build --preset release --target spindle_docs
echo "=== clang: the libraries and tools build with -Werror under clang too"
cmake --preset clang >/dev/null
cmake --build --preset clang
run_preset asan
run_preset tsan -LE '^core$'
if command -v clang++ >/dev/null 2>&1; then
  bash tools/fuzz.sh 60
else
  echo "=== fuzz: skipped (no clang++)"
fi
echo "=== all tests passed"
