#!/usr/bin/env bash
# A replicated three-node Apache Kafka cluster (KRaft) on loopback, without Docker: the same
# Maven Central jars as scripts/kafka.sh, three processes that are each broker and controller.
#
#   scripts/kafka-cluster.sh up          format fresh storage, start the three nodes, create
#                                        Sightline's topics (replication 3, min ISR 2), wait in sync
#   scripts/kafka-cluster.sh down        stop the nodes this script started, delete their storage
#   scripts/kafka-cluster.sh start [N]   start node N (default: every stopped node) on its kept
#                                        storage; waits until it is registered and every replica is
#                                        back in sync
#   scripts/kafka-cluster.sh stop [N]    SIGTERM node N (default: all), storage kept
#   scripts/kafka-cluster.sh kill N      SIGKILL node N (no clean shutdown), storage kept
#   scripts/kafka-cluster.sh pid N       print node N's pid (exit 1 when it is not running)
#   scripts/kafka-cluster.sh status      exit 0 when all three nodes run
#   scripts/kafka-cluster.sh describe    replication factor, min ISR, unclean election, leaders
#   scripts/kafka-cluster.sh bootstrap   print the bootstrap list
#
# Why combined broker+controller nodes: a KRaft quorum needs three voters to survive one
# failure; separate controllers would be six JVMs (~0.5 GB each) on a laptop-sized machine,
# and the proofs then cover the harsher case — killing a broker also kills a voter, maybe
# the active controller. In production run dedicated controllers (deploy/CAPACITY.md).
#
# Ports (CLUSTER_PORT_BASE, default 28000): node N listens for clients on BASE+91+N
# (28092, 28093, 28094) and for the controller quorum on BASE+94+N (28095..28097).
# Environment: KAFKA_PARTITIONS (6), SIGHTLINE_TOPIC_PREFIX ("sightline."), SIGHTLINE_CACHE
# (<repo>/.cache), CLUSTER_KAFKA_HEAP ("384m").
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
kafka_version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$repo/scripts/kafka/pom.xml")
cache=${SIGHTLINE_CACHE:-$repo/.cache}
libs=$cache/kafka/$kafka_version/libs
base=${CLUSTER_PORT_BASE:-28000}
partitions=${KAFKA_PARTITIONS:-6}
heap=${CLUSTER_KAFKA_HEAP:-384m}
run=$cache/kafka/cluster-$base
nodes=(1 2 3)
replication=3
min_isr=2

client_port() { echo $((base + 91 + $1)); }
controller_port() { echo $((base + 94 + $1)); }
bootstrap=$(for n in "${nodes[@]}"; do printf '127.0.0.1:%s,' "$(client_port "$n")"; done)
bootstrap=${bootstrap%,}
voters=$(for n in "${nodes[@]}"; do printf '%s@127.0.0.1:%s,' "$n" "$(controller_port "$n")"; done)
voters=${voters%,}

