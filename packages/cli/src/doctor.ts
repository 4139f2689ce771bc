import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { AuthorizationV1Api, VersionApi } from '@kubernetes/client-node';
import {
  CREDENTIAL_SECRET_PREFIX,
  SWEEP_SCHEDULER_ID,
  QUEUE_NAME,
  credentialSecretName,
  describeError,
  describeRedis,
  desiredRegistries,
  globalRegistriesOf,
  parseRegistryHost,
  registryOfCredentialSecret,
} from '@eatr/core';
import {
  SdkEcrTokenClient,
  classifyAwsError,
  createRequestHandler,
  parseCredentialSecret,
  proxyFor,
  type CredentialSpec,
} from '@eatr/renewer';
import type { Cli } from './context.js';
import { UsageError } from './context.js';
import {
  MAX_SKEW_MS,
  describePermission,
  requiredPermissions,
  type Check,
  type Permission,
} from './doctor-model.js';
import { formatStructured, humanDuration, paint, type OutputFormat } from './output.js';
import { watcherStatus } from './status.js';

export interface DoctorOptions {
  /** Check the watcher's / renewer's RBAC as this ServiceAccount (`namespace/name`) instead of as the caller. */
  readonly watcherServiceAccount: string | undefined;
  readonly renewerServiceAccount: string | undefined;
  /** Check only what this namespace needs (its registries' credentials); default: every namespace. */
  readonly namespace: string | undefined;
  readonly output: OutputFormat;
}

const ok = (id: string, message: string): Check => ({ id, ok: true, message });
const fail = (id: string, message: string, fix: string): Check => ({ id, ok: false, message, fix });

/**
 * Every check that explains "why is my namespace not getting its Secret". Reads only: the
 * credential check asks ECR for a token and throws it away; nothing is written to the cluster,
 * Redis or the queue (access reviews are requests, not objects).
 */
export async function runDoctor(cli: Cli, options: DoctorOptions): Promise<Check[]> {
  const checks: Check[] = [];
  const api = await apiServerCheck(cli);
  checks.push(api);
  if (api.ok) {
    checks.push(await clockCheck(cli));
    for (const component of ['watcher', 'renewer'] as const)
      checks.push(
        await rbacCheck(
          cli,
          component,
          component === 'watcher' ? options.watcherServiceAccount : options.renewerServiceAccount,
        ),
      );
  }
  const redis = await redisChecks(cli);
  checks.push(...redis);
  if (redis[0]?.ok) checks.push(...(await queueChecks(cli)));
  if (api.ok) {
    checks.push(await leaseCheck(cli));
    checks.push(...(await credentialChecks(cli, options.namespace)));
  }
  return checks;
}

async function apiServerCheck(cli: Cli): Promise<Check> {
  const server = cli.kc.getCurrentCluster()?.server ?? '(no cluster in the kubeconfig)';
  try {
    const version = await cli.kc.makeApiClient(VersionApi).getCode();
    return ok('api-server', `API server ${server} reachable (Kubernetes ${version.gitVersion})`);
  } catch (error) {
    return fail(
      'api-server',
      `API server ${server} not reachable: ${describeError(error)}`,
      'check --kubeconfig / KUBECONFIG and --context, and that the cluster is up (kubectl version)',
    );
  }
}

/** The API server's clock, from the Date header of GET /version. */
async function serverDate(cli: Cli): Promise<number> {
  const server = cli.kc.getCurrentCluster()?.server;
  if (!server) throw new Error('no cluster in the kubeconfig');
  const url = new URL('/version', server);
  const options: import('node:https').RequestOptions = { method: 'GET' };
  await cli.kc.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? request : httpRequest)(url, options, (res) => {
      res.resume();
      const date = Date.parse(res.headers.date ?? '');
      if (Number.isNaN(date)) reject(new Error('no Date header in the reply'));
      else resolve(date);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
    req.once('error', reject);
    req.end();
  });
}

async function clockCheck(cli: Cli): Promise<Check> {
  try {
    const before = Date.now();
    const server = await serverDate(cli);
    const after = Date.now();
    // The header has whole seconds: compare with the middle of the request, allow its rounding.
    const skew = server - (before + after) / 2;
    const text = `${skew >= 0 ? '+' : '-'}${(Math.abs(skew) / 1000).toFixed(1)} s`;
    return Math.abs(skew) <= MAX_SKEW_MS + 1000
      ? ok('clock-skew', `clock within ${text} of the API server's`)
      : fail(
          'clock-skew',
          `this machine's clock is ${text} off the API server's`,
          'synchronise clocks with NTP (chrony, systemd-timesyncd); eatr judges expiry and Leases by time',
        );
  } catch (error) {
    return fail(
      'clock-skew',
      `cannot read the API server's clock: ${describeError(error)}`,
      'see the API server check',
    );
  }
}

