import {
  ALLOWED_NAMESPACES_ANNOTATION,
  PULL_SECRETS_LABEL,
  ROLE_ARN_ANNOTATION,
  isMalformedPullSecretsLabel,
  type TenantRoleDecision,
  EventReason,
  LOCAL_REASONS,
  LogMessage,
  describeAccessRule,
  parseBlockedSubject,
  type AccessRule,
  type BlockedEntry,
  type RefusedRegistry,
  type EatrError,
  type Logger,
  type RenewerMetrics,
  type SecretNameCollision,
  type RegistryHost,
} from '@eatr/core';
import { tokenFailureEventMessage } from '../aws/aws-errors.js';
import type { BlockedRecords, EventSink, JobSink } from './ports.js';
import type { SeriesTracker } from './series-tracker.js';

/** A permanent failure of one Secret (or ServiceAccount), with the inputs it depends on. */
export interface Blocked {
  /** A Secret name, or serviceAccountKey(). */
  readonly subject: string;
  readonly error: EatrError;
  readonly fingerprint: string;
  readonly foreignVersion?: string;
  /** Whether a usable Secret of eatr's is there anyway (ServiceAccounts keep referencing it). */
  readonly present: boolean;
}

export interface BlockedReportDependencies {
  readonly blocked: BlockedRecords;
  readonly jobs: JobSink;
  readonly events: EventSink;
  readonly metrics: RenewerMetrics;
  readonly series: SeriesTracker;
  readonly secretNameTemplate: string;
  readonly now: () => number;
}

/**
 * Records which Secrets of a namespace are blocked and why, and reports each cause once: a Warning
 * Event, the metric and a log line when a pair becomes blocked or its inputs change, not on every sync.
 */
export async function recordBlocked(
  d: BlockedReportDependencies,
  namespace: string,
  blocked: readonly Blocked[],
  before: ReadonlyMap<string, BlockedEntry>,
  outcome: { written: ReadonlySet<string>; healthy: ReadonlySet<string> },
  log: Logger,
): Promise<void> {
  const now = d.now();
  // Only a success ends a block: a transient failure says nothing about the cause.
  const unblocked = [...before.keys()].filter(
    (name) => outcome.written.has(name) || outcome.healthy.has(name),
  );
  await d.blocked.clear(namespace, unblocked);
  // A token came for a registry AWS had denied: serve its other namespaces now, asking AWS again
  // even where a renewer still remembers the refusal.
  for (const name of unblocked) {
    const entry = before.get(name);
    if (entry && !LOCAL_REASONS.has(entry.reason) && outcome.written.has(name)) {
      const cleared = await d.blocked.clearRegistry(entry.registry);
      const others = [...new Set(cleared.map((key) => key.namespace))].filter(
        (other) => other !== namespace,
      );
      for (const other of others)
        await d.jobs.enqueueSync({ namespace: other, reason: 'recovered', force: 'retry' });
      log.info(
        { registry: entry.registry, cleared: cleared.length, enqueued: others.length },
        LogMessage.registryRecovered,
      );
    }
  }
  // AWS refused: one probe chain per registry asks again soon, then every minute (enqueueProbe).
  for (const registry of new Set(
    blocked
      .filter((b) => !LOCAL_REASONS.has(b.error.reason) && b.error.context.registry)
      .map((b) => b.error.context.registry ?? ''),
  )) {
    if (await d.jobs.enqueueProbe({ registry }))
      log.info({ registry, decision: 'probe' }, LogMessage.awsRefusedProbe);
  }
  for (const b of blocked) {
    const registry = b.error.context.registry ?? '';
    const previous = before.get(b.subject);
    const repeated = previous?.fingerprint === b.fingerprint && previous.reason === b.error.reason;
    await d.blocked.set(namespace, b.subject, {
      fingerprint: b.fingerprint,
      reason: b.error.reason,
      registry,
      since: repeated ? previous.since : now,
      checkedAt: now,
      present: b.present,
      ...(b.foreignVersion !== undefined ? { foreignVersion: b.foreignVersion } : {}),
    });
    if (repeated) {
      log.debug({ registry, reason: b.error.reason, decision: 'blocked' }, LogMessage.stillBlocked);
      continue;
    }
    await report(d, namespace, b, registry, log);
  }
}

