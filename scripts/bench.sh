#!/usr/bin/env bash
# `make bench`: Sightline's collector against its two ceilings, side by side on this
# machine, and the SDK's size, main-thread cost and bytes per event. Prints one markdown
# table and writes bench/RESULTS.md (with the machine and the date).
#
# A benchmark, not a test: a step that fails leaves "n/a" in its cells and the run goes
# on; only a failed build stops it. Starts its own Kafka broker (KAFKA_PORT, default
# 19492) and stops it at the end; every server listens on loopback.
#
# Steps: build → Kafka up → HTTP ceiling (bare hyper) → Kafka ceiling (raw rdkafka) →
# collector saturation (closed loop), p99 at 50 % / 80 % of it (open loop), the same with
# gzip bodies, peak RSS → HTTP ceiling at the same rates → ad decisions (sightline-decide
# beside the collector, its /healthz as baseline) → callgrind profiles (hot path
# in-process; whole collector idle vs loaded) → Kafka down → SDK in headless Chromium →
# table.
#
# Environment: KAFKA_PORT (19492), BENCH_HTTP_PORT (19480), BENCH_COLLECTOR_PORT (19481),
# BENCH_DECIDE_PORT (19483), BENCH_DECIDE_RATE (ad decisions per second offered, 1000),
# BENCH_DURATION (measured seconds per load run, 8), BENCH_WARMUP (2), BENCH_SWEEP
# (closed-loop connection counts tried for saturation, "32 96 224"; the best counts; the
# collector sheds load past 256 requests in flight), BENCH_OPEN_CONNECTIONS (open-loop
# connections, 224),
# BENCH_SDK_RUNS (5), BENCH_PROFILE_BATCHES (500), BENCH_SDK (1; 0 skips the SDK half),
# BENCH_SDK_BUILD (1; 0 measures the existing sdk-wasm/pkg instead of running make sdk),
# BENCH_LAYOUT_ROUNDS (2), BENCH_LAYOUT_LEVERS (per_kind per_batch:zstd …; "none" skips).
# A focused run of the collector rows only — ceilings, protobuf/gzip/JSON import saturation,
# enrichment cost from the profile — takes about a third of the time:
#   BENCH_SDK=0 BENCH_LAYOUT_ROUNDS=0 BENCH_LAYOUT_LEVERS=none make bench
# (its RESULTS.md has n/a in the skipped rows: keep the full run's).
set -uo pipefail
cd "$(dirname "$0")/.." || exit
repo=$(pwd)
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

export KAFKA_PORT=${KAFKA_PORT:-19492}
http_port=${BENCH_HTTP_PORT:-19480}
collector_port=${BENCH_COLLECTOR_PORT:-19481}
decide_port=${BENCH_DECIDE_PORT:-19483}
decide_rate=${BENCH_DECIDE_RATE:-1000}
duration=${BENCH_DURATION:-8}
warmup=${BENCH_WARMUP:-2}
sweep=${BENCH_SWEEP:-32 96 224}
open_connections=${BENCH_OPEN_CONNECTIONS:-224}
sdk_runs=${BENCH_SDK_RUNS:-5}
profile_batches=${BENCH_PROFILE_BATCHES:-500}
run_sdk=${BENCH_SDK:-1}
brokers=127.0.0.1:$KAFKA_PORT
out=$repo/bench/out
bin=$repo/target/release
config=$repo/bench/collector.toml
export CARGO_TERM_COLOR=never

started=$(date +%s)
step() { printf '\n==> %s  (%ss)\n' "$*" "$(( $(date +%s) - started ))"; }
warn() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

scripts/ensure.sh bench
for tool in cargo java node npm curl; do
  command -v "$tool" >/dev/null || die "$tool is required (see README: toolchain)"
done
for port in "$http_port" "$collector_port" "$decide_port"; do
  port_free "$port" || die "port $port is in use; choose others with BENCH_HTTP_PORT=… BENCH_COLLECTOR_PORT=…"
done

rm -rf "$out" && mkdir -p "$out"

