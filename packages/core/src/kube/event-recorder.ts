import { randomBytes } from 'node:crypto';
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Logger } from 'pino';

export type EventType = 'Normal' | 'Warning';

export interface NamespaceEvent {
  readonly namespace: string;
  readonly type: EventType;
  /** CamelCase reason, e.g. SecretCreated, SecretRenewed, TokenFailed, SecretConflict. */
  readonly reason: string;
  /** Human-readable; never holds a secret value. */
  readonly message: string;
  /** An object in the namespace the Event is about (default: the namespace itself). */
  readonly object?: { readonly kind: 'ServiceAccount'; readonly name: string };
}

/**
 * Records Kubernetes Events on a namespace (`kubectl describe namespace` shows them). Repeats of the
 * same event within `repeatWindowMs` are dropped so a failing registry does not flood the API server.
 * Failing to record an event is logged, never fatal.
 */
export class EventRecorder {
  private readonly recent = new Map<string, number>();

  constructor(
    private readonly core: CoreV1Api,
    private readonly component: string,
    private readonly host: string,
    private readonly log: Logger,
    private readonly repeatWindowMs = 10 * 60_000,
  ) {}

  async record(event: NamespaceEvent): Promise<void> {
    const key = `${event.namespace}\u0000${event.object?.name ?? ''}\u0000${event.reason}\u0000${event.message}`;
    const now = Date.now();
    const last = this.recent.get(key);
    if (last !== undefined && now - last < this.repeatWindowMs) return;
    this.recent.set(key, now);
    if (this.recent.size > 10_000) this.prune(now);
    const time = new Date(now);
    try {
      await this.core.createNamespacedEvent({
        namespace: event.namespace,
        body: {
          metadata: {
            name: `${event.namespace}.${now.toString(16)}${randomBytes(4).toString('hex')}`,
            namespace: event.namespace,
          },
          // A cluster-scoped involvedObject would force the Event into `default`; naming the namespace
          // keeps it where users look (`kubectl get events -n <namespace>`).
          involvedObject: {
            apiVersion: 'v1',
            kind: event.object?.kind ?? 'Namespace',
            name: event.object?.name ?? event.namespace,
            namespace: event.namespace,
          },
          type: event.type,
          reason: event.reason,
          message: event.message,
          source: { component: this.component, host: this.host },
          reportingComponent: `eatr.io/${this.component}`,
          reportingInstance: this.host,
          firstTimestamp: time,
          lastTimestamp: time,
          count: 1,
        },
      });
    } catch (error) {
      this.log.warn(
        { namespace: event.namespace, reason: event.reason, err: String(error) },
        'could not record event',
      );
    }
  }

  private prune(now: number): void {
    for (const [key, at] of this.recent)
      if (now - at >= this.repeatWindowMs) this.recent.delete(key);
  }
}
