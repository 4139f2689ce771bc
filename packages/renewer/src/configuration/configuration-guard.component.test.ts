import { createLogger } from '@eatr/core';
import { describe, expect, it } from 'vitest';
import { ConfigurationGuard } from './configuration-guard.js';
import type { GenerationRecord } from './generation-store.js';

/** The Redis record in memory, with generation-store.ts's rules. */
class FakeStore {
  newest: GenerationRecord | undefined;
  private counter = 0;
  claim(fingerprint: string, revision: number): Promise<GenerationRecord> {
    return Promise.resolve(this.keep(fingerprint, revision, true));
  }
  refresh(fingerprint: string, revision: number): Promise<GenerationRecord> {
    return Promise.resolve(this.keep(fingerprint, revision, false));
  }
  private keep(fingerprint: string, revision: number, claim: boolean): GenerationRecord {
    const current = this.newest;
    if (current?.fingerprint === fingerprint)
      return (this.newest = { ...current, revision: Math.max(current.revision, revision) });
    if (current && (!claim || current.revision > revision)) return current;
    return (this.newest = { fingerprint, revision, generation: ++this.counter });
  }
  /** The newest settings' renewers are gone: their record expired. */
  expire(): void {
    this.newest = undefined;
  }
}

/** A guard whose callbacks resolve promises the test waits for. */
function guard(store: FakeStore, fingerprint: string, revision = 0) {
  const gauge: number[] = [];
  const transitions: string[] = [];
  let notify: (() => void) | undefined;
  const next = () => new Promise<void>((resolve) => (notify = resolve));
  const g = new ConfigurationGuard({
    store,
    fingerprint,
    revision,
    ttlMs: 30,
    onSuperseded: () => {
      transitions.push('superseded');
      notify?.();
      return Promise.resolve();
    },
    onCurrent: () => {
      transitions.push('current');
      notify?.();
      return Promise.resolve();
    },
    superseded: { set: (value) => gauge.push(value) },
    log: createLogger('renewer', 'silent'),
  });
  return { g, gauge, transitions, next };
}

describe('ConfigurationGuard', () => {
  it('the settings a renewer starts with become the newest; an older renewer stops, and takes over when the newer ones are gone', async () => {
    const store = new FakeStore();
    const older = guard(store, 'aaaa');
    expect(await older.g.start()).toEqual({ fingerprint: 'aaaa', revision: 0, generation: 1 });
    expect(older.g.isSuperseded).toBe(false);

    const stepping = older.next();
    const newer = guard(store, 'bbbb');
    expect(await newer.g.start()).toEqual({ fingerprint: 'bbbb', revision: 0, generation: 2 });
    await stepping;
    expect(older.g.isSuperseded).toBe(true);
    expect(newer.g.isSuperseded).toBe(false);

    await newer.g.stop();
    const resuming = older.next();
    store.expire();
    await resuming;
    expect(older.g.isSuperseded).toBe(false);
    expect(store.newest).toEqual({ fingerprint: 'aaaa', revision: 0, generation: 3 });
    expect(older.transitions).toEqual(['superseded', 'current']);
    expect(older.gauge).toEqual([0, 1, 0]);
    await older.g.stop();
    await older.g.stop(); // safe twice
  });

  it('renewers with the same settings share one generation and never stop', async () => {
    const store = new FakeStore();
    const a = guard(store, 'aaaa');
    const b = guard(store, 'aaaa');
    await a.g.start();
    expect(await b.g.start()).toEqual({ fingerprint: 'aaaa', revision: 0, generation: 1 });
    // An absence needs a window: twenty refresh periods (a third of the 30 ms time to live each).
    await new Promise((r) => setTimeout(r, 20 * 10));
    expect([a.transitions, b.transitions]).toEqual([[], []]);
    await a.g.stop();
    await b.g.stop();
  });

  it('a renewer of a lower revision that restarts (an old pod during a rollout) does not take over', async () => {
    const store = new FakeStore();
    const rolledOut = guard(store, 'bbbb', 8);
    await rolledOut.g.start();
    const restarted = guard(store, 'aaaa', 7);
    expect(await restarted.g.start()).toEqual({ fingerprint: 'bbbb', revision: 8, generation: 1 });
    expect(restarted.g.isSuperseded).toBe(true);
    expect(rolledOut.g.isSuperseded).toBe(false);
    // A rollback is a new, higher revision: its settings win.
    const rollback = guard(store, 'aaaa', 9);
    const stepping = rolledOut.next();
    expect(await rollback.g.start()).toEqual({ fingerprint: 'aaaa', revision: 9, generation: 2 });
    await stepping;
    expect(rolledOut.g.isSuperseded).toBe(true);
    for (const g of [rolledOut, restarted, rollback]) await g.g.stop();
  });

  it('starts without Redis (the chart starts everything at once) and claims once Redis answers', async () => {
    const store = new FakeStore();
    const other = guard(store, 'bbbb', 8);
    await other.g.start();
    let down = true;
    const flaky = {
      claim: (fingerprint: string, revision: number) =>
        down
          ? Promise.reject(new Error('Stream is not writeable'))
          : store.claim(fingerprint, revision),
      refresh: (fingerprint: string, revision: number) =>
        down
          ? Promise.reject(new Error('Stream is not writeable'))
          : store.refresh(fingerprint, revision),
    };
    const gauge: number[] = [];
    let stepped: () => void = () => undefined;
    const steppedAside = new Promise<void>((resolve) => (stepped = resolve));
    const starting = new ConfigurationGuard({
      store: flaky,
      fingerprint: 'aaaa',
      revision: 9,
      ttlMs: 30,
      onSuperseded: () => Promise.resolve(),
      onCurrent: () => Promise.resolve(),
      superseded: { set: (value) => gauge.push(value) },
      log: createLogger('renewer', 'silent'),
    });
    expect(await starting.start()).toBeUndefined();
    expect(starting.isSuperseded).toBe(false);
    // Redis is back: the loop claims (revision 9 beats 8), and the other renewer steps aside.
    const otherSteps = other.next().then(stepped);
    down = false;
    await otherSteps;
    await steppedAside;
    expect(store.newest).toEqual({ fingerprint: 'aaaa', revision: 9, generation: 2 });
    expect(other.g.isSuperseded).toBe(true);
    await starting.stop();
    await other.g.stop();
  });
});
