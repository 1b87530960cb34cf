package main

// Negative tests: the validator must refuse what the API server or the chart's promises
// would refuse. They mutate a real rendering of the chart (scripts/test-deploy.sh passes it
// in RENDERED_CHART, rendered with every optional object on) one field at a time.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func rendered(t *testing.T) string {
	t.Helper()
	file := os.Getenv("RENDERED_CHART")
	if file == "" {
		t.Fatal("RENDERED_CHART is not set: run these tests through `make test-deploy` (scripts/test-deploy.sh renders the chart first)")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func validate(text string) error {
	objects, err := DecodeStrict(strings.NewReader(text))
	if err != nil {
		return err
	}
	return CheckInvariants(Group(objects))
}

// replaceOnce fails the test when old is not in text exactly once, so a chart change
// cannot silently turn a negative test into a no-op.
func replaceOnce(t *testing.T, text, old, replacement string) string {
	t.Helper()
	if n := strings.Count(text, old); n != 1 {
		t.Fatalf("%q occurs %d times in the rendering, want 1", old, n)
	}
	return strings.Replace(text, old, replacement, 1)
}

func TestRenderedChartIsValid(t *testing.T) {
	text := rendered(t)
	objects, err := DecodeStrict(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	r := Group(objects)
	if len(r.ServiceMonitors) != 1 || len(r.PrometheusRules) != 1 || len(r.HPAs) != 1 || len(r.PDBs) != 1 || len(r.Ingresses) != 1 || len(r.NetworkPolicies) != 1 {
		t.Fatalf("RENDERED_CHART should have every optional object on, got %s", kinds(objects))
	}
	if err := CheckInvariants(r); err != nil {
		t.Fatal(err)
	}
}

func TestStrictDecodingRefuses(t *testing.T) {
	text := rendered(t)
	cases := []struct {
		name, old, replacement, want string
	}{
		{"unknown field", "containerPort: 8080", "containerPorts: 8080", `unknown field "spec.template.spec.containers[0].ports[0].containerPorts"`},
		{"mistyped field", "terminationGracePeriodSeconds: 80", `terminationGracePeriodSeconds: "80"`, "cannot unmarshal string"},
		{"field in the wrong case", "readOnlyRootFilesystem: true", "readonlyRootFilesystem: true", `unknown field "spec.template.spec.containers[0].securityContext.readonlyRootFilesystem"`},
		{"duplicate key", "  podManagementPolicy: Parallel\n", "  podManagementPolicy: Parallel\n  podManagementPolicy: OrderedReady\n", "already set in map"},
		{"mistyped quantity", "storage: 18164Mi", "storage: 18-GB", "quantities must match"},
		{"unknown kind", "kind: PodDisruptionBudget", "kind: PodDisruptionBudgets", `unknown kind "policy/v1/PodDisruptionBudgets"`},
		{"CRD unknown field", "      scrapeTimeout: 10s", "      scrapeTimeout: 10s\n      scrapeEvery: 10s", `unknown field "spec.endpoints[0].scrapeEvery"`},
		{"CRD mistyped field", "          for: 5m\n          labels:\n            severity: warning\n          annotations:\n            summary: \"Collector {{ $labels.pod }} cannot be scraped\"",
			"          for: [5m]\n          labels:\n            severity: warning\n          annotations:\n            summary: \"Collector {{ $labels.pod }} cannot be scraped\"", "cannot unmarshal array"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeStrict(strings.NewReader(replaceOnce(t, text, c.old, c.replacement)))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an error containing %q, got %v", c.want, err)
			}
		})
	}
}

func TestInvariantsRefuse(t *testing.T) {
	text := rendered(t)
	cases := []struct {
		name, old, replacement, want string
	}{
		{"grace period below the shutdown sequence", "terminationGracePeriodSeconds: 80", "terminationGracePeriodSeconds: 70", "must exceed preStop + readiness grace + drain + flush = 70 s"},
		{"preStop not the readiness grace", "seconds: 5\n", "seconds: 2\n", "preStop sleep is 2 s, want 5 s"},
		{"memory limit below the worst case", "memory: 2Gi", "memory: 1Gi", "below the collector's worst case"},
		{"spool volume below its cap", "storage: 18164Mi", "storage: 8Gi", "below spool.max_bytes + 2 segments"},
		{"spool not on the claim", `dir = "/var/lib/sightline/spool"`, `dir = "/tmp/spool"`, "not on a volumeClaimTemplates volume"},
		{"listen port not the container port", `listen = "0.0.0.0:8080"`, `listen = "0.0.0.0:9090"`, "is not the container's http port 8080"},
		{"listen on loopback", `listen = "0.0.0.0:8080"`, `listen = "127.0.0.1:8080"`, "other than loopback"},
		{"writable root filesystem", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "readOnlyRootFilesystem is not true"},
		{"capabilities kept", "drop:\n              - ALL", "drop:\n              - NET_RAW", "do not drop ALL"},
		{"readiness on the liveness path", "path: /readyz", "path: /healthz", "readinessProbe checks /healthz, want /readyz"},
		{"replicas beside the HPA", "  serviceName: sightline-collector-headless\n", "  serviceName: sightline-collector-headless\n  replicas: 3\n", "owns the count"},
		{"ServiceMonitor scraping both Services", `      sightline.io/scrape: "true"` + "\n  namespaceSelector", "  namespaceSelector", "selects 2 Services"},
		{"ingress exposing /metrics", "          - path: /v1/batch\n", "          - path: /\n", `path "/" exposes more than /v1/batch`},
		{"ingress to an unknown port", "                  name: http\n", "                  name: https\n", "is not a port of a rendered"},
		{"network policy closing the http port", "        - port: http\n          protocol: TCP\n      from:", "        - port: 8443\n          protocol: TCP\n      from:", "lets no traffic reach the http port"},
		{"no checksum annotation", "checksum/config:", "checksum/other:", "checksum/config"},
		{"alert without severity", "severity: critical\n          annotations:\n            summary: \"No collector", "tier: critical\n          annotations:\n            summary: \"No collector", "severity label"},
		{"alert expression that does not parse", "== 0\n          for: 5m", "=== 0\n          for: 5m", "expr"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := validate(replaceOnce(t, text, c.old, c.replacement))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an error containing %q, got %v", c.want, err)
			}
		})
	}
}

