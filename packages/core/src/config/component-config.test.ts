import { describe, expect, it } from 'vitest';
import { buildConfig } from './component-config.js';
import { ConfigError } from './config-error.js';
import { withEnvironment } from './environment.js';
import { parseFlags } from './flags.js';

describe('buildConfig', () => {
  it('builds each component from a map of setting values, defaults for the rest', () => {
    const values = { 'renewal-interval': '1h', concurrency: '8', 'sweep-interval': '1m' };
    const renewer = buildConfig('renewer', values);
    expect(renewer).toMatchObject({
      component: 'renewer',
      renewalIntervalMs: 3_600_000,
      concurrency: 8,
      hostNamespace: 'ci-cd',
      redis: { mode: 'standalone', url: 'redis://127.0.0.1:6379' },
    });
    const watcher = buildConfig('watcher', values);
    expect(watcher).toMatchObject({
      component: 'watcher',
      renewalIntervalMs: 3_600_000,
      sweepIntervalMs: 60_000,
      leaderElection: { namespace: 'ci-cd', leaseName: 'eatr-watcher' },
    });
    expect(watcher).not.toHaveProperty('concurrency');
  });

  it('names a bad value as its source says it was given, else as the check does', () => {
    const values = { 'renewal-interval': '13x' };
    expect(() =>
      buildConfig('watcher', values, { 'renewal-interval': 'EATR_RENEWAL_INTERVAL' }),
    ).toThrow(/^EATR_RENEWAL_INTERVAL: "13x" is not a duration/);
    expect(() => buildConfig('watcher', values)).toThrow(
      /^auth-token-renewal-interval: "13x" is not a duration/,
    );
  });

  it('rejects a bad Redis setting as a ConfigError', () => {
    expect(() => buildConfig('renewer', { 'redis-sentinel-master': 'm' })).toThrow(ConfigError);
    expect(() => buildConfig('renewer', { 'redis-sentinel-master': 'm' })).toThrow(
      'redis-sentinel-master is set but redis-sentinels is not',
    );
  });

  it("configures both components from the seed's one command line (the all-in-one process)", () => {
    const { values, sources } = withEnvironment(
      parseFlags('watcher', [
        '-auth-token-renewal-interval',
        '20s',
        '-informers-resync-interval',
        '5s',
        '-logging-verbosity-level',
        '6',
        '--concurrency=2',
      ]),
      {},
    );
    const watcher = buildConfig('watcher', values, sources);
    const renewer = buildConfig('renewer', values, sources);
    expect(watcher).toMatchObject({
      sweepIntervalMs: 5000,
      renewalIntervalMs: 20_000,
      logLevel: 'trace',
    });
    expect(renewer).toMatchObject({ concurrency: 2, renewalIntervalMs: 20_000, logLevel: 'trace' });
  });

  it("reads --secret-labels and --secret-annotations as key=value lists, refusing eatr's own keys", () => {
    expect(
      buildConfig('renewer', {
        'secret-labels': 'argocd.argoproj.io/instance=none, team=a',
        'secret-annotations': 'argocd.argoproj.io/sync-options=Prune=false',
      }),
    ).toMatchObject({
      secretLabels: { 'argocd.argoproj.io/instance': 'none', team: 'a' },
      secretAnnotations: { 'argocd.argoproj.io/sync-options': 'Prune=false' },
    });
    for (const [flag, value, message] of [
      ['secret-labels', 'team', '"team" is not key=value'],
      ['secret-labels', 'eatr.io/instance=x', '"eatr.io/instance" is eatr\'s own key'],
      ['secret-labels', 'app.kubernetes.io/managed-by=me', "is eatr's own key"],
      ['secret-labels', 'team=a b', '"a b" is not a label value'],
      ['secret-annotations', 'bad key=x', 'is not an annotation key'],
    ] as const)
      expect(() => buildConfig('renewer', { [flag]: value })).toThrow(message);
  });
});
