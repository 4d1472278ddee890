#!/usr/bin/env bash
# fuzz.sh [SECONDS]: builds the libFuzzer targets of tests/fuzz (clang, every
# source instrumented, ASan + UBSan) into build-fuzz, then runs each target for
# SECONDS (default 60) on a copy of its seed corpus tests/fuzz/corpus/<target>,
# as many at once as there are cores. Prints the executions each reached;
# fails if any target crashed, leaked, hung (10 s on one input) or outgrew
# 2 GB. What a failing target found is kept in build-fuzz/run/<target>/.
set -euo pipefail
seconds=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/deps.sh

targets=(pipeline_fuzz targets_fuzz row_encoder_fuzz lua_bridge_fuzz)
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
# -O1 and line tables only: a quarter of RelWithDebInfo's build time, and
# enough for symbolized reports.
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O1 -gline-tables-only" \
  -DCMAKE_C_FLAGS="-O1 -gline-tables-only" -DSLUICE_TESTS=OFF -DSLUICE_FUZZ=ON \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 "${launcher[@]}" >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_targets

run=$root/build-fuzz/run
rm -rf "$run"
export ASAN_OPTIONS=detect_leaks=1:external_symbolizer_path=/usr/lib/llvm-14/bin/llvm-symbolizer
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

run_target() {
  local t=$1 dir=$run/$1
  mkdir -p "$dir/corpus" "$dir/tmp"
  cp -r "tests/fuzz/corpus/$t/." "$dir/corpus/"
  # TMPDIR: where the target makes its sandbox directory.
  set +e
  TMPDIR=$dir/tmp "build-fuzz/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$dir/" "$dir/corpus" >"$dir/log" 2>&1
  echo $? >"$dir/rc"
}

echo "== fuzzing ${#targets[@]} targets for ${seconds}s each, $(nproc) at a time"
for t in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= $(nproc))); do wait -n || true; done
  run_target "$t" &
done
wait

failed=0
for t in "${targets[@]}"; do
  dir=$run/$t
  rc=$(cat "$dir/rc")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  corpus=$(find "$dir/corpus" -type f | wc -l)
  if [[ $rc == 0 ]]; then
    printf 'fuzz: %-18s ok      %10s executions, corpus %s inputs\n' "$t" "${execs:-?}" "$corpus"
  else
    failed=1
    printf 'fuzz: %-18s FAILED  (exit %s) after %s executions; input and log in %s\n' "$t" "$rc" "${execs:-?}" "$dir"
    grep -E -A40 '^==[0-9]+==ERROR|runtime error|^lua_bridge_fuzz:|^row_encoder_fuzz:|deadly signal|Test unit written' \
      "$dir/log" | head -80 || tail -40 "$dir/log"
  fi
  rm -rf "$dir/tmp"
done
exit $failed
