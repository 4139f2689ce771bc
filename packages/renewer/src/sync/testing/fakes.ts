import type { V1Secret, V1ServiceAccount } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import {
  ALLOWED_NAMESPACES_ANNOTATION,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  PermanentError,
  accessRuleOf,
  parseDefaultAccess,
  type AccessRule,
  SERVICE_ACCOUNT_ANNOTATION,
  createLogger,
  createRenewerMetrics,
  formatBlockedKey,
  parseBlockedKey,
  parseBlockedSubject,
  type BlockedEntry,
  type BlockedKey,
  type CachedResource,
  type NamespaceEvent,
  type ProbeJobData,
  type RegistryHost,
  type SyncJobData,
  type TenantRole,
} from '@eatr/core';
import {
  projectSecret,
  projectServiceAccount,
  type CachedNamespace,
  type CachedSecret,
  type CachedServiceAccount,
} from '../../cache/projections.js';
import type {
  CredentialState,
  ResolvedCredentials,
} from '../../credentials/credential-resolver.js';
import type { EcrToken } from '../../aws/ecr-token-client.js';
import type {
  BlockedRecords,
  ClusterView,
  CredentialSource,
  EventSink,
  JobSink,
  KubeWrites,
  ServiceAccountPatch,
  TokenSource,
} from '../ports.js';
import { SeriesTracker } from '../series-tracker.js';

/*
 * In-memory stand-ins for the renewer's ports, for component tests of sync and sweep: one fake
 * cluster serves as both the watch caches and the API server, and every write is recorded as a line
 * (`create team-a/<name>`, `patch team-a/default [a,b]`) that tests compare.
 */

/** An API error as the Kubernetes client throws it (`code` is the HTTP status). */
export class FakeApiError extends Error {
  constructor(readonly code: number) {
    super(`HTTP ${code}`);
  }
}

type Operation = 'create' | 'replace' | 'delete' | 'patch';

export class FakeCluster implements ClusterView, KubeWrites {
  readonly namespaces = new Map<string, CachedNamespace>();
  readonly secrets = new Map<string, V1Secret>();
  readonly accounts = new Map<string, V1ServiceAccount>();
  /** Every write, in order. */
  readonly writes: string[] = [];
  /** Reads that went to the API server (the caches answer the rest). */
  readonly reads: string[] = [];
  private version = 100;
  private readonly failures: { op: Operation; error: Error; before?: () => void }[] = [];

  addNamespace(
    name: string,
    labels: Record<string, string>,
    terminating = false,
    annotations?: Record<string, string>,
  ): this {
    this.namespaces.set(name, {
      metadata: {
        name,
        labels,
        resourceVersion: this.nextVersion(),
        terminating,
        ...(annotations ? { annotations } : {}),
      },
    } as CachedNamespace);
    return this;
  }

  addSecret(namespace: string, secret: V1Secret): this {
    const name = secret.metadata?.name ?? '';
    this.secrets.set(`${namespace}/${name}`, {
      ...secret,
      metadata: { ...secret.metadata, namespace, resourceVersion: this.nextVersion() },
    });
    return this;
  }

  addServiceAccount(
    namespace: string,
    name: string,
    pullSecrets: string[] = [],
    addedByEatr: string[] = [],
  ): this {
    this.accounts.set(`${namespace}/${name}`, {
      metadata: {
        name,
        namespace,
        resourceVersion: this.nextVersion(),
        annotations:
          addedByEatr.length > 0 ? { [SERVICE_ACCOUNT_ANNOTATION]: addedByEatr.join(',') } : {},
      },
      imagePullSecrets: pullSecrets.map((n) => ({ name: n })),
    });
    return this;
  }

  /**
   * The next `op` fails with `error`; `before` runs first (another writer acting in between, say).
   */
  failNext(op: Operation, error: Error, before?: () => void): this {
    this.failures.push({ op, error, ...(before ? { before } : {}) });
    return this;
  }

  pullSecretsOf(namespace: string, name: string): string[] {
    return (this.accounts.get(`${namespace}/${name}`)?.imagePullSecrets ?? []).map(
      (r) => r.name ?? '',
    );
  }

  // ClusterView

  waitFor(
    _resource: CachedResource,
    _resourceVersion: string,
    _timeoutMs: number,
  ): Promise<boolean> {
    return Promise.resolve(true);
  }

  namespace(name: string): CachedNamespace | undefined {
    return this.namespaces.get(name);
  }

  allNamespaces(): Iterable<CachedNamespace> {
    return this.namespaces.values();
  }

  secretsIn(namespace: string): CachedSecret[] {
    return [...this.secrets.values()]
      .filter((s) => s.metadata?.namespace === namespace)
      .filter((s) => s.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE)
      .map(projectSecret);
  }

  serviceAccountsIn(namespace: string): CachedServiceAccount[] {
    return [...this.accounts.values()]
      .filter((sa) => sa.metadata?.namespace === namespace)
      .map(projectServiceAccount);
  }

