import { HttpMethod, RequestContext } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { PooledKubeConfig } from './kube-config.js';
import { withRequestPriority } from './request-priority.js';

const load = (kc: PooledKubeConfig) => {
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
};

describe('PooledKubeConfig', () => {
  it('asks the rate limiter with the priority of the work the request is made for', async () => {
    const asked: string[] = [];
    const kc = load(
      new PooledKubeConfig({
        rateLimiter: {
          acquire: (priority) => {
            asked.push(priority ?? 'none');
            return Promise.resolve();
          },
        },
      }),
    );
    const request = () =>
      kc.applySecurityAuthentication(
        new RequestContext('https://127.0.0.1:1/api/v1/namespaces', HttpMethod.GET),
      );
    await request();
    await withRequestPriority('bulk', async () => {
      await Promise.resolve();
      await request(); // after an await: the priority travels with the async context
    });
    await withRequestPriority('event', request);
    expect(asked).toEqual(['event', 'bulk', 'event']);
  });

  it('authenticates each request only once the rate limiter grants it a token', async () => {
    let grant = (): void => undefined;
    let acquired = 0;
    const kc = load(
      new PooledKubeConfig({
        rateLimiter: {
          acquire: () => {
            acquired++;
            return new Promise<void>((resolve) => (grant = resolve));
          },
        },
      }),
    );
    const context = new RequestContext('https://127.0.0.1:1/api/v1/namespaces', HttpMethod.GET);
    let done = false;
    const applied = kc.applySecurityAuthentication(context).then(() => (done = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(acquired).toBe(1);
    expect(done).toBe(false);
    expect(context.getHeaders().Authorization).toBeUndefined();
    grant();
    await applied;
    expect(context.getHeaders().Authorization).toBe('Bearer t');
  });

  it('does not limit without a rate limiter', async () => {
    const kc = load(new PooledKubeConfig());
    const context = new RequestContext('https://127.0.0.1:1/api', HttpMethod.GET);
    await kc.applySecurityAuthentication(context);
    expect(context.getHeaders().Authorization).toBe('Bearer t');
  });
});
