import { AuthenticationV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  apiOutcome as outcome,
  harness,
  kubeClients,
  kubeconfigForServiceAccount,
  uniqueName,
} from '../../harness/index.js';

describe('harness kube-apiserver: RBAC', () => {
  it('denies a ServiceAccount a call RBAC does not grant (403), and allows it after a RoleBinding', async () => {
    const admin = kubeClients(harness().kubeconfigPath);
    const namespace = uniqueName('smoke-rbac');
    const saKubeconfig = await kubeconfigForServiceAccount(namespace, 'reader', {
      ensureExists: true,
    });
    const sa = kubeClients(saKubeconfig);

    // The kubeconfig really carries that ServiceAccount's identity.
    const review = await sa.kubeConfig
      .makeApiClient(AuthenticationV1Api)
      .createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe(`system:serviceaccount:${namespace}:reader`);

    expect(await outcome(sa.core.listNamespacedSecret({ namespace }))).toBe(403);

    await admin.rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'secret-reader' },
        rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] }],
      },
    });
    await admin.rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'secret-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'secret-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace }],
      },
    });

    // The RBAC authorizer reads Roles through an informer: the grant applies within moments.
    await expect
      .poll(() => outcome(sa.core.listNamespacedSecret({ namespace })), { timeout: 10_000 })
      .toBe('allowed');
    // Only what was granted: no writes, nothing outside the namespace.
    const secret = { metadata: { name: 'nope' }, stringData: { a: 'b' } };
    expect(await outcome(sa.core.createNamespacedSecret({ namespace, body: secret }))).toBe(403);
    expect(await outcome(sa.core.listSecretForAllNamespaces())).toBe(403);
  });
});
