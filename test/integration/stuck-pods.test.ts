import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { EventReason } from '@eatr/core';
import { uniqueName } from '../harness/index.js';
import { Scenario, leaseEnv, registry } from './support/scenario.js';

// --recover-stuck-pods on a real API server: Pods created before their namespace was labelled, in
// ImagePullBackOff on its registry (this tier runs no kubelet, so the test writes the status the
// kubelet would; the real-node tier shows the kubelet's own). Both components run; the label is
// the only thing the test changes.

const EU = registry('eu-west-1');

let s: Scenario;
beforeEach(async () => {
  s = await Scenario.create();
});
afterEach(async () => {
  await s.close();
});

/**
 * A Pod of `image`, owned by a ReplicaSet or bare, that the kubelet reported as unable to pull; or,
 * with `status: 'pending'`, one no kubelet has reported on yet (Pending, as the API server creates
 * it: not scheduled).
 */
async function stuckPod(
  namespace: string,
  name: string,
  image: string,
  owned: boolean,
  options: { status?: 'pull-failed' | 'pending'; pullSecret?: string } = {},
) {
  const pod: V1Pod = {
    metadata: {
      name,
      ...(owned
        ? {
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: 'ReplicaSet',
                name: 'app',
                uid: randomUUID(),
                controller: true,
              },
            ],
          }
        : {}),
    },
    spec: {
      containers: [{ name: 'app', image }],
      ...(options.pullSecret === undefined
        ? {}
        : { imagePullSecrets: [{ name: options.pullSecret }] }),
    },
  };
  const created = await s.core.createNamespacedPod({ namespace, body: pod });
  if (options.status === 'pending') return;
  await s.core.replaceNamespacedPodStatus({
    namespace,
    name,
    body: {
      ...created,
      status: {
        phase: 'Pending',
        containerStatuses: [
          {
            name: 'app',
            image,
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: 'ImagePullBackOff', message: 'pull access denied' } },
          },
        ],
      },
    },
  });
}

const exists = (namespace: string, name: string) =>
  s.core.readNamespacedPod({ namespace, name }).then(
    () => true,
    () => false,
  );

describe('--recover-stuck-pods', () => {
  it("deletes once the controller-owned Pods stuck (or still Pending) on the registry eatr just served; leaves a bare one, another registry's and one naming the Secret itself", async () => {
    await s.createCredentialSecret(EU);
    await s.start('watcher', leaseEnv(uniqueName('lease')));
    await s.start('renewer', { EATR_RECOVER_STUCK_PODS: 'true' });
    const ns = await s.createNamespace('stuck', []);
    await stuckPod(ns, 'app-1', `${EU}/team/app:v1`, true);
    await stuckPod(ns, 'bare', `${EU}/team/app:v1`, false);
    const other = registry('us-east-1');
    await stuckPod(ns, 'elsewhere', `${other}/team/app:v1`, true);
    // Created with the label's apply, not started yet: it would fail as soon as it pulls.
    await stuckPod(ns, 'starting', `${EU}/team/app:v1`, true, { status: 'pending' });
    // Names the Secret eatr is about to write: the kubelet's next attempt uses it.
    await stuckPod(ns, 'names-it', `${EU}/team/app:v1`, true, { pullSecret: EU });

    await s.setLabels(ns, { [EU]: 'true' });
    await s.waitForSecret(ns, EU);
    await s.waitForServiceAccountEntry(ns, EU);
    await s.waitFor('app-1 and starting deleted', async () =>
      (await exists(ns, 'app-1')) || (await exists(ns, 'starting')) ? undefined : true,
    );
    const events = await s.waitFor('a StuckPodLeft Event', async () => {
      const all = await s.events(ns);
      return all.some((e) => e.reason === EventReason.StuckPodLeft) ? all : undefined;
    });
    const recreated = events.filter((e) => e.reason === EventReason.StuckPodRecreated);
    expect(recreated.map((e) => e.message).sort()).toEqual([
      expect.stringContaining('Pod app-1 could not pull its image'),
      expect.stringContaining('Pod starting could not pull its image'),
    ]);
    expect(events.find((e) => e.reason === EventReason.StuckPodLeft)?.message).toContain(
      'Pod bare',
    );
    expect(await exists(ns, 'bare')).toBe(true);
    expect(await exists(ns, 'elsewhere')).toBe(true);
    expect(await exists(ns, 'names-it')).toBe(true);
  }, 90_000);
});
