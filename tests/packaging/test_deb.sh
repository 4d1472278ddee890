#!/usr/bin/env bash
# tests/packaging/test_deb.sh (as root): the Debian packages, end to end.
# Builds them from a clean copy of the committed tree (packaging/deb/build.sh),
# runs lintian (errors fail), installs them with dpkg, runs the installed
# sluice (version, check, test, a pipeline into a throwaway PostgreSQL, the
# out-of-tree plugins of examples/plugins when there are any), builds and runs
# programs against the installed libsluice (examples/embed with its Makefile,
# a find_package(sluice) CMake project, the README's embedding example), checks the
# systemd unit (verify, security exposure <= 2.0), then removes and purges
# and compares what is left with `dpkg -L`. Leaves the machine as it found it.
#
# test_deb.sh [DEBDIR]: with DEBDIR, tests the packages already built there
# (by packaging/deb/build.sh) instead of building them.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
prebuilt=${1:+$(cd "$1" && pwd)}
cd /  # the installed sluice runs as user sluice, which may not read the caller's directory
[[ $(id -u) == 0 ]] || { echo "test_deb.sh: run as root (it installs and purges packages)" >&2; exit 2; }
for p in sluice libsluice0 libsluice-dev; do
  if dpkg-query -W "$p" >/dev/null 2>&1; then
    echo "test_deb.sh: $p is already known to dpkg ($(dpkg-query -W -f='${Status}' "$p")); this test would purge it" >&2
    exit 2
  fi
done
if [[ -e /etc/sluice || -e /var/lib/sluice ]]; then
  echo "test_deb.sh: /etc/sluice or /var/lib/sluice exists already; this test would remove it" >&2
  exit 2
fi

step() { printf '\n== packaging: %s (%ds)\n' "$*" "$SECONDS"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

user_existed=no
getent passwd sluice >/dev/null && user_existed=yes
tmp=$(mktemp -d /tmp/sluice-test-deb.XXXXXX)
chmod 0755 "$tmp"
pgdir=""
run_pid=""
installed=no
cleanup() {
  local rc=$?
  set +e
  if [[ -n $run_pid ]] && kill -0 "$run_pid" 2>/dev/null; then kill -KILL "$run_pid"; wait "$run_pid"; fi
  if [[ $installed == yes ]]; then
    systemctl stop sluice@routes.service >/dev/null 2>&1
    rm -f /usr/lib/sluice/plugins/*.so
    dpkg -P sluice libsluice-dev libsluice0 >/dev/null 2>&1
  fi
  [[ -n $pgdir ]] && bash "$root/scripts/throwaway-pg.sh" stop "$pgdir"
  rm -rf /etc/sluice /var/lib/sluice
  [[ $user_existed == no ]] && getent passwd sluice >/dev/null && userdel sluice
  getent group sluice >/dev/null && [[ $user_existed == no ]] && groupdel sluice 2>/dev/null
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT

version=$(sed -n 's/^project(sluice VERSION \([0-9][0-9.]*\).*/\1/p' "$root/CMakeLists.txt")

if [[ -n $prebuilt ]]; then
  step "the packages built in $prebuilt"
  out=$prebuilt
else
  step "build from a clean copy of the committed tree"
  mkdir "$tmp/src"
  if git -C "$root" rev-parse HEAD >/dev/null 2>&1; then
    git -C "$root" archive HEAD | tar -x -C "$tmp/src"
  else
    tar -C "$root" --exclude='./build*' -cf - . | tar -x -C "$tmp/src"
  fi
  build_start=$SECONDS
  out=$(bash "$tmp/src/packaging/deb/build.sh" "$tmp/out" | tail -n 1)
  echo "built in $((SECONDS - build_start)) s: $(cd "$out" && ls ./*.deb | tr '\n' ' ')"
fi
debs=("$out"/sluice_"$version"_*.deb "$out"/libsluice0_"$version"_*.deb "$out"/libsluice-dev_"$version"_*.deb)
for d in "${debs[@]}"; do [[ -f $d ]] || fail "no package $d"; done

step "lintian"
lintian --fail-on error --info "${debs[@]}" || fail "lintian reports errors (above)"

step "install"
dpkg -i "${debs[@]}"
installed=yes
[[ $(dpkg-query -W -f='${Status}' sluice) == "install ok installed" ]] || fail "sluice is not installed"

step "sluice --version"
shown=$(sluice --version)
echo "$shown"
[[ $shown == *" $version" || $shown == "$version" ]] || fail "sluice --version says '$shown', CMakeLists.txt $version"
[[ $(dpkg-query -W -f='${Version}' sluice) == "$version" ]] || fail "package version is not $version"

step "sluice links the installed libsluice.so.0 and depends on libsluice0"
# (Reached through the RUNPATH $ORIGIN/../lib/<arch> as /usr/bin/../lib/...: the same file.)
linked=$(ldd /usr/bin/sluice | awk '$1 == "libsluice.so.0" { print $3 }')
linked=$(readlink -f "$linked")
echo "/usr/bin/sluice links $linked"
[[ $linked == /usr/lib/*/libsluice.so.0.1.0 || $linked == /usr/lib/*/libsluice.so.0.* ]] ||
  { ldd /usr/bin/sluice; fail "/usr/bin/sluice does not link the installed libsluice.so.0"; }
[[ $(dpkg-query -S "$linked" | cut -d: -f1) == libsluice0 ]] || fail "$linked is not libsluice0's"
depends=$(dpkg-query -W -f='${Depends}' sluice)
echo "sluice depends: $depends"
[[ $depends == *"libsluice0 (>= $version)"* ]] || fail "sluice does not depend on libsluice0 (>= $version)"

step "the sluice user"
getent passwd sluice || fail "no user sluice"

step "sluice check --offline on every installed pipeline"
# Dummy values for what the examples read from the environment: --offline
# connects to nothing.
# managed.toml has no default address and loads its TLS files, as run does.
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -days 1 \
  -keyout "$tmp/svc.key" -out "$tmp/svc.pem" 2>/dev/null
n=0
for f in /usr/share/sluice/pipelines/*.toml /etc/sluice/routes.toml; do
  managed=()
  [[ $f == */managed.toml ]] &&
    managed=(KAFKA_BOOTSTRAP=127.0.0.1:9092 KAFKA_CA="$tmp/svc.pem" KAFKA_CERT="$tmp/svc.pem" KAFKA_KEY="$tmp/svc.key")
  env PG_URI="host=127.0.0.1 dbname=sluice" GITHUB_TOKEN=dummy "${managed[@]}" \
    sluice check --offline "$f" || fail "sluice check --offline $f"
  n=$((n + 1))
