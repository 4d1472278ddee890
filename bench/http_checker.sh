#!/usr/bin/env bash
# HTTP checker throughput, next to the HTTP ceiling of the same machine:
# one local nginx, measured first by wrk and then by sluice's http_checker
# (GET + PCRE2 regex on every body, keep-alive, same number of connections,
# one client thread each). Prints both rates and their ratio.
#
#   bash bench/http_checker.sh            # about 40 s; installs nginx and wrk if missing
#   DURATION=20 CONNECTIONS=100 TARGETS=2000 bash bench/http_checker.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
duration=${DURATION:-10}
connections=${CONNECTIONS:-50}
targets=${TARGETS:-1000}
threads=${THREADS:-2}   # checker threads; wrk gets the same number below

missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v wrk >/dev/null || missing+=(wrk)
if ((${#missing[@]})); then
  echo "bench: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${missing[@]}" >/dev/null || { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

echo "bench: building a Release sluice in build-bench-http" >&2
cmake -S . -B build-bench-http -DCMAKE_BUILD_TYPE=Release -DSLUICE_TESTS=OFF >/dev/null
cmake --build build-bench-http -j2 --target sluice >/dev/null
sluice=$root/build-bench-http/core/sluice

tmp=$(mktemp -d /tmp/sluice-bench-http.XXXXXX)
chmod 755 "$tmp"  # nginx workers run as nobody when started by root
nginx_pid=
cleanup() {
  if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$tmp/www"
# A small page like a health or landing page: about 1 KB.
{
  echo "<!doctype html><html><head><title>Example Domain</title></head><body><div>"
  echo "<h1>Example Domain</h1>"
  for _ in $(seq 12); do echo "<p>This domain is for use in illustrative examples in documents.</p>"; done
  echo "</div></body></html>"
} > "$tmp/www/index.html"
cat > "$tmp/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 60s;
  client_body_temp_path $tmp/client_body;
  proxy_temp_path $tmp/proxy;
  fastcgi_temp_path $tmp/fastcgi;
  uwsgi_temp_path $tmp/uwsgi;
  scgi_temp_path $tmp/scgi;
  server {
    listen 127.0.0.1:$port;
    root $tmp/www;
  }
}
NGINX
"$nginx_bin" -c "$tmp/nginx.conf" -p "$tmp" 2>"$tmp/nginx.stderr" &
nginx_pid=$!
for _ in $(seq 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/index.html" 2>/dev/null && break
  sleep 0.1
done
url="http://127.0.0.1:$port/index.html"

# The ceiling is the better of wrk with one thread and with as many threads as
# the checker uses (with nginx on the same 2 cores, more is not always faster).
wrk_rps=0
for wrk_threads in $(printf '%s\n' 1 "$threads" | sort -u); do
  echo "bench: wrk -t$wrk_threads -c$connections -d${duration}s $url" >&2
  rps=$(wrk -t"$wrk_threads" -c"$connections" -d"${duration}s" "$url" | awk '/Requests\/sec:/ {print $2}')
  echo "bench: wrk -t$wrk_threads: $rps requests/s" >&2
  if awk -v a="$rps" -v b="$wrk_rps" 'BEGIN { exit !(a > b) }'; then wrk_rps=$rps; wrk_best=$wrk_threads; fi
done

# Distinct URLs, as distinct targets, all on the one nginx.
for i in $(seq "$targets"); do echo "$url?t=$i"; done > "$tmp/targets.txt"
cat > "$tmp/bench.toml" <<TOML
name = "bench-http"
[[sources]]
name = "checker"
type = "http_checker"
topic = "checks"
key = "url"
partitions = 4
targets_file = "$tmp/targets.txt"
interval = "0s"              # each target again as soon as its check ends
concurrency = $connections
threads = $threads
timeout = "5s"
regex = "illustrative\\\\s+examples"
log_every = "0s"
TOML
echo "bench: sluice http_checker, $targets targets, concurrency $connections, ${duration}s, --only sources (embedded broker)" >&2
"$sluice" run "$tmp/bench.toml" --only sources --progress 0s 2>"$tmp/sluice.log" &
sluice_pid=$!
sleep "$duration"
kill -TERM "$sluice_pid"
wait "$sluice_pid" || { cat "$tmp/sluice.log" >&2; exit 1; }
summary=$(grep -o 'summary: .*' "$tmp/sluice.log" || true)
checks=$(sed -E 's/.*checks: ([0-9]+),.*/\1/' <<<"$summary")
failed=$(sed -E 's/.*failed: ([0-9]+),.*/\1/' <<<"$summary")
rate=$(sed -E 's/.* ([0-9.]+) checks\/s.*/\1/' <<<"$summary")
lag=$(sed -E 's/.*(scheduling lag [^,]*),.*/\1/' <<<"$summary")

printf '\nHTTP checker vs wrk, same local nginx (1 worker), %s connections, %ss, %s cores\n' \
  "$connections" "$duration" "$(nproc)"
printf '%-60s %12s\n' "" "requests/s"
printf '%-60s %12.0f\n' "(a) wrk -t$wrk_best (HTTP ceiling, the better of -t1 and -t$threads)" "$wrk_rps"
printf '%-60s %12.0f\n' "(b) sluice http_checker ($threads threads), GET + regex, to Kafka" "$rate"
printf '%s checks, %s failed, %s\n' "$checks" "$failed" "$lag"
awk -v a="$wrk_rps" -v b="$rate" 'BEGIN { printf "b/a = %.2f   (target >= 0.5)\n", b / a }'
