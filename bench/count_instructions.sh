#!/usr/bin/env bash
# Instructions per operation of one codec benchmark, counted by callgrind: exact and
# repeatable on a noisy machine. The setup cost cancels out between two runs.
#   bench/count_instructions.sh decode/small_message [N]
set -euo pipefail
which=$1
n=${2:-2000}
bin=${BUILD_DIR:-build}/bin/spindle-codec-bench
count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" --repeat "$which" "$1" 2>&1 |
    awk '/Collected :/ {print $4}'
}
low=$(count "$n")
high=$(count $((n * 2)))
echo "$which $(( (high - low) / n )) instructions/op"
