{{/*
The chart name (app.kubernetes.io/name).
*/}}
{{- define "eatr.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The resource name prefix: <release>-eatr, or the release name when it already contains the chart name.
Kept at 50 characters so "-watcher" / "-renewer" / "-leader-election" suffixes still fit in 63.
*/}}
{{- define "eatr.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Chart name and version (helm.sh/chart).
*/}}
{{- define "eatr.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Selector labels shared by every component: name and instance.
*/}}
{{- define "eatr.selectorLabels" -}}
app.kubernetes.io/name: {{ include "eatr.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
Standard labels on every resource. Never `app.kubernetes.io/managed-by: eatr`: that label marks the
image pull Secrets eatr itself writes.
*/}}
{{- define "eatr.labels" -}}
helm.sh/chart: {{ include "eatr.chart" . }}
{{ include "eatr.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: eatr
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
Selector labels of one component. Call with (dict "root" $ "component" "watcher").
*/}}
{{- define "eatr.componentSelectorLabels" -}}
{{ include "eatr.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/*
Labels of one component's resources. Call with (dict "root" $ "component" "watcher").
*/}}
{{- define "eatr.componentLabels" -}}
{{ include "eatr.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/*
ServiceAccount names.
*/}}
{{- define "eatr.watcher.serviceAccountName" -}}
{{- if .Values.watcher.serviceAccount.create -}}
{{- default (printf "%s-watcher" (include "eatr.fullname" .)) .Values.watcher.serviceAccount.name -}}
{{- else -}}
{{- required "watcher.serviceAccount.name is required when watcher.serviceAccount.create is false (else the ClusterRoles would be bound to the namespace's default ServiceAccount)" .Values.watcher.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "eatr.renewer.serviceAccountName" -}}
{{- if .Values.renewer.serviceAccount.create -}}
{{- default (printf "%s-renewer" (include "eatr.fullname" .)) .Values.renewer.serviceAccount.name -}}
{{- else -}}
{{- required "renewer.serviceAccount.name is required when renewer.serviceAccount.create is false (else the ClusterRoles would be bound to the namespace's default ServiceAccount)" .Values.renewer.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
"true" when the renewer's ValidatingAdmissionPolicies are rendered. admissionPolicy.enabled: auto
renders them where the API server serves the API; true fails where it does not, so a cluster never
silently runs without them; false leaves them out.
*/}}
{{- define "eatr.admissionPolicy.rendered" -}}
{{- $served := .Capabilities.APIVersions.Has "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy" -}}
{{- $mode := toString .Values.admissionPolicy.enabled -}}
{{- if and (eq $mode "true") (not $served) -}}
{{- fail "admissionPolicy.enabled=true, but the API server does not serve admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy (Kubernetes 1.30+). With helm template, pass --api-versions admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy; or set admissionPolicy.enabled=auto to install without the policies (RBAC alone then bounds the renewer)" -}}
{{- end -}}
{{- if and (ne $mode "false") $served -}}true{{- end -}}
{{- end }}

{{/*
This release's name on its Secrets (EATR_INSTANCE, label eatr.io/instance): config.instance, else the
release name, which is unique among the releases of one cluster (their cluster-scoped objects are
named after it).
*/}}
{{- define "eatr.instance" -}}
{{- .Values.config.instance | default .Release.Name -}}
{{- end }}

{{/*
Namespace of the credential Secrets (EATR_HOST_NAMESPACE).
*/}}
{{- define "eatr.hostNamespace" -}}
{{- default .Release.Namespace .Values.hostNamespace -}}
{{- end -}}

{{/*
Namespace of the watcher's leader Lease (EATR_LEADER_ELECTION_NAMESPACE).
*/}}
{{- define "eatr.leaderElectionNamespace" -}}
{{- default (include "eatr.hostNamespace" .) .Values.watcher.leaderElection.namespace -}}
{{- end -}}