/** The first report of one cause: a log line, an Event and (for credentials or AWS) the metric. */
async function report(
  d: BlockedReportDependencies,
  namespace: string,
  b: Blocked,
  registry: string,
  log: Logger,
): Promise<void> {
  const subject = parseBlockedSubject(b.subject);
  if (subject.kind === 'serviceaccount') {
    log.warn(
      {
        serviceAccount: subject.name,
        reason: b.error.reason,
        decision: 'failed',
        err: b.error.message,
      },
      LogMessage.serviceAccountRefused,
    );
    await d.events.record({
      namespace,
      type: 'Warning',
      reason: EventReason.ServiceAccountFailed,
      message: `Could not update imagePullSecrets of ServiceAccount ${subject.name}: ${b.error.message}`,
    });
    return;
  }
  if (b.error.reason === 'conflict') {
    d.series.conflict(namespace);
    log.warn(
      { registry, secret: subject.name, decision: 'conflict', err: b.error.message },
      LogMessage.conflict,
    );
    await d.events.record({
      namespace,
      type: 'Warning',
      reason: EventReason.SecretConflict,
      message: b.error.message,
    });
    return;
  }
  d.metrics.credentialErrors.inc({ registry, reason: b.error.reason });
  log.warn(
    { registry, reason: b.error.reason, decision: 'failed', err: b.error.message },
    LogMessage.credentialsBlocked,
  );
  await d.events.record({
    namespace,
    type: 'Warning',
    reason: EventReason.TokenFailed,
    // Never AWS's text (ARNs, other accounts' ids): that is in the log line above.
    message: tokenFailureEventMessage(b.error, registry),
  });
}

/** Registries the name template leaves unserved: a log line and a Warning Event each. */
export async function reportCollisions(
  d: Pick<BlockedReportDependencies, 'events' | 'secretNameTemplate'>,
  namespace: string,
  collisions: readonly SecretNameCollision[],
  log: Logger,
): Promise<void> {
  for (const c of collisions) {
    log.warn(
      { registry: c.registry.host, secret: c.secretName, heldBy: c.heldBy, decision: 'collision' },
      LogMessage.nameCollision,
    );
    await d.events.record({
      namespace,
      type: 'Warning',
      reason: EventReason.SecretNameCollision,
      message: `Registries ${c.heldBy} and ${c.registry.host} both map to Secret ${c.secretName} under the name template "${d.secretNameTemplate}"; only ${c.heldBy} is served. Use {{registry}} in the template.`,
    });
  }
}

/**
 * One Warning Event for the registries a namespace asks for beyond the cap (named up to a few, as an
 * Event message is for people), and one log line with the count.
 */
export async function reportOverCap(
  d: Pick<BlockedReportDependencies, 'events'>,
  namespace: string,
  overCap: readonly RegistryHost[],
  max: number,
  log: Logger,
): Promise<void> {
  if (overCap.length === 0) return;
  log.warn({ left: overCap.length, max, decision: 'over-cap' }, LogMessage.tooManyRegistries);
  const named = overCap.slice(0, 3).map((r) => r.host);
  const more = overCap.length > named.length ? ` and ${overCap.length - named.length} more` : '';
  await d.events.record({
    namespace,
    type: 'Warning',
    reason: EventReason.TooManyRegistries,
    message: `The namespace asks for more than ${max} registries (--max-registries-per-namespace); ${overCap.length} are not served: ${named.join(', ')}${more}.`,
  });
}

/**
 * Registries the namespace asked for but may not use (the credentials' access policy): one Warning
 * Event each (the recorder counts repeats), naming the rule and how to change it.
 */
export async function reportRefused(
  d: Pick<BlockedReportDependencies, 'events'>,
  namespace: string,
  refused: readonly RefusedRegistry[],
  log: Logger,
): Promise<void> {
  for (const { registry, rule } of refused) {
    log.warn(
      { registry: registry.host, source: rule.source, decision: 'refused-by-policy' },
      LogMessage.refusedByPolicy,
    );
    await d.events.record({
      namespace,
      type: 'Warning',
      reason: EventReason.RegistryNotAllowed,
      message: refusedMessage(registry.host, rule),
    });
  }
}

/**
 * A namespace whose eatr.io/role-arn is refused (not on the allowlist, or malformed): one Warning
 * Event for the namespace (the recorder folds repeats), whatever the number of registries.
 */
