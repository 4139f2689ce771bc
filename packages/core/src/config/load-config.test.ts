import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { loadConfig } from './load-config.js';
import type { Component } from './setting.js';
import { SETTINGS } from './settings.js';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig('renewer', [], {});
    expect(c).toMatchObject({
      redis: { url: 'redis://127.0.0.1:6379' },
      queuePrefix: '{eatr}',
      hostNamespace: 'ci-cd',
      metrics: { port: 5000 },
      logLevel: 'info',
      renewalIntervalMs: 6 * 3_600_000,
      concurrency: 4,
      secretNameTemplate: '{{registry}}',
      serviceAccounts: ['default'],
      usePodIdentity: false,
      kubeApi: { qps: 50, burst: 100 },
    });
    expect(loadConfig('watcher', [], {}).sweepIntervalMs).toBe(300_000);
    expect(loadConfig('watcher', [], {}).kubeApi).toEqual({ qps: 50, burst: 100 });
  });

  it("accepts the seed controller's Go-style flags", () => {
    const c = loadConfig(
      'watcher',
      [
        '-auth-token-renewal-interval',
        '20s',
        '-informers-resync-interval',
        '5s',
        '-logging-verbosity-level',
        '6',
      ],
      {},
    );
    expect(c.renewalIntervalMs).toBe(20_000);
    expect(c.sweepIntervalMs).toBe(5000);
    expect(c.logLevel).toBe('trace');
  });

  it('accepts -flag=value and --flag value', () => {
    expect(loadConfig('renewer', ['-auth-token-renewal-interval=1h'], {}).renewalIntervalMs).toBe(
      3_600_000,
    );
    expect(loadConfig('renewer', ['--concurrency', '8'], {}).concurrency).toBe(8);
  });

  it('reads the environment, and flags win over it', () => {
    const env = {
      EATR_HOST_NAMESPACE: 'creds',
      REDIS_URL: 'redis://r:6380',
      EATR_SERVICE_ACCOUNTS: '*',
    };
    const c = loadConfig('renewer', ['--host-namespace', 'flag-ns'], env);
    expect(c.hostNamespace).toBe('flag-ns');
    expect(c.redis).toMatchObject({ mode: 'standalone', url: 'redis://r:6380' });
    expect(c.serviceAccounts).toBe('*');
  });

  it.each<[string, readonly string[], NodeJS.ProcessEnv, { qps: number; burst: number }]>([
    [
      'environment',
      [],
      { EATR_KUBE_API_QPS: '12.5', EATR_KUBE_API_BURST: '20' },
      { qps: 12.5, burst: 20 },
    ],
    ['flags', ['--kube-api-qps', '0', '--kube-api-burst=1'], {}, { qps: 0, burst: 1 }],
    [
      'flags over environment',
      ['--kube-api-qps', '1000', '--kube-api-burst', '2000'],
      { EATR_KUBE_API_QPS: '5', EATR_KUBE_API_BURST: '5' },
      { qps: 1000, burst: 2000 },
    ],
  ])(
    'reads the Kubernetes API rate limit from %s, for both components',
    (_from, argv, env, kubeApi) => {
      expect(loadConfig('renewer', argv, env).kubeApi).toEqual(kubeApi);
      expect(loadConfig('watcher', argv, env).kubeApi).toEqual(kubeApi);
    },
  );

  it('reads proxy settings in either case', () => {
    const c = loadConfig('renewer', [], {
      https_proxy: 'http://proxy:3128',
      NO_PROXY: 'localhost, .internal',
    });
    expect(c.proxy).toEqual({
      https: 'http://proxy:3128',
      http: undefined,
      noProxy: ['localhost', '.internal'],
    });
  });

  it.each([
    [
      ['-auth-token-renewal-interval', '13h'],
      /auth-token-renewal-interval: 13h is out of range; it must be between 1s and 719m \(ECR tokens expire after 12h\)/,
    ],
    [['--ecr-timeout', '10ms'], /ecr-timeout: 10ms is out of range; it must be at least 100ms/],
    [['--kubeconfig', '/no/such/kubeconfig'], /kubeconfig: \/no\/such\/kubeconfig does not exist/],
    [
      ['-auth-token-renewal-interval', 'soon'],
      /auth-token-renewal-interval: "soon" is not a duration/,
    ],
    [['--concurrency', '0'], /concurrency/],
    [['--metrics-port', '70000'], /metrics-port/],
    [['--redis-url', 'http://x'], /redis-url/],
    [['--host-namespace', 'Bad_NS'], /host-namespace/],
    [['--registries', '12345.dkr.ecr.eu-west-1.amazonaws.com'], /registries: "12345/],
    [['--secret-name-template', 'UPPER_{{registry}}'], /secret-name-template/],
    [['--log-level', 'loud'], /^--log-level: "loud" must be one of/],
    [['--kube-api-qps', '-1'], /kube-api-qps: "-1" must be a number of at least 0/],
    [['--kube-api-qps', 'fast'], /kube-api-qps: "fast" must be a number of at least 0/],
    [['--kube-api-qps', ''], /kube-api-qps: "" must be a number/],
    [['--kube-api-burst', '0'], /kube-api-burst: "0" must be a whole number from 1 to 100000/],
    [['--kube-api-burst', '2.5'], /kube-api-burst: "2.5" must be a whole number/],
    [['--kube-api-burst', '100001'], /kube-api-burst: "100001" must be a whole number/],
    [['--no-such-flag', 'x'], /unknown option/],
  ])('rejects %j with a message naming the setting', (argv, message) => {
    expect(() => loadConfig('renewer', argv, {})).toThrow(ConfigError);
    expect(() => loadConfig('renewer', argv, {})).toThrow(message);
  });

  it('reads the first file of a KUBECONFIG list, as kubectl writes to it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eatr-config-'));
    const first = join(dir, 'first');
    writeFileSync(first, 'apiVersion: v1\nkind: Config\n');
    try {
      const c = loadConfig('renewer', [], { KUBECONFIG: `${first}:${join(dir, 'second')}` });
      expect(c.kubeconfig).toBe(first);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('rejects a bad environment value, naming it', () => {
    expect(() => loadConfig('renewer', [], { EATR_CONCURRENCY: 'lots' })).toThrow(
      /^EATR_CONCURRENCY: "lots"/,
    );
    expect(() => loadConfig('watcher', [], { EATR_KUBE_API_BURST: 'many' })).toThrow(
      /^EATR_KUBE_API_BURST: "many"/,
    );
    // The variable the user set, not the seed flag's name the check is written with.
    expect(() => loadConfig('watcher', [], { EATR_RENEWAL_INTERVAL: '13x' })).toThrow(
      /^EATR_RENEWAL_INTERVAL: "13x" is not a duration/,
    );
    expect(() => loadConfig('watcher', ['-auth-token-renewal-interval', '13x'], {})).toThrow(
      /^-auth-token-renewal-interval: "13x" is not a duration/,
    );
    expect(() => loadConfig('watcher', ['--renewal-interval=13x'], {})).toThrow(
      /^--renewal-interval: "13x" is not a duration/,
    );
  });

  it("accepts the other component's flags, so one seed command line serves both", () => {
    const seed = ['-auth-token-renewal-interval', '20s', '-informers-resync-interval', '1m'];
    expect(loadConfig('renewer', seed, {}).renewalIntervalMs).toBe(20_000);
    expect(loadConfig('watcher', [...seed, '--concurrency', '8'], {}).sweepIntervalMs).toBe(60_000);
    // Still validated: a bad value is an error wherever it goes.
    expect(() => loadConfig('renewer', ['--sweep-interval', 'soon'], {})).toThrow(ConfigError);
  });
});