{{/*
The eatr image reference.
*/}}
{{- define "eatr.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- /* %v: `--set image.tag=2` makes the tag an integer */ -}}
{{- printf "%s:%v" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/*
Name of the bundled Redis (Service, StatefulSet, ServiceAccount).
*/}}
{{- define "eatr.redis.fullname" -}}
{{- printf "%s-redis" (include "eatr.fullname" .) -}}
{{- end -}}

{{/*
How eatr reaches Redis: bundled, url, sentinel or cluster.
*/}}
{{- define "eatr.redis.mode" -}}
{{- if .Values.redis.enabled -}}bundled
{{- else if .Values.externalRedis.sentinel.addresses -}}sentinel
{{- else if .Values.externalRedis.cluster.nodes -}}cluster
{{- else -}}url
{{- end -}}
{{- end -}}

{{/*
The Redis URL eatr connects to (bundled or url mode).
*/}}
{{- define "eatr.redis.url" -}}
{{- if .Values.redis.enabled -}}
{{- printf "%s://%s.%s.svc:6379" (ternary "rediss" "redis" .Values.redis.tls.enabled) (include "eatr.redis.fullname" .) .Release.Namespace -}}
{{- else -}}
{{- .Values.externalRedis.url -}}
{{- end -}}
{{- end -}}

{{/*
Whether eatr talks TLS to an external Redis: a rediss:// URL or externalRedis.tls.enabled.
*/}}
{{- define "eatr.redis.tls" -}}
{{- if and (not .Values.redis.enabled) (or .Values.externalRedis.tls.enabled (hasPrefix "rediss://" .Values.externalRedis.url)) -}}true{{- end -}}
{{- end -}}

{{/*
Whether TLS files (CA, client certificate) are mounted from Secrets: the bundled Redis's CA, or an
external Redis's CA and client certificate.
*/}}
{{- define "eatr.redis.tlsFiles" -}}
{{- if .Values.redis.enabled -}}
{{- if .Values.redis.tls.enabled -}}true{{- end -}}
{{- else if or .Values.externalRedis.tls.caSecret .Values.externalRedis.tls.clientCertSecret -}}true
{{- end -}}
{{- end -}}

{{/*
The Secret holding the bundled Redis's certificate, key and CA: redis.tls.existingSecret or the one
the chart generates.
*/}}
{{- define "eatr.redis.tlsSecretName" -}}
{{- .Values.redis.tls.existingSecret | default (printf "%s-redis-tls" (include "eatr.fullname" .)) -}}
{{- end -}}

{{/*
The Secret and key holding the Redis password, as "name/key", or "" for none.
*/}}
{{- define "eatr.redis.passwordRef" -}}
{{- if .Values.redis.enabled -}}
{{- if .Values.redis.auth.existingSecret -}}
{{ .Values.redis.auth.existingSecret }}/{{ .Values.redis.auth.existingSecretPasswordKey }}
{{- else if include "eatr.redis.generatedAuth" . -}}
{{ include "eatr.redis.authSecretName" . }}/password
{{- end -}}
{{- else -}}
{{- with .Values.externalRedis.existingSecret -}}{{ . }}/{{ $.Values.externalRedis.existingSecretPasswordKey }}{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The Secret (key `key`) holding the key of the credential digests: renewer.digestKey.existingSecret,
or the one the chart generates.
*/}}
{{- define "eatr.digestKeySecretName" -}}
{{- .Values.renewer.digestKey.existingSecret | default (printf "%s-digest-key" (include "eatr.fullname" .)) -}}
{{- end -}}

{{/*
The Secret holding the bundled Redis's generated password.
*/}}
{{- define "eatr.redis.authSecretName" -}}
{{- printf "%s-redis-auth" (include "eatr.fullname" .) -}}
{{- end -}}

{{/*
"true" when the bundled Redis uses the chart's generated password: auth enabled, no existingSecret,
and either a fresh install or a release that has the Secret already. An upgrade from a release
without one (0.1.x) keeps running without, so the upgrade does not cut off the pods still running.
*/}}
{{- define "eatr.redis.generatedAuth" -}}
{{- $r := .Values.redis -}}
{{- if and $r.enabled $r.auth.enabled (not $r.auth.existingSecret) -}}
{{- if or .Release.IsInstall (lookup "v1" "Secret" .Release.Namespace (include "eatr.redis.authSecretName" .)) -}}true{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The port eatr pods reach Redis on (for the egress NetworkPolicy).
*/}}
{{- define "eatr.redis.port" -}}
{{- if .Values.redis.enabled -}}
6379
{{- else -}}
{{- $host := (urlParse .Values.externalRedis.url).host -}}
{{- $parts := splitList ":" $host -}}
{{- if gt (len $parts) 1 }}{{ last $parts }}{{ else }}6379{{ end -}}
{{- end -}}
{{- end -}}

