import type { CoreV1Api } from '@kubernetes/client-node';
import type { Queue } from 'bullmq';
import {
  CREDENTIALS_VERSION_ANNOTATION,
  RetryableError,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  decideSecrets,
  decideServiceAccounts,
  desiredRegistries,
  enqueueSync,
  globalRegistriesOf,
  nameOutputSecrets,
  type Logger,
  type RenewerConfig,
  type RenewerMetrics,
  type SweepJobData,
  type SyncJobData,
} from '@eatr/core';
import type { ClusterCache } from '../cache/cluster-cache.js';
import type { CredentialResolver } from '../credentials/credential-resolver.js';
import { desiredSecret } from './desired-secret.js';
import {
  LOCAL_REASONS,
  blockedFingerprint,
  serviceAccountFingerprint,
  serviceAccountKey,
  type BlockedEntry,
  type BlockedStore,
} from './blocked-store.js';

export interface SweepDependencies {
  /** What the job asked for; default a scheduled sweep. */
  readonly job?: SweepJobData;
  readonly core: CoreV1Api;
  readonly queue: Queue;
  readonly cache: ClusterCache;
  readonly credentials: CredentialResolver;
  readonly blocked: BlockedStore;
  readonly config: RenewerConfig;
  readonly metrics: RenewerMetrics;
  readonly log: Logger;
  readonly now?: () => number;
}

export interface SweepResult {
  readonly namespaces: number;
  readonly optedIn: number;
  readonly enqueued: number;
  /** Pairs skipped because the cause that blocks them has not changed. */
  readonly blocked: number;
  /** API requests the sweep itself made (only to look at foreign Secrets that block namespaces). */
  readonly apiRequests: number;
}

/**
 * How often a sweep syncs one namespace of a registry AWS denied. The registry's probe chain asks
 * AWS every minute (enqueueProbe); this only restarts a chain that was lost (Redis flushed).
 */
export const AWS_RECHECK_MS = 10 * 60_000;
/** How long a sweep waits for the renewer's watches to catch up with the change that caused it. */
const CACHE_CATCH_UP_MS = 2000;
/** Enqueues in flight at once: a 10,000-namespace wave is queued in seconds, not minutes. */
const ENQUEUE_CONCURRENCY = 32;

/**
 * The periodic safety net, from the renewer's watch caches: enqueues a low-priority sync for each
 * namespace with a Secret missing or due, an eatr Secret it no longer wants, or a wired ServiceAccount
 * that lacks (or has a stale) entry. A sweep over fresh Secrets makes no API request and enqueues
 * nothing. A Secret blocked by a cause that has not changed (see BlockedStore) is skipped; a registry
 * AWS denied is synced through one namespace every AWS_RECHECK_MS, which restarts its probe chain.
 */
