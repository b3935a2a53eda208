{{/* The release's full name, at most 63 characters. */}}
{{- define "iarnet.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "iarnet.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "iarnet.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "iarnet.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "iarnet.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Role's rules, shared by the namespaced and the cluster-wide form. */}}
{{- define "iarnet.rules" -}}
# The custom resources: workloads are created and deleted by the gRPC front end, their
# status and finalizers written by the controller; the provider holds the ledger.
- apiGroups: [iarnet.io]
  resources: [iarnetworkloads]
  verbs: [get, list, watch, create, delete, patch]
- apiGroups: [iarnet.io]
  resources: [iarnetworkloads/status]
  verbs: [get, update, patch]
- apiGroups: [iarnet.io]
  resources: [iarnetproviders]
  verbs: [get, list, watch, create]
- apiGroups: [iarnet.io]
  resources: [iarnetproviders/status]
  verbs: [get, update, patch]
# The workloads' Pods.
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch, create, delete]
# Events about the workloads.
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
# Real-time usage: metrics-server's PodMetrics of the workloads' Pods.
- apiGroups: [metrics.k8s.io]
  resources: [pods]
  verbs: [get, list]
# Leader election.
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [get, create, update]
{{- end -}}

{{/* A capacity component: a number, or auto (no cap). */}}
{{- define "iarnet.cap" -}}
{{- if eq (toString .) "auto" }}auto{{ else }}{{ . | int64 }}{{ end }}
{{- end }}
