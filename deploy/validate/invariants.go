package main

import (
	"errors"
	"fmt"
	"net"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Rendered is a rendered chart, grouped by kind.
type Rendered struct {
	ConfigMaps      map[string]*corev1.ConfigMap
	Services        []*corev1.Service
	ServiceAccounts map[string]*corev1.ServiceAccount
	StatefulSets    []*appsv1.StatefulSet
	PDBs            []*policyv1.PodDisruptionBudget
	HPAs            []*autoscalingv2.HorizontalPodAutoscaler
	Ingresses       []*networkingv1.Ingress
	NetworkPolicies []*networkingv1.NetworkPolicy
	ServiceMonitors []*monitoringv1.ServiceMonitor
	PrometheusRules []*monitoringv1.PrometheusRule
}

func Group(objects []Object) Rendered {
	r := Rendered{ConfigMaps: map[string]*corev1.ConfigMap{}, ServiceAccounts: map[string]*corev1.ServiceAccount{}}
	for _, o := range objects {
		switch v := o.Value.(type) {
		case *corev1.ConfigMap:
			r.ConfigMaps[v.Name] = v
		case *corev1.Service:
			r.Services = append(r.Services, v)
		case *corev1.ServiceAccount:
			r.ServiceAccounts[v.Name] = v
		case *appsv1.StatefulSet:
			r.StatefulSets = append(r.StatefulSets, v)
		case *policyv1.PodDisruptionBudget:
			r.PDBs = append(r.PDBs, v)
		case *autoscalingv2.HorizontalPodAutoscaler:
			r.HPAs = append(r.HPAs, v)
		case *networkingv1.Ingress:
			r.Ingresses = append(r.Ingresses, v)
		case *networkingv1.NetworkPolicy:
			r.NetworkPolicies = append(r.NetworkPolicies, v)
		case *monitoringv1.ServiceMonitor:
			r.ServiceMonitors = append(r.ServiceMonitors, v)
		case *monitoringv1.PrometheusRule:
			r.PrometheusRules = append(r.PrometheusRules, v)
		}
	}
	return r
}

// collectorConfig is the part of the collector's TOML the pod settings depend on.
type collectorConfig map[string]any

func (c collectorConfig) int(section, key string) (int64, error) {
	table, _ := c[section].(map[string]any)
	value, ok := table[key]
	if !ok {
		return 0, fmt.Errorf("the rendered config lacks %s.%s, which pod settings are derived from", section, key)
	}
	n, ok := value.(int64)
	if !ok {
		return 0, fmt.Errorf("%s.%s is %T, not an integer", section, key, value)
	}
	return n, nil
}

func (c collectorConfig) str(section, key string) (string, bool) {
	table, _ := c[section].(map[string]any)
	s, ok := table[key].(string)
	return s, ok
}

func (c collectorConfig) boolOr(section, key string, fallback bool) bool {
	table, _ := c[section].(map[string]any)
	if b, ok := table[key].(bool); ok {
		return b
	}
	return fallback
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// CollectorConfigText returns the TOML the collector container reads (its --config file).
func CollectorConfigText(r Rendered) (string, error) {
	if len(r.StatefulSets) != 1 {
		return "", fmt.Errorf("want exactly one StatefulSet, got %d", len(r.StatefulSets))
	}
	pod := r.StatefulSets[0].Spec.Template.Spec
	c, ok := findContainer(pod.Containers, "collector")
	if !ok {
		return "", errors.New("no container named collector")
	}
	text, _, err := mountedConfigText(r, pod, c)
	return text, err
}

// CheckInvariants checks what strict decoding cannot: that the objects fit together and
// that the pod settings follow from the collector's configuration as the chart promises.
func CheckInvariants(r Rendered) error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if len(r.StatefulSets) != 1 {
		return fmt.Errorf("want exactly one StatefulSet, got %d", len(r.StatefulSets))
	}
	sts := r.StatefulSets[0]
	podLabels := labels.Set(sts.Spec.Template.Labels)
	if sts.Spec.Selector == nil {
		fail("StatefulSet %s: no selector", sts.Name)
	} else if !selects(sts.Spec.Selector, podLabels) {
		fail("StatefulSet %s: selector %v does not match its pod labels %v", sts.Name, sts.Spec.Selector.MatchLabels, podLabels)
	}

	// The headless Service the StatefulSet names.
	headless := false
	for _, svc := range r.Services {
		if svc.Name == sts.Spec.ServiceName && svc.Spec.ClusterIP == corev1.ClusterIPNone {
			headless = true
		}
	}
	if !headless {
		fail("StatefulSet %s: serviceName %q is not a rendered headless Service", sts.Name, sts.Spec.ServiceName)
	}

	pod := sts.Spec.Template.Spec
	container, ok := findContainer(pod.Containers, "collector")
	if !ok {
		return errors.Join(append(errs, fmt.Errorf("StatefulSet %s: no container named collector", sts.Name))...)
	}
	httpPort, ok := namedPort(container, "http")
	if !ok {
		fail("container collector: no port named http")
	}
	checkProbe(fail, "readinessProbe", container.ReadinessProbe, "/readyz")
	checkProbe(fail, "livenessProbe", container.LivenessProbe, "/healthz")
	if container.StartupProbe != nil {
		checkProbe(fail, "startupProbe", container.StartupProbe, "/healthz")
	}

	// The configuration file: --config PATH, mounted from a rendered ConfigMap.
	config, err := mountedConfig(r, pod, container)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	if listen, ok := config.str("server", "listen"); !ok {
		fail("config: server.listen is not set (the collector would listen on 127.0.0.1, unreachable from the Service)")
	} else if host, port, err := net.SplitHostPort(listen); err != nil {
		fail("config: server.listen %q: %v", listen, err)
	} else {
		if p, err := strconv.Atoi(port); err != nil || int32(p) != httpPort {
			fail("config: server.listen %q is not the container's http port %d", listen, httpPort)
		}
		if ip := net.ParseIP(host); ip == nil || ip.IsLoopback() {
			fail("config: server.listen %q must be an IP address other than loopback, or probes and the Service cannot reach it", listen)
		}
	}

	// Shutdown: preStop = readiness grace; termination grace above the whole sequence.
	grace, e1 := config.int("shutdown", "readiness_grace_ms")
	drain, e2 := config.int("shutdown", "drain_timeout_ms")
	flush, e3 := config.int("shutdown", "flush_timeout_ms")
	if err := errors.Join(e1, e2, e3); err != nil {
		errs = append(errs, err)
	} else {
		preStop := int64(-1)
		if container.Lifecycle != nil && container.Lifecycle.PreStop != nil && container.Lifecycle.PreStop.Sleep != nil {
			preStop = container.Lifecycle.PreStop.Sleep.Seconds
		}
		if want := ceilDiv(grace, 1000); preStop != want {
			fail("preStop sleep is %d s, want %d s (shutdown.readiness_grace_ms = %d)", preStop, want, grace)
		}
		need := max(preStop, 0) + ceilDiv(grace+drain+flush, 1000)
		if pod.TerminationGracePeriodSeconds == nil || *pod.TerminationGracePeriodSeconds <= need {
			fail("terminationGracePeriodSeconds must exceed preStop + readiness grace + drain + flush = %d s, is %v", need, deref(pod.TerminationGracePeriodSeconds))
		}
	}

	// The spool on the pod's own PersistentVolumeClaim, large enough for its cap.
	if config.boolOr("spool", "enabled", true) {
		checkSpool(fail, sts, container, config)
	}

	// Memory limit at or above the collector's worst case (collector/README.md).
	checkMemory(fail, container, config)
	if container.Resources.Requests.Cpu().IsZero() || container.Resources.Requests.Memory().IsZero() {
		fail("container collector: cpu and memory requests must be set (the HPA and the scheduler use them)")
	}

	checkSecurity(fail, pod, container)

	if sum := sts.Spec.Template.Annotations["checksum/config"]; !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(sum) {
		fail("pod template lacks a checksum/config annotation (pods would not roll on a config change)")
	}
	if sa := pod.ServiceAccountName; sa != "" && sa != "default" {
		if _, ok := r.ServiceAccounts[sa]; !ok {
			fail("serviceAccountName %q is not rendered", sa)
		}
	}
	for _, c := range pod.TopologySpreadConstraints {
		if c.LabelSelector == nil || !selects(c.LabelSelector, podLabels) {
			fail("topology spread over %s does not select the collector's pods", c.TopologyKey)
		}
	}
	if len(pod.TopologySpreadConstraints) == 0 {
		fail("no topologySpreadConstraints: pods could all land on one node")
	}

	for _, svc := range r.Services {
		if !labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) || len(svc.Spec.Selector) == 0 {
			fail("Service %s: selector %v does not select the collector's pods", svc.Name, svc.Spec.Selector)
		}
		for _, p := range svc.Spec.Ports {
			if p.TargetPort.StrVal != "" {
				if _, ok := namedPort(container, p.TargetPort.StrVal); !ok {
					fail("Service %s: targetPort %q is no container port", svc.Name, p.TargetPort.StrVal)
				}
			}
		}
	}
	for _, pdb := range r.PDBs {
		if pdb.Spec.Selector == nil || !selects(pdb.Spec.Selector, podLabels) {
			fail("PodDisruptionBudget %s does not select the collector's pods", pdb.Name)
		}
	}
	for _, hpa := range r.HPAs {
		ref := hpa.Spec.ScaleTargetRef
		if ref.Kind != "StatefulSet" || ref.Name != sts.Name || ref.APIVersion != "apps/v1" {
			fail("HPA %s targets %s/%s %s, not the StatefulSet %s", hpa.Name, ref.APIVersion, ref.Kind, ref.Name, sts.Name)
		}
		if sts.Spec.Replicas != nil {
			fail("StatefulSet sets replicas while HPA %s owns the count (every upgrade would reset it)", hpa.Name)
		}
		if hpa.Spec.MinReplicas != nil && *hpa.Spec.MinReplicas > hpa.Spec.MaxReplicas {
			fail("HPA %s: minReplicas %d above maxReplicas %d", hpa.Name, *hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas)
		}
	}
	for _, sm := range r.ServiceMonitors {
		checkServiceMonitor(fail, sm, r.Services)
	}
	for _, ing := range r.Ingresses {
		checkIngress(fail, ing, r.Services)
	}
	for _, np := range r.NetworkPolicies {
		if !selects(&np.Spec.PodSelector, podLabels) {
			fail("NetworkPolicy %s does not select the collector's pods", np.Name)
		}
		allowsHTTP := false
		for _, rule := range np.Spec.Ingress {
			for _, p := range rule.Ports {
				allowsHTTP = allowsHTTP || (p.Port != nil && (p.Port.StrVal == "http" || p.Port.IntVal == httpPort))
			}
		}
		if !allowsHTTP {
			fail("NetworkPolicy %s lets no traffic reach the http port (browsers, probes, scrapes)", np.Name)
		}
	}
	for _, rule := range r.PrometheusRules {
		if err := CheckRules(rule.Spec); err != nil {
			fail("PrometheusRule %s: %w", rule.Name, err)
		}
	}
	return errors.Join(errs...)
}

