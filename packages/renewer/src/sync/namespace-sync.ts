import {
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Api,
  type V1Secret,
  type V1ServiceAccount,
} from '@kubernetes/client-node';
import type { Queue } from 'bullmq';
import {
  PermanentError,
  RetryableError,
  CREDENTIALS_VERSION_ANNOTATION,
  SERVICE_ACCOUNT_ANNOTATION,
  decideSecrets,
  decideServiceAccounts,
  desiredRegistries,
  enqueueProbe,
  enqueueSync,
  forceRenewal,
  globalRegistriesOf,
  kubeStatus,
  nameOutputSecrets,
  type EatrError,
  type ErrorContext,
  type EventRecorder,
  type Logger,
  type RegistryHost,
  type RenewerConfig,
  type RenewerMetrics,
  type SecretAction,
  type SecretNameCollision,
  type SyncJobData,
} from '@eatr/core';
import type { ClusterCache } from '../cache/cluster-cache.js';
import {
  observeSecret,
  projectNamespace,
  projectSecret,
  projectServiceAccount,
  type CachedNamespace,
} from '../cache/projections.js';
import type { CredentialResolver, CredentialState } from '../credentials/credential-resolver.js';
import type { TokenRequestOptions } from '../tokens/token-cache.js';
import type { TokenService } from '../tokens/token-service.js';
import {
  LOCAL_REASONS,
  SERVICE_ACCOUNT_KEY_PREFIX,
  blockedFingerprint,
  serviceAccountFingerprint,
  serviceAccountKey,
  type BlockedEntry,
  type BlockedStore,
} from './blocked-store.js';
import { tokenFailureEventMessage } from '../aws/aws-errors.js';
import { asEatrError } from './eatr-error.js';
import { buildPullSecret } from './pull-secret.js';
import { desiredSecret } from './desired-secret.js';
import type { SeriesTracker } from './series-tracker.js';

export interface SyncDependencies {
  readonly core: CoreV1Api;
  /** For probes of registries AWS denied, and the syncs that follow when one works again. */
  readonly queue: Queue;
  readonly config: RenewerConfig;
  readonly cache: ClusterCache;
  readonly credentials: CredentialResolver;
  readonly tokens: TokenService;
  readonly events: EventRecorder;
  readonly metrics: RenewerMetrics;
  readonly series: SeriesTracker;
  readonly blocked: BlockedStore;
  readonly log: Logger;
  readonly now?: () => number;
}

export interface SyncResult {
  readonly result: 'success' | 'permanent' | 'gone';
  readonly actions: Readonly<Partial<Record<SecretAction['kind'], number>>>;
}

/** How long a job waits for this process's watches to catch up with the change that caused it. */
const CACHE_CATCH_UP_MS = 2000;
/** Writes that lose a race (409) are decided again from the fresh object this many times. */
const CONFLICT_ATTEMPTS = 3;

/** A permanent failure of one Secret, with the inputs it depends on. */
interface Blocked {
  readonly secretName: string;
  readonly error: EatrError;
  readonly fingerprint: string;
  readonly foreignVersion?: string;
}

/**
 * One namespace sync: read the namespace, its eatr Secrets and ServiceAccounts and the credentials
 * from the watch caches, decide (pure), apply only what changed. A sync with nothing to do makes no
 * API request; a renewal makes one. Safe to run twice or concurrently: writes carry
 * resourceVersions, and a write that loses a race is decided again from the fresh object.
 */
export class NamespaceSync {
  private readonly now: () => number;

  constructor(private readonly d: SyncDependencies) {
    this.now = d.now ?? Date.now;
  }

