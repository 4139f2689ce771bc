/**
 * The API server's ceiling for Secret writes on this machine, in this run: a tight client loop (one
 * keep-alive Agent, `concurrency` requests in flight) creates N Secrets, each in its own namespace,
 * shaped like eatr's (dockerconfigjson, the same annotations, a token of the same size), then
 * replaces each one (PUT with its resourceVersion, as eatr renews). The namespaces are created
 * beforehand, untimed; the Secrets are deleted afterwards so eatr never sees them (they lack eatr's
 * managed-by label anyway).
 */
import { randomBytes } from 'node:crypto';
import { ms, pool } from './common.js';
import { cpuSnapshot, cpuUsed } from './cpu-use.js';
import type { RawKube } from './raw-kube.js';

export interface Ceiling {
  readonly secrets: number;
  readonly concurrency: number;
  readonly createMs: number;
  readonly updateMs: number;
  readonly createPerS: number;
  readonly updatePerS: number;
  /** CPU seconds per process kind during the updates. */
  readonly updateCpu: ReadonlyMap<string, number>;
}

const NAME = 'bench-ceiling';
const LABEL = 'eatr-bench/ceiling';

function secretBody(namespace: string, registry: string, resourceVersion?: string) {
  const now = Date.now();
  const password = `eatr-fake-ecr-${randomBytes(24).toString('base64url')}`;
  const auth = Buffer.from(`AWS:${password}`).toString('base64');
  const config = JSON.stringify({ auths: { [registry]: { username: 'AWS', password, auth } } });
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/dockerconfigjson',
    metadata: {
      name: NAME,
      namespace,
      labels: { [LABEL]: 'true' },
      annotations: {
        'eatr.io/registry': registry,
        'eatr.io/expires-at': new Date(now + 12 * 3600_000).toISOString(),
        'eatr.io/renew-after': new Date(now + 6 * 3600_000).toISOString(),
        'eatr.io/credentials-version': 'bench/1',
      },
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
    },
    data: { '.dockerconfigjson': Buffer.from(config).toString('base64') },
  };
}

export async function measureCeiling(
  kube: RawKube,
  options: { prefix: string; secrets: number; concurrency: number; registry: string },
): Promise<Ceiling> {
  const { prefix, secrets, concurrency, registry } = options;
  const namespaces = Array.from({ length: secrets }, (_, i) => `${prefix}-${i}`);
  await pool(namespaces, 32, async (name) => {
    await kube.request('POST', '/api/v1/namespaces', {
      body: { metadata: { name, labels: { [LABEL]: 'true' } } },
    });
  });

  const versions: string[] = [];
  let started = performance.now();
  await pool(namespaces, concurrency, async (namespace, i) => {
    const created = await kube.json<{ metadata?: { resourceVersion?: string } }>(
      'POST',
      `/api/v1/namespaces/${namespace}/secrets`,
      { body: secretBody(namespace, registry) },
    );
    versions[i] = created.metadata?.resourceVersion ?? '';
  });
  const createMs = ms(started);

  const cpuBefore = await cpuSnapshot();
  started = performance.now();
  await pool(namespaces, concurrency, async (namespace, i) => {
    await kube.request('PUT', `/api/v1/namespaces/${namespace}/secrets/${NAME}`, {
      body: secretBody(namespace, registry, versions[i]),
    });
  });
  const updateMs = ms(started);
  const updateCpu = cpuUsed(cpuBefore, await cpuSnapshot());

  await pool(namespaces, 32, async (namespace) => {
    await kube.request('DELETE', `/api/v1/namespaces/${namespace}/secrets/${NAME}`);
  });
  return {
    secrets,
    concurrency,
    createMs,
    updateMs,
    createPerS: (secrets / createMs) * 1000,
    updatePerS: (secrets / updateMs) * 1000,
    updateCpu,
  };
}
