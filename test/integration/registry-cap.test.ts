import { Redis } from 'ioredis';
import { EventReason, blockedStoreKey } from '@eatr/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KEYS, Scenario } from './support/scenario.js';

// Whoever may label a namespace can ask for any number of registries, real or invented. Each one
// eatr serves costs a Secret, a ServiceAccount entry and, when it fails (here: no credentials), a
// blocked record in Redis, a Warning Event and metric series. --max-registries-per-namespace bounds
// all of them; the rest get one Warning Event.

const LABELS = 300;
/** Registry hosts of invented accounts in a region no credential Secret serves. */
const invented = (i: number) => `${String(i).padStart(12, '0')}.dkr.ecr.xx-test-1.amazonaws.com`;

let s: Scenario;
let redis: Redis;
beforeEach(async () => {
  s = await Scenario.create([KEYS]);
  redis = new Redis(s.redisUrl);
});
afterEach(async () => {
  redis.disconnect();
  await s.close();
});

/** Serves one namespace carrying LABELS registry labels; returns what it cost. */
async function costOf(maxRegistries: string) {
  const renewer = await s.start('renewer', { EATR_MAX_REGISTRIES_PER_NAMESPACE: maxRegistries });
  const ns = await s.createNamespace(
    'many-registries',
    Array.from({ length: LABELS }, (_, i) => invented(i)),
  );
  await s.enqueue(ns);
  await s.drained(60_000);
  const events = await s.events(ns);
  const blocked = (await redis.hkeys(blockedStoreKey(s.queuePrefix))).filter((k) =>
    k.startsWith(`${ns}/`),
  );
  const metrics = await renewer.metrics();
  const series = metrics.split('\n').filter((l) => l.includes('xx-test-1')).length;
  await renewer.stop();
  return { events, blocked: blocked.length, series };
}

describe('a namespace asking for 300 registries', () => {
  it('costs at most --max-registries-per-namespace of each, and says so in one Event', async () => {
    const uncapped = await costOf('1000');
    const capped = await costOf('20');
    const figures = {
      uncapped: {
        events: uncapped.events.length,
        blocked: uncapped.blocked,
        series: uncapped.series,
      },
      capped: { events: capped.events.length, blocked: capped.blocked, series: capped.series },
    };
    console.log(
      `[figures] one namespace with ${LABELS} registry labels: ${JSON.stringify(figures)}`,
    );

    expect(capped.blocked).toBe(20);
    expect(capped.events.filter((e) => e.reason === EventReason.TokenFailed).length).toBe(20);
    const over = capped.events.filter((e) => e.reason === EventReason.TooManyRegistries);
    expect(over.length).toBe(1);
    expect(over[0]?.message).toContain('more than 20 registries');
    expect(over[0]?.message).toContain('280 are not served');
    expect(capped.series).toBeLessThanOrEqual(uncapped.series / 10);
    expect(uncapped.blocked).toBe(LABELS);
  }, 180_000);
});
