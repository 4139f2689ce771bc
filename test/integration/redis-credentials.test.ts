import { afterEach, describe, expect, it } from 'vitest';
import { RedisServer } from '../harness/redis-server.js';
import { TlsRedis, redisCall } from '../harness/redis-ha.js';
import { uniqueName } from '../harness/index.js';
import { KEYS, Scenario, leaseEnv, registry } from './support/scenario.js';

// The Redis password is rotated (a new Secret, Redis restarted with it): the pods still hold the old
// one, which ioredis cannot swap. They must not sit there unready forever: /healthz fails once Redis
// has refused them for --redis-unhealthy-after, so Kubernetes restarts them with the new one. The
// watcher's readiness follows Redis meanwhile.

const EU = registry('eu-west-1');
const UNHEALTHY_AFTER_MS = 2000;

let redis: RedisServer | TlsRedis | undefined;
let s: Scenario | undefined;
afterEach(async () => {
  await s?.close();
  await redis?.stop();
});

describe('a rotated Redis password', () => {
  it('fails the liveness probe of pods with the old one after the grace; restarted with the new, they serve', async () => {
    const server = (redis = await RedisServer.start());
    const port = server.port;
    await redisCall({ port }, 'CONFIG', 'SET', 'requirepass', 'old-password');
    const env = (password: string) => ({
      EATR_REDIS_URL: `redis://127.0.0.1:${port}`,
      EATR_REDIS_PASSWORD: password,
      EATR_REDIS_UNHEALTHY_AFTER: `${UNHEALTHY_AFTER_MS}ms`,
    });
    s = await Scenario.create([KEYS], { redisEnv: env('old-password') });
    await s.createCredentialSecret(EU);
    const lease = leaseEnv(uniqueName('lease'));
    const watcher = await s.start('watcher', lease);
    const renewer = await s.start('renewer');
    await s.waitFor('both ready', async () => (await watcher.ready()) && (await renewer.ready()));
    expect(await watcher.healthy()).toBe(true);

    // Rotation: Redis takes only the new password, and drops every connection.
    await redisCall(
      { port, password: 'old-password' },
      'CONFIG',
      'SET',
      'requirepass',
      'new-password',
    );
    const rotated = Date.now();
    await redisCall({ port, password: 'new-password' }, 'CLIENT', 'KILL', 'TYPE', 'normal');
    await s.waitFor('the watcher to be unready', async () => !(await watcher.ready()), 10_000);
    await s.waitFor(
      'both to fail /healthz',
      async () => !(await watcher.healthy()) && !(await renewer.healthy()),
      UNHEALTHY_AFTER_MS + 10_000,
    );
    const unhealthyMs = Date.now() - rotated;
    console.log(
      `[figures] Redis password rotated: /healthz failed after ${unhealthyMs} ms (--redis-unhealthy-after ${UNHEALTHY_AFTER_MS} ms)`,
    );
    expect(unhealthyMs).toBeGreaterThanOrEqual(UNHEALTHY_AFTER_MS);

    // What Kubernetes does next: restarts the containers, which read the new password.
    await Promise.all([watcher.stop(), renewer.stop()]);
    const restarted = Date.now();
    const watcher2 = await s.start('watcher', { ...lease, ...env('new-password') });
    const renewer2 = await s.start('renewer', env('new-password'));
    const ns = await s.createNamespace('rotated', [EU]);
    await s.waitForSecret(ns, EU, () => true, 30_000);
    console.log(
      `[figures] restarted with the new password: a new namespace served ${Date.now() - restarted} ms after the restart`,
    );
    expect(await watcher2.healthy()).toBe(true);
    expect(await renewer2.ready()).toBe(true);
  }, 90_000);
});

// A rotated CA and client certificate (cert-manager renewing them, or an admin replacing the CA):
// the kubelet swaps the Secret volume's files at once, and Redis restarts trusting only the new CA.
// The pods read the files again at each reconnect, so they recover with no restart at all.
describe('rotated Redis TLS files', () => {
  it('are used at the next reconnect: both components recover without a restart', async () => {
    const tls = (redis = await TlsRedis.start({ requireClientCert: true }));
    s = await Scenario.create([KEYS], {
      redisEnv: {
        ...tls.env({ clientCert: true }),
        EATR_REDIS_UNHEALTHY_AFTER: `${UNHEALTHY_AFTER_MS}ms`,
      },
    });
    await s.createCredentialSecret(EU);
    const watcher = await s.start('watcher', leaseEnv(uniqueName('lease')));
    const renewer = await s.start('renewer');
    const before = await s.createNamespace('before-rotation', [EU]);
    await s.waitForSecret(before, EU, () => true, 30_000);

    const rotating = Date.now();
    await tls.rotate();
    const restarted = Date.now();
    await s.waitFor(
      'both ready again',
      async () => (await watcher.ready()) && (await renewer.ready()),
      30_000,
    );
    const readyMs = Date.now() - restarted;
    const after = await s.createNamespace('after-rotation', [EU]);
    await s.waitForSecret(after, EU, () => true, 30_000);
    const servedMs = Date.now() - restarted;
    console.log(
      `[figures] Redis TLS rotated (new CA, client and serving certificates; rotation took ${restarted - rotating} ms): ` +
        `both ready ${readyMs} ms after Redis restarted, a new namespace served ${servedMs} ms after; no restart`,
    );
    // Recovery did not come from a restart: the same processes, alive and healthy all along.
    expect(watcher.exitedAt).toBeUndefined();
    expect(renewer.exitedAt).toBeUndefined();
    expect(await watcher.healthy()).toBe(true);
    expect(await renewer.healthy()).toBe(true);
  }, 120_000);
});
