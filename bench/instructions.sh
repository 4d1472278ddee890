#!/usr/bin/env bash
# What a change costs per record, counted in instructions rather than timed:
# the PostgreSQL sink with its DEFAULT settings, alone in its process (as in
# bench/run.sh), reads RECORDS (default 200,000) route records into the table
# with a primary key under valgrind's callgrind, once with this build and
# once with BASELINE_SLUICE (a sluice binary built from another commit, e.g.
# d54cc15, the last one before metrics). callgrind counts the instructions
# each thread executed; they do not depend on what else the machine is doing,
# so a difference of 1% shows where timed runs on a shared machine (a spread
# of +-10% per run) cannot. Prints instructions per row for the whole process
# and for its busiest threads (the consumer and the writer), and the ratios.
# Time-driven work (timers, the lag monitor asking watermarks once a second)
# runs ~50 times more often per record under valgrind: the ratio is an upper
# bound of its share. Needs valgrind (on every dev machine here).
# Usage: BASELINE_SLUICE=PATH [RECORDS=200000] bash bench/instructions.sh
# It took about 6 min on the 2-core machine.
set -euo pipefail
: "${BASELINE_SLUICE:?set BASELINE_SLUICE to the sluice binary to compare with}"
RECORDS=${RECORDS:-200000}
export RECORDS
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
command -v valgrind >/dev/null || { echo "bench/instructions.sh needs valgrind" >&2; exit 1; }
mkdir -p "$work/cg"
# One wrapper per build, so that lib.sh's sluice_sink runs it under callgrind.
for w in this baseline; do
  bin_of=$sluice
  [ "$w" = baseline ] && bin_of=$baseline
  printf '#!/bin/sh\nexec valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file=%s/cg/%s.%%p %s "$@"\n' \
    "$work" "$w" "$bin_of" >"$work/vg-$w.sh"
  chmod +x "$work/vg-$w.sh"
  sink_bin=$work/vg-$w.sh sluice_sink "cg-$w" routes_pk >/dev/null
  # summary: per thread file; the process is their sum, the two busiest apart
  awk '/^summary:/ { print $2 }' "$work/cg/$w".*-* | sort -n -r >"$work/$w.threads"
done
per_row() { awk -v n="$records" '{ s += $1 } END { printf "%.0f", s / n }'; }
busiest() { head -2 "$1" | per_row; }
t_all=$(per_row <"$work/this.threads"); b_all=$(per_row <"$work/baseline.threads")
t_two=$(busiest "$work/this.threads"); b_two=$(busiest "$work/baseline.threads")
printf '\nPostgreSQL sink, DEFAULT settings, %s records, table with a primary key, under callgrind\n' "$records"
printf '%-44s %16s %16s %8s\n' "instructions per row" "this build" "BASELINE_SLUICE" "ratio"
printf '%-44s %16s %16s %8s\n' "the whole process (every thread)" "$t_all" "$b_all" "$(ratio "$t_all" "$b_all")"
printf '%-44s %16s %16s %8s\n' "its two busiest threads" "$t_two" "$b_two" "$(ratio "$t_two" "$b_two")"
