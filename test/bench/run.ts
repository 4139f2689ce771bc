/**
 * eatr benchmark: real watcher and renewer processes (the built entrypoints) against the test
 * harness's real redis-server, etcd + kube-apiserver and SigV4-checking ECR endpoint. Prints a table
 * of figures and the goals next to them; asserts nothing about speed (numbers vary with the
 * machine), but fails (after printing everything) when eatr did not reach the expected end state,
 * so a figure is never printed for work that did not happen. A phase that fails is printed as
 * failed, with the reason, and the run carries on.
 *
 *   pnpm bench                                   N = 2,000 namespaces
 *   BENCH_NAMESPACES=10000 pnpm bench            N = 10,000 (or: pnpm bench --namespaces 10000)
 *   BENCH_RENEWERS=2                             renewer processes (default 1)
 *   BENCH_CONCURRENCY=16                         jobs per renewer (EATR_CONCURRENCY; default eatr's)
 *   BENCH_SPEED_ENV='EATR_CONCURRENCY=128,…'      the renewers' "speed settings" for the second wave
 *   BENCH_CEILING_CONCURRENCY=48                 requests in flight for the API-server ceiling
 *   BENCH_LATENCY_SAMPLES=100                    idle label-to-Secret samples (one at a time)
 *   BENCH_PROBES=300, BENCH_PROBE_INTERVAL_MS=100  latency probes during a wave / after a restart
 *   BENCH_WAVE_PROBE_CONCURRENCY=default,16,128  renewer concurrencies of the probed waves
 *   BENCH_IDLE_WINDOW_S=20                       idle window measured for the API request baseline
 *   BENCH_SWEEP_INTERVAL=1h                      eatr's sweep interval (the benchmark triggers sweeps)
 *
 * Phases, in order: harness start-up; label-to-Secret latency while idle; backlog (N namespaces
 * labelled while no renewer runs, then drained); an idle window (API request baseline); a sweep
 * with nothing due; a watcher restart (counted), and another with latency probes; the API-server
 * ceiling (create then update N Secrets in their own namespaces); three full renewal waves (every
 * eatr Secret's renew-after patched to the past while the renewers are stopped, then the renewers
 * started and a sweep triggered): default settings (counted), speed settings (counted), then one
 * per BENCH_WAVE_PROBE_CONCURRENCY with a labelled namespace created every 100 ms (latency); a sweep with one bad
 * credential shared by 10% of the namespaces; memory.
 */
import { MANAGED_SELECTOR, RENEW_AFTER_ANNOTATION, credentialSecretName } from '@eatr/core';
import { FakeAwsEndpoint } from '../harness/aws/index.js';
import { ControlPlane, RedisServer, kubeClients, uniqueName } from '../harness/index.js';
import type { EatrProcess } from '../harness/eatr-process.js';
import { RequestMeter, breakdown, type PhaseRequests } from './apiserver-metrics.js';
import { measureCeiling } from './ceiling.js';
import { cpuSnapshot, cpuUsed, describeCpu } from './cpu-use.js';
import {
  fmtLatency,
  fmtMs,
  fmtS,
  latencyOf,
  ms,
  parseEnvList,
  phase,
  pool,
  positiveInt,
  sleep,
  until,
  type Latency,
  type Outcome,
} from './common.js';
import {
  EatrProcesses,
  LogCounter,
  SettingUnsupported,
  isReady,
  memory,
  metricSamples,
  metricValue,
  scrape,
  unknownRenewerSettings,
} from './eatr-processes.js';
import { EatrQueue, describeJobs } from './eatr-queue.js';
import { RawKube } from './raw-kube.js';
import {
  printReport,
  type BadCredential,
  type Backlog,
  type Restart,
  type Results,
  type Sweep,
  type Wave,
} from './report.js';
import { SecretWatch } from './secret-watch.js';

const flag = process.argv.findIndex((a) => a === '--namespaces' || a.startsWith('--namespaces='));
if (flag >= 0) {
  const arg = process.argv[flag] ?? '';
  process.env.BENCH_NAMESPACES = arg.includes('=') ? arg.split('=')[1] : process.argv[flag + 1];
}

