#!/usr/bin/env bash
# Builds the binaries used by the integration test tier (test/infra/cluster.ts):
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl  from k8s.io/kubernetes@$K8S_VERSION
#   etcd                                     from go.etcd.io/etcd/server/v3 at the version
#                                            that Kubernetes release pins in its go.mod
#
# Go is used ONLY here, to build test binaries; the product is TypeScript.
#
# Output: ${CKS_LAB_CACHE:-$HOME/.cache/cks-lab}/k8s-<k8s>-etcd-<etcd>/bin/
#         <that dir>/env and ${CKS_LAB_CACHE:-$HOME/.cache/cks-lab}/current.env with
#         KUBE_APISERVER= KUBE_CONTROLLER_MANAGER= KUBE_SCHEDULER= KUBECTL= ETCD= K8S_TEST_VERSION= ETCD_TEST_VERSION=
#
# Idempotent: when the binaries already exist it prints "cached" and exits 0.
# Environment knobs:
#   K8S_VERSION        Kubernetes release to build (default below)
#   ETCD_VERSION       override the etcd version (default: the one Kubernetes pins)
#   CKS_LAB_CACHE      cache root (default $HOME/.cache/cks-lab)
#   CKS_LAB_BUILD_LOCK_TIMEOUT  seconds to wait for a concurrent build (default 3600)
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.35.4}"
CACHE_ROOT="${CKS_LAB_CACHE:-$HOME/.cache/cks-lab}"
LOCK_TIMEOUT="${CKS_LAB_BUILD_LOCK_TIMEOUT:-3600}"

log() { printf '[build-test-binaries] %s\n' "$*" >&2; }
die() { printf '[build-test-binaries] error: %s\n' "$*" >&2; exit 1; }

# shellcheck source-path=SCRIPTDIR source=build-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/build-lib.sh"

[[ "$K8S_VERSION" =~ ^v1\.([0-9]+)\.([0-9]+)(-.*)?$ ]] || die "K8S_VERSION must look like v1.35.4, got '$K8S_VERSION'"
K8S_MINOR="${BASH_REMATCH[1]}"
# Staging modules (k8s.io/api, k8s.io/client-go, ...) are tagged v0.<minor>.<patch> for v1.<minor>.<patch>.
STAGING_VERSION="v0.${K8S_VERSION#v1.}"

start_ts=$(date +%s)
mkdir -p "$CACHE_ROOT"
CACHE_ROOT="$(cd "$CACHE_ROOT" && pwd -P)"

# Serialize concurrent runs (two shells, CI + developer, ...).
exec 9>"$CACHE_ROOT/.build.lock"
if command -v flock >/dev/null 2>&1; then
  flock -w "$LOCK_TIMEOUT" 9 || die "timed out after ${LOCK_TIMEOUT}s waiting for another build (lock $CACHE_ROOT/.build.lock)"
fi

# Every `go` invocation that must not see a surrounding go.mod runs from here.
SCRATCH="$(mktemp -d "$CACHE_ROOT/tmp.build.XXXXXX")"
cleanup() { rm -rf "$SCRATCH"; }
trap cleanup EXIT


# ---------------------------------------------------------------------------------------------
# 1. Read the Kubernetes release's own go.mod: etcd pin, go directive, godebug, staging replaces.
# ---------------------------------------------------------------------------------------------
download_mod "k8s.io/kubernetes@$K8S_VERSION" "$SCRATCH/k8s.json" ||
  die "cannot download k8s.io/kubernetes@$K8S_VERSION: $(cat "$SCRATCH/k8s.json" "$SCRATCH/k8s.json.err" 2>/dev/null | tail -n5)"
K8S_GOMOD="$(json_field "$SCRATCH/k8s.json" GoMod)"
K8S_INFO="$(json_field "$SCRATCH/k8s.json" Info)"
[[ -f "$K8S_GOMOD" ]] || die "go.mod of k8s.io/kubernetes@$K8S_VERSION not found at '$K8S_GOMOD'"