  /**
   * Syncs `job.namespace`. `requestedAt` is when the job was asked for: a forced renewal reuses no
   * token fetched before it (the other namespaces of that wave share the one fetched after).
   */
  async run(job: SyncJobData, requestedAt = this.now()): Promise<SyncResult> {
    const { cache } = this.d;
    const { namespace } = job;
    const log = this.d.log.child({ namespace });
    let namespaceBehind = false;
    for (const w of job.waitFor ?? []) {
      if (await cache.waitFor(w.resource, w.resourceVersion, CACHE_CATCH_UP_MS)) continue;
      // A watch that is down (or far behind) must not make the job act on old state.
      if (w.resource === 'namespaces') namespaceBehind = true;
      else
        throw new RetryableError(
          `the ${w.resource} cache has not seen resourceVersion ${w.resourceVersion} yet`,
          'cache-behind',
          { namespace },
        );
    }
    // The cache may not know a namespace created a moment ago: ask once rather than drop the job.
    const cached = namespaceBehind ? undefined : cache.namespace(namespace);
    let ns = cached ?? (await this.readNamespace(namespace));
    let wanted = ns && this.wantedBy(namespace, ns);
    // Deleting on a stale view of the labels would fight a replica that sees them: when the cached
    // labels no longer ask for one of eatr's Secrets, read the namespace once (deletions are rare).
    const names = new Set(wanted?.named.map((n) => n.secretName));
    const stale = cache.secretsIn(namespace).some((s) => !names.has(s.metadata.name));
    if (cached && !cached.metadata.terminating && stale) {
      ns = await this.readNamespace(namespace);
      wanted = ns && this.wantedBy(namespace, ns);
    }
    if (ns === undefined || wanted === undefined || ns.metadata.terminating) {
      this.d.series.dropNamespace(namespace);
      await this.d.blocked.clearNamespace(namespace);
      log.info({ decision: 'gone' }, 'namespace is gone or terminating; nothing to do');
      return { result: 'gone', actions: {} };
    }

    const { named, collisions, ignoredLabels } = wanted;
    for (const label of ignoredLabels) {
      this.d.metrics.ignoredLabels.inc();
      log.warn(
        { label, decision: 'ignore-label' },
        'label looks like an ECR registry but is not a valid registry host; ignored',
      );
    }
    await this.reportCollisions(namespace, collisions, log);
    const registryOf = new Map(named.map((n) => [n.secretName, n.registry]));
    const credentials = new Map(
      named.map((n) => [n.secretName, this.d.credentials.resolve(n.registry.host)]),
    );
    const secrets = new Map(cache.secretsIn(namespace).map((s) => [s.metadata.name, s]));
    const wants = named.map((n) =>
      desiredSecret(
        n.registry.host,
        n.secretName,
        credentials.get(n.secretName),
        secrets.get(n.secretName)?.observed.annotations[CREDENTIALS_VERSION_ANNOTATION],
      ),
    );
    const observed = [...secrets.values()].map((s) => s.observed);
    const decided = decideSecrets(observed, wants, this.now());
    const actions = job.force === 'renew' ? forceRenewal(decided) : decided;
    // A forced sync asks AWS again even when it refused a moment ago: an operator fixed something.
    const tokenOptions: TokenRequestOptions = job.force
      ? { ignoreFailure: true, ...(job.force === 'renew' ? { fetchedSince: requestedAt } : {}) }
      : {};
    const before = await this.d.blocked.get(namespace, [
      ...registryOf.keys(),
      ...cache.serviceAccountsIn(namespace).map((sa) => serviceAccountKey(sa.metadata.name)),
    ]);

    const failures: EatrError[] = [];
    const blocked: Blocked[] = [];
    const served = new Set<string>(); // Secrets that exist after this sync
    const written = new Set<string>(); // Secrets written with a token just now
    const healthy = new Set<string>(); // fresh Secrets whose credentials still resolve
    const blockedBy = (secretName: string, error: EatrError, foreignVersion?: string) => {
      const registry = registryOf.get(secretName)?.host ?? '';
      const state = credentials.get(secretName)?.state ?? '';
      blocked.push({
        secretName,
        error,
        fingerprint: blockedFingerprint(registry, state, foreignVersion),
        ...(foreignVersion !== undefined ? { foreignVersion } : {}),
      });
    };

    await Promise.all(
      actions.map(async (action) => {
        const registry = registryOf.get(action.secretName);
        const creds = credentials.get(action.secretName);
        try {
          const outcome = await this.apply(namespace, action, registry, creds, tokenOptions, log);
          if (outcome.kind === 'conflict') {
            blockedBy(
              action.secretName,
              new PermanentError(
                `Secret ${action.secretName} exists and is not managed by eatr`,
                'conflict',
                { namespace, registry: action.registry },
              ),
              outcome.foreignVersion,
            );
          } else if (outcome.kind === 'present') {
            served.add(action.secretName);
            // A fresh Secret whose credentials broke meanwhile: the owner must hear now, not hours later.
            if (creds && !creds.ok) blockedBy(action.secretName, creds.error);
            else if (action.kind !== 'leave') written.add(action.secretName);
            else healthy.add(action.secretName);
          }
        } catch (error) {
          const failure = asEatrError(error, { namespace, registry: action.registry });
          // Credentials or AWS: blocked until an input changes. An API server refusal (a webhook, a
          // quota) is not recorded: the job reports it as a failure.
          if (failure.errorClass === 'permanent' && registry && !failure.reason.startsWith('http-'))
            blockedBy(action.secretName, failure);
          else failures.push(failure);
          // A failed renewal keeps the old, still valid Secret in place.
          if (action.kind === 'renew') served.add(action.secretName);
        }
      }),
    );

    try {
      const accounts = await this.syncServiceAccounts(
        namespace,
        named.map((n) => n.secretName).filter((name) => served.has(name)),
        log,
      );
      blocked.push(...accounts.blocked);
      for (const key of accounts.ok) healthy.add(key);
    } catch (error) {
      failures.push(asEatrError(error, { namespace }));
    }

    await this.recordBlocked(namespace, blocked, before, { written, healthy }, log);
    for (const failure of failures) {
      log.warn(
        {
          registry: failure.context.registry,
          reason: failure.reason,
          decision: 'retry',
          err: failure.message,
        },
        'transient failure; will retry',
      );
    }
    const counts: Partial<Record<SecretAction['kind'], number>> = {};
    for (const a of actions) counts[a.kind] = (counts[a.kind] ?? 0) + 1;
    const retryable = failures.filter((f) => f.errorClass === 'retry');
    if (retryable.length > 0) {
      throw new RetryableError(
        `${retryable.length} transient failure(s): ${retryable.map((f) => f.message).join('; ')}`,
        'transient',
        { namespace },
      );
    }
    const permanent = blocked.length > 0 || failures.some((f) => f.errorClass === 'permanent');
    return { result: permanent ? 'permanent' : 'success', actions: counts };
  }

