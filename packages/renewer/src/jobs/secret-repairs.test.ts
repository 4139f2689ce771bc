import { describe, expect, it } from 'vitest';
import { createLogger, planSettingsOf, type SyncJobData } from '@eatr/core';
import { FakeCluster } from '../sync/testing/fakes.js';
import { EU, US, settings, written } from '../sync/testing/fixtures.js';
import { SecretRepairs } from './secret-repairs.js';

const repairsOf = (cluster: FakeCluster) => {
  const enqueued: SyncJobData[] = [];
  const repairs = new SecretRepairs({
    enqueue: (job) => {
      enqueued.push(job);
      return Promise.resolve(true);
    },
    view: cluster,
    settings: planSettingsOf(settings),
    log: createLogger('renewer', 'silent'),
  });
  return { repairs, enqueued };
};

describe('SecretRepairs: a deleted Secret of eatr', () => {
  it.each<[string, (c: FakeCluster) => FakeCluster, string, string[]]>([
    [
      'still asked for: its namespace is synced at once',
      (c) => c.addNamespace('team-a', { [EU]: 'true' }),
      EU,
      ['team-a namespace'],
    ],
    [
      'no longer asked for (eatr deleted it on opt-out): nothing',
      (c) => c.addNamespace('team-a', { [US]: 'true' }),
      EU,
      [],
    ],
    [
      'in a terminating namespace: nothing',
      (c) => c.addNamespace('team-a', { [EU]: 'true' }, true),
      EU,
      [],
    ],
    ['in a namespace the cache does not know: nothing', (c) => c, EU, []],
    [
      'a name the namespace does not use: nothing',
      (c) => c.addNamespace('team-a', { [EU]: 'true' }),
      'something-else',
      [],
    ],
  ])('%s', async (_name, setup, secret, expected) => {
    const cluster = setup(new FakeCluster());
    const { repairs, enqueued } = repairsOf(cluster);
    repairs.deleted('team-a', secret);
    await repairs.settled();
    expect(enqueued.map((j) => `${j.namespace} ${j.reason}`)).toEqual(expected);
  });

  it('logs and keeps going when the queue refuses', async () => {
    const cluster = new FakeCluster().addNamespace('team-a', { [EU]: 'true' });
    cluster.addSecret('team-a', written(EU));
    const lines: string[] = [];
    const repairs = new SecretRepairs({
      enqueue: () => Promise.reject(new Error('redis down')),
      view: cluster,
      settings: planSettingsOf(settings),
      log: createLogger('renewer', 'info', { write: (line: string) => lines.push(line) }),
    });
    repairs.deleted('team-a', EU);
    await repairs.settled();
    expect(
      lines.some((l) => l.includes('the next sweep writes it again') && l.includes('redis down')),
    ).toBe(true);
  });
});
