import { describe, expect, it } from 'vitest';
import { EventReason, PermanentError, ROLE_ARN_ANNOTATION, parseTenantRoles } from '@eatr/core';
import { NamespaceSync } from './namespace-sync.js';
import { EU, H, NOW, US, settings, written } from './testing/fixtures.js';
import {
  FakeApiError,
  FakeBlocked,
  FakeCluster,
  FakeCredentials,
  FakeEvents,
  FakeJobs,
  FakeTokens,
  instruments,
} from './testing/fakes.js';

const ROLE = 'arn:aws:iam::111122223333:role/team-a-pull';
const roleSettings = {
  ...settings,
  tenantRoles: parseTenantRoles(
    JSON.stringify([
      { namespaces: 'team=a', roleArns: ['arn:aws:iam::111122223333:role/team-a-*'] },
    ]),
  ),
};

function world(config = settings) {
  const cluster = new FakeCluster();
  const jobs = new FakeJobs();
  const blocked = new FakeBlocked();
  const credentials = new FakeCredentials().set(EU, 'v1').set(US, 'v1');
  const tokens = new FakeTokens(() => NOW);
  const events = new FakeEvents();
  const sync = new NamespaceSync({
    view: cluster,
    kube: cluster,
    jobs,
    config,
    credentials,
    tokens,
    events,
    blocked,
    ...instruments(),
    now: () => NOW,
  });
  const run = (namespace = 'team-a', force?: 'renew' | 'retry') =>
    sync.run({ namespace, reason: 'namespace', ...(force ? { force } : {}) }, NOW);
  return { cluster, jobs, blocked, credentials, tokens, events, run };
}

