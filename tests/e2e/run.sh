#!/usr/bin/env bash
# End to end: demo site → SDK → collector → real Kafka, driven by Playwright in headless
# Chromium, then checked with independent consumers (sightline-tail and kcat).
#
# Called by scripts/test.sh with SIGHTLINE_KAFKA set and the SDK built. Run alone, it starts
# (and stops) its own broker on KAFKA_PORT (default 29092) and builds the SDK if needed.
# Everything listens on loopback, on free ports; every process it starts is stopped on exit,
# failure included. Artifacts (screenshots, logs) go to tests/artifacts/.
# E2E_ONLY=tests/e2e/NAME.test.mjs runs that file alone (default: every test in tests/e2e/).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
artifacts=$repo/tests/artifacts
mkdir -p "$artifacts"
# Bounds the Playwright part (about 2.5 minutes on a quiet 2-core machine, more under load).
E2E_TIMEOUT_SECS=${E2E_TIMEOUT_SECS:-420}

log() { printf 'e2e: %s\n' "$*" >&2; }

pids=()
own_kafka=no
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for (( i=${#pids[@]}-1; i>=0; i-- )); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [ "$status" -ne 0 ]; then
    for f in collector site; do
      [ -f "$artifacts/$f.log" ] && { log "last lines of $f.log:"; tail -n 25 "$artifacts/$f.log" >&2; }
    done
  fi
  if [ "$own_kafka" = yes ]; then scripts/kafka.sh down || true; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
scripts/ensure.sh e2e  # Chromium, kcat, Kafka jars, npm packages (quick when done)

if [ -z "${SIGHTLINE_KAFKA:-}" ]; then
  export KAFKA_PORT=${KAFKA_PORT:-29092}
  export SIGHTLINE_KAFKA=127.0.0.1:$KAFKA_PORT
  if scripts/kafka.sh status; then
    log "reusing the broker already running on $SIGHTLINE_KAFKA (left running)"
  else
    log "SIGHTLINE_KAFKA not set: starting a broker on $SIGHTLINE_KAFKA for this run"
    own_kafka=yes
    scripts/kafka.sh up
  fi
fi
[ -f sdk-wasm/pkg/package.json ] || scripts/build-sdk.sh

log "building the collector and sightline-tail"
cargo build --quiet -p sightline-collector -p sightline-tail
log "building the demo site's Vite page"
(cd demo-site && npm run --silent build >"$artifacts/vite.log" 2>&1) \
  || { cat "$artifacts/vite.log" >&2; exit 1; }

log "making the demo's video files"
scripts/demo-videos.sh "$artifacts/media"

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_http() { # url seconds name
  http_ready "$1" "$2" || { log "$3 did not answer on $1 within $2 s"; return 1; }
}

collector_port=$(free_port)
rm -rf "$artifacts/spool"
SIGHTLINE__SPOOL__DIR="$artifacts/spool/{port}" \
target/debug/sightline-collector --config collector/sightline.example.toml \
  --listen "127.0.0.1:$collector_port" --brokers "$SIGHTLINE_KAFKA" >"$artifacts/collector.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$collector_port/readyz" 30 collector

site_port=$(free_port)
node demo-site/server/server.mjs --port "$site_port" --collector "http://127.0.0.1:$collector_port" --media-dir "$artifacts/media" \
  --brokers "$SIGHTLINE_KAFKA" --tail target/debug/sightline-tail >"$artifacts/site.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$site_port/healthz" 15 "demo site"

log "collector on :$collector_port, demo site on :$site_port, Kafka on $SIGHTLINE_KAFKA"
E2E_SITE_URL=http://localhost:$site_port \
E2E_COLLECTOR_URL=http://127.0.0.1:$collector_port \
E2E_ARTIFACTS=$artifacts \
SIGHTLINE_TAIL=$repo/target/debug/sightline-tail \
  timeout "$E2E_TIMEOUT_SECS" node --test --test-concurrency=1 "${E2E_ONLY:-tests/e2e/}"