func selects(sel *metav1.LabelSelector, set labels.Set) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && !s.Empty() && s.Matches(set)
}

func findContainer(cs []corev1.Container, name string) (corev1.Container, bool) {
	for _, c := range cs {
		if c.Name == name {
			return c, true
		}
	}
	return corev1.Container{}, false
}

func namedPort(c corev1.Container, name string) (int32, bool) {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort, true
		}
	}
	return 0, false
}

func checkProbe(fail func(string, ...any), what string, probe *corev1.Probe, wantPath string) {
	if probe == nil || probe.HTTPGet == nil {
		fail("container collector: %s must be an HTTP GET of %s", what, wantPath)
		return
	}
	if probe.HTTPGet.Path != wantPath {
		fail("container collector: %s checks %s, want %s", what, probe.HTTPGet.Path, wantPath)
	}
	if probe.HTTPGet.Port.StrVal != "http" {
		fail("container collector: %s must use the named port http", what)
	}
}

func mountedConfig(r Rendered, pod corev1.PodSpec, c corev1.Container) (collectorConfig, error) {
	text, where, err := mountedConfigText(r, pod, c)
	if err != nil {
		return nil, err
	}
	var config collectorConfig
	if _, err := toml.Decode(text, &config); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return config, nil
}

// mountedConfigText is the collector's TOML as the pod sees it: the --config argument,
// resolved through the container's mounts to a key of a rendered ConfigMap.
func mountedConfigText(r Rendered, pod corev1.PodSpec, c corev1.Container) (text, where string, err error) {
	file := ""
	for i, arg := range c.Args {
		if arg == "--config" && i+1 < len(c.Args) {
			file = c.Args[i+1]
		} else if v, ok := strings.CutPrefix(arg, "--config="); ok {
			file = v
		}
	}
	if file == "" {
		return "", "", errors.New("container collector: no --config argument")
	}
	for _, m := range c.VolumeMounts {
		rel, ok := strings.CutPrefix(file, strings.TrimSuffix(m.MountPath, "/")+"/")
		if !ok {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name != m.Name || v.ConfigMap == nil {
				continue
			}
			cm, ok := r.ConfigMaps[v.ConfigMap.Name]
			if !ok {
				return "", "", fmt.Errorf("volume %s: ConfigMap %s is not rendered", v.Name, v.ConfigMap.Name)
			}
			text, ok := cm.Data[rel]
			if !ok {
				return "", "", fmt.Errorf("ConfigMap %s has no key %s (--config %s)", cm.Name, rel, file)
			}
			return text, fmt.Sprintf("ConfigMap %s, %s", cm.Name, rel), nil
		}
	}
	return "", "", fmt.Errorf("--config %s is on no ConfigMap volume mount", file)
}

