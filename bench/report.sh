#!/usr/bin/env bash
# Runs every Spindle-against-BEAM benchmark (bench/compare_codec.sh, compare_actors.sh and
# compare_dist.sh) in one go and writes a report of this machine's figures:
#   OUT_DIR/report.md   the machine, the three tables, the command that made it
#   OUT_DIR/ratios.tsv  group, name, ratio: one line per benchmark row, > 1 means Spindle
#                       is better (NA where the row could not be measured)
#   OUT_DIR/ratios.svg  those ratios as a bar chart (bench/ratios.gp, gnuplot)
#   bench/report.sh [OUT_DIR] [ROUNDS]    (defaults: docs/benchmarks, the report the README
#                                         shows; 3 rounds)
# SPINDLE_BENCH_SECONDS sets the codec's seconds per case per round (default 0.5);
# BUILD_DIR and WORKLOADS pass through to the compare scripts.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/docs/benchmarks}
rounds=${2:-3}
seconds=${SPINDLE_BENCH_SECONDS:-0.5}
bin=${BUILD_DIR:-build}/bin
# The compare scripts take BUILD_DIR from the repository root; check the same place.
[[ $bin == /* ]] || bin=$root/$bin
command_line=bench/report.sh
for arg in "$@"; do command_line+=" $(printf '%q' "$arg")"; done
plural=s
[ "$rounds" = 1 ] && plural=""

die() { echo "report.sh: $*" >&2; exit 1; }
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer, not '$rounds'"
for b in spindle-codec-bench spindle-actors spindle-dist-bench; do
  [ -x "$bin/$b" ] ||
    die "$bin/$b is missing: build first (cmake --preset release && cmake --build --preset release)"
done
# Fail now rather than after minutes of benchmarks.
for tool in erl escript erlc epmd gnuplot; do
  command -v "$tool" >/dev/null || die "$tool is not installed (gnuplot: apt-get install gnuplot-nox)"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# group | heading | compare script and its arguments
suites=(
  "codec|ETF codec throughput|compare_codec.sh $seconds $rounds"
  "actors|Actor workloads|compare_actors.sh $rounds"
  "dist|Distribution over loopback|compare_dist.sh $rounds"
)

failed=()
for s in "${suites[@]}"; do
  IFS='|' read -r group heading cmd <<<"$s"
  echo "== $heading: bench/$cmd" >&2
  start=$SECONDS
  status=0
  read -ra args <<<"$cmd"
  "$root/bench/${args[0]}" "${args[@]:1}" >"$work/$group.md" 2>"$work/$group.err" || status=$?
  echo "$status" >"$work/$group.status"
  if [ "$status" -ne 0 ]; then
    # Keep going: the other suites' figures are still worth a report.
    failed+=("$group")
    echo "   failed (exit $status); the end of its output and error output:" >&2
    { tail -n 5 "$work/$group.md"; tail -n 5 "$work/$group.err"; } | sed 's/^/   /' >&2
  else
    echo "   done in $((SECONDS - start)) s" >&2
  fi
done

# Each table, whatever its layout, has name columns, maybe a "unit" column, one BEAM
# column (the baseline), one or more Spindle columns and maybe a Spindle/BEAM column. The
# ratio is recomputed from the BEAM and Spindle figures rather than read from the table,
# to keep the precision the table's two decimals drop and to decide here which way is
# better: for the units that say less is better (bytes per process) or that are times
# (ms per set-up), it is BEAM/Spindle, so that > 1 always means Spindle is better. The
# table's own ratio is only a cross-check.
extract_ratios() {  # extract_ratios GROUP < TABLE -> "group<TAB>name<TAB>ratio" lines
  awk -v group="$1" '
    function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
    function num(s) {  # the figure a cell starts with, or "" (nan, "-", empty)
      s = trim(s); sub(/[ (].*/, "", s)
      return (s ~ /^[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$/) ? s + 0 : ""
    }
    function xratio(s) {  # "5.59x", "9.24x smaller", "1.2e+04 (0.62x)" -> the ratio
      return match(s, /[0-9]*\.?[0-9]+x/) ? substr(s, RSTART, RLENGTH - 1) + 0 : ""
    }
    BEGIN { FS = "|"; OFS = "\t" }
    !/^\|/ || /^\|[-:| ]+$/ { next }
    !header {
      header = 1
      for (i = 2; i < NF; i++) {
        h = trim($i); head[i] = h
        if (h == "unit") unitcol = i
        else if (h ~ /\/BEAM$/) ratiocol = i
        else if (h ~ /Spindle/) spin[++ns] = i
        else if (h ~ /BEAM/) base = i
        else names[++nn] = i
      }
      if (!base || !ns) { print "report.sh: no BEAM and Spindle columns in the " group " table" > "/dev/stderr"; exit }
      next
    }
    {
      unit = unitcol ? trim($unitcol) : ""
      # The speed-up row compares each runtime with itself, not Spindle with BEAM.
      if (unit == "ratio") next
      lower = unit ~ /less is better/ || unit ~ /^(ns|us|ms|s) per /
      name = trim($(names[1]))
      for (k = 2; k <= nn; k++) name = name " " trim($(names[k]))
      b = num($base)
      for (k = 1; k <= ns; k++) {
        c = spin[k]; v = num($c)
        label = ns > 1 ? name " " head[c] : name
        if (b == "" || v == "" || b <= 0 || v <= 0) { print group, label, "NA"; continue }
        r = lower ? b / v : v / b
        t = ratiocol ? xratio($ratiocol) : xratio($c)
        if (t != "" && (r - t > 0.006 + 0.01 * t || t - r > 0.006 + 0.01 * t))
          printf "report.sh: warning: %s %s: ratio %.3f here, %.2f in the table\n", group, label, r, t > "/dev/stderr"
        print group, label, sprintf("%.4g", r)
      }
    }'
}

