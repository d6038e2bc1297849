#!/bin/sh
# The entrypoint of the image build-images.sh makes: what the official postgres image's entrypoint does, as far as
# the tests use it. On the first start a cluster whose superuser is POSTGRES_USER with POSTGRES_PASSWORD (password
# auth over TCP) and a database POSTGRES_DB; then postgres with the container's arguments. Only shell builtins here.
set -eu
case "${1:-}" in -*) set -- postgres "$@" ;; esac
if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  user="${POSTGRES_USER:-postgres}"
  database="${POSTGRES_DB:-$user}"
  printf '%s\n' "${POSTGRES_PASSWORD:?the image needs POSTGRES_PASSWORD}" |
    initdb -D "$PGDATA" -U "$user" --pwfile=/dev/stdin --auth-local=trust --auth-host=scram-sha-256 \
      --locale=C --encoding=UTF8 --no-sync --no-instructions
  # Single-user mode creates the database without a server that would listen meanwhile.
  if [ "$database" != postgres ]; then
    printf 'CREATE DATABASE "%s"\n' "$database" | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
fi
exec "$@"