func checkSpool(fail func(string, ...any), sts *appsv1.StatefulSet, c corev1.Container, config collectorConfig) {
	dir, ok := config.str("spool", "dir")
	if !ok || !path.IsAbs(dir) {
		fail("config: spool.dir %q must be an absolute path on the pod's volume", dir)
		return
	}
	var claim *corev1.PersistentVolumeClaim
	for _, m := range c.VolumeMounts {
		if dir == m.MountPath || strings.HasPrefix(dir, strings.TrimSuffix(m.MountPath, "/")+"/") {
			for i := range sts.Spec.VolumeClaimTemplates {
				if sts.Spec.VolumeClaimTemplates[i].Name == m.Name {
					claim = &sts.Spec.VolumeClaimTemplates[i]
				}
			}
		}
	}
	if claim == nil {
		fail("spool.dir %s is not on a volumeClaimTemplates volume: the spool would not follow the pod", dir)
		return
	}
	maxBytes, e1 := config.int("spool", "max_bytes")
	segment, e2 := config.int("spool", "segment_bytes")
	if err := errors.Join(e1, e2); err != nil {
		fail("%w", err)
		return
	}
	size := claim.Spec.Resources.Requests[corev1.ResourceStorage]
	if need := maxBytes + 2*segment; size.Value() < need {
		fail("spool volume %s requests %s, below spool.max_bytes + 2 segments = %d bytes", claim.Name, size.String(), need)
	}
}