# --- cleanup: only what this script started, by pid ---------------------------------------
pids=()
kafka_started=
# shellcheck disable=SC2317 # reached through the trap below
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$kafka_started" ]; then scripts/kafka.sh down >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# A JSON number from a loadgen/kafka-ceiling report (serde_json pretty output).
json_number() { sed -n "s/^  \"$2\": \([0-9.eE+-]*\),\{0,1\}$/\1/p" "$1" | head -1; }
fraction() { awk -v v="${1:-0}" -v f="$2" 'BEGIN { r = v * f; if (r < 1) r = 1; printf "%.0f", r }'; }

load() { # label json-name target extra-args...
  local label=$1 name=$2 target=$3
  shift 3
  "$bin/loadgen" --target "$target" --duration "$duration" --warmup "$warmup" \
    --forwarded-for 4096 --origin "http://localhost:3000" --label "$label" --json "$out/$name.json" "$@" \
    || warn "$label failed"
}

# Saturation: closed-loop runs at each connection count of the sweep; the one with the
# most events/s answered 2xx becomes NAME.json, among runs with under 1 % failed requests
# (few connections under-load a server whose answers wait for Kafka; past the collector's
# server.max_in_flight_requests it sheds load with 503, which is not throughput).
saturate() { # label name target extra-args...
  local label=$1 name=$2 target=$3 best='' best_eps=0
  shift 3
  for c in $sweep; do
    load "$label, closed loop, $c connections" "$name-c$c" "$target" --closed --concurrency "$c" "$@"
    local eps ok failed
    eps=$(json_number "$out/$name-c$c.json" events_per_s)
    ok=$(json_number "$out/$name-c$c.json" requests_ok)
    failed=$(json_number "$out/$name-c$c.json" requests_failed)
    if [ -n "$eps" ] && awk -v a="$eps" -v b="$best_eps" -v ok="${ok:-0}" -v f="${failed:-0}" \
        'BEGIN { exit !(a > b && f <= 0.01 * (ok + f)) }'; then
      best=$c best_eps=$eps
    fi
  done
  if [ -n "$best" ]; then
    cp "$out/$name-c$best.json" "$out/$name.json"
    echo "$label: saturation $best_eps events/s with $best connections"
  fi
}

# --- build -------------------------------------------------------------------------------
step "build release binaries (sightline-bench, sightline-collector, sightline-decide)"
cargo build --release -p sightline-bench -p sightline-collector -p sightline-decide || die "build failed"

sdk_ready=
[ "$run_sdk" = 1 ] && sdk_ready=yes
# The SDK is measured as `make sdk` builds it now, not as some earlier build left it.
if [ -n "$sdk_ready" ] && { [ "${BENCH_SDK_BUILD:-1}" = 1 ] || [ ! -f sdk-wasm/pkg/loader.js ]; }; then
  step "build the SDK (make sdk)"
  scripts/build-sdk.sh || { warn "SDK build failed: the SDK rows will be n/a"; sdk_ready=; }
fi
if [ -n "$sdk_ready" ] && [ ! -d bench/sdk/node_modules/playwright-core ]; then
  (cd bench/sdk && npm ci --no-audit --no-fund --loglevel=error) || { warn "npm ci failed in bench/sdk"; sdk_ready=; }
fi

# --- Kafka --------------------------------------------------------------------------------
step "start Kafka on $brokers"
scripts/kafka.sh up || die "Kafka did not start"
kafka_started=yes
broker_pid=$(cat "${SIGHTLINE_CACHE:-$repo/.cache}/kafka/run-$KAFKA_PORT/broker.pid" 2>/dev/null)
broker_watch=()
[ -n "$broker_pid" ] && broker_watch=(--watch "broker=$broker_pid")

# --- HTTP ceiling -------------------------------------------------------------------------
step "HTTP ceiling: bare hyper server, closed loop ($sweep connections)"
"$bin/http-ceiling" --listen "127.0.0.1:$http_port" >"$out/http-ceiling.log" 2>&1 &
http_pid=$!
pids+=("$http_pid")
http_ready "http://127.0.0.1:$http_port/" 10 || warn "http-ceiling did not answer"
http_watch=(--watch "http-ceiling=$http_pid")
saturate "HTTP ceiling" http-ceiling "http://127.0.0.1:$http_port/v1/batch" "${http_watch[@]}"
saturate "HTTP ceiling, gzip" http-ceiling-gzip "http://127.0.0.1:$http_port/v1/batch" --gzip "${http_watch[@]}"

