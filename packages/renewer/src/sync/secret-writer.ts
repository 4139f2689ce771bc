import type { V1Secret } from '@kubernetes/client-node';
import {
  EventReason,
  LogMessage,
  PermanentError,
  kubeStatus,
  planSecret,
  type Logger,
  type PlannedSecret,
  type RenewerConfig,
  type RenewerMetrics,
  type SecretAction,
} from '@eatr/core';
import { observeSecret } from '../cache/projections.js';
import type { CredentialState } from '../credentials/credential-resolver.js';
import type { TokenRequestOptions } from '../tokens/token-cache.js';
import { asEatrError } from './eatr-error.js';
import type { ClusterView, EventSink, KubeWrites, TokenSource } from './ports.js';
import { buildPullSecret } from './pull-secret.js';
import type { SeriesTracker } from './series-tracker.js';

/** Writes that lose a race (409) are decided again from the fresh object this many times. */
const CONFLICT_ATTEMPTS = 3;

export interface SecretWriterDependencies {
  readonly view: ClusterView;
  readonly kube: KubeWrites;
  readonly tokens: TokenSource;
  readonly events: EventSink;
  readonly config: Pick<
    RenewerConfig,
    'renewalIntervalMs' | 'dockerEmail' | 'instance' | 'secretLabels' | 'secretAnnotations'
  >;
  readonly metrics: RenewerMetrics;
  readonly series: SeriesTracker;
  readonly now: () => number;
}

/** What is there after one action: eatr's Secret, nothing, or someone else's Secret (its version). */
export type SecretOutcome =
  | { readonly kind: 'present' }
  | { readonly kind: 'absent' }
  | {
      readonly kind: 'conflict';
      readonly foreignVersion: string;
      /** The other eatr release's instance, when the Secret is one of its. */
      readonly owner: string | undefined;
    };

/**
 * Carries out one Secret action of a plan: one token and one write (two for a type change). A write
 * that loses a race (409, or 404 on an update) reads the Secret and decides again by the plan's rule.
 * Throws classified errors.
 */
export class SecretWriter {
  constructor(private readonly d: SecretWriterDependencies) {}

  async apply(
    namespace: string,
    first: SecretAction,
    planned: PlannedSecret<CredentialState> | undefined,
    tokenOptions: TokenRequestOptions,
    log: Logger,
  ): Promise<SecretOutcome> {
    let action = first;
    let current: V1Secret | undefined; // set once a lost race made us read it
    for (let attempt = 1; ; attempt++) {
      const alog = log.child({ registry: action.registry, secret: action.secretName });
      try {
        switch (action.kind) {
          case 'leave':
            alog.debug({ decision: 'leave' }, LogMessage.secretFresh);
            return { kind: 'present' };
          case 'conflict':
            return {
              kind: 'conflict',
              // Read after a lost race; else another eatr release's Secret, as the cache holds it.
              foreignVersion:
                current?.metadata?.resourceVersion ??
                this.cachedVersion(namespace, action.secretName) ??
                '',
              owner: action.owner,
            };
          case 'delete':
            await this.delete(namespace, action.secretName, alog);
            return { kind: 'absent' };
          default:
            await this.write(namespace, action, planned, current, tokenOptions, alog);
            return { kind: 'present' };
        }
      } catch (error) {
        const status = kubeStatus(error);
        const raced = status === 409 || (status === 404 && action.kind !== 'delete');
        if (!raced || attempt >= CONFLICT_ATTEMPTS) throw error;
        current = await this.read(namespace, action.secretName);
        const next = planSecret(
          current && observeSecret(current),
          planned,
          action.secretName,
          this.d.now(),
          this.d.config.instance,
        );
        if (next === undefined) return { kind: 'absent' };
        alog.debug({ decision: next.kind, attempt }, LogMessage.raceLost);
        action = next;
      }
    }
  }

  private cachedVersion(namespace: string, name: string): string | undefined {
    return this.d.view.secretsIn(namespace).find((s) => s.metadata.name === name)?.metadata
      .resourceVersion;
  }

  private async read(namespace: string, name: string): Promise<V1Secret | undefined> {
    try {
      return await this.d.kube.readSecret(namespace, name);
    } catch (error) {
      throw asEatrError(error, { namespace });
    }
  }

  private async delete(namespace: string, name: string, log: Logger): Promise<void> {
    try {
      await this.d.kube.deleteSecret(namespace, name);
    } catch (error) {
      if (kubeStatus(error) !== 404) throw asEatrError(error, { namespace });
    }
    this.d.series.dropSecret(namespace, name);
    this.d.metrics.secretActions.inc({ action: 'delete' });
    log.info({ decision: 'delete' }, LogMessage.secretDeleted);
    await this.d.events.record({
      namespace,
      type: 'Normal',
      reason: EventReason.SecretDeleted,
      message: `Deleted image pull Secret ${name}`,
    });
  }

  /** Create, renew or replace. */
  private async write(
    namespace: string,
    action: Extract<SecretAction, { kind: 'create' | 'renew' | 'replace' }>,
    planned: PlannedSecret<CredentialState> | undefined,
    current: V1Secret | undefined,
    tokenOptions: TokenRequestOptions,
    log: Logger,
  ): Promise<void> {
    const { kube, metrics, config } = this.d;
    const credentials = planned?.credentials;
    if (!planned || !credentials)
      throw new PermanentError('internal: no registry for action', 'internal', { namespace });
    if (!credentials.ok) throw credentials.error;
    const token = await this.d.tokens.token(credentials.value, planned.registry, tokenOptions);
    // The version the decision read: after a lost race, the fresh object's; else the cache's.
    const resourceVersion =
      current?.metadata?.resourceVersion ?? this.cachedVersion(namespace, action.secretName);
    const body = buildPullSecret({
      namespace,
      secretName: action.secretName,
      registry: planned.registry.host,
      token,
      credentialsVersion: credentials.value.version,
      renewalIntervalMs: config.renewalIntervalMs,
      instance: config.instance,
      email: credentials.value.spec.email ?? config.dockerEmail,
      extraLabels: config.secretLabels,
      extraAnnotations: config.secretAnnotations,
      format: planned.format,
      ...(action.kind === 'renew' && resourceVersion ? { resourceVersion } : {}),
    });
    if (action.kind === 'renew') {
      await kube.patchSecret(namespace, action.secretName, body);
      metrics.secretRenewals.inc();
    } else {
      // Type is immutable: delete (only that exact version) and create.
      if (action.kind === 'replace')
        await kube.deleteSecret(namespace, action.secretName, resourceVersion);
      await kube.createSecret(namespace, body);
    }
    metrics.secretActions.inc({ action: action.kind === 'replace' ? 'create' : action.kind });
    this.d.series.secretWritten(namespace, action.secretName);
    const renewed = action.kind === 'renew';
    const expiresAt = new Date(token.expiresAt).toISOString();
    log.info(
      { decision: action.kind, ...(renewed ? { reason: action.reason } : {}), expiresAt },
      renewed ? LogMessage.secretRenewed : LogMessage.secretCreated,
    );
    // A routine renewal is not worth an API request; creations are what users look for.
    if (!renewed || action.reason === 'adopted')
      await this.d.events.record({
        namespace,
        type: 'Normal',
        reason: EventReason.SecretCreated,
        message: `${planned.format === 'pull' ? 'Image pull Secret' : 'Argo CD repository credentials Secret'} ${action.secretName} ${renewed ? 'renewed' : 'created'}; token expires at ${expiresAt}`,
      });
  }
}
