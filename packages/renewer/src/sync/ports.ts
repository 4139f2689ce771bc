import type { V1Secret } from '@kubernetes/client-node';
import type {
  AccessRule,
  BlockedEntry,
  BlockedKey,
  CachedResource,
  NamespaceEvent,
  ObservedPod,
  ProbeJobData,
  RegistryHost,
  RenewerConfig,
  SyncJobData,
  TenantRole,
} from '@eatr/core';
import type { CachedNamespace, CachedSecret, CachedServiceAccount } from '../cache/projections.js';
import type { CredentialState, ResolvedCredentials } from '../credentials/credential-resolver.js';
import type { EcrToken } from '../aws/ecr-token-client.js';
import type { TokenRequestOptions } from '../tokens/token-cache.js';

/*
 * What a sync and a sweep do to the world, each behind a narrow interface: the renewer wires the
 * Kubernetes, Redis and ECR implementations (kube-ports.ts, BlockedStore, TokenService), the
 * component tests in-memory fakes that record every call.
 */

/** The settings a sync reads. */
export type SyncSettings = Pick<
  RenewerConfig,
  | 'globalRegistries'
  | 'includeNamespaces'
  | 'excludeNamespaces'
  | 'secretNameTemplate'
  | 'serviceAccounts'
  | 'renewalIntervalMs'
  | 'dockerEmail'
  | 'instance'
  | 'maxRegistriesPerNamespace'
  | 'defaultAccess'
  | 'tenantRoles'
  | 'servedNamespaces'
  | 'argoCd'
  | 'recoverStuckPods'
  | 'secretLabels'
  | 'secretAnnotations'
>;

/** The cluster as the renewer's watches see it: read-only, no API request. */
export interface ClusterView {
  /** Waits (bounded) until the watch of `resource` has seen `resourceVersion`; false on timeout. */
  waitFor(resource: CachedResource, resourceVersion: string, timeoutMs: number): Promise<boolean>;
  namespace(name: string): CachedNamespace | undefined;
  allNamespaces(): Iterable<CachedNamespace>;
  /** eatr's Secrets in a namespace. */
  secretsIn(namespace: string): CachedSecret[];
  /** The wired ServiceAccounts of a namespace. */
  serviceAccountsIn(namespace: string): CachedServiceAccount[];
}

/**
 * Reads and writes through the API server. Errors are the API client's (`code` is the HTTP status);
 * a read of something absent resolves undefined. What is written is seen by the next read of the
 * ClusterView at once, before its watch echoes it.
 */
export interface KubeWrites {
  readNamespace(name: string): Promise<CachedNamespace | undefined>;
  readSecret(namespace: string, name: string): Promise<V1Secret | undefined>;
  createSecret(namespace: string, body: V1Secret): Promise<V1Secret>;
  /**
   * Merges eatr's labels, annotations and data into the Secret (a JSON merge patch: the owner's other
   * labels and annotations stay), only while it is at `body`'s resourceVersion.
   */
  patchSecret(namespace: string, name: string, body: V1Secret): Promise<V1Secret>;
  /** With `resourceVersion`, deletes only that exact version. */
  deleteSecret(namespace: string, name: string, resourceVersion?: string): Promise<void>;
  /**
   * Secrets not managed by eatr with this name, at least in `namespaces` (those a conflict blocks):
   * `namespace` -> resourceVersion.
   */
  foreignSecretVersions(
    name: string,
    namespaces: ReadonlySet<string>,
  ): Promise<{ versions: Map<string, string>; requests: number }>;
  readServiceAccount(namespace: string, name: string): Promise<CachedServiceAccount | undefined>;
  /** Sets imagePullSecrets and eatr's annotation, only if the ServiceAccount is still at `resourceVersion`. */
  patchServiceAccount(namespace: string, name: string, patch: ServiceAccountPatch): Promise<void>;
}

/** The Pods of a namespace, for --recover-stuck-pods (the only reads and writes of Pods eatr makes). */
export interface PodAccess {
  listPods(namespace: string): Promise<ObservedPod[]>;
  /** Deletes the Pod only while it is the one observed (its uid): a recreated one is never hit. */
  deletePod(namespace: string, name: string, uid: string): Promise<void>;
}

/** A ServiceAccount's new imagePullSecrets and the entries eatr owns, at the version decided on. */
export interface ServiceAccountPatch {
  readonly resourceVersion: string;
  readonly imagePullSecrets: readonly string[];
  readonly addedByEatr: readonly string[];
}

/** Namespace Events (`kubectl describe namespace`); best effort: a failure is logged, never thrown. */
export interface EventSink {
  record(event: NamespaceEvent): Promise<void>;
}

/** Jobs a sync or sweep asks for. Resolve false when deduplicated. */
export interface JobSink {
  enqueueSync(data: SyncJobData): Promise<boolean>;
  enqueueProbe(data: ProbeJobData): Promise<boolean>;
}

/** What is recorded as blocked, shared by every renewer (BlockedStore in Redis). */
export interface BlockedRecords {
  get(namespace: string, subjects: readonly string[]): Promise<Map<string, BlockedEntry>>;
  all(): Promise<Map<string, BlockedEntry>>;
  set(namespace: string, subject: string, entry: BlockedEntry): Promise<void>;
  clear(namespace: string, subjects: readonly string[]): Promise<void>;
  clearNamespace(namespace: string): Promise<void>;
  clearKeys(keys: readonly string[]): Promise<void>;
  /** The keys of pairs blocked for `registry` by an AWS-side reason. */
  blockedByAws(registry: string): Promise<BlockedKey[]>;
  clearRegistry(registry: string): Promise<BlockedKey[]>;
}

export interface CredentialSource {
  resolve(registry: string): CredentialState;
  /** The credentials of a tenant role the namespace may use. */
  resolveRole(role: TenantRole): CredentialState;
  /** Which namespaces may use the registry's credentials (its Secret's annotation, else the default). */
  access(registry: string): AccessRule;
}

export interface TokenSource {
  token(
    credentials: ResolvedCredentials,
    registry: RegistryHost,
    options?: TokenRequestOptions,
  ): Promise<EcrToken>;
}
