#!/usr/bin/env bash
# The Erlang distribution over loopback: BEAM and Spindle as driver and as server, in all
# four pairings, in one run on this machine (drivers alternate pairing by pairing, round
# by round, so load on a shared machine falls on all; each figure is the median of the
# rounds). Prints a Markdown table with each pairing's ratio to BEAM<->BEAM. Spindle drives
# Spindle three times: over TCP, as every other pairing; over the local carrier's Unix
# domain socket; and through the shared-memory rings that socket is upgraded to (what
# Spindle nodes on one machine use unless told otherwise).
#   bench/compare_dist.sh [ROUNDS] [THREADS]    (defaults: 3 rounds, 2 threads per node)
# WORKLOADS="bulk stream" runs only those. With pingpong, the TCP loopback floor under any
# round trip, and with bulk, its ceiling over a one-way stream (bench/loopback_floor.cpp),
# are measured in the same rounds and printed below; so is the CPU time each server
# process spent on the stream and bulk runs.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
threads=${2:-2}
bin=${BUILD_DIR:-build}/bin
cookie=spindle-bench
source tools/background_nodes.sh  # work, pids, port
erlc -o "$work" bench/dist_bench.erl
# A neutral EPMD: neither server is the one that serves it.
start_epmd

erl_node() {  # erl_node NAME ARGS... : an erl with the benchmark module
  exec erl -noshell -name "$1@127.0.0.1" -setcookie "$cookie" -start_epmd false -pa "$work" +S "$threads:$threads" "${@:2}"
}
erl_node bs -s dist_bench serve >"$work/bs.log" 2>&1 &
pids+=($!)
declare -A server_pid=([bs]=$!)
"$bin/spindle-dist-bench" serve --name ss@127.0.0.1 --cookie "$cookie" --epmd-port "$port" --threads "$threads" \
  >"$work/ss.log" 2>&1 &
pids+=($!)
server_pid[ss]=$!
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # user + system, in clock ticks
for log in bs ss; do
  for _ in $(seq 200); do grep -q '^ready' "$work/$log.log" && break; sleep 0.05; done
  grep -q '^ready' "$work/$log.log" || { echo "the $log server did not start:"; cat "$work/$log.log"; exit 1; }
done

drive() {  # drive DRIVER SERVER WORKLOAD N SIZE -> the result (DRIVER: beam, spindle, spindle_local or spindle_shm)
  local driver=$1 target=$2@127.0.0.1 name="d$RANDOM"
  if [ "$driver" = beam ]; then
    erl_node "$name" -s dist_bench drive "$target" "$3" "$4" "$5"
  else
    local carrier=(--local-carrier false)
    [ "$driver" = spindle_local ] && carrier=(--local-carrier true --shared-ring-bytes 0)
    [ "$driver" = spindle_shm ] && carrier=(--local-carrier true)
    "$bin/spindle-dist-bench" drive --name "$name@127.0.0.1" --cookie "$cookie" --epmd-port "$port" \
      --threads "$threads" --target "$target" --workload "$3" --n "$4" --size "$5" "${carrier[@]}"
  fi | awk '/^result/ {print $2}'
}

# workload | n | size | unit
cases=(
  "pingpong|20000|0|round trips/s"
  "stream|500000|0|messages/s"
  "bulk|10000|65536|MB/s"
  "setup|20|0|ms per set-up"
  "rpc|5000|0|rpc:calls/s"
  "gen_call|20000|0|calls/s"
  "gen_call8|40000|0|calls/s"
)
pairings=("beam bs" "beam ss" "spindle bs" "spindle ss" "spindle_local ss" "spindle_shm ss")
if [ -n "${WORKLOADS:-}" ]; then
  chosen=()
  for c in "${cases[@]}"; do
    [[ " $WORKLOADS " == *" ${c%%|*} "* ]] && chosen+=("$c")
  done
  cases=("${chosen[@]}")
fi

