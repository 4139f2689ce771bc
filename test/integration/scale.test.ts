import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AdmissionregistrationV1Api } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import {
  JOB_FORMAT,
  QUEUE_NAME,
  SWEEP_JOB,
  enqueueCredentialSweep,
  enqueueSweep,
  enqueueSync,
  type SyncJobData,
  EventReason,
  LogMessage,
} from '@eatr/core';
import { apiRequestCounts, kubeClients, requestDelta, uniqueName } from '../harness/index.js';
import { OTHER_KEYS, Scenario, registry, leaseEnv } from './support/scenario.js';

// What makes eatr's cost follow work to do rather than namespaces that exist (issue: scale).
const EU = registry('eu-west-1');
const US = registry('us-east-1');

let s: Scenario;
beforeEach(async () => {
  s = await Scenario.create();
});
afterEach(async () => {
  await s.close();
});

/** Counts the API requests (from the API server's own metrics) that `work` caused. */
async function requestsDuring(work: () => Promise<void>): Promise<Map<string, number>> {
  const before = await apiRequestCounts(s.kubeconfigPath);
  await work();
  return requestDelta(await apiRequestCounts(s.kubeconfigPath), before);
}

async function labelledWithSecrets(count: number, hosts = [EU]): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < count; i++) names.push(await s.createNamespace(`fleet-${i}`, hosts));
  for (const ns of names) await s.waitForSecret(ns, EU);
  return names;
}