const N = positiveInt('BENCH_NAMESPACES', 2000);
const RENEWERS = positiveInt('BENCH_RENEWERS', 1);
const LATENCY_SAMPLES = positiveInt('BENCH_LATENCY_SAMPLES', 100);
const MAX_PROBES = positiveInt('BENCH_PROBES', 300);
const PROBE_EVERY_MS = positiveInt('BENCH_PROBE_INTERVAL_MS', 100);
const CEILING_CONCURRENCY = positiveInt('BENCH_CEILING_CONCURRENCY', 48);
const IDLE_WINDOW_MS = positiveInt('BENCH_IDLE_WINDOW_S', 20) * 1000;
const CONCURRENCY = process.env.BENCH_CONCURRENCY;
const SWEEP_INTERVAL = process.env.BENCH_SWEEP_INTERVAL || '1h';
const SPEED_ENV_TEXT =
  process.env.BENCH_SPEED_ENV ||
  'EATR_CONCURRENCY=128,EATR_KUBE_API_QPS=0,EATR_KUBE_API_BURST=2000';
const SPEED_ENV = parseEnvList('BENCH_SPEED_ENV', SPEED_ENV_TEXT);
/** Renewer concurrencies of the waves with latency probes ('default': eatr's own, or BENCH_CONCURRENCY). */
const WAVE_PROBE_CONCURRENCY = (process.env.BENCH_WAVE_PROBE_CONCURRENCY || 'default,16,128')
  .split(',')
  .map((c) => c.trim())
  .filter((c) => c !== '');
const QUEUE_PREFIX = '{eatr}';

const REGISTRY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const KEYS = {
  accessKeyId: 'AKIAEATRBENCHKEY0001',
  secretAccessKey: 'eatr-bench-secret/abcdefghijklmnop',
};
/** A second registry whose credential Secret holds keys the ECR endpoint does not know. */
const BAD_REGISTRY = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const BAD_KEYS = {
  accessKeyId: 'AKIAEATRBENCHBAD0001',
  secretAccessKey: 'eatr-bench-unknown/abcdefghijklmnop',
};
const BAD_SHARE = 10; // percent of the namespaces

/** Generous limits that grow with N (a slow machine must not turn a figure into a failure). */
const WORK_TIMEOUT_MS = 180_000 + N * 150;
const DRAIN_TIMEOUT_MS = 120_000 + N * 100;
const MERGE_PATCH = 'application/merge-patch+json';

interface Bench {
  readonly kube: RawKube;
  readonly watch: SecretWatch;
  readonly queue: EatrQueue;
  readonly meter: RequestMeter;
  readonly procs: EatrProcesses;
  readonly aws: FakeAwsEndpoint;
  readonly hostNamespace: string;
  readonly sweeps: LogCounter;
  /** The N backlog namespaces (and their eatr Secrets). */
  fan: string[];
}

function watcherOf(b: Bench): EatrProcess {
  if (!b.procs.watcher) throw new Error('no watcher is running');
  return b.procs.watcher;
}

const ecrCalls = (b: Bench) => b.aws.callCount({ action: 'GetAuthorizationToken' });

