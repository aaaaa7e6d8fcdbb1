#!/usr/bin/env bash
# ETF codec throughput, Spindle against BEAM, measured in one run on this machine.
# Both decode the same bytes (OTP's term_to_binary output) and encode the same terms.
# The two alternate, round by round, so that load on a shared machine falls on both;
# each rate is the median of the rounds. Prints a Markdown table.
#   bench/compare_codec.sh [SECONDS_PER_CASE_PER_ROUND] [ROUNDS]   (defaults 0.5 and 3)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-0.5}
rounds=${2:-3}
bin=${BUILD_DIR:-build}/bin
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

escript bench/codec_workloads.erl write "$work"
for round in $(seq "$rounds"); do
  SPINDLE_CODEC_INPUTS=$work "$bin/spindle-codec-bench" --benchmark_filter='^(decode|encode)/' \
    --benchmark_min_time="$seconds" --benchmark_format=csv 2>/dev/null |
    awk -F, 'NR > 1 {gsub("\"", "", $1); split($1, n, "/"); print n[2], n[1], $(NF-3)}' >> "$work/spindle.txt"
  escript bench/codec_workloads.erl bench "$seconds" | awk '{print $1, $2, $3}' >> "$work/beam.txt"
done

median() {  # "workload op rate" lines -> "workload op median_rate"
  sort -k1,1 -k2,2 -k3,3g "$1" |
    awk '{k = $1 " " $2; v[k, ++n[k]] = $3} END {for (k in n) print k, v[k, int((n[k] + 1) / 2)]}'
}
median "$work/spindle.txt" > "$work/spindle.med"
median "$work/beam.txt" > "$work/beam.med"

echo "| workload | operation | BEAM ops/s | Spindle ops/s | Spindle/BEAM |"
echo "|---|---|---:|---:|---:|"
for w in small_message binary_1mb int_list_100k map_10k nested_100kb; do
  for op in decode encode; do
    awk -v w="$w" -v op="$op" 'NR == FNR {if ($1 == w && $2 == op) s = $3; next}
      $1 == w && $2 == op {printf "| %s | %s | %.0f | %.0f | %.2fx |\n", w, op, $3, s, s / $3}' \
      "$work/spindle.med" "$work/beam.med"
  done
done
