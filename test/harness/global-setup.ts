import type { TestProject } from 'vitest/node';
import { ControlPlane } from './control-plane.js';
import type { ApiServerRestartOptions } from './control-plane.js';
import { startHarnessControl } from './harness-control.js';
import type { HarnessControl } from './harness-control.js';
import type {} from './provided.js'; // the ProvidedContext keys
import { RedisServer } from './redis-server.js';

/**
 * Integration global setup: one Redis (or REDIS_URL's) and one etcd + kube-apiserver for the whole
 * run, handed to the tests with `provide`; see provided.ts for the test side.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = performance.now();
  const externalRedisUrl = process.env.REDIS_URL === '' ? undefined : process.env.REDIS_URL;
  const [redisResult, controlPlaneResult] = await Promise.allSettled([
    externalRedisUrl === undefined ? RedisServer.start() : Promise.resolve(undefined),
    ControlPlane.start(),
  ]);
  const redis = redisResult.status === 'fulfilled' ? redisResult.value : undefined;
  const controlPlane =
    controlPlaneResult.status === 'fulfilled' ? controlPlaneResult.value : undefined;
  let control: HarnessControl | undefined;

  const teardown = async (): Promise<void> => {
    const results = await Promise.allSettled([
      control?.close(),
      controlPlane?.stop(),
      redis?.stop(),
    ]);
    const failures = results.filter((r) => r.status === 'rejected').map((r) => r.reason as Error);
    if (failures.length > 0) throw new AggregateError(failures, 'harness teardown failed');
  };

  try {
    if (redisResult.status === 'rejected') throw redisResult.reason;
    if (controlPlaneResult.status === 'rejected') throw controlPlaneResult.reason;
    if (controlPlane === undefined) throw new Error('unreachable: no control plane');
    control = await startHarnessControl({
      restartApiServer: (input) => controlPlane.restartApiServer(restartOptions(input)),
      restartRedis: async () => {
        if (redis === undefined) throw new Error('REDIS_URL is set: the harness owns no Redis');
        await redis.restart();
      },
    });
  } catch (error) {
    await teardown().catch(() => undefined);
    throw error;
  }

  project.provide('redisUrl', redis?.url ?? externalRedisUrl ?? '');
  project.provide('redisOwned', redis !== undefined);
  project.provide('kubeconfigPath', controlPlane.kubeconfigPath);
  project.provide('apiServerUrl', controlPlane.apiServerUrl);
  project.provide('harnessControlUrl', control.url);

  const redisLine =
    redis === undefined
      ? `Redis from REDIS_URL`
      : `redis-server ${(redis.startMs / 1000).toFixed(1)} s`;
  console.log(
    `[harness] ready in ${((performance.now() - started) / 1000).toFixed(1)} s: ${redisLine}; ` +
      `control plane ${controlPlane.apiServerUrl}: ${controlPlane.describeTimings()}`,
  );
  return teardown;
}

function restartOptions(input: unknown): ApiServerRestartOptions {
  const signal = (input as { signal?: unknown } | null)?.signal;
  if (signal === undefined || signal === 'SIGTERM' || signal === 'SIGKILL') return { signal };
  throw new Error(
    `restartApiServer: signal must be SIGTERM or SIGKILL, not ${JSON.stringify(signal)}`,
  );
}
