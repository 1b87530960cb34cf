#!/usr/bin/env bash
# Installs everything the build, the tests and the demo need on a fresh Debian machine with
# rustup, Java 17, Maven, Node.js and Python (what this project's machines come with).
# Idempotent: each step checks first, so a second run takes seconds. Used by .ci/run and
# `make demo`; safe to run by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

wasm_bindgen_version=0.2.130   # must equal the `wasm-bindgen` pin in Cargo.toml
apt_packages=(chromium chromium-driver protobuf-compiler kcat)

log() { printf 'setup: %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi

rustup component add rustfmt clippy >/dev/null 2>&1 || true
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wasm_bindgen_version" ]; then
  log "cargo install wasm-bindgen-cli $wasm_bindgen_version (about 3 minutes on 2 cores)"
  # No --locked: the registry mirror lacks one transitive version pinned by its lock file.
  cargo install wasm-bindgen-cli --version "$wasm_bindgen_version" --quiet
fi

for dir in sdk-wasm tests/browser tests/e2e demo-site bench/sdk; do
  if [ -f "$dir/package-lock.json" ] && [ ! -d "$dir/node_modules" ]; then
    log "npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done

scripts/kafka.sh fetch
log "ready"
