import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import {
  GoneError,
  MANAGED_SELECTOR,
  PermanentError,
  RetryableError,
  SERVICE_ACCOUNT_ANNOTATION,
  CREDENTIALS_VERSION_ANNOTATION,
  classifyKubeError,
  decideSecrets,
  decideServiceAccounts,
  describeError,
  desiredRegistries,
  kubeStatus,
  missingServiceAccounts,
  nameOutputSecrets,
  type DesiredSecret,
  type EatrError,
  type ErrorContext,
  type EventRecorder,
  type Logger,
  type ObservedSecret,
  type ObservedServiceAccount,
  type RegistryHost,
  type RenewerConfig,
  type RenewerMetrics,
  type SecretAction,
  type SecretNameCollision,
} from '@eatr/core';
import type {
  CredentialResolver,
  ResolvedCredentials,
} from '../credentials/credential-resolver.js';
import type { TokenService } from '../tokens/token-service.js';
import { buildPullSecret } from './pull-secret.js';

export interface SyncDependencies {
  readonly core: CoreV1Api;
  readonly config: RenewerConfig;
  readonly credentials: CredentialResolver;
  readonly tokens: TokenService;
  readonly events: EventRecorder;
  readonly metrics: RenewerMetrics;
  readonly log: Logger;
  readonly now?: () => number;
}

export interface SyncResult {
  readonly result: 'success' | 'permanent' | 'gone';
  /** Ask for another sync after this delay (a new namespace's ServiceAccounts appear a moment later). */
  readonly followUpDelayMs?: number;
  readonly actions: Readonly<Partial<Record<SecretAction['kind'], number>>>;
}

/** A young namespace may not have its `default` ServiceAccount yet; look again shortly. */
const YOUNG_NAMESPACE_MS = 120_000;
const FOLLOW_UP_DELAY_MS = 5000;

type Credentials = { ok: true; value: ResolvedCredentials } | { ok: false; error: EatrError };

/**
 * One namespace sync: re-read the namespace, its eatr Secrets and ServiceAccounts and the credentials,
 * decide (pure), apply. Safe to run twice or concurrently: writes carry resourceVersions, and a lost
 * race is a retry that re-reads and finds the Secret fresh.
 */
export class NamespaceSync {
  private readonly now: () => number;

  constructor(private readonly d: SyncDependencies) {
    this.now = d.now ?? Date.now;
  }

