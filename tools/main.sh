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

etf=build/bin/spindle-etf
term='{ok, [1, 2.5, "str", <<"bin">>, #{a => b}], '\''Quoted atom'\'', 123456789012345678901234567890}.'
echo "== spindle-etf: text -> ETF -> text"
echo "$term"
echo "$term" | "$etf" encode | "$etf" decode
echo "== spindle-etf: bytes from Erlang's term_to_binary, decoded"
erl -noshell -eval 'ok = file:write(standard_io, term_to_binary({self(), make_ref(), fun lists:sum/1, #{<<"k">> => [a|b]}, -(1 bsl 100)})), halt().' | "$etf" decode
echo "== The distribution: an erl node talks to spindle-node"
bash tools/dist_demo.sh
echo "== Spindle vs BEAM on this machine: the ETF codec, actor workloads, the distribution"
bench/report.sh build/benchmarks "${SPINDLE_BENCH_ROUNDS:-3}"
cat build/benchmarks/report.md
echo "(chart: build/benchmarks/ratios.svg)"
