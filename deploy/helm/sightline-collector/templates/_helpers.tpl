{{/*
Names and labels.
*/}}
{{- define "sightline-collector.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sightline-collector.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "sightline-collector.headlessName" -}}
{{- printf "%s-headless" (include "sightline-collector.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sightline-collector.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sightline-collector.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sightline-collector.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "sightline-collector.labels" -}}
helm.sh/chart: {{ include "sightline-collector.chart" . }}
{{ include "sightline-collector.selectorLabels" . }}
app.kubernetes.io/component: collector
app.kubernetes.io/part-of: sightline
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "sightline-collector.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "sightline-collector.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "sightline-collector.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
A config value the chart derives numbers from: config.<section>.<key>, which must be set
(values.yaml sets each one; the chart does not repeat the collector's defaults).
Usage: include "sightline-collector.cfg" (list . "shutdown" "drain_timeout_ms")
*/}}
{{- define "sightline-collector.cfg" -}}
{{- $root := index . 0 }}{{- $section := index . 1 }}{{- $key := index . 2 }}
{{- $table := index $root.Values.config $section | default dict }}
{{- if not (hasKey $table $key) }}
{{- fail (printf "config.%s.%s must be set: the chart derives pod settings or alert thresholds from it" $section $key) }}
{{- end }}
{{- $value := index $table $key }}
{{- if kindIs "bool" $value }}{{ $value }}{{ else }}{{ int64 $value }}{{ end }}
{{- end }}

{{/*
Shutdown, derived in one place from config.shutdown (collector/README.md, "Shutdown"):
  preStop sleep      = readiness_grace_ms (the Service drops the endpoint meanwhile)
  then SIGTERM       → collector: readiness grace, drain (in-flight requests), flush
  termination grace  = preStop + readiness_grace + drain_timeout + flush_timeout + margin
  slow-drain alert   = a pod still terminating after preStop + readiness_grace + drain_timeout
*/}}
{{- define "sightline-collector.preStopSeconds" -}}
{{- $grace := include "sightline-collector.cfg" (list . "shutdown" "readiness_grace_ms") | int64 }}
{{- div (add $grace 999) 1000 }}
{{- end }}

{{- define "sightline-collector.drainSeconds" -}}
{{- $grace := include "sightline-collector.cfg" (list . "shutdown" "readiness_grace_ms") | int64 }}
{{- $drain := include "sightline-collector.cfg" (list . "shutdown" "drain_timeout_ms") | int64 }}
{{- add (include "sightline-collector.preStopSeconds" . | int64) (div (add $grace $drain 999) 1000) }}
{{- end }}

{{- define "sightline-collector.terminationGracePeriodSeconds" -}}
{{- $grace := include "sightline-collector.cfg" (list . "shutdown" "readiness_grace_ms") | int64 }}
{{- $drain := include "sightline-collector.cfg" (list . "shutdown" "drain_timeout_ms") | int64 }}
{{- $flush := include "sightline-collector.cfg" (list . "shutdown" "flush_timeout_ms") | int64 }}
{{- add (include "sightline-collector.preStopSeconds" . | int64) (div (add $grace $drain $flush 999) 1000) (int64 .Values.terminationMarginSeconds) }}
{{- end }}

{{/*
The spool volume: persistence.size, or max_bytes + 2 segments + 10 % slack, in MiB.
*/}}
{{- define "sightline-collector.spoolVolumeSize" -}}
{{- if .Values.persistence.size }}
{{- .Values.persistence.size }}
{{- else }}
{{- $max := include "sightline-collector.cfg" (list . "spool" "max_bytes") | int64 }}
{{- $segment := include "sightline-collector.cfg" (list . "spool" "segment_bytes") | int64 }}
{{- $bytes := div (mul (add $max (mul 2 $segment)) 11) 10 }}
{{- printf "%dMi" (div (add $bytes 1048575) 1048576) }}
{{- end }}
{{- end }}

{{/* /readyz turns 503 above this many spool bytes (spool.max_bytes x ready_max_pct %). */}}
{{- define "sightline-collector.spoolHighWaterBytes" -}}
{{- $max := include "sightline-collector.cfg" (list . "spool" "max_bytes") | int64 }}
{{- $pct := include "sightline-collector.cfg" (list . "spool" "ready_max_pct") | int64 }}
{{- div (mul $max $pct) 100 }}
{{- end }}

{{/* Label matchers for this release's collector series in alert expressions. */}}
{{- define "sightline-collector.alertSelector" -}}
{{- if .Values.alerts.selector }}
{{- .Values.alerts.selector }}
{{- else }}
{{- printf "job=%q, namespace=%q" (include "sightline-collector.fullname" .) .Release.Namespace }}
{{- end }}
{{- end }}

{{/*
The collector's TOML, rendered from .Values.config. Helm reads YAML numbers as floats, so
whole numbers are written as integers (the collector's parser wants integers); strings are
written as JSON strings, which are valid TOML basic strings.
*/}}
{{- define "sightline-collector.tomlKey" -}}
{{- if regexMatch "^[A-Za-z0-9_-]+$" . }}{{ . }}{{ else }}{{ toJson . }}{{ end }}
{{- end }}

{{- define "sightline-collector.tomlValue" -}}
{{- if kindIs "string" . }}{{ toJson . }}
{{- else if kindIs "bool" . }}{{ . }}
{{- else if or (kindIs "float64" .) (kindIs "float32" .) }}
{{- if eq (float64 (int64 .)) (float64 .) }}{{ int64 . }}{{ else }}{{ . }}{{ end }}
{{- else if or (kindIs "int" .) (kindIs "int64" .) (kindIs "int32" .) (kindIs "uint64" .) }}{{ . }}
{{- else if kindIs "slice" . }}[{{ range $i, $item := . }}{{ if $i }}, {{ end }}{{ include "sightline-collector.tomlValue" $item }}{{ end }}]
{{- else if kindIs "map" . }}{ {{- range $i, $key := keys . | sortAlpha }}{{ if $i }},{{ end }} {{ include "sightline-collector.tomlKey" $key }} = {{ include "sightline-collector.tomlValue" (index $ $key) }}{{ end }} }
{{- else if kindIs "invalid" . }}{{ fail "config: null values have no TOML form; remove the key to keep the collector's default" }}
{{- else }}{{ fail (printf "config: cannot write %v (%s) as TOML" . (kindOf .)) }}
{{- end }}
{{- end }}

{{/* One table: scalars and arrays first, then nested tables as [path.key] (empty ones left out). */}}
{{- define "sightline-collector.tomlTable" -}}
{{- $path := .path }}{{ $table := .table -}}
[{{ $path }}]
{{- range $key := keys $table | sortAlpha }}
{{- $value := index $table $key }}
{{- if not (kindIs "map" $value) }}
{{ include "sightline-collector.tomlKey" $key }} = {{ include "sightline-collector.tomlValue" $value }}
{{- end }}
{{- end }}
{{- range $key := keys $table | sortAlpha }}
{{- $value := index $table $key }}
{{- if and (kindIs "map" $value) $value }}

{{ include "sightline-collector.tomlTable" (dict "path" (printf "%s.%s" $path (include "sightline-collector.tomlKey" $key)) "table" $value) }}
{{- end }}
{{- end }}
{{- end }}

{{- define "sightline-collector.configToml" -}}
{{- $config := deepCopy (.Values.config | default dict) }}
{{- $server := index $config "server" | default dict }}
{{- if hasKey $server "listen" }}
{{- fail "config.server.listen is written by the chart from listenAddress and containerPort: set those instead" }}
{{- end }}
{{- $_ := set $server "listen" (printf "%s:%d" .Values.listenAddress (int64 .Values.containerPort)) }}
{{- $_ := set $config "server" $server }}
{{- $spool := index $config "spool" | default dict }}
{{- if hasKey $spool "dir" }}
{{- fail "config.spool.dir is written by the chart (the pod's volume, persistence.mountPath): do not set it" }}
{{- end }}
{{- $_ := set $spool "dir" (printf "%s/spool" .Values.persistence.mountPath) }}
{{- $_ := set $config "spool" $spool }}
# sightline-collector configuration, rendered by the Helm chart from .Values.config.
# Reference: collector/README.md ("Configuration reference").
{{- range $section := keys $config | sortAlpha }}
{{- $value := index $config $section }}
{{- if eq $section "sites" }}
{{- range $site := $value }}

[[sites]]
{{- range $key := keys $site | sortAlpha }}
{{ include "sightline-collector.tomlKey" $key }} = {{ include "sightline-collector.tomlValue" (index $site $key) }}
{{- end }}
{{- end }}
{{- else if kindIs "map" $value }}

{{ include "sightline-collector.tomlTable" (dict "path" (include "sightline-collector.tomlKey" $section) "table" $value) }}
{{- else }}
{{- fail (printf "config.%s: the collector's configuration has only tables and [[sites]] at the top" $section) }}
{{- end }}
{{- end }}
{{- end }}
