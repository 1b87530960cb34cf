#!/usr/bin/env bash
# Installs the tools of the deploy targets (make image, make test-image, make test-deploy,
# make test-alerts) and prints the path of each. Idempotent: a tool already there is
# reused in milliseconds; a missing one is installed and the time it took is printed.
#
#   scripts/deploy-tools.sh podman       Debian podman (image builds; apt)
#   scripts/deploy-tools.sh debootstrap  Debian debootstrap (the Debian base variant; apt)
#   scripts/deploy-tools.sh helm         Helm from the Go module proxy, cached in .cache/tools
#   scripts/deploy-tools.sh promtool     Prometheus's promtool, likewise (a large build)
#   scripts/deploy-tools.sh validate     deploy/validate (strict Kubernetes decoding), rebuilt when its sources change
#
# Several names may be given. Go builds share .cache/go (module and build caches), so a
# fresh clone builds each tool once. SIGHTLINE_CACHE moves the cache (default <repo>/.cache).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${SIGHTLINE_CACHE:-$repo/.cache}

helm_version=v4.3.2
promtool_module=github.com/prometheus/prometheus   # v0.316.0 = Prometheus 3.16.0
promtool_version=v0.316.0

log() { printf 'deploy-tools: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

go_env() {
  # The machines' Go lives in /usr/local/go; a login shell may not have it on PATH.
  command -v go >/dev/null 2>&1 || PATH=$PATH:/usr/local/go/bin
  command -v go >/dev/null 2>&1 || { log "Go is not installed (needed to build the deploy tools)"; exit 1; }
  export GOMODCACHE=$cache/go/mod GOCACHE=$cache/go/build GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=local
}

apt_tool() { # package binary
  if ! command -v "$2" >/dev/null 2>&1; then
    local t0=$SECONDS
    log "apt-get install $1"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$1" >/dev/null
    log "$1 installed in $((SECONDS - t0)) s"
  fi
  command -v "$2"
}

go_tool() { # name module/cmd/path version
  local dir=$cache/tools/$1-$3
  if [ ! -x "$dir/$1" ]; then
    go_env
    local t0=$SECONDS
    log "go install $2@$3 (into $dir)"
    GOBIN=$dir go install "$2@$3"
    log "$1 $3 built in $((SECONDS - t0)) s"
  fi
  echo "$dir/$1"
}

validate_tool() {
  local src=$repo/deploy/validate out=$cache/tools/validate
  local stamp
  stamp=$(cat "$src"/go.mod "$src"/go.sum "$src"/*.go | sha256sum | cut -c1-16)
  if [ ! -x "$out/validate-$stamp" ]; then
    go_env
    local t0=$SECONDS
    log "go build deploy/validate"
    rm -rf "$out" && mkdir -p "$out"
    (cd "$src" && go build -o "$out/validate-$stamp" .)
    log "validate built in $((SECONDS - t0)) s"
  fi
  echo "$out/validate-$stamp"
}

[ $# -gt 0 ] || { sed -n '2,14p' "$0" >&2; exit 2; }
for tool in "$@"; do
  case $tool in
    podman) apt_tool podman podman ;;
    debootstrap) apt_tool debootstrap debootstrap ;;
    helm) go_tool helm helm.sh/helm/v4/cmd/helm "$helm_version" ;;
    promtool) go_tool promtool "$promtool_module/cmd/promtool" "$promtool_version" ;;
    validate) validate_tool ;;
    *) log "unknown tool $tool"; exit 2 ;;
  esac
done
