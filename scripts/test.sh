#!/usr/bin/env bash
# `make test`: formatting, vet, the linters (scripts/lint.sh), and every
# test with the race detector, against a real PostgreSQL and a real Temporal
# dev server.
#
# PostgreSQL, in this order: TEST_DATABASE_URL; a server on 127.0.0.1:5432;
# a throwaway cluster made with initdb/pg_ctl when those exist; otherwise
# only the SQLite suite runs, loudly (never under CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> gofmt and go vet" >&2
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './bin/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2; echo "$unformatted" >&2; exit 1
fi
go vet ./...

scripts/lint.sh

scripts/temporal-cli.sh
scripts/mailpit.sh
scripts/assets.sh

pg_tmp=""
cleanup() {
  if [ -n "$pg_tmp" ]; then
    as_pg "$pg_ctl" -D "$pg_tmp/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$pg_tmp"
  fi
}
trap cleanup EXIT

# as_pg runs a PostgreSQL server binary as a user it accepts (never root).
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

find_pg_bin() {
  command -v "$1" 2>/dev/null && return
  ls /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ -z "${TEST_DATABASE_URL:-}" ]; then
  if port_open 5432; then
    export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
  else
    initdb=$(find_pg_bin initdb || true)
    pg_ctl=$(find_pg_bin pg_ctl || true)
    if [ -n "$initdb" ] && [ -n "$pg_ctl" ] && { [ "$(id -u)" != 0 ] || id postgres >/dev/null 2>&1; }; then
      pg_tmp=$(mktemp -d)
      [ "$(id -u)" = 0 ] && chown postgres "$pg_tmp"
      port=$(( 20000 + RANDOM % 20000 ))
      echo "==> no PostgreSQL on 127.0.0.1:5432: starting a throwaway cluster on port $port" >&2
      as_pg "$initdb" -D "$pg_tmp/data" -U postgres -A trust >/dev/null
      as_pg "$pg_ctl" -D "$pg_tmp/data" -o "-p $port -k $pg_tmp -c listen_addresses=127.0.0.1 -c fsync=off" -l "$pg_tmp/log" -w start >/dev/null
      as_pg "$(dirname "$(readlink -f "$initdb")")/createdb" -h 127.0.0.1 -p "$port" -U postgres test
      export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/test?sslmode=disable"
    elif [ "${CI:-}" = true ]; then
      echo "FAIL: CI=true and no PostgreSQL is reachable or installable here" >&2
      exit 1
    else
      cat >&2 <<'NOTE'
==========================================================================
 NO POSTGRESQL: neither a server on 127.0.0.1:5432 nor initdb/pg_ctl.
 Only the SQLite suite runs. Every PostgreSQL test is SKIPPED (they print
 "SKIPPED: no PostgreSQL"). Set TEST_DATABASE_URL to run them.
==========================================================================
NOTE
    fi
  fi
fi

# internal/app, the end-to-end tests, takes longest: listed first, it starts
# first rather than being the tail while the other packages share the second
# of the -p (CPU count) slots. Its parallel tests mostly wait on workflows,
# timers and polls, so TEST_PARALLEL (default 4) of them run at once, more
# than the CPU count that -parallel defaults to.
echo "==> go test -race ./... (PostgreSQL: ${TEST_DATABASE_URL:-none})" >&2
go test -race -count=1 -timeout 30m -parallel "${TEST_PARALLEL:-4}" ./internal/app/ ./...
