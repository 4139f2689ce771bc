import { describe, expect, it } from 'vitest';
import { SETTINGS } from '@eatr/core';
import { envOf, render, type Rendered } from './support.js';

// Every setting a component reads (SETTINGS in packages/core/src/config/settings.ts, the one
// declaration) reaches that component's Deployment as its environment variable, so a setting added
// to eatr without chart wiring, or wired to the wrong component, fails here.

/** Settings the chart leaves to their defaults on purpose, and why. */
const NOT_WIRED: Readonly<Record<string, string>> = {
  kubeconfig: 'in a pod, eatr uses its in-cluster ServiceAccount',
  'metrics-host': 'the default 0.0.0.0 is what a pod needs (probes and scrapes come from outside)',
};

/**
 * Values that switch on the optional ones (a Redis password, an email, Secret labels, a proxy); the Redis modes
 * exclude each other, so each mode is one render and a setting counts as wired when any has it.
 */
const OPTIONAL = {
  renewer: {
    dockerEmail: 'ops@example.com',
    secretLabels: { 'argocd.argoproj.io/instance': 'none' },
    secretAnnotations: { 'argocd.argoproj.io/compare-options': 'IgnoreExtraneous' },
  },
  proxy: {
    httpsProxy: 'http://proxy:3128',
    httpProxy: 'http://proxy:3128',
    noProxy: '10.0.0.0/8',
  },
};
const TLS = {
  enabled: true,
  caSecret: 'redis-ca',
  clientCertSecret: 'redis-client',
};
const RENDERS = [
  { ...OPTIONAL, redis: { auth: { existingSecret: 'redis-auth' } } },
  {
    ...OPTIONAL,
    redis: { enabled: false },
    externalRedis: { url: 'redis://redis:6379', existingSecret: 'redis-auth', tls: TLS },
  },
  {
    ...OPTIONAL,
    redis: { enabled: false },
    externalRedis: {
      existingSecret: 'redis-auth',
      sentinel: { addresses: ['sentinel:26379'], existingSecret: 'sentinel-auth' },
      tls: TLS,
    },
  },
  {
    ...OPTIONAL,
    redis: { enabled: false },
    externalRedis: { cluster: { nodes: ['redis-0:6379'] } },
    config: { queuePrefix: '{eatr}' },
  },
];

const deployment = (objects: readonly Rendered[], component: string) => {
  const found = objects.find(
    (o) => o.kind === 'Deployment' && o.source === `templates/${component}-deployment.yaml`,
  );
  if (!found) throw new Error(`no ${component} Deployment rendered`);
  return found;
};

describe('chart env wiring of every setting', () => {
  it.each(['watcher', 'renewer'] as const)(
    'the %s gets each setting it reads',
    async (component) => {
      const env = new Set<string>();
      for (const values of RENDERS)
        for (const name of envOf(deployment(await render({ values }), component)).keys())
          env.add(name);
      const missing = SETTINGS.filter(
        (s) =>
          (s.components as readonly string[]).includes(component) &&
          NOT_WIRED[s.flag] === undefined &&
          !s.env.some((name) => env.has(name)),
      ).map((s) => `--${s.flag} (${s.env.join(' or ')})`);
      expect(missing).toEqual([]);
    },
  );

  it('names only settings that exist', () => {
    const flags = new Set<string>(SETTINGS.map((s) => s.flag));
    expect(Object.keys(NOT_WIRED).filter((flag) => !flags.has(flag))).toEqual([]);
  });
});