type SettingFlag = (typeof SETTINGS)[number]['flag'];

/**
 * A valid value of one setting, another valid value (or none: the default), and settings it needs to
 * load at all. A component that reads the setting must get a different config from the two.
 */
interface Sample {
  readonly value: string;
  readonly other?: string;
  readonly with?: readonly string[];
}

describe('every setting reaches the config', () => {
  let dir: string;
  const file = (name: string) => join(dir, name);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'eatr-settings-'));
    writeFileSync(file('a.kubeconfig'), 'apiVersion: v1\nkind: Config\n');
    writeFileSync(file('b.kubeconfig'), 'apiVersion: v1\nkind: Config\n');
    // prettier-ignore
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-days', '1', '-subj', '/CN=a', '-keyout', file('a.key'), '-out', file('a.crt'),
    ], { stdio: 'ignore' });
    // The same certificate and key in other files: PEM readers skip text before the block, and the
    // config holds the file's text, so the two give different configs.
    for (const name of ['a.key', 'a.crt'])
      writeFileSync(file(`copy-${name}`), `a copy of ${name}\n${readFileSync(file(name), 'utf8')}`);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // A function, as the files exist only once beforeAll ran. Typed by flag: a setting added to
  // SETTINGS without a sample (or a sample of a removed one) does not compile.
  const samples = (): Record<SettingFlag, Sample> => {
    const tls = ['--redis-tls', 'true'];
    const sentinels = ['--redis-sentinels', 's1:26379'];
    return {
      kubeconfig: { value: file('a.kubeconfig'), other: file('b.kubeconfig') },
      'redis-url': { value: 'redis://sample:6380' },
      'redis-password': { value: 'sample-password' },
      'redis-sentinels': { value: 's1:26379' },
      'redis-sentinel-master': { value: 'sample-master', with: sentinels },
      'redis-sentinel-password': { value: 'sample-password', with: sentinels },
      'redis-cluster-nodes': { value: 'n1:6379' },
      'redis-tls': { value: 'true' },
      'redis-tls-ca': { value: file('a.crt'), with: tls },
      'redis-tls-cert': {
        value: file('a.crt'),
        other: file('copy-a.crt'),
        with: [...tls, '--redis-tls-key', file('a.key')],
      },
      'redis-tls-key': {
        value: file('a.key'),
        other: file('copy-a.key'),
        with: [...tls, '--redis-tls-cert', file('a.crt')],
      },
      'queue-prefix': { value: '{sample}' },
      instance: { value: 'sample-release' },
      'max-registries-per-namespace': { value: '7' },
      'default-allowed-namespaces': { value: 'eatr.io/tenant in (a,b)' },
      'secret-labels': { value: 'argocd.argoproj.io/instance=none' },
      'secret-annotations': { value: 'argocd.argoproj.io/compare-options=IgnoreExtraneous' },
      'tenant-roles': {
        value: '[{"namespaces":"team=a","roleArns":["arn:aws:iam::111122223333:role/team-a-*"]}]',
      },
      'digest-key': { value: 'a-sample-digest-key-of-32-chars!!' },
      'redis-unhealthy-after': { value: '2m' },
      'host-namespace': { value: 'sample-ns' },
      'metrics-port': { value: '5001' },
      'metrics-host': { value: '127.0.0.1' },
      'log-level': { value: 'debug' },
      'renewal-interval': { value: '1h' },
      'sweep-interval': { value: '1m' },
      'shutdown-timeout': { value: '30s' },
      concurrency: { value: '8' },
      'secret-name-template': { value: 'ecr-{{registry}}' },
      'docker-email': { value: 'ci@example.com' },
      'service-accounts': { value: 'builder' },
      'use-pod-identity': { value: 'true' },
      'ecr-max-attempts': { value: '5' },
      'ecr-timeout': { value: '20s' },
      'job-attempts': { value: '3' },
      'job-backoff': { value: '1s' },
      'job-backoff-max': { value: '2m' },
      'job-lock-duration': { value: '30s' },
      'stalled-interval': { value: '5s' },
      'settings-revision': { value: '7' },
      registries: { value: '123456789012.dkr.ecr.eu-west-1.amazonaws.com' },
      'served-namespaces': { value: 'team-a,team-b' },
      'argocd-registries': { value: '111111111111.dkr.ecr.eu-west-1.amazonaws.com' },
      'argocd-namespace': { value: 'gitops' },
      'recover-stuck-pods': { value: 'true' },
      'include-namespaces': { value: 'team-*' },
      'exclude-namespaces': { value: 'kube-system' },
      'kube-api-qps': { value: '5' },
      'kube-api-burst': { value: '10' },
      'leader-election-namespace': { value: 'sample-ns' },
      'lease-name': { value: 'sample-lease' },
      'lease-duration': { value: '30s' },
      'watch-timeout': { value: '1m' },
      // Two values: the default is the host name, which could be anything.
      'pod-name': { value: 'pod-a', other: 'pod-b' },
      'https-proxy': { value: 'http://proxy:3128' },
      'http-proxy': { value: 'http://proxy:3128' },
      'no-proxy': { value: '.internal' },
    };
  };

  it('has a sample of each setting, and of no other', () => {
    expect(Object.keys(samples()).sort()).toEqual(SETTINGS.map((s) => s.flag).sort());
  });

  const COMPONENTS: readonly Component[] = ['watcher', 'renewer'];
  const load = (component: Component, argv: readonly string[], env: NodeJS.ProcessEnv = {}) =>
    component === 'watcher' ? loadConfig('watcher', argv, env) : loadConfig('renewer', argv, env);
  it.each(
    SETTINGS.flatMap((s) =>
      COMPONENTS.map(
        (component) =>
          [s.flag, component, (s.components as readonly Component[]).includes(component)] as const,
      ),
    ),
  )('--%s in the %s config (it lists the setting: %s)', (flag, component, listed) => {
    const { value, other, with: needs = [] } = samples()[flag];
    const given = load(component, [...needs, `--${flag}`, value]);
    const otherwise = load(component, [
      ...needs,
      ...(other === undefined ? [] : [`--${flag}`, other]),
    ]);
    if (listed)
      expect(
        given,
        `--${flag} does not change the ${component} config: buildConfig() leaves it out`,
      ).not.toEqual(otherwise);
    // A setting the component does not list is not in its --help nor wired to it by the chart.
    else
      expect(given, `the ${component} reads --${flag}, but SETTINGS does not list it`).toEqual(
        otherwise,
      );
  });

  it.each(SETTINGS.map((s) => [s.flag, s] as const))(
    '--%s reads the same from each of its environment variables and flag spellings',
    (flag, s) => {
      const { value, with: needs = [] } = samples()[flag];
      const component = s.components[0];
      const expected = load(component, [...needs, `--${flag}`, value]);
      for (const name of s.env)
        expect(load(component, needs, { [name]: value }), name).toEqual(expected);
      for (const alias of 'aliases' in s ? s.aliases : [])
        expect(load(component, [...needs, `-${alias}`, value]), alias).toEqual(expected);
    },
  );
});
