import { hostname } from 'node:os';
import type { RedisConfig } from './redis-config.js';
import { redisConfigFromSettings } from './redis-settings.js';
import type { Component, SettingSources, SettingValues } from './setting.js';
import { parseSettings, type ParsedSettings } from './settings-schema.js';
import type { LogLevel } from './value-parsers.js';
import type { DefaultAccess } from '../access/credential-access.js';
import type { TenantRoleAllowlist } from '../access/tenant-role.js';
import type { ArgoCdOutput } from '../plan/argocd-output.js';

/** Settings both components share. */
export interface CommonConfig {
  readonly component: Component;
  readonly kubeconfig: string | undefined;
  /** One Redis: a standalone URL, a Sentinel group or a Cluster, with optional TLS. */
  readonly redis: RedisConfig;
  readonly queuePrefix: string;
  readonly hostNamespace: string;
  readonly metrics: { readonly port: number; readonly host: string };
  readonly logLevel: LogLevel;
  /** A Secret whose token is older than this is renewed (the seed's -auth-token-renewal-interval). */
  readonly renewalIntervalMs: number;
  readonly shutdownTimeoutMs: number;
  /** Registries every included namespace gets, on top of its labels. */
  readonly globalRegistries: readonly string[];
  readonly includeNamespaces: readonly string[];
  readonly excludeNamespaces: readonly string[];
  readonly podName: string;
  /** Attempts per sync job on transient errors, and the first retry delay (exponential, jittered). */
  readonly jobAttempts: number;
  readonly jobBackoffMs: number;
  /** Client-side limit on Kubernetes API requests of the whole process (qps 0 = unlimited). */
  readonly kubeApi: { readonly qps: number; readonly burst: number };
  /** ServiceAccounts that get imagePullSecrets (`*` for all); the watcher watches them for drift. */
  readonly serviceAccounts: '*' | readonly string[];
  /** Restart a watch that saw nothing for this long. */
  readonly watchTimeoutMs: number;
  /** Output Secret name template ({{registry}}, {{account}}, {{region}}). */
  readonly secretNameTemplate: string;
  /** This release's name on its Secrets (INSTANCE_LABEL). */
  readonly instance: string;
  /** The most registries one namespace is served. */
  readonly maxRegistriesPerNamespace: number;
  /** Which namespaces may use credentials whose Secret does not say (`--default-allowed-namespaces`). */
  readonly defaultAccess: DefaultAccess;
  /** The IAM roles namespaces may name (`--tenant-roles`); empty: off. */
  readonly tenantRoles: TenantRoleAllowlist;
  /** The only namespaces served (`--served-namespaces`); undefined: every namespace. */
  readonly servedNamespaces: ReadonlySet<string> | undefined;
  /** Argo CD repository credentials (`--argocd-registries`, `--argocd-namespace`); no registries: off. */
  readonly argoCd: ArgoCdOutput;
  /** How long Redis may refuse the credentials before /healthz fails. */
  readonly redisUnhealthyAfterMs: number;
}

export interface RenewerConfig extends CommonConfig {
  readonly component: 'renewer';
  readonly concurrency: number;
  readonly dockerEmail: string | undefined;
  /** Written on every Secret eatr writes (`--secret-labels`, `--secret-annotations`). */
  readonly secretLabels: Readonly<Record<string, string>>;
  readonly secretAnnotations: Readonly<Record<string, string>>;
  readonly usePodIdentity: boolean;
  /** Delete controller-owned Pods stuck pulling from a registry a sync just served (`--recover-stuck-pods`). */
  readonly recoverStuckPods: boolean;
  readonly ecrMaxAttempts: number;
  readonly ecrTimeoutMs: number;
  /** Longest retry delay of a job (capped exponential backoff), and the probe interval. */
  readonly jobBackoffMaxMs: number;
  /** BullMQ job lock (renewed every half) and stalled-job check: how soon a crashed renewer's jobs run elsewhere. */
  readonly jobLockDurationMs: number;
  readonly stalledIntervalMs: number;
  /** Which settings win among renewers with different ones: the highest revision, then the last started. */
  readonly settingsRevision: number;
  /** Key of the credential digests; undefined: unkeyed. Never logged. */
  readonly digestKey: Buffer | undefined;
  readonly proxy: {
    readonly https: string | undefined;
    readonly http: string | undefined;
    readonly noProxy: readonly string[];
  };
}

