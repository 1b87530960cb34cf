package main

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"
)

// promql is the parser with Prometheus's default options (what promtool and the server use).
var promql = parser.NewParser(parser.Options{})

var severities = map[string]bool{"critical": true, "warning": true, "info": true}

var alertName = regexp.MustCompile(`^SightlineCollector[A-Z][A-Za-z0-9]+$`)

// CheckRules is the syntax check of the alerting rules that runs without promtool: every
// expression parses as PromQL, every `for` is a duration, and every alert carries what the
// on-call needs (severity, summary, description, runbook).
func CheckRules(spec monitoringv1.PrometheusRuleSpec) error {
	var errs []error
	seen := map[string]bool{}
	for _, group := range spec.Groups {
		for _, rule := range group.Rules {
			name := rule.Alert
			if name == "" {
				errs = append(errs, fmt.Errorf("group %s: a rule without alert name (recording rules are not expected here)", group.Name))
				continue
			}
			if !alertName.MatchString(name) {
				errs = append(errs, fmt.Errorf("alert %s: name must match %s", name, alertName))
			}
			if seen[name] {
				errs = append(errs, fmt.Errorf("alert %s defined twice", name))
			}
			seen[name] = true
			if _, err := promql.ParseExpr(rule.Expr.String()); err != nil {
				errs = append(errs, fmt.Errorf("alert %s: expr: %w", name, err))
			}
			if rule.For != nil {
				if _, err := model.ParseDuration(string(*rule.For)); err != nil {
					errs = append(errs, fmt.Errorf("alert %s: for: %w", name, err))
				}
			}
			if !severities[rule.Labels["severity"]] {
				errs = append(errs, fmt.Errorf("alert %s: severity label %q, want critical, warning or info", name, rule.Labels["severity"]))
			}
			for _, key := range []string{"summary", "description", "runbook"} {
				if rule.Annotations[key] == "" {
					errs = append(errs, fmt.Errorf("alert %s: no %s annotation", name, key))
				}
			}
		}
	}
	if len(seen) == 0 {
		errs = append(errs, errors.New("no alerts"))
	}
	return errors.Join(errs...)
}

// AlertNames lists the alerts of a rule spec, sorted.
func AlertNames(spec monitoringv1.PrometheusRuleSpec) []string {
	var names []string
	for _, group := range spec.Groups {
		for _, rule := range group.Rules {
			if rule.Alert != "" {
				names = append(names, rule.Alert)
			}
		}
	}
	sort.Strings(names)
	return names
}

// WriteRulesFile writes a PrometheusRule's spec as a plain Prometheus rules file (the
// same `groups:` layout), which promtool and a Prometheus without the operator read.
func WriteRulesFile(spec monitoringv1.PrometheusRuleSpec, file string) error {
	out, err := yaml.Marshal(spec)
	if err != nil {
		return err
	}
	header := "# Rendered from deploy/helm/sightline-collector/templates/prometheusrule.yaml by\n" +
		"# deploy/validate (make test-deploy). Do not edit: change the template.\n"
	return os.WriteFile(file, append([]byte(header), out...), 0o644)
}

// ReadRulesFile reads a plain Prometheus rules file strictly.
func ReadRulesFile(file string) (monitoringv1.PrometheusRuleSpec, error) {
	var spec monitoringv1.PrometheusRuleSpec
	data, err := os.ReadFile(file)
	if err != nil {
		return spec, err
	}
	if err := yaml.UnmarshalStrict(data, &spec); err != nil {
		return spec, fmt.Errorf("%s: %w", file, err)
	}
	return spec, nil
}

// The tests of deploy/alerts/tests.yaml, as far as coverage needs them.
type alertTests struct {
	RuleFiles []string `json:"rule_files"`
	Tests     []struct {
		AlertRuleTests []struct {
			Alertname string `json:"alertname"`
			ExpAlerts []any  `json:"exp_alerts"`
		} `json:"alert_rule_test"`
	} `json:"tests"`
}

// CheckAlertCoverage: every alert has a unit test in which it fires and one in which it
// does not (an alert_rule_test with an empty exp_alerts).
func CheckAlertCoverage(spec monitoringv1.PrometheusRuleSpec, testsFile string) error {
	data, err := os.ReadFile(testsFile)
	if err != nil {
		return err
	}
	var tests alertTests
	if err := yaml.Unmarshal(data, &tests); err != nil {
		return fmt.Errorf("%s: %w", testsFile, err)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, t := range tests.Tests {
		for _, a := range t.AlertRuleTests {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
	}
	var errs []error
	names := map[string]bool{}
	for _, name := range AlertNames(spec) {
		names[name] = true
		if !fires[name] {
			errs = append(errs, fmt.Errorf("alert %s has no test in %s where it fires", name, testsFile))
		}
		if !quiet[name] {
			errs = append(errs, fmt.Errorf("alert %s has no test in %s where it stays quiet", name, testsFile))
		}
	}
	for name := range fires {
		if !names[name] {
			errs = append(errs, fmt.Errorf("%s tests alert %s, which the rules do not define", testsFile, name))
		}
	}
	return errors.Join(errs...)
}
