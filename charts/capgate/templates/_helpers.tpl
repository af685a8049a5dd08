{{/* Names. With the release called "capgate" they are the operator's own defaults. */}}
{{- define "capgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "capgate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Deployment, ServiceAccount, ClusterRole(Binding), Role(Binding). */}}
{{- define "capgate.operatorName" -}}
{{- printf "%s-operator" (include "capgate.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "capgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "capgate.operatorName" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "capgate.webhookServiceName" -}}
{{- printf "%s-webhook" (include "capgate.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "capgate.webhookConfigurationName" -}}
{{- printf "%s-injector" (include "capgate.fullname" .) -}}
{{- end -}}

{{- define "capgate.webhookCertificateSecret" -}}
{{- default (printf "%s-webhook-tls" (include "capgate.fullname" .)) .Values.webhook.certificateSecret -}}
{{- end -}}

{{- define "capgate.sessionSignerSecret" -}}
{{- default (printf "%s-session-signer" (include "capgate.fullname" .)) .Values.identity.signerSecret -}}
{{- end -}}

{{- define "capgate.leaseName" -}}
{{- default (printf "%s-operator-leader" (include "capgate.fullname" .)) .Values.leaderElection.leaseName -}}
{{- end -}}

{{- define "capgate.policyName" -}}
{{- printf "%s-inject-label-required" (include "capgate.fullname" .) -}}
{{- end -}}

{{- define "capgate.unservedPolicyName" -}}
{{- printf "%s-unserved-namespaces" (include "capgate.webhookConfigurationName" .) -}}
{{- end -}}

{{- define "capgate.certificateName" -}}
{{- printf "%s-webhook" (include "capgate.fullname" .) -}}
{{- end -}}

{{/* Where sidecars reach the identity port: the value, else with cert-manager the Service's DNS
name (the Certificate cannot know the cluster IP), else empty (the operator finds the cluster IP). */}}
{{- define "capgate.operatorUrl" -}}
{{- if .Values.identity.operatorUrl -}}
{{- .Values.identity.operatorUrl -}}
{{- else if .Values.webhook.certManager.enabled -}}
{{- printf "https://%s.%s.svc:8443" (include "capgate.webhookServiceName" .) .Release.Namespace -}}
{{- end -}}
{{- end -}}

{{- define "capgate.image" -}}
{{- printf "%s:%s" .image.repository (default .chart.AppVersion .image.tag) -}}
{{- end -}}

{{- define "capgate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "capgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: capgate
{{- end -}}

{{- define "capgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "capgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}
