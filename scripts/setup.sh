# shellcheck shell=bash
# Set-up shared by `npm start` (scripts/start.sh) and `npm test` (scripts/test.sh), sourced from the
# repository root. Each step checks before it acts, so both commands work on a fresh clone and cost
# next to nothing once the machine is set up.

setup_log() { printf '[setup] %s\n' "$*" >&2; }

# npm dependencies, installed (npm ci) when node_modules is missing or was installed from another
# package-lock.json. The lock's checksum is stamped after each install; a tree without a stamp
# counts as current when npm's own record of the install is not older than the lock.
ensure_npm_dependencies() {
  local stamp=node_modules/.cks-lab-lock-cksum lock
  lock="$(cksum <package-lock.json)"
  if [ -x node_modules/.bin/turbo ]; then
    if [ -f "$stamp" ]; then
      [ "$(cat "$stamp")" = "$lock" ] && return 0
    elif [ -f node_modules/.package-lock.json ] && [ ! package-lock.json -nt node_modules/.package-lock.json ]; then
      printf '%s\n' "$lock" >"$stamp"
      return 0
    fi
  fi
  setup_log "installing npm dependencies (npm ci): node_modules is missing or older than package-lock.json"
  npm ci --no-audit --no-fund
  printf '%s\n' "$lock" >"$stamp"
}

# ensure_debian_packages PACKAGE... installs the missing ones when it can (as root, or with
# passwordless sudo); otherwise prints the exact command and fails.
ensure_debian_packages() {
  local missing=() package
  if ! command -v dpkg-query >/dev/null 2>&1; then
    setup_log "error: cannot check for the Debian packages the tests need (no dpkg-query): $*"
    return 1
  fi
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      as_root=(sudo)
    else
      setup_log "error: the tests need these Debian packages: ${missing[*]}. Install them as root, then run npm test again:"
      printf '  sudo apt-get update && sudo apt-get install -y --no-install-recommends %s\n' "${missing[*]}" >&2
      return 1
    fi
  fi
  setup_log "installing Debian packages: ${missing[*]}"
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# The Go-built binaries of the integration tiers (kube-apiserver, etcd, …; then KubeVirt, CDI and
# the snapshot controller), cached under ${CKS_LAB_CACHE:-~/.cache/cks-lab} by version. Without Go
# their suites skip with the reason, except under CI, which must run them.
ensure_test_binaries() {
  if command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ]; then
    bash test/infra/build-test-binaries.sh
    bash test/infra/build-control-plane-binaries.sh
  elif [ -n "${CI:-}" ]; then
    setup_log "error: CI runs every tier, and the integration tiers' binaries need Go >= 1.26 (https://go.dev/dl)"
    return 1
  else
    setup_log "no Go toolchain: the suites that need a real kube-apiserver or KubeVirt controllers will skip (Go >= 1.26 from https://go.dev/dl builds them)"
  fi
}