{{/*
The ports eatr pods reach an external Redis on, comma-separated: the URL's; the sentinels' and the
servers' behind them; or the cluster nodes'.
*/}}
{{- define "eatr.redis.ports" -}}
{{- $mode := include "eatr.redis.mode" . -}}
{{- $ports := list -}}
{{- if eq $mode "sentinel" -}}
{{- range .Values.externalRedis.sentinel.addresses }}{{ $ports = append $ports (splitList ":" . | last) }}{{ end -}}
{{- $ports = append $ports (toString .Values.externalRedis.sentinel.redisPort) -}}
{{- else if eq $mode "cluster" -}}
{{- range .Values.externalRedis.cluster.nodes }}{{ $ports = append $ports (splitList ":" . | last) }}{{ end -}}
{{- else -}}
{{- $ports = append $ports (include "eatr.redis.port" .) -}}
{{- end -}}
{{- $ports | uniq | join "," -}}
{{- end -}}

{{/*
Fails the render on combinations the schema cannot express.
*/}}
{{- define "eatr.validate" -}}
{{- $ext := .Values.externalRedis -}}
{{- $given := list -}}
{{- if $ext.url }}{{ $given = append $given "externalRedis.url" }}{{ end -}}
{{- if $ext.sentinel.addresses }}{{ $given = append $given "externalRedis.sentinel.addresses" }}{{ end -}}
{{- if $ext.cluster.nodes }}{{ $given = append $given "externalRedis.cluster.nodes" }}{{ end -}}
{{- if and (not .Values.redis.enabled) (not $given) -}}
{{- fail "externalRedis.url is required when redis.enabled is false (redis://host:6379 or rediss://host:6380), or externalRedis.sentinel.addresses or externalRedis.cluster.nodes" -}}
{{- end -}}
{{- if and .Values.redis.enabled $given -}}
{{- fail (printf "set either redis.enabled=true (bundled Redis) or %s, not both" (first $given)) -}}
{{- end -}}
{{- if gt (len $given) 1 -}}
{{- fail (printf "%s and %s are both set: eatr uses one Redis, give only one of them" (index $given 0) (index $given 1)) -}}
{{- end -}}
{{- if and $ext.cluster.nodes (not (regexMatch "^[^{]*\\{[^}]+\\}" .Values.config.queuePrefix)) -}}
{{- fail (printf "config.queuePrefix %q has no {hash tag}: Redis Cluster (externalRedis.cluster.nodes) needs one, e.g. {eatr}" .Values.config.queuePrefix) -}}
{{- end -}}
{{- if and (not .Values.redis.enabled) (or $ext.tls.caSecret $ext.tls.clientCertSecret) (not (include "eatr.redis.tls" .)) -}}
{{- fail "externalRedis.tls.caSecret or clientCertSecret is set but TLS is off: use a rediss:// externalRedis.url or externalRedis.tls.enabled=true" -}}
{{- end -}}
{{- if and .Values.externalRedis.url (regexMatch "^rediss?://[^/@]*:[^/@]*@" .Values.externalRedis.url) -}}
{{- fail "externalRedis.url must not carry a password: put it in a Secret and name it in externalRedis.existingSecret" -}}
{{- end -}}
{{- if and .Values.aws.webIdentity.roleArn (not .Values.aws.usePodIdentity) -}}
{{- fail "aws.webIdentity.roleArn needs aws.usePodIdentity=true: eatr uses the pod's identity only when that is on" -}}
{{- end -}}
{{- $hpa := .Values.renewer.autoscaling -}}
{{- if and $hpa.enabled (not $hpa.targetCPUUtilizationPercentage) (not $hpa.targetMemoryUtilizationPercentage) -}}
{{- fail "renewer.autoscaling needs targetCPUUtilizationPercentage or targetMemoryUtilizationPercentage" -}}
{{- end -}}
{{- if and $hpa.enabled (gt (int $hpa.minReplicas) (int $hpa.maxReplicas)) -}}
{{- fail "renewer.autoscaling.minReplicas must not exceed maxReplicas" -}}
{{- end -}}
{{- range $i, $c := .Values.credentials -}}
{{- if and (not $c.accessKeyId) (not $c.roleArn) -}}
{{- fail (printf "credentials[%d] (%s): needs accessKeyId and secretAccessKey, or roleArn" $i $c.registry) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Environment both components read. Call with the root context.
*/}}
{{- define "eatr.commonEnv" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- $redisMode := include "eatr.redis.mode" . }}
{{- if eq $redisMode "sentinel" }}
- name: EATR_REDIS_SENTINELS
  value: {{ join "," .Values.externalRedis.sentinel.addresses | quote }}
