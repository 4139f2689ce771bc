import { describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '@eatr/core';
import { TokenCache } from './token-cache.js';

const H = 3_600_000;

function setup() {
  let now = 1_000_000;
  let calls = 0;
  const cache = new TokenCache({
    renewalIntervalMs: 6 * H,
    failureBackoff: { firstMs: 5000, maxMs: 60_000 },
    now: () => now,
  });
  const fetch = () => {
    calls++;
    return Promise.resolve({ password: `p${calls}`, expiresAt: now + 12 * H, fetchedAt: now });
  };
  return { cache, fetch, calls: () => calls, advance: (ms: number) => (now += ms) };
}

describe('TokenCache', () => {
  it('shares one call between concurrent requests for a key', async () => {
    const { cache, fetch, calls } = setup();
    const tokens = await Promise.all([
      cache.get('k', fetch),
      cache.get('k', fetch),
      cache.get('k', fetch),
    ]);
    expect(calls()).toBe(1);
    expect(new Set(tokens.map((t) => t.password))).toEqual(new Set(['p1']));
  });

  it('keeps keys apart', async () => {
    const { cache, fetch, calls } = setup();
    await cache.get('a', fetch);
    await cache.get('b', fetch);
    expect(calls()).toBe(2);
  });

  it('reuses a token until the renewal interval, then fetches a new one', async () => {
    const { cache, fetch, calls, advance } = setup();
    await cache.get('k', fetch);
    advance(6 * H - 1);
    expect((await cache.get('k', fetch)).password).toBe('p1');
    advance(1);
    expect((await cache.get('k', fetch)).password).toBe('p2');
    expect(calls()).toBe(2);
  });

  it('remembers a permanent failure for 5 s, then twice as long after each failure, up to a minute', async () => {
    const { cache, advance } = setup();
    let calls = 0;
    const failing = () => {
      calls++;
      return Promise.reject(new PermanentError('denied', 'denied'));
    };
    const callsAfter = async (ms: number) => {
      advance(ms);
      await expect(cache.get('k', failing)).rejects.toThrow('denied');
      return calls;
    };
    expect(await callsAfter(0)).toBe(1);
    expect(await callsAfter(4999)).toBe(1);
    expect(await callsAfter(1)).toBe(2); // 5 s
    expect(await callsAfter(9999)).toBe(2);
    expect(await callsAfter(1)).toBe(3); // 10 s
    for (const ttl of [20_000, 40_000, 60_000, 60_000]) {
      expect(await callsAfter(ttl - 1)).toBe(calls);
      const before = calls;
      expect(await callsAfter(1)).toBe(before + 1);
    }
  });

  it('asks again at once when told to ignore a remembered failure, and forgets it on success', async () => {
    const { cache, fetch } = setup();
    await expect(
      cache.get('k', () => Promise.reject(new PermanentError('denied', 'denied'))),
    ).rejects.toThrow('denied');
    await expect(cache.get('k', fetch)).rejects.toThrow('denied');
    expect((await cache.get('k', fetch, { ignoreFailure: true })).password).toBe('p1');
    expect((await cache.get('k', fetch)).password).toBe('p1');
  });

  it('fetches a new token for a forced renewal once, then shares it', async () => {
    const { cache, fetch, calls, advance } = setup();
    await cache.get('k', fetch);
    advance(1000);
    const requestedAt = 1_001_000; // the clock of setup(), after advance(1000)
    expect((await cache.get('k', fetch, { fetchedSince: requestedAt })).password).toBe('p2');
    expect((await cache.get('k', fetch, { fetchedSince: requestedAt })).password).toBe('p2');
    expect(calls()).toBe(2);
  });

  it('does not remember a transient failure', async () => {
    const { cache, fetch } = setup();
    await expect(
      cache.get('k', () => Promise.reject(new RetryableError('throttled', 'throttled'))),
    ).rejects.toThrow('throttled');
    expect((await cache.get('k', fetch)).password).toBe('p1');
  });
});
