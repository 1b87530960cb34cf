#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft mode) on loopback, without Docker.
#
#   scripts/kafka.sh up      download (once), format fresh storage, start, wait, create topics
#   scripts/kafka.sh down    stop the broker this script started and delete its storage
#   scripts/kafka.sh stop    stop the broker, keep its storage (outage tests)
#   scripts/kafka.sh start   start again on the kept storage and wait until it answers
#   scripts/kafka.sh fetch   only download the jars into the cache
#   scripts/kafka.sh status  exit 0 when the broker started by this script is running
#
# Environment: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (KAFKA_PORT+1), KAFKA_PARTITIONS (6),
# SIGHTLINE_TOPIC_PREFIX ("sightline."), SIGHTLINE_CACHE (<repo>/.cache), KAFKA_HEAP ("512m").
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
kafka_version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$repo/scripts/kafka/pom.xml")
cache=${SIGHTLINE_CACHE:-$repo/.cache}
libs=$cache/kafka/$kafka_version/libs
port=${KAFKA_PORT:-9092}
controller_port=${KAFKA_CONTROLLER_PORT:-$((port + 1))}
partitions=${KAFKA_PARTITIONS:-6}
prefix=${SIGHTLINE_TOPIC_PREFIX:-sightline.}
run=$cache/kafka/run-$port
pidfile=$run/broker.pid
bootstrap=127.0.0.1:$port

log() { printf 'kafka: %s\n' "$*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

fetch() {
  if [ -f "$libs/.complete" ]; then return; fi
  if ! command -v mvn >/dev/null || ! command -v java >/dev/null; then "$repo/scripts/ensure.sh" java-maven; fi
  log "downloading Apache Kafka $kafka_version from Maven Central into $libs"
  rm -rf "$libs" && mkdir -p "$libs"
  mvn -q -B -Dstyle.color=never --no-transfer-progress -f "$repo/scripts/kafka/pom.xml" -Dmaven.repo.local="$cache/m2" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs"
  touch "$libs/.complete"
}

java_cp() { java -Xmx"${KAFKA_HEAP:-512m}" -cp "$libs/*" "$@"; }

admin() { java -cp "$libs/*" "$repo/scripts/kafka/KafkaAdmin.java" "$@"; }

topics() { grep -v -e '^#' -e '^[[:space:]]*$' "$repo/proto/topics.txt" | sed "s/^/$prefix/"; }

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

write_config() {
  mkdir -p "$run/data"
  cat >"$run/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$run/data
num.partitions=$partitions
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.flush.interval.messages=9223372036854775807
EOF
}

format() {
  rm -rf "$run" && write_config
  local cluster_id
  cluster_id=$(java_cp kafka.tools.StorageTool random-uuid)
  java_cp kafka.tools.StorageTool format -t "$cluster_id" -c "$run/server.properties" >"$run/format.log"
}

start_broker() {
  if running; then log "already running (pid $(cat "$pidfile")) on $bootstrap"; return; fi
  [ -f "$run/server.properties" ] || { log "no storage at $run: run 'up' first"; exit 1; }
  local t0; t0=$(now)
  # setsid: the broker gets its own process group, so Ctrl-C in a caller's terminal
  # does not kill it behind the caller's back; 'down' stops it by pid.
  setsid java -Xmx"${KAFKA_HEAP:-512m}" -Xms128m -XX:+UseG1GC \
    -Dlog4j2.configurationFile="$repo/scripts/kafka/log4j2.properties" -Dkafka.logs.dir="$run" \
    -cp "$libs/*" kafka.Kafka "$run/server.properties" >"$run/stdout.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  if ! admin wait "$bootstrap" 90; then
    log "broker failed to start; last log lines:"; tail -n 30 "$run/server.log" >&2 || true
    stop_broker; exit 1
  fi
  log "broker ready on $bootstrap (pid $(cat "$pidfile")) after $(elapsed "$t0") s"
}

stop_broker() {
  if ! running; then rm -f "$pidfile"; return; fi
  local pid; pid=$(cat "$pidfile")
  kill -TERM "$pid"
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then log "broker ignored SIGTERM for 30 s; killing"; kill -KILL "$pid"; fi
  rm -f "$pidfile"
  log "broker on $bootstrap stopped"
}

case "${1:-}" in
  fetch) fetch ;;
  up)
    t0=$(now)
    if running; then log "already running on $bootstrap"; else
      cold=$([ -f "$libs/.complete" ] && echo warm || echo cold)
      fetch; format; start_broker
      # shellcheck disable=SC2046
      admin create "$bootstrap" "$partitions" $(topics)
      # Erasure requests (sightline-admin erase, issue 18): compacted, one record per person.
      admin create-compacted "$bootstrap" 1 "${prefix}erasures"
      log "$cold start took $(elapsed "$t0") s (KAFKA_PORT=$port)"
    fi ;;
  down) stop_broker; rm -rf "$run" ;;
  stop) stop_broker ;;
  start)
    start_broker
    # shellcheck disable=SC2046
    admin leaders "$bootstrap" 60 $(topics) ;;
  status) running ;;
  topics) topics ;;
  *) sed -n '2,13p' "$0" >&2; exit 2 ;;
esac
