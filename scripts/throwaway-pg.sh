#!/usr/bin/env bash
# throwaway-pg.sh start      -> starts a PostgreSQL in a new temp dir on a free
#                               127.0.0.1 port, as user postgres; prints
#                               "DIR<TAB>CONNINFO"
# throwaway-pg.sh stop DIR   -> stops it and removes DIR
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
case ${1:-} in
  start)
    dir=$(mktemp -d /tmp/sluice-pg.XXXXXX)
    chown postgres: "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    runuser -u postgres -- "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
CONF
    runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w start >/dev/null
    printf '%s\t%s\n' "$dir" "host=127.0.0.1 port=$port user=postgres dbname=postgres"
    ;;
  stop)
    dir=$2
    runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
