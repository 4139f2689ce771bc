import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventReason, SECRET_NAME_ANNOTATION } from '@eatr/core';
import { uniqueName } from '../harness/index.js';
import { Scenario, leaseEnv, registry } from './support/scenario.js';

// A namespace that names its pull Secret itself (eatr.io/secret-name), as Flux, Kyverno and
// Connaisseur setups expect a fixed name: on a real API server with both components, through the
// watcher's events (no job is enqueued by the test).

const EU = registry('eu-west-1');

let s: Scenario;
beforeEach(async () => {
  s = await Scenario.create();
});
afterEach(async () => {
  await s.close();
});

async function annotate(namespace: string, value: string | null): Promise<void> {
  const ns = await s.core.readNamespace({ name: namespace });
  const annotations = Object.fromEntries(
    Object.entries(ns.metadata?.annotations ?? {}).filter(([k]) => k !== SECRET_NAME_ANNOTATION),
  );
  if (value !== null) annotations[SECRET_NAME_ANNOTATION] = value;
  await s.core.replaceNamespace({
    name: namespace,
    body: { ...ns, metadata: { ...ns.metadata, annotations } },
  });
}

const entries = async (namespace: string) =>
  (
    (await s.core.readNamespacedServiceAccount({ namespace, name: 'default' })).imagePullSecrets ??
    []
  ).map((r) => r.name);

describe('eatr.io/secret-name on a namespace', () => {
  it('renames the Secret and its ServiceAccount entry; a foreign Secret of the name is reported, never overwritten; a bad value changes nothing but an Event', async () => {
    await s.createCredentialSecret(EU);
    await s.start('watcher', leaseEnv(uniqueName('lease')));
    await s.start('renewer');
    const ns = await s.createNamespace('named', [EU]);
    await s.waitForSecret(ns, EU);
    await s.waitForServiceAccountEntry(ns, EU);

    // A fixed name: the Secret of that name replaces the template's, on the ServiceAccount too.
    await annotate(ns, 'ecr-pull');
    const renamed = await s.waitForSecret(ns, 'ecr-pull');
    expect(renamed.type).toBe('kubernetes.io/dockerconfigjson');
    await s.waitFor('the old Secret to go and the entry to follow', async () => {
      const old = await s.readSecret(ns, EU);
      const names = await entries(ns);
      return old === undefined && names.join() === 'ecr-pull' ? true : undefined;
    });

    // A bad value: one Warning Event, and the template names the Secret again (nothing else changes).
    await annotate(ns, 'Not_A_Name');
    await s.waitFor('a SecretNameInvalid Event', async () => {
      const events = await s.events(ns, EventReason.SecretNameInvalid);
      return events.length > 0 ? events : undefined;
    });
    const [event] = await s.events(ns, EventReason.SecretNameInvalid);
    expect(event?.type).toBe('Warning');
    expect(event?.message).toContain('Not_A_Name');
    await s.waitForSecret(ns, EU);

    // A name that someone else's Secret has: reported as a conflict, that Secret untouched.
    await s.core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'theirs' }, type: 'Opaque', stringData: { keep: 'me' } },
    });
    await annotate(ns, 'theirs');
    await s.waitFor('a conflict Event for Secret theirs', async () => {
      const events = await s.events(ns);
      return events.some((e) =>
        e.message?.includes('Secret theirs exists and is not managed by eatr'),
      )
        ? true
        : undefined;
    });
    const theirs = await s.readSecret(ns, 'theirs');
    expect(theirs?.type).toBe('Opaque');
    expect(Buffer.from(theirs?.data?.keep ?? '', 'base64').toString()).toBe('me');
    expect(await entries(ns)).not.toContain('theirs');
  }, 90_000);
});
