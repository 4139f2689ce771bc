import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LEGACY_QUEUE_NAME, QUEUE_NAME, parseGoDuration } from '@eatr/core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { issuedTokens, registryAccesses } from './harness/provided.js';
import {
  apply,
  prepareHostNamespace,
  chartPath,
  describeCluster,
  eventually,
  StopWaiting,
  helm,
  isReady,
  kubectl,
  kubectlJson,
  releaseValues,
} from './support/kube.js';
import type { PodList } from './support/kube.js';

// Issue 17, "on the real node": `helm install` of the previous release (the commit in
// test/compat/previous-release: its own chart, and its image built by its own build-images.sh),
// `helm upgrade` to this build's chart and image, then `helm rollback` to revision 1, each while
// namespaces are labelled (at fixed points of the rollout, observed, not timed) and one is opted out.
// After each step, what a user would notice: every labelled namespace served (its Secret holds a
// token the ECR stand-in issued, its default ServiceAccount names it, and a new Pod pulls from the
// ECR-named registry with it), the opted-out one cleaned, no Secret replaced, no job failed in
// either queue (the previous release's `eatr`, this one's `eatr-v2`), no Pod restarted.
//
// A release of its own, in a namespace of its own, so nothing here depends on install.test.ts;
// vitest.e2e.config.ts runs this file first (on a cluster with no other labelled namespace) and
// everything is removed at the end.

const RELEASE = 'eatr-upgrade';
/** The release namespace, also the host namespace of the credential Secret (Pod Security restricted). */
const NAMESPACE = 'eatr-upgrade';
/** helm's --wait bound, as install.test.ts uses it. */
const HELM_TIMEOUT = '5m';
const HELM_TIMEOUT_MS = parseGoDuration(HELM_TIMEOUT) ?? 0;
const STEP_LABEL = 'eatr-e2e/upgrade-step';

const STEPS = ['install', 'upgrade', 'rollback'] as const;
type Step = (typeof STEPS)[number];
/**
 * Where in a step a namespace is labelled: before the helm command; right after it started; when the
 * first Pod of the incoming image exists; when a renewer of the incoming image is Ready (an upgrade's
 * or rollback's overlap: both releases' renewers work); after helm --wait returned.
 */
const MOMENTS = ['before', 'started', 'rolling', 'ready', 'done'] as const;
type Moment = (typeof MOMENTS)[number];
const namespaceOf = (step: Step, moment: Moment) => `upgrade-${step}-${moment}`;
/** The namespace each step opts out (at its `ready` moment): one the step before served. */
const OPT_OUT: Partial<Record<Step, string>> = {
  upgrade: namespaceOf('install', 'started'),
  rollback: namespaceOf('upgrade', 'started'),
};

/** A Pod as kubectl shows it, with what a rollout adds: terminating Pods, init containers. */
type Pod = PodList['items'][number] & {
  metadata: { deletionTimestamp?: string };
  status: { initContainerStatuses?: Array<{ restartCount: number }> };
};

interface Chart {
  config: { queuePrefix: string };
  watcher: { sweepInterval: string; terminationGracePeriodSeconds: number };
  renewer: { terminationGracePeriodSeconds: number };
}

/** The chart's defaults this test takes its bounds and keys from. */
async function chartDefaults(): Promise<{
  queuePrefix: string;
  sweepIntervalMs: number;
  terminationGracePeriodMs: number;
}> {
  const values = parseYaml(await readFile(join(chartPath, 'values.yaml'), 'utf8')) as Chart;
  const sweepIntervalMs = parseGoDuration(values.watcher.sweepInterval);
  if (sweepIntervalMs === undefined) throw new Error('values.yaml: watcher.sweepInterval');
  const terminationGracePeriodMs =
    1000 *
    Math.max(
      values.watcher.terminationGracePeriodSeconds,
      values.renewer.terminationGracePeriodSeconds,
    );
  return { queuePrefix: values.config.queuePrefix, sweepIntervalMs, terminationGracePeriodMs };
}

async function releasePods(): Promise<Pod[]> {
  return (await kubectlJson<{ items: Pod[] }>(['get', 'pods', '-n', NAMESPACE])).items;
}

const component = (pod: Pod) => pod.metadata.labels?.['app.kubernetes.io/component'] ?? '?';
const isEatr = (pod: Pod) => ['watcher', 'renewer'].includes(component(pod));
const imageOf = (pod: Pod) => pod.spec.containers[0]?.image ?? '';

