#!/usr/bin/env bash
# `make report`: reads the demo's Kafka topics (KAFKA_PORT, default 9092) into embedded
# ClickHouse through the analytics schema, runs analytics/queries/ and writes an HTML report.
#   SIGHTLINE_SITE (demo), SIGHTLINE_REPORT_DAYS (30), SIGHTLINE_REPORT (analytics/out/report.html)
#   SIGHTLINE_REPORT_SEED=1: first POST the test dataset (analytics/sightline_analytics/dataset.py)
#   through a sightline-collector started for the purpose (for an empty broker; it adds data to
#   the topics, so do not use it on a broker whose data you care about).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
brokers=${SIGHTLINE_KAFKA:-127.0.0.1:${KAFKA_PORT:-9092}}
out=${SIGHTLINE_REPORT:-$repo/analytics/out/report.html}
"$repo/scripts/ensure.sh" report
python=$("$repo/scripts/analytics-venv.sh")
cd "$repo/analytics"
if [ "${SIGHTLINE_REPORT_SEED:-0}" = 1 ]; then
  cargo build --quiet -p sightline-collector --manifest-path "$repo/Cargo.toml"
  target=$(cargo metadata --format-version 1 --no-deps --manifest-path "$repo/Cargo.toml" \
    | "$python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  SIGHTLINE_COLLECTOR_BIN=$target/debug/sightline-collector "$python" -m sightline_analytics.seed \
    --brokers "$brokers" --prefix "${SIGHTLINE_TOPIC_PREFIX:-sightline.}"
fi
"$python" -m sightline_analytics.report --brokers "$brokers" --site "${SIGHTLINE_SITE:-demo}" \
  --days "${SIGHTLINE_REPORT_DAYS:-30}" --prefix "${SIGHTLINE_TOPIC_PREFIX:-sightline.}" --out "$out"
