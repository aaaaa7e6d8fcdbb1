#!/usr/bin/env bash
# How each runtime scales with scheduler threads: every workload at every thread count,
# Spindle (spindle-actors --threads T) and BEAM (+S T:T) alternating run by run so load on
# a shared machine falls on both. Each figure is the median of the rounds. Prints a
# Markdown table with each runtime's speed-up against its own 1-thread figure.
#   bench/scaling.sh [ROUNDS] [THREADS...]   (defaults: 3 rounds; 1 2 4 ... up to all cores)
# WORKLOADS (default "parallel_pingpong") picks the workloads. parallel_pingpong runs
# ROUND_TRIPS_PER_THREAD (default 2,000,000) round trips per thread, spread over 4 pairs, so
# every thread count runs about as long per core; fanin sends MESSAGES_PER_PRODUCER (default
# 1,000,000) from each producer; the others run their usual sizes. Each
# measurement is also printed to stderr as it is made ("RUNTIME WORKLOAD THREADS VALUE
# SECONDS"), so a run that is cut short still leaves its figures.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
shift || true
threads=("$@")
if [ ${#threads[@]} -eq 0 ]; then
  for ((t = 1; t < $(nproc); t *= 2)); do threads+=("$t"); done
  threads+=("$(nproc)")
fi
workloads=(${WORKLOADS:-parallel_pingpong})
bin=${BUILD_DIR:-build}/bin
die() { echo "scaling.sh: $*" >&2; exit 1; }
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer, not '$rounds'"
for t in "${threads[@]}"; do
  [[ $t =~ ^[1-9][0-9]*$ ]] || die "THREADS must be positive integers, not '$t'"
done
[ -x "$bin/spindle-actors" ] || die "$bin/spindle-actors is missing: build first"
command -v escript >/dev/null || die "escript is not installed"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

size() {  # workload threads -> N
  case $1 in
    parallel_pingpong) echo $((${ROUND_TRIPS_PER_THREAD:-2000000} * $2)) ;;
    ring_spawn | idle_memory) echo 100000 ;;
    fanin) echo "${MESSAGES_PER_PRODUCER:-1000000}" ;;
    *) echo 1000000 ;;
  esac
}

measure() {  # RUNTIME WORKLOAD THREADS COMMAND... -> appends "WORKLOAD THREADS VALUE"
  local runtime=$1 w=$2 t=$3 start value
  shift 3
  start=$(date +%s.%N)
  value=$("$@" | awk '{print $2}')
  echo "$w $t $value" >> "$work/$runtime.txt"
  echo "$runtime $w $t $value $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e - s}')" >&2
}

for round in $(seq "$rounds"); do
  for w in "${workloads[@]}"; do
    for t in "${threads[@]}"; do
      n=$(size "$w" "$t")
      measure spindle "$w" "$t" "$bin/spindle-actors" --workload "$w" --n "$n" --threads "$t"
      ERL_FLAGS="+S $t:$t" measure beam "$w" "$t" escript bench/actors.erl "$w" "$n"
    done
  done
done

median() {  # file workload threads -> the median value
  awk -v w="$2" -v t="$3" '$1 == w && $2 == t {print $3}' "$1" | sort -g |
    awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

echo "| workload | threads | BEAM | BEAM speed-up | Spindle | Spindle speed-up | Spindle/BEAM |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for w in "${workloads[@]}"; do
  b1=$(median "$work/beam.txt" "$w" "${threads[0]}")
  s1=$(median "$work/spindle.txt" "$w" "${threads[0]}")
  for t in "${threads[@]}"; do
    b=$(median "$work/beam.txt" "$w" "$t")
    s=$(median "$work/spindle.txt" "$w" "$t")
    awk -v w="$w" -v t="$t" -v b="$b" -v s="$s" -v b1="$b1" -v s1="$s1" 'BEGIN {
      printf "| %s | %d | %.4g | %.2fx | %.4g | %.2fx | %.2fx |\n", w, t, b, b / b1, s, s / s1, s / b}'
  done
done
echo
echo "Speed-ups are against each runtime's figure at ${threads[0]} thread(s); $rounds round(s), median; $(nproc) cores."
