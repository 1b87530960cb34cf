#!/usr/bin/env bash
# `make test-cluster`: the edge-tier proofs of issue 12 on loopback — the Rust load generator
# through the real HAProxy (deploy/haproxy/haproxy.cfg) to three real collectors on a real
# three-node Kafka cluster (replication 3, min ISR 2), every acknowledged event id recorded
# and looked for in Kafka afterwards. Prints one table: acknowledged / lost / duplicated,
# client-visible errors by status, timings.
#
#   scripts/test-cluster.sh                 every proof
#   scripts/test-cluster.sh rolling crash   only the named ones
#
# Proofs (tests/tests/cluster_*.rs, #[ignore]d in a plain cargo test; each bounded in time):
#   address   4  client address truth: real addresses from PROXY v2, forged X-Forwarded-For ignored
#   rolling   1  rolling restart of the three collectors (SIGTERM → drain → restart)
#   broker    2  SIGKILL of the broker leading the most partitions, down SIGHTLINE_BROKER_DOWN_S (60) s
#   crash     3  SIGKILL of one collector; HAProxy takes it out; its spool replays after restart
#   overhead  5  HAProxy → 3 collectors vs one collector reached directly, same run; capacity inputs
#
# It starts its own Kafka cluster (scripts/kafka-cluster.sh) and takes it down at the end.
# Ports: CLUSTER_PORT_BASE (default 19700): balancer BASE+80, stats BASE+70, collectors
# BASE+81..84, Kafka BASE+92..97. Environment: SIGHTLINE_CLUSTER_TIMEOUT_S per proof (600),
# SIGHTLINE_CLUSTER_SENDERS (8), SIGHTLINE_CLUSTER_PAUSE_MS (20), SIGHTLINE_CLUSTER_BASELINE_S (10).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

export CLUSTER_PORT_BASE=${CLUSTER_PORT_BASE:-19700}
base=$CLUSTER_PORT_BASE
export CARGO_TERM_COLOR=never
per_proof_timeout=${SIGHTLINE_CLUSTER_TIMEOUT_S:-600}
summary=$(mktemp -t sightline-cluster.XXXXXX)
export SIGHTLINE_CLUSTER_SUMMARY=$summary
started=$(date +%s)
step() { printf '\n==> %s\n' "$*"; }

for port in $((base + 70)) $((base + 80)) $((base + 81)) $((base + 82)) $((base + 83)) $((base + 84)); do
  port_free "$port" || { echo "test-cluster: port $port is in use; choose another CLUSTER_PORT_BASE" >&2; exit 2; }
done

step "install what the proofs need (haproxy, Java, the Kafka jars)"
scripts/ensure.sh test-cluster
haproxy -c -q -f deploy/haproxy/haproxy.cfg

step "build the collector (release), sightline-tail and the proofs"
cargo build --release -p sightline-collector --bin sightline-collector
export SIGHTLINE_COLLECTOR_BIN=$PWD/target/release/sightline-collector
cargo build --quiet -p sightline-tail
export SIGHTLINE_TAIL=$PWD/target/debug/sightline-tail
cargo test -p sightline-tests --no-run --test 'cluster_*' 2>&1 | grep -v '^ *Executable' || true

step "start the Kafka cluster"
# The port block is this script's own and the proofs read whole topics: a cluster left running
# there (an interrupted run) is taken down with its storage, so every run starts empty.
if scripts/kafka-cluster.sh status >/dev/null 2>&1; then scripts/kafka-cluster.sh down; fi
scripts/kafka-cluster.sh up
export SIGHTLINE_KAFKA
SIGHTLINE_KAFKA=$(scripts/kafka-cluster.sh bootstrap)
cleanup() {
  scripts/kafka-cluster.sh down || true
  rm -f "$summary"
}
trap cleanup EXIT

declare -A test_of=(
  [address]=cluster_client_address
  [rolling]=cluster_rolling_restart
  [broker]=cluster_broker_failure
  [crash]=cluster_collector_crash
  [overhead]=cluster_overhead
)
# The address proof reads its records back with sightline-tail from the start of the topic:
# first, while the topic is small.
order=(address rolling broker crash overhead)
[ $# -gt 0 ] && order=("$@")

failed=()
timings=()
for proof in "${order[@]}"; do
  test=${test_of[$proof]:-}
  if [ -z "$test" ]; then echo "unknown proof: $proof (one of ${!test_of[*]})" >&2; exit 2; fi
  step "proof: $proof ($test)"
  # Every node must be up and in sync before each proof (a failed broker proof may leave one down).
  scripts/kafka-cluster.sh start
  t0=$(date +%s)
  if ! timeout --signal=TERM --kill-after=30 "$per_proof_timeout" \
      cargo test -p sightline-tests --test "$test" -- --ignored --nocapture --test-threads=1; then
    failed+=("$proof")
    echo "| $proof | FAILED | | | | see the log above |" >>"$summary"
  fi
  timings+=("$proof $(( $(date +%s) - t0 )) s")
done

step "capacity model: deploy/CAPACITY.md matches deploy/capacity/inputs.toml"
python3 deploy/capacity/render.py --check || failed+=("capacity-doc")

step "summary"
echo "| proof | acknowledged | lost | duplicated | client errors (status×count) | timings and details |"
echo "|---|---|---|---|---|---|"
grep '^|' "$summary" || true
grep -v '^|' "$summary" || true
echo
echo "test-cluster: ${#order[@]} proof(s) in $(( $(date +%s) - started )) s (${timings[*]}), failed: ${failed[*]:-none}"
[ ${#failed[@]} -eq 0 ]
