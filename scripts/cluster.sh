#!/usr/bin/env bash
# `make cluster`: Sightline's production edge tier on this machine, on loopback — a
# three-node Kafka cluster (KRaft, replication 3, min ISR 2, scripts/kafka-cluster.sh), three
# collectors (release build, PROXY protocol v2, the balancer their only trusted peer, a spool
# directory each) and HAProxy in front of them with the reference configuration
# deploy/haproxy/haproxy.cfg. Prints the balancer URL and the bootstrap addresses; Ctrl-C
# stops everything it started, by pid (balancer, then collectors — they drain — then Kafka).
#
# Ports (CLUSTER_PORT_BASE, default 28000): balancer BASE+80, HAProxy stats BASE+70,
# collectors BASE+81..83, Kafka BASE+92..94 (controllers BASE+95..97).
# Environment: CLUSTER_KEEP_KAFKA=1 keeps the brokers and their data running at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

export CLUSTER_PORT_BASE=${CLUSTER_PORT_BASE:-28000}
base=$CLUSTER_PORT_BASE
lb_port=$((base + 80))
stats_port=$((base + 70))
collector_ports=($((base + 81)) $((base + 82)) $((base + 83)))
logs=$repo/.cache/cluster
mkdir -p "$logs"

started=$(date +%s)
step() { printf '\n==> %s\n' "$*"; }
die() { printf 'cluster: %s\n' "$*" >&2; exit 1; }

for tool in cargo java curl; do
  command -v "$tool" >/dev/null || die "$tool is required (see README: toolchain)"
done
for port in "$lb_port" "$stats_port" "${collector_ports[@]}" $((base + 92)) $((base + 93)) $((base + 94)); do
  port_free "$port" || die "port $port is in use; choose another block with CLUSTER_PORT_BASE=…"
done

# --- cleanup: only what this script started, by pid -------------------------------------
haproxy_pid=
collector_pids=()
kafka_started=no
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  trap - INT TERM EXIT
  echo
  step "stopping the cluster"
  [ -n "$haproxy_pid" ] && stop_pid "$haproxy_pid" 5
  # Collectors drain (readiness grace, in-flight requests, spool flush): up to ~40 s each, in parallel.
  for pid in "${collector_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${collector_pids[@]}"; do stop_pid "$pid" 45; done
  if [ "$kafka_started" = yes ] && [ "${CLUSTER_KEEP_KAFKA:-0}" != 1 ]; then scripts/kafka-cluster.sh down || true; fi
  echo "cluster: stopped (logs in $logs)"
}
trap cleanup EXIT
interrupted=no
trap 'exit 130' INT TERM

step "install what the cluster needs (haproxy, Java, the Kafka jars)"
scripts/ensure.sh cluster

step "build the collector and sightline-tail (release)"
cargo build --release -p sightline-collector -p sightline-tail --bin sightline-collector --bin sightline-tail

step "start the Kafka cluster (3 nodes)"
if scripts/kafka-cluster.sh status; then
  echo "cluster: reusing the Kafka cluster already running on $(scripts/kafka-cluster.sh bootstrap)"
else
  kafka_started=yes
  scripts/kafka-cluster.sh up
fi
brokers=$(scripts/kafka-cluster.sh bootstrap)

step "start three collectors (PROXY protocol v2, trusting only the balancer)"
for i in 1 2 3; do
  port=${collector_ports[i - 1]}
  # The spools outlive a run on purpose: what was accepted while Kafka was away is replayed next time.
  SIGHTLINE__SERVER__PROXY_PROTOCOL=true \
  SIGHTLINE__SERVER__TRUSTED_PROXIES='["127.0.0.1/32"]' \
  SIGHTLINE__SERVER__COLLECTOR_ID="collector-$i" \
  SIGHTLINE__SPOOL__DIR="$logs/spool/collector-$i" \
  target/release/sightline-collector --config collector/sightline.example.toml \
    --listen "127.0.0.1:$port" --brokers "$brokers" >"$logs/collector-$i.log" 2>&1 &
  collector_pids+=($!)
done

step "start HAProxy on 127.0.0.1:$lb_port (deploy/haproxy/haproxy.cfg)"
SIGHTLINE_LB_BIND=127.0.0.1:$lb_port SIGHTLINE_LB_STATS_BIND=127.0.0.1:$stats_port \
SIGHTLINE_COLLECTOR_1=127.0.0.1:${collector_ports[0]} SIGHTLINE_COLLECTOR_2=127.0.0.1:${collector_ports[1]} \
SIGHTLINE_COLLECTOR_3=127.0.0.1:${collector_ports[2]} SIGHTLINE_LB_SOURCE=127.0.0.1 \
  haproxy -db -f deploy/haproxy/haproxy.cfg >"$logs/haproxy.log" 2>&1 &
haproxy_pid=$!

# Ready = HAProxy's own health checks (GET /readyz over PROXY v2) see all three collectors UP.
servers_up() {
  curl -fsS "http://127.0.0.1:$stats_port/stats;csv" 2>/dev/null |
    awk -F, '$1 == "collectors" && $2 ~ /^collector-/ && $18 == "UP" { n++ } END { exit !(n == 3) }'
}
for _ in $(seq 1 150); do
  servers_up && break
  for pid in "$haproxy_pid" "${collector_pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || die "a process exited during start-up; see $logs/*.log"
  done
  sleep 0.2
done
servers_up || die "HAProxy does not see three healthy collectors after 30 s; see http://127.0.0.1:$stats_port/stats and $logs/"

cat <<URLS

Sightline edge tier is up (ready after $(( $(date +%s) - started )) s):

  Balancer (send batches here)   http://127.0.0.1:$lb_port   (POST /v1/batch; HAProxy → 3 collectors)
  HAProxy stats / metrics        http://127.0.0.1:$stats_port/stats   http://127.0.0.1:$stats_port/metrics
  Collectors (PROXY v2 only)     127.0.0.1:${collector_ports[0]} 127.0.0.1:${collector_ports[1]} 127.0.0.1:${collector_ports[2]}
  Kafka bootstrap                $brokers
                                 (replication 3, min.insync.replicas 2: CLUSTER_PORT_BASE=$base scripts/kafka-cluster.sh describe)

  The demo site on this cluster (in another terminal):
    DEMO_COLLECTOR_URL=http://localhost:$lb_port DEMO_BROKERS=$brokers make demo
  Watch the events:  target/release/sightline-tail --brokers $brokers
  Logs and spools: $logs/   Ctrl-C stops everything.

URLS

# Wait for Ctrl-C, or for a process of the tier to die on its own: HAProxy and the collectors
# are children; the Kafka nodes are not (setsid, see scripts/kafka-cluster.sh), so they are
# watched through their pid files. Ctrl-C reaches the whole foreground process group, so
# HAProxy or a collector may exit before this script's trap runs: a child that ended cleanly
# (0) or by SIGINT/SIGTERM (130/143) is the user stopping the cluster.
trap 'interrupted=yes' INT TERM
while [ "$interrupted" = no ]; do
  for pid in "$haproxy_pid" "${collector_pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      status=0
      wait "$pid" || status=$?
      if [ "$interrupted" = yes ] || [ "$status" = 0 ] || [ "$status" = 130 ] || [ "$status" = 143 ]; then exit 0; fi
      die "a cluster process (pid $pid) exited on its own (status $status); see $logs/"
    fi
  done
  if [ "$kafka_started" = yes ] && ! scripts/kafka-cluster.sh status; then
    die "a Kafka node exited on its own; see .cache/kafka/cluster-$base/node-*/server.log"
  fi
  sleep 2 & wait $! || true
done
exit 0