/** Which release's eatr Pods exist (terminating ones included) and how many incoming renewers are Ready. */
function rolloutState(pods: Pod[], incoming: string) {
  const eatr = pods.filter(isEatr);
  return {
    outgoing: eatr.filter((p) => imageOf(p) !== incoming).length,
    incoming: eatr.filter((p) => imageOf(p) === incoming).length,
    incomingReadyRenewers: eatr.filter(
      (p) => imageOf(p) === incoming && component(p) === 'renewer' && isReady(p),
    ).length,
  };
}

interface StepFigures {
  step: Step;
  helmMs: number;
  convergedMs: number;
  served: number;
  labelled: number;
  optedOutCleaned: number;
  optedOut: number;
  replaced: string[];
  pods: { pulled: number; of: number };
  failed: Record<string, number>;
  left: Record<string, string[]>;
  restarts: Array<{ pod: string; restarts: number }>;
  /** Namespaces labelled while Pods of both releases existed. */
  labelledDuringOverlap: number;
}

describe('helm upgrade and rollback between the previous release and this one lose nothing', () => {
  const ecr = inject('e2eEcr');
  const images = inject('e2eImages');
  const previous = inject('e2ePrevious');
  /** Namespaces that are labelled now, and those opted out. */
  const labelled = new Set<string>();
  const optedOut = new Set<string>();
  /** The uid of each namespace's Secret when first served: a new uid means it was deleted once. */
  const secretUids = new Map<string, string>();
  let defaults: Awaited<ReturnType<typeof chartDefaults>>;
  let installed = false;

  beforeAll(async () => {
    defaults = await chartDefaults();
    await prepareHostNamespace(NAMESPACE, ecr.registry, ecr);
    // Every namespace exists unlabelled from the start (with its default ServiceAccount): the steps
    // only label them, as a user opting an existing namespace in does.
    await apply({
      apiVersion: 'v1',
      kind: 'List',
      items: STEPS.flatMap((step) =>
        MOMENTS.map((moment) => ({
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: namespaceOf(step, moment) },
        })),
      ),
    });
  });

  afterAll(async () => {
    // install.test.ts installs its own release next: nothing of this one may serve its namespaces.
    try {
      if (installed) await uninstall();
    } finally {
      await deleteNamespaces();
    }
  });

  /** helm uninstall --wait, noting when each Pod of the release is gone. */
  async function uninstall(): Promise<void> {
    const started = performance.now();
    const seconds = () => Math.round((performance.now() - started) / 1000);
    const outcome = helm([
      'uninstall',
      RELEASE,
      '--namespace',
      NAMESPACE,
      '--ignore-not-found',
      '--wait',
      '--timeout',
      HELM_TIMEOUT,
    ]).then(
      () => seconds(),
      // Held until the Pods are watched out, then thrown.
      (error: unknown) => error as Error,
    );
    // When each Pod of the release goes: an idle eatr process stops at once on SIGTERM
    // (values.yaml, config.shutdownTimeout), so a slow uninstall names the Pod that was not.
    const gone = new Map<string, number>();
    const seen = new Map<string, string>();
    await eventually(
      'every Pod of the release gone',
      async () => {
        const pods = await releasePods();
        for (const pod of pods) {
          seen.set(pod.metadata.name, `${component(pod)} ${imageOf(pod).split(':').pop() ?? ''}`);
        }
        const names = new Set(pods.map((p) => p.metadata.name));
        for (const name of seen.keys())
          if (!names.has(name) && !gone.has(name)) gone.set(name, seconds());
        return pods.length === 0 ? true : undefined;
      },
      2 * defaults.terminationGracePeriodMs,
    );
    const uninstallS = await outcome;
    if (uninstallS instanceof Error) throw uninstallS;
    console.log(
      `[e2e] helm uninstall --wait took ${uninstallS} s; every Pod gone after ${seconds()} s: ` +
        [...gone].map(([name, at]) => `${name} (${seen.get(name) ?? ''}) ${at} s`).join(', '),
    );
  }

  async function deleteNamespaces(): Promise<void> {
    const deleting = performance.now();
    await kubectl([
      'delete',
      'namespace',
      NAMESPACE,
      ...STEPS.flatMap((step) => MOMENTS.map((moment) => namespaceOf(step, moment))),
      '--ignore-not-found',
      '--wait=true',
      `--timeout=${HELM_TIMEOUT}`,
    ]);
    console.log(
      `[e2e] the upgrade scenario's namespaces deleted in ${Math.round((performance.now() - deleting) / 1000)} s`,
    );
  }

  /**
   * The namespaces served now (with their Secret's uid), and the opted-out ones eatr has cleaned,
   * from one read of each kind.
   */
  async function servedState(): Promise<{
    served: string[];
    cleaned: string[];
    uids: Map<string, string>;
  }> {
    const [secrets, accounts, tokens] = await Promise.all([
      kubectlJson<{
        items: Array<{
          metadata: { namespace: string; uid: string };
          type: string;
          data?: Record<string, string>;
        }>;
      }>(['get', 'secrets', '-A', '--field-selector', `metadata.name=${ecr.registry}`]),
      kubectlJson<{
        items: Array<{
          metadata: { namespace: string };
          imagePullSecrets?: Array<{ name: string }>;
        }>;
      }>(['get', 'serviceaccounts', '-A', '--field-selector', 'metadata.name=default']),
      issuedTokens(),
    ]);
    const issued = new Set(tokens.map((t) => t.password));
    const secretIn = new Map(secrets.items.map((s) => [s.metadata.namespace, s]));
    const named = new Set(
      accounts.items
        .filter((a) => a.imagePullSecrets?.some((p) => p.name === ecr.registry) === true)
        .map((a) => a.metadata.namespace),
    );
    const served = [...labelled].filter((namespace) => {
      const secret = secretIn.get(namespace);
      if (secret?.type !== 'kubernetes.io/dockerconfigjson' || !named.has(namespace)) return false;
      const config = JSON.parse(
        Buffer.from(secret.data?.['.dockerconfigjson'] ?? '', 'base64').toString('utf8') || '{}',
      ) as { auths?: Record<string, { username?: string; password?: string }> };
      const auth = config.auths?.[ecr.registry];
      if (auth?.username !== 'AWS' || !issued.has(auth.password ?? '')) return false;
      if (!secretUids.has(namespace)) secretUids.set(namespace, secret.metadata.uid);
      return true;
    });
    const cleaned = [...optedOut].filter((ns) => !secretIn.has(ns) && !named.has(ns));
    const uids = new Map(served.map((ns) => [ns, secretIn.get(ns)?.metadata.uid ?? '']));
    return { served, cleaned, uids };
  }

  /**
   * Both BullMQ queues, read with redis-cli in the Redis Pod: how many jobs failed, and the ids of
   * those still to run (waiting, prioritized, delayed, active).
   */
  async function queueCounts(): Promise<{
    failed: Record<string, number>;
    left: Record<string, string[]>;
  }> {
    const redis = (await releasePods()).find(
      (p) => component(p) === 'redis' && p.metadata.deletionTimestamp === undefined,
    );
    if (redis === undefined) throw new Error('no Redis Pod');
    const queues = [LEGACY_QUEUE_NAME, QUEUE_NAME];
    const key = (queue: string, part: string) => `${defaults.queuePrefix}:${queue}:${part}`;
    // One answer line per command: a count, then `ids:` and the ids, comma-separated.
    const listIds =
      "local ids = {} for _, k in ipairs(KEYS) do local t = redis.call('TYPE', k).ok " +
      "local part = {} if t == 'list' then part = redis.call('LRANGE', k, 0, -1) " +
      "elseif t == 'zset' then part = redis.call('ZRANGE', k, 0, -1) end " +
      'for _, id in ipairs(part) do table.insert(ids, id) end end ' +
      "return 'ids:' .. table.concat(ids, ',')";
    const commands = queues.flatMap((q) => [
      `ZCARD ${key(q, 'failed')}`,
      `EVAL "${listIds}" 4 ${['wait', 'prioritized', 'delayed', 'active'].map((part) => key(q, part)).join(' ')}`,
    ]);
    const output = await kubectl(
      ['exec', '-i', '-n', NAMESPACE, redis.metadata.name, '-c', 'redis', '--', 'redis-cli'],
      commands.join('\n') + '\n',
    );
    const lines = output.trim().split('\n');
    const failed: Record<string, number> = {};
    const left: Record<string, string[]> = {};
    queues.forEach((queue, i) => {
      const count = Number(lines[2 * i]);
      const ids = lines[2 * i + 1] ?? '';
      if (!Number.isInteger(count) || !ids.startsWith('ids:')) {
        throw new Error(`redis-cli answered ${JSON.stringify(output)} to ${commands.join('; ')}`);
      }
      failed[queue] = count;
      left[queue] = ids.slice('ids:'.length).split(',').filter(Boolean);
    });
    if (lines.length !== commands.length) {
      throw new Error(`redis-cli answered ${JSON.stringify(output)} to ${commands.join('; ')}`);
    }
    return { failed, left };
  }

  /** Labels namespaces through one helm command's rollout, then measures the step. */
  async function step(name: Step, helmArgs: string[], incoming: string): Promise<StepFigures> {
    let labelledDuringOverlap = 0;
    const label = async (moment: Moment) => {
      const state = rolloutState(await releasePods(), incoming);
      const namespace = namespaceOf(name, moment);
      await kubectl(['label', 'namespace', namespace, `${ecr.registry}=true`]);
      labelled.add(namespace);
      if (state.outgoing > 0 && state.incoming > 0) labelledDuringOverlap++;
      console.log(
        `[e2e] ${name}: labelled ${namespace} with ${state.outgoing} outgoing and ${state.incoming} incoming eatr Pods (${state.incomingReadyRenewers} incoming renewers Ready)`,
      );
    };

    await label('before');
    const started = performance.now();
    let finished = false;
    const outcome = helm(helmArgs).then(
      () => {
        finished = true;
        return undefined;
      },
      (error: unknown) => {
        finished = true;
        // helm() rejects with an Error naming the command and its output.
        return error as Error;
      },
    );
    await label('started');
    // The rollout's points, as the Pods show them; a fast rollout may pass one before it is seen.
    await eventually(
      `${name}: a Pod of ${incoming}`,
      async () =>
        finished || rolloutState(await releasePods(), incoming).incoming > 0 ? true : undefined,
      HELM_TIMEOUT_MS,
    );
    await label('rolling');
    await eventually(
      `${name}: a Ready renewer of ${incoming}`,
      async () =>
        finished || rolloutState(await releasePods(), incoming).incomingReadyRenewers > 0
          ? true
          : undefined,
      HELM_TIMEOUT_MS,
    );
    await label('ready');
    const optOut = OPT_OUT[name];
    if (optOut !== undefined) {
      await kubectl(['label', 'namespace', optOut, `${ecr.registry}-`]);
      labelled.delete(optOut);
      optedOut.add(optOut);
      console.log(`[e2e] ${name}: opted ${optOut} out`);
    }
    const error = await outcome;
    if (error !== undefined) {
      console.error(await describeCluster(NAMESPACE));
      throw error;
    }
    const returned = performance.now();
    const helmMs = Math.round(returned - started);
    await label('done');

    // Converged by events and the jobs the incoming release took over, never by the next sweep.
    const convergeWithinMs = defaults.sweepIntervalMs / 5;
    try {
      await eventually(
        `${name}: every labelled namespace served, every opted-out one cleaned`,
        async () => {
          const { served, cleaned } = await servedState();
          const missing = [...labelled].filter((ns) => !served.includes(ns));
          const dirty = [...optedOut].filter((ns) => !cleaned.includes(ns));
          if (missing.length > 0 || dirty.length > 0) {
            throw new Error(`not served: ${missing.join(' ')}; not cleaned: ${dirty.join(' ')}`);
          }
          return true;
        },
        convergeWithinMs,
      );
    } catch (error) {
      console.error(await describeCluster(NAMESPACE));
      throw error;
    }
    const convergedMs = Math.round(performance.now() - returned);
    const { served, cleaned, uids } = await servedState();
    const replaced = served.filter((ns) => secretUids.get(ns) !== uids.get(ns));

    // What runs now is the incoming release.
    const running = (await releasePods()).filter(
      (p) => isEatr(p) && p.metadata.deletionTimestamp === undefined,
    );
    expect(running.map((p) => imageOf(p))).toEqual(running.map(() => incoming));

    const pods = await pullInEveryLabelledNamespace(name);
    const { failed, left } = await queueCounts();
    const restarts = (await releasePods()).map((p) => ({
      pod: p.metadata.name,
      restarts: [...(p.status.containerStatuses ?? []), ...(p.status.initContainerStatuses ?? [])]
        .map((s) => s.restartCount)
        .reduce((a, b) => a + b, 0),
    }));
    const figures: StepFigures = {
      step: name,
      helmMs,
      convergedMs,
      served: served.length,
      labelled: labelled.size,
      optedOutCleaned: cleaned.length,
      optedOut: optedOut.size,
      replaced,
      pods,
      failed,
      left,
      restarts,
      labelledDuringOverlap,
    };
    const total = (counts: Record<string, number>) =>
      Object.values(counts).reduce((a, b) => a + b, 0);
    const perQueue = (counts: Record<string, number>) =>
      Object.entries(counts)
        .map(([queue, n]) => `${queue} ${n}`)
        .join(', ');
    const leftToRun = Object.entries(left)
      .map(([queue, ids]) => `${queue} ${ids.length}${ids.length > 0 ? ` (${ids.join(' ')})` : ''}`)
      .join(', ');
    console.log(
      `[figure] helm ${name}: failed jobs ${total(failed)} (${perQueue(failed)}); namespaces served ${served.length}/${labelled.size}; ` +
        `opted out cleaned ${cleaned.length}/${optedOut.size}; Secrets replaced ${replaced.length}; ` +
        `Pods pulled ${pods.pulled}/${pods.of}; restarts ${restarts.reduce((a, r) => a + r.restarts, 0)}; ` +
        `converged in ${convergedMs} ms after helm returned (helm ${name} --wait ${helmMs} ms); ` +
        `labelled during the overlap ${labelledDuringOverlap}; jobs left to run ${leftToRun}`,
    );
    return figures;
  }

  /** A new Pod (imagePullPolicy Always, no imagePullSecrets of its own) in each labelled namespace. */
  async function pullInEveryLabelledNamespace(name: Step): Promise<{ pulled: number; of: number }> {
    const namespaces = [...labelled];
    const since = new Date().toISOString();
    await apply({
      apiVersion: 'v1',
      kind: 'List',
      items: namespaces.map((namespace) => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `app-after-${name}`, namespace, labels: { [STEP_LABEL]: name } },
        spec: {
          containers: [{ name: 'app', image: ecr.image, imagePullPolicy: 'Always' }],
          terminationGracePeriodSeconds: 1,
        },
      })),
    });
    const running = await eventually(
      `${name}: a Pod in each labelled namespace Running`,
      async () => {
        const pods = (
          await kubectlJson<{ items: Pod[] }>(['get', 'pods', '-A', '-l', `${STEP_LABEL}=${name}`])
        ).items;
        for (const pod of pods) {
          const waiting = pod.status.containerStatuses?.[0]?.state?.waiting;
          if (waiting?.reason === 'ErrImagePull' || waiting?.reason === 'ImagePullBackOff') {
            throw new StopWaiting(
              `${pod.metadata.namespace}/${pod.metadata.name}: ${waiting.reason}: ${waiting.message ?? ''}`,
            );
          }
        }
        const up = pods.filter((p) => p.status.phase === 'Running');
        return up.length === namespaces.length ? up : undefined;
      },
    );
    // Each pull asked the ECR-named registry with a token it accepted.
    const accepted = (await registryAccesses()).filter(
      (a) => a.at >= since && a.reason === 'accepted' && a.path.includes('/manifests/v1'),
    );
    expect(accepted.length).toBeGreaterThanOrEqual(namespaces.length);
    return { pulled: running.length, of: namespaces.length };
  }

  function expectNothingLost(f: StepFigures): void {
    expect(f.failed).toEqual({ [LEGACY_QUEUE_NAME]: 0, [QUEUE_NAME]: 0 });
    expect(f.served).toBe(f.labelled);
    expect(f.optedOutCleaned).toBe(f.optedOut);
    expect(f.replaced).toEqual([]);
    expect(f.pods.pulled).toBe(f.pods.of);
    expect(f.restarts.filter((r) => r.restarts > 0)).toEqual([]);
  }

  const values = (eatrImage: string) => [
    ...releaseValues(eatrImage),
    '--set',
    `hostNamespace=${NAMESPACE}`,
  ];
  const helmFlags = ['--namespace', NAMESPACE, '--wait', '--timeout', HELM_TIMEOUT];

  it('helm install of the previous release (its chart, its image): every labelled namespace served', async () => {
    installed = true;
    const figures = await step(
      'install',
      ['install', RELEASE, previous.chartPath, ...helmFlags, ...values(previous.image)],
      previous.image,
    );
    expectNothingLost(figures);
  });

  it('helm upgrade to this chart and image while namespaces are labelled and one opted out: nothing lost', async () => {
    const figures = await step(
      'upgrade',
      ['upgrade', RELEASE, chartPath, ...helmFlags, ...values(images.eatr)],
      images.eatr,
    );
    expectNothingLost(figures);
  });

  it('helm rollback to revision 1 while namespaces are labelled and one opted out: nothing lost', async () => {
    const figures = await step(
      'rollback',
      ['rollback', RELEASE, '1', ...helmFlags],
      previous.image,
    );
    expectNothingLost(figures);
  });
});
