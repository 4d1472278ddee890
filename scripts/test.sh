#!/usr/bin/env bash
# Every test: installs what is missing, then builds and runs the unit and
# integration tests twice — a normal build and an ASan+UBSan build — builds,
# installs, runs and purges the .deb packages (tests/packaging/test_deb.sh), and
# fuzzes each libFuzzer target of tests/fuzz with a fixed seed and budget (fuzz.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/deps.sh --tests
jobs=$(nproc)

echo "== normal build"
bash scripts/build.sh build -DSLUICE_TESTS=ON -DSLUICE_SANITIZE=OFF
ctest --test-dir build -j"$jobs" --output-on-failure

echo "== packaging (the .deb from the committed tree: lintian, install, run, the unit, remove, purge)"
bash tests/packaging/test_deb.sh

echo "== sanitizer build (ASan + UBSan)"
bash scripts/build.sh build-asan -DSLUICE_TESTS=ON -DSLUICE_SANITIZE=ON
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan -j"$jobs" --output-on-failure

echo "== fuzzing (libFuzzer, ASan + UBSan): each target of tests/fuzz, fixed seed and budget"
bash scripts/fuzz.sh
