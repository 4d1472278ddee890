#!/usr/bin/env bash
# The demo: installs what is missing, builds sluice, starts a throwaway
# PostgreSQL, and runs pipelines/routes.toml — random routes -> embedded Kafka
# broker (8 partitions) -> PostgreSQL, exactly once — then shows what arrived.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/deps.sh
bash scripts/build.sh build -DSLUICE_TESTS=OFF

IFS=$'\t' read -r pgdir PG_URI < <(bash scripts/throwaway-pg.sh start)
export PG_URI
trap 'bash scripts/throwaway-pg.sh stop "$pgdir"' EXIT
psql -X -q -d "$PG_URI" -f pipelines/routes.sql

echo
echo "== sluice run pipelines/routes.toml  (random_routes -> embedded Kafka -> PostgreSQL)"
build/core/sluice run pipelines/routes.toml --progress 1s
echo
echo "== what arrived: rows in routes, and records rejected (1% are made invalid on purpose)"
psql -X -d "$PG_URI" -c "SELECT count(*) AS rows, count(DISTINCT seq) AS distinct_seq, min(ts), max(ts) FROM routes" \
  -c "SELECT count(*) AS rejects FROM sluice_rejects" \
  -c "SELECT left(reason, 70) AS reason, count(*) FROM sluice_rejects GROUP BY 1 ORDER BY 2 DESC" \
  -c "SELECT * FROM routes ORDER BY seq LIMIT 5" \
  -c "SELECT partition, next_offset FROM sluice_offsets ORDER BY partition"