# --- Kafka ceiling ------------------------------------------------------------------------
step "Kafka ceiling: raw rdkafka producer, the collector's settings and records"
"$bin/kafka-ceiling" --config "$config" --brokers "$brokers" --duration "$duration" --warmup "$warmup" \
  --json "$out/kafka-ceiling.json" "${broker_watch[@]}" || warn "kafka-ceiling failed"

# --- collector ----------------------------------------------------------------------------
step "collector: saturation, then p99 at 50 % and 80 % of it; the same with gzip"
"$bin/sightline-collector" --config "$config" --listen "127.0.0.1:$collector_port" --brokers "$brokers" \
  >"$out/collector.log" 2>&1 &
collector_pid=$!
pids+=("$collector_pid")
collector_url="http://127.0.0.1:$collector_port/v1/batch"
collector_watch=(--watch "collector=$collector_pid" "${broker_watch[@]}")
if http_ready "http://127.0.0.1:$collector_port/readyz" 30; then
  for variant in plain gzip; do
    suffix='' gzip_flag=()
    if [ "$variant" = gzip ]; then suffix=-gzip gzip_flag=(--gzip); fi
    saturate "Collector$suffix" "collector$suffix" "$collector_url" "${gzip_flag[@]}" "${collector_watch[@]}"
    saturation=$(json_number "$out/collector$suffix.json" requests_per_s)
    for pct in 50 80; do
      rate=$(fraction "$saturation" "0.$pct")
      load "Collector$suffix, $pct % of saturation" "collector$suffix-$pct" "$collector_url" \
        --rate "$rate" --concurrency "$open_connections" "${gzip_flag[@]}" "${collector_watch[@]}"
    done
  done
  # The same events as Segment-spec JSON batches to the import API (issue 19), write key of
  # bench/collector.toml's source: JSON events/s beside the protobuf events/s above.
  saturate "Collector, JSON import" collector-json "$collector_url" \
    --import-key bench-write-key-0000000001 "${collector_watch[@]}"
  echo "events/s: protobuf $(json_number "$out/collector.json" events_per_s), JSON import $(json_number "$out/collector-json.json" events_per_s)"
  awk '/^VmHWM:/ { print $2 }' "/proc/$collector_pid/status" >"$out/collector-rss-kb.txt" 2>/dev/null || true
  echo "collector peak RSS: $(cat "$out/collector-rss-kb.txt" 2>/dev/null) kB"
else
  warn "the collector did not become ready; last log lines:"
  tail -n 20 "$out/collector.log" >&2
fi
stop_pid "$collector_pid"

step "HTTP ceiling at the collector's 50 % and 80 % rates"
saturation=$(json_number "$out/collector.json" requests_per_s 2>/dev/null)
if [ -n "$saturation" ]; then
  for pct in 50 80; do
    load "HTTP ceiling, $pct % of collector saturation" "http-ceiling-$pct" "http://127.0.0.1:$http_port/v1/batch" \
      --rate "$(fraction "$saturation" "0.$pct")" --concurrency "$open_connections" "${http_watch[@]}"
  done
fi
stop_pid "$http_pid"

# --- ad decisions (issue 22) ---------------------------------------------------------------
# sightline-decide beside a running collector: profiles built from events on the broker,
# then /v1/decide at a fixed open-loop rate and, in the same run, the collector's /healthz
# at the same rate as the baseline round trip.
step "ad decisions: sightline-decide /v1/decide at $decide_rate req/s beside the collector"
cat >"$out/decide.toml" <<TOML
[server]
listen = "127.0.0.1:$decide_port"
[kafka]
brokers = "$brokers"
topics = ["events"]
[catalogue]
path = "$repo/decide/catalogue.toml"
TOML
"$bin/sightline-collector" --config "$config" --listen "127.0.0.1:$collector_port" --brokers "$brokers" \
  >"$out/collector-decide.log" 2>&1 &
collector_pid=$!
pids+=("$collector_pid")
"$bin/sightline-decide" --config "$out/decide.toml" >"$out/decide.log" 2>&1 &
decide_pid=$!
pids+=("$decide_pid")
if http_ready "http://127.0.0.1:$collector_port/readyz" 30 && http_ready "http://127.0.0.1:$decide_port/readyz" 120; then
  "$bin/decide-load" --decide "http://127.0.0.1:$decide_port" --baseline "http://127.0.0.1:$collector_port" \
    --brokers "$brokers" --rate "$decide_rate" --duration "$duration" --warmup "$warmup" \
    --json "$out/decide.json" || warn "decide-load failed"