printf 'group\tname\tratio\n' >"$work/ratios.tsv"
for s in "${suites[@]}"; do
  group=${s%%|*}
  extract_ratios "$group" <"$work/$group.md" >>"$work/ratios.tsv"
done

# The machine, for the report and the chart.
cores=$(nproc)
cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
cpu=${cpu:-unknown CPU}
memory=$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
otp=$(erl -noshell -eval 'io:format("~s", [erlang:system_info(otp_release)]), halt().')
date=$(date -u '+%Y-%m-%d %H:%M UTC')
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
# --no-optional-locks: someone may be committing in this checkout meanwhile.
if [ -n "$(git -C "$root" --no-optional-locks status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  commit="$commit, with uncommitted changes"
fi

# The chart: measured rows only, one slot each from the top, a blank slot between groups.
awk -F'\t' -v OFS='\t' 'NR > 1 && $3 != "NA" {
    if (seen && $1 != last) y++
    print y++, $1, $2, $3; last = $1; seen = 1
  }' "$work/ratios.tsv" >"$work/chart.tsv"
chart=""
if [ -s "$work/chart.tsv" ]; then
  groups=$(cut -f2 "$work/chart.tsv" | uniq | paste -sd ' ')
  slots=$(($(tail -n 1 "$work/chart.tsv" | cut -f1) + 2))
  height=$((180 + 24 * slots))
  # A chart that fails to draw must not cost the figures measured above.
  if gnuplot -c "$root/bench/ratios.gp" "$work/chart.tsv" "$work/ratios.svg" "$height" "$groups" \
    "$cores cores, $cpu, $memory, OTP $otp, median of $rounds round$plural, $date"; then
    chart=ratios.svg
  else
    failed+=(chart)
  fi
else
  echo "report.sh: no row was measured, so no chart" >&2
fi

{
  echo "# Spindle against BEAM"
  echo
  echo "$date. Every figure is the median of $rounds round$plural, Spindle and BEAM measured alternately"
  echo "on the same machine."
  echo
  echo "- Machine: $cores cores, $cpu, $memory of memory"
  echo "- Erlang/OTP: $otp"
  echo "- Spindle: $commit"
  echo
  if [ -n "$chart" ]; then
    echo "![How many times better Spindle does than BEAM, log scale](ratios.svg)"
    echo
    echo "The chart ([ratios.tsv](ratios.tsv)) shows Spindle/BEAM throughput, or BEAM/Spindle for"
    echo "memory per process and connection set-up time, where less is better: > 1 always means"
    echo "Spindle is better. Rows that could not be measured are left out of it, and so is the"
    echo "speed-up row, which compares each runtime with itself."
    echo
  fi
  for s in "${suites[@]}"; do
    IFS='|' read -r group heading cmd <<<"$s"
    echo "## $heading"
    echo
    echo "\`bench/$cmd\`"
    echo
    status=$(cat "$work/$group.status")
    if [ "$status" -eq 0 ]; then
      cat "$work/$group.md"
      echo
    else
      # Verbatim: a failed script's output is a diagnosis, not a table to render.
      echo "**Failed** (exit $status)."
      echo
      for f in md err; do
        if [ -s "$work/$group.$f" ]; then
          echo "Its $([ "$f" = md ] && echo output || echo error output), the last lines:"
          echo
          echo '```'
          tail -n 20 "$work/$group.$f"
          echo '```'
          echo
        fi
      done
    fi
  done
  echo "## How this report was made"
  echo
  echo '```sh'
  for v in SPINDLE_BENCH_SECONDS BUILD_DIR WORKLOADS; do
    if [ -n "${!v:-}" ]; then printf '%s=%q ' "$v" "${!v}"; fi
  done
  echo "$command_line"
  echo '```'
} >"$work/report.md"

# Into place only once complete, so an interrupted run leaves the last report whole.
cp "$work/report.md" "$work/ratios.tsv" "$out/"
if [ -n "$chart" ]; then cp "$work/ratios.svg" "$out/"; else rm -f "$out/ratios.svg"; fi
echo "report.sh: wrote $out/report.md, ratios.tsv${chart:+ and ratios.svg}" >&2
if [ "${#failed[@]}" -gt 0 ]; then
  die "failed: ${failed[*]} (see the report)"
fi
