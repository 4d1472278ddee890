# Shared set-up of the sink benchmarks, sourced after `set -euo pipefail`:
# a Release build in BIN_DIR (default build-bench), a throwaway PostgreSQL
# with the routes table, and a `sluice broker` with a 16-partition `routes`
# topic. Sets: root, bin, work, PG_URI, KAFKA_BOOTSTRAP; cleans up on exit.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bin=${BIN_DIR:-build-bench}
bash scripts/deps.sh
bash scripts/build.sh "$bin" -DSLUICE_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
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
# 1M records (about 85 MB as JSON) well inside that.
"$bin/core/sluice" broker --topics routes:16 >"$work/broker.addr" 2>"$work/broker.log" &
broker_pid=$!
for _ in $(seq 100); do [ -s "$work/broker.addr" ] && break; sleep 0.1; done
export KAFKA_BOOTSTRAP=$(head -1 "$work/broker.addr")