describe('NamespaceSync (component: in-memory cluster, Redis and ECR)', () => {
  it('a labelled namespace gets its Secret and its default ServiceAccount the entry', async () => {
    const w = world();
    w.cluster.addNamespace('team-a', { [EU]: 'true' }).addServiceAccount('team-a', 'default');
    const result = await w.run();
    expect(result).toEqual({ result: 'success', actions: { create: 1 } });
    expect(w.cluster.writes).toEqual([`create team-a/${EU}`, `patch team-a/default [${EU}]`]);
    expect(w.tokens.calls).toEqual([EU]);
    expect(w.events.reasons()).toEqual([`team-a ${EventReason.SecretCreated}`]);
  });

  it('a namespace with fresh Secrets and wired ServiceAccounts costs no request and no token', async () => {
    const w = world();
    w.cluster
      .addNamespace('team-a', { [EU]: 'true' })
      .addSecret('team-a', written(EU))
      .addServiceAccount('team-a', 'default', [EU], [EU]);
    expect(await w.run()).toEqual({ result: 'success', actions: { leave: 1 } });
    expect(w.cluster.writes).toEqual([]);
    expect(w.cluster.reads).toEqual([]);
    expect(w.tokens.calls).toEqual([]);
  });

  it('renews a due Secret in place, and only that one', async () => {
    const w = world();
    w.cluster
      .addNamespace('team-a', { [EU]: 'true', [US]: 'true' })
      .addSecret('team-a', written(EU, { age: 7 * H }))
      .addSecret('team-a', written(US));
    expect((await w.run()).actions).toEqual({ renew: 1, leave: 1 });
    expect(w.cluster.writes).toEqual([`replace team-a/${EU}`]);
  });

  it('opting out deletes the Secret (after reading the namespace once) and unwires it', async () => {
    const w = world();
    w.cluster
      .addNamespace('team-a', {})
      .addSecret('team-a', written(EU))
      .addServiceAccount('team-a', 'default', ['mine', EU], [EU]);
    expect((await w.run()).actions).toEqual({ delete: 1 });
    expect(w.cluster.reads).toEqual(['namespace team-a']);
    expect(w.cluster.writes).toEqual([`delete team-a/${EU}`, 'patch team-a/default [mine]']);
    expect(w.events.reasons()).toEqual([`team-a ${EventReason.SecretDeleted}`]);
  });

  it("a namespace outside the credentials' access policy gets no Secret and a Warning; one already written goes", async () => {
    const w = world();
    w.credentials.allow(EU, 'team=a');
    w.cluster
      .addNamespace('team-a', { [EU]: 'true', team: 'a' })
      .addNamespace('team-b', { [EU]: 'true', team: 'b' })
      .addSecret('team-b', written(EU))
      .addServiceAccount('team-b', 'default', [EU], [EU]);
    expect((await w.run('team-a')).actions).toEqual({ create: 1 });
    // Written before the policy said otherwise: deleted and unwired, as an opt-out.
    expect(await w.run('team-b')).toEqual({ result: 'success', actions: { delete: 1 } });
    expect(w.cluster.writes).toEqual([
      `create team-a/${EU}`,
      `delete team-b/${EU}`,
      'patch team-b/default []',
    ]);
    expect(w.tokens.calls).toEqual([EU]);
    expect(w.events.reasons()).toEqual([
      `team-a ${EventReason.SecretCreated}`,
      `team-b ${EventReason.RegistryNotAllowed}`,
      `team-b ${EventReason.SecretDeleted}`,
    ]);
    expect(
      w.events.recorded.find((e) => e.reason === EventReason.RegistryNotAllowed)?.message,
    ).toBe(
      `Registry ${EU} is not served in this namespace: its credentials are limited by eatr.io/allowed-namespaces="team=a" on Secret eatr-aws-credentials-${EU}, which this namespace does not match. An eatr admin can widen it (annotation eatr.io/allowed-namespaces on the credential Secret); remove the label to stop asking.`,
    );
  });

  it('a namespace without credentials is blocked once: one Warning, one record, no ServiceAccount entry', async () => {
    const w = world();
    w.credentials.set(EU, undefined);
    w.cluster.addNamespace('team-a', { [EU]: 'true' }).addServiceAccount('team-a', 'default');
    expect((await w.run()).result).toBe('permanent');
    expect((await w.run()).result).toBe('permanent');
    expect(w.cluster.writes).toEqual([]);
    expect(w.events.reasons()).toEqual([`team-a ${EventReason.TokenFailed}`]);
    expect([...w.blocked.entries.entries()]).toEqual([
      [`team-a/${EU}`, expect.objectContaining({ reason: 'missing-credentials', present: false })],
    ]);
  });

  it('credentials that broke after the Secret was written keep it referenced, and say so once', async () => {
    const w = world();
    w.credentials.set(EU, undefined);
    w.cluster
      .addNamespace('team-a', { [EU]: 'true' })
      .addSecret('team-a', written(EU))
      .addServiceAccount('team-a', 'default');
    expect((await w.run()).result).toBe('permanent');
    expect(w.cluster.writes).toEqual([`patch team-a/default [${EU}]`]);
    expect(w.blocked.entries.get(`team-a/${EU}`)).toEqual(
      expect.objectContaining({ present: true }),
    );
  });

  it("leaves someone else's Secret alone and reports it once", async () => {
    const w = world();
    w.cluster.addNamespace('team-a', { [EU]: 'true' }).addSecret('team-a', {
      metadata: { name: EU },
      type: 'Opaque',
    });
    expect((await w.run()).result).toBe('permanent');
    await w.run();
    // The watch cache holds only eatr's Secrets: the create finds the other one, and never replaces it.
    expect(w.cluster.writes).toEqual([
      `create team-a/${EU} -> HTTP 409`,
      `create team-a/${EU} -> HTTP 409`,
    ]);
    expect(w.events.reasons()).toEqual([`team-a ${EventReason.SecretConflict}`]);
  });

  it('AWS refusing a registry starts one probe chain; a token later unblocks its other namespaces', async () => {
    const w = world();
    w.tokens.refused.set(EU, new PermanentError('denied', 'access-denied', { registry: EU }));
    w.cluster.addNamespace('team-a', { [EU]: 'true' }).addNamespace('team-b', { [EU]: 'true' });
    await w.run('team-a');
    await w.run('team-b');
    expect(w.jobs.probes).toEqual([{ registry: EU }, { registry: EU }]);
    w.tokens.refused.clear();
    expect((await w.run('team-a', 'retry')).result).toBe('success');
    expect(w.jobs.syncs).toEqual([{ namespace: 'team-b', reason: 'recovered', force: 'retry' }]);
    expect(w.blocked.entries.size).toBe(0);
  });

  it('a create that loses a race to another renewer leaves the winner in place', async () => {
    const w = world();
    w.cluster.addNamespace('team-a', { [EU]: 'true' }).addServiceAccount('team-a', 'default');
    w.cluster.failNext('create', new FakeApiError(409), () =>
      w.cluster.addSecret('team-a', written(EU, { age: 0 })),
    );
    expect((await w.run()).result).toBe('success');
    expect(w.cluster.writes).toEqual([
      `create team-a/${EU} -> HTTP 409`,
      `patch team-a/default [${EU}]`,
    ]);
  });

  it('a ServiceAccount patch the API server refuses is recorded and not retried by the next sync', async () => {
    const w = world();
    w.cluster
      .addNamespace('team-a', { [EU]: 'true' })
      .addSecret('team-a', written(EU))
      .addServiceAccount('team-a', 'default');
    w.cluster.failNext('patch', new FakeApiError(403));
    expect((await w.run()).result).toBe('permanent');
    expect(w.events.reasons()).toEqual([`team-a ${EventReason.ServiceAccountFailed}`]);
    expect(w.blocked.entries.has('team-a/serviceaccount:default')).toBe(true);
  });

  it('a transient API failure is retried by the job, and nothing is recorded as blocked', async () => {
    const w = world();
    w.cluster.addNamespace('team-a', { [EU]: 'true' });
    w.cluster.failNext('create', new FakeApiError(503));
    await expect(w.run()).rejects.toThrow(/transient failure/);
    expect(w.blocked.entries.size).toBe(0);
  });

  it('a namespace that is gone forgets its records', async () => {
    const w = world();
    await w.blocked.set('team-a', EU, {
      fingerprint: 'x',
      reason: 'conflict',
      registry: EU,
      since: 0,
    });
    expect(await w.run()).toEqual({ result: 'gone', actions: {} });
    expect(w.blocked.entries.size).toBe(0);
  });

  it('a forced renewal writes a new token into fresh Secrets', async () => {
    const w = world();
    w.cluster.addNamespace('team-a', { [EU]: 'true' }).addSecret('team-a', written(EU));
    expect((await w.run('team-a', 'renew')).actions).toEqual({ renew: 1 });
    expect(w.cluster.writes).toEqual([`replace team-a/${EU}`]);
  });

  describe('tenant roles (eatr.io/role-arn)', () => {
    it('an allowed role issues the Secret from the role, whatever the credential Secret allows', async () => {
      const w = world(roleSettings);
      w.credentials.allow(EU, 'nobody=here');
      w.cluster.addNamespace('team-a', { [EU]: 'true', team: 'a' }, false, {
        [ROLE_ARN_ANNOTATION]: ROLE,
      });
      expect((await w.run()).actions).toEqual({ create: 1 });
      expect(w.cluster.writes).toEqual([`create team-a/${EU}`]);
      expect(w.tokens.calls).toEqual([EU]);
    });

    it('a role the allowlist does not permit: no Secret, one RoleNotAllowed Warning, no token asked', async () => {
      const w = world(roleSettings);
      w.cluster.addNamespace('team-b', { [EU]: 'true', team: 'b' }, false, {
        [ROLE_ARN_ANNOTATION]: ROLE,
      });
      await w.run('team-b');
      expect(w.cluster.writes).toEqual([]);
      expect(w.tokens.calls).toEqual([]);
      expect(w.events.reasons()).toEqual([`team-b ${EventReason.RoleNotAllowed}`]);
    });

    it('AWS refusing the role at renewal deletes the Secret issued through it (RoleRevoked)', async () => {
      const w = world(roleSettings);
      w.cluster.addNamespace('team-a', { [EU]: 'true', team: 'a' }, false, {
        [ROLE_ARN_ANNOTATION]: ROLE,
      });
      await w.run();
      w.tokens.refusedRoles.set(
        ROLE,
        new PermanentError(
          `role ${ROLE} for ServiceAccount team-a/default: AccessDenied: no`,
          'role-denied',
          {
            namespace: 'team-a',
          },
        ),
      );
      await w.run('team-a', 'renew');
      expect(w.cluster.writes).toEqual([`create team-a/${EU}`, `delete team-a/${EU}`]);
      expect(w.events.reasons()).toContain(`team-a ${EventReason.RoleRevoked}`);
    });
  });
});