for round in $(seq "$rounds"); do
  for c in "${cases[@]}"; do
    IFS='|' read -r workload n size unit <<<"$c"
    for p in "${pairings[@]}"; do
      read -r driver server <<<"$p"
      # rpc:call and gen_server:call loops are Erlang clients
      case "$workload" in rpc | gen_call*) [ "$driver" != beam ] && continue ;; esac
      before=$(cpu_ticks "${server_pid[$server]}")
      value=$(drive "$driver" "$server" "$workload" "$n" "$size")
      echo "$workload $driver-$server ${value:-nan}" >>"$work/results.txt"
      echo "cpu_$workload $driver-$server $(($(cpu_ticks "${server_pid[$server]}") - before))" >>"$work/results.txt"
    done
    # The TCP loopback's own limit, in the same rounds: the floor under any round trip,
    # the ceiling over any one-way stream of large binaries.
    case "$workload" in
      pingpong) floor=(floor --n "$n") ;;
      bulk) floor=(bulk_floor --stream --n "$n" --size "$size") ;;
      *) floor=() ;;
    esac
    if [ ${#floor[@]} -gt 0 ]; then
      for mode in blocking busy-poll; do
        flag=()
        [ "$mode" = busy-poll ] && flag=(--busy-poll)
        value=$("$bin/spindle-loopback-floor" "${floor[@]:1}" "${flag[@]}" | awk '/^result/ {print $2}')
        echo "${floor[0]} $mode ${value:-nan}" >>"$work/results.txt"
      done
    fi
  done
done

median() {  # median WORKLOAD PAIRING
  awk -v w="$1" -v p="$2" '$1 == w && $2 == p {print $3}' "$work/results.txt" | sort -g |
    awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}
ratio() {  # how many times better than BEAM<->BEAM (for set-up time, lower is better)
  awk -v a="$1" -v b="$2" -v lower="$3" 'BEGIN { if (a == 0 || b == 0) print "-"; else printf "%.2fx", lower ? b / a : a / b }'
}

echo "Distribution over loopback, $rounds rounds, median; driver -> server; ratios against BEAM -> BEAM."
echo
echo "| workload | unit | BEAM->BEAM | BEAM->Spindle | Spindle->BEAM | Spindle->Spindle | Spindle->Spindle, local socket | Spindle->Spindle, shared memory |"
echo "|---|---|---|---|---|---|---|---|"
for c in "${cases[@]}"; do
  IFS='|' read -r workload n size unit <<<"$c"
  lower=0
  [ "$workload" = setup ] && lower=1
  bb=$(median "$workload" beam-bs)
  row="| $workload | $unit | $(printf '%.4g' "$bb")"
  for p in beam-ss spindle-bs spindle-ss spindle_local-ss spindle_shm-ss; do
    v=$(median "$workload" "$p")
    if [ -z "$v" ]; then
      row="$row | -"
    else
      row="$row | $(printf '%.4g' "$v") ($(ratio "$v" "$bb" "$lower"))"
    fi
  done
  echo "$row |"
done
# What the server spent on the one-way workloads (where the driver is the bottleneck, the
# server's share of the 2 cores is what it takes from the driver).
cpu_heading=1
for w in stream bulk; do
  grep -q "^cpu_$w " "$work/results.txt" || continue
  if [ -n "$cpu_heading" ]; then
    echo
    echo "CPU the server process used per run, the same rounds (user + system, clock ticks of 1/$(getconf CLK_TCK) s, median):"
    cpu_heading=
  fi
  echo "$w: BEAM server $(median "cpu_$w" beam-bs) driven by BEAM, $(median "cpu_$w" spindle-bs) by Spindle;" \
    "Spindle server $(median "cpu_$w" beam-ss) driven by BEAM, $(median "cpu_$w" spindle-ss) by Spindle over TCP."
done
if grep -q '^floor ' "$work/results.txt"; then
  echo
  echo "TCP loopback floor, the same rounds (spindle-loopback-floor: two processes bounce 64 bytes, no framing):" \
    "$(printf '%.4g' "$(median floor blocking)") round trips/s sleeping in recv," \
    "$(printf '%.4g' "$(median floor busy-poll)") spinning on non-blocking reads."
fi
if grep -q '^bulk_floor ' "$work/results.txt"; then
  echo
  echo "TCP loopback ceiling for bulk, the same rounds (spindle-loopback-floor --stream: one process writes the" \
    "binaries' bytes, the other reads them, no framing): $(printf '%.4g' "$(median bulk_floor blocking)") MB/s" \
    "sleeping in recv, $(printf '%.4g' "$(median bulk_floor busy-poll)") MB/s spinning on non-blocking reads."
fi