- name: EATR_REDIS_SENTINEL_MASTER
  value: {{ .Values.externalRedis.sentinel.masterName | quote }}
{{- with .Values.externalRedis.sentinel.existingSecret }}
- name: EATR_REDIS_SENTINEL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.externalRedis.sentinel.existingSecretPasswordKey }}
{{- end }}
{{- else if eq $redisMode "cluster" }}
- name: EATR_REDIS_CLUSTER_NODES
  value: {{ join "," .Values.externalRedis.cluster.nodes | quote }}
{{- else }}
- name: EATR_REDIS_URL
  value: {{ include "eatr.redis.url" . | quote }}
{{- end }}
{{- if and (include "eatr.redis.tls" .) .Values.externalRedis.tls.enabled }}
- name: EATR_REDIS_TLS
  value: "true"
{{- end }}
{{- if or (and (not .Values.redis.enabled) .Values.externalRedis.tls.caSecret) (and .Values.redis.enabled .Values.redis.tls.enabled) }}
- name: EATR_REDIS_TLS_CA
  value: /etc/eatr/redis-tls/ca.crt
{{- end }}
{{- if and (not .Values.redis.enabled) .Values.externalRedis.tls.clientCertSecret }}
- name: EATR_REDIS_TLS_CERT
  value: /etc/eatr/redis-tls/tls.crt
- name: EATR_REDIS_TLS_KEY
  value: /etc/eatr/redis-tls/tls.key
{{- end }}
{{- with include "eatr.redis.passwordRef" . }}
- name: EATR_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ (splitList "/" .) | first }}
      key: {{ (splitList "/" .) | last }}
{{- end }}
- name: EATR_QUEUE_PREFIX
  value: {{ .Values.config.queuePrefix | quote }}
- name: EATR_INSTANCE
  value: {{ include "eatr.instance" . | quote }}
- name: EATR_REDIS_UNHEALTHY_AFTER
  value: {{ .Values.config.redisUnhealthyAfter | quote }}
- name: EATR_MAX_REGISTRIES_PER_NAMESPACE
  value: {{ .Values.config.maxRegistriesPerNamespace | quote }}
- name: EATR_DEFAULT_ALLOWED_NAMESPACES
  value: {{ .Values.config.defaultAllowedNamespaces | quote }}
- name: EATR_TENANT_ROLES
  value: {{ .Values.config.tenantRoles | toJson | quote }}
- name: EATR_HOST_NAMESPACE
  value: {{ include "eatr.hostNamespace" . | quote }}
- name: EATR_METRICS_PORT
  value: {{ .Values.metrics.port | quote }}
- name: EATR_LOG_LEVEL
  value: {{ .Values.config.logLevel | quote }}
- name: EATR_RENEWAL_INTERVAL
  value: {{ .Values.config.renewalInterval | quote }}
- name: EATR_SHUTDOWN_TIMEOUT
  value: {{ .Values.config.shutdownTimeout | quote }}
- name: EATR_REGISTRIES
  value: {{ join "," .Values.config.registries | quote }}
- name: EATR_SERVED_NAMESPACES
  value: {{ join "," .Values.config.servedNamespaces | quote }}
- name: EATR_ARGOCD_REGISTRIES
  value: {{ join "," .Values.config.argoCd.registries | quote }}
- name: EATR_ARGOCD_NAMESPACE
  value: {{ .Values.config.argoCd.namespace | quote }}
- name: EATR_INCLUDE_NAMESPACES
  value: {{ join "," .Values.config.includeNamespaces | quote }}
- name: EATR_EXCLUDE_NAMESPACES
  value: {{ join "," .Values.config.excludeNamespaces | quote }}
- name: EATR_JOB_ATTEMPTS
  value: {{ .Values.config.jobAttempts | quote }}
- name: EATR_JOB_BACKOFF
  value: {{ .Values.config.jobBackoff | quote }}
