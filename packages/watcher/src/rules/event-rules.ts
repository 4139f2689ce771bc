import { isDeepStrictEqual } from 'node:util';
import {
  LogMessage,
  describeError,
  isMalformedPullSecretsLabel,
  isWired,
  planNamespace,
  type BlockedEntry,
  type CachedNamespace,
  type Logger,
  type PlanSettings,
  type SyncReason,
  type ViewedServiceAccount,
  type WaitForVersion,
  type WatchEventType,
  type WatcherMetrics,
} from '@eatr/core';
import type { WatchedServiceAccount } from '../watched-objects.js';

/** What the rules ask for. */
export interface WatcherJobs {
  /** Queue a sync of one namespace (deduplicated, retried until Redis takes it). */
  syncNamespace(namespace: string, reason: SyncReason, waitFor: readonly WaitForVersion[]): void;
}

export interface EventRuleDependencies {
  readonly settings: PlanSettings;
  /** The namespace watch's current view. */
  readonly namespace: (name: string) => CachedNamespace | undefined;
  /** The renewers' blocked records of one namespace, by subject (BlockedStore.get). */
  readonly blocked: (
    namespace: string,
    subjects: readonly string[],
  ) => Promise<ReadonlyMap<string, BlockedEntry>>;
  readonly jobs: WatcherJobs;
  readonly metrics: WatcherMetrics;
  readonly log: Logger;
}

/**
 * The watcher's event -> job rules: which watch events need a sync or a sweep. What a namespace
 * needs comes from planNamespace, the rule the renewer syncs by, so an event enqueues a job only
 * when the renewer would change something. The first list of each watch only tells what exists:
 * callers pass events after it (the start-up sweep covers the rest).
 */
export class EventRules {
  constructor(private readonly d: EventRuleDependencies) {}

  /**
   * A change in which registries a namespace asks for needs a sync, and so does any other label
   * change of a namespace that asks for some (the credentials' access policies and the tenant role
   * allowlist select namespaces by label), and a change of its eatr.io/role-* or eatr.io/secret-name
   * annotations. Other
   * edits (other annotations, status) do not.
   */
  onNamespace(
    type: WatchEventType,
    ns: CachedNamespace,
    previous: CachedNamespace | undefined,
  ): void {
    const name = ns.metadata.name;
    if (!name) return;
    const before = this.registries(previous);
    if (type === 'DELETED') {
      if (before.length > 0)
        this.d.log.debug({ namespace: name }, 'namespace deleted; Kubernetes removes its Secrets');
      return;
    }
    const now = this.registries(ns);
    // Labels select credentials (access policies) and roles (--tenant-roles); the role annotations
    // name the role, eatr.io/secret-name its Secrets. Each changes what a namespace that asks for
    // registries gets.
    const changed =
      now.length !== before.length ||
      now.some((host, i) => host !== before[i]) ||
      (now.length > 0 &&
        (!isDeepStrictEqual(previous?.metadata.labels ?? {}, ns.metadata.labels) ||
          !isDeepStrictEqual(previous?.metadata.annotations, ns.metadata.annotations)));
    if ((type === 'ADDED' && now.length > 0) || (type === 'MODIFIED' && changed)) {
      this.d.log.info(
        { namespace: name, event: type, registries: now, previous: before },
        LogMessage.namespaceNeedsSync,
      );
      this.d.jobs.syncNamespace(name, 'namespace', [
        { resource: 'namespaces', resourceVersion: ns.metadata.resourceVersion },
      ]);
    }
  }

