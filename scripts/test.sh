#!/usr/bin/env bash
# `npm test`: every tier — types, unit, integration (real kube-apiserver), end-to-end (real Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1 TURBO_TELEMETRY_DISABLED=1
# kubectl, built with the test API server by test/infra/build-test-binaries.sh, runs the guest
# readiness script in tests; put it first on PATH when it is there.
env_file="${CKS_LAB_CACHE:-$HOME/.cache/cks-lab}/current.env"
if [ -f "$env_file" ]; then
  kubectl_path="$(sed -n "s/^KUBECTL=//p" "$env_file" | tr -d "'")"
  [ -n "$kubectl_path" ] && export PATH="$(dirname "$kubectl_path"):$PATH"
fi
npx turbo run typecheck --output-logs=errors-only
npx turbo run test
npm run test:simulator
# The integration tier starts the production server in real-cluster mode, and e2e drives it in a browser.
npx turbo run build --filter=@cks-lab/web --output-logs=errors-only
npm run test:integration
npm run test:e2e
