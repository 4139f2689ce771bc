/**
 * What the least-read mode (--served-namespaces) costs: one renewer serving N labelled namespaces,
 * started once with today's cluster-wide Secrets watch and once with the N namespaces listed (one
 * Secrets watch per namespace, as the chart's Roles require). Real renewer processes (the built
 * entrypoint, the chart's heap flags) against the harness's redis-server, kube-apiserver + etcd and
 * SigV4-checking ECR endpoint. Prints, per mode: time from start to ready (every watch listed), the
 * API requests that start made (from the API server's own apiserver_request_total), the watches it
 * holds open (apiserver_longrunning_requests), its resident memory when ready, and a label-to-Secret
 * time for a served namespace afterwards. Asserts nothing about speed; fails when a mode did not
 * serve its namespaces, so no figure is printed for work that did not happen.
 *
 *   pnpm bench:served                           N = 1,000
 *   BENCH_NAMESPACES=10000 pnpm bench:served    N = 10,000
 *   BENCH_SPEED_ENV='EATR_KUBE_API_QPS=0'       extra renewer settings for both modes
 *   BENCH_RENEWER_LIMIT_MIB=768                 the memory limit the heap flags follow (default 384)
 */
import { MANAGED_SELECTOR, RENEW_AFTER_ANNOTATION, credentialSecretName } from '@eatr/core';
import { FakeAwsEndpoint } from '../harness/aws/index.js';
import { ControlPlane, RedisServer, kubeClients, uniqueName } from '../harness/index.js';
import { EatrProcess } from '../harness/eatr-process.js';
import { RequestMeter, breakdown, type PhaseRequests } from './apiserver-metrics.js';
import { fmtMs, ms, parseEnvList, pool, positiveInt, until } from './common.js';
import { RENEWER_LIMIT_MIB, chartRuntimeEnv, residentMiB } from './eatr-processes.js';
import { RawKube } from './raw-kube.js';
import { SecretWatch } from './secret-watch.js';

const N = positiveInt('BENCH_NAMESPACES', 1000);
const EXTRA_ENV = parseEnvList('BENCH_SPEED_ENV', process.env.BENCH_SPEED_ENV ?? '');
const REGISTRY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const KEYS = {
  accessKeyId: 'AKIAEATRSERVEDBENCH1',
  secretAccessKey: 'eatr-served-bench/abcdefghijklmnopq',
};
const TIMEOUT_MS = 300_000 + N * 100;
/** The renewer's memory limit the chart's heap flags are derived from (values.yaml: 384Mi). */
const LIMIT_MIB = positiveInt('BENCH_RENEWER_LIMIT_MIB', RENEWER_LIMIT_MIB);

interface ModeFigures {
  readonly mode: string;
  readonly readyMs: number;
  readonly watchesOpenMs: number;
  readonly start: PhaseRequests;
  readonly secretWatches: number;
  readonly allWatches: number;
  readonly readyMiB: number;
  readonly servedMiB: number;
  readonly labelToSecretMs: number;
}

/** Open watches by resource, from the API server's apiserver_longrunning_requests gauge. */
async function openWatches(kube: RawKube): Promise<Map<string, number>> {
  const { body } = await kube.request('GET', '/metrics', { accept: 'text/plain' });
  const byResource = new Map<string, number>();
  for (const line of body.split('\n')) {
    if (!line.startsWith('apiserver_longrunning_requests{') || !line.includes('verb="WATCH"'))
      continue;
    const resource = /resource="([^"]*)"/.exec(line)?.[1] ?? '';
    const value = Number(line.slice(line.lastIndexOf('}') + 1));
    byResource.set(resource, (byResource.get(resource) ?? 0) + value);
  }
  return byResource;
}

