#!/usr/bin/env bash
# ClickHouse (chdb) on Sightline's topics: schema compatibility with the .proto and every
# dashboard number against ground truth, for interactions POSTed through a real
# sightline-collector into the real Kafka broker at $SIGHTLINE_KAFKA (scripts/test.sh starts it).
# Exits non-zero on any failure, and when no test ran.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
: "${SIGHTLINE_KAFKA:?SIGHTLINE_KAFKA must name a running broker (scripts/kafka.sh up)}"
python=$("$repo/scripts/analytics-venv.sh")
# The tests start the collector binary; cargo rebuilds it only when its sources changed.
cargo build --quiet -p sightline-collector --manifest-path "$repo/Cargo.toml"
target=$(cargo metadata --format-version 1 --no-deps --manifest-path "$repo/Cargo.toml" \
  | "$python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
export SIGHTLINE_COLLECTOR_BIN=$target/debug/sightline-collector
cd "$repo/analytics"
report=$repo/.cache/analytics/pytest-report.xml
mkdir -p "$(dirname "$report")"
rm -f "$report"
# pytest exits 5 when it collected no tests: treat that as the failure it is.
"$python" -m pytest -p no:cacheprovider -q -s --junitxml="$report" tests "$@"
tests=$(sed -n 's/.*<testsuite [^>]*tests="\([0-9]*\)".*/\1/p' "$report" | head -1)
if [ -z "$tests" ] || [ "$tests" -eq 0 ]; then echo "analytics: no tests ran" >&2; exit 1; fi
echo "analytics: $tests tests passed"
