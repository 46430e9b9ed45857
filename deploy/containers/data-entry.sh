#!/bin/sh
# Redis or PostgreSQL for the orchestrator's pod, each on a unix socket in the shared state volume
# only (no TCP port at all): reachable by the pod's containers, by nobody else on the host.
#   redis:    password from SVC_STATE_DIR/secrets/SVC_REDIS_PASSWORD (generated here once)
#   postgres: database and role "svcnum", local socket connections only
set -eu
state="${SVC_STATE_DIR:?}"
case "${1:-}" in
redis)
  mkdir -p "$state/secrets" "$state/redis" && chmod 0700 "$state/secrets" "$state/redis"
  secret="$state/secrets/SVC_REDIS_PASSWORD"
  if [ ! -s "$secret" ]; then
    (umask 077; head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' > "$secret.tmp" && mv "$secret.tmp" "$secret")
  fi
  conf=/run/redis.conf
  (umask 077; printf 'port 0\nunixsocket %s/redis/redis.sock\nunixsocketperm 700\nrequirepass "%s"\ndir /data\nsave 60 1\nappendonly no\n' \
     "$state" "$(cat "$secret")" > "$conf")
  exec redis-server "$conf"
  ;;
postgres)
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  data=/var/lib/postgresql/data
  sock="$state/pg"
  mkdir -p "$sock" "$data" && chown postgres:postgres "$sock" "$data" && chmod 0700 "$sock" "$data"
  if [ ! -s "$data/PG_VERSION" ]; then
    runuser -u postgres -- "$bin/initdb" -D "$data" -U svcnum --auth-local=trust --auth-host=reject -E UTF8 >/dev/null
    echo "CREATE DATABASE svcnum" | runuser -u postgres -- "$bin/postgres" --single -D "$data" postgres >/dev/null
  fi
  exec runuser -u postgres -- "$bin/postgres" -D "$data" -c listen_addresses= -c unix_socket_directories="$sock"
  ;;
*)
  echo "usage: svcnum-data redis|postgres" >&2
  exit 2
  ;;
esac
