import { setHeaderOptions, type CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import {
  PARTIAL_OBJECT_METADATA_LIST,
  ResilientWatch,
  projectNamespace,
  type CachedNamespace,
  type Logger,
  type WatchEventType,
  type WatcherConfig,
  type WatcherMetrics,
} from '@eatr/core';
import {
  projectCredentials,
  projectServiceAccount,
  type WatchedCredentials,
  type WatchedServiceAccount,
} from './watched-objects.js';

type Handler<T> = (type: WatchEventType, object: T, previous: T | undefined) => void;

export interface LeaderWatchesOptions {
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly config: Pick<WatcherConfig, 'hostNamespace' | 'serviceAccounts' | 'watchTimeoutMs'>;
  readonly onNamespace: Handler<CachedNamespace>;
  readonly onCredential: Handler<WatchedCredentials>;
  readonly onServiceAccount: Handler<WatchedServiceAccount>;
  readonly metrics: WatcherMetrics;
  readonly log: Logger;
}

/**
 * What the leading watcher watches: every Namespace, the credential Secrets of the host namespace
 * (metadata only: the keys never reach the watcher) and the ServiceAccounts eatr wires (none when it
 * wires none; a field selector when it wires one name).
 */
export class LeaderWatches {
  readonly namespaces: ResilientWatch<CachedNamespace>;
  readonly credentials: ResilientWatch<WatchedCredentials>;
  readonly serviceAccounts: ResilientWatch<WatchedServiceAccount> | undefined;

  constructor(o: LeaderWatchesOptions) {
    const { kubeConfig, core, config, metrics, log } = o;
    const common = { kubeConfig, stallTimeoutMs: config.watchTimeoutMs, log };
    this.namespaces = new ResilientWatch<CachedNamespace>({
      ...common,
      resource: 'namespaces',
      path: '/api/v1/namespaces',
      list: (page) => core.listNamespace(page),
      project: projectNamespace,
      onEvent: o.onNamespace,
      onRestart: () => metrics.watchRestarts.inc({ resource: 'namespaces' }),
    });
    this.credentials = new ResilientWatch<WatchedCredentials>({
      ...common,
      resource: 'credentials',
      path: `/api/v1/namespaces/${config.hostNamespace}/secrets`,
      metadataOnly: true,
      list: (page) =>
        core.listNamespacedSecret(
          { namespace: config.hostNamespace, ...page },
          setHeaderOptions('Accept', PARTIAL_OBJECT_METADATA_LIST),
        ),
      project: projectCredentials,
      onEvent: o.onCredential,
      onRestart: () => metrics.watchRestarts.inc({ resource: 'credentials' }),
    });
    const targets = config.serviceAccounts;
    if (targets === '*' || targets.length > 0) {
      const fieldSelector =
        targets !== '*' && targets.length === 1 ? `metadata.name=${targets[0]}` : undefined;
      this.serviceAccounts = new ResilientWatch<WatchedServiceAccount>({
        ...common,
        resource: 'serviceaccounts',
        path: '/api/v1/serviceaccounts',
        ...(fieldSelector ? { fieldSelector } : {}),
        list: (page) =>
          core.listServiceAccountForAllNamespaces({
            ...page,
            ...(fieldSelector ? { fieldSelector } : {}),
          }),
        project: projectServiceAccount,
        keyOf: (sa) => `${sa.metadata.namespace}/${sa.metadata.name}`,
        onEvent: o.onServiceAccount,
        onRestart: () => metrics.watchRestarts.inc({ resource: 'serviceaccounts' }),
      });
    }
  }

  start(): void {
    this.namespaces.start();
    this.credentials.start();
    this.serviceAccounts?.start();
  }

  /** Every watch has listed. */
  get synced(): boolean {
    return (
      this.namespaces.isSynced &&
      this.credentials.isSynced &&
      (this.serviceAccounts?.isSynced ?? true)
    );
  }

  async stop(): Promise<void> {
    await Promise.all([
      this.namespaces.stop(),
      this.credentials.stop(),
      this.serviceAccounts?.stop(),
    ]);
  }
}
