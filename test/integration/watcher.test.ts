import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import {
  RENEW_AFTER_ANNOTATION,
  SWEEP_SCHEDULER_ID,
  SYNC_JOB,
  type SyncJobData,
  LogMessage,
} from '@eatr/core';
import {
  RecordingApiProxy,
  TcpProxy,
  flushRedis,
  kubeClients,
  kubeconfigWithServer,
  restartApiServer,
  restartRedis,
  uniqueName,
} from '../harness/index.js';
import { KEYS, OTHER_KEYS, Scenario, decodedAuth, registry, leaseEnv } from './support/scenario.js';

const EU = registry('eu-west-1');
const US = registry('us-east-1');

// leaseEnv's Lease duration, and how often a watcher tries to take or renew it (1/5 of it, see
// lease-elector.ts): the leader tests derive their windows and bounds from these, not from speed.
const LEASE_MS = 3000;
const RETRY_MS = LEASE_MS / 5;

/**
 * Samples which watchers lead for `ms` and returns the most that led at once. A standby that ignored
 * the holder's renewals would take over after seeing the Lease unchanged for LEASE_MS, so a window
 * longer than that (plus its polling) is needed to catch one.
 */
async function mostLeadersDuring(ms: number, leaders: () => Promise<boolean[]>): Promise<number> {
  const until = Date.now() + ms;
  let most = 0;
  while (Date.now() < until) {
    most = Math.max(most, (await leaders()).filter(Boolean).length);
    await new Promise((r) => setTimeout(r, 100));
  }
  return most;
}

/** The watcher Lease `name` in the scenario's host namespace: holder and times (ms). */
async function readLease(name: string) {
  const lease = await kubeClients(s.kubeconfigPath).coordination.readNamespacedLease({
    namespace: s.hostNamespace,
    name,
  });
  // client-node types MicroTime as Date but may hand back the raw string: new Date() reads both.
  const ms = (t: unknown) => (t ? new Date(t as string | Date).getTime() : Number.NaN);
  return {
    holder: lease.spec?.holderIdentity ?? '',
    acquiredAt: ms(lease.spec?.acquireTime),
    renewedAt: ms(lease.spec?.renewTime),
  };
}

let s: Scenario;
beforeEach(async () => {
  s = await Scenario.create();
});
afterEach(async () => {
  await s.close();
});

