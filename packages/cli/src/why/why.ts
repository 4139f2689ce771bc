import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import { kubeStatus, planSettingsOf, PULL_SECRETS_LABEL } from '@eatr/core';
import type { Check } from '../doctor-model.js';
import type { Cli } from '../context.js';
import { readBlockedIn, readCredentials } from '../status.js';
import { explainPull } from './explain-pull.js';

/** Reads what `eatr why` needs about one Pod (your kubeconfig, Redis), then explains (pure). */
export async function whyPod(cli: Cli, namespace: string, podName: string): Promise<Check[]> {
  const core = cli.core;
  const pod: V1Pod = await core.readNamespacedPod({ namespace, name: podName });
  const serviceAccount = pod.spec?.serviceAccountName ?? 'default';
  const [ns, secrets, sa, credentials, blocked] = await Promise.all([
    core.readNamespace({ name: namespace }),
    core.listNamespacedSecret({ namespace }).then((l) => l.items),
    core.readNamespacedServiceAccount({ namespace, name: serviceAccount }).then(
      (a) => ({
        imagePullSecrets: (a.imagePullSecrets ?? []).flatMap((r) => (r.name ? [r.name] : [])),
        pullSecretsLabel: a.metadata?.labels?.[PULL_SECRETS_LABEL],
      }),
      (error: unknown) => {
        if (kubeStatus(error) === 404) return undefined;
        throw error;
      },
    ),
    readCredentials(cli),
    readBlockedIn(cli, namespace),
  ]);
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const statuses = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ];
  return explainPull({
    namespace: {
      name: namespace,
      labels: ns.metadata?.labels ?? {},
      annotations: ns.metadata?.annotations,
    },
    pod: {
      name: podName,
      images: containers.map((c) => c.image ?? '').filter((i) => i !== ''),
      imagePullSecrets: (pod.spec?.imagePullSecrets ?? []).flatMap((r) => (r.name ? [r.name] : [])),
      serviceAccount,
      waiting: statuses.flatMap((s) =>
        s.state?.waiting?.reason
          ? [
              {
                image: s.image,
                reason: s.state.waiting.reason,
                message: s.state.waiting.message ?? '',
              },
            ]
          : [],
      ),
    },
    serviceAccount: sa,
    secrets: secrets.map((s: V1Secret) => ({
      name: s.metadata?.name ?? '',
      type: s.type,
      labels: s.metadata?.labels ?? {},
      annotations: s.metadata?.annotations ?? {},
    })),
    blocked,
    settings: planSettingsOf(cli.watcher),
    ...(credentials ? { access: credentials.access } : {}),
    now: Date.now(),
  });
}