  async run(namespace: string): Promise<SyncResult> {
    const { core, config } = this.d;
    const log = this.d.log.child({ namespace });
    const ns = await this.kube({ namespace }, () => core.readNamespace({ name: namespace }));
    if (ns === undefined || ns.metadata?.deletionTimestamp) {
      log.info({ decision: 'gone' }, 'namespace is gone or terminating; nothing to do');
      return { result: 'gone', actions: {} };
    }

    const desired = desiredRegistries(namespace, ns.metadata?.labels, {
      registries: config.globalRegistries,
      include: config.includeNamespaces,
      exclude: config.excludeNamespaces,
    });
    for (const label of desired.ignoredLabels) {
      this.d.metrics.ignoredLabels.inc();
      log.warn(
        { label, decision: 'ignore-label' },
        'label looks like an ECR registry but is not a valid registry host; ignored',
      );
    }

    const { named, collisions } = nameOutputSecrets(config.secretNameTemplate, desired.registries);
    await this.reportCollisions(namespace, collisions, log);
    const registries = named.map((n) => n.registry);
    const names = named.map((n) => n.secretName);
    const [secrets, credentials] = await Promise.all([
      this.readSecrets(namespace, names),
      this.resolveCredentials(registries),
    ]);
    const wants: DesiredSecret[] = registries.map((registry, i) => {
      const creds = credentials[i];
      const existing = secrets.get(names[i] ?? '');
      // Unknown credentials must not make a fresh Secret look due: keep what it records.
      const version = creds?.ok
        ? creds.value.version
        : (existing?.metadata?.annotations?.[CREDENTIALS_VERSION_ANNOTATION] ?? 'unavailable');
      return { registry: registry.host, secretName: names[i] ?? '', credentialsVersion: version };
    });
    const actions = decideSecrets([...secrets.values()].map(observe), wants, this.now());

    const failures: EatrError[] = [];
    // Credentials that cannot be resolved leave a fresh Secret alone, but the owner must hear about
    // them now, not hours later when the Secret comes due.
    credentials.forEach((creds, i) => {
      const name = names[i];
      if (creds.ok || !actions.some((a) => a.kind === 'leave' && a.secretName === name)) return;
      failures.push(asEatrError(creds.error, { namespace, registry: registries[i]?.host }));
    });
    const failedCreates = new Set<string>();
    await Promise.all(
      actions.map(async (action) => {
        const index = action.kind === 'delete' ? -1 : names.indexOf(action.secretName);
        try {
          await this.apply(
            namespace,
            action,
            registries[index],
            credentials[index],
            secrets.get(action.secretName),
          );
        } catch (error) {
          const failure = asEatrError(error, { namespace, registry: action.registry });
          failures.push(failure);
          if (action.kind === 'create' || action.kind === 'replace')
            failedCreates.add(action.secretName);
        }
      }),
    );

    // ServiceAccounts use every eatr Secret that exists after this sync (a failed renewal keeps the old one).
    const pullSecrets = actions
      .filter(
        (a) => a.kind !== 'delete' && a.kind !== 'conflict' && !failedCreates.has(a.secretName),
      )
      .map((a) => a.secretName);
    let followUpDelayMs: number | undefined;
    try {
      const missing = await this.syncServiceAccounts(namespace, pullSecrets, log);
      const age = this.now() - (ns.metadata?.creationTimestamp?.getTime() ?? 0);
      if (missing.length > 0 && pullSecrets.length > 0 && age < YOUNG_NAMESPACE_MS)
        followUpDelayMs = FOLLOW_UP_DELAY_MS;
    } catch (error) {
      failures.push(asEatrError(error, { namespace }));
    }

    await this.reportFailures(namespace, failures, log);
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
    return {
      result: failures.some((f) => f.errorClass === 'permanent') ? 'permanent' : 'success',
      actions: counts,
      ...(followUpDelayMs !== undefined ? { followUpDelayMs } : {}),
    };
  }

  /** eatr's Secrets in the namespace, plus any Secret named like a desired one (to detect conflicts). */
  private async readSecrets(
    namespace: string,
    names: readonly string[],
  ): Promise<Map<string, V1Secret>> {
    const { core } = this.d;
    const list = await this.kube({ namespace }, () =>
      core.listNamespacedSecret({ namespace, labelSelector: MANAGED_SELECTOR }),
    );
    const byName = new Map<string, V1Secret>();
    for (const s of list?.items ?? []) if (s.metadata?.name) byName.set(s.metadata.name, s);
    await Promise.all(
      names
        .filter((name) => !byName.has(name))
        .map(async (name) => {
          const secret = await this.kube({ namespace }, () =>
            core.readNamespacedSecret({ name, namespace }),
          );
          if (secret) byName.set(name, secret);
        }),
    );
    return byName;
  }

  private resolveCredentials(registries: readonly RegistryHost[]): Promise<Credentials[]> {
    return Promise.all(
      registries.map((r) =>
        this.d.credentials.resolve(r.host).then(
          (value): Credentials => ({ ok: true, value }),
          (error: unknown): Credentials => ({
            ok: false,
            error: asEatrError(error, { registry: r.host }),
          }),
        ),
      ),
    );
  }

