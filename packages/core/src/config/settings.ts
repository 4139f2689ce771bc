import { z } from 'zod';
import { REDIS_SETTINGS } from './redis-settings.js';
import { BOTH, type Setting } from './setting.js';
import {
  boolean,
  defaultAccess,
  tenantRoles,
  servedNamespaces,
  secretMetadata,
  duration,
  integer,
  kubeconfigPath,
  list,
  logLevel,
  namespaceName,
  nonNegative,
  proxyUrl,
  registryHosts,
  registryHostsOf,
} from './value-parsers.js';

const TWELVE_HOURS = 12 * 3_600_000;

/**
 * Every setting, declared once: flag, environment variables, default, parser and range, components
 * and one line of doc. The schema (settings-schema.ts), --help, docs/architecture.md (`pnpm
 * docs:settings`) and the chart tests derive from it; load-config.test.ts fails when buildConfig()
 * leaves one out.
 */
export const SETTINGS = [
  {
    flag: 'kubeconfig',
    env: ['KUBECONFIG'],
    components: BOTH,
    description: 'kubeconfig file (default: in-cluster, else ~/.kube/config)',
    parse: kubeconfigPath.optional(),
  },
  ...REDIS_SETTINGS,
  {
    flag: 'queue-prefix',
    env: ['EATR_QUEUE_PREFIX'],
    components: BOTH,
    defaultValue: '{eatr}',
    description: 'BullMQ key prefix; keep the {hash tag} for Redis Cluster',
    parse: z
      .string()
      .regex(/^[^:\s]+$/, 'queue-prefix: must not be empty or contain ":" or spaces'),
  },
  {
    flag: 'instance',
    env: ['EATR_INSTANCE'],
    components: BOTH,
    defaultValue: 'eatr',
    description:
      "this eatr release's name, stamped on its Secrets (label eatr.io/instance): releases with different instances in one cluster never touch each other's Secrets; the chart sets the Helm release name",
    parse: z
      .string()
      .regex(
        /^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/,
        'instance: must be 1-63 characters: lower-case letters, digits, "-" or ".", starting and ending with a letter or digit',
      ),
  },
  {
    flag: 'host-namespace',
    env: ['EATR_HOST_NAMESPACE'],
    components: BOTH,
    defaultValue: 'ci-cd',
    description: 'namespace holding the eatr-aws-credentials-<registry> Secrets',
    parse: namespaceName('host-namespace'),
  },
  {
    flag: 'metrics-port',
    env: ['EATR_METRICS_PORT'],
    components: BOTH,
    defaultValue: '5000',
    description: 'port for /metrics, /healthz and /readyz (0 = any free port)',
    ...integer('metrics-port', 0, 65535),
  },
  {
    flag: 'metrics-host',
    env: ['EATR_METRICS_HOST'],
    components: BOTH,
    defaultValue: '0.0.0.0',
    description: 'address the metrics server binds to',
    parse: z.string().min(1),
  },
  {
    flag: 'log-level',
    env: ['EATR_LOG_LEVEL'],
    components: BOTH,
    defaultValue: 'info',
    aliases: ['logging-verbosity-level'],
    description: "fatal, error, warn, info, debug, trace, silent, or the seed's 0-9",
    parse: logLevel,
  },
  {
    flag: 'renewal-interval',
    env: ['EATR_RENEWAL_INTERVAL'],
    components: BOTH,
    defaultValue: '6h',
    aliases: ['auth-token-renewal-interval'],
    description: 'renew a Secret once its token is this old (must be under 12h)',
    ...duration('auth-token-renewal-interval', {
      min: 1000,
      max: TWELVE_HOURS - 60_000,
      why: ' (ECR tokens expire after 12h)',
    }),
  },
  {
    flag: 'sweep-interval',
    env: ['EATR_SWEEP_INTERVAL'],
    components: ['watcher'],
    defaultValue: '5m',
    aliases: ['informers-resync-interval'],
    description: 'how often every opted-in namespace is re-checked',
    ...duration('sweep-interval', { min: 1000 }),
  },
  {
    flag: 'redis-unhealthy-after',
    env: ['EATR_REDIS_UNHEALTHY_AFTER'],
    components: BOTH,
    defaultValue: '60s',
    description:
      "how long Redis may refuse this process's password or TLS certificates before /healthz fails, so Kubernetes restarts it with the rotated ones (outages a reconnect fixes never fail it)",
    ...duration('redis-unhealthy-after', { min: 1000 }),
  },
  {
    flag: 'shutdown-timeout',
    env: ['EATR_SHUTDOWN_TIMEOUT'],
    components: BOTH,
    defaultValue: '75s',
    description:
      'longest wait for running jobs on SIGTERM (a sync can take 2 x ecr-max-attempts x ecr-timeout)',
    ...duration('shutdown-timeout', { min: 0 }),
  },
  {
    flag: 'concurrency',
    env: ['EATR_CONCURRENCY'],
    components: ['renewer'],
    defaultValue: '4',
    description: 'jobs one renewer process runs at once',
    ...integer('concurrency', 1, 1000),
  },
  {
    flag: 'secret-name-template',
    env: ['EATR_SECRET_NAME_TEMPLATE'],
    components: BOTH,
    defaultValue: '{{registry}}',
    description: 'output Secret name; {{registry}}, {{account}}, {{region}}',
    // Checked in the schema's superRefine: it needs a sample registry to render a name.
    parse: z.string(),
  },
  {
    flag: 'docker-email',
    env: ['EATR_DOCKER_EMAIL'],
    components: ['renewer'],
    description: 'email written into .dockerconfigjson (optional)',
    parse: z.string().optional(),
  },
  {
    flag: 'secret-labels',
    env: ['EATR_SECRET_LABELS'],
    components: ['renewer'],
    defaultValue: '',
    description:
      "labels written on every Secret eatr writes, as key=value,key=value (for GitOps tools and policy engines, e.g. argocd.argoproj.io/instance=none); eatr's own keys cannot be set; applied at each write",
    parse: secretMetadata('secret-labels'),
  },
  {
    flag: 'secret-annotations',
    env: ['EATR_SECRET_ANNOTATIONS'],
    components: ['renewer'],
    defaultValue: '',
    description:
      "annotations written on every Secret eatr writes, as key=value,key=value (e.g. argocd.argoproj.io/compare-options=IgnoreExtraneous); eatr's own keys cannot be set; applied at each write",
    parse: secretMetadata('secret-annotations'),
  },
  {
    flag: 'service-accounts',
    env: ['EATR_SERVICE_ACCOUNTS'],
    components: BOTH,
    defaultValue: 'default',
    description:
      'ServiceAccounts that get imagePullSecrets: comma list, * for all, empty for none; a ServiceAccount labelled eatr.io/pull-secrets=true gets them too, one labelled false never',
    parse: z.string().transform((v): '*' | string[] => (v.trim() === '*' ? '*' : list(v))),
  },
  {
    flag: 'use-pod-identity',
    env: ['EATR_USE_POD_IDENTITY'],
    components: ['renewer'],
    defaultValue: 'false',
    description:
      "use the pod's AWS identity (SDK default chain) for registries with no credential Secret",
    parse: boolean('use-pod-identity'),
  },
  {
    flag: 'recover-stuck-pods',
    env: ['EATR_RECOVER_STUCK_PODS'],
    components: ['renewer'],
    defaultValue: 'false',
    description:
      "after eatr gives a namespace a pull Secret (or a ServiceAccount its entry), delete that namespace's Pods a controller owns that were created before and are stuck in ImagePullBackOff/ErrImagePull on a registry it serves, once, so the controller recreates them with the entry; bare Pods are left alone and reported. Needs list and delete on Pods (the chart grants them only when this is on)",
    parse: boolean('recover-stuck-pods'),
  },
  {
    flag: 'ecr-max-attempts',
    env: ['EATR_ECR_MAX_ATTEMPTS'],
    components: ['renewer'],
    defaultValue: '3',
    description: "attempts per ECR/STS call, with the SDK's backoff",
    ...integer('ecr-max-attempts', 1, 20),
  },
  {
    flag: 'ecr-timeout',
    env: ['EATR_ECR_TIMEOUT'],
    components: ['renewer'],
    defaultValue: '10s',
    description: 'timeout of one ECR/STS request',
    ...duration('ecr-timeout', { min: 100 }),
  },
  {
    flag: 'job-attempts',
    env: ['EATR_JOB_ATTEMPTS'],
    components: BOTH,
    defaultValue: '10',
    description: 'attempts per sync job on transient errors (exponential backoff with jitter)',
    ...integer('job-attempts', 1, 1000),
  },
  {
    flag: 'job-backoff',
    env: ['EATR_JOB_BACKOFF'],
    components: BOTH,
    defaultValue: '2s',
    description: 'first retry delay of a failed sync job',
    ...duration('job-backoff', { min: 1 }),
  },
  {
    flag: 'job-backoff-max',
    env: ['EATR_JOB_BACKOFF_MAX'],
    components: ['renewer'],
    defaultValue: '1m',
    description:
      'longest retry delay of a sync job, and the probe interval of a registry AWS denied',
    ...duration('job-backoff-max', { min: 1000 }),
  },
  {
    flag: 'digest-key',
    env: ['EATR_DIGEST_KEY'],
    components: ['renewer'],
    defaultValue: '',
    description:
      'key of the credential digests recorded on Secrets (eatr.io/credentials-version) and in blocked records, at least 16 characters; empty: unkeyed digests. Every renewer of a release needs the same; the chart generates one into a Secret',
    parse: z
      .string()
      .refine(
        (v) => v === '' || v.length >= 16,
        'digest-key: must be empty or at least 16 characters',
      ),
  },
  {
    flag: 'settings-revision',
    env: ['EATR_SETTINGS_REVISION'],
    components: ['renewer'],
    defaultValue: '0',
    description:
      'when renewers with different settings share a queue, the highest revision takes the jobs (then the last started); the chart sets the Helm release revision',
    ...integer('settings-revision', 0, 2_147_483_647),
  },
  {
    flag: 'job-lock-duration',
    env: ['EATR_JOB_LOCK_DURATION'],
    components: ['renewer'],
    defaultValue: '8s',
    description:
      "a running job's lock, renewed every half of it; a crashed renewer's jobs are free after it",
    ...duration('job-lock-duration', { min: 2000, max: 10 * 60_000 }),
  },
  {
    flag: 'stalled-interval',
    env: ['EATR_STALLED_INTERVAL'],
    components: ['renewer'],
    defaultValue: '2s',
    description: "how often a renewer looks for jobs whose lock expired (a crashed renewer's)",
    ...duration('stalled-interval', { min: 500, max: 10 * 60_000 }),
  },
  {
    flag: 'registries',
    env: ['EATR_REGISTRIES'],
    components: BOTH,
    defaultValue: '',
    description: 'registries for every namespace (comma list), besides labels',
    parse: registryHosts,
  },
  {
    flag: 'max-registries-per-namespace',
    env: ['EATR_MAX_REGISTRIES_PER_NAMESPACE'],
    components: BOTH,
    defaultValue: '20',
    description:
      'most registries one namespace is served (global ones first, then labels in host order); the rest get one Warning Event. Each costs a Secret, a ServiceAccount entry and, if it fails, a blocked record, an Event and a metric series',
    ...integer('max-registries-per-namespace', 1, 1000),
  },
  {
    flag: 'default-allowed-namespaces',
    env: ['EATR_DEFAULT_ALLOWED_NAMESPACES'],
    components: BOTH,
    defaultValue: '*',
    description:
      'which namespaces may use credentials whose Secret has no eatr.io/allowed-namespaces annotation: * (every namespace, as 0.1.x), none (deny by default), or a label selector over namespaces (e.g. eatr.io/tenant in (a,b))',
    parse: defaultAccess,
  },
  {
    flag: 'tenant-roles',
    env: ['EATR_TENANT_ROLES'],
    components: BOTH,
    defaultValue: '',
    description:
      'IAM roles namespaces may name with the eatr.io/role-arn annotation, as a JSON list of {"namespaces": "<label selector>", "roleArns": ["<ARN pattern, * and ? allowed>"], "serviceAccounts": ["<name>", default "default"]}; empty: tenant roles are off. eatr assumes a permitted role with a token of that ServiceAccount (audience sts.amazonaws.com), so the role\'s own trust policy decides too',
    parse: tenantRoles,
  },
  {
    flag: 'served-namespaces',
    env: ['EATR_SERVED_NAMESPACES'],
    components: BOTH,
    defaultValue: '',
    description:
      'the only namespaces this install serves, as a comma list; empty: every namespace. With a list, the chart grants the renewer Secrets in those namespaces and the host namespace alone, and it watches Secrets with one watch per namespace; a labelled namespace outside it gets a NamespaceNotServed Event',
    parse: servedNamespaces,
  },
  {
    flag: 'argocd-registries',
    env: ['EATR_ARGOCD_REGISTRIES'],
    components: BOTH,
    defaultValue: '',
    description:
      'registries (comma list) for which eatr keeps an Argo CD repository credentials Secret (argocd.argoproj.io/secret-type: repo-creds, type helm, OCI) in --argocd-namespace, renewed with the same token as the pull Secrets; empty: none',
    parse: registryHostsOf('argocd-registries'),
  },
  {
    flag: 'argocd-namespace',
    env: ['EATR_ARGOCD_NAMESPACE'],
    components: BOTH,
    defaultValue: 'argocd',
    description:
      'the namespace Argo CD reads repository credentials from (with --argocd-registries; with --served-namespaces it is served too)',
    parse: namespaceName('argocd-namespace'),
  },
  {
    flag: 'include-namespaces',
    env: ['EATR_INCLUDE_NAMESPACES'],
    components: BOTH,
    defaultValue: '*',
    description: 'name globs that --registries applies to',
    parse: z.string().transform(list),
  },
  {
    flag: 'exclude-namespaces',
    env: ['EATR_EXCLUDE_NAMESPACES'],
    components: BOTH,
    defaultValue: 'kube-system,kube-public,kube-node-lease',
    description: 'name globs that --registries skips',
    parse: z.string().transform(list),
  },
  {
    flag: 'kube-api-qps',
    env: ['EATR_KUBE_API_QPS'],
    components: BOTH,
    defaultValue: '50',
    description: 'Kubernetes API requests per second this process may send (0 = unlimited)',
    ...nonNegative('kube-api-qps'),
  },
  {
    flag: 'kube-api-burst',
    env: ['EATR_KUBE_API_BURST'],
    components: BOTH,
    defaultValue: '100',
    description: 'Kubernetes API requests sent at once before --kube-api-qps applies',
    ...integer('kube-api-burst', 1, 100_000),
  },
  {
    flag: 'leader-election-namespace',
    env: ['EATR_LEADER_ELECTION_NAMESPACE'],
    components: ['watcher'],
    description: 'namespace of the leader Lease (default: the host namespace)',
    parse: namespaceName('leader-election-namespace').optional(),
  },
  {
    flag: 'lease-name',
    env: ['EATR_LEASE_NAME'],
    components: ['watcher'],
    defaultValue: 'eatr-watcher',
    description: 'name of the leader Lease',
    parse: z.string().min(1),
  },
  {
    flag: 'lease-duration',
    env: ['EATR_LEASE_DURATION'],
    components: ['watcher'],
    defaultValue: '15s',
    description: 'leader Lease duration; a standby takes over after it lapses',
    ...duration('lease-duration', { min: 2000 }),
  },
  {
    flag: 'watch-timeout',
    env: ['EATR_WATCH_TIMEOUT'],
    components: BOTH,
    defaultValue: '5m',
    description: 'restart a watch that saw nothing for this long (half-open connections)',
    ...duration('watch-timeout', { min: 1000 }),
  },
  {
    flag: 'pod-name',
    env: ['POD_NAME'],
    components: BOTH,
    description: 'identity in the Lease and Events (default: host name)',
    parse: z.string().optional(),
  },
  {
    flag: 'https-proxy',
    env: ['HTTPS_PROXY', 'https_proxy'],
    components: ['renewer'],
    description: 'proxy for HTTPS calls to AWS',
    parse: proxyUrl('HTTPS_PROXY'),
  },
  {
    flag: 'http-proxy',
    env: ['HTTP_PROXY', 'http_proxy'],
    components: ['renewer'],
    description: 'proxy for HTTP calls to AWS',
    parse: proxyUrl('HTTP_PROXY'),
  },
  {
    flag: 'no-proxy',
    env: ['NO_PROXY', 'no_proxy'],
    components: ['renewer'],
    description: 'hosts that bypass the proxy',
    parse: z
      .string()
      .optional()
      .transform((v) => list(v ?? '')),
  },
] as const satisfies readonly Setting[];

/** A setting's name: its long flag without dashes. */
export type SettingName = (typeof SETTINGS)[number]['flag'];
