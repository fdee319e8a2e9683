#!/usr/bin/env bash
# `make fuzz`: runs every native Go fuzz target (func FuzzXxx in a
# *_fuzz_test.go file) for FUZZTIME each (default 20s), one after the
# other. `make test` runs only their seed corpora (testdata/fuzz and the
# f.Add seeds); this searches for new inputs. A failing input is written
# to the package's testdata/fuzz/FuzzXxx: commit it with the fix, and it
# becomes a seed that every `make test` runs.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-20s}
status=0
for file in $(git ls-files '*_fuzz_test.go' 2>/dev/null || find . -name '*_fuzz_test.go' -not -path './bin/*'); do
  pkg=./$(dirname "$file")
  for target in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //'); do
    echo "==> $pkg $target for $FUZZTIME" >&2
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg"; then
      status=1
    fi
  done
done
exit $status