async function createNamespace(
  kube: RawKube,
  name: string,
  labels: Record<string, string>,
): Promise<void> {
  await kube.request('POST', '/api/v1/namespaces', { body: { metadata: { name, labels } } });
  // No controller-manager here: create the default ServiceAccount a real cluster would have.
  await kube.request('POST', `/api/v1/namespaces/${name}/serviceaccounts`, {
    body: { metadata: { name: 'default' } },
  });
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Creates a labelled namespace; resolves with the time until its Secret appeared (undefined: never). */
async function probe(
  b: Bench,
  name: string,
  timeoutMs = WORK_TIMEOUT_MS,
): Promise<number | undefined> {
  const started = performance.now();
  try {
    await createNamespace(b.kube, name, { [REGISTRY]: 'true' });
  } catch {
    return undefined;
  }
  const seen = await withTimeout(b.watch.appeared(name, REGISTRY), timeoutMs);
  return seen === undefined ? undefined : seen - started;
}

/**
 * Creates a labelled namespace every PROBE_EVERY_MS (without waiting for the previous one) while
 * `keepGoing` says so, at least `min` and at most MAX_PROBES times; then waits for their Secrets.
 */
async function probeWhile(
  b: Bench,
  keepGoing: () => boolean | Promise<boolean>,
  min: number,
): Promise<Latency> {
  const prefix = uniqueName('bench-probe');
  const runs: Promise<number | undefined>[] = [];
  while (runs.length < MAX_PROBES && (runs.length < min || (await keepGoing()))) {
    runs.push(probe(b, `${prefix}-${runs.length}`));
    await sleep(PROBE_EVERY_MS);
  }
  const results = await Promise.all(runs);
  const arrived = results.filter((r): r is number => r !== undefined);
  return latencyOf(arrived, results.length - arrived.length);
}

function renewedSince(b: Bench, epochMs: number): number {
  let renewed = 0;
  for (const ns of b.fan) if ((b.watch.get(ns, REGISTRY)?.renewAfter ?? 0) > epochMs) renewed++;
  return renewed;
}

async function enqueuedByReason(b: Bench): Promise<Map<string, number>> {
  const watcher = b.procs.watcher;
  if (!watcher) return new Map();
  return metricSamples(await scrape(watcher), 'eatr_jobs_enqueued_total', 'reason');
}

/** A standby watcher is ready too: wait for the leader (`eatr_leader` 1) that has listed. */
async function leading(watcher: EatrProcess): Promise<true | undefined> {
  if (!(await isReady(watcher))) return undefined;
  return (await metricValue(watcher, 'eatr_leader')) === 1 ? true : undefined;
}

async function waitForSweep(b: Bench, before: number): Promise<void> {
  await until(
    'the sweep to finish',
    () => (b.sweeps.count(b.procs.all) > before ? true : undefined),
    WORK_TIMEOUT_MS,
    50,
  );
}

// ---------------------------------------------------------------------------------------------

async function idleLatency(b: Bench): Promise<Latency> {
  const latencies: number[] = [];
  let missing = 0;
  const prefix = uniqueName('bench-lat');
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const l = await probe(b, `${prefix}-${i}`, 30_000);
    if (l === undefined) missing++;
    else latencies.push(l);
  }
  const latency = latencyOf(latencies, missing);
  console.log(`label-to-Secret latency, idle, one at a time: ${fmtLatency(latency)}`);
  if (missing > 0) throw new Error(`${missing} of ${LATENCY_SAMPLES} Secrets never appeared`);
  return latency;
}

async function backlog(b: Bench): Promise<Backlog> {
  await b.procs.stopRenewers();
  const enqueuedBefore = await metricValue(watcherOf(b), 'eatr_jobs_enqueued_total');
  const prefix = uniqueName('bench-fan');
  b.fan = Array.from({ length: N }, (_, i) => `${prefix}-${i}`);
  let started = performance.now();
  await pool(b.fan, 32, (name) => createNamespace(b.kube, name, { [REGISTRY]: 'true' }));
  await until(
    'the watcher to enqueue every namespace',
    async () =>
      (await metricValue(watcherOf(b), 'eatr_jobs_enqueued_total')) - enqueuedBefore >= N ||
      (await b.queue.pending()) >= N
        ? true
        : undefined,
    WORK_TIMEOUT_MS,
    200,
  );
  const createdMs = ms(started);
  console.log(`backlog: ${N} labelled namespaces created and queued in ${fmtS(createdMs)}`);
  const callsBefore = ecrCalls(b);
  started = performance.now();
  await b.procs.startRenewers();
  await until(
    'every backlog Secret',
    () => (b.fan.every((ns) => b.watch.get(ns, REGISTRY) !== undefined) ? true : undefined),
    WORK_TIMEOUT_MS,
    100,
  );
  const last = Math.max(...b.fan.map((ns) => b.watch.get(ns, REGISTRY)?.firstSeenAt ?? 0));
  const drainMs = last - started;
  const calls = ecrCalls(b) - callsBefore;
  console.log(
    `backlog drained: ${N} Secrets (and ServiceAccounts) written ${fmtS(drainMs)} after the renewers ` +
      `started (${((N / drainMs) * 1000).toFixed(0)} namespaces/s); ECR calls: ${calls}`,
  );
  return { createdMs, drainMs, ecrCalls: calls };
}

async function idleBaseline(b: Bench): Promise<PhaseRequests> {
  await b.queue.drained(DRAIN_TIMEOUT_MS, 3000);
  const idle = await b.meter.measureIdle(IDLE_WINDOW_MS);
  console.log(
    `idle window, ${fmtS(idle.durationMs)}: ${idle.total} API requests (${breakdown(idle)})`,
  );
  return idle;
}