export async function reportRoleRefused(
  d: Pick<BlockedReportDependencies, 'events'>,
  namespace: string,
  role: TenantRoleDecision,
  registries: readonly RegistryHost[],
  log: Logger,
): Promise<void> {
  if (role.kind !== 'refused' || registries.length === 0) return;
  log.warn(
    {
      roleArn: role.roleArn,
      serviceAccount: role.serviceAccount,
      reason: role.reason,
      registries: registries.map((r) => r.host),
      decision: 'role-refused',
    },
    LogMessage.roleRefused,
  );
  await d.events.record({
    namespace,
    type: 'Warning',
    reason: EventReason.RoleNotAllowed,
    message: `${role.message}. This namespace gets no image pull Secret (${registries.length} registr${registries.length === 1 ? 'y' : 'ies'}) until an eatr admin allows the role, or ${ROLE_ARN_ANNOTATION} is fixed or removed.`,
  });
}

/** A labelled namespace outside --served-namespaces: one Warning Event, nothing else touched. */
export async function reportNotServed(
  d: Pick<BlockedReportDependencies, 'events'>,
  namespace: string,
  registries: readonly RegistryHost[],
  log: Logger,
): Promise<void> {
  if (registries.length === 0) return;
  const hosts = registries.map((r) => r.host);
  log.warn({ registries: hosts, decision: 'not-served' }, LogMessage.notServed);
  await d.events.record({
    namespace,
    type: 'Warning',
    reason: EventReason.NamespaceNotServed,
    message: notServedMessage(hosts),
  });
}

/** A namespace's eatr.io/secret-name annotation that is not used: one Warning Event on the namespace. */
export async function reportSecretNameProblem(
  d: Pick<BlockedReportDependencies, 'events'>,
  namespace: string,
  problem: string | undefined,
  log: Logger,
): Promise<void> {
  if (problem === undefined) return;
  log.warn({ decision: 'secret-name-invalid', err: problem }, LogMessage.secretNameInvalid);
  await d.events.record({
    namespace,
    type: 'Warning',
    reason: EventReason.SecretNameInvalid,
    message: `The namespace's ${problem}. Fix or remove the annotation.`,
  });
}

/** ServiceAccounts whose eatr.io/pull-secrets label is neither `true` nor `false`: a Warning on each. */
export async function reportMalformedPullSecretsLabels(
  d: Pick<BlockedReportDependencies, 'events'>,
  namespace: string,
  accounts: readonly { readonly name: string; readonly pullSecretsLabel?: string | undefined }[],
  log: Logger,
): Promise<void> {
  for (const sa of accounts) {
    const value = sa.pullSecretsLabel;
    if (!isMalformedPullSecretsLabel(value)) continue;
    log.warn(
      { serviceAccount: sa.name, value, decision: 'label-ignored' },
      LogMessage.pullSecretsLabelInvalid,
    );
    await d.events.record({
      namespace,
      type: 'Warning',
      reason: EventReason.PullSecretsLabelInvalid,
      message: `Label ${PULL_SECRETS_LABEL}=${JSON.stringify(value.slice(0, 63))} is ignored: eatr reads only "true" (add eatr's pull Secrets to this ServiceAccount) and "false" (never add them); the --service-accounts setting decides meanwhile.`,
      object: { kind: 'ServiceAccount', name: sa.name },
    });
  }
}

/** Why a namespace outside the served list gets nothing (an Event's and the CLI's text). */
export function notServedMessage(hosts: readonly string[]): string {
  return `This namespace asks for ${hosts.join(', ')} but this eatr install serves only the namespaces listed in its served namespaces (chart value config.servedNamespaces), so it leaves this namespace alone: no image pull Secret, no ServiceAccount change. An eatr admin can add the namespace to the list; remove the label to stop asking.`;
}

/** Why a namespace gets no Secret for a registry, and what to change (an Event's and the CLI's text). */
export function refusedMessage(registryHost: string, rule: AccessRule): string {
  return `Registry ${registryHost} is not served in this namespace: its credentials are limited by ${describeAccessRule(rule, registryHost)}, which this namespace does not match. An eatr admin can widen it (annotation ${ALLOWED_NAMESPACES_ANNOTATION} on the credential Secret); remove the label to stop asking.`;
}

/** What a Secret eatr may not touch means, and what its owner can do (an Event's and a log's text). */
export function conflictMessage(secretName: string, otherInstance: string | undefined): string {
  return otherInstance === undefined
    ? `Secret ${secretName} exists and is not managed by eatr, so eatr leaves it alone. Delete it, or annotate it eatr.io/adopt=true to let eatr manage it.`
    : `Secret ${secretName} is managed by another eatr release (instance "${otherInstance}"), so this release leaves it alone. Give the two releases different registries or Secret name templates.`;
}