else
  warn "the collector or sightline-decide did not become ready; last log lines:"
  tail -n 20 "$out/decide.log" >&2
fi
stop_pid "$decide_pid"
stop_pid "$collector_pid"

# --- record layouts side by side (issue 16) ----------------------------------------------
# Today's layout (per_event, v1: one record per event on the kind topics) and the new one
# (per_batch, v2: one record per request on sightline.events), alternating rounds on the
# same broker with the same load; then single-round lever variants of the new layout
# (VARIANT = records[:lever…], levers: zstd, linger_MS, batch_BYTES). Per variant and round:
# the raw producer on that layout's records, collector saturation, p99 at 50 %, and the
# log segment bytes the broker wrote per accepted event.
kafka_data=${SIGHTLINE_CACHE:-$repo/.cache}/kafka/run-$KAFKA_PORT/data
# %.0f, not %d: mawk's %d stops at 2^31 - 1, and the logs pass 2 GB within a run.
log_bytes() { find "$kafka_data" -path '*sightline.*' -name '*.log' -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }'; }
accepted_events() { # collector /metrics: events_accepted_total over every kind
  curl -s "http://127.0.0.1:$collector_port/metrics" \
    | awk '/^sightline_collector_events_accepted_total/ { s += $NF } END { printf "%.0f", s }'
}
variant_env() { # VARIANT → environment overrides for the collector and the ceiling
  local records=${1%%:*} lever
  printf '%s\n' "SIGHTLINE__ROUTING__RECORDS=$records"
  IFS=':' read -r -a levers <<<"${1#"$records"}"
  for lever in "${levers[@]}"; do
    case $lever in
      zstd) printf '%s\n' "SIGHTLINE__KAFKA__COMPRESSION=zstd" ;;
      linger_*) printf '%s\n' "SIGHTLINE__KAFKA__LINGER_MS=${lever#linger_}" ;;
      batch_*) printf '%s\n' "SIGHTLINE__KAFKA__EXTRA__batch.size=\"${lever#batch_}\"" ;;
      '') ;;
      *) warn "unknown lever $lever in $1" ;;
    esac
  done
}
layout_run() { # VARIANT ROUND
  local variant=$1 round=$2 name pid before after events envs=()
  name=layout-$variant-r$round
  mapfile -t envs < <(variant_env "$variant")
  echo "layout $variant, round $round: ${envs[*]}"
  env "${envs[@]}" "$bin/kafka-ceiling" --config "$config" --brokers "$brokers" --duration "$duration" \
    --warmup "$warmup" --json "$out/$name-kafka.json" "${broker_watch[@]}" || warn "kafka-ceiling ($variant) failed"
  before=$(log_bytes)
  env "${envs[@]}" "$bin/sightline-collector" --config "$config" --listen "127.0.0.1:$collector_port" \
    --brokers "$brokers" >"$out/$name-collector.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  if http_ready "http://127.0.0.1:$collector_port/readyz" 30; then
    local watch=(--watch "collector=$pid" "${broker_watch[@]}")
    saturate "Collector $variant r$round" "$name" "$collector_url" "${watch[@]}"
    local saturation
    saturation=$(json_number "$out/$name.json" requests_per_s)
    [ -n "$saturation" ] && load "Collector $variant r$round, 50 % of saturation" "$name-50" "$collector_url" \
      --rate "$(fraction "$saturation" 0.5)" --concurrency "$open_connections" "${watch[@]}"
    events=$(accepted_events)
  else
    warn "collector ($variant) did not become ready"
    tail -n 20 "$out/$name-collector.log" >&2
  fi
  stop_pid "$pid"
  after=$(log_bytes)
  printf '{\n  "log_bytes": %d,\n  "events": %d\n}\n' "$(( after - before ))" "${events:-0}" >"$out/$name-disk.json"
}
layout_rounds=${BENCH_LAYOUT_ROUNDS:-2}
layout_levers=${BENCH_LAYOUT_LEVERS:-per_kind per_batch:zstd per_batch:linger_1 per_batch:linger_20}
step "record layouts: per_event vs per_batch, $layout_rounds alternating rounds; levers: $layout_levers"
for round in $(seq 1 "$layout_rounds"); do
  for variant in per_event per_batch; do layout_run "$variant" "$round"; done