async function sweepNothingDue(b: Bench): Promise<Sweep> {
  await b.queue.drained(DRAIN_TIMEOUT_MS);
  const writesBefore = b.watch.writes;
  const sweepsBefore = b.sweeps.count(b.procs.all);
  const { requests } = await b.meter.around(async () => {
    await b.queue.triggerSweep();
    await waitForSweep(b, sweepsBefore);
    await b.queue.drained(DRAIN_TIMEOUT_MS);
  });
  const writes = b.watch.writes - writesBefore;
  const line = b.sweeps.last(b.procs.all);
  const duration = line === undefined ? 'duration not logged' : `${String(line.durationMs)} ms`;
  const namespaces = Number(line?.optedIn ?? Number.NaN);
  console.log(
    `sweep over fresh Secrets: ${duration} over ${String(line?.namespaces)} namespaces ` +
      `(${namespaces} opted in); Secret writes: ${writes}; API requests: ${requests.total} (${breakdown(requests)})`,
  );
  if (writes !== 0) throw new Error(`a sweep over fresh Secrets wrote ${writes} Secrets`);
  return { namespaces, duration, writes, requests };
}

async function restartWatcher(
  b: Bench,
  withProbes: boolean,
): Promise<{ restart: Restart; latency: Latency | undefined }> {
  await b.queue.drained(DRAIN_TIMEOUT_MS);
  const counter = await b.queue.countAdded();
  const sweepsBefore = b.sweeps.count(b.procs.all);
  const work = async () => {
    const started = performance.now();
    await b.procs.stopWatcher();
    const watcher = await b.procs.startWatcher();
    await until(
      'the new watcher to lead and be ready',
      () => leading(watcher),
      WORK_TIMEOUT_MS,
      50,
    );
    const readyMs = ms(started);
    const latency = withProbes
      ? await probeWhile(b, async () => (await b.queue.pending()) > 3, 20)
      : undefined;
    const drainedAt = await b.queue.drained(DRAIN_TIMEOUT_MS, 3000);
    return { readyMs, drainedMs: drainedAt - started, latency };
  };
  let requests: PhaseRequests | undefined;
  let result: Awaited<ReturnType<typeof work>>;
  if (withProbes) {
    result = await work();
  } else {
    const counted = await b.meter.around(work);
    result = counted.value;
    requests = counted.requests;
  }
  const jobs = await counter.stop();
  const enqueued = await enqueuedByReason(b);
  const restart: Restart = {
    readyMs: result.readyMs,
    drainedMs: result.drainedMs,
    jobs,
    enqueued,
    sweeps: b.sweeps.count(b.procs.all) - sweepsBefore,
    requests: requests ?? { durationMs: 0, total: 0, byKey: [], errors: '', own: 0, idle: 0 },
  };
  console.log(
    `watcher restart${withProbes ? ' (with latency probes)' : ''}: ready in ${fmtS(restart.readyMs)}, ` +
      `queue drained in ${fmtS(restart.drainedMs)}; ${describeJobs(jobs)}; sweeps ${restart.sweeps}` +
      (requests ? `; API requests ${requests.total} (${breakdown(requests)})` : '') +
      (result.latency ? `; label-to-Secret ${fmtLatency(result.latency)}` : ''),
  );
  return { restart, latency: result.latency };
}

/** Stops the renewers and patches every backlog Secret's renew-after into the past. */
async function makeAllDue(b: Bench): Promise<void> {
  if (b.procs.renewers.length > 0) await b.queue.drained(DRAIN_TIMEOUT_MS);
  await b.procs.stopRenewers();
  const started = performance.now();
  const past = new Date(Date.now() - 60_000).toISOString();
  await pool(b.fan, 32, async (ns) => {
    await b.kube.request('PATCH', `/api/v1/namespaces/${ns}/secrets/${REGISTRY}`, {
      body: { metadata: { annotations: { [RENEW_AFTER_ANNOTATION]: past } } },
      contentType: MERGE_PATCH,
    });
  });
  await until(
    'the watch to see every Secret due',
    () => (renewedSince(b, Date.now()) === 0 ? true : undefined),
    60_000,
    100,
  );
  console.log(`(${N} Secrets made due in ${fmtS(ms(started))}, renewers stopped)`);
}