  /**
   * A wired ServiceAccount the renewer would change (an entry missing for a Secret the namespace has,
   * or one eatr added that is no longer wanted): sync its namespace, so a late `default`, a recreated
   * one or an entry a GitOps tool removed is repaired now, not at the next renewal. A Secret the
   * renewers recorded as blocked and absent is not wanted on it, as the renewer would not add it.
   */
  async onServiceAccount(
    type: WatchEventType,
    sa: WatchedServiceAccount,
    previous: WatchedServiceAccount | undefined,
  ): Promise<void> {
    if (type === 'DELETED') {
      // Out of the label watch (deleted, or its eatr.io/pull-secrets label removed) with entries
      // eatr added that the list does not keep: the renewer removes them (or finds it gone).
      if (
        sa.pullSecretsLabel !== undefined &&
        sa.addedByEatr.length > 0 &&
        !isWired({ name: sa.metadata.name }, this.d.settings.serviceAccounts)
      ) {
        this.d.log.info(
          { namespace: sa.metadata.namespace, serviceAccount: sa.metadata.name, event: type },
          LogMessage.serviceAccountNeedsSync,
        );
        this.d.jobs.syncNamespace(sa.metadata.namespace, 'serviceaccount', [
          { resource: 'serviceaccounts', resourceVersion: sa.metadata.resourceVersion },
        ]);
      }
      return;
    }
    // eatr's own patches land here too; an edit that kept the entries changes nothing either.
    if (type === 'MODIFIED' && previous && sameEntries(previous, sa)) return;
    const namespace = sa.metadata.namespace;
    // A label value eatr cannot read changes nothing, but its owner should hear (the renewer's
    // sync records a Warning on the ServiceAccount).
    const newlyMalformed =
      isMalformedPullSecretsLabel(sa.pullSecretsLabel) &&
      previous?.pullSecretsLabel !== sa.pullSecretsLabel;
    if (!newlyMalformed && !this.needsChange(sa, new Map())) return;
    const subjects = this.planFor(sa, new Map()).secrets.map((s) => s.secretName);
    let blocked: ReadonlyMap<string, BlockedEntry> = new Map();
    try {
      blocked = await this.d.blocked(namespace, subjects);
    } catch (error) {
      // Without the records, sync anyway: a sync that changes nothing costs no API request.
      this.d.log.debug({ namespace, err: describeError(error) }, 'could not read blocked records');
    }
    if (!newlyMalformed && !this.needsChange(sa, blocked)) {
      this.d.log.debug(
        { namespace, serviceAccount: sa.metadata.name, event: type },
        'ServiceAccount lacks only Secrets the namespace cannot have yet; no sync',
      );
      return;
    }
    this.d.log.info(
      { namespace, serviceAccount: sa.metadata.name, event: type },
      LogMessage.serviceAccountNeedsSync,
    );
    this.d.jobs.syncNamespace(namespace, 'serviceaccount', [
      { resource: 'serviceaccounts', resourceVersion: sa.metadata.resourceVersion },
    ]);
  }

  private registries(ns: CachedNamespace | undefined): string[] {
    if (!ns?.metadata.name) return [];
    // Registries refused for the namespace's role or outside the served namespaces count: the
    // renewer reports the refusal.
    const plan = this.plan(ns, [], new Map());
    return [
      ...plan.secrets.map((s) => s.registry.host),
      ...plan.roleRefused.map((r) => r.host),
      ...plan.notServed.map((r) => r.host),
    ];
  }

  private needsChange(sa: WatchedServiceAccount, blocked: ReadonlyMap<string, BlockedEntry>) {
    return this.planFor(sa, blocked).serviceAccounts.length > 0;
  }

  private planFor(sa: WatchedServiceAccount, blocked: ReadonlyMap<string, BlockedEntry>) {
    const ns = this.d.namespace(sa.metadata.namespace);
    const viewed = {
      name: sa.metadata.name,
      imagePullSecrets: sa.pullSecrets,
      addedByEatr: sa.addedByEatr,
      pullSecretsLabel: sa.pullSecretsLabel,
      resourceVersion: sa.metadata.resourceVersion,
    };
    return this.plan(ns, [viewed], blocked);
  }

  private plan(
    ns: CachedNamespace | undefined,
    serviceAccounts: readonly ViewedServiceAccount[],
    blocked: ReadonlyMap<string, BlockedEntry>,
  ) {
    return planNamespace({
      namespace: ns && {
        name: ns.metadata.name,
        labels: ns.metadata.labels,
        annotations: ns.metadata.annotations,
        terminating: ns.metadata.terminating,
        serviceAccounts,
      },
      settings: this.d.settings,
      blocked,
      now: Date.now(),
    });
  }
}

function sameEntries(a: WatchedServiceAccount, b: WatchedServiceAccount): boolean {
  return (
    a.pullSecrets.join(',') === b.pullSecrets.join(',') &&
    a.addedByEatr.join(',') === b.addedByEatr.join(',') &&
    a.pullSecretsLabel === b.pullSecretsLabel
  );
}
