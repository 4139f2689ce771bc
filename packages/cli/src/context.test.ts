import { describe, expect, it } from 'vitest';
import { ConfigError } from '@eatr/core';
import { loadConfigs } from './context.js';

describe('loadConfigs', () => {
  it('builds both configs from the command-line settings and the environment (flags win)', () => {
    const { watcher, renewer } = loadConfigs(
      { 'host-namespace': 'flag-ns', concurrency: '8', 'sweep-interval': undefined },
      { EATR_HOST_NAMESPACE: 'creds', EATR_SWEEP_INTERVAL: '1m', EATR_CONCURRENCY: '2' },
    );
    expect(watcher).toMatchObject({ hostNamespace: 'flag-ns', sweepIntervalMs: 60_000 });
    expect(renewer).toMatchObject({ hostNamespace: 'flag-ns', concurrency: 8 });
  });

  it('names a bad value as the user gave it: --<setting> or the variable', () => {
    expect(() => loadConfigs({ 'renewal-interval': '13x' }, {})).toThrow(ConfigError);
    expect(() => loadConfigs({ 'renewal-interval': '13x' }, {})).toThrow(
      /^--renewal-interval: "13x" is not a duration/,
    );
    expect(() => loadConfigs({}, { EATR_CONCURRENCY: 'lots' })).toThrow(
      /^EATR_CONCURRENCY: "lots" must be a whole number from 1 to 1000$/,
    );
  });
});
