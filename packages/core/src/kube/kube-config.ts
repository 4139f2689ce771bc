import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { RequestContext } from '@kubernetes/client-node';
import { KubeConfig } from './client.js';
import { RateLimiter, type RateLimit } from './rate-limiter.js';
import { currentRequestPriority } from './request-priority.js';

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/**
 * A KubeConfig whose API clients reuse connections. @kubernetes/client-node 2.0 gives every API
 * request a new undici Agent (it caches only the https.Agent that watches use), so no connection is
 * reused: each call pays a TLS handshake on both sides and leaves an idle socket behind, which
 * showed as a renewer growing by megabytes per sync and writing under 20 Secrets a second. This
 * keeps the first dispatcher made for each cluster and user, keyed as the library keys its agents.
 *
 * With a `rateLimiter`, every request (API calls and watch starts alike: the library calls this
 * once per request) first waits for a token, as client-go's QPS and Burst limit its clients; a request
 * made under withRequestPriority('bulk') waits behind every other.
 */
export class PooledKubeConfig extends KubeConfig {
  private readonly dispatchers = new Map<string, Dispatcher>();
  private readonly rateLimiter: Pick<RateLimiter, 'acquire'> | undefined;

  constructor(options: { readonly rateLimiter?: Pick<RateLimiter, 'acquire'> } = {}) {
    super();
    this.rateLimiter = options.rateLimiter;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    // Wait before authenticating, so a token read or refreshed here is current when the request goes.
    await this.rateLimiter?.acquire(currentRequestPriority());
    await super.applySecurityAuthentication(context);
    const made = context.getDispatcher();
    if (made === undefined) return; // plain HTTP without TLS options: the global dispatcher pools
    const key = JSON.stringify([this.getCurrentCluster()?.name, this.getCurrentUser()?.name]);
    const pooled = this.dispatchers.get(key);
    if (pooled === undefined) this.dispatchers.set(key, made);
    else context.setDispatcher(pooled); // `made` never connected; it is simply dropped
  }
}

/**
 * Loads the kubeconfig: the configured file, else the pod's in-cluster identity, else
 * ~/.kube/config (its current context). `rateLimit` limits the API requests of every client made
 * from it, together (qps 0 = unlimited); without it there is no limit.
 */
export function loadKubeConfig(path: string | undefined, rateLimit?: RateLimit): KubeConfig {
  const kc = new PooledKubeConfig(
    rateLimit === undefined ? {} : { rateLimiter: new RateLimiter(rateLimit) },
  );
  if (path) {
    kc.loadFromFile(path); // config validation already picked the first of a KUBECONFIG list
  } else if (existsSync(IN_CLUSTER_TOKEN)) {
    kc.loadFromCluster();
  } else {
    kc.loadFromFile(join(homedir(), '.kube', 'config'));
  }
  return kc;
}
