#!/usr/bin/env bash
# Regenerates the fuzz targets' seed corpora in tests/fuzz/corpus/ from a real Erlang/OTP
# (make_corpus.escript says what each holds). Starts a private epmd on EPMD_PORT (default
# 4391), so that no other node sees the fake ones, and stops it at the end. The files
# hold pids, references and challenges of the run, so each run writes different bytes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
port=${EPMD_PORT:-4391}
scratch=$(mktemp -d)

epmd -port "$port" &
epmd_pid=$!
trap 'kill "$epmd_pid" 2>/dev/null || true; rm -rf "$scratch"' EXIT
for _ in $(seq 50); do
  epmd -port "$port" -names >/dev/null 2>&1 && break
  sleep 0.1
done
kill -0 "$epmd_pid"  # not there: the port was taken (set EPMD_PORT)

ERL_EPMD_PORT=$port escript "$here/make_corpus.escript" "$scratch/corpus"
rm -rf "$here/corpus"
mv "$scratch/corpus" "$here/corpus"
find "$here/corpus" -type f | sed "s|$here/corpus/||; s|/.*||" | sort | uniq -c
