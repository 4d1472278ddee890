#!/usr/bin/env bash
# The demo: installs what is missing, builds sluice, and runs
# pipelines/routes.toml — random routes -> embedded Kafka broker (8 partitions)
# -> stdout sink — which ends by itself once every record has arrived.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/deps.sh
bash scripts/build.sh build -DSLUICE_TESTS=OFF
echo
echo "== sluice run pipelines/routes.toml  (random_routes -> embedded Kafka -> stdout)"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
build/core/sluice run pipelines/routes.toml --progress 1s | tee "$out"
echo
echo "== $(wc -l <"$out") records arrived through Kafka, each exactly once: $(sed 's/.*"seq":\([0-9]*\).*/\1/' "$out" | sort -n | uniq | wc -l) distinct seq"
