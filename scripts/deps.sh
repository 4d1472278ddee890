#!/usr/bin/env bash
# Installs the Debian packages sluice needs to build and run its demo;
# `deps.sh --tests` adds what the tests need (fuzzer runtime, Prometheus, Chromium).
# Safe to run again: apt is asked only when something is missing.
set -euo pipefail
packages=(
  build-essential cmake pkg-config git ca-certificates
  librdkafka-dev libpq-dev liblua5.4-dev libtomlplusplus-dev libspdlog-dev
  libsimdjson-dev libcli11-dev libgtest-dev libcurl4-openssl-dev libpcre2-dev
  postgresql postgresql-client
  python3 python3-kafka kcat procps openssl
  libcpp-httplib-dev  # the HTTP server of /metrics, /ready and the status page
)
if [[ "${1:-}" == --tests ]]; then
  packages+=(
    clang-14 libclang-rt-14-dev llvm-14       # scripts/fuzz.sh: libFuzzer's runtime, llvm-symbolizer
    prometheus python3-websocket chromium     # a real Prometheus scrapes sluice; a real browser loads its page
    debhelper dpkg-dev help2man lintian systemd  # tests/packaging/test_deb.sh: build, lint and install the .deb, check its unit
  )
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
