#!/usr/bin/env bash
# `npm test`: every tier — types, unit, simulator, integration (real kube-apiserver), end-to-end
# (real Chromium). Sets up what it needs first, as `npm start` does: npm dependencies, the Debian
# packages the tests run, the Go-built test binaries (all skipped when already there).
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1 TURBO_TELEMETRY_DISABLED=1
# shellcheck source-path=SCRIPTDIR/.. source=scripts/setup.sh
source scripts/setup.sh
ensure_npm_dependencies
# Chromium (e2e), cloud-init and shellcheck (the generated guest set-up is checked by the real
# tools), openssl (the test API server's certificates), iproute2 and util-linux (cdi-controller runs
# in a network namespace of its own: ip, unshare).
ensure_debian_packages chromium cloud-init shellcheck openssl iproute2 util-linux
ensure_test_binaries
# kubectl, built with the test API server by test/infra/build-test-binaries.sh, runs the guest
# readiness script in tests; put it first on PATH when it is there.
env_file="${CKS_LAB_CACHE:-$HOME/.cache/cks-lab}/current.env"
if [ -f "$env_file" ]; then
  kubectl_path="$(sed -n "s/^KUBECTL=//p" "$env_file" | tr -d "'")"
  if [ -n "$kubectl_path" ]; then
    PATH="$(dirname "$kubectl_path"):$PATH"
    export PATH
  fi
fi
# Lint and format (Biome) with the types: the repository's own rules before any test runs.
npx turbo run lint typecheck --output-logs=errors-only
npx turbo run test
# The simulator tier stops and restarts the production server, the integration tier starts it in
# real-cluster mode, and e2e drives it in a browser: build it first.
npx turbo run build --filter=@cks-lab/web --output-logs=errors-only
npm run test:simulator
npm run test:integration
npm run test:e2e