async function main(): Promise<void> {
  const [redis, controlPlane, aws] = await Promise.all([
    RedisServer.start(),
    ControlPlane.start(),
    FakeAwsEndpoint.start({ credentials: [KEYS] }),
  ]);
  const token = kubeClients(controlPlane.kubeconfigPath).kubeConfig.getCurrentUser()?.token;
  if (!token) throw new Error('the admin kubeconfig has no token');
  const kube = new RawKube(controlPlane.apiServerUrl, controlPlane.caCertPem, token, 64);
  const meter = new RequestMeter(kube);
  const host = uniqueName('served-host');
  // Short names: the list is one environment variable (Linux allows 128 KiB per variable).
  const run = uniqueName('s').slice(-5);
  const namespaces = Array.from({ length: N }, (_, i) => `${run}-${i}`);
  const figures: ModeFigures[] = [];
  let watch: SecretWatch | undefined;
  try {
    await kube.request('POST', '/api/v1/namespaces', { body: { metadata: { name: host } } });
    await kube.request('POST', `/api/v1/namespaces/${host}/secrets`, {
      body: {
        metadata: { name: credentialSecretName(REGISTRY) },
        stringData: {
          aws_access_key_id: KEYS.accessKeyId,
          aws_secret_access_key: KEYS.secretAccessKey,
        },
      },
    });
    const created = performance.now();
    await pool(namespaces, 32, async (name) => {
      await kube.request('POST', '/api/v1/namespaces', {
        body: { metadata: { name, labels: { [REGISTRY]: 'true' } } },
      });
      await kube.request('POST', `/api/v1/namespaces/${name}/serviceaccounts`, {
        body: { metadata: { name: 'default' } },
      });
    });
    console.log(`${N} labelled namespaces created in ${fmtMs(ms(created))}`);
    watch = await SecretWatch.start(kube, MANAGED_SELECTOR, RENEW_AFTER_ANNOTATION);
    await meter.measureIdle(5000);

    for (const [mode, served] of [
      ['cluster-wide (default)', undefined],
      ['--served-namespaces', [...namespaces, host]],
    ] as const) {
      const env = {
        KUBECONFIG: controlPlane.kubeconfigPath,
        EATR_REDIS_URL: redis.url,
        EATR_QUEUE_PREFIX: `{${uniqueName('served')}}`,
        EATR_HOST_NAMESPACE: host,
        EATR_METRICS_PORT: '0',
        EATR_METRICS_HOST: '127.0.0.1',
        EATR_LOG_LEVEL: 'info',
        ...chartRuntimeEnv(LIMIT_MIB),
        ...(served ? { EATR_SERVED_NAMESPACES: served.join(',') } : {}),
        ...aws.env(),
        ...EXTRA_ENV,
      };
      const started = performance.now();
      const { value: renewer, requests } = await meter.around(async () => {
        // Its first log line comes once every watch has listed, which takes longer than the
        // harness's start-up wait at scale: readiness is what this phase measures.
        const p = await EatrProcess.start('renewer', { env, waitForStart: false });
        // Logged once it is ready (every watch listed, the worker taking jobs).
        await p.waitForLog((l) => l.msg === 'renewer started', TIMEOUT_MS);
        return p;
      });
      const readyMs = ms(started);
      const readyMiB = await residentMiB(renewer);
      // Ready means every watch has listed; its watch request may still be on its way.
      const secretWatches = (served?.length ?? 1) + 1; // the renewer's, and the benchmark's own
      await until(
        `${mode}: the renewer's Secrets watches open`,
        async () => ((await openWatches(kube)).get('secrets') ?? 0) >= secretWatches || undefined,
        TIMEOUT_MS,
        100,
      );
      const watchesOpenMs = ms(started);
      const watches = await openWatches(kube);
      // Serve every namespace: the first mode creates the Secrets, the second finds them fresh.
      const watcher = await EatrProcess.start('watcher', { env });
      try {
        await until(
          `${mode}: every namespace's Secret`,
          () => (namespaces.every((ns) => watch?.get(ns, REGISTRY)) ? true : undefined),
          TIMEOUT_MS,
          250,
        );
        const probe = namespaces[Math.floor(N / 2)] ?? '';
        await kube.request('DELETE', `/api/v1/namespaces/${probe}/secrets/${REGISTRY}`);
        await until(
          `${mode}: the deletion seen`,
          () => (watch?.get(probe, REGISTRY) ? undefined : true),
          60_000,
          20,
        );
        const labelled = performance.now();
        await kube.request('PATCH', `/api/v1/namespaces/${probe}`, {
          contentType: 'application/merge-patch+json',
          body: { metadata: { labels: { probed: mode.length.toString() } } },
        });
        await until(
          `${mode}: the probe's Secret again`,
          () => (watch?.get(probe, REGISTRY) ? true : undefined),
          60_000,
          5,
        );
        figures.push({
          mode,
          readyMs,
          watchesOpenMs,
          start: requests,
          secretWatches: watches.get('secrets') ?? 0,
          allWatches: [...watches.values()].reduce((a, b) => a + b, 0),
          readyMiB,
          servedMiB: await residentMiB(renewer),
          labelToSecretMs: ms(labelled),
        });
      } catch (error) {
        // What the processes said about the probe, so a failure can be read without a rerun.
        const probe = namespaces[Math.floor(N / 2)] ?? '';
        for (const p of [renewer, watcher])
          for (const line of p.lines
            .filter((l) => l.includes(probe) || !l.includes('"level":30'))
            .slice(-20))
            console.error(`${p.component}: ${line}`);
        throw error;
      } finally {
        await watcher.stop();
        await renewer.stop();
      }
    }
  } finally {
    await watch?.stop();
    await Promise.allSettled([redis.stop(), controlPlane.stop(), aws.stop()]);
  }

  console.log(
    `\nleast-read mode cost, one renewer (heap flags of a ${LIMIT_MIB}Mi limit), N = ${N} namespaces${Object.keys(EXTRA_ENV).length ? `, ${process.env.BENCH_SPEED_ENV}` : ''}`,
  );
  for (const f of figures) {
    console.log(`\n  ${f.mode}`);
    console.log(`    start to ready (every watch listed)  ${fmtMs(f.readyMs)}`);
    console.log(`    start to every Secrets watch open    ${fmtMs(f.watchesOpenMs)}`);
    console.log(
      `    API requests at start (lists; watches count when they end) ${f.start.total} (${breakdown(f.start)})${f.start.errors ? `; errors ${f.start.errors}` : ''}`,
    );
    console.log(
      `    watches open (all / on Secrets)       ${f.allWatches} / ${f.secretWatches} (the API server's, the benchmark's one included)`,
    );
    console.log(
      `    resident memory: ready / serving     ${f.readyMiB.toFixed(0)} MiB / ${f.servedMiB.toFixed(0)} MiB`,
    );
    console.log(`    label -> Secret afterwards           ${fmtMs(f.labelToSecretMs)}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