  /** The Secrets a namespace's labels (and the global registries) ask for, named. */
  private wantedBy(namespace: string, ns: CachedNamespace) {
    const { config } = this.d;
    const { registries, ignoredLabels } = desiredRegistries(
      namespace,
      ns.metadata.labels,
      globalRegistriesOf(config),
    );
    return { ...nameOutputSecrets(config.secretNameTemplate, registries), ignoredLabels };
  }

  private async readNamespace(name: string): Promise<CachedNamespace | undefined> {
    const ns = await this.kube({ namespace: name }, () => this.d.core.readNamespace({ name }));
    return ns === undefined ? undefined : projectNamespace(ns);
  }

  /**
   * Applies one decision. Resolves with whether the Secret is there afterwards, or a conflict (with
   * the foreign Secret's version); throws a classified error. A write that loses a race reads the
   * Secret and decides again.
   */
  private async apply(
    namespace: string,
    first: SecretAction,
    registry: RegistryHost | undefined,
    credentials: CredentialState | undefined,
    tokenOptions: TokenRequestOptions,
    log: Logger,
  ): Promise<
    { kind: 'present' } | { kind: 'absent' } | { kind: 'conflict'; foreignVersion: string }
  > {
    let action = first;
    let current: V1Secret | undefined; // set once a lost race made us read it
    for (let attempt = 1; ; attempt++) {
      const alog = log.child({ registry: action.registry, secret: action.secretName });
      try {
        switch (action.kind) {
          case 'leave':
            alog.debug({ decision: 'leave' }, 'Secret is fresh; nothing to write');
            return { kind: 'present' };
          case 'conflict':
            return {
              kind: 'conflict',
              foreignVersion: current?.metadata?.resourceVersion ?? '',
            };
          case 'delete':
            await this.deleteSecret(namespace, action.secretName, alog);
            return { kind: 'absent' };
          default:
            await this.write(namespace, action, registry, credentials, current, tokenOptions, alog);
            return { kind: 'present' };
        }
      } catch (error) {
        // 409 (someone wrote first, or a same-named Secret exists) or 404 on an update (deleted
        // meanwhile): read it and decide again.
        const status = kubeStatus(error);
        const raced = status === 409 || (status === 404 && action.kind !== 'delete');
        if (!raced || attempt >= CONFLICT_ATTEMPTS) throw error;
        current = await this.kube({ namespace }, () =>
          this.d.core.readNamespacedSecret({ name: action.secretName, namespace }),
        );
        if (current && !this.isForeign(current))
          this.d.cache.rememberSecret(projectSecret(current));
        const desired =
          registry && credentials
            ? [desiredSecret(registry.host, action.secretName, credentials, undefined)]
            : [];
        const next = decideSecrets(
          current ? [observeSecret(current)] : [],
          desired,
          this.now(),
        ).find((a) => a.secretName === action.secretName);
        if (next === undefined) return { kind: 'absent' };
        alog.debug({ decision: next.kind, attempt }, 'write lost a race; decided again');
        action = next;
      }
    }
  }

