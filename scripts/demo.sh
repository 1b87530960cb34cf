#!/usr/bin/env bash
# `make demo`: build the SDK, the collector and sightline-tail, start Kafka, the collector
# (collector/sightline.example.toml: site key "demo", localhost origins) and the demo site,
# print the URLs, and on Ctrl-C stop everything this script started, in reverse order.
#
# It also starts sightline-decide (issue 22) with the demo catalogue (decide/catalogue.toml): the
# demo site's display ad slots ask it for their creative and fall back to the static ad when it
# does not answer in time (demo-site/site/decide.js).
#
# Environment: KAFKA_PORT (9092), COLLECTOR_PORT (8080), DEMO_PORT (3000), DASHBOARD_PORT (3100),
# DECIDE_PORT (8090).
# Against an edge that is already running (e.g. `make cluster`): DEMO_COLLECTOR_URL (the
# balancer, e.g. http://localhost:28080) and DEMO_BROKERS (its bootstrap list); then this
# script starts neither Kafka nor a collector.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

export KAFKA_PORT=${KAFKA_PORT:-9092}
collector_port=${COLLECTOR_PORT:-8080}
demo_port=${DEMO_PORT:-3000}
dashboard_port=${DASHBOARD_PORT:-3100}
decide_port=${DECIDE_PORT:-8090}
brokers=${DEMO_BROKERS:-127.0.0.1:$KAFKA_PORT}
external_collector=${DEMO_COLLECTOR_URL:-}
collector_url=${external_collector:-http://localhost:$collector_port}
logs=$repo/.cache/demo
mkdir -p "$logs"

started=$(date +%s)
step() { printf '\n==> %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

step "install what the demo needs (scripts/ensure.sh)"
scripts/ensure.sh demo
for tool in cargo node npm java curl; do
  command -v "$tool" >/dev/null || die "$tool is required (see README: toolchain)"
done
if [ -n "$external_collector" ]; then
  [ -n "${DEMO_BROKERS:-}" ] || die "DEMO_COLLECTOR_URL needs DEMO_BROKERS (the Kafka bootstrap list it produces to)"
  ports=("$demo_port" "$dashboard_port" "$decide_port")
else
  ports=("$collector_port" "$demo_port" "$dashboard_port" "$decide_port")
fi
for port in "${ports[@]}"; do
  port_free "$port" || die "port $port is in use; choose others with COLLECTOR_PORT=… DEMO_PORT=…"
done

# --- cleanup: only what this script started, by pid -------------------------------------
pids=()
kafka_started=no
# shellcheck disable=SC2317 # reached through the trap below
cleanup() {
  trap - INT TERM EXIT
  echo
  step "stopping the demo"
  for (( i=${#pids[@]}-1; i>=0; i-- )); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [ "$kafka_started" = yes ]; then scripts/kafka.sh down || true; fi
  echo "demo: stopped (logs in $logs)"
}
trap cleanup EXIT
interrupted=no
trap 'exit 130' INT TERM

wait_http() { # url seconds name
  http_ready "$1" "$2" || die "$3 did not answer on $1 within $2 s (log: $logs)"
}

step "build the SDK (make sdk)"
scripts/build-sdk.sh

step "build the collector, sightline-tail and sightline-decide (debug build: fast to compile, plenty for a demo)"
cargo build -p sightline-collector -p sightline-tail -p sightline-decide

step "build the demo site's Vite page"
(cd demo-site && npm run --silent build)

step "make the demo's video files (ffmpeg, once)"
scripts/demo-videos.sh "$logs/media"

# A local single-node edge: one broker (scripts/kafka.sh) and one collector.
start_local_edge() {
  step "start Kafka on $brokers"
  if scripts/kafka.sh status; then
    echo "demo: reusing the broker already started by scripts/kafka.sh on $brokers (left running at exit)"
  else
    kafka_started=yes
    scripts/kafka.sh up
  fi

  step "start the collector on 127.0.0.1:$collector_port"
  # The spool outlives a demo run on purpose: events accepted while Kafka was away are replayed next time.
  SIGHTLINE__SPOOL__DIR='.cache/demo/spool/{port}' \
  target/debug/sightline-collector --config collector/sightline.example.toml \
    --listen "127.0.0.1:$collector_port" --brokers "$brokers" >"$logs/collector.log" 2>&1 &
  pids+=($!)
  wait_http "http://127.0.0.1:$collector_port/readyz" 30 collector
}

if [ -n "$external_collector" ]; then
  step "using the running edge: collector $external_collector, Kafka $brokers"
  wait_http "$external_collector/readyz" 10 "the collector at DEMO_COLLECTOR_URL"
else
  start_local_edge
fi

step "start sightline-decide on 127.0.0.1:$decide_port (ad decisions from the demo catalogue)"
# Every demo student is in the personalized arm, so switching students shows their own ads at
# once; the control arm and the A/B proof are `make test-personalization`'s.
cat >"$logs/decide.toml" <<EOF
# Written by scripts/demo.sh.
[server]
allowed_origins = ["http://localhost:*", "http://127.0.0.1:*"]

[experiment]
personalized_share = 1.0
EOF
target/debug/sightline-decide --config "$logs/decide.toml" --listen "127.0.0.1:$decide_port" \
  --brokers "$brokers" --catalogue decide/catalogue.toml >"$logs/decide.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$decide_port/readyz" 30 sightline-decide

step "start the demo site on localhost:$demo_port"
SIGHTLINE_DECIDE_URL="http://localhost:$decide_port" \
node demo-site/server/server.mjs --port "$demo_port" --collector "$collector_url" --media-dir "$logs/media" \
  --brokers "$brokers" --tail target/debug/sightline-tail >"$logs/site.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$demo_port/healthz" 15 "demo site"

step "start the campaign dashboard (embedded ClickHouse consuming Kafka) on localhost:$dashboard_port"
# analytics/README.md, "Campaign dashboard": the production schema in chdb, fed by the Kafka
# engine from the beginning of the topics, every panel a query of analytics/queries/.
python=$(scripts/analytics-venv.sh)
(cd analytics && exec "$python" -m sightline_analytics.dashboard --brokers "$brokers" \
  --prefix "${SIGHTLINE_TOPIC_PREFIX:-sightline.}" --port "$dashboard_port") >"$logs/dashboard.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$dashboard_port/healthz" 60 "campaign dashboard"

cat <<URLS

Sightline demo is up (ready after $(( $(date +%s) - started )) s):

  Search page (SDK via script tag)   http://localhost:$demo_port/
  Catalogue (SDK via npm + Vite)     http://localhost:$demo_port/catalogue
  Live view of Kafka                 http://localhost:$demo_port/live
  Campaign dashboard (ClickHouse)    http://localhost:$dashboard_port/
  Collector                          $collector_url  (POST /v1/batch, GET /readyz)
  Ad decisions (sightline-decide)    http://localhost:$decide_port  (POST /v1/decide; switch students to see their ads)
  Kafka bootstrap                    $brokers

  Watch the raw events:  target/debug/sightline-tail --brokers $brokers
  One user's ad clicks:  target/debug/sightline-tail --brokers $brokers --kind ad_click --user stu-asha
  Logs: $logs/   Ctrl-C stops everything.

URLS

# Wait for Ctrl-C (the trap interrupts `wait` at once) or for a child to die on its own.
# The collector drains for up to its shutdown grace period (5 s by default) before it exits.
# Ctrl-C reaches the whole foreground process group, so a child may stop before this
# script's trap runs: a child ended by SIGINT/SIGTERM (130/143) is the user stopping the demo.
trap 'interrupted=yes' INT TERM
status=0
wait -n "${pids[@]}" || status=$?
# A child that ended cleanly (0) on that Ctrl-C counts too: the site server exits 0 on SIGINT.
if [ "$interrupted" = yes ] || [ "$status" = 0 ] || [ "$status" = 130 ] || [ "$status" = 143 ]; then exit 0; fi
die "a demo process exited on its own (status $status); see $logs/collector.log, $logs/decide.log, $logs/site.log and $logs/dashboard.log"
