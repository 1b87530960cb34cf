#!/usr/bin/env bash
# The SDK's wasm-bindgen tests in headless Chromium (DOM capture). The runner passes
# --headless/--no-sandbox itself; do not add -q (the runner rejects --quiet).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
export WASM_BINDGEN_TEST_ONLY_WEB=1
cargo test -p sightline-sdk --target wasm32-unknown-unknown --features std
