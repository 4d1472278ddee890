#!/usr/bin/env bash
# The PostgreSQL sink benchmark, in one run on this machine: RECORDS (default
# 1,000,000) route records in 32 partitions, read from a topic filled
# beforehand, into two table shapes (with and without a primary key), RUNS
# (default 3) times each, every way back to back in each run:
#   (a) psql \copy of the same rows as CSV, one transaction
#   (b) raw libpq binary COPY of the same rows, one transaction (and CSV, without psql)
#   sluice's sink with its DEFAULT settings, alone in its process (--only sinks
#       against a separate `sluice broker`), exactly once; its peak RSS (VmHWM);
#       then tuned variants as extra lines (32MB batches, text COPY)
#   (c) a row-per-INSERT-and-commit consumer, as hand-made scripts do (fewer rows)
# and the time to first row of `sluice run` on the embedded broker.
# Prints min-max over the runs of each rate, each ratio (taken within a run)
# and each peak RSS. How each way is timed: see bench/lib.sh.
# With BASELINE_SLUICE=PATH, that binary's sink with its defaults is one more
# line (table with a primary key), and defaults/baseline a ratio within each run.
# Usage: [RECORDS=1000000] [RUNS=3] [BASELINE_RECORDS=5000] [BASELINE_SLUICE=PATH] [COMPRESSION=zstd] bash bench/run.sh
# It took 7-8 min with RUNS=3 (10 with RUNS=5) on the quiet 2-core machine, 12-16 min while parallel builds
# kept its load average at 11-13 (each sluice run spends ~4 s starting and
# joining its group); RUNS=1 for a quick look. RECORDS much above 2M may pass
# the broker's ~5 MB per partition; the dump's check then stops the script.
set -euo pipefail
baseline_n=${BASELINE_RECORDS:-5000}
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

# A sluice sink run of one table shape, noted under "<table>.<key>": its rate,
# wall-time rate, peak RSS, and their ratios to the same run's COPY lines.
# (A failure inside "$(...)" ends only that subshell: results are assigned
# before they are used, so that `set -e` ends the script.)
sluice_line() {  # TABLE RUN COPY_RATE BINARY_RATE KEY [TOML LINES...]
  local t=$1 run=$2 copy=$3 binary=$4 key=$5 out logged wall peak cpu
  shift 5
  out=$(sluice_sink "$key-$t-$run" "$t" "$@")
  read -r logged wall peak cpu <<<"$out"
  note "$t.$key.cpu" "$cpu"
  note "$t.$key" "$logged"
  note "$t.$key.rss" "$peak"
  note "$t.$key/copy" "$(ratio "$logged" "$copy")"
  note "$t.$key/binary" "$(ratio "$logged" "$binary")"
  note "$t.$key.wall" "$wall"
  note "$t.$key.wall/copy" "$(ratio "$wall" "$copy")"
  note "$t.$key.wall/binary" "$(ratio "$wall" "$binary")"
  last_rate=$logged
  last_cpu=$cpu
  echo "run $run $t: sluice $key $logged rows/s (wall $wall), peak RSS $((peak / 1024)) MiB;" \
    "\\copy $copy, binary COPY $binary" >&2
}
# One run of one table shape: the COPY lines, then sluice's, back to back.
measure_shape() {  # TABLE RUN
  local t=$1 run=$2 copy binary csv
  copy=$(psql_copy "$t")
  binary=$(libpq_copy binary "$t")
  csv=$(libpq_copy csv "$t")
  note "$t.copy" "$copy"
  note "$t.binary" "$binary"
  note "$t.csv" "$csv"
  sluice_line "$t" "$run" "$copy" "$binary" default
  if [ "$t" = routes_pk ]; then
    # The cost of metrics: the defaults (the HTTP server on, every metric
    # counted) against the same with the server off, back to back.
    local with_metrics=$last_rate with_metrics_cpu=$last_cpu
    sluice_line "$t" "$run" "$copy" "$binary" nometrics '[http]' 'listen = ""'
    note "$t.default/nometrics" "$(ratio "$with_metrics" "$last_rate")"
    if [ -n "$baseline" ]; then
      sink_bin=$baseline sluice_line "$t" "$run" "$copy" "$binary" baseline
      note "$t.default/baseline" "$(ratio "$with_metrics" "$last_rate")"
      note "$t.default/baseline.cpu" "$(ratio "$with_metrics_cpu" "$last_cpu")"
    fi
  fi
  sluice_line "$t" "$run" "$copy" "$binary" batch32mb "batch_max_bytes = \"32MB\""
  if [ "$t" = routes_pk ]; then sluice_line "$t" "$run" "$copy" "$binary" text 'copy_format = "text"'; fi
}

for run in $(seq "$runs"); do
  measure_shape routes_pk "$run"
  measure_shape routes_nopk "$run"
done