log() { printf 'kafka-cluster: %s\n' "$*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
admin() { java -cp "$libs/*" "$repo/scripts/kafka/KafkaAdmin.java" "$@"; }
topics() { "$repo/scripts/kafka.sh" topics; }
pidfile() { echo "$run/node-$1/broker.pid"; }
running() { [ -f "$(pidfile "$1")" ] && kill -0 "$(cat "$(pidfile "$1")")" 2>/dev/null; }

write_config() { # node
  local dir=$run/node-$1
  mkdir -p "$dir/data"
  # Replication settings that protect acknowledged records, for Sightline's topics (also set
  # per topic at creation) and for the internal topics the broker creates itself.
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=$1
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$(client_port "$1"),CONTROLLER://127.0.0.1:$(controller_port "$1")
advertised.listeners=PLAINTEXT://127.0.0.1:$(client_port "$1")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=$partitions
default.replication.factor=$replication
min.insync.replicas=$min_isr
unclean.leader.election.enable=false
auto.create.topics.enable=false
offsets.topic.replication.factor=$replication
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=$replication
transaction.state.log.min.isr=$min_isr
share.coordinator.state.topic.replication.factor=$replication
share.coordinator.state.topic.min.isr=$min_isr
group.initial.rebalance.delay.ms=0
EOF
}

format() {
  rm -rf "$run" && mkdir -p "$run"
  # A Kafka cluster id: 16 random bytes, URL-safe base64 without padding.
  local cluster_id
  cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
  local pids=()
  for n in "${nodes[@]}"; do
    write_config "$n"
    java -cp "$libs/*" kafka.tools.StorageTool format -t "$cluster_id" \
      -c "$run/node-$n/server.properties" >"$run/node-$n/format.log" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || { log "formatting storage failed (see $run/node-*/format.log)"; exit 1; }; done
}

launch() { # node
  local dir=$run/node-$1
  if running "$1"; then return; fi
  [ -f "$dir/server.properties" ] || { log "no storage at $dir: run 'up' first"; exit 1; }
  # setsid: its own process group, so Ctrl-C in a caller's terminal does not kill it behind
  # the caller's back; stop/kill/down act on it by pid.
  setsid java -Xmx"$heap" -Xms128m -XX:+UseG1GC \
    -Dlog4j2.configurationFile="$repo/scripts/kafka/log4j2.properties" -Dkafka.logs.dir="$dir" \
    -cp "$libs/*" kafka.Kafka "$dir/server.properties" >"$dir/stdout.log" 2>&1 </dev/null &
  echo $! >"$(pidfile "$1")"
  log "node $1 starting (pid $!) on 127.0.0.1:$(client_port "$1")"
}

# Signals every given node first, then waits for each (at most SECONDS, then SIGKILL):
# stopping them one after another would leave the last controllers without a quorum. Even so
# the last node of a stopping cluster waits for a quorum that is gone, hence the bound.
stop_nodes() { # signal seconds node...
  local signal=$1 seconds=$2 pids=() n pid
  shift 2
  for n in "$@"; do
    if running "$n"; then pid=$(cat "$(pidfile "$n")"); kill "-$signal" "$pid"; pids+=("$n:$pid"); fi
    rm -f "$(pidfile "$n")"
  done
  for entry in "${pids[@]}"; do
    n=${entry%%:*} pid=${entry#*:}
    for _ in $(seq 1 $((seconds * 5))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then log "node $n still running $seconds s after SIG$signal; killing"; kill -KILL "$pid"; fi
    log "node $n stopped (SIG$signal)"
  done
}

wait_cluster() { # seconds
  local t0; t0=$(now)
  if ! admin wait-nodes "$bootstrap" "${#nodes[@]}" "$1"; then
    for n in "${nodes[@]}"; do log "node $n log tail:"; tail -n 15 "$run/node-$n/server.log" >&2 || true; done
    exit 1
  fi
  log "${#nodes[@]} brokers registered after $(elapsed "$t0") s"
}

check_node() { # node
  case "${1:-}" in 1|2|3) ;; *) log "node must be 1, 2 or 3 (got '${1:-}')"; exit 2 ;; esac
}

case "${1:-}" in
  up)
    t0=$(now)
    if running 1 || running 2 || running 3; then log "already running: $bootstrap"; exit 0; fi
    "$repo/scripts/kafka.sh" fetch
    format
    for n in "${nodes[@]}"; do launch "$n"; done
    wait_cluster 180
    # shellcheck disable=SC2046
    admin create-replicated "$bootstrap" "$partitions" "$replication" "$min_isr" $(topics)
    log "cluster ready on $bootstrap after $(elapsed "$t0") s" ;;
  down)
    # The storage is deleted: no need to wait long for a clean shutdown.
    stop_nodes TERM 10 "${nodes[@]}"
    rm -rf "$run" ;;
  start)
    t0=$(now)
    if [ -n "${2:-}" ]; then check_node "$2"; launch "$2"; else for n in "${nodes[@]}"; do launch "$n"; done; fi
    wait_cluster 120
    # shellcheck disable=SC2046
    admin isr "$bootstrap" 180 $(topics)
    log "every replica in sync after $(elapsed "$t0") s" ;;
  stop)
    if [ -n "${2:-}" ]; then check_node "$2"; stop_nodes TERM 30 "$2"; else stop_nodes TERM 30 "${nodes[@]}"; fi ;;
  kill) check_node "${2:-}"; stop_nodes KILL 30 "$2" ;;
  pid) check_node "${2:-}"; running "$2" && cat "$(pidfile "$2")" ;;
  status) running 1 && running 2 && running 3 ;;
  describe)
    # shellcheck disable=SC2046
    admin describe "$bootstrap" $(topics) ;;
  bootstrap) echo "$bootstrap" ;;
  *) sed -n '2,27p' "$0" >&2; exit 2 ;;
esac
