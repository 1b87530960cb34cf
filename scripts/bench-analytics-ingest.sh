#!/usr/bin/env bash
# The ingest part of `make bench-analytics` (analytics/BENCH.md, "Ingest"): the Kafka engine in
# embedded ClickHouse consuming a real broker fed by the release collector at saturation
# (bench/collector.toml, the bench's loadgen in a closed loop), for each Kafka-engine setting
# of INGEST_SETTINGS (consumers:kafka_max_block_size:flush_ms,…). Writes
# .cache/bench-analytics/ingest.{json,md}; scripts/bench-analytics.sh puts the section in BENCH.md.
#   KAFKA_PORT (19392): its own broker, started and stopped here unless one already runs there
#   INGEST_COLLECTOR_PORT (19381), INGEST_SECONDS (60), INGEST_CONNECTIONS (32)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
scripts/ensure.sh bench-analytics
python=$(scripts/analytics-venv.sh)
export KAFKA_PORT=${KAFKA_PORT:-19392}
brokers=127.0.0.1:$KAFKA_PORT
cargo build --release --quiet -p sightline-bench -p sightline-collector
target=$(cargo metadata --format-version 1 --no-deps | "$python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
started_kafka=
if ! scripts/kafka.sh status >/dev/null 2>&1; then
  scripts/kafka.sh up
  started_kafka=yes
fi
# shellcheck disable=SC2317 # reached through the trap
cleanup() { if [ -n "$started_kafka" ]; then "$repo/scripts/kafka.sh" down || true; fi; }
trap cleanup EXIT
cd analytics
nice -n 19 "$python" -m sightline_analytics.ingest_bench --brokers "$brokers" \
  --collector-bin "$target/release/sightline-collector" --loadgen-bin "$target/release/loadgen" \
  --port "${INGEST_COLLECTOR_PORT:-19381}" --duration "${INGEST_SECONDS:-60}" \
  --connections "${INGEST_CONNECTIONS:-32}" ${INGEST_SETTINGS:+--settings "$INGEST_SETTINGS"} \
  --out-dir "$repo/.cache/bench-analytics"