- name: EATR_KUBE_API_QPS
  value: {{ .Values.config.kubeApi.qps | quote }}
- name: EATR_KUBE_API_BURST
  value: {{ .Values.config.kubeApi.burst | quote }}
{{- end -}}

{{/*
NODE_OPTIONS sizing V8's old space to 75% of the container memory limit. Without it V8 sizes its heap
from the node's memory, not the limit, so a busy process is OOM-killed instead of collecting garbage;
the other 25% is left for code, buffers and native memory. The young generation is capped at 2 MiB
per semi-space (V8's default is 16): measured, that keeps about 40 MiB less resident for a few more,
cheap scavenges (docs/benchmarks.md). NODE_OPTIONS is left out when limits.memory is
unset or not in Mi, Gi, M or G, or when extraEnv sets NODE_OPTIONS itself.
MALLOC_ARENA_MAX=2 (unless extraEnv sets it): glibc otherwise keeps up to 8 malloc arenas per core
for Node's threads (TLS, zlib, libuv), which stay resident; measured, 14 MiB less for a renewer
after renewal waves (docs/benchmarks.md).
Call with (dict "resources" .Values.watcher.resources "extraEnv" .Values.watcher.extraEnv).
*/}}
{{- define "eatr.nodeOptionsEnv" -}}
{{- $memory := "" -}}
{{- with .resources }}{{ with .limits }}{{ with .memory }}{{ $memory = toString . }}{{ end }}{{ end }}{{ end -}}
{{- $overridden := false -}}
{{- $arenaSet := false -}}
{{- range .extraEnv }}{{ if eq (toString .name) "NODE_OPTIONS" }}{{ $overridden = true }}{{ end }}{{ if eq (toString .name) "MALLOC_ARENA_MAX" }}{{ $arenaSet = true }}{{ end }}{{ end -}}
{{- if and (not $overridden) (regexMatch "^[0-9]+(\\.[0-9]+)?(Mi|Gi|M|G)$" $memory) -}}
{{- $unit := regexReplaceAll "^[0-9.]+" $memory "" -}}
{{- $mib := mulf (float64 (trimSuffix $unit $memory)) (get (dict "Mi" 1.0 "Gi" 1024.0 "M" 0.95367431640625 "G" 953.67431640625) $unit) -}}
{{- $heap := int (floor (mulf $mib 0.75)) -}}
{{- if gt $heap 0 -}}
- name: NODE_OPTIONS
  value: {{ printf "--max-old-space-size=%d --max-semi-space-size=2" $heap | quote }}
{{ end -}}
{{- end -}}
{{- if not $arenaSet -}}
- name: MALLOC_ARENA_MAX
  value: "2"
{{- end -}}
{{- end -}}

