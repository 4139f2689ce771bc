import {
  EventReason,
  LogMessage,
  PermanentError,
  RetryableError,
  blockedFingerprint,
  planNamespace,
  planSettingsOf,
  serviceAccountKey,
  type EatrError,
  type Logger,
  type NamespacePlan,
  type PlanSettings,
  type RenewerMetrics,
  type SecretAction,
  type SyncJobData,
} from '@eatr/core';
import type { CachedNamespace } from '../cache/projections.js';
import type { CredentialState } from '../credentials/credential-resolver.js';
import type { TokenRequestOptions } from '../tokens/token-cache.js';
import {
  conflictMessage,
  recordBlocked,
  reportCollisions,
  reportOverCap,
  reportRefused,
  reportNotServed,
  reportSecretNameProblem,
  reportMalformedPullSecretsLabels,
  reportRoleRefused,
  type Blocked,
} from './blocked-report.js';
import { asEatrError } from './eatr-error.js';
import { ROLE_REFUSALS } from '../tokens/role-sessions.js';
import { roleFailureText } from '../aws/aws-errors.js';
import { namespaceView } from './namespace-view.js';
import type {
  BlockedRecords,
  ClusterView,
  CredentialSource,
  EventSink,
  JobSink,
  KubeWrites,
  PodAccess,
  SyncSettings,
  TokenSource,
} from './ports.js';
import { SecretWriter } from './secret-writer.js';
import type { SeriesTracker } from './series-tracker.js';
import { syncServiceAccounts } from './service-account-writer.js';
import { recoverStuckPods } from './stuck-pod-recovery.js';

export type { SyncSettings } from './ports.js';

export interface SyncDependencies {
  readonly view: ClusterView;
  readonly kube: KubeWrites;
  /** For probes of registries AWS denied, and the syncs that follow when one works again. */
  readonly jobs: JobSink;
  readonly config: SyncSettings;
  readonly credentials: CredentialSource;
  readonly tokens: TokenSource;
  readonly events: EventSink;
  readonly metrics: RenewerMetrics;
  readonly series: SeriesTracker;
  readonly blocked: BlockedRecords;
  /** Pods, for --recover-stuck-pods (absent: never touched). */
  readonly pods?: PodAccess;
  readonly log: Logger;
  readonly now?: () => number;
}

export interface SyncResult {
  readonly result: 'success' | 'permanent' | 'gone';
  readonly actions: Readonly<Partial<Record<SecretAction['kind'], number>>>;
}

/** How long a job waits for this process's watches to catch up with the change that caused it. */
const CACHE_CATCH_UP_MS = 2000;

/**
 * One namespace sync: read the namespace, its eatr Secrets and ServiceAccounts and the credentials
 * from the watch caches, plan (planNamespace, pure), apply only what changed. A sync with nothing to
 * do makes no API request; a renewal makes one. Safe to run twice or concurrently: writes carry
 * resourceVersions, and a write that loses a race is decided again from the fresh object.
 */
export class NamespaceSync {
  private readonly now: () => number;
  private readonly settings: PlanSettings;
  private readonly writer: SecretWriter;

  constructor(private readonly d: SyncDependencies) {
    this.now = d.now ?? Date.now;
    this.settings = planSettingsOf(d.config);
    this.writer = new SecretWriter({ ...d, now: this.now });
  }