  private isForeign(secret: V1Secret): boolean {
    return secret.metadata?.labels?.['app.kubernetes.io/managed-by'] !== 'eatr';
  }

  private async deleteSecret(namespace: string, name: string, log: Logger): Promise<void> {
    await this.kube({ namespace }, () => this.d.core.deleteNamespacedSecret({ name, namespace }));
    this.d.cache.forgetSecret(namespace, name);
    this.d.series.dropSecret(namespace, name);
    this.d.metrics.secretActions.inc({ action: 'delete' });
    log.info(
      { decision: 'delete' },
      'namespace no longer asks for this registry; deleted its Secret',
    );
    await this.d.events.record({
      namespace,
      type: 'Normal',
      reason: 'SecretDeleted',
      message: `Deleted image pull Secret ${name}`,
    });
  }

  /** Create, renew or replace: one token, one write (two for a type change). */
  private async write(
    namespace: string,
    action: Extract<SecretAction, { kind: 'create' | 'renew' | 'replace' }>,
    registry: RegistryHost | undefined,
    credentials: CredentialState | undefined,
    current: V1Secret | undefined,
    tokenOptions: TokenRequestOptions,
    log: Logger,
  ): Promise<void> {
    const { core, metrics, config, cache } = this.d;
    if (!registry || !credentials)
      throw new PermanentError('internal: no registry for action', 'internal', { namespace });
    if (!credentials.ok) throw credentials.error;
    const token = await this.d.tokens.token(credentials.value, registry, tokenOptions);
    const cached = cache.secretsIn(namespace).find((s) => s.metadata.name === action.secretName);
    const existing = current?.metadata
      ? {
          resourceVersion: current.metadata.resourceVersion ?? '',
          labels: current.metadata.labels ?? {},
          annotations: current.metadata.annotations ?? {},
        }
      : cached
        ? {
            resourceVersion: cached.metadata.resourceVersion,
            labels: cached.observed.labels,
            annotations: cached.observed.annotations,
          }
        : undefined;
    const body = buildPullSecret({
      namespace,
      secretName: action.secretName,
      registry: registry.host,
      token,
      credentialsVersion: credentials.value.version,
      renewalIntervalMs: config.renewalIntervalMs,
      email: credentials.value.spec.email ?? config.dockerEmail,
      ...(action.kind === 'renew' && existing ? { existing } : {}),
    });
    let written: V1Secret;
    if (action.kind === 'renew') {
      written = await core.replaceNamespacedSecret({ name: action.secretName, namespace, body });
      metrics.secretRenewals.inc();
    } else {
      if (action.kind === 'replace') {
        // Type is immutable: delete (only that exact version) and create.
        const resourceVersion = existing?.resourceVersion;
        await core.deleteNamespacedSecret({
          name: action.secretName,
          namespace,
          body: { preconditions: resourceVersion ? { resourceVersion } : {} },
        });
      }
      written = await core.createNamespacedSecret({ namespace, body });
    }
    cache.rememberSecret(projectSecret(written));
    metrics.secretActions.inc({ action: action.kind === 'replace' ? 'create' : action.kind });
    this.d.series.secretWritten(namespace, action.secretName);
    const verb = action.kind === 'renew' ? 'renewed' : 'created';
    const expiresAt = new Date(token.expiresAt).toISOString();
    log.info(
      {
        decision: action.kind,
        ...(action.kind === 'renew' ? { reason: action.reason } : {}),
        expiresAt,
      },
      `Secret ${verb}`,
    );
    // A routine renewal is not worth an API request; creations are what users look for.
    if (action.kind !== 'renew' || action.reason === 'adopted')
      await this.d.events.record({
        namespace,
        type: 'Normal',
        reason: 'SecretCreated',
        message: `Image pull Secret ${action.secretName} ${verb}; token expires at ${expiresAt}`,
      });
  }

