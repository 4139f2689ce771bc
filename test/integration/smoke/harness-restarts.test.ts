import { Watch } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import {
  flushRedis,
  harness,
  kubeClients,
  restartApiServer,
  restartRedis,
  uniqueName,
} from '../../harness/index.js';

describe('harness restarts', () => {
  it('restartApiServer ends open watches and serves the same URL and data again', async () => {
    const { core, kubeConfig } = kubeClients(harness().kubeconfigPath);
    const name = uniqueName('smoke-restart');
    await core.createNamespace({ body: { metadata: { name } } });
    let watchEnded = false;
    const controller = await new Watch(kubeConfig).watch(
      '/api/v1/namespaces',
      {},
      () => undefined,
      () => (watchEnded = true),
    );
    try {
      const restart = await restartApiServer();
      console.log(`[figure] kube-apiserver restart: ready in ${restart.readyMs} ms`);
      await expect.poll(() => watchEnded, { timeout: 10_000 }).toBe(true);
      const ns = await core.readNamespace({ name });
      expect(ns.metadata?.name).toBe(name);
    } finally {
      controller.abort();
      await core.deleteNamespace({ name });
    }
  });

  it('flushRedis empties the Redis', async () => {
    const redis = new Redis(harness().redisUrl);
    try {
      const key = uniqueName('smoke-key');
      await redis.set(key, '1');
      await flushRedis();
      expect(await redis.exists(key)).toBe(0);
    } finally {
      redis.disconnect();
    }
  });

  // A Redis given by REDIS_URL is not the harness's to restart.
  it.runIf(inject('redisOwned'))('restartRedis gives an empty Redis on the same URL', async () => {
    const redis = new Redis(harness().redisUrl, { maxRetriesPerRequest: null });
    // Refused connections while the server restarts are expected; ioredis retries them.
    redis.on('error', () => undefined);
    try {
      const key = uniqueName('smoke-key');
      await redis.set(key, '1');
      await restartRedis();
      // ioredis reconnects by itself, as eatr's processes will.
      expect(await redis.exists(key)).toBe(0);
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
    }
  });
});
