import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DOCKER_CONFIG_JSON_KEY, EXPIRES_AT_ANNOTATION } from '@eatr/core';
import type { V1Secret } from '@kubernetes/client-node';
import { uniqueName } from '../harness/index.js';
import { OTHER_KEYS, Scenario, leaseEnv, registry } from './support/scenario.js';

// ECR Public (public.ecr.aws) on a real API server and Redis, with the AWS stand-in answering the
// ecr-public API (its own SigV4 service name, us-east-1 only): a namespace labelled
// public.ecr.aws=true gets a Secret for public.ecr.aws, beside its private registries.

const PUBLIC = 'public.ecr.aws';
const US = registry('us-east-1');

let s: Scenario;
beforeEach(async () => {
  s = await Scenario.create();
});
afterEach(async () => {
  await s.close();
});

function auth(secret: V1Secret): { host: string; password: string } {
  const config = JSON.parse(
    Buffer.from(secret.data?.[DOCKER_CONFIG_JSON_KEY] ?? '', 'base64').toString('utf8'),
  ) as { auths: Record<string, { username: string; password: string }> };
  const [host = '', entry] = Object.entries(config.auths)[0] ?? [];
  expect(entry?.username).toBe('AWS');
  return { host, password: entry?.password ?? '' };
}

describe('ECR Public (public.ecr.aws)', () => {
  it('serves public.ecr.aws from the ecr-public API in us-east-1, apart from a private registry of the same keys and region', async () => {
    await s.createCredentialSecret(PUBLIC);
    await s.createCredentialSecret(US);
    await s.start('watcher', leaseEnv(uniqueName('lease')));
    await s.start('renewer');
    const ns = await s.createNamespace('public', [PUBLIC, US]);

    const publicSecret = await s.waitForSecret(ns, PUBLIC, () => true, 30_000);
    const privateSecret = await s.waitForSecret(ns, US, () => true, 30_000);
    const pub = auth(publicSecret);
    expect(pub.host).toBe(PUBLIC);
    const issued = s.aws.issuedTokens().find((t) => t.password === pub.password);
    expect(issued?.proxyEndpoint).toBe('https://public.ecr.aws');
    expect(publicSecret.metadata?.annotations?.[EXPIRES_AT_ANNOTATION]).toBe(
      issued?.expiresAt.toISOString(),
    );
    // One call to each API, both signed for us-east-1: the two tokens are not interchangeable.
    expect(
      s.aws
        .calls()
        .map((c) => `${c.service} ${c.region} ${c.status}`)
        .sort(),
    ).toEqual(['ecr us-east-1 200', 'ecr-public us-east-1 200']);
    expect(auth(privateSecret).password).not.toBe(pub.password);

    // Rotated keys: the public Secret is renewed from the new keys, by the ecr-public API.
    await s.rotateCredentials(PUBLIC, OTHER_KEYS);
    const rotated = await s.waitForSecret(
      ns,
      PUBLIC,
      (x) => auth(x).password !== pub.password,
      30_000,
    );
    const renewedBy = s.aws.issuedTokens().find((t) => t.password === auth(rotated).password);
    expect(renewedBy).toMatchObject({
      accessKeyId: OTHER_KEYS.accessKeyId,
      proxyEndpoint: 'https://public.ecr.aws',
    });
  }, 120_000);

  it('serves 300 namespaces with one ecr-public call', async () => {
    await s.createCredentialSecret(PUBLIC);
    await s.start('watcher', leaseEnv(uniqueName('lease')));
    await s.start('renewer');
    const namespaces: string[] = [];
    for (let i = 0; i < 300; i += 25)
      namespaces.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(25, 300 - i) }, () => s.createNamespace('pub', [PUBLIC])),
        )),
      );
    await s.waitFor(
      'a public.ecr.aws Secret in each of the 300 namespaces',
      async () => {
        const secrets = await s.core.listSecretForAllNamespaces({
          fieldSelector: `metadata.name=${PUBLIC}`,
        });
        const served = new Set(secrets.items.map((x) => x.metadata?.namespace));
        return namespaces.every((n) => served.has(n)) ? true : undefined;
      },
      120_000,
    );
    const calls = s.aws.calls().filter((c) => c.service === 'ecr-public');
    console.log(
      `[figure] ECR Public: 300 namespaces served with ${calls.length} ecr-public call(s)`,
    );
    expect(calls.map((c) => `${c.action} ${c.region} ${c.status}`)).toEqual([
      'GetAuthorizationToken us-east-1 200',
    ]);
  }, 180_000);
});
