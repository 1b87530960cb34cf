#!/usr/bin/env bash
# `make test-deploy`: the Helm chart and its alerts, checked offline (no cluster, no
# download at run time; the tools are built once from the Go module proxy into .cache).
#
#   1. helm lint --strict and helm template for each values combination (defaults and
#      deploy/helm/sightline-collector/ci/*-values.yaml);
#   2. every rendered object decoded strictly into its Kubernetes API type (deploy/validate:
#      unknown, mistyped or miscased fields fail; ServiceMonitor/PrometheusRule through
#      prometheus-operator's Go types) and the chart's invariants checked;
#   3. the rendered collector config accepted by `sightline-collector --check-config`;
#   4. the validator's own negative tests (go test) and the chart's refusals of bad values;
#   5. the config checksum rolls pods on a config change and only then;
#   6. the alert rules' syntax (PromQL parser) and test coverage; deploy/alerts/rules.yaml
#      (the rules as a plain Prometheus file) up to date;
#   7. the dashboard's and alerts' metric names against a running collector's /metrics.
#
#   scripts/test-deploy.sh          all of the above
#   scripts/test-deploy.sh alerts   also `promtool check rules` + `promtool test rules`
#                                   (builds promtool once: a large build; `make test-alerts`)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

chart=deploy/helm/sightline-collector
out=target/deploy
release=sightline-collector
namespace=sightline
kube_version=1.34.0
started=$SECONDS
passed=0
step() { printf '\n==> %s\n' "$*"; }
ok() { passed=$((passed + 1)); printf 'ok: %s\n' "$*"; }
die() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }

rm -rf "$out" && mkdir -p "$out"
step "tools"
helm=$(scripts/deploy-tools.sh helm)
validate=$(scripts/deploy-tools.sh validate)
cargo build --quiet -p sightline-collector
collector=target/debug/sightline-collector

render() { # name helm-args...
  local name=$1; shift
  "$helm" template "$release" "$chart" --namespace "$namespace" --kube-version "$kube_version" "$@" >"$out/$name.yaml"
}

