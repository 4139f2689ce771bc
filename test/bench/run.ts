/**
 * eatr benchmark: real watcher and renewer processes (the built entrypoints) against the test
 * harness's real redis-server, etcd + kube-apiserver and SigV4-checking ECR endpoint. Prints figures;
 * asserts nothing about speed (numbers vary with the machine), but fails loudly if eatr does not
 * reach the expected end state, so a figure is never printed for work that did not happen.
 *
 *   pnpm bench                        defaults below
 *   BENCH_NAMESPACES=1000 pnpm bench  more namespaces for the backlog and the sweep
 *   BENCH_RENEWERS=2 pnpm bench       renewer processes
 *   BENCH_CONCURRENCY=16 pnpm bench   jobs per renewer process (EATR_CONCURRENCY; default: eatr's)
 *
 * Measures: harness start-up; label-to-Secret latency (one namespace at a time, p50/p95/max); a
 * backlog of N labelled namespaces queued while no renewer ran, drained once renewers start (rate,
 * ECR calls); a sweep over N fresh Secrets (duration, writes: must be 0); memory (resident and V8
 * heap) of each process at start and at the end.
 */
import type { CoreV1Api } from '@kubernetes/client-node';
import { FakeAwsEndpoint } from '../harness/aws/index.js';
import { ControlPlane, RedisServer, kubeClients, uniqueName } from '../harness/index.js';
import { EatrProcess } from '../harness/eatr-process.js';
import { readFile } from 'node:fs/promises';

const NAMESPACES = positiveInt('BENCH_NAMESPACES', 300);
const RENEWERS = positiveInt('BENCH_RENEWERS', 1);
const LATENCY_SAMPLES = positiveInt('BENCH_LATENCY_SAMPLES', 20);
const CONCURRENCY = process.env.BENCH_CONCURRENCY;
const REGISTRY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const KEYS = {
  accessKeyId: 'AKIAEATRBENCHKEY0001',
  secretAccessKey: 'eatr-bench-secret/abcdefghijklmnop',
};
const SWEEP_INTERVAL_S = 20;

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${name} must be a positive integer, not ${JSON.stringify(raw)}`);
  return n;
}

const ms = (start: number) => performance.now() - start;
const fmt = (n: number) => `${n.toFixed(0)} ms`;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

function percentile(sorted: readonly number[], p: number): number {
  return (
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
  );
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 10,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`benchmark: timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

async function secretExists(core: CoreV1Api, namespace: string): Promise<true | undefined> {
  try {
    await core.readNamespacedSecret({ namespace, name: REGISTRY });
    return true;
  } catch {
    return undefined;
  }
}

async function managedSecretCount(core: CoreV1Api, prefix: string): Promise<number> {
  const list = await core.listSecretForAllNamespaces({
    labelSelector: 'app.kubernetes.io/managed-by=eatr',
  });
  return list.items.filter((s) => s.metadata?.namespace?.startsWith(prefix)).length;
}

async function labelledNamespace(core: CoreV1Api, name: string): Promise<void> {
  await core.createNamespace({ body: { metadata: { name, labels: { [REGISTRY]: 'true' } } } });
  // No controller-manager here: create the default ServiceAccount a real cluster would have.
  await core.createNamespacedServiceAccount({
    namespace: name,
    body: { metadata: { name: 'default' } },
  });
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function pool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await work(item);
      }
    }),
  );
}

async function rssMiB(pid: number | undefined): Promise<string> {
  if (pid === undefined) return 'n/a';
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return `${(kb / 1024).toFixed(0)} MiB`;
}

