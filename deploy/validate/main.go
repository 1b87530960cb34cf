// Command validate checks the collector's Kubernetes artifacts offline.
//
//	validate manifests [-rules-out FILE] [-alert-tests FILE] RENDERED.yaml...
//	    Decodes every object of each `helm template` output strictly into its Kubernetes
//	    API type (k8s.io/api; ServiceMonitor and PrometheusRule into prometheus-operator's
//	    Go types), then checks the chart's invariants (invariants.go) and the alerting
//	    rules' syntax (rules.go). -rules-out writes the PrometheusRule's spec as a plain
//	    rules file for promtool; -alert-tests checks every alert has unit tests.
//
//	validate config RENDERED.yaml OUT.toml
//	    Writes the collector's configuration file as the pod sees it (the ConfigMap key its
//	    --config argument resolves to), for `sightline-collector --check-config` and the
//	    image test.
//
//	validate metric-refs -metrics SCRAPE.txt -dashboard DASHBOARD.json [-rules RULES.yaml]
//	    Checks that the dashboard's and the rules' queries parse and select only metrics
//	    a running collector exports (SCRAPE.txt: its /metrics).
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "manifests":
		err = manifestsCmd(os.Args[2:])
	case "metric-refs":
		err = metricRefsCmd(os.Args[2:])
	case "config":
		err = configCmd(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "validate: %v\n", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: validate manifests [-rules-out FILE] [-alert-tests FILE] RENDERED.yaml...\n"+
		"       validate config RENDERED.yaml OUT.toml\n"+
		"       validate metric-refs -metrics SCRAPE.txt -dashboard DASHBOARD.json [-rules RULES.yaml]")
	os.Exit(2)
}

func manifestsCmd(args []string) error {
	flags := flag.NewFlagSet("manifests", flag.ExitOnError)
	rulesOut := flags.String("rules-out", "", "write the PrometheusRule spec here as a plain rules file")
	alertTests := flags.String("alert-tests", "", "promtool test file that must cover every alert")
	_ = flags.Parse(args)
	if flags.NArg() == 0 {
		usage()
	}
	rulesWritten := false
	for _, file := range flags.Args() {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		objects, err := DecodeStrict(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: strict decoding failed:\n%w", file, err)
		}
		rendered := Group(objects)
		if err := CheckInvariants(rendered); err != nil {
			return fmt.Errorf("%s: chart invariants failed:\n%w", file, err)
		}
		fmt.Printf("%s: %d objects decoded strictly (%s); invariants hold\n", file, len(objects), kinds(objects))
		for _, rule := range rendered.PrometheusRules {
			if *alertTests != "" {
				if err := CheckAlertCoverage(rule.Spec, *alertTests); err != nil {
					return fmt.Errorf("%s: alert tests incomplete:\n%w", file, err)
				}
			}
			if *rulesOut != "" && !rulesWritten {
				if err := WriteRulesFile(rule.Spec, *rulesOut); err != nil {
					return err
				}
				rulesWritten = true
				fmt.Printf("%s: %d alerts written to %s\n", file, len(AlertNames(rule.Spec)), *rulesOut)
			}
		}
	}
	if *rulesOut != "" && !rulesWritten {
		return fmt.Errorf("-rules-out: no input rendered a PrometheusRule")
	}
	return nil
}

func configCmd(args []string) error {
	if len(args) != 2 {
		usage()
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	objects, err := DecodeStrict(f)
	if err != nil {
		return fmt.Errorf("%s: strict decoding failed:\n%w", args[0], err)
	}
	text, err := CollectorConfigText(Group(objects))
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	return os.WriteFile(args[1], []byte(text), 0o644)
}

func metricRefsCmd(args []string) error {
	flags := flag.NewFlagSet("metric-refs", flag.ExitOnError)
	metrics := flags.String("metrics", "", "a scrape of the collector's /metrics")
	dashboard := flags.String("dashboard", "", "Grafana dashboard JSON")
	rules := flags.String("rules", "", "plain Prometheus rules file")
	_ = flags.Parse(args)
	if *metrics == "" || *dashboard == "" {
		usage()
	}
	text, err := os.ReadFile(*metrics)
	if err != nil {
		return err
	}
	exposition := ParseExposition(string(text))
	exported := 0
	for name := range exposition.Series {
		if strings.HasPrefix(name, collectorPrefix) {
			exported++
		}
	}
	if exported == 0 {
		return fmt.Errorf("%s has no %s* series: not a scrape of the collector", *metrics, collectorPrefix)
	}
	queries, err := DashboardQueries(*dashboard)
	if err != nil {
		return err
	}
	if *rules != "" {
		spec, err := ReadRulesFile(*rules)
		if err != nil {
			return err
		}
		queries = append(queries, RuleQueries(spec)...)
	}
	used, err := CheckMetricRefs(exposition, queries)
	if err != nil {
		return fmt.Errorf("metric references:\n%w", err)
	}
	var unused []string
	usedSet := map[string]bool{}
	for _, u := range used {
		usedSet[u] = true
	}
	for _, name := range keys(exposition.Series) {
		if strings.HasPrefix(name, collectorPrefix) && !usedSet[name] && !strings.HasSuffix(name, "_sum") && !strings.HasSuffix(name, "_count") {
			unused = append(unused, name)
		}
	}
	fmt.Printf("%d queries parse; they use %d collector series, all exported by the running collector (%d exported)\n",
		len(queries), len(used), exported)
	if len(unused) > 0 {
		sort.Strings(unused)
		fmt.Printf("exported but on no dashboard panel or alert: %s\n", strings.Join(unused, ", "))
	}
	return nil
}

func kinds(objects []Object) string {
	count := map[string]int{}
	for _, o := range objects {
		count[o.Kind]++
	}
	var parts []string
	for _, k := range keys(count) {
		if count[k] > 1 {
			parts = append(parts, fmt.Sprintf("%d %s", count[k], k))
		} else {
			parts = append(parts, k)
		}
	}
	return strings.Join(parts, ", ")
}
