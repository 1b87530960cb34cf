package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Object is one rendered manifest, decoded into its Go API type.
type Object struct {
	Kind   string
	Name   string
	Source string // "# Source:" comment Helm writes above each document, when present
	Value  any    // *corev1.Service, *appsv1.StatefulSet, ...
}

// The kinds the chart may render, each with the Go type the API server would decode it
// into. A kind not listed here is an error: the validator must know every object.
var knownKinds = map[string]func() any{
	"v1/ConfigMap":                            func() any { return &corev1.ConfigMap{} },
	"v1/Service":                              func() any { return &corev1.Service{} },
	"v1/ServiceAccount":                       func() any { return &corev1.ServiceAccount{} },
	"apps/v1/StatefulSet":                     func() any { return &appsv1.StatefulSet{} },
	"policy/v1/PodDisruptionBudget":           func() any { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2/HorizontalPodAutoscaler":  func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"networking.k8s.io/v1/Ingress":            func() any { return &networkingv1.Ingress{} },
	"networking.k8s.io/v1/NetworkPolicy":      func() any { return &networkingv1.NetworkPolicy{} },
	"monitoring.coreos.com/v1/ServiceMonitor": func() any { return &monitoringv1.ServiceMonitor{} },
	"monitoring.coreos.com/v1/PrometheusRule": func() any { return &monitoringv1.PrometheusRule{} },
}

// splitDocuments splits a multi-document YAML stream at "---" lines, keeping each
// document's "# Source:" comment.
func splitDocuments(stream []byte) []document {
	var docs []document
	var current bytes.Buffer
	flush := func() {
		text := current.Bytes()
		if len(bytes.TrimSpace(stripComments(text))) > 0 {
			docs = append(docs, document{text: append([]byte(nil), text...), source: sourceOf(text)})
		}
		current.Reset()
	}
	for _, line := range strings.SplitAfter(string(stream), "\n") {
		if strings.TrimRight(line, " \t\r\n") == "---" {
			flush()
			continue
		}
		current.WriteString(line)
	}
	flush()
	return docs
}

type document struct {
	text   []byte
	source string
}

func stripComments(text []byte) []byte {
	var out bytes.Buffer
	for _, line := range strings.Split(string(text), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

func sourceOf(text []byte) string {
	for _, line := range strings.Split(string(text), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "# Source: "); ok {
			return rest
		}
	}
	return ""
}

// DecodeStrict decodes every document of a rendered chart into its API type. Unknown
// fields, fields of the wrong type, duplicate keys and case-mismatched field names are
// errors, as they are for the API server's strict field validation.
func DecodeStrict(stream io.Reader) ([]Object, error) {
	raw, err := io.ReadAll(stream)
	if err != nil {
		return nil, err
	}
	var objects []Object
	var errs []error
	for _, doc := range splitDocuments(raw) {
		obj, err := decodeOne(doc)
		if err != nil {
			where := doc.source
			if where == "" {
				where = "document"
			}
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		objects = append(objects, obj)
	}
	if len(objects) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("no objects in the input"))
	}
	return objects, errors.Join(errs...)
}

func decodeOne(doc document) (Object, error) {
	// YAMLToJSONStrict refuses duplicate keys; sigs.k8s.io/json then decodes
	// case-sensitively and reports unknown fields.
	asJSON, err := yaml.YAMLToJSONStrict(doc.text)
	if err != nil {
		return Object{}, fmt.Errorf("yaml: %w", err)
	}
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(asJSON, &head); err != nil {
		return Object{}, fmt.Errorf("reading apiVersion/kind: %w", err)
	}
	gvk := head.APIVersion + "/" + head.Kind
	newValue, ok := knownKinds[gvk]
	if !ok {
		return Object{}, fmt.Errorf("unknown kind %q (the validator knows %s)", gvk, strings.Join(sortedKeys(knownKinds), ", "))
	}
	if head.Metadata.Name == "" {
		return Object{}, fmt.Errorf("%s without metadata.name", head.Kind)
	}
	value := newValue()
	strictErrs, err := kjson.UnmarshalStrict(asJSON, value, kjson.DisallowUnknownFields)
	if err != nil {
		return Object{}, fmt.Errorf("%s %s: %w", head.Kind, head.Metadata.Name, err)
	}
	if len(strictErrs) > 0 {
		return Object{}, fmt.Errorf("%s %s: %w", head.Kind, head.Metadata.Name, errors.Join(strictErrs...))
	}
	return Object{Kind: head.Kind, Name: head.Metadata.Name, Source: doc.source, Value: value}, nil
}
