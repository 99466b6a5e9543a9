# shellcheck shell=bash
# Shared by build-test-binaries.sh and build-control-plane-binaries.sh (sourced after they define
# log/die and, before download_mod is called, SCRATCH): Go on PATH, module downloads through the
# proxy, and the env files test/infra/cluster.ts reads.

if ! command -v go >/dev/null 2>&1; then
  if [[ -x /usr/local/go/bin/go ]]; then
    export PATH="/usr/local/go/bin:$PATH"
  else
    die "Go toolchain not found (Go is needed only to build the integration-test binaries)"
  fi
fi

# json_field FILE KEY -> prints the string value of a top-level "KEY": "value" of `go mod download -json`.
json_field() {
  sed -n "s/^[[:space:]]*\"$2\": \"\(.*\)\",\{0,1\}$/\1/p" "$1" | head -n1
}

# download_mod MODULE@VERSION OUTFILE [GONOSUMDB] -> 0 when the module and its go.mod are served
# (OUTFILE holds the json, OUTFILE.err the errors), 1 otherwise.
download_mod() {
  (cd "$SCRATCH" && GONOSUMDB="${3:-}" GOFLAGS=-mod=mod go mod download -json "$1") >"$2" 2>"$2.err" || true
  ! grep -q '"Error"' "$2" && [[ -n "$(json_field "$2" GoMod)" ]]
}

# The higher of two Go versions.
max_go() { printf '%s\n%s\n' "$1" "$2" | sort -V | tail -n1; }

# env_value VALUE -> written unquoted when safe, else single-quoted (cluster.ts strips the quotes).
env_value() {
  if [[ "$1" =~ ^[A-Za-z0-9_./:@+-]*$ ]]; then printf '%s' "$1"
  elif [[ "$1" != *"'"* ]]; then printf "'%s'" "$1"
  else die "unsupported character in path: $1"; fi
}
