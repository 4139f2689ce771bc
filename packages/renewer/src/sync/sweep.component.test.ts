import { describe, expect, it } from 'vitest';
import { AWS_RECHECK_MS, blockedFingerprint, type SweepJobData } from '@eatr/core';
import { sweep } from './sweep.js';
import { EU, H, NOW, settings, written } from './testing/fixtures.js';
import {
  FakeBlocked,
  FakeCluster,
  FakeCredentials,
  FakeJobs,
  instruments,
} from './testing/fakes.js';

function world() {
  const cluster = new FakeCluster();
  const jobs = new FakeJobs();
  const blocked = new FakeBlocked();
  const credentials = new FakeCredentials().set(EU, 'v1');
  const run = (job?: SweepJobData) =>
    sweep({
      view: cluster,
      kube: cluster,
      jobs,
      credentials,
      blocked,
      config: settings,
      ...instruments(),
      now: () => NOW,
      ...(job ? { job } : {}),
    });
  return { cluster, jobs, blocked, credentials, run };
}

describe('sweep (component: in-memory cluster and Redis)', () => {
  it('enqueues exactly the namespaces with work, at sweep priority', async () => {
    const w = world();
    w.cluster
      .addNamespace('fresh', { [EU]: 'true' })
      .addSecret('fresh', written(EU))
      .addNamespace('due', { [EU]: 'true' })
      .addSecret('due', written(EU, { age: 7 * H }))
      .addNamespace('new', { [EU]: 'true' })
      .addNamespace('opted-out', {})
      .addSecret('opted-out', written(EU))
      .addNamespace('unwired', { [EU]: 'true' })
      .addSecret('unwired', written(EU))
      .addServiceAccount('unwired', 'default')
      .addNamespace('other', {});
    const result = await w.run();
    expect(w.jobs.syncs.map((j) => j.namespace).sort()).toEqual([
      'due',
      'new',
      'opted-out',
      'unwired',
    ]);
    expect(w.jobs.syncs.every((j) => j.reason === 'sweep')).toBe(true);
    expect(result).toEqual({ namespaces: 6, optedIn: 4, enqueued: 4, blocked: 0, apiRequests: 0 });
    expect(w.cluster.reads).toEqual([]);
  });

  it('a credential sweep enqueues namespaces whose Secret came from other credentials, as events', async () => {
    const w = world();
    w.credentials.set(EU, 'v2');
    w.cluster
      .addNamespace('rotated', { [EU]: 'true' })
      .addSecret('rotated', written(EU, { version: 'v1' }))
      .addNamespace('current', { [EU]: 'true' })
      .addSecret('current', written(EU, { version: 'v2' }));
    const waitFor = [{ resource: 'credentials' as const, resourceVersion: '9' }];
    await w.run({ reason: 'credentials', waitFor });
    expect(w.jobs.syncs).toEqual([{ namespace: 'rotated', reason: 'credentials', waitFor }]);
  });

  it('a credential sweep after an access policy change revokes what it no longer allows and serves what it now does', async () => {
    const w = world();
    w.credentials.allow(EU, 'team=b');
    w.cluster
      .addNamespace('team-a', { [EU]: 'true', team: 'a' })
      .addSecret('team-a', written(EU))
      .addNamespace('team-b', { [EU]: 'true', team: 'b' })
      .addNamespace('team-c', { [EU]: 'true', team: 'c' });
    const waitFor = [{ resource: 'credentials' as const, resourceVersion: '9' }];
    await w.run({ reason: 'credentials', waitFor });
    // team-a: its Secret goes; team-b: it gets one; team-c: refused before and after, no work.
    expect(w.jobs.syncs.map((j) => j.namespace).sort()).toEqual(['team-a', 'team-b']);
  });

  it('skips work held by an unchanged block, and releases it when the credentials change', async () => {
    const w = world();
    w.credentials.set(EU, undefined);
    w.cluster.addNamespace('blocked', { [EU]: 'true' });
    await w.blocked.set('blocked', EU, {
      fingerprint: blockedFingerprint(EU, 'missing'),
      reason: 'missing-credentials',
      registry: EU,
      since: NOW - H,
      present: false,
    });
    expect((await w.run()).blocked).toBe(1);
    expect(w.jobs.syncs).toEqual([]);
    w.credentials.set(EU, 'v1');
    expect((await w.run()).enqueued).toBe(1);
  });

  it('asks AWS again through one namespace per refused registry every AWS_RECHECK_MS', async () => {
    const w = world();
    for (const ns of ['a', 'b', 'c']) {
      w.cluster.addNamespace(ns, { [EU]: 'true' });
      await w.blocked.set(ns, EU, {
        fingerprint: blockedFingerprint(EU, 'v1'),
        reason: 'access-denied',
        registry: EU,
        since: NOW - AWS_RECHECK_MS,
        checkedAt: NOW - AWS_RECHECK_MS,
        present: false,
      });
    }
    const result = await w.run();
    expect(w.jobs.syncs.length).toBe(1);
    expect(result.blocked).toBe(2);
  });

  it('looks at a foreign Secret once per name, and only while a conflict blocks a namespace', async () => {
    const w = world();
    w.cluster
      .addNamespace('team-a', { [EU]: 'true' })
      .addSecret('team-a', { metadata: { name: EU }, type: 'Opaque' });
    expect((await w.run()).apiRequests).toBe(0);
    const foreignVersion = w.cluster.secrets.get(`team-a/${EU}`)?.metadata?.resourceVersion ?? '';
    await w.blocked.set('team-a', EU, {
      fingerprint: blockedFingerprint(EU, 'v1', foreignVersion),
      reason: 'conflict',
      registry: EU,
      since: NOW,
      present: false,
    });
    w.jobs.syncs.length = 0;
    const result = await w.run();
    expect(result.apiRequests).toBe(1);
    expect(w.jobs.syncs).toEqual([]);
  });

  it('forgets records of namespaces that are gone or no longer ask for the registry', async () => {
    const w = world();
    w.cluster.addNamespace('left', {});
    await w.blocked.set('left', EU, {
      fingerprint: 'x',
      reason: 'access-denied',
      registry: EU,
      since: 0,
    });
    await w.blocked.set('deleted', EU, {
      fingerprint: 'x',
      reason: 'access-denied',
      registry: EU,
      since: 0,
    });
    await w.run();
    expect(w.blocked.entries.size).toBe(0);
  });
});