const scrape = `# HELP sightline_collector_http_requests Every answered request.
# TYPE sightline_collector_http_requests counter
sightline_collector_http_requests_total{route="/v1/batch",status="200"} 1
# TYPE sightline_collector_batch_request_duration_seconds histogram
sightline_collector_batch_request_duration_seconds_bucket{outcome="accepted",le="0.1"} 1
# TYPE sightline_collector_rate_limited counter
# TYPE sightline_collector_spool_bytes gauge
sightline_collector_spool_bytes 0
# EOF
`

func TestMetricRefs(t *testing.T) {
	e := ParseExposition(scrape)
	ok := []Query{
		{"counter", `sum by (status) (rate(sightline_collector_http_requests_total{route="/v1/batch", namespace=~"$namespace"}[5m]))`},
		{"histogram", `histogram_quantile(0.99, sum by (le) (rate(sightline_collector_batch_request_duration_seconds_bucket{outcome="accepted"}[5m])))`},
		{"family without samples yet", `rate(sightline_collector_rate_limited_total{limiter="ip"}[5m])`},
		{"external", `up{job="x"} == 0`},
	}
	if _, err := CheckMetricRefs(e, ok); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		q    Query
		want string
	}{
		{Query{"missing metric", `sightline_collector_spool_byte > 0`}, "sightline_collector_spool_byte is not exported"},
		{Query{"counter without _total", `rate(sightline_collector_http_requests[5m])`}, "sightline_collector_http_requests is not exported"},
		{Query{"label typo", `sightline_collector_http_requests_total{statuss="500"}`}, `has no label "statuss"`},
		{Query{"unknown external", `node_cpu_seconds_total > 0`}, "neither the collector's nor a known external metric"},
		{Query{"syntax", `sum(rate(sightline_collector_http_requests_total[5m])`}, "does not parse"},
	}
	for _, b := range bad {
		t.Run(b.q.Where, func(t *testing.T) {
			_, err := CheckMetricRefs(e, []Query{b.q})
			if err == nil || !strings.Contains(err.Error(), b.want) {
				t.Fatalf("want an error containing %q, got %v", b.want, err)
			}
		})
	}
}

func TestDashboardQueriesAreFound(t *testing.T) {
	dashboard := filepath.Join(t.TempDir(), "d.json")
	json := `{"templating":{"list":[{"name":"pod","query":{"query":"label_values(sightline_collector_http_requests_total{namespace=~\"$namespace\"}, pod)"}}]},
	"panels":[{"title":"A","targets":[{"expr":"rate(sightline_collector_spool_bytes[$__rate_interval])"}]}]}`
	if err := os.WriteFile(dashboard, []byte(json), 0o644); err != nil {
		t.Fatal(err)
	}
	queries, err := DashboardQueries(dashboard)
	if err != nil {
		t.Fatal(err)
	}
	exprs := map[string]bool{}
	for _, q := range queries {
		exprs[q.Expr] = true
	}
	if len(queries) != 2 || !exprs["rate(sightline_collector_spool_bytes[5m])"] ||
		!exprs[`sightline_collector_http_requests_total{namespace=~"$namespace"}`] {
		t.Fatalf("got %+v", queries)
	}
}

func TestAlertCoverageRefusesAnUntestedAlert(t *testing.T) {
	objects, err := DecodeStrict(strings.NewReader(rendered(t)))
	if err != nil {
		t.Fatal(err)
	}
	spec := Group(objects).PrometheusRules[0].Spec
	names := AlertNames(spec)
	tests := "tests:\n  - alert_rule_test:\n"
	for _, name := range names[1:] { // the first alert has no test
		tests += "      - alertname: " + name + "\n        exp_alerts: [{}]\n      - alertname: " + name + "\n        exp_alerts: []\n"
	}
	file := filepath.Join(t.TempDir(), "tests.yaml")
	if err := os.WriteFile(file, []byte(tests), 0o644); err != nil {
		t.Fatal(err)
	}
	err = CheckAlertCoverage(spec, file)
	if err == nil || !strings.Contains(err.Error(), "alert "+names[0]+" has no test") {
		t.Fatalf("want the untested %s reported, got %v", names[0], err)
	}
}
