import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import {
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  PARTIAL_OBJECT_METADATA_LIST,
  SERVICE_ACCOUNT_ANNOTATION,
  kubeStatus,
  type ObservedPod,
  PatchStrategy,
  setHeaderOptions,
} from '@eatr/core';
import type { ClusterCache } from '../cache/cluster-cache.js';
import {
  projectNamespace,
  projectSecret,
  projectServiceAccount,
  type CachedNamespace,
  type CachedServiceAccount,
} from '../cache/projections.js';
import type { KubeWrites, PodAccess, ServiceAccountPatch } from './ports.js';

const isManaged = (secret: V1Secret) =>
  secret.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE;

/** A read: 404 is undefined; other errors are the API client's. */
async function read<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (kubeStatus(error) === 404) return undefined;
    throw error;
  }
}

/**
 * KubeWrites over the API server. Every write (and every read of one of eatr's objects) is
 * remembered in the renewer's cache, so the next sync reads it before the watch echoes it.
 */
export class ApiServerWrites implements KubeWrites, PodAccess {
  constructor(
    private readonly core: CoreV1Api,
    private readonly cache: ClusterCache,
    /** --served-namespaces: Secrets may be listed there alone, so never cluster-wide. */
    private readonly servedNamespaces?: ReadonlySet<string>,
  ) {}

  async readNamespace(name: string): Promise<CachedNamespace | undefined> {
    const ns = await read(() => this.core.readNamespace({ name }));
    return ns && projectNamespace(ns);
  }

  async readSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    const secret = await read(() => this.core.readNamespacedSecret({ name, namespace }));
    if (secret && isManaged(secret)) this.cache.rememberSecret(projectSecret(secret));
    return secret;
  }

  async createSecret(namespace: string, body: V1Secret): Promise<V1Secret> {
    const written = await this.core.createNamespacedSecret({ namespace, body });
    this.cache.rememberSecret(projectSecret(written));
    return written;
  }

  async patchSecret(namespace: string, name: string, body: V1Secret): Promise<V1Secret> {
    const written = await this.core.patchNamespacedSecret(
      { name, namespace, body },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    this.cache.rememberSecret(projectSecret(written));
    return written;
  }

  async deleteSecret(namespace: string, name: string, resourceVersion?: string): Promise<void> {
    await this.core.deleteNamespacedSecret({
      name,
      namespace,
      ...(resourceVersion ? { body: { preconditions: { resourceVersion } } } : {}),
    });
    this.cache.forgetSecret(namespace, name);
  }

  async foreignSecretVersions(
    name: string,
    namespaces: ReadonlySet<string>,
  ): Promise<{ versions: Map<string, string>; requests: number }> {
    const versions = new Map<string, string>();
    let requests = 0;
    const selectors = {
      fieldSelector: `metadata.name=${name}`,
      labelSelector: `${MANAGED_BY_LABEL}!=${MANAGED_BY_VALUE}`,
    };
    // Metadata only: a foreign Secret's data never reaches this process.
    const metadataOnly = setHeaderOptions('Accept', PARTIAL_OBJECT_METADATA_LIST);
    const scopes = this.servedNamespaces
      ? [...namespaces].filter((n) => this.servedNamespaces?.has(n))
      : [undefined];
    for (const namespace of scopes) {
      let _continue: string | undefined;
      do {
        requests++;
        const paging = { ...selectors, limit: 500, ...(_continue ? { _continue } : {}) };
        const page = namespace
          ? await this.core.listNamespacedSecret({ namespace, ...paging }, metadataOnly)
          : await this.core.listSecretForAllNamespaces(paging, metadataOnly);
        for (const s of page.items)
          versions.set(s.metadata?.namespace ?? '', s.metadata?.resourceVersion ?? '');
        _continue = page.metadata?._continue;
      } while (_continue);
    }
    return { versions, requests };
  }

  async listPods(namespace: string): Promise<ObservedPod[]> {
    const pods = await this.core.listNamespacedPod({ namespace });
    return pods.items.map((pod) => ({
      name: pod.metadata?.name ?? '',
      uid: pod.metadata?.uid ?? '',
      createdAt: new Date(pod.metadata?.creationTimestamp ?? 0).getTime(),
      deleting: pod.metadata?.deletionTimestamp !== undefined,
      controller: pod.metadata?.ownerReferences?.find((o) => o.controller)?.kind,
      pending: (pod.status?.phase ?? 'Pending') === 'Pending',
      pullSecrets: (pod.spec?.imagePullSecrets ?? []).map((ref) => ref.name ?? ''),
      containers: [
        ...(pod.spec?.initContainers ?? []).map((c) => ({
          image: c.image ?? '',
          waitingReason: pod.status?.initContainerStatuses?.find((st) => st.name === c.name)?.state
            ?.waiting?.reason,
        })),
        ...(pod.spec?.containers.map((c) => ({
          image: c.image ?? '',
          waitingReason: pod.status?.containerStatuses?.find((st) => st.name === c.name)?.state
            ?.waiting?.reason,
        })) ?? []),
      ],
    }));
  }

  async deletePod(namespace: string, name: string, uid: string): Promise<void> {
    await this.core.deleteNamespacedPod({ name, namespace, body: { preconditions: { uid } } });
  }

  async readServiceAccount(
    namespace: string,
    name: string,
  ): Promise<CachedServiceAccount | undefined> {
    const sa = await read(() => this.core.readNamespacedServiceAccount({ name, namespace }));
    if (!sa) {
      this.cache.serviceAccountGone(namespace, name);
      return undefined;
    }
    const projected = projectServiceAccount(sa);
    this.cache.rememberServiceAccount(projected);
    return projected;
  }

  async patchServiceAccount(
    namespace: string,
    name: string,
    patch: ServiceAccountPatch,
  ): Promise<void> {
    // Only imagePullSecrets and eatr's annotation, guarded by the version the decision read.
    const body = {
      metadata: {
        resourceVersion: patch.resourceVersion,
        annotations: {
          [SERVICE_ACCOUNT_ANNOTATION]:
            patch.addedByEatr.length > 0 ? patch.addedByEatr.join(',') : null,
        },
      },
      imagePullSecrets: patch.imagePullSecrets.map((n) => ({ name: n })),
    };
    const written = await this.core
      .patchNamespacedServiceAccount(
        { name, namespace, body },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )
      .catch((error: unknown) => {
        if (kubeStatus(error) === 404) this.cache.serviceAccountGone(namespace, name);
        throw error;
      });
    this.cache.rememberServiceAccount(projectServiceAccount(written));
  }
}
