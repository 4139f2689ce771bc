import { describe, expect, it } from 'vitest';
import { withEnvironment } from './environment.js';

describe('withEnvironment', () => {
  it('completes the flags from the environment; a flag wins over its variable', () => {
    const { values, sources } = withEnvironment(
      {
        values: { 'host-namespace': 'flag-ns' },
        sources: { 'host-namespace': '--host-namespace' },
      },
      { EATR_HOST_NAMESPACE: 'creds', REDIS_URL: 'redis://r:6380', EATR_SERVICE_ACCOUNTS: '*' },
    );
    expect(values).toMatchObject({
      'host-namespace': 'flag-ns',
      'redis-url': 'redis://r:6380',
      'service-accounts': '*',
      concurrency: undefined,
    });
    expect(sources).toEqual({
      'host-namespace': '--host-namespace',
      'redis-url': 'REDIS_URL',
      'service-accounts': 'EATR_SERVICE_ACCOUNTS',
    });
  });

  it("takes the first of a setting's variables that is set (EATR_REDIS_URL before REDIS_URL)", () => {
    const { values, sources } = withEnvironment(
      { values: {} },
      { REDIS_URL: 'redis://b:1', EATR_REDIS_URL: 'redis://a:1', https_proxy: 'http://p:3128' },
    );
    expect(values['redis-url']).toBe('redis://a:1');
    expect(sources['redis-url']).toBe('EATR_REDIS_URL');
    expect(values['https-proxy']).toBe('http://p:3128');
  });

  it('names a flag value given without its spelling --<setting>', () => {
    expect(withEnvironment({ values: { concurrency: '8' } }, {}).sources).toEqual({
      concurrency: '--concurrency',
    });
  });

  it('keeps an empty variable: set to "", not unset', () => {
    expect(withEnvironment({ values: {} }, { EATR_REGISTRIES: '' }).values.registries).toBe('');
  });
});
