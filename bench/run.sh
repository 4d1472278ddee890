#!/usr/bin/env bash
# The PostgreSQL sink benchmark, in one run on this machine: 1,000,000 route
# records, the same table shape, three ways:
#   (a) raw libpq COPY FROM STDIN (text) of pre-formatted rows, 100k per transaction: the ceiling
#   (b) sluice: Kafka -> PostgreSQL, exactly once, typed columns, from a topic filled beforehand,
#       100k rows per transaction like (a); binary COPY (what `copy_format = "auto"` picks here),
#       then the same with text COPY and with the default batch of 10k rows, for comparison
#   (c) a row-per-INSERT-and-commit consumer, as hand-made scripts do (measured on fewer rows)
# and prints b/a and b/c. Usage: bash bench/run.sh [RECORDS]
set -euo pipefail
n=${1:-1000000}
baseline_n=${BASELINE_RECORDS:-20000}
source "$(dirname "$0")/lib.sh"
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
name = "dump"
type = "file"
topic = "routes"
path = "$work/records.jsonl"
group = "bench-dump"
TOML
echo "filling topic routes with $n records..." >&2
"$bin/core/sluice" run "$work/bench.toml" --only sources --progress 0s 2>"$work/fill.log"
# The records as JSON lines, for (a)'s rows, read back through Kafka.
"$bin/core/sluice" run "$work/bench.toml" --only sinks --exit-after "$n" --progress 0s 2>"$work/dump.log"
[ "$(wc -l <"$work/records.jsonl")" = "$n" ] || { echo "dump incomplete: records were lost (trimmed by the broker?)" >&2; exit 1; }

count_rows() { psql -X -A -t -d "$PG_URI" -c "SELECT count(*) FROM routes"; }
check_rows() {
  local got; got=$(count_rows)
  [ "$got" = "$1" ] || { echo "row count $got, expected $1: records were lost (trimmed by the broker?)" >&2; exit 1; }
}

# (b) sluice, exactly once, each run from the start of the topic in a fresh
# consumer group; its summary gives the rate from the first record received
# to the last row committed.
sluice_rate() {  # GROUP COPY_FORMAT BATCH_MAX_ROWS
  psql -X -q -d "$PG_URI" -c "TRUNCATE routes"
  cat >"$work/sink-$1.toml" <<TOML
name = "bench"
[kafka]
bootstrap_servers = "\${KAFKA_BOOTSTRAP}"
[[sinks]]
name = "store"
type = "postgres"
topic = "routes"
group = "$1"
conninfo = "\${PG_URI}"
table = "routes"
copy_format = "$2"
batch_max_rows = $3
TOML
  "$bin/core/sluice" run "$work/sink-$1.toml" --exit-after "$n" --progress 0s 2>"$work/sink-$1.log"
  check_rows "$n"
  grep -o 'store: [0-9]* records in [0-9.]*s, [0-9]* records/s' "$work/sink-$1.log" | awk '{print $6}'
}
b=$(sluice_rate bench-binary binary 100000)
b_text=$(sluice_rate bench-text text 100000)
b_small=$(sluice_rate bench-small binary 10000)

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
printf '%-58s %12s\n' "(b) sluice: Kafka -> PostgreSQL, exactly once, binary COPY" "$b"
printf '%-58s %12s\n' "    the same, text COPY" "$b_text"
printf '%-58s %12s\n' "    the same, binary COPY, default batch of 10k rows" "$b_small"
printf '%-58s %12s\n' "(c) row-per-INSERT consumer, commit per row ($baseline_n rows)" "$c"
awk -v a="$a" -v b="$b" -v c="$c" -v t="$b_text" -v s="$b_small" 'BEGIN {
  printf "b/a = %.2f   (target >= 0.75; text COPY %.2f, 10k-row batches %.2f)\nb/c = %.0fx\n", b / a, t / a, s / a, b / c }'
