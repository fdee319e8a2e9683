#!/usr/bin/env bash
# Builds the linters `make lint` runs into ./bin from the Go module proxy when
# they are missing or not the pinned version. They are tools, not
# dependencies: they stay out of go.mod.
#   golangci-lint  the linter runner; its configuration is .golangci.yml
#   workflowcheck  Temporal's check that workflow code is deterministic
set -euo pipefail
cd "$(dirname "$0")/.."
GOLANGCI_LINT_VERSION=v2.15.0
WORKFLOWCHECK_VERSION=v0.6.0

# install BINARY MODULE PACKAGE VERSION: go install PACKAGE@VERSION into ./bin
# unless bin/BINARY is already that module at that version.
install() {
  local bin=$1 module=$2 pkg=$3 version=$4 have=""
  if [ -x "bin/$bin" ]; then
    have=$(go version -m "bin/$bin" 2>/dev/null | awk -v m="$module" '$1 == "mod" && $2 == m { print $3 }')
  fi
  if [ "$have" != "$version" ]; then
    echo "==> building $bin $version into ./bin (a few minutes, first time only)" >&2
    GOBIN="$PWD/bin" go install "$pkg@$version"
  fi
}

install golangci-lint github.com/golangci/golangci-lint/v2 \
  github.com/golangci/golangci-lint/v2/cmd/golangci-lint "$GOLANGCI_LINT_VERSION"
install workflowcheck go.temporal.io/sdk/contrib/tools/workflowcheck \
  go.temporal.io/sdk/contrib/tools/workflowcheck "$WORKFLOWCHECK_VERSION"
