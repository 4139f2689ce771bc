import type { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import {
  ResilientWatch,
  projectNamespace,
  type CachedNamespace,
  type Logger,
  type WatchEventType,
  type WatcherConfig,
  type WatcherMetrics,
} from '@eatr/core';
import { projectServiceAccount, type WatchedServiceAccount } from './watched-objects.js';

type Handler<T> = (type: WatchEventType, object: T, previous: T | undefined) => void;

export interface LeaderWatchesOptions {
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly config: Pick<WatcherConfig, 'hostNamespace' | 'serviceAccounts' | 'watchTimeoutMs'>;
  readonly onNamespace: Handler<CachedNamespace>;
  readonly onServiceAccount: Handler<WatchedServiceAccount>;
  readonly metrics: WatcherMetrics;
  readonly log: Logger;
}

/**
 * What the leading watcher watches: every Namespace and the ServiceAccounts eatr wires (none when it
 * wires none; a field selector when it wires one name). No Secret: the renewers, which read the
 * credential Secrets anyway, turn their changes into sweeps, so the watcher needs no Secret access.
 */
export class LeaderWatches {
  readonly namespaces: ResilientWatch<CachedNamespace>;
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
    this.serviceAccounts?.start();
  }

  /** Every watch has listed. */
  get synced(): boolean {
    return this.namespaces.isSynced && (this.serviceAccounts?.isSynced ?? true);
  }

  async stop(): Promise<void> {
    await Promise.all([this.namespaces.stop(), this.serviceAccounts?.stop()]);
  }
}