  /** Patches the wired ServiceAccounts whose imagePullSecrets must change, from the cache. */
  private async syncServiceAccounts(
    namespace: string,
    pullSecrets: readonly string[],
    log: Logger,
  ): Promise<{ blocked: Blocked[]; ok: string[] }> {
    const { core, config, cache } = this.d;
    const result: { blocked: Blocked[]; ok: string[] } = { blocked: [], ok: [] };
    if (config.serviceAccounts !== '*' && config.serviceAccounts.length === 0) return result;
    for (const sa of cache.serviceAccountsIn(namespace)) {
      let observed = sa.observed;
      let resourceVersion = sa.metadata.resourceVersion;
      for (let attempt = 1; ; attempt++) {
        const change = decideServiceAccounts([observed], config.serviceAccounts, pullSecrets)[0];
        if (!change) {
          result.ok.push(serviceAccountKey(sa.metadata.name));
          break;
        }
        try {
          // Only imagePullSecrets and eatr's annotation, guarded by the version the decision read.
          const patch = {
            metadata: {
              resourceVersion,
              annotations: {
                [SERVICE_ACCOUNT_ANNOTATION]:
                  change.addedByEatr.length > 0 ? change.addedByEatr.join(',') : null,
              },
            },
            imagePullSecrets: change.imagePullSecrets.map((name) => ({ name })),
          };
          const written: V1ServiceAccount = await core.patchNamespacedServiceAccount(
            { name: change.name, namespace, body: patch },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          );
          cache.rememberServiceAccount(projectServiceAccount(written));
          log.info(
            {
              decision: 'service-account',
              serviceAccount: change.name,
              imagePullSecrets: change.imagePullSecrets,
            },
            'ServiceAccount imagePullSecrets updated',
          );
          break;
        } catch (error) {
          const status = kubeStatus(error);
          if (status === 404) break; // deleted meanwhile: nothing to wire
          const failure = asEatrError(error, { namespace });
          if (failure.errorClass === 'permanent') {
            // Refused (an admission policy, say): blocked until the ServiceAccount or the wanted
            // entries change, so sweeps do not patch it again and again.
            result.blocked.push({
              secretName: serviceAccountKey(change.name),
              error: failure,
              fingerprint: serviceAccountFingerprint(resourceVersion, change.imagePullSecrets),
            });
            break;
          }
          if (status !== 409 || attempt >= CONFLICT_ATTEMPTS) throw failure;
          const fresh = await this.kube({ namespace }, () =>
            core.readNamespacedServiceAccount({ name: change.name, namespace }),
          );
          if (!fresh) break;
          const projected = projectServiceAccount(fresh);
          cache.rememberServiceAccount(projected);
          observed = projected.observed;
          resourceVersion = projected.metadata.resourceVersion;
        }
      }
    }
    return result;
  }

