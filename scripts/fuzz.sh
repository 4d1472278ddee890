#!/usr/bin/env bash
# fuzz.sh [SECONDS]: builds the libFuzzer targets of tests/fuzz (clang, every
# source instrumented, ASan + UBSan) into build-fuzz and runs each on a copy
# of its seed corpus tests/fuzz/corpus/<target>, as many at once as there are
# cores. Fails if any target crashed, leaked, hung (10 s on one input) or
# outgrew 2 GB; what a failing target found is kept in build-fuzz/run/<target>/.
#
# Without SECONDS (what scripts/test.sh and CI run) every target replays its
# corpus, then mutates it for a fixed number of inputs from a fixed seed: the
# same code always meets the same inputs, so a red run is a regression, never
# luck. With SECONDS it explores instead, from a random seed, for that long:
# what it finds goes into the corpus (as regression_<what>.<ext>) with its fix.
set -euo pipefail
seconds=${1:-}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/deps.sh --tests

targets=(pipeline_fuzz targets_fuzz row_encoder_fuzz lua_bridge_fuzz)
# Inputs per target in the fixed run: about a minute each on a loaded machine.
declare -A fixed_runs=([pipeline_fuzz]=60000 [targets_fuzz]=100000 [row_encoder_fuzz]=600000 [lua_bridge_fuzz]=200000)
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
  # The time cap only shortens the same sequence on a very slow machine.
  local budget=(-seed=1 -runs="${fixed_runs[$t]}" -max_total_time=300)
  [[ -n $seconds ]] && budget=(-max_total_time="$seconds")
  TMPDIR=$dir/tmp "build-fuzz/tests/fuzz/$t" "${budget[@]}" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$dir/" "$dir/corpus" >"$dir/log" 2>&1
  echo $? >"$dir/rc"
}

if [[ -n $seconds ]]; then
  echo "== fuzzing ${#targets[@]} targets for ${seconds}s each from a random seed, $(nproc) at a time"
else
  echo "== fuzzing ${#targets[@]} targets: corpus, then a fixed number of inputs from seed 1, $(nproc) at a time"
fi
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