# version of MODULE in a go.mod's require lines (block or single-line form)
gomod_require_version() {
  awk -v mod="$2" '
    /^require[[:space:]]*\(/ { inblk = 1; next }
    inblk && /^\)/ { inblk = 0; next }
    inblk && $1 == mod { print $2; exit }
    !inblk && $1 == "require" && $2 == mod { print $3; exit }
  ' "$1"
}

PINNED_ETCD="$(gomod_require_version "$K8S_GOMOD" go.etcd.io/etcd/client/v3)"
[[ -n "$PINNED_ETCD" ]] || die "could not find go.etcd.io/etcd/client/v3 in $K8S_GOMOD"

K8S_GO_DIRECTIVE="$(awk '$1 == "go" { print $2; exit }' "$K8S_GOMOD")"
K8S_GODEBUG="$(grep -E '^godebug[[:space:]]' "$K8S_GOMOD" || true)"

# Generate `k8s.io/foo => k8s.io/foo v0.x.y` from the release's `k8s.io/foo => ./staging/src/k8s.io/foo`.
STAGING_REPLACES="$(awk -v v="$STAGING_VERSION" '
  /^replace[[:space:]]*\(/ { inblk = 1; next }
  inblk && /^\)/ { inblk = 0; next }
  {
    line = $0
    if (!inblk) { if (line !~ /^replace[[:space:]]/) next; sub(/^replace[[:space:]]+/, "", line) }
    n = split(line, f, /[[:space:]]+/)
    # skip leading empty field produced by indentation
    i = 1; while (i <= n && f[i] == "") i++
    if (f[i+1] == "=>" && f[i+2] ~ /^\.\/staging\/src\//) printf "\t%s => %s %s\n", f[i], f[i], v
  }
' "$K8S_GOMOD")"
[[ -n "$STAGING_REPLACES" ]] || die "no ./staging/src replace directives found in $K8S_GOMOD"

# ---------------------------------------------------------------------------------------------
# 2. etcd: the version Kubernetes pins, or the nearest served patch of that minor.
# ---------------------------------------------------------------------------------------------
if [[ -n "${ETCD_VERSION:-}" ]]; then
  download_mod "go.etcd.io/etcd/server/v3@$ETCD_VERSION" "$SCRATCH/etcd.json" ||
    die "ETCD_VERSION=$ETCD_VERSION is not available: $(tail -n3 "$SCRATCH/etcd.json.err")"
elif download_mod "go.etcd.io/etcd/server/v3@$PINNED_ETCD" "$SCRATCH/etcd.json"; then
  ETCD_VERSION="$PINNED_ETCD"
else
  log "etcd $PINNED_ETCD (pinned by Kubernetes $K8S_VERSION) is not served; looking for the nearest patch release"
  minor_prefix="$(printf '%s' "$PINNED_ETCD" | sed -E 's/^(v[0-9]+\.[0-9]+)\..*/\1/')"
  pinned_patch="$(printf '%s' "$PINNED_ETCD" | sed -E 's/^v[0-9]+\.[0-9]+\.([0-9]+).*/\1/')"
  all_versions="$(cd "$SCRATCH" && go list -m -versions go.etcd.io/etcd/server/v3)" ||
    die "cannot list go.etcd.io/etcd/server/v3 versions"
  candidates="$(tr ' ' '\n' <<<"$all_versions" | grep -E "^${minor_prefix//./\\.}\.[0-9]+$" || true)"
  ETCD_VERSION="$(printf '%s\n' "$candidates" | awk -F. -v p="$pinned_patch" '
    NF == 3 { d = $3 - p; if (d < 0) d = -d + 0.5; if (best == "" || d < bd) { best = $0; bd = d } }
    END { print best }')"
  [[ -n "$ETCD_VERSION" ]] || die "no served go.etcd.io/etcd/server/v3 release in ${minor_prefix}.x"
  download_mod "go.etcd.io/etcd/server/v3@$ETCD_VERSION" "$SCRATCH/etcd.json" ||
    die "cannot download go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  log "using etcd $ETCD_VERSION instead of $PINNED_ETCD"
fi
ETCD_GOMOD="$(json_field "$SCRATCH/etcd.json" GoMod)"
ETCD_GO_DIRECTIVE="$(awk '$1 == "go" { print $2; exit }' "$ETCD_GOMOD")"

OUT_DIR="$CACHE_ROOT/k8s-$K8S_VERSION-etcd-$ETCD_VERSION"
BIN_DIR="$OUT_DIR/bin"


write_env() {
  local content
  content="$(
    printf 'KUBE_APISERVER=%s\n' "$(env_value "$BIN_DIR/kube-apiserver")"
    printf 'KUBE_CONTROLLER_MANAGER=%s\n' "$(env_value "$BIN_DIR/kube-controller-manager")"
    printf 'KUBE_SCHEDULER=%s\n' "$(env_value "$BIN_DIR/kube-scheduler")"
    printf 'KUBECTL=%s\n' "$(env_value "$BIN_DIR/kubectl")"
    printf 'ETCD=%s\n' "$(env_value "$BIN_DIR/etcd")"
    printf 'K8S_TEST_VERSION=%s\n' "$K8S_VERSION"
    printf 'ETCD_TEST_VERSION=%s\n' "$ETCD_VERSION"
  )"
  printf '%s\n' "$content" >"$OUT_DIR/env.tmp" && mv -f "$OUT_DIR/env.tmp" "$OUT_DIR/env"
  printf '%s\n' "$content" >"$CACHE_ROOT/current.env.tmp" && mv -f "$CACHE_ROOT/current.env.tmp" "$CACHE_ROOT/current.env"
  printf '%s\n' "$content"
}

if [[ -x "$BIN_DIR/kube-apiserver" && -x "$BIN_DIR/kube-controller-manager" && -x "$BIN_DIR/kube-scheduler" && -x "$BIN_DIR/kubectl" && -x "$BIN_DIR/etcd" ]]; then
  echo "cached"
  write_env
  echo "build time: $(($(date +%s) - start_ts)) s (cached)"
  echo "cache size: $(du -sh "$CACHE_ROOT" | cut -f1) ($CACHE_ROOT)"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# 3. Build (temporary module dirs under the cache; default GOPATH/GOMODCACHE/GOCACHE reused).
# ---------------------------------------------------------------------------------------------
log "building Kubernetes $K8S_VERSION (staging modules $STAGING_VERSION) and etcd $ETCD_VERSION with $(go version | awk '{print $3}')"
mkdir -p "$SCRATCH/k8s" "$SCRATCH/etcd" "$SCRATCH/bin"

# Tool directives need go >= 1.24.

local_go="$(go env GOVERSION)"; local_go="${local_go#go}"
if [[ "$(max_go "$local_go" "${K8S_GO_DIRECTIVE:-0}")" != "$local_go" && "$(go env GOTOOLCHAIN)" == local ]]; then
  die "Kubernetes $K8S_VERSION needs go >= $K8S_GO_DIRECTIVE but this is go $local_go with GOTOOLCHAIN=local; export GOTOOLCHAIN=go1.27.3 (fetched through the module proxy) or pick an older K8S_VERSION"
fi

{
  echo "// generated by test/infra/build-test-binaries.sh -- do not edit"
  echo "module cks-lab.local/testbin/kubernetes"
  echo
  echo "go $(max_go "${K8S_GO_DIRECTIVE:-1.24}" 1.24)"
  echo
  [[ -n "$K8S_GODEBUG" ]] && { printf '%s\n' "$K8S_GODEBUG"; echo; }
  echo "require k8s.io/kubernetes $K8S_VERSION"
  echo
  echo "tool ("
  echo "	k8s.io/kubernetes/cmd/kube-apiserver"
  echo "	k8s.io/kubernetes/cmd/kube-controller-manager"
  echo "	k8s.io/kubernetes/cmd/kube-scheduler"
  echo "	k8s.io/kubernetes/cmd/kubectl"
  echo ")"
  echo
  echo "// generated from k8s.io/kubernetes@$K8S_VERSION go.mod (./staging/src/... => $STAGING_VERSION)"
  echo "replace ("
  printf '%s\n' "$STAGING_REPLACES"
  echo ")"
} >"$SCRATCH/k8s/go.mod"

cat >"$SCRATCH/etcd/go.mod" <<EOF
// generated by test/infra/build-test-binaries.sh -- do not edit
module cks-lab.local/testbin/etcd

go $(max_go "${ETCD_GO_DIRECTIVE:-1.24}" 1.24)

require go.etcd.io/etcd/server/v3 $ETCD_VERSION

tool go.etcd.io/etcd/server/v3
EOF

export CGO_ENABLED=0
# Default parallelism (-p = number of CPUs: 2 on the project's machines).
export GOFLAGS="${GOFLAGS:-} -mod=mod"

# Kubernetes version stamping, as hack/lib/version.sh does (client-go and component-base).
k8s_build_date="$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$K8S_INFO" 2>/dev/null || true)"
k8s_build_date="${k8s_build_date%%.*}"; k8s_build_date="${k8s_build_date%Z}Z"
[[ "$k8s_build_date" =~ ^[0-9]{4}- ]] || k8s_build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
k8s_ldflags="-s -w"
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=$K8S_VERSION"
  k8s_ldflags+=" -X $pkg.gitMajor=1 -X $pkg.gitMinor=$K8S_MINOR"
  k8s_ldflags+=" -X $pkg.gitTreeState=archive"
  k8s_ldflags+=" -X $pkg.gitCommit=module-$K8S_VERSION"
  k8s_ldflags+=" -X $pkg.buildDate=$k8s_build_date"