/** Renewers stopped and every backlog Secret due: starts them, triggers a sweep, times the renewal. */
async function renewalWave(
  b: Bench,
  name: string,
  extraEnv: Record<string, string>,
  mode: 'count' | 'probe',
): Promise<{ wave: Wave; latency: Latency | undefined }> {
  const work = async () => {
    const callsBefore = ecrCalls(b);
    const epoch = Date.now();
    await b.procs.startRenewers(extraEnv);
    const renewedBeforeTrigger = renewedSince(b, epoch);
    const cpuBefore = await cpuSnapshot();
    const started = performance.now();
    await b.queue.triggerSweep();
    const probing =
      mode === 'probe' ? probeWhile(b, () => renewedSince(b, epoch) < N, 1) : undefined;
    await until(
      `every Secret renewed (${name})`,
      () => (renewedSince(b, epoch) >= N ? true : undefined),
      WORK_TIMEOUT_MS,
      100,
    );
    const last = Math.max(...b.fan.map((ns) => b.watch.get(ns, REGISTRY)?.lastWriteAt ?? 0));
    const cpu = cpuUsed(cpuBefore, await cpuSnapshot());
    const latency = await probing;
    await b.queue.drained(DRAIN_TIMEOUT_MS);
    const durationMs = last - started;
    return {
      durationMs,
      perS: ((N - renewedBeforeTrigger) / durationMs) * 1000,
      cpu,
      ecrCalls: ecrCalls(b) - callsBefore,
      renewedBeforeTrigger,
      latency,
    };
  };
  let requests: PhaseRequests | undefined;
  let result: Awaited<ReturnType<typeof work>>;
  if (mode === 'count') {
    const counted = await b.meter.around(work);
    result = counted.value;
    requests = counted.requests;
  } else {
    result = await work();
  }
  const { latency, ...figures } = result;
  const wave: Wave = { ...figures, requests, note: '' };
  console.log(
    `full renewal wave (${name}): ${N} Secrets in ${fmtS(wave.durationMs)}, ${wave.perS.toFixed(0)}/s; ` +
      `ECR calls ${wave.ecrCalls}` +
      (requests
        ? `; API requests ${requests.total} = ${(requests.total / N).toFixed(2)} per Secret (${breakdown(requests)})`
        : '') +
      (latency ? `; label-to-Secret during the wave: ${fmtLatency(latency)}` : '') +
      `; CPU: ${describeCpu(wave.cpu)}`,
  );
  return { wave, latency };
}

