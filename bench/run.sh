#!/usr/bin/env bash
# The PostgreSQL sink benchmark, in one run on this machine: 1,000,000 route
# records, the same table shape, three ways:
#   (a) raw libpq COPY FROM STDIN (text) of pre-formatted rows, 100k per transaction: the ceiling
#   (b) sluice: Kafka -> PostgreSQL, exactly once, typed columns, from a topic filled beforehand
#   (c) a row-per-INSERT-and-commit consumer, as hand-made scripts do (measured on fewer rows)
# and prints b/a and b/c. Usage: bash bench/run.sh [RECORDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
n=${1:-1000000}
baseline_n=${BASELINE_RECORDS:-20000}
bash scripts/deps.sh
bash scripts/build.sh build-bench -DSLUICE_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
bin=build-bench
work=$(mktemp -d)
IFS=$'\t' read -r pgdir PG_URI < <(bash scripts/throwaway-pg.sh start)
export PG_URI
broker_pid=
cleanup() {
  [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
  bash scripts/throwaway-pg.sh stop "$pgdir"
  rm -rf "$work"
}
trap cleanup EXIT
psql -X -q -d "$PG_URI" -f pipelines/routes.sql

# The embedded broker keeps ~5 MB per partition: zstd and 16 partitions keep
# all 1M records (about 85 MB as JSON) well inside that.
"$bin/core/sluice" broker --topics routes:16 >"$work/broker.addr" 2>"$work/broker.log" &
broker_pid=$!
for _ in $(seq 100); do [ -s "$work/broker.addr" ] && break; sleep 0.1; done
export KAFKA_BOOTSTRAP=$(head -1 "$work/broker.addr")
cat >"$work/bench.toml" <<TOML
name = "bench"
[kafka]
bootstrap_servers = "\${KAFKA_BOOTSTRAP}"
compression = "zstd"
[[sources]]
type = "random_routes"
topic = "routes"
key = "user_id"
count = $n
seed = 7
[[sinks]]
name = "store"
type = "postgres"
topic = "routes"
conninfo = "\${PG_URI}"
table = "routes"
batch_max_rows = 20000
[[sinks]]
name = "dump"
type = "file"
topic = "routes"
path = "$work/records.jsonl"
group = "bench-dump"
TOML
echo "filling topic routes with $n records..." >&2
"$bin/core/sluice" run "$work/bench.toml" --only sources --progress 0s 2>"$work/fill.log"

count_rows() { psql -X -A -t -d "$PG_URI" -c "SELECT count(*) FROM routes"; }
check_rows() {
  local got; got=$(count_rows)
  [ "$got" = "$1" ] || { echo "row count $got, expected $1: records were lost (trimmed by the broker?)" >&2; exit 1; }
}

# (b) sluice, exactly once; its own summary gives the rate from first to last batch
"$bin/core/sluice" run "$work/bench.toml" --only sinks --exit-after "$n" --progress 0s 2>"$work/sink.log"
check_rows "$n"
b=$(grep -o 'store: [0-9]* records in [0-9.]*s, [0-9]* records/s' "$work/sink.log" | awk '{print $6}')
[ "$(wc -l <"$work/records.jsonl")" = "$n" ] || { echo "dump incomplete" >&2; exit 1; }

# (a) the ceiling: the same records pre-formatted as COPY text, 100k rows per transaction
python3 - "$work/records.jsonl" >"$work/rows.copy" <<'PY'
import datetime, json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    ts = datetime.datetime.fromtimestamp(r["ts"], datetime.timezone.utc).isoformat(sep=" ")
    print(f'{r["seq"]}\t{r["user_id"]}\t{ts}\t{r["lat"]}\t{r["lon"]}')
PY
psql -X -q -d "$PG_URI" -c "TRUNCATE routes"
a=$("$bin/bench/copy_ceiling" "$PG_URI" routes "$work/rows.copy")
check_rows "$n"

# (c) the hand-made consumer, on the first $baseline_n records (it is slow)
psql -X -q -d "$PG_URI" -c "TRUNCATE routes"
c=$("$bin/bench/row_per_insert" "$KAFKA_BOOTSTRAP" routes "$PG_URI" "$baseline_n")
check_rows "$baseline_n"

printf '\n%-58s %12s\n' "PostgreSQL sink, $n routes records, $(nproc) cores" "rows/s"
printf '%-58s %12s\n' "(a) raw libpq COPY text, 100k rows/transaction (ceiling)" "$a"
printf '%-58s %12s\n' "(b) sluice: Kafka -> PostgreSQL, exactly once" "$b"
printf '%-58s %12s\n' "(c) row-per-INSERT consumer, commit per row ($baseline_n rows)" "$c"
awk -v a="$a" -v b="$b" -v c="$c" 'BEGIN { printf "b/a = %.2f   (target >= 0.75)\nb/c = %.0fx\n", b / a, b / c }'