done
[ "$layout_levers" = none ] && layout_levers=
for variant in $layout_levers; do layout_run "$variant" 1; done

# --- profile ------------------------------------------------------------------------------
# 1. hotpath: the collector's decode → process → route → KafkaSink::deliver in-process,
#    each step a function of its own, so callgrind attributes instructions exactly.
# 2. The real collector binary under callgrind, idle and then under a small fixed load:
#    the difference per event is the whole process's cost, HTTP and runtime included.
step "callgrind profile of the hot path ($profile_batches batches) and of the whole collector"
profile_collector() { # idle|loaded
  local mode=$1 pid events
  SIGHTLINE__SHUTDOWN__READINESS_GRACE_MS=0 valgrind --tool=callgrind \
    --callgrind-out-file="$out/callgrind-collector-$mode.out" \
    "$bin/sightline-collector" --config "$config" --listen "127.0.0.1:$collector_port" --brokers "$brokers" \
    >"$out/callgrind-collector-$mode.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  if http_ready "http://127.0.0.1:$collector_port/readyz" 60 && [ "$mode" = loaded ]; then
    "$bin/loadgen" --target "$collector_url" --closed --concurrency 8 --max-requests 300 --duration 120 --warmup 0 \
      --forwarded-for 4096 --label "callgrind load" --json "$out/callgrind-load.json" || warn "callgrind load failed"
  fi
  # callgrind writes its file at exit: give the graceful shutdown time.
  stop_pid "$pid" 60
}
if command -v valgrind >/dev/null; then
  if valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" \
      "$bin/hotpath" --config "$config" --brokers "$brokers" --batches "$profile_batches" \
      >"$out/hotpath.txt" 2>"$out/callgrind.log"; then
    cat "$out/hotpath.txt"
    events=$(sed -n 's/.* \([0-9]*\) events accepted.*/\1/p' "$out/hotpath.txt")
    "$bin/bench-report" profile --callgrind "$out/callgrind.out" --events "${events:-0}" --json "$out/profile.json" \
      || warn "profile summary failed"
  else
    warn "callgrind run failed; see $out/callgrind.log"
  fi
  profile_collector idle
  profile_collector loaded
  events=$(json_number "$out/callgrind-load.json" events_accepted 2>/dev/null)
  if [ -s "$out/callgrind-collector-idle.out" ] && [ -s "$out/callgrind-collector-loaded.out" ] && [ -n "$events" ]; then
    "$bin/bench-report" process-profile --idle "$out/callgrind-collector-idle.out" \
      --loaded "$out/callgrind-collector-loaded.out" --events "$events" --json "$out/process-profile.json" \
      || warn "process profile summary failed"
  else
    warn "the whole-collector profile is incomplete; see $out/callgrind-collector-*.log"
  fi
else
  warn "valgrind is not installed (apt-get install -y valgrind): no profile"
fi

step "stop Kafka"
scripts/kafka.sh down || true
kafka_started=

# --- SDK ----------------------------------------------------------------------------------
if [ -n "$sdk_ready" ]; then
  step "SDK in headless Chromium: $sdk_runs sessions with and without the SDK"
  if node bench/sdk/bench.mjs --pkg sdk-wasm/pkg --out "$out" --runs "$sdk_runs"; then
    ua=$(sed -n 's/^  "user_agent": "\(.*\)",$/\1/p' "$out/sdk.json" | head -1)
    "$bin/sdk-wire" --bodies "$out/sdk-bodies" ${ua:+--user-agent "$ua"} --json "$out/sdk-wire.json" \
      --example "$out/json-baseline-example.json" \
      || warn "sdk-wire failed"
  else
    warn "SDK bench failed"
  fi
fi

# --- report -------------------------------------------------------------------------------
step "results"
"$bin/bench-report" table --out "$out" --results bench/RESULTS.md --elapsed-s "$(( $(date +%s) - started ))"
exit 0