done

log "resolving Kubernetes module graph (go mod tidy)"
(cd "$SCRATCH/k8s" && go mod tidy)
log "compiling kube-apiserver, kube-controller-manager, kube-scheduler and kubectl (about 5 min on 2 cores with a cold Go build cache, seconds with a warm one)"
(cd "$SCRATCH/k8s" && go build -trimpath -ldflags "$k8s_ldflags" -o "$SCRATCH/bin/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)

log "resolving etcd module graph (go mod tidy)"
(cd "$SCRATCH/etcd" && go mod tidy)
log "compiling etcd"
(cd "$SCRATCH/etcd" && go build -trimpath \
  -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=module-$ETCD_VERSION" \
  -o "$SCRATCH/bin/etcd" go.etcd.io/etcd/server/v3)

# Sanity-check what we built before publishing it.
apiserver_version="$("$SCRATCH/bin/kube-apiserver" --version 2>&1 || true)"
[[ "$apiserver_version" == "Kubernetes $K8S_VERSION" ]] || die "kube-apiserver --version printed '$apiserver_version', expected 'Kubernetes $K8S_VERSION'"
kcm_version="$("$SCRATCH/bin/kube-controller-manager" --version 2>&1 || true)"
[[ "$kcm_version" == "Kubernetes $K8S_VERSION" ]] || die "kube-controller-manager --version printed '$kcm_version'"
scheduler_version="$("$SCRATCH/bin/kube-scheduler" --version 2>&1 || true)"
[[ "$scheduler_version" == "Kubernetes $K8S_VERSION" ]] || die "kube-scheduler --version printed '$scheduler_version'"
etcd_version_out="$("$SCRATCH/bin/etcd" --version 2>&1 || true)"
grep -q "etcd Version: ${ETCD_VERSION#v}" <<<"$etcd_version_out" || die "etcd --version printed '$etcd_version_out'"

mkdir -p "$BIN_DIR"
for b in kube-apiserver kube-controller-manager kube-scheduler kubectl etcd; do
  mv -f "$SCRATCH/bin/$b" "$BIN_DIR/$b"
done
{
  echo "k8s=$K8S_VERSION"
  echo "etcd=$ETCD_VERSION (kubernetes pins $PINNED_ETCD)"
  echo "go=$(go version)"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "build_seconds=$(($(date +%s) - start_ts))"
} >"$OUT_DIR/build-info"

write_env
echo "build time: $(($(date +%s) - start_ts)) s"
echo "cache size: $(du -sh "$CACHE_ROOT" | cut -f1) ($CACHE_ROOT; binaries $(du -sh "$BIN_DIR" | cut -f1))"
echo "go module cache: $(du -sh "$(go env GOMODCACHE)" 2>/dev/null | cut -f1), go build cache: $(du -sh "$(go env GOCACHE)" 2>/dev/null | cut -f1)"
