import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import type { Queue } from 'bullmq';
import {
  CREDENTIALS_VERSION_ANNOTATION,
  MANAGED_SELECTOR,
  registryOfCredentialSecret,
  desiredRegistries,
  enqueueSync,
  needsSync,
  nameOutputSecrets,
  type DesiredSecret,
  type Logger,
  type ObservedSecret,
  type RenewerConfig,
  type RenewerMetrics,
} from '@eatr/core';
import { POD_IDENTITY_VERSION } from '../credentials/credential-resolver.js';

export interface SweepDependencies {
  readonly core: CoreV1Api;
  readonly queue: Queue;
  readonly config: RenewerConfig;
  readonly metrics: RenewerMetrics;
  readonly log: Logger;
  readonly now?: () => number;
}

export interface SweepResult {
  readonly namespaces: number;
  readonly optedIn: number;
  readonly enqueued: number;
}

const PAGE = 500;

/**
 * The periodic safety net: lists every namespace and every eatr Secret, and enqueues a sync for each
 * opted-in namespace with a Secret missing or due (or with eatr Secrets it no longer wants). A sweep
 * over fresh Secrets enqueues, and so writes, nothing.
 */
export async function sweep(d: SweepDependencies): Promise<SweepResult> {
  const now = (d.now ?? Date.now)();
  const [namespaces, managed, credentialVersions] = await Promise.all([
    listNamespaces(d.core),
    listManagedSecrets(d.core),
    listCredentialVersions(d),
  ]);
  const byNamespace = new Map<string, ObservedSecret[]>();
  for (const s of managed) {
    const ns = s.metadata?.namespace ?? '';
    const list = byNamespace.get(ns) ?? [];
    list.push({
      name: s.metadata?.name ?? '',
      type: s.type,
      labels: s.metadata?.labels ?? {},
      annotations: s.metadata?.annotations ?? {},
    });
    byNamespace.set(ns, list);
  }
  const global = {
    registries: d.config.globalRegistries,
    include: d.config.includeNamespaces,
    exclude: d.config.excludeNamespaces,
  };
  let optedIn = 0;
  let enqueued = 0;
  for (const ns of namespaces) {
    const name = ns.metadata?.name;
    if (!name || ns.metadata?.deletionTimestamp) continue;
    const { registries } = desiredRegistries(name, ns.metadata?.labels, global);
    const observed = byNamespace.get(name) ?? [];
    if (registries.length === 0 && observed.length === 0) continue;
    if (registries.length > 0) optedIn++;
    const { named } = nameOutputSecrets(d.config.secretNameTemplate, registries);
    const desired: DesiredSecret[] = named.map(({ registry: r, secretName }) => {
      const current = observed.find((o) => o.name === secretName)?.annotations[
        CREDENTIALS_VERSION_ANNOTATION
      ];
      const version =
        credentialVersions.get(r.host) ??
        (d.config.usePodIdentity ? POD_IDENTITY_VERSION : (current ?? 'unavailable'));
      return { registry: r.host, secretName, credentialsVersion: version };
    });
    // Only eatr's Secrets are listed, so a same-named foreign Secret looks missing; the sync then reports
    // the conflict (and its Event is rate-limited).
    if (needsSync(observed, desired, now)) {
      if (await enqueueSync(d.queue, { namespace: name, reason: 'sweep' })) enqueued++;
    }
  }
  d.metrics.sweepEnqueued.inc(enqueued);
  return { namespaces: namespaces.length, optedIn, enqueued };
}

async function listNamespaces(core: CoreV1Api) {
  const items = [];
  let _continue: string | undefined;
  do {
    const page = await core.listNamespace({ limit: PAGE, ...(_continue ? { _continue } : {}) });
    items.push(...page.items);
    _continue = page.metadata?._continue;
  } while (_continue);
  return items;
}

async function listManagedSecrets(core: CoreV1Api): Promise<V1Secret[]> {
  const items: V1Secret[] = [];
  let _continue: string | undefined;
  do {
    const page = await core.listSecretForAllNamespaces({
      labelSelector: MANAGED_SELECTOR,
      limit: PAGE,
      ...(_continue ? { _continue } : {}),
    });
    // Keep metadata only: the sweep must not hold tokens longer than it needs to.
    items.push(...page.items.map((s) => ({ type: s.type, metadata: s.metadata })));
    _continue = page.metadata?._continue;
  } while (_continue);
  return items;
}

/** Registry host -> version of its credential Secret in the host namespace. */
async function listCredentialVersions(d: SweepDependencies): Promise<Map<string, string>> {
  const list = await d.core.listNamespacedSecret({ namespace: d.config.hostNamespace });
  const versions = new Map<string, string>();
  for (const s of list.items) {
    const registry = registryOfCredentialSecret(s.metadata?.name ?? '');
    if (registry)
      versions.set(registry, `${s.metadata?.uid ?? ''}/${s.metadata?.resourceVersion ?? ''}`);
  }
  return versions;
}