function parseServiceAccount(flag: string, value: string): { namespace: string; name: string } {
  const match = /^([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(value);
  if (!match?.[1] || !match[2]) throw new UsageError(`${flag} ${value}: must be NAMESPACE/NAME`);
  return { namespace: match[1], name: match[2] };
}

async function rbacCheck(
  cli: Cli,
  component: 'watcher' | 'renewer',
  serviceAccount: string | undefined,
): Promise<Check> {
  const id = `rbac-${component}`;
  const permissions = requiredPermissions(component, {
    hostNamespace: cli.watcher.hostNamespace,
    leaseNamespace: cli.watcher.leaderElection.namespace,
    leaseName: cli.watcher.leaderElection.leaseName,
  });
  const authz = cli.kc.makeApiClient(AuthorizationV1Api);
  const sa =
    serviceAccount === undefined
      ? undefined
      : parseServiceAccount(`--${component}-service-account`, serviceAccount);
  const who =
    sa === undefined
      ? `this kubeconfig's user (${cli.kc.getCurrentUser()?.name ?? 'unknown'})`
      : `ServiceAccount ${sa.namespace}/${sa.name}`;
  const allowed = async (p: Permission): Promise<boolean> => {
    const resourceAttributes = {
      group: p.group,
      resource: p.resource,
      verb: p.verb,
      ...(p.namespace === undefined ? {} : { namespace: p.namespace }),
      ...(p.name === undefined ? {} : { name: p.name }),
    };
    if (sa === undefined) {
      const review = await authz.createSelfSubjectAccessReview({
        body: { spec: { resourceAttributes } },
      });
      return review.status?.allowed === true;
    }
    const review = await authz.createSubjectAccessReview({
      body: {
        spec: {
          user: `system:serviceaccount:${sa.namespace}:${sa.name}`,
          groups: [
            'system:serviceaccounts',
            `system:serviceaccounts:${sa.namespace}`,
            'system:authenticated',
          ],
          resourceAttributes,
        },
      },
    });
    return review.status?.allowed === true;
  };
  try {
    const results = await Promise.all(permissions.map(async (p) => [p, await allowed(p)] as const));
    const missing = results.filter(([, yes]) => !yes).map(([p]) => describePermission(p));
    return missing.length === 0
      ? ok(id, `${component} RBAC: ${who} has all ${permissions.length} permissions`)
      : fail(
          id,
          `${component} RBAC: ${who} may not ${missing.join(', ')}`,
          `install with the chart (helm install eatr charts/eatr), which grants exactly these, or bind the ${component} ClusterRole/Roles to it`,
        );
  } catch (error) {
    return fail(
      id,
      `${component} RBAC: cannot review access: ${describeError(error)}`,
      'run doctor with a kubeconfig that may create (self)subjectaccessreviews',
    );
  }
}

/** Which Redis, in the words of the settings: a URL's host, the sentinels and master, or the nodes. */
function redisWhere(cli: Cli): string {
  const r = describeRedis(cli.watcher);
  const tls = r.tls === true ? ' (TLS)' : '';
  if (r.mode === 'sentinel')
    return `Sentinel ${String(r.sentinels)} master ${String(r.master)}${tls}`;
  if (r.mode === 'cluster') return `Cluster ${String(r.nodes)}${tls}`;
  return `${r.tls === true ? 'rediss' : 'redis'}://${String(r.host)}`;
}

async function redisChecks(cli: Cli): Promise<Check[]> {
  const where = redisWhere(cli);
  try {
    await cli.redis.ping();
    const info = await cli.redis.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    const checks = [ok('redis', `Redis ${where} reachable (version ${version})`)];
    try {
      const reply = (await cli.redis.config('GET', 'maxmemory-policy')) as string[];
      const policy = reply[1];
      checks.push(
        policy === 'noeviction'
          ? ok('redis-eviction', 'Redis maxmemory-policy is noeviction')
          : fail(
              'redis-eviction',
              `Redis maxmemory-policy is ${policy ?? 'unknown'}: Redis may evict queued jobs`,
              'set maxmemory-policy noeviction (redis.conf, or CONFIG SET maxmemory-policy noeviction; on a managed Redis, its parameter group)',
            ),
      );
    } catch {
      checks.push(
        ok(
          'redis-eviction',
          'Redis CONFIG is disabled (managed Redis?): check that maxmemory-policy is noeviction',
        ),
      );
    }
    return checks;
  } catch (error) {
    return [
      fail(
        'redis',
        `Redis ${where} not reachable: ${describeError(error)}`,
        'check --redis-url / EATR_REDIS_URL and --redis-password, and that the components use the same',
      ),
    ];
  }
}

async function queueChecks(cli: Cli): Promise<Check[]> {
  const queue = cli.queue;
  const checks: Check[] = [];
  const counts = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
  const failedJobs = counts.failed ?? 0;
  checks.push(
    failedJobs === 0
      ? ok('queue-failed', 'no failed jobs')
      : fail(
          'queue-failed',
          `${failedJobs} failed job${failedJobs === 1 ? '' : 's'} (syncs that ran out of attempts)`,
          'see the renewer logs (decision="failed") and eatr status; eatr renew NAMESPACE retries at once',
        ),
  );
  // A job is stalled when it is active but its lock is gone (the renewer running it died); BullMQ's
  // stalled check hands it to another renewer, so one that stays stalled means no renewer runs.
  const active = await queue.getActive();
  let stalled = 0;
  for (const job of active)
    if (!(await cli.redis.exists(`${cli.watcher.queuePrefix}:${QUEUE_NAME}:${job.id ?? ''}:lock`)))
      stalled++;
  checks.push(
    stalled === 0
      ? ok(
          'queue-stalled',
          `${active.length} active, ${counts.delayed ?? 0} delayed (retries and the next sweep), none stalled`,
        )
      : fail(
          'queue-stalled',
          `${stalled} active job${stalled === 1 ? '' : 's'} without a lock (stalled)`,
          'start a renewer: it takes stalled jobs over',
        ),
  );
  const workers = await queue.getWorkersCount().catch(() => undefined);
  if (workers !== undefined)
    checks.push(
      workers > 0
        ? ok('renewers', `${workers} worker${workers === 1 ? '' : 's'} connected to the queue`)
        : fail(
            'renewers',
            'no renewer is connected to the queue: nothing runs the syncs',
            'start eatr-renewer (or eatr run) with the same --redis-url and --queue-prefix',
          ),
    );
  const scheduler = await queue.getJobScheduler(SWEEP_SCHEDULER_ID);
  checks.push(
    scheduler
      ? ok('sweep-scheduler', `sweep scheduled every ${humanDuration(scheduler.every ?? 0)}`)
      : fail(
          'sweep-scheduler',
          'no sweep scheduler: nothing re-checks namespaces periodically',
          'start eatr-watcher (its leader upserts the scheduler)',
        ),
  );
  return checks;
}

async function leaseCheck(cli: Cli): Promise<Check> {
  const w = await watcherStatus(cli);
  if (w.error !== undefined)
    return fail('watcher-lease', `Lease ${w.lease} unreadable: ${w.error}`, 'see the RBAC checks');
  if (w.holder === undefined)
    return fail(
      'watcher-lease',
      `no watcher holds the Lease ${w.lease}`,
      'start eatr-watcher (or eatr run); check --lease-name and --leader-election-namespace match it',
    );
  const ago =
    w.renewedAt === undefined
      ? ''
      : ` (renewed ${humanDuration(Date.now() - Date.parse(w.renewedAt))} ago)`;
  return w.fresh
    ? ok('watcher-lease', `watcher leader ${w.holder}${ago}`)
    : fail(
        'watcher-lease',
        `watcher leader ${w.holder} stopped renewing the Lease${ago}`,
        'see the watcher pods (kubectl logs); a standby takes over once it lapses',
      );
}

/**
 * Each credential Secret parses and gets a real token from ECR (the renewer's own parser, client and
 * proxy handling), and each registry some namespace asks for has credentials.
 */
async function credentialChecks(cli: Cli, only: string | undefined): Promise<Check[]> {
  const checks: Check[] = [];
  const host = cli.renewer.hostNamespace;
  const core = cli.core;
  const [secrets, namespaces] = await Promise.all([
    core.listNamespacedSecret({ namespace: host }).then((l) => l.items),
    only === undefined
      ? core.listNamespace().then((l) => l.items)
      : core.readNamespace({ name: only }).then((n) => [n]),
  ]);
  const wanted = new Map<string, number>();
  const global = globalRegistriesOf(cli.watcher);
  for (const ns of namespaces)
    for (const r of desiredRegistries(ns.metadata?.name ?? '', ns.metadata?.labels, global)
      .registries)
      wanted.set(r.host, (wanted.get(r.host) ?? 0) + 1);
  const handler = createRequestHandler(cli.renewer.proxy, cli.renewer.ecrTimeoutMs);
  const ecr = new SdkEcrTokenClient({
    requestHandler: handler,
    maxAttempts: cli.renewer.ecrMaxAttempts,
  });
  const tryToken = async (id: string, label: string, spec: CredentialSpec, registry: string) => {
    const parsed = parseRegistryHost(registry);
    if (!parsed)
      return fail(
        id,
        `${label}: ${registry} is not an ECR registry host`,
        `name it ${CREDENTIAL_SECRET_PREFIX}<registry host>`,
      );
    const endpoint = `https://api.ecr.${parsed.region}.amazonaws.com`;
    const proxy = proxyFor(endpoint, cli.renewer.proxy);
    const via = proxy === '' ? 'direct' : `via proxy ${new URL(proxy).host}`;
    try {
      const token = await ecr.getAuthorizationToken(spec, parsed.region);
      return ok(
        id,
        `${label}: ECR token for account ${parsed.accountId} in ${parsed.region}, expires in ${humanDuration(token.expiresAt - Date.now())} (${via})`,
      );
    } catch (error) {
      const { failure } = classifyAwsError(error);
      return fail(
        id,
        `${label}: ECR refused (${failure}, ${via}): ${describeError(error)}`,
        failure === 'denied'
          ? 'allow ecr:GetAuthorizationToken (and sts:AssumeRole for aws_role_arn) in IAM, then: eatr renew --all --registry ' +
              registry
          : failure === 'invalid-credentials'
            ? `put valid keys in ${host}/${credentialSecretName(registry)}`
            : 'check the network path to AWS (HTTPS_PROXY, NO_PROXY) and retry',
      );
    }
  };
  try {
    for (const secret of secrets) {
      const name = secret.metadata?.name ?? '';
      const registry = registryOfCredentialSecret(name);
      if (registry === undefined) continue;
      if (only !== undefined && !wanted.has(registry)) continue; // not this namespace's
      const id = `credentials:${registry}`;
      const label = `credentials ${host}/${name}`;
      let spec: CredentialSpec;
      try {
        spec = parseCredentialSecret(secret.data, { registry, secretName: name });
      } catch (error) {
        checks.push(
          fail(
            id,
            `${label}: ${describeError(error)}`,
            'keys: aws_access_key_id, aws_secret_access_key (optional aws_session_token, aws_role_arn, aws_external_id); see docs/deploy.md',
          ),
        );
        continue;
      }
      checks.push(await tryToken(id, label, spec, registry));
    }
    const withSecret = new Set(
      secrets.map((s) => registryOfCredentialSecret(s.metadata?.name ?? '')),
    );
    for (const [registry, count] of [...wanted].sort(([a], [b]) => a.localeCompare(b))) {
      if (withSecret.has(registry)) continue;
      const used = `${count} namespace${count === 1 ? '' : 's'}`;
      if (cli.renewer.usePodIdentity)
        checks.push(
          await tryToken(
            `credentials:${registry}`,
            `pod identity for ${registry} (${used})`,
            { keys: undefined },
            registry,
          ),
        );
      else
        checks.push(
          fail(
            `credentials:${registry}`,
            `no credential Secret ${host}/${credentialSecretName(registry)} for ${registry}, which ${used} ${count === 1 ? 'asks' : 'ask'} for`,
            `kubectl -n ${host} create secret generic ${credentialSecretName(registry)} --from-literal=aws_access_key_id=... --from-literal=aws_secret_access_key=... (or --use-pod-identity)`,
          ),
        );
    }
  } finally {
    ecr.destroy();
    handler.destroy();
  }
  return checks;
}

export function renderDoctor(checks: readonly Check[], format: OutputFormat): string {
  if (format === 'json' || format === 'yaml')
    return formatStructured(format, { ok: checks.every((c) => c.ok), checks });
  const lines = checks.map((c) =>
    c.ok
      ? `${paint('green', '\u2714')} ${c.message}`
      : `${paint('red', '\u2716')} ${c.message}\n    ${paint('dim', 'fix:')} ${c.fix ?? ''}`,
  );
  const failed = checks.filter((c) => !c.ok).length;
  lines.push(
    '',
    failed === 0
      ? paint('green', `All ${checks.length} checks passed.`)
      : paint('red', `${failed} of ${checks.length} checks failed.`),
  );
  return lines.join('\n');
}
