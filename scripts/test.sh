#!/usr/bin/env bash
# `npm test`: every tier — types, unit, integration (real kube-apiserver), end-to-end (real Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1 TURBO_TELEMETRY_DISABLED=1
npx turbo run typecheck --output-logs=errors-only
npx turbo run test
npm run test:integration
npx turbo run build --filter=@cks-lab/web --output-logs=errors-only
npm run test:e2e
