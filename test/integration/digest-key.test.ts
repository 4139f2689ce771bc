import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KEYS, OTHER_KEYS, Scenario, registry } from './support/scenario.js';

// eatr.io/credentials-version is on every Secret, readable by the namespace. Keyed with the install's
// --digest-key (the chart generates one), nobody can test a guess of the AWS keys against it. Turning
// the key on (an upgrade) rewrites no Secret that is up to date.

const EU = registry('eu-west-1');
const KEY = 'an-install-digest-key-of-48-characters-0123456789';
const VERSION = 'eatr.io/credentials-version';

let s: Scenario;
beforeEach(async () => {
  s = await Scenario.create([KEYS, OTHER_KEYS]);
  await s.createCredentialSecret(EU);
});
afterEach(async () => {
  await s.close();
});

describe('a digest key', () => {
  it('rewrites nothing up to date when turned on, and keys the versions written after', async () => {
    const unkeyed = await s.start('renewer');
    const ns = await s.createNamespace('digest', [EU]);
    await s.enqueue(ns);
    const before = await s.waitForSecret(ns, EU);
    expect(before.metadata?.annotations?.[VERSION]).toMatch(/^sha256:[0-9a-f]{32}$/);
    await s.drained();
    await unkeyed.stop();

    await s.start('renewer', { EATR_DIGEST_KEY: KEY });
    for (let i = 0; i < 3; i++) await s.enqueue(ns);
    await s.drained();
    const after = await s.readSecret(ns, EU);
    expect(after?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);

    // A key rotation is a change: the Secret is renewed, its version now keyed.
    await s.rotateCredentials(EU);
    await s.enqueue(ns);
    const rotated = await s.waitForSecret(
      ns,
      EU,
      (x) => x.metadata?.annotations?.[VERSION] !== before.metadata?.annotations?.[VERSION],
    );
    expect(rotated.metadata?.annotations?.[VERSION]).toMatch(/^hmac:[0-9a-f]{32}$/);
  }, 60_000);
});
