import {
  LogMessage,
  describeError,
  planNamespace,
  type Logger,
  type PlanSettings,
  type SyncJobData,
} from '@eatr/core';
import type { CachedNamespace } from '../cache/projections.js';
import { namespaceView } from '../sync/namespace-view.js';
import type { ClusterView } from '../sync/ports.js';

export interface SecretRepairsDependencies {
  /** Enqueues a sync (enqueueSync on the queue). */
  readonly enqueue: (job: SyncJobData) => Promise<unknown>;
  readonly view: ClusterView & { namespace(name: string): CachedNamespace | undefined };
  readonly settings: PlanSettings;
  readonly log: Logger;
}

/**
 * Turns the deletion of one of eatr's Secrets, as this renewer's watch sees it, into a sync of its
 * namespace when the namespace still asks for that Secret (someone deleted it by hand, or a GitOps
 * tool pruned it): Pods there would otherwise fail to pull until the next sweep. eatr's own deletes
 * (opt-out, a refused role) leave Secrets the plan no longer wants, so they enqueue nothing. Every
 * renewer sees the event; the queue folds their syncs into one (one job id per namespace).
 */
export class SecretRepairs {
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly d: SecretRepairsDependencies) {}

  /** Resolves once every repair asked for so far was enqueued (or failed and was logged). */
  settled(): Promise<void> {
    return this.pending;
  }

  deleted(namespace: string, name: string): void {
    const ns = this.d.view.namespace(namespace);
    if (!ns) return;
    const plan = planNamespace({
      namespace: namespaceView(this.d.view, ns),
      settings: this.d.settings,
      now: Date.now(),
    });
    if (!plan.secrets.some((s) => s.secretName === name)) return;
    this.d.log.info(
      { namespace, secret: name, decision: 'repair' },
      LogMessage.secretDeletedByOthers,
    );
    this.pending = this.pending.then(async () => {
      try {
        // Reason `namespace` on the wire: the previous release's renewers know no other event
        // reason to take it by (a new reason is for the release after this one).
        await this.d.enqueue({ namespace, reason: 'namespace' });
      } catch (error) {
        // The next sweep writes it again; say so rather than lose it quietly.
        this.d.log.warn(
          { namespace, secret: name, err: describeError(error) },
          'could not enqueue the repair of a deleted Secret; the next sweep writes it again',
        );
      }
    });
  }
}
