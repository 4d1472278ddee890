#!/usr/bin/env bash
# What a Lua transform costs the PostgreSQL sink, in one run on this machine:
# the same topic of route records is written into the same table twice per
# round, once without a transform and once through transforms/validate_route.lua,
# each by its own consumer group; prints both rates (best of the rounds, as
# the machine is shared) and their ratio. Target: the transform costs under 25%.
# Usage: bash bench/transform.sh [RECORDS] [ROUNDS]
set -euo pipefail
n=${1:-1000000}
rounds=${2:-4}
BIN_DIR=build-bench-lua source "$(dirname "$0")/lib.sh"

pipeline() {  # pipeline GROUP TRANSFORMS
  cat <<TOML
name = "bench_transform"
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
group = "$1"
transforms = [$2]
TOML
}
pipeline fill "" >"$work/fill.toml"
echo "filling topic routes with $n records..." >&2
"$bin/core/sluice" run "$work/fill.toml" --only sources --progress 0s 2>"$work/fill.log"

measure() {  # measure NAME TRANSFORMS -> rows/s of the sink, first batch to last
  local name=$1 log="$work/$1.log" got
  psql -X -q -d "$PG_URI" -c "TRUNCATE routes"
  pipeline "$name" "$2" >"$work/$name.toml"
  "$bin/core/sluice" run "$work/$name.toml" --only sinks --exit-after "$n" --progress 0s 2>"$log"
  got=$(psql -X -A -t -d "$PG_URI" -c "SELECT count(*) FROM routes")
  [ "$got" = "$n" ] || { echo "$name: $got rows, expected $n" >&2; cat "$log" >&2; exit 1; }
  grep -o 'store: [0-9]* records in [0-9.]*s, [0-9]* records/s' "$log" | awk '{print $6}'
}

plain=0 lua=0 ratios=()
for round in $(seq "$rounds"); do
  p=$(measure "plain$round" "")
  l=$(measure "lua$round" "\"$root/transforms/validate_route.lua\"")
  ratios+=("$(awk -v a="$p" -v b="$l" 'BEGIN { printf "%.2f", b / a }')")
  echo "round $round: without $p rows/s, with validate_route.lua $l rows/s (b/a ${ratios[-1]})" >&2
  [ "$p" -gt "$plain" ] && plain=$p
  [ "$l" -gt "$lua" ] && lua=$l
done

printf '\n%-58s %12s\n' "PostgreSQL sink, $n routes records, $(nproc) cores, best of $rounds" "rows/s"
printf '%-58s %12s\n' "(a) Kafka -> PostgreSQL, no transform" "$plain"
printf '%-58s %12s\n' "(b) Kafka -> validate_route.lua -> PostgreSQL" "$lua"
awk -v a="$plain" -v b="$lua" 'BEGIN { printf "b/a = %.2f   (the transform costs %.0f%%; target < 25%%)\n", b / a, 100 * (1 - b / a) }'
# Each round's own ratio, a and b run back to back: its median is less at
# the mercy of one lucky or unlucky run than the best rates are.
printf '%s\n' "${ratios[@]}" | sort -n | awk '{ r[NR] = $1 } END { m = NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2; printf "median of the per-round b/a = %.2f\n", m }'
