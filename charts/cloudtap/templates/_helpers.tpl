{{- define "cloudtap.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "cloudtap.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "cloudtap.labels" -}}
{{ include "cloudtap.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "cloudtap.serviceAccountName" -}}
{{- default (include "cloudtap.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/* Labels of every monitoring object: the chart's, and any the Prometheus or Grafana install selects by. */}}
{{- define "cloudtap.monitoringLabels" -}}
{{ include "cloudtap.labels" . }}
{{- with .Values.monitoring.labels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The stitcher pods and their metrics Services, as the operator labels them (operator/specs/names.ts). */}}
{{- define "cloudtap.stitcherSelector" -}}
app.kubernetes.io/name: cloudtap
app.kubernetes.io/component: stitcher
app.kubernetes.io/managed-by: cloudtap-operator
{{- end -}}

{{/* The watched namespaces, comma-separated (watchNamespaces and the older single watchNamespace); empty: all. */}}
{{- define "cloudtap.watchNamespaces" -}}
{{- $list := .Values.watchNamespaces | default list -}}
{{- if .Values.watchNamespace }}{{ $list = append $list .Values.watchNamespace }}{{ end -}}
{{- $list | uniq | join "," -}}
{{- end -}}

{{/* Where the shards run: the watched namespaces, or any. */}}
{{- define "cloudtap.stitcherNamespaces" -}}
{{- $namespaces := include "cloudtap.watchNamespaces" . }}
{{- if $namespaces }}
matchNames: {{ splitList "," $namespaces | toJson }}
{{- else }}
any: true
{{- end }}
{{- end -}}

{{/* Every shard series gets the CloudTap and shard it belongs to, as the dashboard and alerts group by them. */}}
{{- define "cloudtap.stitcherRelabelings" -}}
- sourceLabels: [__meta_kubernetes_pod_label_app_kubernetes_io_instance]
  targetLabel: cloudtap
- sourceLabels: [__meta_kubernetes_pod_label_cloudtap_io_shard]
  targetLabel: shard
{{- end -}}

{{/* The stitcher image: stitcher.image, else the operator's repository and tag, else the appVersion. */}}
{{- define "cloudtap.stitcherImage" -}}
{{- $repository := .Values.stitcher.image.repository | default .Values.image.repository -}}
{{- $tag := .Values.stitcher.image.tag | default .Values.image.tag | default .Chart.AppVersion -}}
{{- printf "%s:%s" $repository $tag -}}
{{- end -}}
