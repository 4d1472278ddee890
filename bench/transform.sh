#!/usr/bin/env bash
# What a Lua transform costs the PostgreSQL sink, in one run on this machine:
# RECORDS (default 1,000,000) route records in 32 partitions, read from a topic
# filled beforehand, into the table with a primary key, RUNS (default 3) times,
# back to back in each run: psql \copy of the same rows (CSV), then sluice's
# sink with its DEFAULT settings alone in its process (--only sinks against a
# separate `sluice broker`), without a transform and then through
# transforms/validate_route.lua. Prints min-max over the runs of each rate,
# of the ratio with/without the script (taken within each run) and of each
# sink's peak RSS (VmHWM). How each way is timed: see bench/lib.sh.
# Targets: with/without >= 0.8; peak RSS with the script <= 96 MiB.
# With BASELINE_SLUICE=PATH, that binary's run through the script is one more
# line, and this build/baseline a ratio within each run.
# Usage: [RECORDS=1000000] [RUNS=3] [BASELINE_SLUICE=PATH] [COMPRESSION=zstd] bash bench/transform.sh
# It took 5 min with RUNS=3 on the 2-core machine at a load average of ~12.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
t=routes_pk
script="transforms = [\"$root/transforms/validate_route.lua\"]"

for run in $(seq "$runs"); do
  copy=$(psql_copy "$t")
  # assigned first: a failure inside "$(...)" then ends the script (set -e)
  out=$(sluice_sink "plain-$run" "$t")
  read -r plain plain_wall plain_rss plain_cpu <<<"$out"
  out=$(sluice_sink "lua-$run" "$t" "$script")
  read -r lua lua_wall lua_rss lua_cpu <<<"$out"
  note copy "$copy"
  note plain "$plain"
  note plain.rss "$plain_rss"
  note plain/copy "$(ratio "$plain" "$copy")"
  note plain.wall "$plain_wall"
  note lua "$lua"
  note lua.rss "$lua_rss"
  note lua/copy "$(ratio "$lua" "$copy")"
  note lua.wall "$lua_wall"
  note plain.cpu "$plain_cpu"
  note lua.cpu "$lua_cpu"
  note lua/plain "$(ratio "$lua" "$plain")"
  note lua.wall/plain.wall "$(ratio "$lua_wall" "$plain_wall")"
  if [ -n "$baseline" ]; then
    out=$(sink_bin=$baseline sluice_sink "base-lua-$run" "$t" "$script")
    read -r base_lua _ base_rss base_cpu <<<"$out"
    note base.lua "$base_lua"
    note base.lua.rss "$base_rss"
    note base.lua.cpu "$base_cpu"
    note lua/base.lua "$(ratio "$lua" "$base_lua")"
    note lua/base.lua.cpu "$(ratio "$lua_cpu" "$base_cpu")"
  fi
  echo "run $run: \\copy $copy rows/s; sluice without a transform $plain (wall $plain_wall)," \
    "$((plain_rss / 1024)) MiB; with validate_route.lua $lua (wall $lua_wall), $((lua_rss / 1024)) MiB;" \
    "with/without $(ratio "$lua" "$plain")" >&2
done

row() { printf '%-52s %13s %13s %13s\n' "$@"; }
printf '\nPostgreSQL sink, DEFAULT settings, %s routes records in 32 partitions, table with a primary key,\n' "$records"
printf '%s cores, %s runs: min-max over the runs (ratios taken within each run, back to back;\n' "$(nproc)" "$runs"
echo "sluice timed from its first record received to its last row committed, see bench/lib.sh)"
row "" "rows/s" "sluice/\\copy" "peak RSS"
row "(a) psql \\copy, CSV, one transaction" "$(span copy rate)"
row "sluice, no transform" "$(span plain rate)" "$(span plain/copy ratio)" "$(span plain.rss mb)"
row "sluice, validate_route.lua" "$(span lua rate)" "$(span lua/copy ratio)" "$(span lua.rss mb)"
echo "CPU time (user + system) per row: no transform $(span plain.cpu ns), validate_route.lua $(span lua.cpu ns)"
if [ -n "$baseline" ]; then
  row "BASELINE_SLUICE, validate_route.lua" "$(span base.lua rate)" "" "$(span base.lua.rss mb)"
  echo "validate_route.lua, this build / BASELINE_SLUICE (within each run): rate $(span lua/base.lua ratio)," \
    "CPU per row $(span lua/base.lua.cpu ratio) (BASELINE_SLUICE $(span base.lua.cpu ns))"
fi
echo "with/without validate_route.lua: $(span lua/plain ratio) (by the processes' wall times $(span lua.wall/plain.wall ratio))"
echo "targets: with/without >= 0.8; peak RSS with the script <= 96 MiB"