/** Every job added to the queue from now on, by name and reason (BullMQ's event stream). */
async function jobsAddedDuring(work: () => Promise<void>): Promise<string[]> {
  const redis = new Redis(s.redisUrl);
  const key = `${s.queuePrefix}:${QUEUE_NAME}:events`;
  const last = (await redis.xrevrange(key, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0';
  await work();
  const entries = await redis.xrange(key, `(${last}`, '+');
  redis.disconnect();
  const added: string[] = [];
  for (const [, fields] of entries) {
    const event = fields[fields.indexOf('event') + 1];
    if (event !== 'added') continue;
    const id = fields[fields.indexOf('jobId') + 1] ?? '';
    const job = await s.queue.getJob(id);
    const data = job?.data as Partial<SyncJobData> | undefined;
    const name = job?.name ?? fields[fields.indexOf('name') + 1] ?? '?';
    added.push(data?.reason ? `${name}:${data.reason}:${data.namespace ?? ''}` : name);
  }
  return added;
}

describe('scale: cost follows work to do', () => {
  it('a sync with nothing to do makes no API request, and a renewal makes one write', async () => {
    await s.createCredentialSecret(EU);
    const renewer = await s.start('renewer', { EATR_RENEWAL_INTERVAL: '3s' });
    const ns = await s.createNamespace('idle', [EU]);
    await s.enqueue(ns);
    const first = await s.waitForSecret(ns, EU);
    await s.waitForServiceAccountEntry(ns, EU);
    await s.drained();

    const idle = await requestsDuring(async () => {
      await s.enqueue(ns);
      await s.drained();
    });
    // s.enqueue itself reads the namespace, its ServiceAccount and lists credentials (as the watcher
    // knows them from its watches); beyond those, nothing.
    expect(Object.fromEntries(idle)).toEqual({
      'GET namespaces': 1,
      'GET serviceaccounts': 1,
      'LIST secrets': 1,
    });

    await s.untilDue(first);
    const renewal = await requestsDuring(async () => {
      await s.enqueue(ns);
      await s.waitForSecret(
        ns,
        EU,
        (secret) => secret.metadata?.resourceVersion !== first.metadata?.resourceVersion,
      );
      await s.drained();
    });
    expect(Object.fromEntries(renewal)).toEqual({
      'GET namespaces': 1,
      'GET serviceaccounts': 1,
      'LIST secrets': 1,
      'GET secrets': expect.any(Number) as number, // waitForSecret's polling
      'PATCH secrets': 1,
    });
    expect(await renewer.metricValue('secret_renewals_total')).toBe(1);
    // No Event for a routine renewal: only the creation's.
    expect((await s.events(ns)).map((e) => e.reason)).toEqual([EventReason.SecretCreated]);
  });

  it('a watcher restart enqueues one sweep and no per-namespace jobs; the sweep serves only what needs work', async () => {
    await s.createCredentialSecret(EU);
    await s.start('renewer');
    let watcher = await s.start('watcher', leaseEnv('restart'));
    await s.waitFor('leadership and synced watches', () => watcher.ready());
    const fleet = await labelledWithSecrets(12);
    await s.drained();
    await watcher.stop();
    // Labelled while no watcher runs: only the start-up sweep can serve it.
    const missed = await s.createNamespace('missed', [EU]);

    let requests = new Map<string, number>();
    const added = await jobsAddedDuring(async () => {
      requests = await requestsDuring(async () => {
        watcher = await s.start('watcher', leaseEnv('restart'));
        await s.waitFor(
          'the new leader',
          async () =>
            (await watcher.ready()) && watcher.logs.some((l) => l.msg === LogMessage.startupSweep),
        );
        await s.waitFor('the start-up sweep', async () =>
          (await s.queue.getCompleted()).some((j) => j.name === SWEEP_JOB),
        );
        await s.drained();
      });
    });
    const bySweep = added.filter((job) => job.startsWith('sync-namespace:sweep:'));
    expect(added.filter((job) => !bySweep.includes(job))).toEqual([SWEEP_JOB]);
    // The sweep enqueued the namespace that needed work (as bulk work), none of the fresh ones, and
    // it was served. (The shared cluster may hold other tests' namespaces that need work too.)
    expect(bySweep).toContain(`sync-namespace:sweep:${missed}`);
    for (const ns of fleet) expect(bySweep).not.toContain(`sync-namespace:sweep:${ns}`);
    await s.waitForSecret(missed, EU);
    expect(await watcher.metricValue('eatr_jobs_enqueued_total')).toBe(0);
    // Nothing is read per namespace: the new leader lists what it watches, once.
    expect(requests.get('GET secrets') ?? 0).toBe(0);
    expect(requests.get('GET namespaces') ?? 0).toBe(0);
    // The fresh namespaces were not written to.
    const writesToFleet = s.allLogLines.filter(
      (line) =>
        fleet.some((ns) => line.includes(`"namespace":"${ns}"`)) &&
        /Secret (created|renewed)|ServiceAccount imagePullSecrets updated/.test(line),
    );
    expect(writesToFleet.length).toBe(fleet.length * 2); // each one's creation, before the restart
  });

  it('a metadata-only edit of a credential Secret rewrites nothing and calls ECR for nothing', async () => {
    const creds = await s.createCredentialSecret(EU);
    const renewer = await s.start('renewer');
    const watcher = await s.start('watcher', leaseEnv('annotate'));
    await s.waitFor('leadership and synced watches', () => watcher.ready());
    const fleet = await labelledWithSecrets(3);
    const [ns = ''] = fleet;
    await s.drained();
    const before = await s.readSecret(ns, EU);
    const calls = s.aws.callCount({ action: 'GetAuthorizationToken' });
    const sweeps = async () =>
      (await s.queue.getCompleted()).filter(
        (j) => j.name === SWEEP_JOB && (j.data as { reason?: string }).reason === 'credentials',
      ).length;

    // An edit of the credential Secret is one sweep, which finds the keys unchanged.
    const onEdit = await jobsAddedDuring(async () => {
      await s.core.replaceNamespacedSecret({
        namespace: s.hostNamespace,
        name: creds.metadata?.name ?? '',
        body: {
          ...(await s.core.readNamespacedSecret({
            namespace: s.hostNamespace,
            name: creds.metadata?.name ?? '',
          })),
          metadata: {
            ...creds.metadata,
            resourceVersion: undefined,
            annotations: { 'backup.example.com/last': new Date().toISOString() },
            labels: { team: 'platform' },
          },
        },
      });
      await s.waitFor('the credential sweep', async () => (await sweeps()) === 1);
      await s.drained();
    });
    // (Scheduled sweeps, named without a reason, may run meanwhile.)
    expect(onEdit.filter((job) => job.startsWith(`${SWEEP_JOB}:`))).toEqual([
      `${SWEEP_JOB}:credentials:`,
    ]);
    for (const n of fleet) expect(onEdit.join(' ')).not.toContain(n);
    // Even a sync of the namespace (as a sweep or any event would run) finds nothing to write: the
    // Secret records the credentials' content, not the credential Secret's version.
    await s.enqueue(ns);
    await s.drained();
    expect((await s.readSecret(ns, EU))?.metadata?.resourceVersion).toBe(
      before?.metadata?.resourceVersion,
    );
    expect(s.aws.callCount({ action: 'GetAuthorizationToken' })).toBe(calls);
    expect(await renewer.metricValue('secret_renewals_total')).toBe(0);
    expect(await watcher.metricValue('eatr_jobs_enqueued_total', { reason: 'credentials' })).toBe(
      0,
    );

    // A change of the keys themselves renews every Secret of that registry at once, through one
    // sweep that enqueues them as events (not bulk work).
    const onChange = await jobsAddedDuring(async () => {
      await s.rotateCredentials(EU, OTHER_KEYS);
      for (const n of fleet)
        await s.waitForSecret(
          n,
          EU,
          (secret) =>
            secret.metadata?.annotations?.['eatr.io/credentials-version'] !==
            before?.metadata?.annotations?.['eatr.io/credentials-version'],
        );
    });
    // (Scheduled sweeps, named without a reason, may run meanwhile.)
    expect(onChange.filter((job) => job.startsWith(`${SWEEP_JOB}:`))).toEqual([
      `${SWEEP_JOB}:credentials:`,
    ]);
    for (const n of fleet) expect(onChange).toContain(`sync-namespace:credentials:${n}`);
    // The renewer saw both changes on its own watch (the watcher reads no Secret): two sweeps in all.
    expect(await sweeps()).toBe(2);
  });

  it('a ServiceAccount created after the namespace sync gets its entry at once, and a removed entry comes back', async () => {
    await s.createCredentialSecret(EU);
    const renewer = await s.start('renewer');
    const watcher = await s.start('watcher', leaseEnv('late-sa'));
    await s.waitFor('leadership and synced watches', () => watcher.ready());
    const ns = `late-sa-${Date.now().toString(36)}`;
    await s.core.createNamespace({ body: { metadata: { name: ns, labels: { [EU]: 'true' } } } });
    await s.waitForSecret(ns, EU);
    // Nothing waits or is delayed for it any more (drained counts delayed jobs, such as a delayed
    // follow-up): only the ServiceAccount watch can act now. The next sweep is 5 minutes away.
    await s.drained();
    const saSyncs = () =>
      renewer.logs.filter(
        (l) => l.msg === LogMessage.syncDone && l.namespace === ns && l.reason === 'serviceaccount',
      ).length;
    expect(saSyncs()).toBe(0);

    await s.core.createNamespacedServiceAccount({
      namespace: ns,
      body: { metadata: { name: 'default' }, imagePullSecrets: [{ name: 'mine' }] },
    });
    const wired = await s.waitForServiceAccountEntry(ns, EU);
    expect(wired.imagePullSecrets?.map((r) => r.name)).toEqual(['mine', EU]);
    await s.waitFor('the ServiceAccount event to have run a sync', () =>
      Promise.resolve(saSyncs() >= 1),
    );
    await s.drained(); // including any sync eatr's own patch caused
    const beforeRepair = saSyncs();

    // A GitOps tool puts the ServiceAccount back as it is in git: without eatr's entry.
    await s.core.patchNamespacedServiceAccount({
      namespace: ns,
      name: 'default',
      body: [{ op: 'replace', path: '/imagePullSecrets', value: [{ name: 'mine' }] }],
    });
    const repaired = await s.waitForServiceAccountEntry(ns, EU);
    expect(repaired.imagePullSecrets?.map((r) => r.name)).toEqual(['mine', EU]);
    await s.waitFor('the change to have run another ServiceAccount sync', () =>
      Promise.resolve(saSyncs() > beforeRepair),
    );
  });

  it('a namespace blocked by missing credentials is reported once and not re-synced by sweeps until they exist', async () => {
    await s.createCredentialSecret(EU);
    const renewer = await s.start('renewer');
    const watcher = await s.start('watcher', { ...leaseEnv('blocked'), EATR_SWEEP_INTERVAL: '2s' });
    await s.waitFor('leadership and synced watches', () => watcher.ready());
    const ns = await s.createNamespace('blocked', [EU, US]); // no credentials for US
    await s.waitForSecret(ns, EU);
    await s.waitFor(
      'a TokenFailed Event',
      async () => (await s.events(ns, EventReason.TokenFailed)).length > 0,
    );

    await s.drained();
    const syncsOf = () =>
      renewer.logs.filter((l) => l.msg === LogMessage.syncDone && l.namespace === ns).length;
    const syncsBefore = syncsOf();
    const sweepsBefore = await renewer.metricValue('eatr_sweeps_total');
    await s.waitFor(
      'three sweeps',
      async () => (await renewer.metricValue('eatr_sweeps_total')) >= sweepsBefore + 3,
      20_000,
    );
    await s.drained();
    expect(syncsOf()).toBe(syncsBefore);
    expect((await s.events(ns, EventReason.TokenFailed)).length).toBe(1);
    const sweepLines = renewer.logs.filter((l) => l.msg === LogMessage.sweepDone);
    // Counted over the whole (shared) cluster: other tests' namespaces may be blocked too.
    expect(sweepLines.at(-1)?.blocked).toBeGreaterThanOrEqual(1);

    await s.createCredentialSecret(US);
    await s.waitForSecret(ns, US, () => true, 10_000);
  });

  it('a labelled namespace jumps a backlog of 2,000 sweep jobs', async () => {
    await s.createCredentialSecret(EU);
    const watcher = await s.start('watcher', leaseEnv('backlog'));
    await s.waitFor('leadership and synced watches', () => watcher.ready());
    // Sweep work for namespaces that do not exist (each costs the renewer a lookup): a backlog.
    for (let i = 0; i < 2000; i += 100)
      await Promise.all(
        Array.from({ length: 100 }, (_, j) =>
          enqueueSync(s.queue, { namespace: `backlog-${i + j}`, reason: 'sweep' }),
        ),
      );
    expect(await s.queue.getPrioritizedCount()).toBe(2000);
    await s.start('renewer', { EATR_KUBE_API_QPS: '20', EATR_KUBE_API_BURST: '20' });
    const ns = await s.createNamespace('urgent', []);
    const started = Date.now();
    await s.setLabels(ns, { [EU]: 'true' });
    // Each backlog job costs a GET at 20 requests/s: 1,000 of them take 50 s. Arriving while more
    // than 1,000 wait proves it jumped the backlog, however slow the machine; the time is a figure.
    await s.waitForSecret(ns, EU, () => true, 45_000);
    const latencyMs = Date.now() - started;
    const left = await s.queue.getPrioritizedCount();
    console.log(
      `[figure] label-to-Secret latency behind a 2,000-job backlog: ${latencyMs} ms (${left} left)`,
    );
    expect(left).toBeGreaterThan(1000);
  }, 120_000);
});

describe('scale: credential sweeps', () => {
  it('are one job however often a credential Secret changes while one waits, waiting for the newest version', async () => {
    // No renewer runs: the first sweep stays waiting while the others arrive.
    expect(await enqueueCredentialSweep(s.queue, '100')).toBe(true);
    expect(await enqueueCredentialSweep(s.queue, '120')).toBe(false);
    expect(await enqueueCredentialSweep(s.queue, '110')).toBe(false);
    const waiting = await s.queue.getJobs(['waiting', 'prioritized']);
    expect(waiting.map((j) => [j.name, j.data as unknown])).toEqual([
      [
        SWEEP_JOB,
        {
          v: JOB_FORMAT,
          reason: 'credentials',
          waitFor: [{ resource: 'credentials', resourceVersion: '120' }],
        },
      ],
    ]);
    // A scheduled sweep does not swallow it (nor the other way round).
    await enqueueSweep(s.queue);
    expect((await s.queue.getJobs(['waiting', 'prioritized'])).length).toBe(2);
  });
});

describe('scale: a refused ServiceAccount change', () => {
  it('is reported once and not patched again by every sweep', async () => {
    const admission = kubeClients(s.kubeconfigPath).kubeConfig.makeApiClient(
      AdmissionregistrationV1Api,
    );
    const lock = uniqueName('locked');
    const policy = `eatr-test-${lock}`;
    await admission.createValidatingAdmissionPolicy({
      body: {
        metadata: { name: policy },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: {
            resourceRules: [
              {
                apiGroups: [''],
                apiVersions: ['v1'],
                operations: ['UPDATE'],
                resources: ['serviceaccounts'],
              },
            ],
            namespaceSelector: { matchLabels: { 'eatr-test-lock': lock } },
          },
          validations: [
            { expression: 'false', message: 'ServiceAccounts here are managed by GitOps' },
          ],
        },
      },
    });
    await admission.createValidatingAdmissionPolicyBinding({
      body: {
        metadata: { name: policy },
        spec: { policyName: policy, validationActions: ['Deny'] },
      },
    });
    try {
      const ns = uniqueName('locked-sa');
      await s.core.createNamespace({
        body: { metadata: { name: ns, labels: { 'eatr-test-lock': lock } } },
      });
      await s.core.createNamespacedServiceAccount({
        namespace: ns,
        body: { metadata: { name: 'default' } },
      });
      // The API server loads a new policy within a moment: wait until it refuses a change.
      await s.waitFor('the policy to be in force', async () => {
        try {
          await s.core.patchNamespacedServiceAccount({
            namespace: ns,
            name: 'default',
            body: [{ op: 'add', path: '/imagePullSecrets', value: [] }],
            dryRun: 'All',
          });
          return false;
        } catch {
          return true;
        }
      });

      await s.createCredentialSecret(EU);
      const renewer = await s.start('renewer');
      const watcher = await s.start('watcher', {
        ...leaseEnv('locked'),
        EATR_SWEEP_INTERVAL: '2s',
      });
      await s.waitFor('leadership and synced watches', () => watcher.ready());
      await s.setLabels(ns, { [EU]: 'true' });
      await s.waitForSecret(ns, EU);
      await s.waitFor('a ServiceAccountFailed Event', async () =>
        (await s.events(ns, EventReason.ServiceAccountFailed)).length > 0 ? true : undefined,
      );
      const syncsOfNamespace = () =>
        renewer.logs.filter((l) => l.namespace === ns && l.msg === LogMessage.syncDone).length;
      const before = syncsOfNamespace();
      const sweeps = await renewer.metricValue('eatr_sweeps_total');
      await s.waitFor(
        'three more sweeps',
        async () => (await renewer.metricValue('eatr_sweeps_total')) >= sweeps + 3,
        20_000,
      );
      await s.drained();
      expect(syncsOfNamespace()).toBe(before); // no sweep synced it again
      const events = await s.events(ns, EventReason.ServiceAccountFailed);
      expect(events.length).toBe(1);
      expect(events[0]?.message).toContain('managed by GitOps');
      const sa = await s.core.readNamespacedServiceAccount({ namespace: ns, name: 'default' });
      expect(sa.imagePullSecrets ?? []).toEqual([]);
    } finally {
      await admission.deleteValidatingAdmissionPolicyBinding({ name: policy });
      await admission.deleteValidatingAdmissionPolicy({ name: policy });
    }
  });
});