  private async apply(
    namespace: string,
    action: SecretAction,
    registry: RegistryHost | undefined,
    credentials: Credentials | undefined,
    existing: V1Secret | undefined,
  ): Promise<void> {
    const { core, metrics, events } = this.d;
    const log = this.d.log.child({
      namespace,
      registry: action.registry,
      secret: action.secretName,
    });
    metrics.secretActions.inc({ action: action.kind === 'replace' ? 'create' : action.kind });
    switch (action.kind) {
      case 'leave':
        log.debug({ decision: 'leave' }, 'Secret is fresh; nothing to write');
        return;
      case 'conflict':
        metrics.ownershipConflicts.inc({ namespace });
        log.warn(
          { decision: 'conflict' },
          `Secret ${action.secretName} exists and is not managed by eatr; left untouched`,
        );
        await events.record({
          namespace,
          type: 'Warning',
          reason: 'SecretConflict',
          message: `Secret ${action.secretName} exists and is not managed by eatr, so eatr leaves it alone. Delete it, or annotate it eatr.io/adopt=true to let eatr manage it.`,
        });
        return;
      case 'delete':
        await this.kube({ namespace }, () =>
          core.deleteNamespacedSecret({ name: action.secretName, namespace }),
        );
        log.info(
          { decision: 'delete' },
          'namespace no longer asks for this registry; deleted its Secret',
        );
        await events.record({
          namespace,
          type: 'Normal',
          reason: 'SecretDeleted',
          message: `Deleted image pull Secret ${action.secretName}`,
        });
        return;
      default:
        break;
    }
    if (!registry || !credentials)
      throw new PermanentError('internal: no registry for action', 'internal', { namespace });
    if (!credentials.ok) throw credentials.error;
    const token = await this.d.tokens.token(credentials.value, registry);
    const body = buildPullSecret({
      namespace,
      secretName: action.secretName,
      registry: registry.host,
      token,
      credentialsVersion: credentials.value.version,
      renewalIntervalMs: this.d.config.renewalIntervalMs,
      email: credentials.value.spec.email ?? this.d.config.dockerEmail,
      ...(action.kind === 'renew' && existing ? { existing } : {}),
    });
    if (action.kind === 'renew') {
      await this.write({ namespace }, () =>
        core.replaceNamespacedSecret({ name: action.secretName, namespace, body }),
      );
      metrics.secretRenewals.inc();
    } else {
      if (action.kind === 'replace') {
        // Type is immutable: delete (only that exact version) and create.
        const resourceVersion = existing?.metadata?.resourceVersion;
        await this.write({ namespace }, () =>
          core.deleteNamespacedSecret({
            name: action.secretName,
            namespace,
            body: { preconditions: resourceVersion ? { resourceVersion } : {} },
          }),
        );
      }
      await this.write({ namespace }, () => core.createNamespacedSecret({ namespace, body }));
    }
    metrics.secretsCreated.inc({ namespace, name: action.secretName });
    const verb = action.kind === 'renew' ? 'renewed' : 'created';
    log.info(
      {
        decision: action.kind,
        ...(action.kind === 'renew' ? { reason: action.reason } : {}),
        expiresAt: new Date(token.expiresAt).toISOString(),
      },
      `Secret ${verb}`,
    );
    await events.record({
      namespace,
      type: 'Normal',
      reason: action.kind === 'renew' ? 'SecretRenewed' : 'SecretCreated',
      message: `Image pull Secret ${action.secretName} ${verb}; token expires at ${new Date(token.expiresAt).toISOString()}`,
    });
  }

