#!/usr/bin/env bash
# `make test`: every suite, in order of cost. Starts its own Kafka broker on a test port
# (KAFKA_PORT, default 19092, so a running `make demo` on 9092 is left alone) and stops it.
#
#   scripts/test.sh          everything
#   scripts/test.sh lint     only the linters: rustfmt, clippy (native and wasm32), TypeScript's
#                            checker on the JavaScript (tools/lint/jsconfig.json), shellcheck
#                            on every shell script, ruff on analytics/ (analytics/ruff.toml)
set -euo pipefail
cd "$(dirname "$0")/.."

export KAFKA_PORT=${KAFKA_PORT:-19092}
export SIGHTLINE_KAFKA=127.0.0.1:$KAFKA_PORT
export CARGO_TERM_COLOR=never

started=$(date +%s)
step() { printf '\n==> %s\n' "$*"; }

step "install what the tests need (scripts/ensure.sh)"
scripts/ensure.sh "${1:-test}"

lint() {
  step "cargo fmt --check"
  cargo fmt --all --check
  step "cargo clippy -D warnings"
  cargo clippy --workspace --all-targets --quiet -- -D warnings
  step "cargo clippy -D warnings (the SDK for wasm32: as shipped, and with its browser tests)"
  cargo clippy -p sightline-sdk --target wasm32-unknown-unknown --quiet -- -D warnings
  cargo clippy -p sightline-sdk --target wasm32-unknown-unknown --features std --all-targets --quiet -- -D warnings
  step "tsc --checkJs: SDK DOM layer, demo site, e2e tests, kinds module, SDK bench (tools/lint/jsconfig.json)"
  tools/lint/node_modules/.bin/tsc -p tools/lint/jsconfig.json
  step "shellcheck (every shell script)"
  local shells
  mapfile -t shells < <(git ls-files --cached --others --exclude-standard -- '*.sh' .ci/run 2>/dev/null \
    || find scripts tests .ci -name '*.sh' -o -path .ci/run)
  shellcheck -x "${shells[@]}"
  step "ruff (analytics/)"
  .cache/lint-venv/bin/ruff check --no-cache --quiet analytics/
}

lint
[ "${1:-}" = lint ] && exit 0

step "build the SDK (make sdk)"
scripts/build-sdk.sh  # fails above the size budget

step "start Kafka on $SIGHTLINE_KAFKA"
# The port is this script's own and the suites read whole topics: a broker left running there
# (an interrupted run) is taken down with its storage, so every run starts from empty topics.
if scripts/kafka.sh status >/dev/null 2>&1; then scripts/kafka.sh down; fi
scripts/kafka.sh up
trap 'scripts/kafka.sh down' EXIT

step "cargo test (unit, golden vectors vs protoc, Kafka integration)"
cargo test --workspace --exclude sightline-sdk
cargo test -p sightline-sdk

step "SDK in headless Chromium (wasm-bindgen-test)"
scripts/test-wasm.sh

step "video ad measurement (sdk-wasm/js/modules/video.js) with injected time (node, < 1 s)"
node --test sdk-wasm/tests/video/

step "SDK and ads in headless Chromium (Playwright)"
node --test --test-concurrency=1 tests/browser/

step "SDK in Chromium, Firefox ESR and WebKitGTK: smoke scenarios (WebDriver; full set: make test-browsers)"
scripts/test-browsers.sh smoke
step "JSON import API: the real Segment and RudderStack libraries (Node, Python) → collector → Kafka"
node --test --test-concurrency=1 tests/import/

step "end to end: demo site → SDK → collector → Kafka (Playwright)"
tests/e2e/run.sh

step "ClickHouse (chdb) on Sightline's topics: schema and verified numbers"
scripts/test-analytics.sh

echo
echo "make test: all suites passed in $(( $(date +%s) - started )) s"
