#!/usr/bin/env bash
# `npm start`: from a fresh clone, install, build (cached by turbo: only build-time settings are
# its inputs, so changing PORT or SIM_* does not rebuild) and serve on $PORT against the simulated
# cluster unless LAB_CLUSTER=kube. The database migrates itself at start-up.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1 TURBO_TELEMETRY_DISABLED=1
# shellcheck source-path=SCRIPTDIR/.. source=scripts/setup.sh
source scripts/setup.sh
ensure_npm_dependencies
npx turbo run build --filter=@cks-lab/web --output-logs=errors-only
export LAB_DATA_DIR="${LAB_DATA_DIR:-$PWD/data}"
cd apps/web
# The server itself replaces this shell (no npm or tsx process in between): the signals that stop it
# reach it directly, and it shuts down cleanly (apps/web/server.ts).
NODE_ENV=production exec node --import tsx server.ts -p "${PORT:-3000}"
