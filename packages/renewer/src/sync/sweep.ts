import { setImmediate } from 'node:timers/promises';
import {
  RetryableError,
  formatBlockedKey,
  parseBlockedKey,
  parseBlockedSubject,
  planNamespace,
  planSettingsOf,
  serviceAccountKey,
  type BlockedEntry,
  type Logger,
  type RenewerMetrics,
  type SweepJobData,
  type SyncJobData,
} from '@eatr/core';
import type {
  BlockedRecords,
  ClusterView,
  CredentialSource,
  JobSink,
  KubeWrites,
  SyncSettings,
} from './ports.js';
import { namespaceView } from './namespace-view.js';

export interface SweepDependencies {
  /** What the job asked for; default a scheduled sweep. */
  readonly job?: SweepJobData;
  readonly view: ClusterView;
  readonly kube: KubeWrites;
  readonly jobs: JobSink;
  readonly credentials: CredentialSource;
  readonly blocked: BlockedRecords;
  readonly config: SyncSettings;
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

/** How long a sweep waits for the renewer's watches to catch up with the change that caused it. */
const CACHE_CATCH_UP_MS = 2000;
/** Namespaces planned between two turns of the event loop. */
const PLAN_SLICE = 100;
/** Enqueues in flight at once: a 10,000-namespace wave is queued in seconds, not minutes. */
const ENQUEUE_CONCURRENCY = 32;

/**
 * The periodic safety net, from the renewer's watch caches: enqueues a low-priority sync for each
 * namespace whose plan has work (a Secret missing or due, an eatr Secret it no longer wants, a wired
 * ServiceAccount to change). A sweep over fresh Secrets makes no API request and enqueues nothing.
 * Work held by an unchanged block is skipped; a registry AWS denied is synced through one namespace
 * every AWS_RECHECK_MS, which restarts its probe chain.
 */
export async function sweep(d: SweepDependencies): Promise<SweepResult> {
  const { view } = d;
  const waitFor = d.job?.waitFor ?? [];
  // A credential change the watcher saw (by its metadata): sweep only credentials at least that new,
  // or the change would be missed until the next scheduled sweep.
  for (const w of waitFor)
    if (!(await view.waitFor(w.resource, w.resourceVersion, CACHE_CATCH_UP_MS)))
      throw new RetryableError(
        `the ${w.resource} cache has not seen resourceVersion ${w.resourceVersion} yet`,
        'cache-behind',
      );
  const now = (d.now ?? Date.now)();
  const settings = planSettingsOf(d.config);
  const allBlocked = await d.blocked.all();
  const byNamespace = blockedByNamespace(allBlocked);
  const { foreign, apiRequests } = await foreignVersions(d.kube, allBlocked);
  const probed = new Set<string>(); // registries one namespace already re-asks AWS for
  const due: string[] = [];
  const stillWanted = new Set<string>(); // blocked keys that some namespace still needs
  let namespaces = 0;
  let optedIn = 0;
  let skipped = 0;
  for (const ns of view.allNamespaces()) {
    // Planning is synchronous: without a pause, 10,000 namespaces would hold the event loop for
    // about a second, and an event's sync (a namespace just labelled) would wait behind it.
    if (namespaces > 0 && namespaces % PLAN_SLICE === 0) await setImmediate();
    namespaces++;
    const name = ns.metadata.name;
    const blocked = byNamespace.get(name);
    const plan = planNamespace({
      namespace: namespaceView(view, ns),
      settings,
      credentials: (host) => d.credentials.resolve(host),
      access: (host) => d.credentials.access(host),
      roleCredentials: (role) => d.credentials.resolveRole(role),
      ...(blocked ? { blocked } : {}),
      ...(foreign.has(name) ? { foreignVersions: foreign.get(name) } : {}),
      now,
    });
    if (plan.gone) continue;
    if (plan.secrets.length > 0) optedIn++;
    for (const s of plan.secrets) stillWanted.add(formatKey(name, s.secretName));
    for (const sa of view.serviceAccountsIn(name))
      stillWanted.add(formatKey(name, serviceAccountKey(sa.metadata.name)));
    let work = plan.work.length > 0 || plan.serviceAccounts.length > 0;
    for (const held of plan.held) {
      // AWS may have been fixed outside the cluster: one namespace per registry finds out.
      if (held.awsRecheckDue && !probed.has(held.entry.registry)) {
        probed.add(held.entry.registry);
        work = true;
      } else skipped++;
    }
    if (work) due.push(name);
  }
  // Records of namespaces that are gone or no longer ask for that registry would grow forever.
  await d.blocked.clearKeys([...allBlocked.keys()].filter((key) => !stillWanted.has(key)));
  const enqueued = await enqueueAll(d, due);
  d.metrics.sweepEnqueued.inc(enqueued);
  return { namespaces, optedIn, enqueued, blocked: skipped, apiRequests };
}

const formatKey = (namespace: string, subject: string) =>
  formatBlockedKey({ namespace, subject: parseBlockedSubject(subject) });

/** The blocked records of each namespace, by subject (what planNamespace takes). */
function blockedByNamespace(
  all: ReadonlyMap<string, BlockedEntry>,
): Map<string, Map<string, BlockedEntry>> {
  const out = new Map<string, Map<string, BlockedEntry>>();
  for (const [field, entry] of all) {
    const key = parseBlockedKey(field);
    if (!key) continue;
    let entries = out.get(key.namespace);
    if (!entries) out.set(key.namespace, (entries = new Map<string, BlockedEntry>()));
    const { subject } = key;
    entries.set(subject.kind === 'secret' ? subject.name : serviceAccountKey(subject.name), entry);
  }
  return out;
}

/** Enqueues a sync for each namespace, ENQUEUE_CONCURRENCY at a time; returns how many were new. */
async function enqueueAll(d: SweepDependencies, due: readonly string[]): Promise<number> {
  const waitFor = d.job?.waitFor ?? [];
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
        if (await d.jobs.enqueueSync(job)) enqueued++;
      }
    }),
  );
  return enqueued;
}

/**
 * The current version of each foreign Secret that blocks a namespace (namespace -> Secret name ->
 * version), one list per distinct Secret name (per blocked namespace when only served namespaces may be
 * read) and none when nothing is blocked by a conflict: the
 * only API requests a sweep makes. A conflict ends when that Secret changes or goes.
 */
async function foreignVersions(
  kube: KubeWrites,
  blocked: ReadonlyMap<string, BlockedEntry>,
): Promise<{ foreign: Map<string, Map<string, string>>; apiRequests: number }> {
  const names = new Map<string, Set<string>>(); // Secret name -> namespaces it blocks
  for (const [field, entry] of blocked) {
    const key = parseBlockedKey(field);
    if (entry.reason !== 'conflict' || key?.subject.kind !== 'secret') continue;
    let namespaces = names.get(key.subject.name);
    if (!namespaces) names.set(key.subject.name, (namespaces = new Set()));
    namespaces.add(key.namespace);
  }
  const foreign = new Map<string, Map<string, string>>();
  let apiRequests = 0;
  for (const [name, namespaces] of names) {
    const { versions, requests } = await kube.foreignSecretVersions(name, namespaces);
    apiRequests += requests;
    for (const [namespace, version] of versions) {
      let byName = foreign.get(namespace);
      if (!byName) foreign.set(namespace, (byName = new Map<string, string>()));
      byName.set(name, version);
    }
  }
  return { foreign, apiRequests };
}