  /**
   * Syncs `job.namespace`. `requestedAt` is when the job was asked for: a forced renewal reuses no
   * token fetched before it (the other namespaces of that wave share the one fetched after).
   */
  async run(job: SyncJobData, requestedAt = this.now()): Promise<SyncResult> {
    const { namespace } = job;
    const log = this.d.log.child({ namespace });
    const plan = await this.plan(job);
    if (plan.gone) {
      this.d.series.dropNamespace(namespace);
      await this.d.blocked.clearNamespace(namespace);
      log.info({ decision: 'gone' }, LogMessage.namespaceGone);
      return { result: 'gone', actions: {} };
    }
    for (const label of plan.ignoredLabels) {
      this.d.metrics.ignoredLabels.inc();
      log.warn({ label, decision: 'ignore-label' }, LogMessage.ignoredLabel);
    }
    await reportCollisions(this.reports(), namespace, plan.collisions, log);
    await reportOverCap(this.reports(), namespace, plan.overCap, this.settings.maxRegistries, log);
    await reportRefused(this.reports(), namespace, plan.refused, log);
    await reportRoleRefused(this.reports(), namespace, plan.role, plan.roleRefused, log);
    await reportNotServed(this.reports(), namespace, plan.notServed, log);
    await reportSecretNameProblem(this.reports(), namespace, plan.secretNameProblem, log);

    const planned = new Map(plan.secrets.map((s) => [s.secretName, s]));
    // A forced sync asks AWS again even when it refused a moment ago: an operator fixed something.
    const tokenOptions: TokenRequestOptions = job.force
      ? { ignoreFailure: true, ...(job.force === 'renew' ? { fetchedSince: requestedAt } : {}) }
      : {};
    const before = await this.d.blocked.get(namespace, [
      ...planned.keys(),
      ...this.d.view.serviceAccountsIn(namespace).map((sa) => serviceAccountKey(sa.metadata.name)),
    ]);

    const failures: EatrError[] = [];
    const blocked: Blocked[] = [];
    const served = new Set<string>(); // Secrets that exist after this sync
    const written = new Set<string>(); // Secrets written with a token just now
    const healthy = new Set<string>(); // fresh Secrets whose credentials still resolve
    const created = new Set<string>(); // Secrets that did not exist (or not as a pull Secret) before
    const blockedBy = (secretName: string, error: EatrError, foreignVersion?: string) => {
      const s = planned.get(secretName);
      blocked.push({
        subject: secretName,
        error,
        fingerprint: blockedFingerprint(
          s?.registry.host ?? '',
          s?.credentials?.state ?? '',
          foreignVersion,
        ),
        // Decided once every action is done (a renewal that failed keeps the old Secret).
        get present() {
          return served.has(secretName);
        },
        ...(foreignVersion !== undefined ? { foreignVersion } : {}),
      });
    };

    await Promise.all(
      plan.actions.map(async (action) => {
        const s = planned.get(action.secretName);
        const creds = s?.credentials;
        try {
          const outcome = await this.writer.apply(namespace, action, s, tokenOptions, log);
          if (outcome.kind === 'conflict') {
            const error = new PermanentError(
              conflictMessage(action.secretName, outcome.owner),
              'conflict',
              { namespace, registry: action.registry },
            );
            blockedBy(action.secretName, error, outcome.foreignVersion);
          } else if (outcome.kind === 'present') {
            served.add(action.secretName);
            // A fresh Secret whose credentials broke meanwhile: the owner must hear now, not hours later.
            if (action.kind === 'create' || action.kind === 'replace')
              created.add(action.secretName);
            if (creds && !creds.ok) blockedBy(action.secretName, creds.error);
            else if (action.kind !== 'leave') written.add(action.secretName);
            else healthy.add(action.secretName);
          }
        } catch (error) {
          const failure = asEatrError(error, { namespace, registry: action.registry });
          // Credentials or AWS: blocked until an input changes. An API server refusal (a webhook, a
          // quota) is not recorded: the job reports it as a failure.
          if (failure.errorClass === 'permanent' && s && !failure.reason.startsWith('http-'))
            blockedBy(action.secretName, failure);
          else failures.push(failure);
          // A failed renewal keeps the old, still valid Secret in place, unless the namespace can no
          // longer prove its role (AWS refused it, its ServiceAccount is gone): that Secret goes.
          if (action.kind === 'renew') {
            const revoked =
              ROLE_REFUSALS.has(failure.reason) &&
              (await this.revoke(namespace, action.secretName, failure, log));
            if (!revoked) served.add(action.secretName);
          }
        }
      }),
    );

    try {
      // Only pull Secrets go on ServiceAccounts (Argo CD reads its repository credentials by label).
      const servedPull = plan.secrets.filter(
        (s) => s.format === 'pull' && served.has(s.secretName),
      );
      const pullSecrets = servedPull.map((s) => s.secretName);
      const accounts = await syncServiceAccounts(
        { view: this.d.view, kube: this.d.kube, targets: this.settings.serviceAccounts },
        namespace,
        { pullSecrets, otherInstances: plan.otherInstances },
        log,
      );
      blocked.push(...accounts.blocked);
      for (const key of accounts.ok) healthy.add(key);
      const { pods } = this.d;
      if (this.d.config.recoverStuckPods && pods && (created.size > 0 || accounts.added)) {
        const secrets = new Map(servedPull.map((s) => [s.registry.host, s.secretName]));
        await recoverStuckPods(
          { pods, events: this.d.events },
          namespace,
          secrets,
          this.now(),
          log,
        );
      }
    } catch (error) {
      failures.push(asEatrError(error, { namespace }));
    }

    await reportMalformedPullSecretsLabels(
      this.reports(),
      namespace,
      this.d.view.serviceAccountsIn(namespace).map((sa) => sa.observed),
      log,
    );
    await recordBlocked(this.reports(), namespace, blocked, before, { written, healthy }, log);
    for (const failure of failures) {
      log.warn(
        {
          registry: failure.context.registry,
          reason: failure.reason,
          decision: 'retry',
          err: failure.message,
        },
        LogMessage.transientFailure,
      );
    }
    const counts: Partial<Record<SecretAction['kind'], number>> = {};
    for (const a of plan.actions) counts[a.kind] = (counts[a.kind] ?? 0) + 1;
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

  /**
   * The plan from the watch caches, once they have seen the change that caused the job. The cache
   * may not know a namespace created a moment ago, and deleting on a stale view of its labels would
   * fight a replica that sees them: in both cases the namespace is read once.
   */
  private async plan(job: SyncJobData): Promise<NamespacePlan<CredentialState>> {
    const { view } = this.d;
    const { namespace } = job;
    let namespaceBehind = false;
    for (const w of job.waitFor ?? []) {
      if (await view.waitFor(w.resource, w.resourceVersion, CACHE_CATCH_UP_MS)) continue;
      // A watch that is down (or far behind) must not make the job act on old state.
      if (w.resource === 'namespaces') namespaceBehind = true;
      else
        throw new RetryableError(
          `the ${w.resource} cache has not seen resourceVersion ${w.resourceVersion} yet`,
          'cache-behind',
          { namespace },
        );
    }
    const cached = namespaceBehind ? undefined : view.namespace(namespace);
    let plan = this.planFor(cached ?? (await this.readNamespace(namespace)), job);
    if (cached && !plan.gone && plan.actions.some((a) => a.kind === 'delete'))
      plan = this.planFor(await this.readNamespace(namespace), job);
    return plan;
  }

  private planFor(
    ns: CachedNamespace | undefined,
    job: SyncJobData,
  ): NamespacePlan<CredentialState> {
    return planNamespace({
      namespace: ns && namespaceView(this.d.view, ns),
      settings: this.settings,
      credentials: (host) => this.d.credentials.resolve(host),
      access: (host) => this.d.credentials.access(host),
      roleCredentials: (role) => this.d.credentials.resolveRole(role),
      now: this.now(),
      ...(job.force ? { force: job.force } : {}),
    });
  }

  /** Deletes a Secret issued through a role the namespace can no longer prove; false if that failed. */
  private async revoke(
    namespace: string,
    secretName: string,
    failure: EatrError,
    log: Logger,
  ): Promise<boolean> {
    try {
      await this.d.kube.deleteSecret(namespace, secretName);
    } catch (error) {
      log.warn(
        { secret: secretName, err: asEatrError(error, { namespace }).message },
        'could not revoke',
      );
      return false;
    }
    log.warn(
      { secret: secretName, reason: failure.reason, decision: 'revoke', err: failure.message },
      LogMessage.roleRevoked,
    );
    await this.d.events.record({
      namespace,
      type: 'Warning',
      reason: EventReason.RoleRevoked,
      message: `Secret ${secretName} was deleted: ${roleFailureText(failure)}`,
    });
    return true;
  }

  private async readNamespace(name: string): Promise<CachedNamespace | undefined> {
    try {
      return await this.d.kube.readNamespace(name);
    } catch (error) {
      throw asEatrError(error, { namespace: name });
    }
  }

  private reports() {
    return {
      ...this.d,
      secretNameTemplate: this.d.config.secretNameTemplate,
      now: this.now,
    };
  }
}