# (c) the hand-made consumer, on the first $baseline_n records it gets (it is slow)
reset_table routes_pk
c=$("$bin/bench/row_per_insert" "$KAFKA_BOOTSTRAP" routes "$PG_URI" routes_pk "$baseline_n")
[ "$(sql "SELECT count(*) FROM routes_pk")" = "$baseline_n" ] || { echo "row_per_insert: wrong row count" >&2; exit 1; }

# Time to first row: `sluice run` of a whole pipeline on the embedded broker
# (random_routes -> postgres, sink defaults), from the command's start to the
# first row visible in PostgreSQL, polled every 5 ms.
cat >"$work/first_row.toml" <<TOML
name = "first_row"
[[sources]]
type = "random_routes"
topic = "routes"
key = "user_id"
partitions = 8
count = 200000
[[sinks]]
name = "store"
type = "postgres"
topic = "routes"
conninfo = "\${PG_URI}"
table = "routes_pk"
TOML
for run in $(seq "$runs"); do
  reset_table routes_pk
  first=$("$bin/bench/first_row" "$PG_URI" routes_pk "$sluice" run "$work/first_row.toml" --progress 0s \
    2>"$work/first_row-$run.log")
  note first_row "$first"
  echo "run $run: first row after $first s" >&2
done
psql_ms=$(psql_start_ms)

row() { printf '%-52s %13s %13s %13s %13s\n' "$@"; }
shape() {  # TABLE TITLE
  local t=$1
  printf '\n%s\n' "$2"
  row "" "rows/s" "sluice/\\copy" "sluice/binary" "peak RSS"
  row "(a) psql \\copy, CSV, one transaction" "$(span "$t.copy" rate)"
  row "(b) libpq COPY binary, one transaction" "$(span "$t.binary" rate)"
  row "    libpq COPY CSV, one transaction" "$(span "$t.csv" rate)"
  row "sluice, DEFAULT settings" "$(span "$t.default" rate)" "$(span "$t.default/copy" ratio)" \
    "$(span "$t.default/binary" ratio)" "$(span "$t.default.rss" mb)"
  row "    its CPU time (user + system) per row" "$(span "$t.default.cpu" ns)"
  row "    the same, by the sink process's wall time" "$(span "$t.default.wall" rate)" \
    "$(span "$t.default.wall/copy" ratio)" "$(span "$t.default.wall/binary" ratio)"
  row "sluice, batch_max_bytes = \"32MB\"" "$(span "$t.batch32mb" rate)" "$(span "$t.batch32mb/copy" ratio)" \
    "$(span "$t.batch32mb/binary" ratio)" "$(span "$t.batch32mb.rss" mb)"
  if [ "$t" = routes_pk ]; then
    row "sluice, defaults with [http] listen = \"\" (no metrics served)" "$(span "$t.nometrics" rate)" \
      "$(span "$t.nometrics/copy" ratio)" "$(span "$t.nometrics/binary" ratio)" "$(span "$t.nometrics.rss" mb)"
    row "    defaults / no metrics served (within each run)" "$(span "$t.default/nometrics" ratio)"
    if [ -n "$baseline" ]; then
      row "BASELINE_SLUICE, its defaults" "$(span "$t.baseline" rate)" "$(span "$t.baseline/copy" ratio)" \
        "$(span "$t.baseline/binary" ratio)" "$(span "$t.baseline.rss" mb)"
      row "    its CPU time per row" "$(span "$t.baseline.cpu" ns)"
      row "    defaults / BASELINE_SLUICE (within each run)" "$(span "$t.default/baseline" ratio)"
      row "    CPU per row, defaults / BASELINE_SLUICE" "$(span "$t.default/baseline.cpu" ratio)"
    fi
    row "sluice, copy_format = \"text\"" "$(span "$t.text" rate)" "$(span "$t.text/copy" ratio)" \
      "$(span "$t.text/binary" ratio)" "$(span "$t.text.rss" mb)"
  fi
}
printf '\nPostgreSQL sink, %s routes records in 32 partitions, %s cores, %s runs: min-max over the runs\n' \
  "$records" "$(nproc)" "$runs"
echo "(ratios are taken within each run, every way back to back; sluice is timed from its first"
echo " record received to its last row committed, and also by its process's wall time, start"
printf '%s\n' ' incl. group join to exit; psql by its \timing of the \copy, which leaves out its start and'
echo " connect, ${psql_ms} ms of wall time here)"
shape routes_pk "table with a primary key: (seq bigint primary key, user_id integer, ts, lat, lon double precision)"
shape routes_nopk "table without a primary key: (seq bigint, user_id integer, ts, lat, lon double precision)"
echo
row "(c) row-per-INSERT consumer, commit per row ($baseline_n rows)" "$c"
awk -v c="$c" -v lo="$(lowest routes_pk.default)" 'BEGIN { printf "sluice defaults / (c) >= %.0fx\n", lo / c }'
echo "time to first row, \`sluice run\` on the embedded broker to the first row committed: $(span first_row s)"
echo "targets: sluice/\\copy >= 0.9 with the defaults, both shapes; peak RSS <= 64 MiB; first row <= 1 s"
