import { ApiException, Watch } from '@kubernetes/client-node';
import type { V1Namespace } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { harness, kubeClients, uniqueName } from '../../harness/index.js';

const SMOKE_LABEL = 'test.eatr.io/smoke';

describe('harness kube-apiserver: Namespaces', () => {
  const { core, kubeConfig } = kubeClients(harness().kubeconfigPath);
  const created: string[] = [];

  async function createNamespace(name: string): Promise<void> {
    await core.createNamespace({ body: { metadata: { name, labels: { [SMOKE_LABEL]: name } } } });
    created.push(name);
  }

  // Without a controller-manager a deleted Namespace stays Terminating; that is harmless.
  afterAll(async () => {
    for (const name of created) {
      await core.deleteNamespace({ name }).catch((error: unknown) => {
        if (!(error instanceof ApiException && error.code === 404)) throw error;
      });
    }
  });

  it('creates a Namespace and lists it by label', async () => {
    const name = uniqueName('smoke-ns');
    await createNamespace(name);

    const list = await core.listNamespace({ labelSelector: `${SMOKE_LABEL}=${name}` });
    expect(list.items.map((ns) => ns.metadata?.name)).toEqual([name]);
    expect(list.items[0]?.status?.phase).toBe('Active');
  });

  it('delivers the ADDED event of a Namespace created after a Watch started', async () => {
    const name = uniqueName('smoke-watch');
    const labelSelector = `${SMOKE_LABEL}=${name}`;
    // Watching from the list's resourceVersion: an ADDED event can only come from the create below.
    const { metadata } = await core.listNamespace({ labelSelector });
    const seen: { events: Array<{ type: string; name: string | undefined }>; ended?: string } = {
      events: [],
    };
    const controller = await new Watch(kubeConfig).watch(
      '/api/v1/namespaces',
      { labelSelector, resourceVersion: metadata?.resourceVersion },
      (type: string, ns: V1Namespace) => seen.events.push({ type, name: ns.metadata?.name }),
      (error: unknown) => (seen.ended ??= String(error)),
    );
    try {
      await createNamespace(name);
      // Also compares `ended`, so a watch that broke shows its error in the failure.
      await expect
        .poll(() => ({ ...seen }), { timeout: 10_000 })
        .toEqual({ events: [{ type: 'ADDED', name }] });
    } finally {
      controller.abort();
    }
  });
});
