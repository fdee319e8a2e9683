#!/usr/bin/env bash
# `make run`: the whole service on one machine. Starts a Temporal dev server
# (Web UI on :8233, state in ./data/temporal.db) unless TEMPORAL_ADDRESS
# points at one, then orgaccounts (API + worker) on :8080 with its data in
# ./data/orgaccounts.db unless DATABASE_URL is set. Unless SMTP_URL is set,
# it starts Mailpit too (./bin/mailpit, built by scripts/mailpit.sh) and
# sends every email there: read them at its inbox, http://localhost:8025.
# Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p data bin
scripts/temporal-cli.sh
scripts/mailpit.sh
scripts/assets.sh
echo "==> building orgaccounts" >&2
go build -o bin/orgaccounts ./cmd/orgaccounts

temporal_pid=""
mailpit_pid=""
stop() {
  for pid in $temporal_pid $mailpit_pid; do
    kill -INT "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
trap stop EXIT

if [ -z "${TEMPORAL_ADDRESS:-}" ]; then
  port=${TEMPORAL_PORT:-7233}
  ui_port=${TEMPORAL_UI_PORT:-8233}
  export TEMPORAL_ADDRESS="127.0.0.1:$port"
  echo "==> starting the Temporal dev server on $TEMPORAL_ADDRESS (Web UI http://localhost:$ui_port, log data/temporal.log)" >&2
  bin/temporal server start-dev --ip 127.0.0.1 --port "$port" --ui-port "$ui_port" \
    --db-filename data/temporal.db --log-level warn \
    --search-attribute OrganizationSid=Keyword --search-attribute AccountSid=Keyword --search-attribute LifecycleStage=Keyword \
    >>data/temporal.log 2>&1 &
  temporal_pid=$!
  deadline=$((SECONDS + 60))
  until bin/temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; do
    if ! kill -0 "$temporal_pid" 2>/dev/null; then
      echo "the Temporal dev server exited; see data/temporal.log (is port $port or $ui_port taken?)" >&2
      exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      echo "the Temporal dev server did not become healthy within 60s; see data/temporal.log" >&2
      exit 1
    fi
    sleep 0.5
  done
fi

if [ -z "${SMTP_URL:-}" ]; then
  smtp_port=${MAILPIT_SMTP_PORT:-1025}
  inbox_port=${MAILPIT_UI_PORT:-8025}
  bin/mailpit --smtp "127.0.0.1:$smtp_port" --listen "127.0.0.1:$inbox_port" --database data/mailpit.db \
    --smtp-auth-accept-any --smtp-auth-allow-insecure --smtp-disable-rdns --disable-version-check \
    >>data/mailpit.log 2>&1 &
  mailpit_pid=$!
  export SMTP_URL="smtp://127.0.0.1:$smtp_port?tls=none"
  echo "==> Mailpit catches every email: inbox http://localhost:$inbox_port (SMTP 127.0.0.1:$smtp_port, log data/mailpit.log)" >&2
fi

export LOG_FORMAT=${LOG_FORMAT:-text}
http_addr=${HTTP_ADDR:-:8080}
echo "==> starting orgaccounts (Ctrl-C stops everything); the Admin Center: ${PUBLIC_BASE_URL:-http://localhost:${http_addr##*:}}/console" >&2
bin/orgaccounts serve
