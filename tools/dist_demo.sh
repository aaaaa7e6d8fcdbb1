#!/usr/bin/env bash
# The distribution in action: starts `spindle-node --demo` and has a real `erl` node ping
# it, message its echo service, rpc:call and erl_call its functions, and spawn a worker
# on it. Uses a private EPMD port (the node's embedded EPMD) and stops what it starts.
set -euo pipefail
cd "$(dirname "$0")/.."
port=$((20000 + RANDOM % 12000))  # below the ephemeral range
cookie=spindle-demo
export ERL_EPMD_PORT=$port
log=$(mktemp)
build/bin/spindle-node --name "spin$port@127.0.0.1" --cookie "$cookie" --demo --epmd-port "$port" >"$log" 2>&1 &
node_pid=$!
trap 'kill "$node_pid" 2>/dev/null || true; wait "$node_pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do grep -q '^ready' "$log" && break; sleep 0.05; done
grep '^ready' "$log"
erl -noshell -name "me$port@127.0.0.1" -setcookie "$cookie" -start_epmd false -eval "
  N = 'spin$port@127.0.0.1',
  io:format(\"net_adm:ping -> ~p~n\", [net_adm:ping(N)]),
  {echo, N} ! {self(), hello},
  io:format(\"echo -> ~p~n\", [receive M -> M after 5000 -> timeout end]),
  io:format(\"rpc:call add(2^70, 1) -> ~p~n\", [rpc:call(N, spindle_demo, add, [1 bsl 70, 1])]),
  io:format(\"rpc:call nope(1) -> ~p~n\", [rpc:call(N, spindle_demo, nope, [1])]),
  W = spawn(N, spindle_demo, worker, []),
  W ! {self(), ping},
  io:format(\"spawned worker ~p -> ~p~n\", [W, receive P -> P after 5000 -> timeout end]),
  halt()."
erl_call=$(ls /usr/lib/erlang/lib/erl_interface-*/bin/erl_call 2>/dev/null | head -1)
if [ -n "$erl_call" ]; then
  echo "erl_call -a 'spindle_demo add [1,2]' -> $("$erl_call" -n "spin$port@127.0.0.1" -c "$cookie" -a 'spindle_demo add [1,2]')"
fi
kill -TERM "$node_pid"
wait "$node_pid" && echo "spindle-node exited 0 on SIGTERM"