async function badCredential(b: Bench): Promise<BadCredential> {
  await b.queue.drained(DRAIN_TIMEOUT_MS);
  await b.kube.request('POST', `/api/v1/namespaces/${b.hostNamespace}/secrets`, {
    body: {
      metadata: { name: credentialSecretName(BAD_REGISTRY) },
      stringData: {
        aws_access_key_id: BAD_KEYS.accessKeyId,
        aws_secret_access_key: BAD_KEYS.secretAccessKey,
        aws_region: 'us-east-1',
      },
    },
  });
  const chosen = b.fan.filter((_, i) => i % Math.round(100 / BAD_SHARE) === 0);
  const enqueuedBefore = await metricValue(watcherOf(b), 'eatr_jobs_enqueued_total');
  const started = performance.now();
  await pool(chosen, 32, async (ns) => {
    await b.kube.request('PATCH', `/api/v1/namespaces/${ns}`, {
      body: { metadata: { labels: { [BAD_REGISTRY]: 'true' } } },
      contentType: MERGE_PATCH,
    });
  });
  // Let things settle: the watcher queues a sync per relabelled namespace, each fails (bad keys).
  await until(
    'the watcher to queue the relabelled namespaces',
    async () =>
      (await metricValue(watcherOf(b), 'eatr_jobs_enqueued_total')) - enqueuedBefore >=
      chosen.length
        ? true
        : undefined,
    60_000,
    200,
  ).catch(() => undefined); // a watcher that queues less is fine; the drain below decides
  await b.queue.drained(DRAIN_TIMEOUT_MS, 3000);
  const settleMs = ms(started);

  const counter = await b.queue.countAdded();
  const callsBefore = ecrCalls(b);
  const writesBefore = b.watch.writes;
  const sweepsBefore = b.sweeps.count(b.procs.all);
  let sweepMs = 0;
  const { requests } = await b.meter.around(async () => {
    const t0 = performance.now();
    await b.queue.triggerSweep();
    await waitForSweep(b, sweepsBefore);
    sweepMs = (await b.queue.drained(DRAIN_TIMEOUT_MS)) - t0;
  });
  const jobs = await counter.stop();
  const result: BadCredential = {
    namespaces: chosen.length,
    settleMs,
    sweepMs,
    jobs,
    ecrCalls: ecrCalls(b) - callsBefore,
    writes: b.watch.writes - writesBefore,
    requests,
  };
  console.log(
    `sweep with a bad credential on ${chosen.length} namespaces: ${fmtS(sweepMs)}; ${describeJobs(jobs)}; ` +
      `ECR calls ${result.ecrCalls}; API requests ${requests.total} (${breakdown(requests)})`,
  );
  return result;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<boolean> {
  const runStarted = performance.now();
  console.log(
    `eatr benchmark: ${N} namespaces, ${RENEWERS} renewer(s), concurrency ${CONCURRENCY ?? 'default'}, ` +
      `speed settings ${SPEED_ENV_TEXT}, Node ${process.version}`,
  );
  const results: Results = {
    n: N,
    renewers: RENEWERS,
    concurrency: CONCURRENCY ?? 'default',
    speedEnv: SPEED_ENV_TEXT,
    startupMs: 0,
    startupDetail: '',
    totalMs: 0,
  };
  const started = performance.now();
  const [redis, controlPlane, aws] = await Promise.all([
    RedisServer.start(),
    ControlPlane.start(),
    FakeAwsEndpoint.start({ credentials: [KEYS] }),
  ]);
  results.startupMs = ms(started);
  results.startupDetail = controlPlane.describeTimings();
  console.log(`harness start-up: ${fmtMs(results.startupMs)} (${results.startupDetail})`);

  const token = kubeClients(controlPlane.kubeconfigPath).kubeConfig.getCurrentUser()?.token;
  if (!token) throw new Error('the admin kubeconfig has no token');
  const kube = new RawKube(controlPlane.apiServerUrl, controlPlane.caCertPem, token, 64);
  const queue = new EatrQueue(redis.url, QUEUE_PREFIX);
  const hostNamespace = uniqueName('bench-host');
  const env = {
    KUBECONFIG: controlPlane.kubeconfigPath,
    EATR_REDIS_URL: redis.url,
    EATR_QUEUE_PREFIX: QUEUE_PREFIX,
    EATR_HOST_NAMESPACE: hostNamespace,
    EATR_METRICS_PORT: '0',
    EATR_METRICS_HOST: '127.0.0.1',
    EATR_LOG_LEVEL: 'info',
    EATR_SWEEP_INTERVAL: SWEEP_INTERVAL,
    ...aws.env(),
    ...(CONCURRENCY === undefined
      ? {}
      : { EATR_CONCURRENCY: String(positiveInt('BENCH_CONCURRENCY', 4)) }),
  };
  const procs = new EatrProcesses(env, RENEWERS);
  let watch: SecretWatch | undefined;
  try {
    await kube.request('POST', '/api/v1/namespaces', {
      body: { metadata: { name: hostNamespace } },
    });
    await kube.request('POST', `/api/v1/namespaces/${hostNamespace}/secrets`, {
      body: {
        metadata: { name: credentialSecretName(REGISTRY) },
        stringData: {
          aws_access_key_id: KEYS.accessKeyId,
          aws_secret_access_key: KEYS.secretAccessKey,
          aws_region: 'eu-west-1',
        },
      },
    });
    watch = await SecretWatch.start(kube, MANAGED_SELECTOR, RENEW_AFTER_ANNOTATION);
    await procs.startRenewers();
    const watcher = await procs.startWatcher();
    await until('the watcher to lead and be ready', () => leading(watcher), 60_000, 100);
    const b: Bench = {
      kube,
      watch,
      queue,
      meter: new RequestMeter(kube),
      procs,
      aws,
      hostNamespace,
      sweeps: new LogCounter('"msg":"sweep done"'),
      fan: [],
    };
    results.memoryStart = await phase('memory at start', () =>
      Promise.all(procs.live.map((p) => memory(p))),
    );

    results.idleLatency = await phase('idle latency', () => idleLatency(b));
    results.backlog = await phase('backlog', () => backlog(b));
    const backlogOk = results.backlog.ok;
    const needBacklog = <T>(name: string, run: () => Promise<T>): Promise<Outcome<T>> =>
      backlogOk
        ? phase(name, run)
        : Promise.resolve({ ok: false, reason: 'skipped: the backlog phase failed' });

    results.idle = await phase('idle baseline', () => idleBaseline(b));
    results.sweep = await needBacklog('sweep with nothing due', () => sweepNothingDue(b));
    const restart = await phase('watcher restart', () => restartWatcher(b, false));
    results.restart = restart.ok ? { ok: true, value: restart.value.restart } : restart;
    const restartProbed = await phase('watcher restart with probes', () => restartWatcher(b, true));
    results.restartLatency = restartProbed.ok
      ? restartProbed.value.latency
        ? { ok: true, value: restartProbed.value.latency }
        : { ok: false, reason: 'no probes' }
      : restartProbed;
    if (!procs.watcher) await phase('watcher start', () => procs.startWatcher());

    results.ceiling = await phase('API-server ceiling', async () => {
      await queue.drained(DRAIN_TIMEOUT_MS);
      await procs.stopRenewers(); // the API server alone (and the idle watcher)
      const ceiling = await measureCeiling(kube, {
        prefix: uniqueName('bench-ceiling'),
        secrets: N,
        concurrency: CEILING_CONCURRENCY,
        registry: REGISTRY,
      });
      console.log(
        `API-server ceiling, ${ceiling.concurrency} in flight: create ${ceiling.createPerS.toFixed(0)}/s, ` +
          `update ${ceiling.updatePerS.toFixed(0)}/s (${N} Secrets, each in its own namespace); ` +
          `CPU during the updates: ${describeCpu(ceiling.updateCpu)}`,
      );
      return ceiling;
    });

    // Set when a wave ended with every Secret still due and the renewers stopped.
    const state = { due: false };
    const dueThen = async () => {
      if (!state.due) await makeAllDue(b);
      state.due = false;
    };
    results.waveDefault = await needBacklog('renewal wave, default settings', async () => {
      await dueThen();
      return (await renewalWave(b, 'default settings', {}, 'count')).wave;
    });

    const ignored = await unknownRenewerSettings(Object.keys(SPEED_ENV));
    results.waveSpeed = await needBacklog('renewal wave, speed settings', async () => {
      await dueThen();
      try {
        const { wave } = await renewalWave(
          b,
          `speed settings ${SPEED_ENV_TEXT}`,
          SPEED_ENV,
          'count',
        );
        return {
          ...wave,
          note:
            ignored.length > 0 ? `not settings of this eatr, ignored: ${ignored.join(', ')}` : '',
        };
      } catch (error) {
        if (!(error instanceof SettingUnsupported)) throw error;
        state.due = true; // nothing was renewed: the next wave starts from here
        console.log(
          `full renewal wave (speed settings): n/a (setting unsupported: ${error.message})`,
        );
        return { unsupported: error.message };
      }
    });

    // Events during a wave, at the default concurrency and at 16 and 128 jobs per renewer: bulk work
    // must not delay them in the queue, the renewer's slots or the client-side rate limiter.
    results.waveLatency = [];
    for (const concurrency of WAVE_PROBE_CONCURRENCY) {
      const env: Record<string, string> =
        concurrency === 'default' ? {} : { EATR_CONCURRENCY: concurrency };
      results.waveLatency.push({
        concurrency,
        latency: await needBacklog(
          `renewal wave with latency probes, concurrency ${concurrency}`,
          async () => {
            await dueThen();
            const { latency } = await renewalWave(
              b,
              `concurrency ${concurrency}, with latency probes`,
              env,
              'probe',
            );
            if (!latency) throw new Error('no probes ran');
            return latency;
          },
        ),
      });
    }
    if (procs.renewers.length === 0) await phase('renewer start', () => procs.startRenewers());

    results.badCredential = await needBacklog('sweep with a bad credential', () =>
      badCredential(b),
    );
    results.memoryEnd = await phase('memory at the end', async () => {
      await queue.drained(DRAIN_TIMEOUT_MS).catch(() => undefined);
      return Promise.all(procs.live.map((p) => memory(p)));
    });
  } finally {
    await procs.stopAll();
    await watch?.stop();
    await queue.close().catch(() => undefined);
    kube.close();
    await Promise.allSettled([aws.stop(), controlPlane.stop(), redis.stop()]);
  }
  results.totalMs = ms(runStarted);
  return printReport(results);
}

if (!(await main())) process.exitCode = 1;
