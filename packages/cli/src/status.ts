import type {
  V1ManagedFieldsEntry,
  V1Namespace,
  V1Secret,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import {
  REDIS_MEMORY_WARN_RATIO,
  accessRuleOf,
  credentialSecretName,
  describeError,
  PULL_SECRETS_LABEL,
  argoCdPlanOf,
  globalRegistriesOf,
  kubeStatus,
  parseRedisMemory,
  redisMemoryRatio,
  type AccessRule,
  type RedisMemory,
} from '@eatr/core';
import { BlockedStore, parseBlockedKey } from '@eatr/core';
import type { Cli } from './context.js';
import { formatStructured, humanDuration, paint, table, type OutputFormat } from './output.js';
import {
  SECRET_STATES,
  statusRows,
  summarize,
  type BlockedInput,
  type SecretState,
  type StatusRow,
  type StatusSummary,
} from './status-model.js';

export interface StatusOptions {
  /** One namespace (-n), or every one (undefined). */
  readonly namespace: string | undefined;
  readonly output: OutputFormat;
}

export interface WatcherStatus {
  readonly lease: string;
  readonly holder: string | undefined;
  readonly renewedAt: string | undefined;
  /** The holder renewed within its lease duration (by the API server's clock, as recorded). */
  readonly fresh: boolean;
  readonly error?: string;
}

export interface QueueStatus {
  readonly counts?: Readonly<Record<string, number>>;
  readonly workers?: number;
  /** Redis's used memory and maxmemory (INFO memory), when it reports them. */
  readonly memory?: RedisMemory;
  readonly error?: string;
}

export interface Status {
  readonly items: readonly StatusRow[];
  readonly summary: StatusSummary;
  readonly watcher: WatcherStatus;
  readonly queue: QueueStatus;
}

const lastWrite = (fields: readonly V1ManagedFieldsEntry[] | undefined): number | undefined => {
  const times = (fields ?? [])
    .map((f) => (f.time ? new Date(f.time).getTime() : Number.NaN))
    .filter((t) => !Number.isNaN(t));
  return times.length > 0 ? Math.max(...times) : undefined;
};

/** Reads what status needs from the cluster and Redis, and decides each row (pure, status-model.ts). */
export async function collectStatus(cli: Cli, namespace: string | undefined): Promise<Status> {
  const core = cli.core;
  const [namespaces, secrets, accounts] = await Promise.all([
    namespace === undefined
      ? core.listNamespace().then((l) => l.items)
      : core.readNamespace({ name: namespace }).then((n): V1Namespace[] => [n]),
    namespace === undefined
      ? core.listSecretForAllNamespaces().then((l) => l.items)
      : core.listNamespacedSecret({ namespace }).then((l) => l.items),
    namespace === undefined
      ? core.listServiceAccountForAllNamespaces().then((l) => l.items)
      : core.listNamespacedServiceAccount({ namespace }).then((l) => l.items),
  ]);
  const [blocked, watcher, queue, credentials] = await Promise.all([
    readBlocked(cli),
    watcherStatus(cli),
    queueStatus(cli),
    readCredentials(cli),
  ]);
  const items = statusRows({
    namespaces: namespaces.map((n) => ({
      name: n.metadata?.name ?? '',
      labels: n.metadata?.labels ?? {},
      ...(n.metadata?.annotations ? { annotations: n.metadata.annotations } : {}),
    })),
    secrets: secrets.map((s: V1Secret) => ({
      namespace: s.metadata?.namespace ?? '',
      name: s.metadata?.name ?? '',
      type: s.type,
      labels: s.metadata?.labels ?? {},
      annotations: s.metadata?.annotations ?? {},
      writtenAt: lastWrite(s.metadata?.managedFields),
    })),
    serviceAccounts: accounts.map((a: V1ServiceAccount) => ({
      namespace: a.metadata?.namespace ?? '',
      name: a.metadata?.name ?? '',
      imagePullSecrets: (a.imagePullSecrets ?? []).flatMap((r) => (r.name ? [r.name] : [])),
      pullSecretsLabel: a.metadata?.labels?.[PULL_SECRETS_LABEL],
    })),
    blocked,
    global: globalRegistriesOf(cli.watcher),
    secretNameTemplate: cli.watcher.secretNameTemplate,
    instance: cli.watcher.instance,
    maxRegistries: cli.watcher.maxRegistriesPerNamespace,
    wantedServiceAccounts: cli.watcher.serviceAccounts,
    tenantRoles: cli.watcher.tenantRoles,
    servedNamespaces: cli.watcher.servedNamespaces,
    argoCd: argoCdPlanOf(cli.watcher.argoCd),
    ...(credentials ? { access: credentials.access, credentialSource: credentials.source } : {}),
    now: Date.now(),
  });
  return { items, summary: summarize(items), watcher, queue };
}

/** What the CLI knows of each registry's credentials, from the host namespace. */
export interface CredentialsView {
  /** The access rule: the credential Secret's annotation, else the release's default. */
  readonly access: (registryHost: string) => AccessRule;
  /** Where the registry's tokens come from: `<namespace>/<Secret>`, `pod identity`, or `none`. */
  readonly source: (registryHost: string) => string;
}

/**
 * The credential Secrets' names and annotations in the host namespace (with your kubeconfig, never
 * their data); undefined when they cannot be read, and then nothing shows as refused.
 */
export async function readCredentials(cli: Cli): Promise<CredentialsView | undefined> {
  const host = cli.watcher.hostNamespace;
  try {
    const secrets = await cli.core.listNamespacedSecret({ namespace: host });
    // Each Secret's rule parsed once, not once per namespace that asks for its registry.
    const rules = new Map(
      secrets.items.map((s) => [
        s.metadata?.name ?? '',
        accessRuleOf(s.metadata?.annotations, cli.watcher.defaultAccess),
      ]),
    );
    return {
      access: (registry) => rules.get(credentialSecretName(registry)) ?? cli.watcher.defaultAccess,
      source: (registry) =>
        rules.has(credentialSecretName(registry))
          ? `${host}/${credentialSecretName(registry)}`
          : cli.renewer.usePodIdentity
            ? 'pod identity'
            : 'none',
    };
  } catch {
    return undefined;
  }
}

/**
 * Why each of a namespace's Secrets is blocked, by Secret name, as the renewers recorded it;
 * undefined when Redis cannot be read.
 */
export async function readBlockedIn(
  cli: Cli,
  namespace: string,
): Promise<Map<string, string> | undefined> {
  const all = await readBlocked(cli);
  if (all === undefined) return undefined;
  return new Map(
    [...all.entries()].flatMap(([key, entry]) => {
      const k = parseBlockedKey(key);
      return k?.namespace === namespace && k.subject.kind === 'secret'
        ? [[k.subject.name, entry.reason] as const]
        : [];
    }),
  );
}

async function readBlocked(cli: Cli): Promise<Map<string, BlockedInput> | undefined> {
  try {
    return await new BlockedStore(cli.redis, cli.watcher.queuePrefix).all();
  } catch {
    return undefined; // reported by queueStatus, which fails the same way
  }
}

export async function watcherStatus(cli: Cli): Promise<WatcherStatus> {
  const { namespace, leaseName } = cli.watcher.leaderElection;
  const lease = `${namespace}/${leaseName}`;
  try {
    const l = await cli.coordination.readNamespacedLease({ namespace, name: leaseName });
    const renewed = l.spec?.renewTime ? new Date(l.spec.renewTime).getTime() : undefined;
    const durationMs = (l.spec?.leaseDurationSeconds ?? 15) * 1000;
    const holder = l.spec?.holderIdentity || undefined;
    return {
      lease,
      holder,
      renewedAt: renewed === undefined ? undefined : new Date(renewed).toISOString(),
      fresh: holder !== undefined && renewed !== undefined && Date.now() - renewed < durationMs,
    };
  } catch (error) {
    // No Lease: no watcher has ever led with these settings (or it was deleted).
    if (kubeStatus(error) === 404)
      return { lease, holder: undefined, renewedAt: undefined, fresh: false };
    return {
      lease,
      holder: undefined,
      renewedAt: undefined,
      fresh: false,
      error: describeError(error),
    };
  }
}

export async function queueStatus(cli: Cli): Promise<QueueStatus> {
  try {
    const counts = await cli.queue.getJobCounts(
      'waiting',
      'prioritized',
      'active',
      'delayed',
      'failed',
    );
    const workers = await cli.queue.getWorkersCount().catch(() => undefined);
    const memory = await cli.redis
      .info('memory')
      .then(parseRedisMemory)
      .catch(() => undefined);
    return {
      counts,
      ...(workers === undefined ? {} : { workers }),
      ...(memory === undefined ? {} : { memory }),
    };
  } catch (error) {
    return { error: `Redis: ${describeError(error)}` };
  }
}

const STATE_STYLE: Record<SecretState, Parameters<typeof paint>[0]> = {
  fresh: 'green',
  due: 'yellow',
  expiring: 'yellow',
  expired: 'red',
  missing: 'red',
  conflict: 'red',
  blocked: 'red',
  refused: 'yellow',
  ignored: 'yellow',
};

export function renderStatus(status: Status, format: OutputFormat, now = Date.now()): string {
  if (format === 'json' || format === 'yaml') return formatStructured(format, status);
  const wide = format === 'wide';
  const headers = [
    'NAMESPACE',
    'REGISTRY',
    ...(wide ? ['SECRET'] : []),
    'STATE',
    'EXPIRES IN',
    ...(wide ? ['RENEW IN'] : []),
    'LAST RENEWAL',
    'SERVICEACCOUNTS',
    ...(wide ? ['CREDENTIALS', 'REASON'] : []),
  ];
  const until = (iso: string | undefined) =>
    iso === undefined ? '-' : humanDuration(Date.parse(iso) - now);
  const ago = (iso: string | undefined) =>
    iso === undefined ? '-' : `${humanDuration(now - Date.parse(iso))} ago`;
  const rows = status.items.map((r) => {
    const state =
      (r.state === 'blocked' || r.state === 'refused') && !wide
        ? `${r.state} (${r.reason ?? 'unknown'})`
        : r.state;
    return [
      r.namespace,
      r.registry,
      ...(wide ? [r.secret] : []),
      paint(STATE_STYLE[r.state], state),
      until(r.expiresAt),
      ...(wide ? [until(r.renewAfter)] : []),
      ago(r.lastRenewal),
      r.serviceAccounts.wanted === 0
        ? '-'
        : `${r.serviceAccounts.wired}/${r.serviceAccounts.wanted}`,
      ...(wide ? [r.credentials ?? '-', r.reason ?? '-'] : []),
    ];
  });
  const lines: string[] = [];
  if (rows.length > 0) lines.push(table(headers, rows), '');
  lines.push(
    summaryLine(status.summary),
    watcherLine(status.watcher, now),
    queueLine(status.queue),
  );
  return lines.join('\n');
}

function summaryLine(s: StatusSummary): string {
  if (s.secrets === 0)
    return 'No namespace asks eatr for a registry (label one with <registry host>=true).';
  const parts = SECRET_STATES.filter((st) => (s.byState[st] ?? 0) > 0).map((st) =>
    paint(STATE_STYLE[st], `${s.byState[st] ?? 0} ${st}`),
  );
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return `${plural(s.secrets, 'Secret')} in ${plural(s.namespaces, 'namespace')}: ${parts.join(', ')}`;
}

function watcherLine(w: WatcherStatus, now: number): string {
  if (w.error !== undefined)
    return `Watcher: ${paint('red', `Lease ${w.lease} unreadable`)} (${w.error})`;
  if (w.holder === undefined)
    return `Watcher: ${paint('red', 'no leader')} (Lease ${w.lease} is not held; is eatr-watcher running?)`;
  const renewed =
    w.renewedAt === undefined
      ? ''
      : `, renewed ${humanDuration(now - Date.parse(w.renewedAt))} ago`;
  return w.fresh
    ? `Watcher: leader ${w.holder}${renewed}`
    : `Watcher: ${paint('red', 'leader lapsed')}: ${w.holder}${renewed}`;
}

function queueLine(q: QueueStatus): string {
  if (q.error !== undefined || q.counts === undefined)
    return `Queue: ${paint('red', q.error ?? 'unknown')}`;
  const c = q.counts;
  const waiting = (c.waiting ?? 0) + (c.prioritized ?? 0);
  const failed = c.failed ?? 0;
  const workers =
    q.workers === undefined ? '' : `; ${q.workers} worker${q.workers === 1 ? '' : 's'}`;
  return `Queue: ${waiting} waiting, ${c.active ?? 0} active, ${c.delayed ?? 0} delayed, ${failed === 0 ? '0 failed' : paint('red', `${failed} failed`)}${workers}${memoryPart(q.memory)}`;
}

function memoryPart(memory: RedisMemory | undefined): string {
  if (memory === undefined) return '';
  const mib = (bytes: number) => `${Math.round(bytes / 1048576)} MiB`;
  const ratio = redisMemoryRatio(memory);
  if (ratio === undefined || memory.maxBytes === undefined)
    return `; Redis ${mib(memory.usedBytes)}`;
  const text = `Redis ${mib(memory.usedBytes)} of ${mib(memory.maxBytes)}`;
  return `; ${ratio > REDIS_MEMORY_WARN_RATIO ? paint('red', text) : text}`;
}
