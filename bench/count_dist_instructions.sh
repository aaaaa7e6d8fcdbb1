#!/usr/bin/env bash
# Instructions a Spindle server spends per message an `erl` driver sends it (a one-way
# workload of bench/dist_bench.erl: bulk or stream), counted by callgrind: exact and
# repeatable where the throughput of BEAM->Spindle is bound by the `erl` sender. The
# server runs N and then 3N messages; the start-up cost cancels out in the difference.
#   bench/count_dist_instructions.sh [bulk|stream] [N] [SIZE]   (defaults: bulk 1000 65536)
set -euo pipefail
cd "$(dirname "$0")/.."
workload=${1:-bulk}
n=${2:-1000}
size=${3:-65536}
bin=${BUILD_DIR:-build}/bin
cookie=spindle-count
source tools/background_nodes.sh  # work, pids, port
erlc -o "$work" bench/dist_bench.erl
start_epmd

count() {  # count MESSAGES -> the server's instructions
  local log="$work/server.$1.log" server
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin/spindle-dist-bench" serve --name "s$1@127.0.0.1" \
    --cookie "$cookie" --epmd-port "$port" --threads 2 >"$log" 2>&1 &
  server=$!
  pids+=($server)
  for _ in $(seq 600); do grep -q '^ready' "$log" && break; sleep 0.1; done
  grep -q '^ready' "$log" || { echo "the server did not start:" >&2; cat "$log" >&2; exit 1; }
  erl -noshell -name "d$1@127.0.0.1" -setcookie "$cookie" -start_epmd false -pa "$work" \
    -s dist_bench drive "s$1@127.0.0.1" "$workload" "$1" "$size" | grep -q '^result' ||
    { echo "the $workload run of $1 messages failed" >&2; exit 1; }
  kill -INT "$server"
  wait "$server" || true
  awk '/Collected :/ {print $4}' "$log"
}
low=$(count "$n")
high=$(count $((n * 3)))
echo "$workload $(( (high - low) / (2 * n) )) instructions/message"