// The collector's memory bound (collector/README.md, server.max_in_flight_requests) plus its
// producer queue and a base for the runtime, librdkafka and the allocator.
const memoryBaseBytes = 64 << 20

func checkMemory(fail func(string, ...any), c corev1.Container, config collectorConfig) {
	inFlight, e1 := config.int("server", "max_in_flight_requests")
	body, e2 := config.int("limits", "max_body_bytes")
	inflated, e3 := config.int("limits", "max_decompressed_bytes")
	queueKiB, e4 := config.int("kafka", "queue_max_kbytes")
	if err := errors.Join(e1, e2, e3, e4); err != nil {
		fail("%w", err)
		return
	}
	limit, ok := c.Resources.Limits[corev1.ResourceMemory]
	if !ok {
		fail("container collector: no memory limit")
		return
	}
	need := memoryBaseBytes + queueKiB*1024 + inFlight*(body+3*inflated)
	if limit.Value() < need {
		fail("memory limit %s is below the collector's worst case %s (64 MiB + queue_max_kbytes + max_in_flight_requests x (max_body_bytes + 3 x max_decompressed_bytes))",
			limit.String(), resource.NewQuantity(need, resource.BinarySI).String())
	}
}

func checkSecurity(fail func(string, ...any), pod corev1.PodSpec, c corev1.Container) {
	sc := c.SecurityContext
	if sc == nil {
		fail("container collector: no securityContext")
		return
	}
	nonRoot := (sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) ||
		(pod.SecurityContext != nil && pod.SecurityContext.RunAsNonRoot != nil && *pod.SecurityContext.RunAsNonRoot)
	if !nonRoot {
		fail("container collector: runAsNonRoot is not true")
	}
	if (sc.RunAsUser != nil && *sc.RunAsUser == 0) || (pod.SecurityContext != nil && pod.SecurityContext.RunAsUser != nil && *pod.SecurityContext.RunAsUser == 0) {
		fail("container collector: runs as uid 0")
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		fail("container collector: readOnlyRootFilesystem is not true")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		fail("container collector: allowPrivilegeEscalation is not false")
	}
	if sc.Privileged != nil && *sc.Privileged {
		fail("container collector: privileged")
	}
	dropsAll := false
	if sc.Capabilities != nil {
		for _, cap := range sc.Capabilities.Drop {
			dropsAll = dropsAll || cap == "ALL"
		}
		if len(sc.Capabilities.Add) > 0 {
			fail("container collector: adds capabilities %v", sc.Capabilities.Add)
		}
	}
	if !dropsAll {
		fail("container collector: capabilities do not drop ALL")
	}
}