  /** Applies the ServiceAccount decision; returns configured ServiceAccounts that do not exist. */
  private async syncServiceAccounts(
    namespace: string,
    pullSecrets: readonly string[],
    log: Logger,
  ): Promise<string[]> {
    const { core, config } = this.d;
    if (config.serviceAccounts !== '*' && config.serviceAccounts.length === 0) return [];
    const list = await this.kube({ namespace }, () =>
      core.listNamespacedServiceAccount({ namespace }),
    );
    const accounts = list?.items ?? [];
    const observed: ObservedServiceAccount[] = accounts.map((sa) => ({
      name: sa.metadata?.name ?? '',
      imagePullSecrets: (sa.imagePullSecrets ?? [])
        .map((r) => r.name ?? '')
        .filter((n) => n !== ''),
      addedByEatr: (sa.metadata?.annotations?.[SERVICE_ACCOUNT_ANNOTATION] ?? '')
        .split(',')
        .filter((n) => n !== ''),
    }));
    for (const change of decideServiceAccounts(observed, config.serviceAccounts, pullSecrets)) {
      const sa = accounts.find((a) => a.metadata?.name === change.name);
      if (!sa?.metadata) continue;
      const { [SERVICE_ACCOUNT_ANNOTATION]: _eatrEntries, ...others } =
        sa.metadata.annotations ?? {};
      const annotations =
        change.addedByEatr.length > 0
          ? { ...others, [SERVICE_ACCOUNT_ANNOTATION]: change.addedByEatr.join(',') }
          : others;
      const body = {
        ...sa,
        metadata: { ...sa.metadata, annotations },
        imagePullSecrets: change.imagePullSecrets.map((name) => ({ name })),
      };
      await this.write({ namespace }, () =>
        core.replaceNamespacedServiceAccount({ name: change.name, namespace, body }),
      );
      log.info(
        {
          decision: 'service-account',
          serviceAccount: change.name,
          imagePullSecrets: change.imagePullSecrets,
        },
        'ServiceAccount imagePullSecrets updated',
      );
    }
    const missing = missingServiceAccounts(observed, config.serviceAccounts);
    if (missing.length > 0 && pullSecrets.length > 0)
      log.debug({ missing }, 'configured ServiceAccounts do not exist (yet)');
    return missing;
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

  private async reportFailures(
    namespace: string,
    failures: readonly EatrError[],
    log: Logger,
  ): Promise<void> {
    for (const failure of failures) {
      const registry = failure.context.registry;
      if (failure.errorClass === 'permanent') {
        if (registry) this.d.metrics.credentialErrors.inc({ registry, reason: failure.reason });
        log.warn(
          { registry, reason: failure.reason, decision: 'failed', err: failure.message },
          'cannot write the Secret until the credentials change',
        );
        await this.d.events.record({
          namespace,
          type: 'Warning',
          reason: 'TokenFailed',
          message: failure.message,
        });
      } else {
        log.warn(
          { registry, reason: failure.reason, decision: 'retry', err: failure.message },
          'transient failure; will retry',
        );
      }
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

  /**
   * A write. 409 (someone else wrote first) and 404 (it vanished since we read it) are retried: the
   * retry re-reads, and usually finds the Secret fresh or the namespace gone.
   */
  private async write<T>(context: ErrorContext, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (kubeStatus(error) === 404)
        throw new RetryableError(
          `${describeError(error)} (changed while syncing)`,
          'changed',
          context,
          { cause: error },
        );
      throw asEatrError(error, context);
    }
  }
}

function observe(secret: V1Secret): ObservedSecret {
  return {
    name: secret.metadata?.name ?? '',
    type: secret.type,
    labels: secret.metadata?.labels ?? {},
    annotations: secret.metadata?.annotations ?? {},
  };
}

/** Any error as eatr's classified error (Kubernetes API errors by status; unknown errors retry). */
export function asEatrError(error: unknown, context: ErrorContext): EatrError {
  if (
    error instanceof RetryableError ||
    error instanceof PermanentError ||
    error instanceof GoneError
  )
    return error.withContext(context);
  const message = describeError(error);
  switch (classifyKubeError(error)) {
    case 'gone':
      return new GoneError(message, 'gone', context, { cause: error });
    case 'permanent':
      return new PermanentError(message, `http-${kubeStatus(error) ?? 'error'}`, context, {
        cause: error,
      });
    default:
      return new RetryableError(
        message,
        kubeStatus(error) === 409 ? 'conflict' : 'kube-error',
        context,
        { cause: error },
      );
  }
}
