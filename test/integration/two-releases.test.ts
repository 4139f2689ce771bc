import type { V1Secret } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uniqueName } from '../harness/index.js';
import { KEYS, Scenario, leaseEnv, registry } from './support/scenario.js';

// Two eatr releases in one cluster, each with its own Redis queue, credentials and settings, serving
// the same namespace: release A by label with the Secret named after the registry, release B a
// global registry plus the labelled one with the CronJob recipe's names and every ServiceAccount.
// Before instances, each deleted the Secrets the other wanted and removed its ServiceAccount
// entries, forever. Now each touches only what carries its instance label (eatr.io/instance).

const EU = registry('eu-west-1');
const US = registry('us-east-1');
const A = 'release-a';
const B = 'release-b';
const B_EU = 'ecr-eu-west-1';
const B_US = 'ecr-us-east-1';

let a: Scenario;
let b: Scenario;
beforeEach(async () => {
  [a, b] = await Promise.all([Scenario.create([KEYS]), Scenario.create([KEYS])]);
  await a.createCredentialSecret(EU);
  await Promise.all([b.createCredentialSecret(EU), b.createCredentialSecret(US)]);
});
afterEach(async () => {
  await Promise.all([a.close(), b.close()]);
});

/** What identifies one write of a Secret: a delete and re-create changes the uid, a write the version. */
const identity = (s: V1Secret | undefined) =>
  s && `${s.metadata?.uid ?? ''}@${s.metadata?.resourceVersion ?? ''}`;

describe('two releases in one cluster', () => {
  it("neither deletes, rewrites nor unwires the other's Secrets; each cleans up only its own", async () => {
    const ns = await a.createNamespace('two-releases', [EU], ['mine']);
    await Promise.all([
      a.start('watcher', { ...leaseEnv(uniqueName('lease-a')), EATR_INSTANCE: A }),
      a.start('renewer', { EATR_INSTANCE: A }),
      b.start('watcher', {
        ...leaseEnv(uniqueName('lease-b')),
        EATR_INSTANCE: B,
        EATR_REGISTRIES: US,
        EATR_INCLUDE_NAMESPACES: ns,
        EATR_SECRET_NAME_TEMPLATE: 'ecr-{{region}}',
        EATR_SERVICE_ACCOUNTS: '*',
      }),
      b.start('renewer', {
        EATR_INSTANCE: B,
        EATR_REGISTRIES: US,
        EATR_INCLUDE_NAMESPACES: ns,
        EATR_SECRET_NAME_TEMPLATE: 'ecr-{{region}}',
        EATR_SERVICE_ACCOUNTS: '*',
      }),
    ]);

    const instanceOf = (s: V1Secret) => s.metadata?.labels?.['eatr.io/instance'];
    const [euA, euB, usB] = await Promise.all([
      a.waitForSecret(ns, EU),
      b.waitForSecret(ns, B_EU),
      b.waitForSecret(ns, B_US),
    ]);
    expect([euA, euB, usB].map(instanceOf)).toEqual([A, B, B]);
    const wired = await a.waitFor('the default ServiceAccount to list all three', async () => {
      const sa = await a.core.readNamespacedServiceAccount({ namespace: ns, name: 'default' });
      const names = (sa.imagePullSecrets ?? []).map((r) => r.name ?? '');
      return names.length === 4 ? sa : undefined;
    });
    expect(wired.imagePullSecrets?.map((r) => r.name).sort()).toEqual(
      ['mine', EU, B_EU, B_US].sort(),
    );
    await Promise.all([a.drained(), b.drained()]);

    // Both releases sync the namespace again and again: nothing of the other's is written.
    const before = await Promise.all([EU, B_EU, B_US].map((n) => a.readSecret(ns, n)));
    const saBefore = await a.core.readNamespacedServiceAccount({ namespace: ns, name: 'default' });
    for (let i = 0; i < 3; i++) {
      await Promise.all([a.enqueue(ns), b.enqueue(ns)]);
      await Promise.all([a.drained(), b.drained()]);
    }
    const after = await Promise.all([EU, B_EU, B_US].map((n) => a.readSecret(ns, n)));
    expect(after.map(identity)).toEqual(before.map(identity));
    const saAfter = await a.core.readNamespacedServiceAccount({ namespace: ns, name: 'default' });
    expect(saAfter.metadata?.resourceVersion).toBe(saBefore.metadata?.resourceVersion);

    // The label goes: each release deletes its own Secret for it and removes only its own entry;
    // release B's global registry stays, with its entry and the user's.
    await a.setLabels(ns, { [EU]: null });
    await a.waitFor('both Secrets for the label to go', async () => {
      const [mine, theirs] = await Promise.all([a.readSecret(ns, EU), a.readSecret(ns, B_EU)]);
      return mine === undefined && theirs === undefined;
    });
    const left = await a.waitFor(
      'the default ServiceAccount to keep only B_US and mine',
      async () => {
        const sa = await a.core.readNamespacedServiceAccount({ namespace: ns, name: 'default' });
        const names = (sa.imagePullSecrets ?? []).map((r) => r.name ?? '');
        return names.length === 2 ? sa : undefined;
      },
    );
    expect(left.imagePullSecrets?.map((r) => r.name)).toEqual(['mine', B_US]);
    expect(left.metadata?.annotations?.['eatr.io/image-pull-secrets']).toBe(B_US);
    expect(identity(await a.readSecret(ns, B_US))).toBe(identity(before[2]));
  }, 90_000);

  it("reports another release's Secret of the name it wants as a conflict, and leaves it", async () => {
    // Both releases name the Secret after the registry: B wrote it first.
    const ns = await a.createNamespace('two-releases-conflict', [EU]);
    const renewerB = await b.start('renewer', { EATR_INSTANCE: B });
    await b.enqueue(ns);
    const theirs = await b.waitForSecret(ns, EU);
    await b.drained();
    await renewerB.stop();

    const renewerA = await a.start('renewer', { EATR_INSTANCE: A });
    await a.enqueue(ns);
    await a.drained();
    const events = await a.waitFor('a Warning Event naming release B', async () => {
      const list = await a.events(ns);
      const found = list.filter(
        (e) =>
          e.type === 'Warning' &&
          e.message?.includes(`managed by another eatr release (instance "${B}")`),
      );
      return found.length > 0 ? found : undefined;
    });
    expect(events[0]?.message).toContain(EU);
    expect(identity(await a.readSecret(ns, EU))).toBe(identity(theirs));
    expect(await renewerA.metricValue('eatr_ownership_conflicts_total')).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
