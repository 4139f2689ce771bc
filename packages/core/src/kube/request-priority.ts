import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Whose Kubernetes API request this is. `event`: work a person or a change is waiting for (a
 * namespace labelled, a credential Secret changed, `eatr renew`, watches and lists); `bulk`: work
 * nobody waits for (sweeps and the renewals they find due, start-up syncs). Event requests go ahead
 * of bulk ones in the client-side rate limiter, as event jobs go ahead of bulk jobs in the queue.
 */
export type RequestPriority = 'event' | 'bulk';

const current = new AsyncLocalStorage<RequestPriority>();

/**
 * Runs `work` with every API request it makes, however deep in its calls, marked `priority`.
 * Carried by the async context, so the code in between (the sync, the client library) needs no
 * parameter for it.
 */
export function withRequestPriority<T>(priority: RequestPriority, work: () => T): T {
  return current.run(priority, work);
}

/** The priority of the request being made now: `event` unless marked bulk by withRequestPriority. */
export function currentRequestPriority(): RequestPriority {
  return current.getStore() ?? 'event';
}