  // KubeWrites

  readNamespace(name: string): Promise<CachedNamespace | undefined> {
    this.reads.push(`namespace ${name}`);
    return Promise.resolve(this.namespaces.get(name));
  }

  readSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    this.reads.push(`secret ${namespace}/${name}`);
    return Promise.resolve(this.secrets.get(`${namespace}/${name}`));
  }

  createSecret(namespace: string, body: V1Secret): Promise<V1Secret> {
    const name = body.metadata?.name ?? '';
    return this.write('create', `${namespace}/${name}`, () => {
      if (this.secrets.has(`${namespace}/${name}`)) throw new FakeApiError(409);
      this.addSecret(namespace, body);
      return this.secrets.get(`${namespace}/${name}`) as V1Secret;
    });
  }

  patchSecret(namespace: string, name: string, body: V1Secret): Promise<V1Secret> {
    return this.write('replace', `${namespace}/${name}`, () => {
      const current = this.secrets.get(`${namespace}/${name}`);
      if (!current) throw new FakeApiError(404);
      const expected = body.metadata?.resourceVersion;
      if (expected && expected !== current.metadata?.resourceVersion) throw new FakeApiError(409);
      // A JSON merge patch: maps merge key by key, as the API server does.
      this.addSecret(namespace, {
        ...current,
        type: current.type,
        metadata: {
          ...current.metadata,
          labels: { ...current.metadata?.labels, ...body.metadata?.labels },
          annotations: { ...current.metadata?.annotations, ...body.metadata?.annotations },
        },
        data: { ...current.data, ...body.data },
      });
      return this.secrets.get(`${namespace}/${name}`) as V1Secret;
    });
  }

  deleteSecret(namespace: string, name: string, resourceVersion?: string): Promise<void> {
    return this.write('delete', `${namespace}/${name}`, () => {
      const current = this.secrets.get(`${namespace}/${name}`);
      if (!current) throw new FakeApiError(404);
      if (resourceVersion && resourceVersion !== current.metadata?.resourceVersion)
        throw new FakeApiError(409);
      this.secrets.delete(`${namespace}/${name}`);
    });
  }

  foreignSecretVersions(
    name: string,
    _namespaces: ReadonlySet<string>,
  ): Promise<{ versions: Map<string, string>; requests: number }> {
    this.reads.push(`list foreign ${name}`);
    const versions = new Map<string, string>();
    for (const s of this.secrets.values())
      if (s.metadata?.name === name && s.metadata.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE)
        versions.set(s.metadata.namespace ?? '', s.metadata.resourceVersion ?? '');
    return Promise.resolve({ versions, requests: 1 });
  }

  readServiceAccount(namespace: string, name: string): Promise<CachedServiceAccount | undefined> {
    this.reads.push(`serviceaccount ${namespace}/${name}`);
    const sa = this.accounts.get(`${namespace}/${name}`);
    return Promise.resolve(sa && projectServiceAccount(sa));
  }

  patchServiceAccount(namespace: string, name: string, patch: ServiceAccountPatch): Promise<void> {
    return this.write('patch', `${namespace}/${name} [${patch.imagePullSecrets.join(',')}]`, () => {
      const current = this.accounts.get(`${namespace}/${name}`);
      if (!current) throw new FakeApiError(404);
      if (patch.resourceVersion !== current.metadata?.resourceVersion) throw new FakeApiError(409);
      this.addServiceAccount(namespace, name, [...patch.imagePullSecrets], [...patch.addedByEatr]);
    });
  }

  private async write<T>(op: Operation, what: string, apply: () => T): Promise<T> {
    await Promise.resolve();
    const i = this.failures.findIndex((f) => f.op === op);
    if (i >= 0) {
      const [failure] = this.failures.splice(i, 1);
      failure?.before?.();
      this.writes.push(`${op} ${what} -> ${failure?.error.message ?? ''}`);
      throw failure?.error ?? new Error('no failure');
    }
    try {
      const result = apply();
      this.writes.push(`${op} ${what}`);
      return result;
    } catch (error) {
      this.writes.push(`${op} ${what} -> ${(error as Error).message}`);
      throw error;
    }
  }

  private nextVersion(): string {
    return String(++this.version);
  }
}

/** Jobs asked for, in order. */
export class FakeJobs implements JobSink {
  readonly syncs: SyncJobData[] = [];
  readonly probes: ProbeJobData[] = [];

  enqueueSync(data: SyncJobData): Promise<boolean> {
    const duplicate = this.syncs.some((s) => s.namespace === data.namespace);
    this.syncs.push(data);
    return Promise.resolve(!duplicate);
  }

  enqueueProbe(data: ProbeJobData): Promise<boolean> {
    this.probes.push(data);
    return Promise.resolve(true);
  }
}

/** BlockedStore's behaviour over a Map keyed as Redis is (`namespace/subject`). */
export class FakeBlocked implements BlockedRecords {
  readonly entries = new Map<string, BlockedEntry>();

