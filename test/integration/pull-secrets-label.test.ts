import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventReason, PULL_SECRETS_LABEL } from '@eatr/core';
import { uniqueName } from '../harness/index.js';
import { Scenario, leaseEnv, registry } from './support/scenario.js';

// A ServiceAccount opts itself in or out with the label eatr.io/pull-secrets, whatever
// --service-accounts says: on a real API server with both components, every change reaching eatr
// through the watches (the watcher's events and the renewer's caches; the test enqueues nothing).

const EU = registry('eu-west-1');

let s: Scenario;
beforeEach(async () => {
  s = await Scenario.create();
});
afterEach(async () => {
  await s.close();
});

const entries = async (namespace: string, name: string) =>
  ((await s.core.readNamespacedServiceAccount({ namespace, name })).imagePullSecrets ?? []).map(
    (r) => r.name,
  );

async function setLabel(namespace: string, name: string, value: string | null): Promise<void> {
  const sa = await s.core.readNamespacedServiceAccount({ namespace, name });
  const labels = Object.fromEntries(
    Object.entries(sa.metadata?.labels ?? {}).filter(([k]) => k !== PULL_SECRETS_LABEL),
  );
  if (value !== null) labels[PULL_SECRETS_LABEL] = value;
  await s.core.replaceNamespacedServiceAccount({
    namespace,
    name,
    body: { ...sa, metadata: { ...sa.metadata, labels } },
  });
}

async function createAccount(namespace: string, name: string, label?: string): Promise<void> {
  await s.core.createNamespacedServiceAccount({
    namespace,
    body: {
      metadata: {
        name,
        ...(label === undefined ? {} : { labels: { [PULL_SECRETS_LABEL]: label } }),
      },
    },
  });
}

const until = (what: string, namespace: string, name: string, want: string[]) =>
  s.waitFor(`${namespace}/${name} ${what}: [${want.join(', ')}]`, async () =>
    (await entries(namespace, name)).join() === want.join() ? true : undefined,
  );

describe('eatr.io/pull-secrets on a ServiceAccount', () => {
  it('true adds the Secret to a ServiceAccount the list leaves out; removing the label takes it back; false takes it off a listed one; another value gets a Warning and changes nothing', async () => {
    await s.createCredentialSecret(EU);
    await s.start('watcher', leaseEnv(uniqueName('lease')));
    await s.start('renewer');
    const ns = await s.createNamespace('sa-label', [EU]);
    await s.waitForServiceAccountEntry(ns, EU);

    await createAccount(ns, 'builder', 'true');
    await until('gets the entry', ns, 'builder', [EU]);

    // The label removed (the ServiceAccount leaves the renewer's label watch): eatr's entry goes.
    await setLabel(ns, 'builder', null);
    await until('loses the entry', ns, 'builder', []);

    // `false` on the listed `default`: eatr's entry goes, a user's entry stays.
    const sa = await s.core.readNamespacedServiceAccount({ namespace: ns, name: 'default' });
    await s.core.replaceNamespacedServiceAccount({
      namespace: ns,
      name: 'default',
      body: {
        ...sa,
        metadata: { ...sa.metadata, labels: { [PULL_SECRETS_LABEL]: 'false' } },
        imagePullSecrets: [...(sa.imagePullSecrets ?? []), { name: 'their-own' }],
      },
    });
    await until('keeps only the user entry', ns, 'default', ['their-own']);

    // Neither true nor false: one Warning Event on that ServiceAccount, no entry.
    await createAccount(ns, 'tools', 'yes');
    const [warning] = await s.waitFor('a PullSecretsLabelInvalid Event', async () => {
      const events = await s.events(ns, EventReason.PullSecretsLabelInvalid);
      return events.length > 0 ? events : undefined;
    });
    expect(warning?.type).toBe('Warning');
    expect(warning?.involvedObject).toMatchObject({ kind: 'ServiceAccount', name: 'tools' });
    expect(warning?.message).toContain('"yes"');
    expect(await entries(ns, 'tools')).toEqual([]);
  }, 90_000);

  it('with no ServiceAccount listed (--service-accounts empty), only labelled ones get the Secret', async () => {
    await s.createCredentialSecret(EU);
    const none = { EATR_SERVICE_ACCOUNTS: '' };
    await s.start('watcher', { ...leaseEnv(uniqueName('lease')), ...none });
    await s.start('renewer', none);
    const ns = await s.createNamespace('sa-label-only', [EU]);
    await s.waitForSecret(ns, EU);
    await createAccount(ns, 'puller', 'true');
    await until('gets the entry', ns, 'puller', [EU]);
    expect(await entries(ns, 'default')).toEqual([]);
  }, 90_000);
});
