#!/usr/bin/env bash
# `make lint`: static analysis. golangci-lint with the linters of
# .golangci.yml over every package, tests included, then Temporal's
# workflowcheck over ./workflows/..., which fails when a workflow, directly
# or through what it calls, does something that is not deterministic
# (time.Now, time.Sleep, a goroutine, a plain channel, ranging over a map,
# os.Stdout, ...). Both are built into ./bin the first time
# (scripts/lint-tools.sh).
# Arguments go to golangci-lint, e.g. `scripts/lint.sh --concurrency 1`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/lint-tools.sh

echo "==> golangci-lint" >&2
bin/golangci-lint run "$@" ./...

echo "==> workflowcheck ./workflows/..." >&2
bin/workflowcheck ./workflows/...
