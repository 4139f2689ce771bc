import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, type SyncReason } from '@eatr/core';
import { PendingSyncs } from './pending-syncs.js';

const silent = createLogger('test', 'silent');

/** An enqueue function that records calls and lets the test decide when each one finishes. */
function controllableEnqueue() {
  const calls: [string, SyncReason][] = [];
  const releases: (() => void)[] = [];
  let failNext = 0;
  const enqueue = async (namespace: string, reason: SyncReason): Promise<void> => {
    calls.push([namespace, reason]);
    if (failNext > 0) {
      failNext--;
      throw new Error('redis down');
    }
    await new Promise<void>((resolve) => releases.push(resolve));
  };
  return {
    enqueue,
    calls,
    failNext: (n: number) => (failNext = n),
    releaseAll: () => releases.splice(0).forEach((r) => r()),
  };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

let pending: PendingSyncs | undefined;
afterEach(async () => {
  await pending?.stop();
});

describe('PendingSyncs', () => {
  it('collapses repeated events for one namespace into one enqueue with the latest reason', async () => {
    const q = controllableEnqueue();
    pending = new PendingSyncs(q.enqueue, silent);
    pending.add('a', 'namespace');
    pending.add('a', 'credentials');
    pending.add('b', 'namespace');
    pending.start();
    await until(() => q.calls.length === 1);
    q.releaseAll();
    await until(() => q.calls.length === 2);
    q.releaseAll();
    await until(() => pending?.size === 0);
    expect(q.calls).toEqual([
      ['a', 'credentials'],
      ['b', 'namespace'],
    ]);
  });

  it('keeps an event that arrives while the same namespace is being enqueued, even with the same reason', async () => {
    const q = controllableEnqueue();
    pending = new PendingSyncs(q.enqueue, silent);
    pending.start();
    pending.add('a', 'namespace');
    await until(() => q.calls.length === 1);
    pending.add('a', 'namespace'); // the job being added may already run on the older state
    q.releaseAll();
    await until(() => q.calls.length === 2);
    q.releaseAll();
    await until(() => pending?.size === 0);
    expect(q.calls).toEqual([
      ['a', 'namespace'],
      ['a', 'namespace'],
    ]);
  });

  it('retries after an enqueue failure and loses nothing', async () => {
    const q = controllableEnqueue();
    q.failNext(2);
    pending = new PendingSyncs(q.enqueue, silent);
    pending.add('a', 'namespace');
    pending.start();
    await until(() => q.calls.length === 3);
    expect(pending.size).toBe(1);
    q.releaseAll();
    await until(() => pending?.size === 0);
  });

  it('stop() is safe to call twice and ends the loop while it waits', async () => {
    const q = controllableEnqueue();
    pending = new PendingSyncs(q.enqueue, silent);
    pending.start();
    await pending.stop();
    await pending.stop();
    pending.add('a', 'namespace');
    await new Promise((r) => setTimeout(r, 20));
    expect(q.calls).toEqual([]);
  });
});
