import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGoDuration, parseRegistryHost } from '@eatr/core';
import { CHART, render, renderError } from './support.js';

interface Schema {
  readonly definitions: Record<string, { pattern?: string }>;
}

const schema = async (): Promise<Schema> =>
  JSON.parse(await readFile(join(CHART, 'values.schema.json'), 'utf8')) as Schema;

describe('values.schema.json', () => {
  // Each bad value is refused before anything renders, and the message names the key and the rule.
  it.each([
    [
      { config: { renewalInterval: '13x' } },
      "at '/config/renewalInterval': '13x' does not match pattern",
    ],
    [{ watcher: { sweepInterval: '5 minutes' } }, "at '/watcher/sweepInterval'"],
    [{ watcher: { replicas: -1 } }, "at '/watcher/replicas': minimum: got -1, want 0"],
    [{ renewer: { replicas: 1.5 } }, "at '/renewer/replicas'"],
    [{ renewer: { concurrency: 0 } }, "at '/renewer/concurrency': minimum: got 0, want 1"],
    [{ renewer: { replica: 3 } }, "at '/renewer': additional properties 'replica' not allowed"],
    [
      { redis: { persistance: { enabled: true } } },
      "additional properties 'persistance' not allowed",
    ],
    [{ config: { logLevel: 'verbose' } }, "at '/config/logLevel'"],
    [
      { image: { pullPolicy: 'Sometimes' } },
      "at '/image/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'",
    ],
    [{ hostNamespace: 'CI_CD' }, "at '/hostNamespace'"],
    [{ hostNamespace: 'Team_apps' }, "at '/hostNamespace'"],
    [
      { watcher: { leaderElection: { namespace: 'Leases_ns' } } },
      "at '/watcher/leaderElection/namespace'",
    ],
    [
      { config: { registries: ['docker.io'] } },
      "at '/config/registries/0': 'docker.io' does not match pattern",
    ],
    [
      {
        credentials: [
          {
            registry: '12345678901.dkr.ecr.eu-west-1.amazonaws.com',
            accessKeyId: 'AKIA0000000000000000',
            secretAccessKey: 'x',
          },
        ],
      },
      "at '/credentials/0/registry'",
    ],
    [
      {
        credentials: [
          {
            registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
            accessKeyId: 'AKIA0000000000000000',
          },
        ],
      },
      "at '/credentials/0'",
    ],
    [{ externalRedis: { url: 'http://redis:6379' } }, "at '/externalRedis/url'"],
    [
      { externalRedis: { sentinel: { addresses: ['redis://s:26379'] } } },
      "at '/externalRedis/sentinel/addresses/0'",
    ],
    [{ externalRedis: { cluster: { nodes: ['n'] } } }, "at '/externalRedis/cluster/nodes/0'"],
    [{ metrics: { port: 70000 } }, "at '/metrics/port': maximum: got 70,000, want 65,535"],
    [{ proxy: { httpsProxy: 'proxy.corp:3128' } }, "at '/proxy/httpsProxy'"],
    [{ aws: { webIdentity: { roleArn: 'eatr-role' } } }, "at '/aws/webIdentity/roleArn'"],
    [{ image: { digest: 'latest' } }, "at '/image/digest'"],
    [{ config: { kubeApi: { qps: -1 } } }, "at '/config/kubeApi/qps': minimum: got -1, want 0"],
    [{ config: { kubeApi: { qps: 'fast' } } }, "at '/config/kubeApi/qps'"],
    [{ config: { kubeApi: { burst: 0 } } }, "at '/config/kubeApi/burst': minimum: got 0, want 1"],
    [{ config: { kubeApi: { burst: 1.5 } } }, "at '/config/kubeApi/burst'"],
    [{ config: { kubeApi: { qpd: 5 } } }, "additional properties 'qpd' not allowed"],
  ])('refuses %j', async (values, message) => {
    const error = await renderError({ values });
    expect(error).toContain("values don't meet the specifications of the schema");
    expect(error).toContain(message);
  });

  it('accepts the values the docs show, and the seed-style verbosity numbers', async () => {
    await expect(
      render({
        values: {
          config: {
            renewalInterval: '1h30m',
            logLevel: 3,
            registries: ['123456789012.dkr.ecr.eu-west-1.amazonaws.com'],
            kubeApi: { qps: 1000, burst: 2000 }, // the speed settings for a large API server
          },
          watcher: { replicas: 2, leaderElection: { leaseDuration: '1.5s' } },
          renewer: {
            patchServiceAccounts: ['*'],
            secretNameTemplate: 'ecr-{{account}}-{{region}}',
            concurrency: 32,
          },
          podSecurityContext: { runAsUser: 10001, runAsGroup: 10001, runAsNonRoot: true },
        },
      }),
    ).resolves.not.toHaveLength(0);
  });

  it('uses a duration pattern that accepts exactly what eatr parses (for the units it allows)', async () => {
    const pattern = new RegExp((await schema()).definitions.duration?.pattern ?? '^$');
    for (const text of ['6h', '20s', '1h30m', '1.5h', '300ms', '2m30s', '0s'])
      expect([text, pattern.test(text), parseGoDuration(text) !== undefined]).toEqual([
        text,
        true,
        true,
      ]);
    for (const text of ['13x', '6', 'h', '1 h', '-5m', '5m '])
      expect([text, pattern.test(text)]).toEqual([text, false]);
  });

  it('uses a registry pattern that agrees with eatr own parser', async () => {
    const pattern = new RegExp((await schema()).definitions.registryHost?.pattern ?? '^$');
    const hosts = [
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn',
      '123456789012.dkr-ecr-fips.us-east-1.amazonaws.com',
      '123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com',
      '123456789012.dkr-ecr.eu-west-1.on.aws',
      '123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu',
      '12345678901.dkr.ecr.eu-west-1.amazonaws.com',
      '123456789012.dkr.ecr.amazonaws.com',
      '123456789012.dkr.ecr.eu-west-1.example.com',
      'public.ecr.aws',
    ];
    for (const host of hosts)
      expect([host, pattern.test(host)]).toEqual([host, parseRegistryHost(host) !== undefined]);
  });
});
