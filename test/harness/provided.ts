import { Redis } from 'ioredis';
import { inject } from 'vitest';
import type { ApiServerRestart, ApiServerRestartOptions } from './control-plane.js';
import { callHarnessControl } from './harness-control.js';
import { writeServiceAccountKubeconfig } from './service-account-kubeconfig.js';
import type { ServiceAccountKubeconfigOptions } from './service-account-kubeconfig.js';

/** What the integration global setup hands to every test file (vitest `provide` / `inject`). */
declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    /** False when REDIS_URL pointed the run at a server the harness did not start. */
    redisOwned: boolean;
    /** Admin kubeconfig (group system:masters). */
    kubeconfigPath: string;
    apiServerUrl: string;
    /** See harness-control.ts. */
    harnessControlUrl: string;
  }
}

export interface HarnessCoordinates {
  readonly redisUrl: string;
  readonly kubeconfigPath: string;
  readonly apiServerUrl: string;
}

/** Where the run's Redis and kube-apiserver are. Only inside integration tests. */
export function harness(): HarnessCoordinates {
  return {
    redisUrl: inject('redisUrl'),
    kubeconfigPath: inject('kubeconfigPath'),
    apiServerUrl: inject('apiServerUrl'),
  };
}

/**
 * Restarts the run's kube-apiserver (same URL, same etcd, data kept) and resolves once it is ready
 * again. The cluster is shared by the whole run, so leave it working.
 */
export async function restartApiServer(
  options: ApiServerRestartOptions = {},
): Promise<ApiServerRestart> {
  return (await callHarnessControl(
    inject('harnessControlUrl'),
    'restartApiServer',
    options,
  )) as ApiServerRestart;
}

/** Restarts the run's redis-server on the same port, empty (a Redis restart or failover). */
export async function restartRedis(): Promise<void> {
  if (!inject('redisOwned')) {
    throw new Error('REDIS_URL points at a Redis the harness did not start; it cannot restart it');
  }
  await callHarnessControl(inject('harnessControlUrl'), 'restartRedis');
}

/** FLUSHALL on the run's Redis (also when REDIS_URL was given). */
export async function flushRedis(): Promise<void> {
  const redis = new Redis(inject('redisUrl'), { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    await redis.flushall();
  } finally {
    redis.disconnect();
  }
}

/**
 * A kubeconfig for a ServiceAccount of the run's cluster, with a token from the TokenRequest API,
 * for running a process with exactly that ServiceAccount's RBAC. Returns its path.
 */
export function kubeconfigForServiceAccount(
  namespace: string,
  name: string,
  options?: ServiceAccountKubeconfigOptions,
): Promise<string> {
  return writeServiceAccountKubeconfig(inject('kubeconfigPath'), namespace, name, options);
}
