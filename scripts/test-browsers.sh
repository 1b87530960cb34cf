#!/usr/bin/env bash
# `make test-browsers`: the SDK in Chromium, Firefox ESR and WebKitGTK (tests/harness/, through
# WebDriver): capture, ads, durable queue, CSP and fail-soft scenarios, checked against the
# support matrix of tests/harness/matrix.json (rendered into sdk-wasm/README.md); then the
# wasm-bindgen tests in Firefox (geckodriver) and WebKit (WebKitWebDriver). `make test` runs the smoke subset:
#
#   scripts/test-browsers.sh           everything (builds the SDK first)
#   scripts/test-browsers.sh smoke     the smoke scenarios in the three engines (SDK built)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure.sh test-browsers
started=$(date +%s)

if [ "${1:-}" = smoke ]; then
  SIGHTLINE_SCENARIOS=smoke node --test --test-concurrency=1 tests/harness/
  echo "browsers (smoke, three engines): $(( $(date +%s) - started )) s"
  exit 0
fi

scripts/build-sdk.sh
node --test --test-concurrency=1 tests/harness/

# The wasm-bindgen tests (the SDK's browser tests) in Firefox and WebKit: the runner drives
# geckodriver when GECKODRIVER is set, and WebKitWebDriver as "safaridriver" (SAFARIDRIVER)
# with MiniBrowser's capabilities from tests/harness/webkit-webdriver.json, under a virtual X
# display (xvfb-run -a picks a free one; MiniBrowser has no headless mode).
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner WASM_BINDGEN_TEST_ONLY_WEB=1
echo "==> wasm-bindgen tests in Firefox ESR (geckodriver)"
GECKODRIVER=$(command -v geckodriver || echo "$HOME/.cargo/bin/geckodriver") \
  cargo test -p sightline-sdk --target wasm32-unknown-unknown --features std
echo "==> wasm-bindgen tests in WebKitGTK (WebKitWebDriver)"
SAFARIDRIVER=/usr/bin/WebKitWebDriver WASM_BINDGEN_TEST_WEBDRIVER_JSON=$PWD/tests/harness/webkit-webdriver.json \
  xvfb-run -a cargo test -p sightline-sdk --target wasm32-unknown-unknown --features std
echo "make test-browsers: $(( $(date +%s) - started )) s"
