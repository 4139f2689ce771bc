import type { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import {
  ARGOCD_REPO_CREDS,
  ARGOCD_SECRET_TYPE_LABEL,
  DOCKER_CONFIG_JSON_TYPE,
  MANAGED_SELECTOR,
  PARTIAL_OBJECT_METADATA_LIST,
  ResilientWatch,
  isAtLeast,
  isWired,
  serviceAccountSelectors,
  type ServiceAccountSelector,
  credentialSecretName,
  registryOfCredentialSecret,
  type CachedResource,
  type Logger,
  type WatchEventType,
  setHeaderOptions,
} from '@eatr/core';
import {
  projectCredentials,
  projectNamespace,
  projectServiceAccount,
  projectWatchedSecret,
  type CachedCredentials,
  type CachedNamespace,
  type CachedSecret,
  type CachedServiceAccount,
} from './projections.js';

export interface ClusterCacheOptions {
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly hostNamespace: string;
  /**
   * The ServiceAccounts eatr wires (`*` for all, or names); those labelled eatr.io/pull-secrets are
   * watched too, whatever the list.
   */
  readonly serviceAccounts: '*' | readonly string[];
  /** The only namespaces served (--served-namespaces): Secrets are watched there alone. */
  readonly servedNamespaces?: ReadonlySet<string> | undefined;
  /** Argo CD's namespace when eatr keeps repository credentials there (--argocd-registries). */
  readonly argoCdNamespace?: string | undefined;
  /** Restart a watch that delivered nothing for this long. */
  readonly watchTimeoutMs: number;
  /** The install's key for credential digests (--digest-key); unkeyed without. */
  readonly digestKey?: Buffer;
  readonly log: Logger;
  /** Called when a namespace is deleted (to drop its metric series). */
  readonly onNamespaceDeleted?: (namespace: string) => void;
  /** Called when one of eatr's Secrets is deleted, by any replica (to drop its metric series). */
  readonly onSecretDeleted?: (namespace: string, name: string) => void;
  readonly onRestart?: (resource: string) => void;
  /**
   * Called when a credential Secret of the host namespace changes after the first list (a key
   * rotation, an access annotation edited, a Secret created or deleted).
   */
  readonly onCredentialsChanged?: (registry: string, resourceVersion: string) => void;
}

/** eatr writes only this type: the API server filters out every other Secret carrying eatr's label. */
const PULL_SECRETS = `type=${DOCKER_CONFIG_JSON_TYPE}`;
/** ...and, in Argo CD's namespace alone, Opaque repository credentials with Argo CD's label. */
const REPO_CREDS = {
  labelSelector: `${MANAGED_SELECTOR},${ARGOCD_SECRET_TYPE_LABEL}=${ARGOCD_REPO_CREDS}`,
  fieldSelector: 'type=Opaque',
};
/**
 * Pages of eatr's Secrets: metadata only, but a tenant can label Secrets of theirs as eatr's with up to
 * 256 KiB of annotations each, so a page is bounded to ~12 MiB however they are written.
 */
const SECRET_PAGE_SIZE = 50;

/** A watch of ServiceAccounts, its index by namespace, and which ServiceAccounts it indexes. */
interface AccountWatch {
  readonly watch: ResilientWatch<CachedServiceAccount>;
  readonly byNamespace: Map<string, Set<string>>;
  readonly holds: (sa: CachedServiceAccount) => boolean;
}

/** The key of the one cluster-wide watch of eatr's Secrets (no namespace is named so). */
const ALL = '*';

const byNamespaceAndName = (o: { metadata: { namespace: string; name: string } }) =>
  `${o.metadata.namespace}/${o.metadata.name}`;

/**
 * The renewer's view of the cluster, fed by four watches: namespaces, eatr's Secrets (by label),
 * the wired ServiceAccounts and the credential Secrets of the host namespace. Syncs and sweeps read
 * here instead of asking the API server, so a sync with nothing to do costs no request. Each entry is
 * a small projection (see projections.ts); the watches index eatr's Secrets and ServiceAccounts by
 * namespace for the per-namespace reads.
 */
export class ClusterCache {
  readonly namespaces: ResilientWatch<CachedNamespace>;
  /** eatr's Secrets: one watch per served namespace, or one under ALL for the whole cluster. */
  private readonly secretWatches = new Map<string, ResilientWatch<CachedSecret>>();
  /** eatr's Argo CD repository credentials (another type, so another watch); with --argocd-registries. */
  private readonly repoCreds: ResilientWatch<CachedSecret> | undefined;
  /** One watch of every ServiceAccount, or one by name and one by eatr.io/pull-secrets label. */
  private readonly accountWatches: AccountWatch[] = [];
  /**
   * ServiceAccounts whose eatr.io/pull-secrets label was removed (they left the label watch) while they
   * hold entries eatr added: kept until a sync removes those entries.
   */
  private readonly released = new Map<string, CachedServiceAccount>();
  readonly credentials: ResilientWatch<CachedCredentials>;
  private readonly secretsByNamespace = new Map<string, Set<string>>();

  constructor(private readonly options: ClusterCacheOptions) {
    const { kubeConfig, core, log, watchTimeoutMs } = options;
    const common = {
      kubeConfig,
      log,
      stallTimeoutMs: watchTimeoutMs,
    };
    this.namespaces = new ResilientWatch<CachedNamespace>({
      ...common,
      resource: 'namespaces',
      path: '/api/v1/namespaces',
      list: (page) => core.listNamespace(page),
      project: projectNamespace,
      onEvent: (type, ns) => {
        if (type === 'DELETED') options.onNamespaceDeleted?.(ns.metadata.name);
      },
      onRestart: () => options.onRestart?.('namespaces'),
    });
    // Served namespaces only (--served-namespaces): the renewer may read Secrets there alone, so
    // one watch each; otherwise one cluster-wide watch.
    const scopes = options.servedNamespaces ? [...options.servedNamespaces] : [undefined];
    for (const namespace of scopes)
      this.secretWatches.set(namespace ?? ALL, this.secretWatch(namespace));
    if (options.argoCdNamespace)
      this.repoCreds = this.secretWatch(options.argoCdNamespace, REPO_CREDS, 'Opaque');
    const targets = options.serviceAccounts;
    const accountWatch = (
      holds: (sa: CachedServiceAccount) => boolean,
      selector: ServiceAccountSelector,
    ): AccountWatch => {
      const byNamespace = new Map<string, Set<string>>();
      const watch = new ResilientWatch<CachedServiceAccount>({
        ...common,
        resource: 'serviceaccounts',
        path: '/api/v1/serviceaccounts',
        ...selector,
        list: (page) => core.listServiceAccountForAllNamespaces({ ...page, ...selector }),
        project: projectServiceAccount,
        keyOf: byNamespaceAndName,
        onEvent: (type, sa) => {
          const key = byNamespaceAndName(sa);
          if (type !== 'DELETED') this.released.delete(key);
          else if (
            selector.labelSelector &&
            sa.observed.addedByEatr.length > 0 &&
            !isWired({ name: sa.metadata.name }, targets)
          )
            // Left the label watch: deleted, or unlabelled. Either way eatr's entries must go; a
            // sync finds out which (a ServiceAccount that is gone answers 404 and is forgotten).
            this.released.set(key, {
              ...sa,
              observed: { ...sa.observed, pullSecretsLabel: undefined },
            });
          this.index(byNamespace, holds(sa) ? type : 'DELETED', sa);
        },
        onRestart: () => options.onRestart?.('serviceaccounts'),
      });
      return { watch, byNamespace, holds };
    };
    // What a sync must see: the wired ones, the labelled ones (`false` too: their entries go), and
    // any that holds entries eatr added (a name taken off the list).
    const relevant = (sa: CachedServiceAccount) =>
      isWired(sa.observed, targets) ||
      sa.observed.pullSecretsLabel !== undefined ||
      sa.observed.addedByEatr.length > 0;
    for (const selector of serviceAccountSelectors(targets)) {
      // What the API server lets through that selector (a remembered write must not add others).
      const selected = (sa: CachedServiceAccount) =>
        selector.fieldSelector
          ? selector.fieldSelector === `metadata.name=${sa.metadata.name}`
          : selector.labelSelector === undefined || sa.observed.pullSecretsLabel !== undefined;
      this.accountWatches.push(accountWatch((sa) => selected(sa) && relevant(sa), selector));
    }
    this.credentials = new ResilientWatch<CachedCredentials>({
      ...common,
      resource: 'credentials',
      path: `/api/v1/namespaces/${options.hostNamespace}/secrets`,
      list: (page) => core.listNamespacedSecret({ namespace: options.hostNamespace, ...page }),
      project: (raw) => projectCredentials(raw, options.digestKey),
      onEvent: (type, secret, previous) => {
        // The first list only tells what exists (the start-up sweep covers it).
        if (!this.credentials.isSynced) return;
        const registry = registryOfCredentialSecret(secret.metadata.name);
        if (registry === undefined) return;
        if (
          type === 'MODIFIED' &&
          previous?.metadata.resourceVersion === secret.metadata.resourceVersion
        )
          return;
        options.onCredentialsChanged?.(registry, secret.metadata.resourceVersion);
      },
      onRestart: () => options.onRestart?.('credentials'),
    });
  }

  /** The watch of eatr's Secrets in `namespace` (or in the whole cluster). */
  private secretWatch(
    namespace: string | undefined,
    selectors: { labelSelector: string; fieldSelector: string } = {
      labelSelector: MANAGED_SELECTOR,
      fieldSelector: PULL_SECRETS,
    },
    type: string = DOCKER_CONFIG_JSON_TYPE,
  ): ResilientWatch<CachedSecret> {
    const { core, kubeConfig, log, watchTimeoutMs, onSecretDeleted, onRestart } = this.options;
    const metadataOnly = setHeaderOptions('Accept', PARTIAL_OBJECT_METADATA_LIST);
    return new ResilientWatch<CachedSecret>({
      kubeConfig,
      log,
      stallTimeoutMs: watchTimeoutMs,
      resource: 'secrets',
      path: namespace ? `/api/v1/namespaces/${namespace}/secrets` : '/api/v1/secrets',
      ...selectors,
      // The Secrets' data (tokens, or whatever a tenant put in a Secret labelled as eatr's) never
      // reaches this process: writes send it, nothing reads it back.
      metadataOnly: true,
      pageSize: SECRET_PAGE_SIZE,
      list: (page) =>
        namespace
          ? core.listNamespacedSecret({ namespace, ...page, ...selectors }, metadataOnly)
          : core.listSecretForAllNamespaces({ ...page, ...selectors }, metadataOnly),
      // Metadata carries no type: the field selector says which it is.
      project: (raw) => projectWatchedSecret(raw, type),
      keyOf: byNamespaceAndName,
      onEvent: (event, s) => {
        if (type === DOCKER_CONFIG_JSON_TYPE) this.index(this.secretsByNamespace, event, s);
        if (event === 'DELETED') onSecretDeleted?.(s.metadata.namespace, s.metadata.name);
      },
      onRestart: () => onRestart?.('secrets'),
    });
  }

  private secretWatchOf(namespace: string): ResilientWatch<CachedSecret> | undefined {
    return this.secretWatches.get(ALL) ?? this.secretWatches.get(namespace);
  }

  private get all(): ResilientWatch<{ metadata?: { name?: string } }>[] {
    return [
      this.namespaces,
      ...this.secretWatches.values(),
      this.repoCreds,
      ...this.accountWatches.map((a) => a.watch),
      this.credentials,
    ].filter((w): w is NonNullable<typeof w> => w !== undefined);
  }

  start(): void {
    for (const watch of this.all) watch.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.all.map((w) => w.stop()));
  }

  /** True once every watch has delivered its first list. */
  get isSynced(): boolean {
    return this.all.every((w) => w.isSynced);
  }

  /** Resolves once every watch has listed (polls; only used at start-up). */
  async synced(signal?: AbortSignal): Promise<void> {
    while (!this.isSynced && !signal?.aborted) await new Promise((r) => setTimeout(r, 20));
  }

  /** Waits (bounded) until the watch of `resource` has seen `resourceVersion`. */
  waitFor(resource: CachedResource, resourceVersion: string, timeoutMs: number): Promise<boolean> {
    if (resource === 'namespaces')
      return this.namespaces.waitForVersion(resourceVersion, timeoutMs);
    if (resource === 'credentials')
      return this.credentials.waitForVersion(resourceVersion, timeoutMs);
    // The ServiceAccount that changed is in one of the watches (by name or by label): whichever
    // reaches the version first has it.
    const watches = this.accountWatches.map((a) => a.watch);
    if (watches.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      let pending = watches.length;
      for (const watch of watches)
        void watch.waitForVersion(resourceVersion, timeoutMs).then((reached) => {
          if (reached) resolve(true);
          else if (--pending === 0) resolve(false);
        });
    });
  }

  namespace(name: string): CachedNamespace | undefined {
    return this.namespaces.get(name);
  }

  allNamespaces(): Iterable<CachedNamespace> {
    return this.namespaces.objects.values();
  }

  /** True once every watch of eatr's Secrets has delivered its first list. */
  get secretsSynced(): boolean {
    return [...this.secretWatches.values(), this.repoCreds].every((w) => w?.isSynced ?? true);
  }

  /** The namespaces where eatr's Secrets are. */
  namespacesWithSecrets(): Iterable<string> {
    const argoCd = this.options.argoCdNamespace;
    if (!argoCd || this.repoCreds?.objects.size === 0 || this.secretsByNamespace.has(argoCd))
      return this.secretsByNamespace.keys();
    return [...this.secretsByNamespace.keys(), argoCd];
  }

  /** eatr's Secrets in a namespace. */
  secretsIn(namespace: string): CachedSecret[] {
    const watch = this.secretWatchOf(namespace);
    const pull = watch ? this.lookup(watch, this.secretsByNamespace, namespace) : [];
    if (namespace !== this.options.argoCdNamespace || !this.repoCreds) return pull;
    return [...pull, ...this.repoCreds.objects.values()];
  }

  /**
   * The ServiceAccounts of a namespace a sync decides about: wired (by the list or their label),
   * labelled `false`, or holding entries eatr added.
   */
  serviceAccountsIn(namespace: string): CachedServiceAccount[] {
    const byName = new Map<string, CachedServiceAccount>();
    for (const { watch, byNamespace } of this.accountWatches)
      for (const sa of this.lookup(watch, byNamespace, namespace)) {
        const known = byName.get(sa.metadata.name);
        if (!known || !isAtLeast(known.metadata.resourceVersion, sa.metadata.resourceVersion))
          byName.set(sa.metadata.name, sa);
      }
    for (const sa of this.released.values())
      if (sa.metadata.namespace === namespace && !byName.has(sa.metadata.name))
        byName.set(sa.metadata.name, sa);
    return [...byName.values()];
  }

  credentialsFor(registry: string): CachedCredentials | undefined {
    return this.credentials.get(credentialSecretName(registry));
  }

  /** Records a Secret this process wrote, so its next read sees it before the watch echoes it. */
  rememberSecret(secret: CachedSecret): void {
    if (
      this.repoCreds &&
      secret.observed.type !== DOCKER_CONFIG_JSON_TYPE &&
      secret.metadata.namespace === this.options.argoCdNamespace
    ) {
      this.repoCreds.remember(secret);
      return;
    }
    const watch = this.secretWatchOf(secret.metadata.namespace);
    if (!watch) return;
    watch.remember(secret);
    this.index(this.secretsByNamespace, 'ADDED', secret);
  }

  forgetSecret(namespace: string, name: string): void {
    this.secretWatchOf(namespace)?.forget(`${namespace}/${name}`);
    if (namespace === this.options.argoCdNamespace) this.repoCreds?.forget(`${namespace}/${name}`);
    this.secretsByNamespace.get(namespace)?.delete(name);
  }

  /** Records a ServiceAccount this process read or patched, in each watch that would hold it. */
  rememberServiceAccount(sa: CachedServiceAccount): void {
    for (const { watch, byNamespace, holds } of this.accountWatches) {
      if (!holds(sa)) continue;
      watch.remember(sa);
      this.index(byNamespace, 'ADDED', sa);
    }
    if (sa.observed.addedByEatr.length === 0 || sa.observed.pullSecretsLabel !== undefined)
      this.released.delete(byNamespaceAndName(sa));
  }

  /** A ServiceAccount the API server no longer has (a patch or read answered 404). */
  serviceAccountGone(namespace: string, name: string): void {
    this.released.delete(`${namespace}/${name}`);
  }

  private lookup<T>(
    watch: ResilientWatch<T & { metadata?: { name?: string } }>,
    index: Map<string, Set<string>>,
    namespace: string,
  ): T[] {
    const out: T[] = [];
    for (const name of index.get(namespace) ?? []) {
      const item = watch.get(`${namespace}/${name}`);
      if (item) out.push(item);
    }
    return out;
  }

  private index(
    index: Map<string, Set<string>>,
    type: WatchEventType,
    o: { metadata: { namespace: string; name: string } },
  ): void {
    const { namespace, name } = o.metadata;
    if (type === 'DELETED') {
      const names = index.get(namespace);
      names?.delete(name);
      if (names?.size === 0) index.delete(namespace);
      return;
    }
    let names = index.get(namespace);
    if (!names) index.set(namespace, (names = new Set()));
    names.add(name);
  }
}
