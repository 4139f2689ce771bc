import { describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '@eatr/core';
import { TokenCache } from './token-cache.js';

const H = 3_600_000;

function setup() {
  let now = 1_000_000;
  let calls = 0;
  const cache = new TokenCache({ renewalIntervalMs: 6 * H, failureTtlMs: 60_000, now: () => now });
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

  it('remembers a permanent failure for its TTL', async () => {
    const { cache, advance } = setup();
    let calls = 0;
    const failing = () => {
      calls++;
      return Promise.reject(new PermanentError('denied', 'denied'));
    };
    await expect(cache.get('k', failing)).rejects.toThrow('denied');
    await expect(cache.get('k', failing)).rejects.toThrow('denied');
    expect(calls).toBe(1);
    advance(60_000);
    await expect(cache.get('k', failing)).rejects.toThrow('denied');
    expect(calls).toBe(2);
  });

  it('does not remember a transient failure', async () => {
    const { cache, fetch } = setup();
    await expect(
      cache.get('k', () => Promise.reject(new RetryableError('throttled', 'throttled'))),
    ).rejects.toThrow('throttled');
    expect((await cache.get('k', fetch)).password).toBe('p1');
  });
});
