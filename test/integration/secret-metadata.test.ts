import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INSTANCE_LABEL, MANAGED_BY_LABEL } from '@eatr/core';
import { uniqueName } from '../harness/index.js';
import { Scenario, leaseEnv, registry } from './support/scenario.js';

// --secret-labels and --secret-annotations on a real API server: what GitOps tools and policy
// engines need to see on eatr's Secrets, written at every write and never at the cost of eatr's own.

const EU = registry('eu-west-1');

let s: Scenario;
beforeEach(async () => {
  s = await Scenario.create();
});
afterEach(async () => {
  await s.close();
});

describe('labels and annotations for the tools around eatr', () => {
  it("writes them on create and keeps them on renewal, beside eatr's own and what others added", async () => {
    await s.createCredentialSecret(EU);
    const env = {
      EATR_SECRET_LABELS: 'argocd.argoproj.io/instance=none',
      EATR_SECRET_ANNOTATIONS:
        'argocd.argoproj.io/compare-options=IgnoreExtraneous,argocd.argoproj.io/sync-options=Prune=false',
    };
    await s.start('watcher', leaseEnv(uniqueName('lease')));
    await s.start('renewer', env);
    const ns = await s.createNamespace('gitops', [EU]);
    const created = await s.waitForSecret(ns, EU);
    expect(created.metadata?.labels).toMatchObject({
      'argocd.argoproj.io/instance': 'none',
      [MANAGED_BY_LABEL]: 'eatr',
      [INSTANCE_LABEL]: 'eatr',
    });
    expect(created.metadata?.annotations).toMatchObject({
      'argocd.argoproj.io/compare-options': 'IgnoreExtraneous',
      'argocd.argoproj.io/sync-options': 'Prune=false',
    });

    // Someone else's label on the Secret survives a renewal (eatr merges its own keys only).
    await s.core.replaceNamespacedSecret({
      namespace: ns,
      name: EU,
      body: {
        ...created,
        metadata: { ...created.metadata, labels: { ...created.metadata?.labels, owner: 'team-a' } },
      },
    });
    await s.enqueue(ns, 'renew');
    const renewed = await s.waitForSecret(
      ns,
      EU,
      (x) =>
        x.metadata?.annotations?.['eatr.io/expires-at'] !==
        created.metadata?.annotations?.['eatr.io/expires-at'],
    );
    expect(renewed.metadata?.labels).toMatchObject({
      'argocd.argoproj.io/instance': 'none',
      owner: 'team-a',
      [MANAGED_BY_LABEL]: 'eatr',
    });
    expect(renewed.metadata?.annotations?.['argocd.argoproj.io/sync-options']).toBe('Prune=false');
  });
});
