#!/usr/bin/env bash
# Packs what bench/scaling.sh and bench/compare_actors.sh need into one folder that runs on
# another x86-64 Linux machine with neither oneTBB nor Erlang installed (a many-core machine
# borrowed for an hour, say): spindle-actors, a minimal OTP (erts, kernel, stdlib,
# compiler) and every shared library they load, this machine's C library included. Each
# program runs through the bundled dynamic loader, so the other machine's libraries and C
# library version do not matter, and the folder may be moved.
#   bench/bundle.sh DIR [NAME=PROGRAM ...]   then, on the other machine, from the repository root:
#   PATH=DIR/erlang/bin:$PATH BUILD_DIR=DIR bench/scaling.sh
# Each NAME=PROGRAM adds another program (another build of spindle-actors, say, to compare
# two versions in one run there) as DIR/bin/NAME.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bench/bundle.sh DIR [NAME=PROGRAM ...]}
shift
for extra in "$@"; do
  [[ $extra =~ ^[A-Za-z0-9._-]+=.+$ ]] || { echo "bundle.sh: '$extra' is not NAME=PROGRAM" >&2; exit 2; }
  [ -x "${extra#*=}" ] || { echo "bundle.sh: ${extra#*=} is not an executable" >&2; exit 2; }
done
bin=${BUILD_DIR:-build}/bin
[ -x "$bin/spindle-actors" ] || { echo "bundle.sh: $bin/spindle-actors is missing: build first" >&2; exit 1; }
root=$(erl -noshell -eval 'io:format("~s", [code:root_dir()]), halt().')
erts=$(basename "$(ls -d "$root"/erts-*)")

rm -rf "$out"
mkdir -p "$out/lib" "$out/bin" "$out/erlang/bin" "$out/erlang/$erts/bin" "$out/erlang/lib"

# Every library an ELF file loads, by the path this machine resolves it to.
libraries() {
  local found
  found=$(ldd "$1")
  if grep -q "not found" <<< "$found"; then
    echo "bundle.sh: $1 needs libraries this machine lacks:" >&2
    grep "not found" <<< "$found" >&2
    return 1
  fi
  awk '/=> \// {print $3} /^\t\/.*ld-linux/ {print $1}' <<< "$found"
}

# Puts ELF file $1 at DIR/$2.real, and at DIR/$2 a script that runs it through the bundled
# loader, found relative to the script. The program sees the script's path as argv[0]:
# escript reads its own name there, and looks for `erl` beside it.
wrap() {
  cp "$1" "$out/$2.real"
  local libs lib up
  libs=$(libraries "$1")
  for lib in $libs; do [ -e "$out/lib/$(basename "$lib")" ] || cp "$lib" "$out/lib/"; done
  up=$(dirname "$2" | sed 's|[^/][^/]*|..|g')
  printf '#!/bin/sh\nlib="$(dirname "$0")/%s/lib"\n%s\n' "$up" \
    'exec "$lib/ld-linux-x86-64.so.2" --library-path "$lib" --argv0 "$0" "$0.real" "$@"' > "$out/$2"
  chmod +x "$out/$2"
}

wrap "$bin/spindle-actors" bin/spindle-actors
for extra in "$@"; do wrap "${extra#*=}" "bin/${extra%%=*}"; done
for prog in beam.smp erlexec erl_child_setup inet_gethost; do
  wrap "$root/$erts/bin/$prog" "erlang/$erts/bin/$prog"
done
wrap "$root/$erts/bin/escript" erlang/bin/escript
# OTP's own `erl` script names its root at install time; this one finds it.
printf '#!/bin/sh\n%s\n%s\n%s\n' 'ROOTDIR="$(cd "$(dirname "$0")/.." && pwd)"' \
  "BINDIR=\"\$ROOTDIR/$erts/bin\"" \
  'EMU=beam PROGNAME=erl; export ROOTDIR BINDIR EMU PROGNAME; exec "$BINDIR/erlexec" "$@"' \
  > "$out/erlang/bin/erl"
chmod +x "$out/erlang/bin/erl"
cp "$root"/bin/*.boot "$out/erlang/bin/"
cp -r "$root/releases" "$out/erlang/"
for app in kernel stdlib compiler; do
  dir=$(basename "$(ls -d "$root/lib/$app-"*)")
  mkdir -p "$out/erlang/lib/$dir"
  cp -r "$root/lib/$dir/ebin" "$out/erlang/lib/$dir/"
done
du -sh "$out"
