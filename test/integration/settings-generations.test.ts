import { LogMessage } from '@eatr/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KEYS, Scenario, logTime, registry } from './support/scenario.js';

// Two renewers with different settings on one queue (a rollout that changes the Secret name
// template): the one that started last decides, the other takes no jobs until it is gone, so they
// never undo each other's Secrets.

const EU = registry('eu-west-1');
/** configuration-guard.ts: a renewer notices newer settings within a third of this. */
const GENERATION_TTL_MS = 15_000;
const CRONJOB_STYLE = { EATR_SECRET_NAME_TEMPLATE: 'ecr-{{region}}' };

let s: Scenario;
beforeEach(async () => {
  s = await Scenario.create([KEYS]);
  await s.createCredentialSecret(EU);
});
afterEach(async () => {
  await s.close();
});

describe('renewers with different settings', () => {
  it('the newest settings win; the older renewer neither writes nor deletes until their renewers are gone', async () => {
    const older = await s.start('renewer', { EATR_SETTINGS_REVISION: '1' });
    const ns = await s.createNamespace('generations', [EU]);
    await s.enqueue(ns);
    await s.waitForSecret(ns, EU);

    const newer = await s.start('renewer', { ...CRONJOB_STYLE, EATR_SETTINGS_REVISION: '2' });
    const stepped = await older.waitForLog(
      (l) => l.msg === 'renewers with newer settings run: this one takes no jobs while they do',
      GENERATION_TTL_MS,
    );
    // An older pod that restarts meanwhile (its revision is lower) does not take over.
    const restarted = await s.start('renewer', { EATR_SETTINGS_REVISION: '1' });
    await restarted.waitForLog(
      (l) => l.msg === 'renewers with newer settings run: this one takes no jobs while they do',
    );
    // Events keep coming: every sync is the newer renewer's, so its name stays and the other goes.
    for (let i = 0; i < 5; i++) {
      await s.enqueue(ns);
      await s.drained();
    }
    await s.waitForSecret(ns, 'ecr-eu-west-1');
    await s.waitFor(
      'the older template Secret to be deleted',
      async () => !(await s.readSecret(ns, EU)),
    );
    const olderRunsSince = [...older.logs, ...restarted.logs].filter(
      (l) => l.msg === LogMessage.syncStarted && logTime(l) > logTime(stepped),
    );
    expect(olderRunsSince).toEqual([]);
    expect(await restarted.metricValue('eatr_renewer_superseded')).toBe(1);
    expect(await older.metricValue('eatr_renewer_superseded')).toBe(1);

    // The newer renewers are gone (a rollback, or the rollout stopped): the older settings take over.
    await newer.stop();
    await older.waitForLog(
      (l) => l.msg === 'no renewer with newer settings is left: taking jobs again',
      GENERATION_TTL_MS * 2,
    );
    await s.enqueue(ns);
    await s.waitForSecret(ns, EU);
    await s.waitFor(
      'the newer template Secret to be deleted',
      async () => !(await s.readSecret(ns, 'ecr-eu-west-1')),
    );
    expect(await older.metricValue('eatr_renewer_superseded')).toBe(0);
  }, 120_000);
});
