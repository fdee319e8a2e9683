#!/usr/bin/env bash
# Builds Mailpit (a real SMTP server with a REST API, for the email tests)
# into ./bin from the Go module proxy when it is missing. It is a tool, not a
# dependency: it stays out of go.mod. Keep the version in step with
# MailpitVersion in internal/testenv/mailpit.go.
set -euo pipefail
cd "$(dirname "$0")/.."
MAILPIT_VERSION=v1.33.1
if [ ! -x bin/mailpit ]; then
  echo "==> building Mailpit $MAILPIT_VERSION into ./bin (a few minutes, first time only)" >&2
  GOBIN="$PWD/bin" go install "github.com/axllent/mailpit@$MAILPIT_VERSION"
fi