async function main(): Promise<void> {
  console.log(
    `eatr benchmark: ${NAMESPACES} namespaces, ${RENEWERS} renewer(s), ` +
      `concurrency ${CONCURRENCY ?? 'default'}, Node ${process.version}`,
  );
  let started = performance.now();
  const [redis, controlPlane, aws] = await Promise.all([
    RedisServer.start(),
    ControlPlane.start(),
    FakeAwsEndpoint.start({ credentials: [KEYS] }),
  ]);
  const processes: EatrProcess[] = [];
  try {
    console.log(`harness start-up: ${fmt(ms(started))} (${controlPlane.describeTimings()})`);
    const { core } = kubeClients(controlPlane.kubeconfigPath);
    const hostNamespace = uniqueName('bench-host');
    await core.createNamespace({ body: { metadata: { name: hostNamespace } } });
    await core.createNamespacedSecret({
      namespace: hostNamespace,
      body: {
        metadata: { name: `eatr-aws-credentials-${REGISTRY}` },
        stringData: {
          aws_access_key_id: KEYS.accessKeyId,
          aws_secret_access_key: KEYS.secretAccessKey,
          aws_region: 'eu-west-1',
        },
      },
    });
    const env = {
      KUBECONFIG: controlPlane.kubeconfigPath,
      EATR_REDIS_URL: redis.url,
      EATR_HOST_NAMESPACE: hostNamespace,
      EATR_METRICS_PORT: '0',
      EATR_METRICS_HOST: '127.0.0.1',
      EATR_LOG_LEVEL: 'info',
      EATR_SWEEP_INTERVAL: `${SWEEP_INTERVAL_S}s`,
      ...aws.env(),
      ...(CONCURRENCY === undefined
        ? {}
        : { EATR_CONCURRENCY: String(positiveInt('BENCH_CONCURRENCY', 4)) }),
    };
    const startRenewers = () =>
      Promise.all(Array.from({ length: RENEWERS }, () => EatrProcess.start('renewer', { env })));
    let renewers = await startRenewers();
    const watcher = await EatrProcess.start('watcher', { env });
    processes.push(...renewers, watcher);
    const live = () => [...renewers, watcher];
    await until(
      'the watcher to be ready',
      async () => ((await watcher.ready()) ? true : undefined),
      60_000,
      100,
    );
    await printMemory(live(), 'at start');

    // 1. Label-to-Secret latency, one namespace at a time.
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const name = uniqueName('bench-lat');
      started = performance.now();
      await labelledNamespace(core, name);
      await until(`the Secret in ${name}`, () => secretExists(core, name), 30_000, 5);
      latencies.push(ms(started));
    }
    latencies.sort((a, b) => a - b);
    console.log(
      `label-to-Secret latency (${LATENCY_SAMPLES} namespaces, one at a time): p50 ${fmt(percentile(latencies, 50))}, ` +
        `p95 ${fmt(percentile(latencies, 95))}, max ${fmt(latencies.at(-1) ?? Number.NaN)}`,
    );

    // 2. Backlog: N namespaces labelled while no renewer runs (the watcher queues one sync each, as
    //    after an outage or on first install), then the renewers start and drain it.
    await Promise.all(renewers.map((p) => p.stop()));
    const enqueuedBefore = await watcher.metricValue('eatr_jobs_enqueued_total');
    const prefix = uniqueName('bench-fan');
    const names = Array.from({ length: NAMESPACES }, (_, i) => `${prefix}-${i}`);
    started = performance.now();
    await pool(names, 16, (name) => labelledNamespace(core, name));
    await until(
      'the watcher to enqueue every namespace',
      async () =>
        (await watcher.metricValue('eatr_jobs_enqueued_total')) - enqueuedBefore >= NAMESPACES
          ? true
          : undefined,
      120_000,
      100,
    );
    console.log(
      `backlog: ${NAMESPACES} labelled namespaces created and queued in ${fmt(ms(started))}`,
    );
    const callsBefore = aws.callCount({ action: 'GetAuthorizationToken' });
    started = performance.now();
    renewers = await startRenewers();
    processes.push(...renewers);
    await until(
      'every backlog Secret',
      async () => ((await managedSecretCount(core, prefix)) === NAMESPACES ? true : undefined),
      600_000,
      100,
    );
    const drainMs = ms(started);
    const calls = aws.callCount({ action: 'GetAuthorizationToken' }) - callsBefore;
    console.log(
      `backlog drained: ${NAMESPACES} Secrets (and ServiceAccounts) written ${fmt(drainMs)} after the renewers started ` +
        `(${((NAMESPACES / drainMs) * 1000).toFixed(0)} namespaces/s); ECR calls: ${calls}`,
    );

    // 3. A sweep over fresh Secrets: how long it takes, and that it writes nothing.
    const writesBefore = await totalWrites(live());
    const sweepsBefore = await sumMetric(live(), 'eatr_sweeps_total');
    started = performance.now();
    await until(
      'a sweep',
      async () =>
        (await sumMetric(live(), 'eatr_sweeps_total')) > sweepsBefore ? true : undefined,
      (SWEEP_INTERVAL_S + 30) * 1000,
      50,
    );
    const sweepSeen = ms(started);
    await sleep(3000); // let the syncs a sweep might enqueue finish
    const sweepWrites = (await totalWrites(live())) - writesBefore;
    const durations = sweepDuration(live());
    console.log(
      `sweep over ${NAMESPACES + LATENCY_SAMPLES} fresh namespaces: ${durations} (seen ${fmt(sweepSeen)} after the backlog); Secret writes: ${sweepWrites}`,
    );
    if (sweepWrites !== 0)
      throw new Error(`a sweep over fresh Secrets wrote ${sweepWrites} Secrets`);

    await printMemory(live(), 'after the backlog and a sweep');
  } finally {
    await Promise.allSettled(processes.map((p) => p.stop()));
    await Promise.allSettled([aws.stop(), controlPlane.stop(), redis.stop()]);
  }
}

async function printMemory(processes: readonly EatrProcess[], when: string): Promise<void> {
  for (const p of processes) {
    const heap = (await p.metricValue('nodejs_heap_size_used_bytes')) / 2 ** 20;
    console.log(
      `memory ${when}, ${p.component}: resident ${await rssMiB(p.child.pid)}, V8 heap used ${heap.toFixed(0)} MiB`,
    );
  }
}

async function sumMetric(processes: readonly EatrProcess[], name: string): Promise<number> {
  let total = 0;
  for (const p of processes) total += await p.metricValue(name);
  return total;
}

async function totalWrites(processes: readonly EatrProcess[]): Promise<number> {
  return (
    (await sumMetric(processes, 'secrets_created_total')) +
    (await sumMetric(processes, 'secret_renewals_total'))
  );
}

/** The last sweep's duration, from the renewers' `sweep done` log line. */
function sweepDuration(processes: readonly EatrProcess[]): string {
  const lines = processes.flatMap((p) => p.logs).filter((l) => l.msg === 'sweep done');
  const last = lines.at(-1);
  return last === undefined
    ? 'duration not logged'
    : `${String(last.durationMs)} ms over ${String(last.namespaces)} namespaces`;
}

await main();
