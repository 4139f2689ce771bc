import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALLOWED_NAMESPACES_ANNOTATION, EventReason } from '@eatr/core';
import type { StatusRow } from '@eatr/cli';
import { uniqueName } from '../harness/index.js';
import { eatrCli } from './support/eatr-cli.js';
import { Scenario, leaseEnv, registry } from './support/scenario.js';

// The credentials' access policy on a real API server and Redis: the admin annotates a credential
// Secret with a label selector over namespaces (or sets the release's default), and only those
// namespaces get a Secret from it, whoever labels the others.

const EU = registry('eu-west-1');

let s: Scenario;
beforeEach(async () => {
  s = await Scenario.create();
});
afterEach(async () => {
  await s.close();
});

/** Sets (or removes, with null) the access annotation of EU's credential Secret, as an admin would. */
async function allow(selector: string | null): Promise<void> {
  const name = `eatr-aws-credentials-${EU}`;
  const current = await s.core.readNamespacedSecret({ namespace: s.hostNamespace, name });
  const annotations = Object.fromEntries(
    Object.entries(current.metadata?.annotations ?? {}).filter(
      ([key]) => key !== ALLOWED_NAMESPACES_ANNOTATION,
    ),
  );
  if (selector !== null) annotations[ALLOWED_NAMESPACES_ANNOTATION] = selector;
  await s.core.replaceNamespacedSecret({
    namespace: s.hostNamespace,
    name,
    body: { ...current, metadata: { ...current.metadata, annotations } },
  });
}

async function tenant(team: string): Promise<string> {
  const ns = await s.createNamespace(`team-${team}`, [EU]);
  await s.setLabels(ns, { team });
  return ns;
}

const gone = (ns: string) => async () => (await s.readSecret(ns, EU)) === undefined;

describe("the credentials' access policy", () => {
  it('serves only the namespaces it selects, follows its changes, and says why to the others', async () => {
    await s.createCredentialSecret(EU);
    await allow('team=a');
    await s.start('watcher', leaseEnv(uniqueName('lease')));
    await s.start('renewer');

    const a = await tenant('a');
    const b = await tenant('b');
    await s.waitForSecret(a, EU, () => true, 30_000);
    const refused = await s.waitFor(
      'a RegistryNotAllowed Event in team-b',
      async () => (await s.events(b, EventReason.RegistryNotAllowed))[0],
      30_000,
    );
    expect(refused.type).toBe('Warning');
    expect(refused.message).toContain(
      `limited by eatr.io/allowed-namespaces="team=a" on Secret eatr-aws-credentials-${EU}`,
    );
    expect(await s.readSecret(b, EU)).toBeUndefined();

    // eatr status and doctor, run by the admin: refused, and which rule, and how to change it.
    const status = await eatrCli(['status', '-n', b, '-o', 'json'], s.env());
    const rows = (JSON.parse(status.stdout) as { items: StatusRow[] }).items;
    expect(rows).toEqual([
      expect.objectContaining({
        registry: EU,
        state: 'refused',
        reason: `not allowed by eatr.io/allowed-namespaces="team=a" on Secret eatr-aws-credentials-${EU}`,
      }),
    ]);
    expect(status.code).toBe(0);
    const doctor = await eatrCli(['doctor', '-n', b, '-o', 'json'], s.env());
    const { checks } = JSON.parse(doctor.stdout) as {
      checks: { id: string; ok: boolean; fix?: string }[];
    };
    expect(checks.find((c) => c.id === `access:${EU}`)).toMatchObject({
      ok: false,
      fix: expect.stringContaining(`annotate secret eatr-aws-credentials-${EU}`) as unknown,
    });

    // Widened: team-b is served by the sweep the credential change causes.
    const widened = Date.now();
    await allow('team in (a,b)');
    await s.waitForSecret(b, EU, () => true, 30_000);
    console.log(
      `[figures] access widened: the newly allowed namespace served in ${Date.now() - widened} ms`,
    );

    // Narrowed to team-b: team-a's Secret is revoked (deleted), team-b's stays.
    const narrowed = Date.now();
    await allow('team=b');
    await s.waitFor('team-a Secret deleted', gone(a), 30_000);
    console.log(`[figures] access narrowed: the Secret revoked in ${Date.now() - narrowed} ms`);
    expect(await s.readSecret(b, EU)).toBeDefined();

    // A typo fails closed: nobody is served until it is fixed, and the Event says why.
    await allow('team in b');
    await s.waitFor('team-b Secret deleted', gone(b), 30_000);
    await s.waitFor(
      'an Event naming the unparsable annotation',
      async () =>
        (await s.events(b, EventReason.RegistryNotAllowed)).some((e) =>
          e.message?.includes('cannot be parsed'),
        ) || undefined,
      30_000,
    );

    // Annotation removed: the release's default (every namespace) applies again.
    await allow(null);
    await s.waitForSecret(a, EU, () => true, 30_000);
    await s.waitForSecret(b, EU, () => true, 30_000);
  }, 180_000);

  it('denies by default with --default-allowed-namespaces=none: only annotated credentials serve', async () => {
    await s.createCredentialSecret(EU);
    const env = { EATR_DEFAULT_ALLOWED_NAMESPACES: 'none' };
    await s.start('watcher', { ...leaseEnv(uniqueName('lease')), ...env });
    await s.start('renewer', env);
    const a = await tenant('a');
    await s.waitFor(
      'a RegistryNotAllowed Event',
      async () => (await s.events(a, EventReason.RegistryNotAllowed))[0],
      30_000,
    );
    expect(await s.readSecret(a, EU)).toBeUndefined();
    await allow('team=a');
    await s.waitForSecret(a, EU, () => true, 30_000);
  }, 120_000);

  it('refuses to start with a default that is not a selector, naming it', async () => {
    const result = await eatrCli(
      ['status', '-A'],
      s.env({ EATR_DEFAULT_ALLOWED_NAMESPACES: 'team in b' }),
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      'EATR_DEFAULT_ALLOWED_NAMESPACES: "team in b" in selector "team in b": the values of "in" go in parentheses',
    );
  });
});
