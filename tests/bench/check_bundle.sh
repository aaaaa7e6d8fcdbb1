#!/usr/bin/env bash
# bench/bundle.sh packs spindle-actors and a minimal OTP into a folder that runs elsewhere;
# moved to another path and run with no system Erlang ahead of it on PATH, bench/scaling.sh
# must still measure both runtimes at two thread counts, and a second program bundled
# beside spindle-actors must run from there too.
#   tests/bench/check_bundle.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: check_bundle.sh BUILD_DIR}" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
BUILD_DIR=$build bash "$root/bench/bundle.sh" "$work/packed" "other-build=$build/bin/spindle-actors" > /dev/null
mv "$work/packed" "$work/moved"
table=$(env PATH="$work/moved/erlang/bin:/usr/bin:/bin" BUILD_DIR="$work/moved" ROUND_TRIPS_PER_THREAD=20000 \
  WORKLOADS="parallel_pingpong spawn" bash "$root/bench/scaling.sh" 1 1 2 2> "$work/log")
echo "$table"
# The BEAM really ran from the bundle: its emulator's path is in the bundle.
[ "$(env PATH="$work/moved/erlang/bin:/usr/bin:/bin" erl -noshell -eval 'io:format("~s", [code:root_dir()]), halt().')" = "$work/moved/erlang" ] ||
  { echo "the bundle's erl did not run from the bundle"; exit 1; }
rows=$(grep -cE '^\| (parallel_pingpong|spawn) \| [12] \| [0-9.e+]+ \| [0-9.]+x \| [0-9.e+]+ \| [0-9.]+x \| [0-9.]+x \|$' <<< "$table")
[ "$rows" = 4 ] || { echo "expected 4 rows of figures, got $rows"; cat "$work/log"; exit 1; }
other=$(env PATH=/usr/bin:/bin "$work/moved/bin/other-build" --workload pingpong --n 1000 --threads 1)
[[ $other =~ ^pingpong\ [0-9.]+\ round_trips/s$ ]] || { echo "the second bundled program printed '$other'"; exit 1; }
echo "bundle ok"
