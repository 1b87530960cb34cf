#!/usr/bin/env bash
# `make test-dashboard`: the campaign dashboard in headless Chromium (tests/dashboard/) over the
# synthetic history of make bench-analytics (DASHBOARD_TEST_EVENTS, default 1000000; built once
# into .cache/dashboard-test/ and reused), served from that embedded ClickHouse database:
# navigation → last chart drawn within DASHBOARD_BUDGET_MS (2000), numbers, refresh, filters.
# The dashboard's numbers against the truth are in the analytics tests (make test).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
scripts/ensure.sh test-dashboard
python=$(scripts/analytics-venv.sh)
events=${DASHBOARD_TEST_EVENTS:-1000000}
work=$repo/.cache/dashboard-test
mkdir -p "$work"
db=$work/db-$events
(cd analytics && nice -n 10 "$python" -m sightline_analytics.dashboard_fixture --events "$events" --db "$db")

log=$work/server.log
# Created here, not by the background redirection: the loop below may read it before the
# child has opened it (CI failed once on `sed: can't read server.log`).
: >"$log"
(cd analytics && exec "$python" -m sightline_analytics.dashboard --db "$db" --port 0) >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
url=
for _ in $(seq 1 300); do
  url=$(sed -n 's/^dashboard: \(http[^ ]*\)$/\1/p' "$log")
  [ -n "$url" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "test-dashboard: the server did not start (log: $log)" >&2; exit 1; }
# The page loads the default view from the server's background refresh (dashboard.py, Warmer):
# start when the first one is done, as a viewer arriving at a running dashboard would.
for _ in $(seq 1 1200); do grep -q '^dashboard: default view warmed' "$log" && break; sleep 0.1; done
grep '^dashboard: default view warmed' "$log" || { echo "test-dashboard: no background refresh (log: $log)" >&2; exit 1; }
echo "test-dashboard: $url over $events events"
out=$work/node-$events.log
DASHBOARD_URL=$url node --test --test-concurrency=1 tests/dashboard/ 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
# The load time of this run, for analytics/BENCH.md (bench_report.py includes the newest).
drawn=$(sed -n 's/^# dashboard: //p' "$out" | head -1)
if [ "$status" = 0 ] && [ -n "$drawn" ]; then
  mkdir -p "$repo/.cache/bench-analytics"
  # shellcheck disable=SC2016 # the backquotes are Markdown
  printf '## Campaign dashboard load time

`DASHBOARD_TEST_EVENTS=%s make test-dashboard`, %s: headless Chromium, %s events (every day but the last finalized, as in production), %s.
' \
    "$events" "$(date -u '+%Y-%m-%d %H:%M UTC')" "$events" "$drawn; $(grep '^dashboard: default view warmed' "$log" | sed 's/^dashboard: //') (the queries of one refresh). The page reads the unfiltered view from the server's background refresh (every 5 s); a filtered view waits for its queries." >"$repo/.cache/bench-analytics/dashboard.md"
fi
exit "$status"