step "helm lint, helm template, strict decoding, invariants, --check-config (per values combination)"
combos=(defaults)
for f in "$chart"/ci/*-values.yaml; do combos+=("$(basename "$f" -values.yaml)"); done
for combo in "${combos[@]}"; do
  args=()
  [ "$combo" = defaults ] || args=(-f "$chart/ci/$combo-values.yaml")
  "$helm" lint --strict "$chart" --namespace "$namespace" --kube-version "$kube_version" "${args[@]}" >"$out/$combo.lint" 2>&1 \
    || { cat "$out/$combo.lint"; die "helm lint ($combo)"; }
  render "$combo" "${args[@]}"
  "$validate" manifests "$out/$combo.yaml"
  "$validate" config "$out/$combo.yaml" "$out/$combo.toml"
  # The collector itself must accept the file the pod would read (unknown options fail).
  "$collector" --check-config --config "$out/$combo.toml" || die "--check-config refused the $combo config"
  ok "$combo: lint, template, strict decoding, invariants, --check-config"
done

step "the validator refuses what it must (gofmt, go vet, go test: unknown, mistyped, miscased fields; broken invariants)"
render all-on -f "$chart/ci/all-on-values.yaml"
(
  command -v go >/dev/null 2>&1 || PATH=$PATH:/usr/local/go/bin
  export GOMODCACHE=${SIGHTLINE_CACHE:-$repo/.cache}/go/mod GOCACHE=${SIGHTLINE_CACHE:-$repo/.cache}/go/build GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=local
  cd deploy/validate
  unformatted=$(gofmt -l .)
  [ -z "$unformatted" ] || { echo "gofmt: $unformatted" >&2; exit 1; }
  go vet ./...
  RENDERED_CHART="$repo/$out/all-on.yaml" go test -count=1 ./...
)
sed 's/containerPort: 8080/containerPort: "8080"/' "$out/all-on.yaml" >"$out/mistyped.yaml"
if "$validate" manifests "$out/mistyped.yaml" >"$out/mistyped.log" 2>&1; then die "a mistyped containerPort passed the validator"; fi
grep -q 'cannot unmarshal string into Go struct field ContainerPort' "$out/mistyped.log" || { cat "$out/mistyped.log"; die "unexpected error"; }
ok "validator CLI refuses a mistyped field: $(grep -o 'cannot unmarshal[^"]*' "$out/mistyped.log" | head -n 1)"

step "the chart refuses values it cannot honour"
refuse() { # expected-message helm-args...
  local want=$1; shift
  if "$helm" template "$release" "$chart" --namespace "$namespace" --kube-version "$kube_version" "$@" >"$out/refused.log" 2>&1; then
    die "helm template $* rendered; want an error containing: $want"
  fi
  grep -qF "$want" "$out/refused.log" || { cat "$out/refused.log"; die "want an error containing: $want"; }
  ok "refused $*"
}
refuse "config.server.listen is written by the chart" --set config.server.listen=0.0.0.0:1
refuse "config.spool.dir is written by the chart" --set config.spool.dir=/tmp
refuse "config.shutdown.drain_timeout_ms must be set" --set config.shutdown.drain_timeout_ms=null
refuse "the collector's configuration has only tables and [[sites]] at the top" --set config.linger_ms=5

step "config checksum: a config change rolls the pods, anything else does not"
checksum() { "$helm" template "$release" "$chart" --namespace "$namespace" --kube-version "$kube_version" --show-only templates/statefulset.yaml "$@" | sed -n 's/.*checksum\/config: //p'; }
base=$(checksum)
[ "$(checksum --set config.kafka.linger_ms=10)" != "$base" ] || die "changing config.kafka.linger_ms kept the checksum"
[ "$(checksum --set podAnnotations.a=b --set replicaCount=5)" = "$base" ] || die "a non-config change moved the checksum"
ok "checksum/config changes with the config only"

step "alert rules: syntax, labels and annotations, a firing and a quiet test for each alert"
render rules --set prometheusRule.enabled=true
"$validate" manifests -rules-out "$out/alerts.rules.yaml" -alert-tests deploy/alerts/tests.yaml "$out/rules.yaml"
if ! cmp -s "$out/alerts.rules.yaml" deploy/alerts/rules.yaml; then
  if [ "${CI:-}" = true ]; then
    diff -u deploy/alerts/rules.yaml "$out/alerts.rules.yaml" | head -n 40 >&2 || true
    die "deploy/alerts/rules.yaml is not what the chart renders: run make test-deploy and commit it"
  fi
  cp "$out/alerts.rules.yaml" deploy/alerts/rules.yaml
  echo "updated deploy/alerts/rules.yaml from the chart (commit it)"
fi
ok "deploy/alerts/rules.yaml is the chart's PrometheusRule"

step "dashboard and alerts reference only metrics a running collector exports"
port=${DEPLOY_COLLECTOR_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
spool=$(mktemp -d)
# Kafka is not needed to list the metrics: with the spool the collector serves without it.
SIGHTLINE__SPOOL__DIR=$spool SIGHTLINE__SHUTDOWN__READINESS_GRACE_MS=0 RUST_LOG=error \
  "$collector" --config "$out/defaults.toml" --listen "127.0.0.1:$port" --brokers 127.0.0.1:9 >"$out/collector.log" 2>&1 &
pid=$!
trap 'stop_pid $pid 20; rm -rf "$spool"' EXIT
http_ready "http://127.0.0.1:$port/healthz" 30 || { cat "$out/collector.log"; die "collector did not start"; }
curl -fsS "http://127.0.0.1:$port/metrics" >"$out/metrics.txt"
stop_pid "$pid" 20
"$validate" metric-refs -metrics "$out/metrics.txt" -dashboard "$chart/dashboards/sightline-collector.json" -rules deploy/alerts/rules.yaml
ok "metric names of the dashboard and the alerts"

if [ "${1:-}" = alerts ]; then
  step "promtool check rules, promtool test rules"
  promtool=$(scripts/deploy-tools.sh promtool)
  "$promtool" check rules deploy/alerts/rules.yaml
  "$promtool" test rules deploy/alerts/tests.yaml
  ok "promtool: rules check and unit tests"
fi

echo
echo "test-deploy took $((SECONDS - started)) s"
echo "test-deploy: $passed passed, 0 failed"