  private field(namespace: string, subject: string): string {
    return formatBlockedKey({ namespace, subject: parseBlockedSubject(subject) });
  }

  get(namespace: string, subjects: readonly string[]): Promise<Map<string, BlockedEntry>> {
    const out = new Map<string, BlockedEntry>();
    for (const s of subjects) {
      const entry = this.entries.get(this.field(namespace, s));
      if (entry) out.set(s, entry);
    }
    return Promise.resolve(out);
  }

  all(): Promise<Map<string, BlockedEntry>> {
    return Promise.resolve(new Map(this.entries));
  }

  set(namespace: string, subject: string, entry: BlockedEntry): Promise<void> {
    this.entries.set(this.field(namespace, subject), entry);
    return Promise.resolve();
  }

  clear(namespace: string, subjects: readonly string[]): Promise<void> {
    for (const s of subjects) this.entries.delete(this.field(namespace, s));
    return Promise.resolve();
  }

  clearNamespace(namespace: string): Promise<void> {
    for (const key of [...this.entries.keys()])
      if (parseBlockedKey(key)?.namespace === namespace) this.entries.delete(key);
    return Promise.resolve();
  }

  clearKeys(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.entries.delete(key);
    return Promise.resolve();
  }

  async blockedByAws(registry: string): Promise<BlockedKey[]> {
    const local = new Set(['missing-credentials', 'malformed-credentials', 'conflict']);
    return [...(await this.all())]
      .filter(([, e]) => e.registry === registry && !local.has(e.reason))
      .flatMap(([key]) => parseBlockedKey(key) ?? []);
  }

  async clearRegistry(registry: string): Promise<BlockedKey[]> {
    const keys = await this.blockedByAws(registry);
    for (const key of keys) this.entries.delete(formatBlockedKey(key));
    return keys;
  }
}

/** Credentials per registry host: usable with a version, or missing; open to every namespace unless `allow` says. */
export class FakeCredentials implements CredentialSource {
  private readonly versions = new Map<string, string>();
  private readonly rules = new Map<string, AccessRule>();

  /** Only namespaces matching `selector` may use the registry's credentials (as its annotation would say). */
  allow(registry: string, selector: string): this {
    this.rules.set(registry, accessRuleOf({ [ALLOWED_NAMESPACES_ANNOTATION]: selector }, ALL));
    return this;
  }

  access(registry: string): AccessRule {
    return this.rules.get(registry) ?? ALL;
  }

  set(registry: string, version: string | undefined): this {
    if (version === undefined) this.versions.delete(registry);
    else this.versions.set(registry, version);
    return this;
  }

  resolveRole(role: TenantRole): CredentialState {
    const version = `role-${role.roleArn}`;
    return {
      ok: true,
      value: { spec: { keys: undefined, tenantRole: role }, version, acceptedVersions: [] },
      state: version,
    };
  }

  resolve(registry: string): CredentialState {
    const version = this.versions.get(registry);
    if (version === undefined)
      return {
        ok: false,
        error: new PermanentError(`no credentials for ${registry}`, 'missing-credentials', {
          registry,
        }),
        state: 'missing',
      };
    return {
      ok: true,
      value: {
        spec: { keys: { accessKeyId: 'AKIAFAKE', secretAccessKey: 'fake' } },
        version,
        acceptedVersions: [],
      },
      state: version,
    };
  }
}

const ALL = parseDefaultAccess('*');

/**
 * Tokens valid for 12 hours from the fake clock; `refused` makes AWS say no for a registry,
 * `refusedRoles` for a tenant role (by ARN).
 */
export class FakeTokens implements TokenSource {
  readonly calls: string[] = [];
  readonly refused = new Map<string, Error>();
  readonly refusedRoles = new Map<string, Error>();

  constructor(private readonly now: () => number) {}

  token(credentials: ResolvedCredentials, registry: RegistryHost): Promise<EcrToken> {
    this.calls.push(registry.host);
    const role = credentials.spec.tenantRole;
    const refusal =
      role !== undefined ? this.refusedRoles.get(role.roleArn) : this.refused.get(registry.host);
    if (refusal) return Promise.reject(refusal);
    return Promise.resolve({
      password: 'token',
      expiresAt: this.now() + 12 * 3_600_000,
      fetchedAt: this.now(),
    });
  }
}

export class FakeEvents implements EventSink {
  readonly recorded: NamespaceEvent[] = [];

  record(event: NamespaceEvent): Promise<void> {
    this.recorded.push(event);
    return Promise.resolve();
  }

  reasons(): string[] {
    return this.recorded.map((e) => `${e.namespace} ${e.reason}`);
  }
}

/** Real metrics on a registry of their own, a silent logger and the series tracker. */
export function instruments() {
  const metrics = createRenewerMetrics(new Registry());
  return { metrics, series: new SeriesTracker(metrics), log: createLogger('renewer', 'silent') };
}
