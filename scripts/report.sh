#!/usr/bin/env bash
# `make report`: reads the demo's Kafka topics (KAFKA_PORT, default 9092) into embedded
# ClickHouse through the analytics schema, runs analytics/queries/ and writes an HTML report.
#   SIGHTLINE_SITE (demo), SIGHTLINE_REPORT_DAYS (30), SIGHTLINE_REPORT (analytics/out/report.html)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
brokers=${SIGHTLINE_KAFKA:-127.0.0.1:${KAFKA_PORT:-9092}}
out=${SIGHTLINE_REPORT:-$repo/analytics/out/report.html}
python=$("$repo/scripts/analytics-venv.sh")
cd "$repo/analytics"
"$python" -m sightline_analytics.report --brokers "$brokers" --site "${SIGHTLINE_SITE:-demo}" \
  --days "${SIGHTLINE_REPORT_DAYS:-30}" --out "$out"
