#!/usr/bin/env bash
# `make test-reliability`: the zero-data-loss proofs of issue 8 against a real broker
# and the real collector binary, then a summary of lost / duplicate counts per proof.
#
#   scripts/test-reliability.sh              every proof
#   scripts/test-reliability.sh outage crash only the named ones
#
# Proofs (tests/tests/reliability_*.rs; each bounded in time, loopback only):
#   sigterm   3  SIGTERM under load: drains, exits 0, zero loss
#   cap       4  spool cap: 503 + Retry-After, no crash, flat RSS, zero loss after replay
#   shedding     2x capacity: quick 429/503, bounded p99, RSS under a limit
#   crash     2  SIGKILL while Kafka is down, restart: zero loss
#   outage    1  broker stopped for SIGHTLINE_OUTAGE_S (60) s under load: zero loss
#   browser   5  Playwright session (real Chromium, built SDK) while the collector is
#                SIGKILLed for SIGHTLINE_PROOF5_OUTAGE_S (120) s, with a page reload in the
#                outage: every captured event in Kafka, the SDK's queue under its cap
#                (tests/browser/proof5-browser.mjs)
#
# It starts its own broker (KAFKA_PORT, default 19592), stops and starts it with
# `scripts/kafka.sh stop|start` for the outages (storage kept), and takes it down at the
# end. Environment: SIGHTLINE_OUTAGE_S (60), SIGHTLINE_PROOF5_OUTAGE_S (120),
# SIGHTLINE_RELIABILITY_PROFILE (release|debug, default release), SIGHTLINE_RELIABILITY_TIMEOUT_S
# per proof (600).
set -euo pipefail
cd "$(dirname "$0")/.."

export KAFKA_PORT=${KAFKA_PORT:-19592}
if [ "$KAFKA_PORT" = 9092 ]; then
  echo "test-reliability: refusing to stop the shared broker on 9092; use another KAFKA_PORT" >&2
  exit 2
fi
export SIGHTLINE_KAFKA=127.0.0.1:$KAFKA_PORT
export CARGO_TERM_COLOR=never
profile=${SIGHTLINE_RELIABILITY_PROFILE:-release}
per_proof_timeout=${SIGHTLINE_RELIABILITY_TIMEOUT_S:-600}
summary=$(mktemp -t sightline-reliability.XXXXXX)
export SIGHTLINE_RELIABILITY_SUMMARY=$summary
started=$(date +%s)
step() { printf '\n==> %s\n' "$*"; }

step "install what the proofs need (scripts/ensure.sh)"
scripts/ensure.sh test-reliability

step "build the collector ($profile) and the proofs"
if [ "$profile" = release ]; then
  cargo build --release -p sightline-collector --bin sightline-collector
  export SIGHTLINE_COLLECTOR_BIN=$PWD/target/release/sightline-collector
else
  cargo build -p sightline-collector --bin sightline-collector
  export SIGHTLINE_COLLECTOR_BIN=$PWD/target/debug/sightline-collector
fi
cargo test -p sightline-tests --no-run --test 'reliability_*' 2>&1 | grep -v '^ *Executable' || true

step "start Kafka on $SIGHTLINE_KAFKA"
scripts/kafka.sh up
cleanup() {
  scripts/kafka.sh down || true
  rm -f "$summary"
}
trap cleanup EXIT

declare -A test_of=(
  [sigterm]=reliability_sigterm
  [cap]=reliability_spool_cap
  [shedding]=reliability_load_shedding
  [crash]=reliability_crash
  [outage]=reliability_kafka_outage
)
order=(sigterm cap shedding crash outage browser)
[ $# -gt 0 ] && order=("$@")

failed=()
for proof in "${order[@]}"; do
  if [ "$proof" = browser ]; then
    step "proof: browser (tests/browser/proof5-browser.mjs, outage ${SIGHTLINE_PROOF5_OUTAGE_S:-120} s)"
    scripts/kafka.sh start
    # The SDK package and the tail (reads Kafka back) must exist; the batch recorder serves the page.
    [ -f sdk-wasm/pkg/package.json ] || scripts/build-sdk.sh
    cargo build --quiet -p sightline-tail -p sightline-tests --bin batch-recorder
    if ! SIGHTLINE_TAIL=$PWD/target/debug/sightline-tail timeout --signal=TERM --kill-after=30 "$per_proof_timeout" \
        node tests/browser/proof5-browser.mjs; then
      failed+=("browser")
      echo "browser FAILED" >>"$summary"
    fi
    continue
  fi
  test=${test_of[$proof]:-}
  if [ -z "$test" ]; then echo "unknown proof: $proof (one of ${!test_of[*]} browser)" >&2; exit 2; fi
  step "proof: $proof ($test)"
  # The broker must be up before each proof (a failed outage proof may leave it down).
  scripts/kafka.sh start
  if ! timeout --signal=TERM --kill-after=30 "$per_proof_timeout" \
      cargo test -p sightline-tests --test "$test" -- --ignored --nocapture --test-threads=1; then
    failed+=("$proof")
    echo "$proof FAILED" >>"$summary"
  fi
done

step "summary (lost / duplicate counts per proof)"
cat "$summary"
echo
echo "test-reliability: ${#order[@]} step(s) in $(( $(date +%s) - started )) s, failed: ${failed[*]:-none}"
[ ${#failed[@]} -eq 0 ]