export async function sweep(d: SweepDependencies): Promise<SweepResult> {
  const { cache, config } = d;
  const waitFor = d.job?.waitFor ?? [];
  // A credential change the watcher saw (by its metadata): sweep only credentials at least that new,
  // or the change would be missed until the next scheduled sweep.
  for (const w of waitFor)
    if (!(await cache.waitFor(w.resource, w.resourceVersion, CACHE_CATCH_UP_MS)))
      throw new RetryableError(
        `the ${w.resource} cache has not seen resourceVersion ${w.resourceVersion} yet`,
        'cache-behind',
      );
  const now = (d.now ?? Date.now)();
  const blockedEntries = await d.blocked.all();
  const { foreign, apiRequests } = await foreignVersions(d, blockedEntries);
  const global = globalRegistriesOf(config);
  const probed = new Set<string>();
  const due: string[] = [];
  const stillWanted = new Set<string>(); // `namespace/secretName` of every Secret some namespace wants
  let optedIn = 0;
  let skipped = 0;
  for (const ns of cache.namespaces.objects.values()) {
    const name = ns.metadata.name;
    if (ns.metadata.terminating) continue;
    const { registries } = desiredRegistries(name, ns.metadata.labels, global);
    const secrets = cache.secretsIn(name);
    if (registries.length === 0 && secrets.length === 0) continue;
    if (registries.length > 0) optedIn++;
    const { named } = nameOutputSecrets(config.secretNameTemplate, registries);
    for (const n of named) stillWanted.add(`${name}/${n.secretName}`);
    const states = new Map(
      named.map((n) => [n.secretName, d.credentials.resolve(n.registry.host)]),
    );
    const desired = named.map(({ registry, secretName }) =>
      desiredSecret(
        registry.host,
        secretName,
        states.get(secretName),
        secrets.find((s) => s.metadata.name === secretName)?.observed.annotations[
          CREDENTIALS_VERSION_ANNOTATION
        ],
      ),
    );
    const work = decideSecrets(
      secrets.map((s) => s.observed),
      desired,
      now,
    ).filter((action) => {
      if (action.kind === 'leave' || action.kind === 'conflict') return false;
      if (action.kind === 'delete') return true;
      const entry = blockedEntries.get(`${name}/${action.secretName}`);
      if (!entry) return true;
      const state = states.get(action.secretName)?.state ?? '';
      const foreignVersion =
        entry.reason === 'conflict'
          ? (foreign.get(`${name}/${action.secretName}`) ?? 'gone')
          : undefined;
      if (entry.fingerprint !== blockedFingerprint(entry.registry, state, foreignVersion))
        return true;
      // AWS may have been fixed outside the cluster: one namespace per registry finds out.
      if (
        !LOCAL_REASONS.has(entry.reason) &&
        now - (entry.checkedAt ?? entry.since) >= AWS_RECHECK_MS
      ) {
        if (!probed.has(entry.registry)) {
          probed.add(entry.registry);
          return true;
        }
      }
      skipped++;
      return false;
    });
    const served = named
      .map((n) => n.secretName)
      .filter((secretName) => secrets.some((s) => s.metadata.name === secretName));
    const accounts = cache.serviceAccountsIn(name);
    for (const sa of accounts) stillWanted.add(`${name}/${serviceAccountKey(sa.metadata.name)}`);
    const accountsDrift = decideServiceAccounts(
      accounts.map((sa) => sa.observed),
      config.serviceAccounts,
      served,
    ).some((change) => {
      // A change the API server refused stays refused until the ServiceAccount or the entries change.
      const entry = blockedEntries.get(`${name}/${serviceAccountKey(change.name)}`);
      const sa = accounts.find((a) => a.metadata.name === change.name);
      return (
        entry?.fingerprint !==
        serviceAccountFingerprint(sa?.metadata.resourceVersion ?? '', change.imagePullSecrets)
      );
    });
    if (work.length > 0 || accountsDrift) due.push(name);
  }
  // Records of namespaces that are gone or no longer ask for that registry would grow forever.
  await d.blocked.clearKeys([...blockedEntries.keys()].filter((key) => !stillWanted.has(key)));
  let enqueued = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(ENQUEUE_CONCURRENCY, due.length) }, async () => {
      while (next < due.length) {
        const namespace = due[next++] ?? '';
        // After a credential change, a namespace with work is an event, not bulk: it goes first.
        const job: SyncJobData =
          d.job?.reason === 'credentials'
            ? { namespace, reason: 'credentials', ...(waitFor.length > 0 ? { waitFor } : {}) }
            : { namespace, reason: 'sweep' };
        if (await enqueueSync(d.queue, job)) enqueued++;
      }
    }),
  );
  d.metrics.sweepEnqueued.inc(enqueued);
  return {
    namespaces: cache.namespaces.objects.size,
    optedIn,
    enqueued,
    blocked: skipped,
    apiRequests,
  };
}

/**
 * The current version of each foreign Secret that blocks a namespace (`namespace/name` -> version),
 * one list per distinct Secret name and none when nothing is blocked by a conflict: the only API
 * requests a sweep makes. A conflict ends when that Secret changes or goes.
 */
async function foreignVersions(
  d: SweepDependencies,
  blocked: ReadonlyMap<string, BlockedEntry>,
): Promise<{ foreign: Map<string, string>; apiRequests: number }> {
  const names = new Set<string>();
  for (const [key, entry] of blocked)
    if (entry.reason === 'conflict') names.add(key.slice(key.indexOf('/') + 1));
  const foreign = new Map<string, string>();
  let apiRequests = 0;
  for (const name of names) {
    let _continue: string | undefined;
    do {
      apiRequests++;
      const page = await d.core.listSecretForAllNamespaces({
        fieldSelector: `metadata.name=${name}`,
        labelSelector: `${MANAGED_BY_LABEL}!=${MANAGED_BY_VALUE}`,
        limit: 500,
        ...(_continue ? { _continue } : {}),
      });
      for (const s of page.items)
        foreign.set(`${s.metadata?.namespace ?? ''}/${name}`, s.metadata?.resourceVersion ?? '');
      _continue = page.metadata?._continue;
    } while (_continue);
  }
  return { foreign, apiRequests };
}
