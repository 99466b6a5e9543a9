#!/usr/bin/env bash
# `npm start`: from a fresh clone, install, build (cached by turbo) and serve on $PORT against the
# simulated cluster unless LAB_CLUSTER=kube. The database migrates itself at start-up.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1 TURBO_TELEMETRY_DISABLED=1
[ -x node_modules/.bin/turbo ] || npm ci --no-audit --no-fund
npx turbo run build --filter=@cks-lab/web --output-logs=errors-only
export LAB_DATA_DIR="${LAB_DATA_DIR:-$PWD/data}"
exec npm run -s -w @cks-lab/web start -- -p "${PORT:-3000}"
