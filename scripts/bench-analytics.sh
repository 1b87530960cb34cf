#!/usr/bin/env bash
# `make bench-analytics`: the analytics at volume in embedded ClickHouse (chdb) — synthetic history
# generated in SQL through the production fan-out, disk per event, every dashboard query cold and
# warm before and after the closed-day rollups, protobuf/JSON size — then analytics/BENCH.md.
#   BENCH_ANALYTICS_SIZES  events per measured size (default 1000000,10000000,50000000: the largest that fit this shared machine)
#   BENCH_ANALYTICS_CHUNK  events per INSERT (default 5000000)
#   BENCH_ANALYTICS_INGEST 0 skips the ingest part (scripts/bench-analytics-ingest.sh: its own
#                          broker on KAFKA_PORT, 19392 by default, about 5 minutes)
# A benchmark, not a test: it runs under `nice -n 19` (the machine is shared) and takes about 35
# minutes at the default sizes on 2 cores (analytics/BENCH.md has the measured times).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
"$repo/scripts/ensure.sh" bench-analytics
python=$("$repo/scripts/analytics-venv.sh")
results=$repo/.cache/bench-analytics/results.json
cd "$repo/analytics"
nice -n 19 "$python" -m sightline_analytics.bench --sizes "${BENCH_ANALYTICS_SIZES:-1000000,10000000,50000000}" \
  --chunk "${BENCH_ANALYTICS_CHUNK:-5000000}" --out-json "$results"
if [ "${BENCH_ANALYTICS_INGEST:-1}" = 1 ]; then "$repo/scripts/bench-analytics-ingest.sh"; fi
"$python" -m sightline_analytics.bench_report --results "$results" --out "$repo/analytics/BENCH.md"
