# Sourced by scripts that start nodes in the background (bench/compare_dist.sh,
# bench/count_dist_instructions.sh, tools/soak.sh): a scratch directory `work`, every pid
# added to `pids` killed at exit (by pid, never by name), and a private EPMD port,
# exported as ERL_EPMD_PORT for the erl nodes and in `port` for the rest; start_epmd
# starts an EPMD there.
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$((20000 + RANDOM % 12000))  # below the kernel's ephemeral range, so no connection holds it
export ERL_EPMD_PORT=$port

start_epmd() {  # an EPMD of its own on $port (in pids), answering when this returns
  epmd -port "$port" &
  pids+=($!)
  until epmd -port "$port" -names >/dev/null 2>&1; do sleep 0.05; done
}
