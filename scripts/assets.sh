#!/usr/bin/env bash
# The console's browser assets from the npm registry (web/package.json,
# pinned by web/package-lock.json): htmx, copied into api/console/assets
# where the binary embeds it, and axe-core, which the accessibility tests
# inject. Neither is committed. Without npm the console is built without
# htmx: its pages work as plain forms and links.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=api/console/assets/htmx.min.js
if ! command -v npm >/dev/null 2>&1; then
  echo "==> npm not found: the console is built without htmx (pages still work, without live updates)" >&2
  exit 0
fi
if [ ! -f web/node_modules/.package-lock.json ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  echo "==> npm ci (web/)" >&2
  (cd web && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
if ! cmp -s web/node_modules/htmx.org/dist/htmx.min.js "$dest"; then
  cp web/node_modules/htmx.org/dist/htmx.min.js "$dest"
fi
