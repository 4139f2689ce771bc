import { KubeConfig, VersionApi } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { harness, KUBERNETES_VERSION } from '../../harness/index.js';

describe('harness kube-apiserver: version', () => {
  it(`reports the pinned version v${KUBERNETES_VERSION} on /version`, async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(harness().kubeconfigPath);
    const version = await kubeConfig.makeApiClient(VersionApi).getCode();
    // Without the build's ldflags this would say v0.0.0-master, and Helm's kubeVersion checks break.
    expect(version).toMatchObject({
      gitVersion: `v${KUBERNETES_VERSION}`,
      major: '1',
      minor: KUBERNETES_VERSION.split('.')[1],
      gitTreeState: 'clean',
    });
  });
});