{{/*
Volumes both components mount: a writable /tmp (the root filesystem is read-only) and the Redis CA.
*/}}
{{- define "eatr.commonVolumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if and .Values.redis.enabled .Values.redis.tls.enabled }}
- name: redis-tls
  secret:
    secretName: {{ include "eatr.redis.tlsSecretName" . }}
    items:
      - key: ca.crt
        path: ca.crt
{{- else if include "eatr.redis.tlsFiles" . }}
{{- $tls := .Values.externalRedis.tls }}
- name: redis-tls
  projected:
    sources:
      {{- with $tls.caSecret }}
      - secret:
          name: {{ . }}
          items:
            - key: {{ $tls.caSecretKey }}
              path: ca.crt
      {{- end }}
      {{- with $tls.clientCertSecret }}
      - secret:
          name: {{ . }}
          items:
            - key: {{ $tls.clientCertSecretCertKey }}
              path: tls.crt
            - key: {{ $tls.clientCertSecretKeyKey }}
              path: tls.key
      {{- end }}
{{- end }}
{{- end -}}

{{- define "eatr.commonVolumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if include "eatr.redis.tlsFiles" . }}
- name: redis-tls
  mountPath: /etc/eatr/redis-tls
  readOnly: true
{{- end }}
{{- end -}}

{{/*
The metrics port and the two probes of an eatr container. Call with (dict "root" $ "values" .Values.watcher).
*/}}
{{- define "eatr.probes" -}}
livenessProbe:
  httpGet:
    path: /healthz
    port: metrics
  {{- toYaml .values.livenessProbe | nindent 2 }}
readinessProbe:
  httpGet:
    path: /readyz
    port: metrics
  {{- toYaml .values.readinessProbe | nindent 2 }}
{{- end -}}

{{/*
A PodDisruptionBudget's budget. Call with the component's podDisruptionBudget values.
*/}}
{{- define "eatr.pdbBudget" -}}
{{- if not (kindIs "invalid" .minAvailable) -}}
minAvailable: {{ .minAvailable }}
{{- else -}}
maxUnavailable: {{ .maxUnavailable }}
{{- end -}}
{{- end -}}

{{/*
imagePullSecrets of a pod spec; items may be names or {name: ...} objects.
*/}}
{{- define "eatr.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets -}}
imagePullSecrets:
{{- range . }}
  - name: {{ if kindIs "string" . }}{{ . }}{{ else }}{{ .name }}{{ end }}
{{- end }}
{{- end -}}
{{- end -}}

{{/*
A NetworkPolicy `ports` list. Call with (dict "ports" (list 53) "protocols" (list "UDP" "TCP")).
*/}}
{{- define "eatr.networkPolicyPorts" -}}
{{- $protocols := .protocols | default (list "TCP") -}}
{{- range $port := .ports }}
{{- range $protocols }}
- port: {{ $port }}
  protocol: {{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
Egress rules of an eatr pod: DNS, the API server, Redis, and (for the renewer) AWS.
Call with (dict "root" $ "aws" true).
*/}}
{{- define "eatr.egressRules" -}}
{{- $root := .root -}}
{{- $egress := $root.Values.networkPolicy.egress -}}
- to:
    {{- toYaml $egress.dns.to | nindent 4 }}
  ports:
    {{- include "eatr.networkPolicyPorts" (dict "ports" $egress.dns.ports "protocols" (list "UDP" "TCP")) | trim | nindent 4 }}
- to:
    {{- toYaml $egress.apiServer.to | nindent 4 }}
  ports:
    {{- include "eatr.networkPolicyPorts" (dict "ports" $egress.apiServer.ports) | trim | nindent 4 }}
{{- if $root.Values.redis.enabled }}
- to:
    - podSelector:
        matchLabels:
          {{- include "eatr.componentSelectorLabels" (dict "root" $root "component" "redis") | nindent 10 }}
  ports:
    - port: 6379
      protocol: TCP
{{- else }}
- to:
    {{- toYaml $egress.externalRedis.to | nindent 4 }}
  ports:
    {{- range splitList "," (include "eatr.redis.ports" $root) }}
    - port: {{ . }}
      protocol: TCP
    {{- end }}
{{- end }}
{{- if .aws }}
- to:
    {{- toYaml $egress.aws.to | nindent 4 }}
  ports:
    {{- include "eatr.networkPolicyPorts" (dict "ports" $egress.aws.ports) | trim | nindent 4 }}
{{- end }}
{{- with $egress.extraRules }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
The ServiceAccount names --tenant-roles lets the renewer request tokens for (sorted, unique); empty
when tenant roles are off.
*/}}
{{- define "eatr.tenantRoles.serviceAccounts" -}}
{{- $names := list -}}
{{- range .Values.config.tenantRoles -}}
{{- $names = concat $names (default (list "default") .serviceAccounts) -}}
{{- end -}}
{{- $names | uniq | sortAlpha | toJson -}}
{{- end -}}

{{/*
A map as key=value,key=value (sorted by key), for --secret-labels and --secret-annotations.
*/}}
{{- define "eatr.keyValueList" -}}
{{- $items := list -}}
{{- range $k, $v := . -}}
{{- $items = append $items (printf "%s=%s" $k $v) -}}
{{- end -}}
{{- join "," $items -}}
{{- end -}}

{{/*
Where the renewer may use Secrets with config.servedNamespaces: the served namespaces and the host
namespace (its credential Secrets), and Argo CD's with config.argoCd.registries, each once, as a JSON list.
*/}}
{{- define "eatr.renewer.secretNamespaces" -}}
{{- $namespaces := append .Values.config.servedNamespaces (include "eatr.hostNamespace" .) -}}
{{- if .Values.config.argoCd.registries }}{{ $namespaces = append $namespaces .Values.config.argoCd.namespace }}{{ end -}}
{{- $namespaces | uniq | toJson -}}
{{- end }}