done
((n >= 2)) || fail "no installed example pipelines"

step "sluice test: every installed *.test.toml (under /usr/share/sluice/transforms)"
sluice test /usr/share/sluice/transforms || fail "sluice test /usr/share/sluice/transforms"

step "an installed pipeline, run as user sluice: embedded broker -> throwaway PostgreSQL"
IFS=$'\t' read -r pgdir pg_uri < <(bash "$root/scripts/throwaway-pg.sh" start)
psql -X -q -d "$pg_uri" -f /usr/share/sluice/pipelines/routes.sql
PG_URI=$pg_uri setpriv --reuid=sluice --regid=sluice --init-groups -- sluice run /usr/share/sluice/pipelines/routes.toml >"$tmp/run.log" 2>&1 &
run_pid=$!
rows=0
deadline=$((SECONDS + 120))
while ((SECONDS < deadline)); do
  rows=$(psql -X -At -d "$pg_uri" -c "SELECT count(*) FROM routes")
  ((rows > 0)) && break
  kill -0 "$run_pid" 2>/dev/null || break
  sleep 0.5  # polling interval of the condition above, not a synchronisation
done
((rows > 0)) || { cat "$tmp/run.log"; fail "no rows in routes within 120 s"; }
echo "rows arrived: $rows"
# A clean stop on SIGTERM (what systemd sends): exit 0.
kill -TERM "$run_pid" 2>/dev/null || true
run_rc=0
wait "$run_pid" || run_rc=$?
run_pid=""
((run_rc == 0)) || { tail -n 20 "$tmp/run.log"; fail "sluice run exited $run_rc after SIGTERM"; }
echo "stopped by SIGTERM, exit 0, rows: $(psql -X -At -d "$pg_uri" -c "SELECT count(*) FROM routes")"