describe('watcher', () => {
  it('writes the Secret on the label event, not at the next sweep (latency reported)', async () => {
    await s.createCredentialSecret(EU);
    const renewer = await s.start('renewer');
    const watcher = await s.start('watcher', leaseEnv('latency'));
    await s.waitFor('leadership and synced watches', () => watcher.ready());
    // Warm up connections and the token cache, as a running system would be.
    const warm = await s.createNamespace('warm', [EU]);
    await s.waitForSecret(warm, EU);

    const ns = await s.createNamespace('latency', []);
    const started = Date.now();
    await s.setLabels(ns, { [EU]: 'true' });
    // The next sweep is 5 minutes away: a Secret well before that came from the event. How fast,
    // across two processes, depends on the machine: a figure, not a bound.
    await s.waitForSecret(ns, EU, () => true, 30_000);
    console.log(`[figure] label-to-Secret latency: ${Date.now() - started} ms`);
    const created = await renewer.waitForLog(
      (l) =>
        l.msg === LogMessage.syncDone &&
        l.namespace === ns &&
        (l.actions as { create?: number } | undefined)?.create === 1,
    );
    expect(['namespace', 'serviceaccount']).toContain(created.reason);
  });

  it('keeps a quiet watch open with the default settings, and still acts at once after 40 s of silence', async () => {
    await s.createCredentialSecret(EU);
    await s.start('renewer');
    const watcher = await s.start('watcher', leaseEnv('quiet')); // default watch timeout (5m)
    await s.waitFor('leadership and synced watches', () => watcher.ready());
    const ns = await s.createNamespace('quiet', []);
    // Longer than client-node's own 30 s inactivity abort; the API server sends bookmarks only
    // about once a minute, so nothing may arrive on these watches meanwhile.
    await new Promise((r) => setTimeout(r, 40_000));
    expect(await watcher.metricValue('eatr_watch_restarts_total')).toBe(0);
    const started = Date.now();
    await s.setLabels(ns, { [EU]: 'true' });
    await s.waitForSecret(ns, EU, () => true, 5000); // no sweep runs for 5 minutes: the watch did it
    console.log(`label-to-Secret latency after 40 s of silence: ${Date.now() - started} ms`);
    expect(await watcher.metricValue('eatr_watch_restarts_total')).toBe(0);
  }, 90_000);

  it('turns 100 rapid label flips into a bounded number of jobs and ends in the final state', async () => {
    await s.createCredentialSecret(EU);
    const renewer = await s.start('renewer');
    const watcher = await s.start('watcher', leaseEnv('flips'));
    await s.waitFor('leadership', () => watcher.ready());
    const ns = await s.createNamespace('flips', []);
    // Sample the queue while flipping: deduplication means at most one sync waits per namespace.
    let maxWaiting = 0;
    for (let i = 0; i < 100; i++) {
      await s.setLabels(ns, { [EU]: i % 2 === 0 ? 'true' : null });
      const waiting = await s.queue.getJobs(['waiting', 'prioritized']);
      const mine = waiting.filter(
        (j) => j.name === SYNC_JOB && (j.data as SyncJobData).namespace === ns,
      );
      maxWaiting = Math.max(maxWaiting, mine.length);
    }
    // 100 flips end with the label removed (the last flip, i = 99, removes it); then set it once more.
    await s.setLabels(ns, { [EU]: 'true' });
    await s.waitForSecret(ns, EU);
    await s.drained();
    const added = await watcher.metricValue('eatr_jobs_enqueued_total');
    const deduplicated = await watcher.metricValue('eatr_jobs_deduplicated_total');
    // This namespace's syncs (the shared cluster holds other tests' namespaces, which the start-up
    // sweep may sync too).
    const mine = renewer.logs.filter((l) => l.msg === LogMessage.syncDone && l.namespace === ns);
    // Sweeps (the start-up sweep of this watcher among them) may add a sync of their own.
    const syncs = mine.filter((l) => l.reason !== 'sweep' && l.reason !== 'startup').length;
    console.log(
      `101 label changes -> ${added} jobs added, ${deduplicated} deduplicated, ${syncs} syncs run ` +
        `(and ${mine.length - syncs} for sweeps), ` +
        `at most ${maxWaiting} waiting`,
    );
    expect(added).toBeGreaterThan(0);
    expect(maxWaiting).toBeLessThanOrEqual(1);
    // Syncs read caches and are fast, so a renewer keeps up with a change every few milliseconds:
    // about one sync per change here, deduplication bounding the work when it cannot keep up. What
    // a user pays for is writes: never more Secret writes than label changes.
    const writes = renewer.logs.filter(
      (l) => l.namespace === ns && (l.decision === 'create' || l.decision === 'delete'),
    );
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.length).toBeLessThanOrEqual(101);
    expect(syncs).toBeLessThan(2 * 101);
    // Every sync of this namespace went through without a retry or failure. (The metric also counts
    // startup syncs of other tests' namespaces in the shared cluster, so read this one's log lines.)
    const troubles = renewer.logs.filter(
      (l) => l.namespace === ns && (l.level === 'warn' || l.level === 'error'),
    );
    expect(troubles).toEqual([]);

    await s.setLabels(ns, { [EU]: null });
    await s.waitFor('the Secret to go', async () => (await s.readSecret(ns, EU)) === undefined);
  });

  it('handles changes made after the API server restarted', async () => {
    await s.createCredentialSecret(EU);
    await s.start('renewer');
    const watcher = await s.start('watcher', {
      ...leaseEnv('apirestart'),
      EATR_WATCH_TIMEOUT: '10s',
    });
    await s.waitFor('leadership', () => watcher.ready());
    const before = await s.createNamespace('before-restart', [EU]);
    await s.waitForSecret(before, EU);

    await restartApiServer();
    const after = await s.createNamespace('after-restart', [EU]);
    await s.waitForSecret(after, EU, () => true, 45_000);
    expect(await watcher.metricValue('eatr_watch_restarts_total')).toBeGreaterThanOrEqual(1);
  });

  it('recovers from a Redis restart and a flush, and the next sweep heals every Secret', async () => {
    await s.createCredentialSecret(EU);
    await s.start('renewer');
    const watcher = await s.start('watcher', { ...leaseEnv('redis'), EATR_SWEEP_INTERVAL: '2s' });
    await s.waitFor('leadership', () => watcher.ready());
    const namespaces = await Promise.all([
      s.createNamespace('redis-a', [EU]),
      s.createNamespace('redis-b', [EU]),
    ]);
    await Promise.all(namespaces.map((ns) => s.waitForSecret(ns, EU)));

    await restartRedis();
    for (const ns of namespaces) await s.core.deleteNamespacedSecret({ namespace: ns, name: EU });
    await Promise.all(namespaces.map((ns) => s.waitForSecret(ns, EU, () => true, 30_000)));

    // A deleted Secret is written again by the renewers' own watch; a Secret that comes due is
    // renewed only by a sweep. After a flush, the sweep runs only if the watcher put its scheduler
    // back: make the Secrets due.
    await flushRedis();
    const past = new Date(Date.now() - 60_000).toISOString();
    for (const ns of namespaces)
      await s.core.patchNamespacedSecret(
        {
          namespace: ns,
          name: EU,
          body: { metadata: { annotations: { [RENEW_AFTER_ANNOTATION]: past } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    await Promise.all(
      namespaces.map((ns) =>
        s.waitForSecret(
          ns,
          EU,
          (secret) =>
            Date.parse(secret.metadata?.annotations?.[RENEW_AFTER_ANNOTATION] ?? '') > Date.now(),
          30_000,
        ),
      ),
    );
    const scheduler = await s.queue.getJobScheduler(SWEEP_SCHEDULER_ID);
    expect(scheduler?.every).toBe(2000);
  });

  it('renews every namespace of a registry promptly when its credential Secret is rotated', async () => {
    await s.createCredentialSecret(EU, KEYS);
    await s.createCredentialSecret(US, KEYS);
    const renewer = await s.start('renewer');
    const watcher = await s.start('watcher', leaseEnv('rotate'));
    await s.waitFor('leadership', () => watcher.ready());
    const eu = await Promise.all([
      s.createNamespace('rot-a', [EU]),
      s.createNamespace('rot-b', [EU, US]),
    ]);
    const first = await Promise.all(eu.map((ns) => s.waitForSecret(ns, EU)));
    const usBefore = await s.waitForSecret(eu[1], US);

    const rotated = Date.now();
    await s.rotateCredentials(EU, OTHER_KEYS);
    const renewed = await Promise.all(
      eu.map((ns, i) =>
        s.waitForSecret(
          ns,
          EU,
          (x) => x.metadata?.resourceVersion !== first[i]?.metadata?.resourceVersion,
          30_000,
        ),
      ),
    );
    // One credential sweep, then the syncs it enqueued as events: "promptly" means by the
    // rotation, not the sweep 5 minutes away. How long it took is a figure.
    console.log(`[figure] key rotation to renewed Secrets: ${Date.now() - rotated} ms`);
    for (const ns of eu)
      await renewer.waitForLog(
        (l) => l.msg === LogMessage.syncDone && l.namespace === ns && l.reason === 'credentials',
      );
    const newTokens = s.aws
      .issuedTokens()
      .filter((t) => t.accessKeyId === OTHER_KEYS.accessKeyId)
      .map((t) => `AWS:${t.password}`);
    for (const secret of renewed) expect(newTokens).toContain(decodedAuth(secret, EU));
    expect((await s.readSecret(eu[1], US))?.metadata?.resourceVersion).toBe(
      usBefore.metadata?.resourceVersion,
    );
  });

  it('reads no Secret at all, not even metadata; a key rotation still renews the namespace (the renewers sweep)', async () => {
    await s.createCredentialSecret(EU, KEYS);
    const renewer = await s.start('renewer');
    // Every request the watcher makes goes through a proxy that records what it asked and received.
    const proxy = await RecordingApiProxy.start(s.kubeconfigPath);
    try {
      const kubeconfig = await proxy.kubeconfig(s.kubeconfigPath, uniqueName('rec'));
      const watcher = await s.start('watcher', { ...leaseEnv('metadata'), KUBECONFIG: kubeconfig });
      await s.waitFor('leadership and synced watches', () => watcher.ready());
      const ns = await s.createNamespace('meta', [EU]);
      const first = await s.waitForSecret(ns, EU);
      // A key rotation reaches the renewer's own watch, which enqueues the sweep that renews.
      const name = `eatr-aws-credentials-${EU}`;
      await s.rotateCredentials(EU, OTHER_KEYS);
      await s.waitForSecret(
        ns,
        EU,
        (x) => x.metadata?.resourceVersion !== first.metadata?.resourceVersion,
      );
      await renewer.waitForLog((l) => l.msg === LogMessage.credentialChanged);
      expect(proxy.exchanges.length).toBeGreaterThan(0); // the watcher did talk through the proxy
      expect(proxy.exchanges.filter((e) => e.url.includes('/secrets'))).toEqual([]);

      // The recorder does see data when a full Secret is asked for.
      const full = await fetchThroughProxy(
        proxy.url,
        s.kubeconfigPath,
        `/api/v1/namespaces/${s.hostNamespace}/secrets/${name}`,
      );
      expect(full).toContain(Buffer.from(OTHER_KEYS.secretAccessKey).toString('base64'));
    } finally {
      await s.close();
      await proxy.stop();
    }
  });

  it('elects one leader of two, and the other takes over once the lease runs out after a SIGKILL', async () => {
    await s.createCredentialSecret(EU);
    await s.start('renewer');
    const a = await s.start('watcher', { ...leaseEnv('failover'), POD_NAME: 'watcher-a' });
    const b = await s.start('watcher', { ...leaseEnv('failover'), POD_NAME: 'watcher-b' });
    const leaders = async () => [
      (await a.metricValue('eatr_leader')) === 1,
      (await b.metricValue('eatr_leader')) === 1,
    ];
    await s.waitFor('a leader', async () => (await leaders()).some(Boolean));
    expect(await mostLeadersDuring(LEASE_MS + 2 * RETRY_MS, leaders)).toBe(1);
    expect(await s.queue.getJobSchedulersCount()).toBe(1);

    const [leader, standby] = (await a.metricValue('eatr_leader')) === 1 ? [a, b] : [b, a];
    await leader.kill();
    const killedAt = Date.now();
    const last = await readLease('failover');
    expect(last.holder.startsWith(leader === a ? 'watcher-a_' : 'watcher-b_')).toBe(true);
    await s.waitFor(
      'the standby to lead',
      async () => (await standby.metricValue('eatr_leader')) === 1,
      4 * LEASE_MS,
    );
    const takeover = await readLease('failover');
    console.log(
      `[figure] leader failover after SIGKILL: ${Date.now() - killedAt} ms; ` +
        `${takeover.acquiredAt - last.renewedAt} ms after the last renewal (lease ${LEASE_MS} ms)`,
    );
    // As in client-go, the standby counts the lease duration from when it saw the last renewal (it
    // cannot trust the leader's clock), so it takes over no sooner than a lease after it. Both times
    // are the Lease's own (this machine's clock), each stamped before the request that wrote it:
    // that request's latency, up to about a retry period, is the only slack.
    expect(takeover.holder.startsWith(standby === a ? 'watcher-a_' : 'watcher-b_')).toBe(true);
    expect(takeover.acquiredAt - last.renewedAt).toBeGreaterThanOrEqual(LEASE_MS - RETRY_MS);

    const ns = await s.createNamespace('after-failover', [EU]);
    await s.waitForSecret(ns, EU);
    expect(await s.queue.getJobSchedulersCount()).toBe(1);
  });

  it('hands leadership over when the leader is cut off from the API server, and the old leader steps down first', async () => {
    await s.createCredentialSecret(EU);
    await s.start('renewer');
    const api = new URL(s.apiServerUrl);
    const proxy = await TcpProxy.start({ host: api.hostname, port: Number(api.port) });
    try {
      const viaProxy = await kubeconfigWithServer(
        s.kubeconfigPath,
        `https://127.0.0.1:${proxy.port}`,
        uniqueName('via-proxy'),
      );
      const a = await s.start('watcher', {
        ...leaseEnv('partition'),
        POD_NAME: 'watcher-a',
        KUBECONFIG: viaProxy,
        EATR_WATCH_TIMEOUT: '10s',
      });
      await s.waitFor('watcher-a to lead', async () => (await a.metricValue('eatr_leader')) === 1);
      const b = await s.start('watcher', { ...leaseEnv('partition'), POD_NAME: 'watcher-b' });
      const bLeads = async () => [(await b.metricValue('eatr_leader')) === 1];
      expect(await mostLeadersDuring(LEASE_MS + 2 * RETRY_MS, bLeads)).toBe(0);

      proxy.cut();
      const cutAt = Date.now();
      // a's last renewal that reached the API server (none can after the cut; one in flight at the
      // cut only makes this earlier, so the bound below only gets looser).
      const last = await readLease('partition');
      // Sample both gauges until b leads: a must have stepped down before (never two leaders).
      let bothLed = false;
      await s.waitFor(
        'watcher-b to lead',
        async () => {
          const [leadsA, leadsB] = await Promise.all([
            a.metricValue('eatr_leader'),
            b.metricValue('eatr_leader'),
          ]);
          if (leadsA === 1 && leadsB === 1) bothLed = true;
          return leadsB === 1;
        },
        15_000,
      );
      const takeover = await readLease('partition');
      console.log(
        `[figure] leader takeover after a partition: ${Date.now() - cutAt} ms; ` +
          `${takeover.acquiredAt - last.renewedAt} ms after a's last renewal (lease ${LEASE_MS} ms)`,
      );
      expect(bothLed).toBe(false);
      expect(await a.metricValue('eatr_leader')).toBe(0);
      expect(takeover.holder.startsWith('watcher-b_')).toBe(true);
      expect(takeover.acquiredAt - last.renewedAt).toBeGreaterThanOrEqual(LEASE_MS - RETRY_MS);

      const ns = await s.createNamespace('after-partition', [EU]);
      await s.waitForSecret(ns, EU);

      // Back on the network, the old leader finds the Lease held and stays a standby: once it gets
      // answers from the API server again, for longer than it would need to (wrongly) take over.
      const answered = proxy.answeredBytes;
      proxy.restore();
      await s.waitFor('watcher-a to reach the API server again', () =>
        Promise.resolve(proxy.answeredBytes > answered),
      );
      const aLeads = async () => [(await a.metricValue('eatr_leader')) === 1];
      expect(await mostLeadersDuring(LEASE_MS + 2 * RETRY_MS, aLeads)).toBe(0);
      expect(await b.metricValue('eatr_leader')).toBe(1);
      expect(await s.queue.getJobSchedulersCount()).toBe(1);
    } finally {
      proxy.restore(); // let the processes shut down cleanly, also when the test failed mid-cut
      await s.close();
      await proxy.close();
    }
  });

  it('uses the new sweep interval after a restart with a changed setting', async () => {
    const first = await s.start('watcher', { ...leaseEnv('interval'), EATR_SWEEP_INTERVAL: '1m' });
    await s.waitFor(
      'the scheduler',
      async () => (await s.queue.getJobScheduler(SWEEP_SCHEDULER_ID))?.every === 60_000,
    );
    await first.stop();
    await s.start('watcher', { ...leaseEnv('interval'), EATR_SWEEP_INTERVAL: '30s' });
    await s.waitFor(
      'the new interval',
      async () => (await s.queue.getJobScheduler(SWEEP_SCHEDULER_ID))?.every === 30_000,
    );
    expect(await s.queue.getJobSchedulersCount()).toBe(1);
  });

  it('accepts the seed controller command line, all in one process on one metrics port', async () => {
    await s.createCredentialSecret(EU);
    const eatr = await s.start('all-in-one', leaseEnv('seed'), [
      '-auth-token-renewal-interval',
      '20s',
      '-informers-resync-interval',
      '5s',
      '-logging-verbosity-level',
      '6',
    ]);
    const ns = await s.createNamespace('seed', [EU]);
    await s.waitForSecret(ns, EU);
    // Each line is one JSON object naming its component once (log shippers reject duplicate keys).
    const components = eatr.logs.map((l) => l.component);
    expect(new Set(components)).toEqual(new Set(['eatr', 'watcher', 'renewer']));
    expect(eatr.lines.filter((l) => l.split('"component":').length !== 2)).toEqual([]);
    const metrics = await eatr.metrics();
    for (const name of [
      'secrets_created_total',
      'secret_renewals_total',
      'eatr_leader',
      'eatr_queue_jobs',
      'eatr_ecr_calls_total',
    ])
      expect(metrics).toContain(name);
    // The leader reads Redis's memory at scrape time (this redis-server has no maxmemory).
    expect(await eatr.metricValue('eatr_redis_used_memory_bytes')).toBeGreaterThan(0);
    expect(await eatr.metricValue('eatr_redis_maxmemory_bytes')).toBe(0);
    await s.waitFor(
      'a sweep',
      async () => (await eatr.metricValue('eatr_sweeps_total', { result: 'success' })) >= 1,
    );
  });
});

/** A GET through the recording proxy with the admin's token, as any client would make it. */
async function fetchThroughProxy(proxyUrl: string, kubeconfigPath: string, path: string) {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const token = kc.getCurrentUser()?.token ?? '';
  const response = await fetch(`${proxyUrl}${path}`, {
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
  });
  return response.text();
}
