import {
  backoffDelay,
  describeError,
  mergeSyncData,
  sleep,
  type Logger,
  type SyncReason,
  type WaitForVersion,
} from '@eatr/core';

/**
 * Namespaces waiting to be enqueued. Watch handlers only add here, so a Redis outage never loses an
 * event: the flush loop retries with backoff until every namespace is enqueued.
 */
export class PendingSyncs {
  /**
   * Latest reason and newest versions to wait for per namespace, with a generation that tells a newer
   * add from the one in flight.
   */
  private readonly pending = new Map<
    string,
    { reason: SyncReason; waitFor: readonly WaitForVersion[] | undefined; generation: number }
  >();
  private generation = 0;
  private readonly stopper = new AbortController();
  private wake: (() => void) | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly enqueue: (
      namespace: string,
      reason: SyncReason,
      waitFor?: readonly WaitForVersion[],
    ) => Promise<void>,
    private readonly log: Logger,
  ) {}

  add(namespace: string, reason: SyncReason, waitFor?: readonly WaitForVersion[]): void {
    const previous = this.pending.get(namespace);
    const incoming = { namespace, reason, ...(waitFor ? { waitFor: [...waitFor] } : {}) };
    const merged = previous
      ? mergeSyncData(
          {
            namespace,
            reason: previous.reason,
            ...(previous.waitFor ? { waitFor: [...previous.waitFor] } : {}),
          },
          incoming,
        )
      : incoming;
    this.pending.set(namespace, {
      reason: merged.reason,
      waitFor: merged.waitFor,
      generation: ++this.generation,
    });
    this.wake?.();
  }

  get size(): number {
    return this.pending.size;
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Stops flushing; what is still pending is dropped (the next sweep covers it). Safe to call twice. */
  async stop(): Promise<void> {
    this.stopper.abort();
    this.wake?.();
    await this.running;
  }

  // A getter, so the check inside the loop is not narrowed away: stop() flips it while we await.
  private get stopped(): boolean {
    return this.stopper.signal.aborted;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopper.signal.aborted) {
      if (this.pending.size === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      try {
        for (const [namespace, { reason, waitFor, generation }] of [...this.pending]) {
          if (this.stopped) return;
          await this.enqueue(namespace, reason, waitFor);
          // An event that arrived while this one was being enqueued stays pending: the job just added
          // may already be running on the state from before it.
          if (this.pending.get(namespace)?.generation === generation)
            this.pending.delete(namespace);
        }
        failures = 0;
      } catch (error) {
        const delay = backoffDelay(failures++, 250, 10_000);
        this.log.warn(
          { err: describeError(error), pending: this.pending.size, retryInMs: delay },
          'could not enqueue; will retry',
        );
        await sleep(delay, this.stopper.signal);
      }
    }
  }
}