export interface WatcherConfig extends CommonConfig {
  readonly component: 'watcher';
  readonly sweepIntervalMs: number;
  readonly leaderElection: {
    readonly namespace: string;
    readonly leaseName: string;
    readonly leaseDurationMs: number;
  };
}

/**
 * A component's configuration from setting values (by setting name, flags and environment already
 * merged; an unset one takes its default). `sources` says how each value was given, for errors.
 * Throws ConfigError naming the first bad setting.
 */
export function buildConfig(
  component: 'renewer',
  values: SettingValues,
  sources?: SettingSources,
): RenewerConfig;
export function buildConfig(
  component: 'watcher',
  values: SettingValues,
  sources?: SettingSources,
): WatcherConfig;
export function buildConfig(
  component: Component,
  values: SettingValues,
  sources?: SettingSources,
): RenewerConfig | WatcherConfig;
export function buildConfig(
  component: Component,
  values: SettingValues,
  sources: SettingSources = {},
): RenewerConfig | WatcherConfig {
  const parsed = parseSettings(values, sources);
  return build(component, parsed, redisConfigFromSettings(parsed));
}

function build(
  component: Component,
  c: ParsedSettings,
  redis: RedisConfig,
): RenewerConfig | WatcherConfig {
  const common: Omit<CommonConfig, 'component'> = {
    kubeconfig: c.kubeconfig,
    redis,
    queuePrefix: c['queue-prefix'],
    hostNamespace: c['host-namespace'],
    metrics: { port: c['metrics-port'], host: c['metrics-host'] },
    logLevel: c['log-level'],
    renewalIntervalMs: c['renewal-interval'],
    shutdownTimeoutMs: c['shutdown-timeout'],
    globalRegistries: c.registries,
    includeNamespaces: c['include-namespaces'],
    excludeNamespaces: c['exclude-namespaces'],
    podName: c['pod-name'] ?? hostname(),
    jobAttempts: c['job-attempts'],
    jobBackoffMs: c['job-backoff'],
    kubeApi: { qps: c['kube-api-qps'], burst: c['kube-api-burst'] },
    serviceAccounts: c['service-accounts'],
    watchTimeoutMs: c['watch-timeout'],
    secretNameTemplate: c['secret-name-template'],
    instance: c.instance,
    maxRegistriesPerNamespace: c['max-registries-per-namespace'],
    defaultAccess: c['default-allowed-namespaces'],
    tenantRoles: c['tenant-roles'],
    // Argo CD's namespace is served by whoever asks for its repository credentials.
    servedNamespaces:
      c['served-namespaces'] && c['argocd-registries'].length > 0
        ? new Set([...c['served-namespaces'], c['argocd-namespace']])
        : c['served-namespaces'],
    argoCd: { namespace: c['argocd-namespace'], registries: c['argocd-registries'] },
    redisUnhealthyAfterMs: c['redis-unhealthy-after'],
  };
  if (component === 'renewer') {
    return {
      ...common,
      component,
      concurrency: c.concurrency,
      dockerEmail: c['docker-email'] || undefined,
      secretLabels: c['secret-labels'],
      secretAnnotations: c['secret-annotations'],
      usePodIdentity: c['use-pod-identity'],
      recoverStuckPods: c['recover-stuck-pods'],
      ecrMaxAttempts: c['ecr-max-attempts'],
      ecrTimeoutMs: c['ecr-timeout'],
      jobBackoffMaxMs: c['job-backoff-max'],
      jobLockDurationMs: c['job-lock-duration'],
      stalledIntervalMs: c['stalled-interval'],
      settingsRevision: c['settings-revision'],
      digestKey: c['digest-key'] === '' ? undefined : Buffer.from(c['digest-key'], 'utf8'),
      proxy: { https: c['https-proxy'], http: c['http-proxy'], noProxy: c['no-proxy'] },
    };
  }
  return {
    ...common,
    component,
    sweepIntervalMs: c['sweep-interval'],
    leaderElection: {
      namespace: c['leader-election-namespace'] ?? c['host-namespace'],
      leaseName: c['lease-name'],
      leaseDurationMs: c['lease-duration'],
    },
  };
}
