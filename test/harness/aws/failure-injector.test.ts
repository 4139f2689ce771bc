import { describe, expect, it } from 'vitest';
import { FailureInjector } from './failure-injector.js';

const call = (accessKeyId: string, region = 'eu-west-1', action = 'GetAuthorizationToken') => ({
  service: 'ecr' as const,
  action,
  accessKeyId,
  region,
});

describe('FailureInjector', () => {
  it('uses queued failures in order, each for as many calls as asked, then lets calls through', () => {
    const injector = new FailureInjector();
    injector.failNext(2, 'throttle');
    injector.failNext(1, 'server-error');
    const seen = [1, 2, 3, 4].map(() => injector.take(call('AKIA1')));
    expect(seen).toEqual(['throttle', 'throttle', 'server-error', undefined]);
    expect(injector.pendingCount()).toBe(0);
  });

  it('skips a queued failure whose filter does not match, leaving it for a later call', () => {
    const injector = new FailureInjector();
    injector.failNext(1, 'access-denied', { region: 'us-east-1' });
    expect(injector.take(call('AKIA1', 'eu-west-1'))).toBeUndefined();
    expect(injector.take(call('AKIA1', 'us-east-1'))).toBe('access-denied');
    expect(injector.take(call('AKIA1', 'us-east-1'))).toBeUndefined();
  });

  it('a persistent behaviour wins over the queue and does not use it up', () => {
    const injector = new FailureInjector();
    injector.failNext(1, 'throttle');
    injector.setBehaviour('AKIA2', 'bad-signature');
    expect(injector.take(call('AKIA2'))).toBe('bad-signature');
    expect(injector.take(call('AKIA2'))).toBe('bad-signature');
    expect(injector.take(call('AKIA1'))).toBe('throttle');
    injector.setBehaviour('AKIA2', undefined);
    expect(injector.take(call('AKIA2'))).toBeUndefined();
  });

  it.each([0, -1, 1.5])('refuses a count of %d', (count) => {
    expect(() => {
      new FailureInjector().failNext(count, 'throttle');
    }).toThrow(RangeError);
  });
});
