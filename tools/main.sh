#!/usr/bin/env bash
# The main job: set up, build the release tools, round-trip a term through spindle-etf,
# show an erl node talking to spindle-node, and measure the ETF codec, the actor runtime
# and the distribution against BEAM on this machine (bench/report.sh: a Markdown report
# and a chart in build/benchmarks/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release

bash tools/etf_demo.sh build/bin/spindle-etf
echo "== The distribution: an erl node talks to spindle-node"
bash tools/dist_demo.sh
echo "== Spindle vs BEAM on this machine: the ETF codec, actor workloads, the distribution"
bench/report.sh build/benchmarks "${SPINDLE_BENCH_ROUNDS:-3}"
cat build/benchmarks/report.md
echo "(chart: build/benchmarks/ratios.svg)"
