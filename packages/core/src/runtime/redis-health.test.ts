import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { RedisHealth, credentialFailure } from './redis-health.js';

const quiet = { info: () => undefined, warn: () => undefined } as never;
const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('credentialFailure', () => {
  it.each<[string, unknown, 'auth' | 'tls' | undefined]>([
    [
      'a rotated password',
      new Error('WRONGPASS invalid username-password pair or user is disabled.'),
      'auth',
    ],
    [
      'a password now required',
      new Error('Ready check failed: NOAUTH Authentication required.'),
      'auth',
    ],
    [
      'a rotated CA',
      withCode('unable to verify the first certificate', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'),
      'tls',
    ],
    ['an expired certificate', withCode('certificate has expired', 'CERT_HAS_EXPIRED'), 'tls'],
    ['an SSL alert', withCode('tlsv1 alert unknown ca', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'), 'tls'],
    ['Redis restarting', withCode('connect ECONNREFUSED 10.0.0.1:6379', 'ECONNREFUSED'), undefined],
    ['a failover', new Error("READONLY You can't write against a read only replica."), undefined],
    ['not an error', 'WRONGPASS', undefined],
  ])('%s', (_name, error, expected) => {
    expect(credentialFailure(error)).toBe(expected);
  });
});

describe('RedisHealth', () => {
  const setup = () => {
    let now = 0;
    const health = new RedisHealth({ unhealthyAfterMs: 60_000, log: quiet, now: () => now });
    const a = new EventEmitter();
    const b = new EventEmitter();
    health.watch(a).watch(b);
    return { health, a, b, advance: (ms: number) => (now += ms) };
  };

  it('is up only while every connection is ready', () => {
    const { health, a, b } = setup();
    expect(health.isUp).toBe(false);
    a.emit('ready');
    expect(health.isUp).toBe(false);
    b.emit('ready');
    expect(health.isUp).toBe(true);
    a.emit('close');
    expect(health.isUp).toBe(false);
  });

  it('stays healthy through outages a reconnect fixes, however long', () => {
    const { health, a, advance } = setup();
    a.emit('error', withCode('connect ECONNREFUSED', 'ECONNREFUSED'));
    advance(3_600_000);
    expect(health.isHealthy).toBe(true);
  });

  it('turns unhealthy once Redis has refused the credentials for the grace, and healthy when one gets through', () => {
    const { health, a, advance } = setup();
    a.emit('error', new Error('WRONGPASS invalid username-password pair'));
    advance(59_999);
    a.emit('error', new Error('WRONGPASS invalid username-password pair')); // the clock is not reset
    expect(health.isHealthy).toBe(true);
    advance(1);
    expect(health.isHealthy).toBe(false);
    a.emit('ready');
    expect(health.isHealthy).toBe(true);
  });
});
