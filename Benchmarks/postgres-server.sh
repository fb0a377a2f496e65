#!/bin/sh
# A private PostgreSQL for SharedStoreBenchmark, durable as a real one (fsync on), on loopback:
#
#   URL=$(Benchmarks/postgres-server.sh start)    # prints postgres://automator@127.0.0.1:PORT/bench?...
#   Benchmarks/postgres-server.sh stop            # stops it and removes its folder
#
# Debian's postgresql (the newest /usr/lib/postgresql/VERSION/bin); as root the server runs as the
# postgres user, since PostgreSQL refuses root.
set -eu
folder=${AUTOMATOR_BENCH_POSTGRES:-/tmp/automator-bench-postgres}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_server() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-}" in
start)
    mkdir -p "$folder"
    [ "$(id -u)" = 0 ] && chown postgres: "$folder"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_server "$bin/initdb" -D "$folder/data" -U automator -A trust -E UTF8 --locale=C >/dev/null
    as_server "$bin/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w \
        -o "-p $port -k $folder -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
    psql -X -q -h "$folder" -p "$port" -U automator -d postgres -c "CREATE DATABASE bench"
    echo "postgres://automator@127.0.0.1:$port/bench?sslmode=disable"
    ;;
stop)
    as_server "$bin/pg_ctl" -D "$folder/data" -m fast stop >/dev/null
    rm -rf "$folder"
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 64
    ;;
esac
