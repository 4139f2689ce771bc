import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseGoDuration, parseRegistryHost } from '@eatr/core';
import { schemaDisagreements, type JsonSchema } from './schema-values.js';
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
      'public.ecr.aws/nginx',
    ];
    for (const host of hosts)
      expect([host, pattern.test(host)]).toEqual([host, parseRegistryHost(host) !== undefined]);
  });
});

/**
 * Schema properties values.yaml leaves out on purpose, as JSON pointers (a `$ref`'d property is named
 * where it is defined). Each must have no `default` in the schema.
 */
const OPTIONAL = new Set([
  // Helm's own: parent charts set it.
  '#/properties/global',
  // Kubernetes fields a user may set; Kubernetes' own defaults apply otherwise.
  '#/definitions/resources/properties/claims',
  '#/definitions/probe/properties/successThreshold',
]);

const chartFiles = async (): Promise<{ values: unknown; schema: JsonSchema }> => ({
  values: parse(await readFile(join(CHART, 'values.yaml'), 'utf8')) as unknown,
  schema: JSON.parse(await readFile(join(CHART, 'values.schema.json'), 'utf8')) as JsonSchema,
});

describe('values.yaml and values.schema.json', () => {
  it('agree: every value has a schema entry, every schema property a value, every default matches', async () => {
    const { values, schema } = await chartFiles();
    expect(schemaDisagreements(values, schema, OPTIONAL)).toEqual([]);
  });

  it('disagree once either file drifts', async () => {
    const { values, schema } = await chartFiles();
    const drifted = structuredClone(values) as { renewer: Record<string, unknown> };
    drifted.renewer.concurrencyLimit = 4; // a new value without a schema entry
    delete drifted.renewer.ecrTimeout; // a schema property values.yaml lost
    drifted.renewer.replicas = '2'; // a value of a type the schema refuses
    expect(schemaDisagreements(drifted, schema, OPTIONAL)).toEqual([
      'renewer.replicas: values.yaml has string, schema (#/properties/renewer/properties/replicas) allows integer',
      'renewer.concurrencyLimit: in values.yaml but not in the schema (#/properties/renewer lists its properties and allows no others)',
      'renewer.ecrTimeout: in the schema (#/properties/renewer/properties/ecrTimeout) but not in values.yaml',
    ]);
  });
});

describe('schemaDisagreements', () => {
  const object = (
    properties: Record<string, JsonSchema>,
    more: Partial<JsonSchema> = {},
  ): JsonSchema => ({ type: 'object', properties, additionalProperties: false, ...more });

  it.each<[string, unknown, JsonSchema, string[]]>([
    [
      'agreeing files',
      { a: 1, m: { k: 's' } },
      object({ a: { type: 'integer' }, m: object({ k: { type: 'string' } }) }),
      [],
    ],
    [
      'a value the schema lacks',
      { a: 1, b: 2 },
      object({ a: {} }),
      ['b: in values.yaml but not in the schema (# lists its properties and allows no others)'],
    ],
    [
      'a value beside listed properties when the schema does not say others may be added',
      { m: { k: 1, typo: 2 } },
      object({ m: { type: 'object', properties: { k: {} } } }),
      [
        'm.typo: in values.yaml but not in the schema (#/properties/m lists its properties but does not say others may be added)',
      ],
    ],
    [
      'a free-form object (no properties listed)',
      { ctx: { runAsUser: 1, nested: { any: true } } },
      object({ ctx: { type: 'object' } }),
      [],
    ],
    [
      'a map whose entries must match additionalProperties',
      { labels: { ok: '1', bad: 1 } },
      object({ labels: { type: 'object', additionalProperties: { type: 'string' } } }),
      [
        'labels.bad: values.yaml has integer, schema (#/properties/labels/additionalProperties) allows string',
      ],
    ],
    [
      'a schema property values.yaml lacks',
      { a: 1 },
      object({ a: {}, b: { type: 'string' } }),
      ['b: in the schema (#/properties/b) but not in values.yaml'],
    ],
    [
      'a default that differs (deep comparison)',
      { a: 2, list: ['x'], m: { k: [1] } },
      object({
        a: { type: 'integer', default: 1 },
        list: { type: 'array', default: ['x'] },
        m: { type: 'object', default: { k: [1] } },
      }),
      ['a: schema default 1, values.yaml 2'],
    ],
    [
      'types: integer is a number, null where allowed, oneOf branches',
      { n: 1, i: null, level: 3, bad: true },
      object({
        n: { type: 'number' },
        i: { type: ['integer', 'null'] },
        level: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
        bad: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
      }),
      ['bad: values.yaml has boolean, schema (#/properties/bad) allows string, integer'],
    ],
    [
      'properties behind a $ref, named where they are defined',
      { probe: { period: 1, extra: 2 } },
      {
        ...object({ probe: { $ref: '#/definitions/probe' } }),
        definitions: { probe: object({ period: {}, timeout: {} }) },
      },
      [
        'probe.extra: in values.yaml but not in the schema (#/definitions/probe lists its properties and allows no others)',
        'probe.timeout: in the schema (#/definitions/probe/properties/timeout) but not in values.yaml',
      ],
    ],
    [
      'list items: checked against items, but need not set every property',
      { peers: [{ to: 1 }, { to: 2, typo: 3 }] },
      object({ peers: { type: 'array', items: object({ to: {}, ports: {} }) } }),
      [
        'peers[1].typo: in values.yaml but not in the schema (#/properties/peers/items lists its properties and allows no others)',
      ],
    ],
  ])('%s', (_name, values, schema, problems) => {
    expect(schemaDisagreements(values, schema)).toEqual(problems);
  });

  it('accepts a property left out on purpose only when listed as optional, without a default', () => {
    const schema = object({ a: {}, b: { type: 'string' }, c: { type: 'string', default: 'x' } });
    expect(
      schemaDisagreements({ a: 1 }, schema, new Set(['#/properties/b', '#/properties/c'])),
    ).toEqual(['c: optional, but the schema gives it a default values.yaml lacks']);
    expect(
      schemaDisagreements({ a: 1, b: 's', c: 'x' }, schema, new Set(['#/properties/b'])),
    ).toEqual(['optional #/properties/b: no value leaves it out; drop it from the list']);
  });
});