step "out-of-tree plugins built against the installed libsluice-dev"
if [[ -f $root/examples/plugins/Makefile ]]; then
  cp -r "$root/examples/plugins" "$tmp/plugins"
  make -C "$tmp/plugins"
  shopt -s nullglob
  sos=("$tmp"/plugins/*.so "$tmp"/plugins/*/*.so)
  shopt -u nullglob
  ((${#sos[@]})) || fail "examples/plugins built no .so"
  cp "${sos[@]}" /usr/lib/sluice/plugins/
  sluice plugins >"$tmp/plugins.out" 2>"$tmp/plugins.err" || { cat "$tmp/plugins.err"; fail "sluice plugins failed"; }
  ! grep -q "refused\|error:" "$tmp/plugins.err" || { cat "$tmp/plugins.err"; fail "sluice plugins refused a plugin"; }
  for so in "${sos[@]}"; do
    grep -q "/usr/lib/sluice/plugins/$(basename "$so")" "$tmp/plugins.out" ||
      fail "sluice plugins does not list $(basename "$so")"
    echo "listed: /usr/lib/sluice/plugins/$(basename "$so")"
  done
  rm -f /usr/lib/sluice/plugins/*.so
else
  echo "skipped: there is no examples/plugins/Makefile in this tree"
fi

step "embedding: examples/embed built against the installed libsluice-dev (pkg-config only) and run"
if [[ -f $root/examples/embed/Makefile ]]; then
  cp -r "$root/examples/embed" "$tmp/embed"
  make -C "$tmp/embed" CFLAGS="-O2 -Wall -Wextra -Werror" CXXFLAGS="-O2 -Wall -Wextra -Werror"
  psql -X -q -d "$pg_uri" -f "$tmp/embed/push_to_postgres.sql"
  (cd "$tmp/embed" && PG_URI=$pg_uri ./push_to_postgres push_to_postgres.toml 100000) >"$tmp/push.out" 2>"$tmp/push.err" ||
    { cat "$tmp/push.out"; tail -n 30 "$tmp/push.err"; fail "examples/embed/push_to_postgres failed"; }
  cat "$tmp/push.out"
  grep -q "100000 rows, 100000 distinct ids (0..99999), expected 100000: every id exactly once" "$tmp/push.out" ||
    fail "push_to_postgres: not every id exactly once"
  [[ $(psql -X -At -d "$pg_uri" -c "SELECT count(*) || ' ' || count(DISTINCT id) FROM embed_events") == "100000 100000" ]] ||
    fail "embed_events does not hold 100000 distinct ids"
  "$tmp/embed/sink_callback" 20000 >"$tmp/callback.out" 2>"$tmp/callback.err" ||
    { cat "$tmp/callback.out"; tail -n 30 "$tmp/callback.err"; fail "examples/embed/sink_callback failed"; }
  cat "$tmp/callback.out"
  grep -q "received 20000 records.*: ok$" "$tmp/callback.out" || fail "sink_callback: not every record"
else
  echo "skipped: there is no examples/embed/Makefile in this tree"
fi

step "embedding: find_package(sluice) in a CMake project against the installed package"
mkdir -p "$tmp/cmake-host"
cat >"$tmp/cmake-host/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(host C)
find_package(sluice 0.1 REQUIRED)
add_executable(host host.c)
target_link_libraries(host PRIVATE sluice::sluice)
CMAKE
cat >"$tmp/cmake-host/host.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <sluice.h>
int main(void) {
  printf("%s %s\n", sluice_version(), SLUICE_VERSION_STRING);
  return strcmp(sluice_version(), SLUICE_VERSION_STRING) != 0;
}
C
cmake -S "$tmp/cmake-host" -B "$tmp/cmake-host/build" >"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log"; fail "find_package(sluice)"; }
cmake --build "$tmp/cmake-host/build" >>"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log"; fail "building against sluice::sluice"; }
shown=$("$tmp/cmake-host/build/host") || fail "the find_package(sluice) program: $shown"
[[ $shown == "$version $version" ]] || fail "sluice_version() and SLUICE_VERSION_STRING say '$shown', not $version"
echo "find_package(sluice) -> sluice::sluice: library and headers $version"

step "embedding: the README's example, compiled as the README says"
awk '/^## Embedding sluice$/ { s = 1 } s && /^```c$/ { c = 1; next } c && /^```$/ { exit } c' \
  "$root/README.md" >"$tmp/host.c"
[[ -s $tmp/host.c ]] || fail "no \`\`\`c block under \"## Embedding sluice\" in README.md"
# shellcheck disable=SC2046  # pkg-config's words are meant to split
cc -std=c11 -Wall -Wextra -Werror "$tmp/host.c" $(pkg-config --cflags --libs sluice) -o "$tmp/host" ||
  fail "the README's embedding example does not compile against the installed package"
shown=$("$tmp/host" 2>"$tmp/host.err") || { cat "$tmp/host.err"; fail "the README's embedding example failed"; }
[[ $shown == "received 1000 records" ]] || fail "the README's embedding example printed '$shown'"
echo "README example: $shown"

step "the systemd unit"
unit=/lib/systemd/system/sluice@.service
[[ -f $unit ]] || fail "no $unit"
# verify and security want a unit name, not a template: the same file as an instance.
mkdir "$tmp/units"
cp "$unit" "$tmp/units/sluice@routes.service"
systemd-analyze verify "$tmp/units/sluice@routes.service" || fail "systemd-analyze verify"
systemd-analyze security --offline=yes "$tmp/units/sluice@routes.service" >"$tmp/security.out" || true
score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$tmp/security.out")
grep -v '✓' "$tmp/security.out" || true
[[ -n $score ]] || { cat "$tmp/security.out"; fail "no exposure level from systemd-analyze security"; }
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || fail "exposure $score > 2.0"
echo "exposure: $score (<= 2.0)"

step "systemd runs sluice@routes"
if [[ $(ps -p 1 -o comm=) == systemd ]]; then
  psql -X -q -d "$pg_uri" -c "TRUNCATE routes"
  printf 'KAFKA_BOOTSTRAP=embedded\nPG_URI=%s\n' "$pg_uri" >/etc/default/sluice
  systemctl daemon-reload
  systemctl start sluice@routes.service
  rows=0
  deadline=$((SECONDS + 120))
  while ((SECONDS < deadline)); do
    rows=$(psql -X -At -d "$pg_uri" -c "SELECT count(*) FROM routes")
    ((rows > 0)) && break
    systemctl is-active --quiet sluice@routes.service || break
    sleep 0.5  # polling interval of the condition above
  done
  ((rows > 0)) || { journalctl -u sluice@routes.service --no-pager | tail -n 30; fail "no rows from sluice@routes"; }
  systemctl stop sluice@routes.service
  status=$(systemctl show -p ExecMainStatus --value sluice@routes.service)
  [[ $status == 0 ]] || fail "sluice@routes exited $status after systemctl stop"
  echo "sluice@routes: rows arrived ($rows), stopped with exit status 0"
  systemctl reset-failed sluice@routes.service 2>/dev/null || true
else
  echo "skipped: PID 1 is $(ps -p 1 -o comm=), not systemd (a plain container): sluice@routes cannot be started here"
fi

step "dpkg -r keeps only the conffiles and the user's pipeline"
dpkg -L sluice libsluice0 libsluice-dev | grep -vx '/\.' | sort -u >"$tmp/files"
dpkg-query -W -f='${Conffiles}\n' sluice | awk 'NF { print $1 }' | sort -u >"$tmp/conffiles"
echo "conffiles: $(tr '\n' ' ' <"$tmp/conffiles")"
echo 'name = "mine"' >/etc/sluice/mine.toml
dpkg -r sluice libsluice-dev libsluice0
# What is still there of the package: files, and directories that no other
# package owns (dpkg -S names sluice too while its conffiles are kept).
owned_by_another() {
  [[ -n $(dpkg-query -S "$1" 2>/dev/null | sed 's/: .*//' | tr ',' '\n' | tr -d ' ' | grep -vx 'sluice\|libsluice0\|libsluice-dev') ]]
}
left() {
  while IFS= read -r f; do
    if [[ -L $f && -d $f ]]; then
      continue  # /lib -> usr/lib on a merged /usr: the system's, not the package's
    elif [[ -L $f || -f $f ]]; then
      echo "$f"
    elif [[ -d $f ]] && ! owned_by_another "$f"; then
      echo "$f/"
    fi
  done | sort -u
}
left <"$tmp/files" >"$tmp/left-r"
# Expected: the conffiles, and those of their directories that no other package owns.
{ cat "$tmp/conffiles"; sed 's|/[^/]*$||' "$tmp/conffiles" | sort -u | left; } | sort -u >"$tmp/expected-r"
diff "$tmp/left-r" "$tmp/expected-r" || fail "after dpkg -r: what is left (<) is not the conffiles and their directories (>)"
[[ -f /etc/sluice/mine.toml ]] || fail "dpkg -r removed /etc/sluice/mine.toml"
echo "after dpkg -r: only the conffiles are left, and /etc/sluice/mine.toml"

step "dpkg -P removes the rest; the user's own file stays"
dpkg -P sluice libsluice-dev libsluice0
installed=no
left <"$tmp/files" >"$tmp/left-p"
# /etc/sluice stays only because it holds mine.toml, which dpkg does not own.
[[ $(cat "$tmp/left-p") == "/etc/sluice/" ]] || { cat "$tmp/left-p"; fail "after dpkg -P: package files left"; }
[[ $(ls -A /etc/sluice) == mine.toml ]] || fail "after dpkg -P: /etc/sluice holds $(ls -A /etc/sluice)"
[[ ! -e /etc/default/sluice && ! -e /var/lib/sluice ]] || fail "after dpkg -P: /etc/default/sluice or /var/lib/sluice left"
echo "after dpkg -P: nothing of the package left; /etc/sluice/mine.toml kept (dpkg never deletes a file it does not own)"
rm -f /etc/sluice/mine.toml
rmdir /etc/sluice

step "passed in ${SECONDS} s"
