# shellcheck shell=bash
# shellcheck disable=SC2034  # root, runs...: set here for the scripts that source this
# Shared set-up and measurements of the sink benchmarks (bench/run.sh,
# bench/transform.sh), sourced after `set -euo pipefail`. It builds Release
# into BIN_DIR (default build-bench), starts a throwaway PostgreSQL with the
# two table shapes and a `sluice broker` with a 32-partition `routes` topic,
# fills the topic with RECORDS (default 1,000,000) route records, and reads
# them back once as CSV (rows.csv) for the COPY lines, so every way writes the
# very same rows. Sets: root, bin, work, records, runs, PG_URI, KAFKA_BOOTSTRAP;
# cleans up on exit.
#
# How each way is timed (rows/s = rows / seconds). Each clock starts once
# the process is up and connected, and stops at the last row committed:
# - psql \copy: psql's own \timing of the \copy command (reading the file,
#   the COPY, its commit). psql's start and connect, which its wall time would
#   add (~0.2 s on this machine, over 10% of the COPY), are left out.
# - libpq COPY (copy_ceiling): from BEGIN to COMMIT, rows prepared before.
# - sluice: the sink's own log line, from the first record it receives to the
#   last row committed. It includes everything per row: fetching, decoding,
#   every COPY and every commit. It leaves out the start (the PostgreSQL
#   connect, the catalog read and, against a separate broker, the consumer
#   group's join, seconds paid once per process, not per row), which the time
#   to first row line measures on its own. The sink process's wall time (start
#   to exit) is printed beside it, so nothing is hidden.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1
bin=${BIN_DIR:-build-bench}
records=${RECORDS:-1000000}
runs=${RUNS:-3}
# BASELINE_SLUICE: another sluice binary (say, a Release build of a commit
# before metrics, d54cc15) whose sink run is measured beside the defaults in
# each run, to state what a change costs; unset, no such line.
baseline=${BASELINE_SLUICE:-}
bash scripts/deps.sh
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
echo "building $bin (Release)..." >&2
bash scripts/build.sh "$bin" -DSLUICE_TESTS=OFF -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
sluice=$root/$bin/core/sluice
work=$(mktemp -d)
IFS=$'\t' read -r pgdir PG_URI < <(bash scripts/throwaway-pg.sh start)
export PG_URI
broker_pid=
cleanup() {
  if [ -n "$broker_pid" ]; then kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null; fi
  bash scripts/throwaway-pg.sh stop "$pgdir"
  rm -rf "$work"
}
trap cleanup EXIT

sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$PG_URI" -c "$1"; }
# The two shapes of the issue: with a primary key and without one.
sql "CREATE TABLE routes_pk (seq bigint PRIMARY KEY, user_id integer, ts double precision,
                             lat double precision, lon double precision)"
sql "CREATE TABLE routes_nopk (seq bigint, user_id integer, ts double precision,
                               lat double precision, lon double precision)"

# The topic is filled as a user's pipeline would fill it: with the producer's
# default compression (lz4), unless COMPRESSION names another (say zstd, which
# costs the consuming sink more CPU to decompress). The embedded broker keeps
# ~5 MB per partition: 32 partitions keep 1M records (about 85 MB as JSON,
# ~1 MB per partition with lz4) well inside that.
"$sluice" broker --topics routes:32 >"$work/broker.addr" 2>"$work/broker.log" &
broker_pid=$!
for _ in $(seq 100); do [ -s "$work/broker.addr" ] && break; sleep 0.1; done
KAFKA_BOOTSTRAP=$(head -1 "$work/broker.addr")
export KAFKA_BOOTSTRAP

cat >"$work/fill.toml" <<TOML
name = "bench_fill"
[kafka]
bootstrap_servers = "\${KAFKA_BOOTSTRAP}"
${COMPRESSION:+compression = \"$COMPRESSION\"}
[[sources]]
type = "random_routes"
topic = "routes"
key = "user_id"
count = $records
seed = 7
[[sinks]]
name = "dump"
type = "file"
topic = "routes"
path = "$work/records.jsonl"
group = "bench-dump"
TOML
echo "filling topic routes (32 partitions) with $records records..." >&2
"$sluice" run "$work/fill.toml" --only sources --progress 0s 2>"$work/fill.log"
# The records as read back through Kafka, as CSV for the COPY lines.
"$sluice" run "$work/fill.toml" --only sinks --exit-after "$records" --progress 0s 2>"$work/dump.log"
[ "$(wc -l <"$work/records.jsonl")" = "$records" ] || { echo "dump incomplete: records were lost (trimmed by the broker?)" >&2; exit 1; }
python3 - "$work/records.jsonl" >"$work/rows.csv" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(f'{r["seq"]},{r["user_id"]},{r["ts"]!r},{r["lat"]!r},{r["lon"]!r}')
PY
rm "$work/records.jsonl"

# Every measurement starts from an empty table and a checkpoint, so none pays
# for the WAL of the one before.
reset_table() { psql -X -q -v ON_ERROR_STOP=1 -d "$PG_URI" -c "TRUNCATE $1" -c "CHECKPOINT"; }
# What every table must hold after a measured run: rows.csv's rows, each once
# (seq 0..N-1, each once, and exact sums of the other columns).
fingerprint() {  # TABLE
  sql "SELECT count(*) || ' ' || count(DISTINCT seq) || ' ' || min(seq) || ' ' || max(seq) || ' ' ||
              sum(user_id) || ' ' || sum(ts::numeric) || ' ' || sum(lat::numeric) || ' ' || sum(lon::numeric)
       FROM $1"
}
sql "CREATE TABLE routes_expected (LIKE routes_nopk)"
sql "\\copy routes_expected FROM '$work/rows.csv' WITH (FORMAT csv)"
expected=$(fingerprint routes_expected)
sql "DROP TABLE routes_expected"
case "$expected" in
  "$records $records 0 $((records - 1)) "*) ;;
  *) echo "rows.csv holds (count, distinct seq, min, max, ...) $expected, expected seq 0..$((records - 1)) once each" >&2; exit 1 ;;
