#!/usr/bin/env bash
# `make test-personalization` (issue 22): the ad-decision service's A/B proof on simulated
# students through the real pipeline. Starts its own Kafka broker, a sightline-collector and
# sightline-decide (decide/catalogue.toml, the demo catalogue), runs the simulator
# (tests/src/bin/personalization-sim.rs: students with hidden interests browse, search, get ad
# decisions, see and click ads over HTTP), then reads Kafka into embedded ClickHouse
# (analytics/sightline_analytics/personalization.py): CTR per arm with proportionsZTest, each
# arm against the click model's prediction, no behavioural decision for minors or GPC users,
# freshness. Stops everything it started; exits non-zero when any check fails.
#
# Environment: KAFKA_PORT (19692), PERSONALIZATION_COLLECTOR_PORT (19680),
# PERSONALIZATION_DECIDE_PORT (19681), SIM_STUDENTS (900), SIM_SEED (22), SIM_SESSIONS (4),
# SIM_CONCURRENCY (16), SIM_PROBES (40). Results: .cache/personalization/result.json.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

export KAFKA_PORT=${KAFKA_PORT:-19692}
if [ "$KAFKA_PORT" = 9092 ]; then
  echo "test-personalization: refusing to take down the shared broker on 9092; use another KAFKA_PORT" >&2
  exit 1
fi
brokers=127.0.0.1:$KAFKA_PORT
collector_port=${PERSONALIZATION_COLLECTOR_PORT:-19680}
decide_port=${PERSONALIZATION_DECIDE_PORT:-19681}
work=$repo/.cache/personalization
# Every wait below is bounded; the whole run is bounded by these plus the simulator's own
# per-request timeouts.
ready_s=60

scripts/ensure.sh test-personalization
python=$(scripts/analytics-venv.sh)
for port in "$collector_port" "$decide_port"; do
  port_free "$port" || { echo "test-personalization: port $port is in use" >&2; exit 1; }
done

echo "==> build the collector, sightline-decide and the simulator"
nice -n 5 cargo build --quiet -p sightline-collector -p sightline-decide -p sightline-tests --bin sightline-collector \
  --bin sightline-decide --bin personalization-sim
target=$(cargo metadata --format-version 1 --no-deps | "$python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')

rm -rf "$work"
mkdir -p "$work"
pids=()
# shellcheck disable=SC2317 # reached through the trap below
cleanup() {
  trap - INT TERM EXIT
  for (( i=${#pids[@]}-1; i>=0; i-- )); do stop_pid "${pids[i]}" 20; done
  scripts/kafka.sh down >/dev/null 2>&1 || true
}
trap cleanup INT TERM EXIT

echo "==> Kafka on $brokers"
if scripts/kafka.sh status >/dev/null 2>&1; then scripts/kafka.sh down; fi
scripts/kafka.sh up
# The decision log's topic, unless proto/topics.txt (which kafka.sh creates) already lists it.
if ! grep -qx 'ad_decisions' proto/topics.txt; then
  (cd analytics && "$python" -m sightline_analytics.kafka_io create-topics "$brokers" sightline.ad_decisions)
fi

cat >"$work/collector.toml" <<EOF
# Written by scripts/test-personalization.sh.
[server]
listen = "127.0.0.1:$collector_port"
collector_id = "personalization-test"

[rate_limits]
# One client address (the simulator) plays every student: no per-IP or hot-user limit.
per_ip_per_s = 0
per_site_events_per_s = 0
hot_user_events_per_s = 0

[ivt]
# Same reason: the many-ids-per-address rule would flag every student. The click rules stay on.
ip_max_anonymous_ids = 0

[kafka]
brokers = "$brokers"
linger_ms = 2

[spool]
dir = "$work/spool"

[[sites]]
key = "demo"
allowed_origins = ["http://localhost:*"]
EOF

cat >"$work/decide.toml" <<EOF
# Written by scripts/test-personalization.sh.
[server]
listen = "127.0.0.1:$decide_port"

[kafka]
brokers = "$brokers"

[catalogue]
path = "$repo/decide/catalogue.toml"
EOF

echo "==> collector on :$collector_port, sightline-decide on :$decide_port"
(cd "$work" && exec "$target/debug/sightline-collector" --config "$work/collector.toml") >"$work/collector.log" 2>&1 &
pids+=($!)
(cd "$work" && exec "$target/debug/sightline-decide" --config "$work/decide.toml") >"$work/decide.log" 2>&1 &
pids+=($!)
http_ready "http://127.0.0.1:$collector_port/readyz" "$ready_s" \
  || { echo "collector not ready; log:" >&2; tail -20 "$work/collector.log" >&2; exit 1; }
http_ready "http://127.0.0.1:$decide_port/readyz" "$ready_s" \
  || { echo "sightline-decide not ready; log:" >&2; tail -20 "$work/decide.log" >&2; exit 1; }

echo "==> simulated students"
t0=$(date +%s)
"$target/debug/personalization-sim" \
  --collector "http://127.0.0.1:$collector_port" --decide "http://127.0.0.1:$decide_port" \
  --catalogue demo-site/site/data.js --out "$work/truth.json" \
  --seed "${SIM_SEED:-22}" --students "${SIM_STUDENTS:-900}" --sessions "${SIM_SESSIONS:-4}" \
  --concurrency "${SIM_CONCURRENCY:-16}" --probes "${SIM_PROBES:-40}"
echo "simulation took $(( $(date +%s) - t0 )) s"

# The services are stopped before the analysis: every accepted event is in Kafka (the collector
# flushes on SIGTERM) and every decision record too.
for (( i=${#pids[@]}-1; i>=0; i-- )); do stop_pid "${pids[i]}" 20; done
pids=()

echo "==> ClickHouse (chdb) over the topics"
(cd analytics && "$python" -m sightline_analytics.personalization --brokers "$brokers" \
  --truth "$work/truth.json" --out "$work/result.json" --workdir "$work/chdb")
echo "test-personalization: passed in $(( $(date +%s) - t0 )) s after the build (results in $work/result.json)"
