import { describe, expect, it } from 'vitest';
import { argsForComponent } from './all-in-one-args.js';
import { loadConfig } from './load-config.js';

describe('argsForComponent', () => {
  const argv = [
    '-auth-token-renewal-interval',
    '20s',
    '-informers-resync-interval',
    '5s',
    '--concurrency=2',
    '--bogus',
    'x',
  ];
  it('gives each component its own flags, shared ones to both, unknown ones to both', () => {
    expect(argsForComponent('watcher', argv)).toEqual([
      '-auth-token-renewal-interval',
      '20s',
      '-informers-resync-interval',
      '5s',
      '--bogus',
      'x',
    ]);
    expect(argsForComponent('renewer', argv)).toEqual([
      '-auth-token-renewal-interval',
      '20s',
      '--concurrency=2',
      '--bogus',
      'x',
    ]);
  });
  it('lets the seed command line configure both', () => {
    const seed = [
      '-auth-token-renewal-interval',
      '20s',
      '-informers-resync-interval',
      '5s',
      '-logging-verbosity-level',
      '6',
    ];
    expect(loadConfig('watcher', argsForComponent('watcher', seed), {}).sweepIntervalMs).toBe(5000);
    expect(loadConfig('renewer', argsForComponent('renewer', seed), {}).renewalIntervalMs).toBe(
      20_000,
    );
  });
});