func checkServiceMonitor(fail func(string, ...any), sm *monitoringv1.ServiceMonitor, services []*corev1.Service) {
	var matched []*corev1.Service
	for _, svc := range services {
		if selects(&sm.Spec.Selector, labels.Set(svc.Labels)) {
			matched = append(matched, svc)
		}
	}
	if len(matched) != 1 {
		names := []string{}
		for _, s := range matched {
			names = append(names, s.Name)
		}
		fail("ServiceMonitor %s selects %d Services %v, want exactly 1 (else every pod is scraped twice)", sm.Name, len(matched), names)
		return
	}
	for _, ep := range sm.Spec.Endpoints {
		found := false
		for _, p := range matched[0].Spec.Ports {
			found = found || p.Name == ep.Port
		}
		if !found {
			fail("ServiceMonitor %s: endpoint port %q is not a port of Service %s", sm.Name, ep.Port, matched[0].Name)
		}
		if ep.Path != "/metrics" {
			fail("ServiceMonitor %s: path %q, the collector serves /metrics", sm.Name, ep.Path)
		}
	}
}

// checkIngress: every path routes to the collector's Service, and only /v1/batch faces the
// internet (never /metrics or the probes).
func checkIngress(fail func(string, ...any), ing *networkingv1.Ingress, services []*corev1.Service) {
	for _, rule := range ing.Spec.Rules {
		if rule.HTTP == nil {
			fail("Ingress %s: rule for %q without http paths", ing.Name, rule.Host)
			continue
		}
		for _, p := range rule.HTTP.Paths {
			if !strings.HasPrefix(p.Path, "/v1/batch") {
				fail("Ingress %s: path %q exposes more than /v1/batch", ing.Name, p.Path)
			}
			backend := p.Backend.Service
			if backend == nil {
				fail("Ingress %s: path %q has no service backend", ing.Name, p.Path)
				continue
			}
			found := false
			for _, svc := range services {
				if svc.Name != backend.Name || svc.Spec.ClusterIP == corev1.ClusterIPNone {
					continue
				}
				for _, port := range svc.Spec.Ports {
					found = found || (backend.Port.Name != "" && port.Name == backend.Port.Name) || (backend.Port.Number != 0 && port.Port == backend.Port.Number)
				}
			}
			if !found {
				fail("Ingress %s: backend %s port %v is not a port of a rendered (non-headless) Service", ing.Name, backend.Name, backend.Port)
			}
		}
	}
}

func deref(p *int64) any {
	if p == nil {
		return "unset"
	}
	return *p
}
