#!/usr/bin/env bash
# Soak test: a spindle-node --demo under mixed load for SECONDS (default 120) from
# PEERS (default 3) real Erlang nodes, one of them killed (kill -9, mid-traffic) every
# 3 s and replaced by a new one (bench/soak.erl says what each peer sends). Prints what
# the live peers sent, received and lost (must be 0), what the killed ones had sent,
# and spindle-node's memory: sampled every second, its peak (VmHWM) and at the end.
# Exits 1 if anything was lost or spindle-node died.
#   tools/soak.sh [SECONDS] [PEERS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-120}
peers=${2:-3}
bin=${BUILD_DIR:-build}/bin
[ -x "$bin/spindle-node" ] || { echo "soak: build first (cmake --preset release && cmake --build --preset release)"; exit 2; }
source tools/background_nodes.sh  # work, pids, port
cookie=spindle-soak
erlc -o "$work" bench/soak.erl

"$bin/spindle-node" --name soak@127.0.0.1 --cookie "$cookie" --demo --epmd-port "$port" >"$work/node.log" 2>&1 &
node=$!
pids+=("$node")
for _ in $(seq 200); do grep -q '^ready' "$work/node.log" && break; sleep 0.05; done
grep -q '^ready' "$work/node.log" || { echo "soak: spindle-node did not start:"; cat "$work/node.log"; exit 1; }

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$node/status"; }
start_kb=$(rss_kb)
(while kill -0 "$node" 2>/dev/null; do rss_kb >>"$work/rss"; sleep 1; done) &
pids+=($!)

echo "soak: ${seconds}s, $peers peers against spindle-node (pid $node), one killed every 3 s"
status=0
erl -noshell -name soak_ctl@127.0.0.1 -setcookie "$cookie" -start_epmd false -pa "$work" \
  -run soak main soak@127.0.0.1 "$seconds" "$peers" "$work" | tee "$work/result" || status=$?

if ! kill -0 "$node" 2>/dev/null; then
  echo "soak: spindle-node died:"
  tail -n 40 "$work/node.log"
  exit 1
fi
peak_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$node/status")
end_kb=$(rss_kb)
max_sampled=$(sort -n "$work/rss" | tail -n 1)
echo "spindle-node memory: at start $((start_kb / 1024)) MB, peak $((peak_kb / 1024)) MB (VmHWM; sampled max $((max_sampled / 1024)) MB), at end $((end_kb / 1024)) MB"
echo "spindle-node log: $(grep -c 'warning' "$work/node.log" || true) warnings, $(grep -c 'closed' "$work/node.log" || true) connections closed"
grep warning "$work/node.log" | head -n 5 || true
kill -TERM "$node"
wait "$node" || { echo "soak: spindle-node did not exit cleanly on SIGTERM"; exit 1; }
grep -q '^result lost 0$' "$work/result" || status=1
exit "$status"
