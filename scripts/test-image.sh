#!/usr/bin/env bash
# `make test-image`: builds the image (scripts/image.sh) and proves it from its own
# filesystem, since `podman run` does not work on these machines: `podman create` +
# `podman export` give the root filesystem, and the collector runs from it under chroot as
# the image's user (65532) with the configuration the Helm chart renders, against a real
# broker (scripts/kafka.sh on KAFKA_PORT). tests/tests/deploy_image.rs then checks /readyz,
# posts a batch and reads it back from Kafka; the dashboard's and alerts' metric names are
# checked against the scrape; SIGTERM must end it with exit 0.
#
# Environment: KAFKA_PORT (19092), IMAGE_COLLECTOR_PORT (a free port), IMAGE_BASE (libs).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

export KAFKA_PORT=${KAFKA_PORT:-19092}
export SIGHTLINE_KAFKA=127.0.0.1:$KAFKA_PORT
out=target/image
rootfs=$out/rootfs
started=$SECONDS
step() { printf '\n==> %s\n' "$*"; }
die() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (chroot, podman's image store)"

step "build the image"
image=$(scripts/image.sh build)
podman_() { scripts/image.sh podman "$@"; }

step "export its filesystem"
rm -rf "$rootfs" && mkdir -p "$rootfs"
container=$(podman_ create "$image")
podman_ export "$container" | tar -x -C "$rootfs"
podman_ rm "$container" >/dev/null
config=$(podman_ image inspect --format '{{.Config.User}} {{json .Config.Entrypoint}} {{json .Config.Volumes}} {{index .Config.Labels "org.opencontainers.image.version"}}' "$image")
echo "image config: $config"
[[ $config == '65532:65532 ["/usr/local/bin/sightline-collector"] {"/var/lib/sightline":{}} '* ]] || die "unexpected image config: $config"
[ "$(stat -c %u:%g "$rootfs/var/lib/sightline")" = 65532:65532 ] || die "/var/lib/sightline is not owned by 65532"
[ "$(stat -c %u "$rootfs/usr/local/bin/sightline-collector")" = 0 ] || die "the binary should be root-owned (not writable by the runtime user)"

step "the chart's configuration, for a test site"
helm=$(scripts/deploy-tools.sh helm)
validate=$(scripts/deploy-tools.sh validate)
"$helm" template sightline-collector deploy/helm/sightline-collector --namespace sightline --kube-version 1.34.0 \
  --set prometheusRule.enabled=true --set config.log.format=text \
  --set-json 'config.sites=[{"key":"demo","allowed_origins":["http://localhost:*"]}]' >"$out/chart.yaml"
"$validate" manifests -rules-out "$out/rules.yaml" "$out/chart.yaml"
mkdir -p "$rootfs/etc/sightline"
"$validate" config "$out/chart.yaml" "$rootfs/etc/sightline/sightline.toml"

step "start Kafka on $SIGHTLINE_KAFKA"
if scripts/kafka.sh status >/dev/null 2>&1; then scripts/kafka.sh down; fi
scripts/kafka.sh up
pid=
cleanup() {
  [ -z "$pid" ] || stop_pid "$pid" 90
  scripts/kafka.sh down
}
trap cleanup EXIT

step "run the collector from the image's filesystem (chroot, uid 65532)"
port=${IMAGE_COLLECTOR_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
port_free "$port" || die "port $port is taken (IMAGE_COLLECTOR_PORT)"
# Only the listen address (loopback here, 0.0.0.0 in a pod) and the brokers differ from
# what a pod runs; the spool goes to /var/lib/sightline/spool inside the image's tree.
env -i PATH=/usr/local/bin HOSTNAME=sightline-collector-0 \
  "$(command -v chroot)" --userspec=65532:65532 "$rootfs" /usr/local/bin/sightline-collector \
  --config /etc/sightline/sightline.toml --listen "127.0.0.1:$port" --brokers "$SIGHTLINE_KAFKA" \
  >"$out/collector.log" 2>&1 &
pid=$!
http_ready "http://127.0.0.1:$port/healthz" 60 || { cat "$out/collector.log"; die "the collector from the image did not start"; }
echo "collector from the image listening on 127.0.0.1:$port (pid $pid)"

step "readyz, a batch acknowledged and read back from Kafka (tests/tests/deploy_image.rs)"
SIGHTLINE_IMAGE_COLLECTOR=127.0.0.1:$port cargo test --quiet -p sightline-tests --test deploy_image -- --ignored --nocapture

step "dashboard and alerts reference only metrics this collector exports"
curl -fsS "http://127.0.0.1:$port/metrics" >"$out/metrics.txt"
"$validate" metric-refs -metrics "$out/metrics.txt" -dashboard deploy/helm/sightline-collector/dashboards/sightline-collector.json -rules "$out/rules.yaml"
[ -n "$(ls "$rootfs/var/lib/sightline/spool" 2>/dev/null)" ] || die "no spool directory was created on the volume"

step "SIGTERM: drain and exit 0"
t0=$SECONDS
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
[ "$status" = 0 ] || { tail -n 20 "$out/collector.log"; die "exit status $status after SIGTERM"; }
echo "exit 0 after $((SECONDS - t0)) s (readiness grace, drain, flush)"

echo
echo "test-image: $image proven from its filesystem in $((SECONDS - started)) s"
