package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/prometheus/promql/parser"
)

const collectorPrefix = "sightline_collector_"

// Series the alerts and the dashboard may use that the collector does not export, and
// who exports them in a cluster. Anything else not exported by the collector is an error.
var externalMetrics = map[string]string{
	"up":                          "Prometheus, per scrape target",
	"kube_pod_deletion_timestamp": "kube-state-metrics",
	"kube_pod_container_status_restarts_total": "kube-state-metrics",
	"kubelet_volume_stats_available_bytes":     "kubelet",
	"kubelet_volume_stats_capacity_bytes":      "kubelet",
}

// Labels Prometheus attaches to every scraped series (target labels of a ServiceMonitor
// scrape) or that histograms carry; selectors may use them on any collector metric.
var targetLabels = map[string]bool{
	"namespace": true, "job": true, "pod": true, "instance": true, "service": true,
	"endpoint": true, "container": true, "le": true, "__name__": true,
}

// Exposition is what one scrape of the collector's /metrics shows.
type Exposition struct {
	Series map[string]bool            // every sample name the families produce
	Labels map[string]map[string]bool // label names seen on samples, per sample name
}

// ParseExposition reads Prometheus / OpenMetrics text. A family declared by `# TYPE`
// counts even without samples (a labelled family nobody has touched yet): counters
// expose NAME_total, histograms NAME_bucket/_sum/_count.
func ParseExposition(text string) Exposition {
	e := Exposition{Series: map[string]bool{}, Labels: map[string]map[string]bool{}}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			fields := strings.Fields(rest)
			if len(fields) != 2 {
				continue
			}
			name, kind := fields[0], fields[1]
			switch kind {
			case "counter":
				e.Series[strings.TrimSuffix(name, "_total")+"_total"] = true
			case "histogram", "gaugehistogram":
				for _, s := range []string{"_bucket", "_sum", "_count"} {
					e.Series[name+s] = true
				}
			case "summary":
				for _, s := range []string{"", "_sum", "_count"} {
					e.Series[name+s] = true
				}
			default:
				e.Series[name] = true
			}
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rest := line, ""
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name, rest = line[:i], line[i:]
		}
		e.Series[name] = true
		if e.Labels[name] == nil {
			e.Labels[name] = map[string]bool{}
		}
		if strings.HasPrefix(rest, "{") {
			for _, m := range labelName.FindAllStringSubmatch(rest[:strings.LastIndex(rest, "}")+1], -1) {
				e.Labels[name][m[1]] = true
			}
		}
	}
	return e
}

var labelName = regexp.MustCompile(`[{,]\s*([a-zA-Z_][a-zA-Z0-9_]*)=`)

// Query is one PromQL expression and where it comes from.
type Query struct {
	Where string
	Expr  string
}

// Grafana's built-in variables, replaced by something PromQL parses.
var grafanaRanges = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h")

var labelValues = regexp.MustCompile(`^label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

// DashboardQueries returns every PromQL expression of a Grafana dashboard: panel
// targets (`expr`) and query variables (`label_values(SELECTOR, label)`).
func DashboardQueries(file string) ([]Query, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var root any
	if err := json.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var queries []Query
	var walk func(node any, where string)
	walk = func(node any, where string) {
		switch v := node.(type) {
		case map[string]any:
			if title, ok := v["title"].(string); ok {
				where = title
			} else if name, ok := v["name"].(string); ok {
				where = "variable " + name
			}
			if expr, ok := v["expr"].(string); ok {
				queries = append(queries, Query{Where: where, Expr: grafanaRanges.Replace(expr)})
			}
			if q, ok := v["query"].(map[string]any); ok {
				if text, ok := q["query"].(string); ok {
					if m := labelValues.FindStringSubmatch(text); m != nil {
						queries = append(queries, Query{Where: where, Expr: m[1]})
					}
				}
			}
			for _, key := range keys(v) { // sorted: the same order every run
				if key != "query" {
					walk(v[key], where)
				}
			}
		case []any:
			for _, child := range v {
				walk(child, where)
			}
		}
	}
	walk(root, "dashboard")
	if len(queries) == 0 {
		return nil, fmt.Errorf("%s: no queries found", file)
	}
	return queries, nil
}

// RuleQueries returns every alert's expression.
func RuleQueries(spec monitoringv1.PrometheusRuleSpec) []Query {
	var queries []Query
	for _, group := range spec.Groups {
		for _, rule := range group.Rules {
			queries = append(queries, Query{Where: "alert " + rule.Alert, Expr: rule.Expr.String()})
		}
	}
	return queries
}

// CheckMetricRefs parses every query and checks each metric it selects: a collector
// metric must be in the exposition (and its label matchers must name labels the
// collector or the scrape puts on it, where samples show them); any other metric must
// be one of externalMetrics. Returns the collector metrics referenced.
func CheckMetricRefs(e Exposition, queries []Query) ([]string, error) {
	var errs []error
	used := map[string]bool{}
	for _, q := range queries {
		expr, err := promql.ParseExpr(q.Expr)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q does not parse: %w", q.Where, q.Expr, err))
			continue
		}
		parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
			vs, ok := node.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			name := vs.Name
			switch {
			case name == "":
				errs = append(errs, fmt.Errorf("%s: a selector without a metric name", q.Where))
			case strings.HasPrefix(name, collectorPrefix):
				used[name] = true
				if !e.Series[name] {
					errs = append(errs, fmt.Errorf("%s: %s is not exported by the collector", q.Where, name))
					return nil
				}
				if seen, ok := e.Labels[name]; ok {
					for _, m := range vs.LabelMatchers {
						if !seen[m.Name] && !targetLabels[m.Name] {
							errs = append(errs, fmt.Errorf("%s: %s has no label %q (it has %v)", q.Where, name, m.Name, keys(seen)))
						}
					}
				}
			default:
				if _, ok := externalMetrics[name]; !ok {
					errs = append(errs, fmt.Errorf("%s: %s is neither the collector's nor a known external metric", q.Where, name))
				}
			}
			return nil
		})
	}
	return keys(used), errors.Join(errs...)
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedKeys[V any](m map[string]V) []string { return keys(m) }