  /**
   * Records which Secrets are blocked and why, and reports each cause once: a Warning Event, the
   * metric and a log line when a pair becomes blocked or its inputs change, not on every sync.
   */
  private async recordBlocked(
    namespace: string,
    blocked: readonly Blocked[],
    before: ReadonlyMap<string, BlockedEntry>,
    outcome: { written: ReadonlySet<string>; healthy: ReadonlySet<string> },
    log: Logger,
  ): Promise<void> {
    const now = this.now();
    // Only a success ends a block: a transient failure says nothing about the cause.
    const unblocked = [...before.keys()].filter(
      (name) => outcome.written.has(name) || outcome.healthy.has(name),
    );
    await this.d.blocked.clear(namespace, unblocked);
    // A token came for a registry AWS had denied: serve its other namespaces now, asking AWS again
    // even where a renewer still remembers the refusal.
    for (const name of unblocked) {
      const entry = before.get(name);
      if (entry && !LOCAL_REASONS.has(entry.reason) && outcome.written.has(name)) {
        const cleared = await this.d.blocked.clearRegistry(entry.registry);
        const others = [...new Set(cleared.map((key) => key.slice(0, key.indexOf('/'))))].filter(
          (other) => other !== namespace,
        );
        for (const other of others)
          await enqueueSync(this.d.queue, {
            namespace: other,
            reason: 'recovered',
            force: 'retry',
          });
        log.info(
          { registry: entry.registry, cleared: cleared.length, enqueued: others.length },
          'registry works again; unblocked its namespaces',
        );
      }
    }
    // AWS refused: one probe chain per registry asks again soon, then every minute (enqueueProbe).
    for (const registry of new Set(
      blocked
        .filter((b) => !LOCAL_REASONS.has(b.error.reason) && b.error.context.registry)
        .map((b) => b.error.context.registry ?? ''),
    )) {
      if (await enqueueProbe(this.d.queue, { registry }))
        log.info({ registry, decision: 'probe' }, 'AWS refused; will ask again soon');
    }
    for (const b of blocked) {
      const registry = b.error.context.registry ?? '';
      const previous = before.get(b.secretName);
      const repeated =
        previous?.fingerprint === b.fingerprint && previous.reason === b.error.reason;
      await this.d.blocked.set(namespace, b.secretName, {
        fingerprint: b.fingerprint,
        reason: b.error.reason,
        registry,
        since: repeated ? previous.since : now,
        checkedAt: now,
        ...(b.foreignVersion !== undefined ? { foreignVersion: b.foreignVersion } : {}),
      });
      if (repeated) {
        log.debug(
          { registry, reason: b.error.reason, decision: 'blocked' },
          'still blocked; reported before',
        );
        continue;
      }
      if (b.secretName.startsWith(SERVICE_ACCOUNT_KEY_PREFIX)) {
        const account = b.secretName.slice(SERVICE_ACCOUNT_KEY_PREFIX.length);
        log.warn(
          {
            serviceAccount: account,
            reason: b.error.reason,
            decision: 'failed',
            err: b.error.message,
          },
          'cannot change the ServiceAccount imagePullSecrets until it or the wanted entries change',
        );
        await this.d.events.record({
          namespace,
          type: 'Warning',
          reason: 'ServiceAccountFailed',
          message: `Could not update imagePullSecrets of ServiceAccount ${account}: ${b.error.message}`,
        });
        continue;
      }
      if (b.error.reason === 'conflict') {
        this.d.series.conflict(namespace);
        log.warn(
          { registry, secret: b.secretName, decision: 'conflict' },
          `Secret ${b.secretName} exists and is not managed by eatr; left untouched`,
        );
        await this.d.events.record({
          namespace,
          type: 'Warning',
          reason: 'SecretConflict',
          message: `Secret ${b.secretName} exists and is not managed by eatr, so eatr leaves it alone. Delete it, or annotate it eatr.io/adopt=true to let eatr manage it.`,
        });
        continue;
      }
      this.d.metrics.credentialErrors.inc({ registry, reason: b.error.reason });
      log.warn(
        { registry, reason: b.error.reason, decision: 'failed', err: b.error.message },
        'cannot write the Secret until the credentials change',
      );
      await this.d.events.record({
        namespace,
        type: 'Warning',
        reason: 'TokenFailed',
        // Never AWS's text (ARNs, other accounts' ids): that is in the log line above.
        message: tokenFailureEventMessage(b.error, registry),
      });
    }
  }

  private async reportCollisions(
    namespace: string,
    collisions: readonly SecretNameCollision[],
    log: Logger,
  ): Promise<void> {
    for (const c of collisions) {
      log.warn(
        {
          registry: c.registry.host,
          secret: c.secretName,
          heldBy: c.heldBy,
          decision: 'collision',
        },
        'the Secret name template gives this registry the name of another; it is not served',
      );
      await this.d.events.record({
        namespace,
        type: 'Warning',
        reason: 'SecretNameCollision',
        message: `Registries ${c.heldBy} and ${c.registry.host} both map to Secret ${c.secretName} under the name template "${this.d.config.secretNameTemplate}"; only ${c.heldBy} is served. Use {{registry}} in the template.`,
      });
    }
  }

  /** A read: 404 is undefined; other errors are classified. */
  private async kube<T>(context: ErrorContext, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      if (kubeStatus(error) === 404) return undefined;
      throw asEatrError(error, context);
    }
  }
}

export { asEatrError };
