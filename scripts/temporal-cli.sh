#!/usr/bin/env bash
# Builds the Temporal CLI (dev server + Web UI) into ./bin from the Go module
# proxy when it is missing. It is a tool, not a dependency: it stays out of
# go.mod, whose SDK pins would clash with the server's.
set -euo pipefail
cd "$(dirname "$0")/.."
TEMPORAL_CLI_VERSION=v1.5.1
if [ ! -x bin/temporal ]; then
  echo "==> building the Temporal CLI $TEMPORAL_CLI_VERSION into ./bin (a few minutes, first time only)" >&2
  GOBIN="$PWD/bin" go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
fi
