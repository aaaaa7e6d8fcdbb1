#!/usr/bin/env bash
# Builds the libFuzzer targets (the 'fuzz' preset: clang with AddressSanitizer and
# UndefinedBehaviorSanitizer) and runs each for SECONDS (default 30) on a copy of its seed
# corpus from tests/fuzz/corpus/<target>/, so the repository is not modified. Exits
# non-zero on any crash, sanitizer report, leak, timeout or out-of-memory; the log and
# the input that did it are left in build-fuzz/fuzz/<target>/ (docs/fuzzing.md).
#   tools/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_etf fuzz_frame fuzz_handshake_accept fuzz_handshake_initiate fuzz_epmd)

# Longest input tried: a few times the largest seed of each target.
max_len() {
  case $1 in
    fuzz_etf | fuzz_frame) echo 4096 ;;
    fuzz_epmd) echo 1024 ;;
    *) echo 512 ;;
  esac
}

echo "=== fuzz: configure and build"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
failed=()
for target in "${targets[@]}"; do
  work=build-fuzz/fuzz/$target
  rm -rf "$work"
  mkdir -p "$work/corpus"
  cp tests/fuzz/corpus/"$target"/* "$work/corpus/"
  echo "=== fuzz: $target for ${seconds}s"
  if build-fuzz/bin/"$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len="$(max_len "$target")" -print_final_stats=1 -artifact_prefix="$work/" \
      "$work/corpus" >"$work/log" 2>&1; then
    grep -E '^Done |stat::number_of_executed_units|stat::peak_rss_mb' "$work/log" || true
  else
    tail -n 80 "$work/log"
    echo "=== fuzz: $target FAILED: log and input in $work"
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "=== fuzz: failed: ${failed[*]}"
  exit 1
fi
echo "=== fuzz: no findings"