esac
check_all_rows() {  # TABLE
  local got; got=$(fingerprint "$1")
  [ "$got" = "$expected" ] || { echo "$1 holds (count, distinct seq, min, max, sums) $got, expected $expected" >&2; exit 1; }
}
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }

# psql \copy of rows.csv into TABLE -> rows/s by psql's \timing of the \copy
psql_copy() {
  local ms
  reset_table "$1"
  ms=$(psql -X -q -v ON_ERROR_STOP=1 -d "$PG_URI" -c '\timing on' \
    -c "\\copy $1 FROM '$work/rows.csv' WITH (FORMAT csv)" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
  [ -n "$ms" ] || { printf '%s\n' 'psql printed no \timing of the \copy' >&2; exit 1; }
  check_all_rows "$1"
  rate "$records" "$(awk -v ms="$ms" 'BEGIN { print ms / 1000 }')"
}
# libpq COPY (csv|binary) of rows.csv into TABLE -> rows/s
libpq_copy() {
  reset_table "$2"
  "$bin/bench/copy_ceiling" "$1" "$PG_URI" "$2" "$work/rows.csv"
  check_all_rows "$2"
}
# psql's start and connect, which (a) leaves out -> ms of its wall time
psql_start_ms() {
  python3 bench/measure.py "$work/m" psql -X -q -d "$PG_URI" -c "SELECT 1" >/dev/null
  awk '{ printf "%.0f", $1 * 1000 }' "$work/m"
}

# A sluice sink alone in its process (--only sinks against the broker),
# reading the whole topic in a fresh consumer group into TABLE.
# sluice_sink NAME TABLE [TOML LINES...] -> "LOGGED_RATE WALL_RATE PEAK_RSS_KB CPU_NS_PER_ROW"
# With no TOML LINES the sink runs with its defaults, as a user would.
# sink_bin (when set) is the sluice binary that runs it.
sluice_sink() {
  local name=$1 table=$2 log="$work/$1.log" logged
  shift 2
  reset_table "$table"
  {
    cat <<TOML
name = "bench"
[kafka]
bootstrap_servers = "\${KAFKA_BOOTSTRAP}"
[[sinks]]
name = "store"
type = "postgres"
topic = "routes"
group = "$name"
conninfo = "\${PG_URI}"
table = "$table"
TOML
    printf '%s\n' "$@"
  } >"$work/$name.toml"
  python3 bench/measure.py "$work/m" "${sink_bin:-$sluice}" run "$work/$name.toml" --only sinks \
    --exit-after "$records" --progress 0s 2>"$log" || { echo "$name: sluice failed" >&2; cat "$log" >&2; exit 1; }
  check_all_rows "$table"
  # "store: N records in Xs, R records/s (from the first record received to the last written)"
  logged=$(grep -o 'store: [0-9]* records in [0-9.]*s, [0-9]* records/s' "$log" | tail -1 | awk '{ print $6 }')
  [ -n "$logged" ] || { echo "$name: no rate line in the sink's log" >&2; cat "$log" >&2; exit 1; }
  read -r wall peak _ cpu <"$work/m"
  echo "$logged $(rate "$records" "$wall") $peak $(awk -v c="$cpu" -v n="$records" 'BEGIN { printf "%.0f", c * 1e9 / n }')"
}

# Results: one "KEY VALUE" line per run and measure; summaries print min-max.
results=$work/results
: >"$results"
note() { echo "$1 $2" >>"$results"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
lowest() { awk -v k="$1" '$1 == k && (n++ == 0 || $2 + 0 < lo) { lo = $2 + 0 } END { print lo }' "$results"; }
# span KEY KIND -> "min-max" of KEY's values (KIND: rate, ratio, s, mb for kB)
span() {
  awk -v k="$1" -v kind="$2" '$1 == k { v = $2 + 0; if (n++ == 0 || v < lo) lo = v; if (n == 1 || v > hi) hi = v }
    END {
      if (!n) { printf "-"; exit }
      if (kind == "ratio") printf "%.2f-%.2f", lo, hi
      else if (kind == "s") printf "%.2f-%.2f s", lo, hi
      else if (kind == "mb") printf "%.0f-%.0f MiB", lo / 1024, hi / 1024
      else if (kind == "ns") printf "%.0f-%.0f ns", lo, hi
      else printf "%.0fk-%.0fk", lo / 1000, hi / 1000
    }' "$results"
}
