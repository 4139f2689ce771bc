import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { Command, CommanderError, Option } from 'commander';
import { z } from 'zod';
import { formatDuration, parseGoDuration } from './duration.js';
import { parseRegistryHost } from '../registry/registry-host.js';
import { isValidSecretName, outputSecretName } from '../naming.js';
import {
  DEFAULT_REDIS_URL,
  DEFAULT_SENTINEL_MASTER,
  RedisConfigError,
  resolveRedisConfig,
  type RedisConfig,
} from './redis-config.js';

/** Thrown for an invalid setting; the message names the setting and says what is wrong. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export type Component = 'watcher' | 'renewer';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

const TWELVE_HOURS = 12 * 3_600_000;

/**
 * A setting's parser (raw text, or undefined when unset without a default, to its config value),
 * with the range a bounded number or duration takes, as --help and the docs show it. The error
 * message and the range text come from the same bounds, so they cannot disagree.
 */
const duration = (
  setting: string,
  {
    min = 1,
    max = Number.MAX_SAFE_INTEGER,
    why = '',
  }: { min?: number; max?: number; why?: string } = {},
) => {
  const bounded = max !== Number.MAX_SAFE_INTEGER;
  return {
    range: bounded
      ? `${formatDuration(min)} to ${formatDuration(max)}`
      : `at least ${formatDuration(min)}`,
    parse: z.string().transform((text, ctx) => {
      const ms = parseGoDuration(text);
      if (ms === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `${setting}: "${text}" is not a duration (use Go syntax, e.g. 30s, 5m, 6h)`,
        });
        return z.NEVER;
      }
      if (ms < min || ms > max) {
        const range = bounded
          ? `between ${formatDuration(min)} and ${formatDuration(max)}`
          : `at least ${formatDuration(min)}`;
        ctx.addIssue({
          code: 'custom',
          message: `${setting}: ${text} is out of range; it must be ${range}${why}`,
        });
        return z.NEVER;
      }
      return ms;
    }),
  };
};

const integer = (setting: string, min: number, max: number) => ({
  range: `${min} to ${max}`,
  parse: z.string().transform((text, ctx) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) {
      ctx.addIssue({
        code: 'custom',
        message: `${setting}: "${text}" must be a whole number from ${min} to ${max}`,
      });
      return z.NEVER;
    }
    return n;
  }),
});

const nonNegative = (setting: string) => ({
  range: 'at least 0',
  parse: z.string().transform((text, ctx) => {
    const n = text.trim() === '' ? Number.NaN : Number(text);
    if (!Number.isFinite(n) || n < 0) {
      ctx.addIssue({
        code: 'custom',
        message: `${setting}: "${text}" must be a number of at least 0`,
      });
      return z.NEVER;
    }
    return n;
  }),
});

/**
 * KUBECONFIG may list several files (kubectl merges them); eatr reads the first, the one kubectl
 * writes to. A missing file is a configuration error, not a crash at start-up.
 */
const kubeconfigPath = z.string().transform((text, ctx) => {
  const first = text.split(':')[0] ?? text;
  if (!existsSync(first)) {
    ctx.addIssue({ code: 'custom', message: `kubeconfig: ${first} does not exist` });
    return z.NEVER;
  }
  return first;
});

const boolean = (setting: string) =>
  z.string().transform((text, ctx) => {
    const value = text.trim().toLowerCase();
    if (['true', '1', 'yes'].includes(value)) return true;
    if (['false', '0', 'no', ''].includes(value)) return false;
    ctx.addIssue({ code: 'custom', message: `${setting}: "${text}" must be true or false` });
    return z.NEVER;
  });

const list = (text: string): string[] =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

// The seed's -logging-verbosity-level took glog numbers; map them onto pino levels.
const logLevel = z.string().transform((text, ctx): LogLevel => {
  const value = text.trim().toLowerCase();
  if (/^\d+$/.test(value)) {
    const n = Number(value);
    return n <= 2 ? 'info' : n <= 5 ? 'debug' : 'trace';
  }
  if (['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(value))
    return value as LogLevel;
  ctx.addIssue({
    code: 'custom',
    message: `log level: "${text}" must be one of fatal, error, warn, info, debug, trace, silent or a number 0-9`,
  });
  return z.NEVER;
});

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const namespaceName = (setting: string) =>
  z
    .string()
    .refine((v) => NAMESPACE.test(v), { message: `${setting}: must be a valid namespace name` });

const proxyUrl = (setting: string) =>
  z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || URL.canParse(v), {
      message: `${setting}: not a URL`,
    })
    .transform((v) => (v ? v : undefined));

const registryHosts = z.string().transform((v, ctx) => {
  const hosts = list(v);
  for (const host of hosts) {
    if (!parseRegistryHost(host))
      ctx.addIssue({
        code: 'custom',
        message: `registries: "${host}" is not an ECR registry host`,
      });
  }
  return hosts.map((h) => h.toLowerCase());
});

// Checked together in resolveRedisConfig(): which mode, conflicts, TLS files.
const redisText = z.string().optional();

export interface Setting {
  /** Long flag name without dashes. */
  readonly flag: string;
  readonly env: readonly string[];
  readonly description: string;
  readonly defaultValue?: string;
  readonly components: readonly Component[];
  /** Extra flag spellings (the seed's Go flags), without dashes. */
  readonly aliases?: readonly string[];
  /** Raw text (undefined when unset and without a default) to the value build() maps into the config. */
  readonly parse: z.ZodType<unknown, string | undefined>;
  /** The values a bounded number or duration takes ("1s to 719m"), from the bounds `parse` checks. */
  readonly range?: string;
}

const BOTH: readonly Component[] = ['watcher', 'renewer'];

/**
 * Every setting, declared once: flag, environment variables, default, parser and range, components
 * and one line of doc. The schema below, --help, docs/architecture.md (`pnpm docs:settings`) and the
 * chart tests derive from it; config.test.ts fails when build() leaves one out.
 */
export const SETTINGS = [
  {
    flag: 'kubeconfig',
    env: ['KUBECONFIG'],
    components: BOTH,
    description: 'kubeconfig file (default: in-cluster, else ~/.kube/config)',
    parse: kubeconfigPath.optional(),
  },
  {
    flag: 'redis-url',
    env: ['EATR_REDIS_URL', 'REDIS_URL'],
    components: BOTH,
    // No defaultValue: an unset URL is how a Sentinel or Cluster setting is told from a conflict.
    description: `standalone Redis URL (redis:// or rediss:// for TLS; default ${DEFAULT_REDIS_URL} when no sentinels or cluster nodes are set)`,
    parse: redisText,
  },
  {
    flag: 'redis-password',
    env: ['EATR_REDIS_PASSWORD'],
    components: BOTH,
    description: 'Redis password (overrides one in the URL; also for Sentinel and Cluster)',
    parse: redisText,
  },
  {
    flag: 'redis-sentinels',
    env: ['EATR_REDIS_SENTINELS'],
    components: BOTH,
    description: 'Sentinel addresses, host:port comma list (Sentinel mode; not with redis-url)',
    parse: redisText,
  },
  {
    flag: 'redis-sentinel-master',
    env: ['EATR_REDIS_SENTINEL_MASTER'],
    components: BOTH,
    description: `name of the master the sentinels monitor (default: ${DEFAULT_SENTINEL_MASTER})`,
    parse: redisText,
  },
  {
    flag: 'redis-sentinel-password',
    env: ['EATR_REDIS_SENTINEL_PASSWORD'],
    components: BOTH,
    description: "the sentinels' own password (requirepass of redis-sentinel), if any",
    parse: redisText,
  },
  {
    flag: 'redis-cluster-nodes',
    env: ['EATR_REDIS_CLUSTER_NODES'],
    components: BOTH,
    description:
      'Redis Cluster seed nodes, host:port comma list (Cluster mode; queue-prefix needs a {hash tag})',
    parse: redisText,
  },
  {
    flag: 'redis-tls',
    env: ['EATR_REDIS_TLS'],
    components: BOTH,
    defaultValue: 'false',
    description: 'use TLS to Redis (and sentinels); a rediss:// URL turns it on too',
    parse: boolean('redis-tls'),
  },
  {
    flag: 'redis-tls-ca',
    env: ['EATR_REDIS_TLS_CA'],
    components: BOTH,
    description: "PEM CA bundle file that Redis's certificate must chain to (default: public CAs)",
    parse: redisText,
  },
  {
    flag: 'redis-tls-cert',
    env: ['EATR_REDIS_TLS_CERT'],
    components: BOTH,
    description:
      'PEM client certificate file, for Redis with tls-auth-clients (with redis-tls-key)',
    parse: redisText,
  },
  {
    flag: 'redis-tls-key',
    env: ['EATR_REDIS_TLS_KEY'],
    components: BOTH,
    description: 'PEM private key file of redis-tls-cert',
    parse: redisText,
  },
  {
    flag: 'queue-prefix',
    env: ['EATR_QUEUE_PREFIX'],
    components: BOTH,
    defaultValue: '{eatr}',
    description: 'BullMQ key prefix; keep the {hash tag} for Redis Cluster',
    parse: z
      .string()
      .regex(/^[^:\s]+$/, 'queue-prefix: must not be empty or contain ":" or spaces'),
  },
  {
    flag: 'host-namespace',
    env: ['EATR_HOST_NAMESPACE'],
    components: BOTH,
    defaultValue: 'ci-cd',
    description: 'namespace holding the eatr-aws-credentials-<registry> Secrets',
    parse: namespaceName('host-namespace'),
  },
  {
    flag: 'metrics-port',
    env: ['EATR_METRICS_PORT'],
    components: BOTH,
    defaultValue: '5000',
    description: 'port for /metrics, /healthz and /readyz (0 = any free port)',
    ...integer('metrics-port', 0, 65535),
  },
  {
    flag: 'metrics-host',
    env: ['EATR_METRICS_HOST'],
    components: BOTH,
    defaultValue: '0.0.0.0',
    description: 'address the metrics server binds to',
    parse: z.string().min(1),
  },
  {
    flag: 'log-level',
    env: ['EATR_LOG_LEVEL'],
    components: BOTH,
    defaultValue: 'info',
    aliases: ['logging-verbosity-level'],
    description: "fatal, error, warn, info, debug, trace, silent, or the seed's 0-9",
    parse: logLevel,
  },
  {
    flag: 'renewal-interval',
    env: ['EATR_RENEWAL_INTERVAL'],
    components: BOTH,
    defaultValue: '6h',
    aliases: ['auth-token-renewal-interval'],
    description: 'renew a Secret once its token is this old (must be under 12h)',
    ...duration('auth-token-renewal-interval', {
      min: 1000,
      max: TWELVE_HOURS - 60_000,
      why: ' (ECR tokens expire after 12h)',
    }),
  },
  {
    flag: 'sweep-interval',
    env: ['EATR_SWEEP_INTERVAL'],
    components: ['watcher'],
    defaultValue: '5m',
    aliases: ['informers-resync-interval'],
    description: 'how often every opted-in namespace is re-checked',
    ...duration('sweep-interval', { min: 1000 }),
  },
  {
    flag: 'shutdown-timeout',
    env: ['EATR_SHUTDOWN_TIMEOUT'],
    components: BOTH,
    defaultValue: '75s',
    description:
      'longest wait for running jobs on SIGTERM (a sync can take 2 x ecr-max-attempts x ecr-timeout)',
    ...duration('shutdown-timeout', { min: 0 }),
  },
  {
    flag: 'concurrency',
    env: ['EATR_CONCURRENCY'],
    components: ['renewer'],
    defaultValue: '4',
    description: 'jobs one renewer process runs at once',
    ...integer('concurrency', 1, 1000),
  },
  {
    flag: 'secret-name-template',
    env: ['EATR_SECRET_NAME_TEMPLATE'],
    components: BOTH,
    defaultValue: '{{registry}}',
    description: 'output Secret name; {{registry}}, {{account}}, {{region}}',
    // Checked in the schema's superRefine: it needs a sample registry to render a name.
    parse: z.string(),
  },
  {
    flag: 'docker-email',
    env: ['EATR_DOCKER_EMAIL'],
    components: ['renewer'],
    description: 'email written into .dockerconfigjson (optional)',
    parse: z.string().optional(),
  },
  {
    flag: 'service-accounts',
    env: ['EATR_SERVICE_ACCOUNTS'],
    components: BOTH,
    defaultValue: 'default',
    description: 'ServiceAccounts that get imagePullSecrets: comma list, * for all, empty for none',
    parse: z.string().transform((v): '*' | string[] => (v.trim() === '*' ? '*' : list(v))),
  },
  {
    flag: 'use-pod-identity',
    env: ['EATR_USE_POD_IDENTITY'],
    components: ['renewer'],
    defaultValue: 'false',
    description:
      "use the pod's AWS identity (SDK default chain) for registries with no credential Secret",
    parse: boolean('use-pod-identity'),
  },
  {
    flag: 'ecr-max-attempts',
    env: ['EATR_ECR_MAX_ATTEMPTS'],
    components: ['renewer'],
    defaultValue: '3',
    description: "attempts per ECR/STS call, with the SDK's backoff",
    ...integer('ecr-max-attempts', 1, 20),
  },
  {
    flag: 'ecr-timeout',
    env: ['EATR_ECR_TIMEOUT'],
    components: ['renewer'],
    defaultValue: '10s',
    description: 'timeout of one ECR/STS request',
    ...duration('ecr-timeout', { min: 100 }),
  },
  {
    flag: 'job-attempts',
    env: ['EATR_JOB_ATTEMPTS'],
    components: BOTH,
    defaultValue: '10',
    description: 'attempts per sync job on transient errors (exponential backoff with jitter)',
    ...integer('job-attempts', 1, 1000),
  },
  {
    flag: 'job-backoff',
    env: ['EATR_JOB_BACKOFF'],
    components: BOTH,
    defaultValue: '2s',
    description: 'first retry delay of a failed sync job',
    ...duration('job-backoff', { min: 1 }),
  },
  {
    flag: 'job-backoff-max',
    env: ['EATR_JOB_BACKOFF_MAX'],
    components: ['renewer'],
    defaultValue: '1m',
    description:
      'longest retry delay of a sync job, and the probe interval of a registry AWS denied',
    ...duration('job-backoff-max', { min: 1000 }),
  },
  {
    flag: 'job-lock-duration',
    env: ['EATR_JOB_LOCK_DURATION'],
    components: ['renewer'],
    defaultValue: '8s',
    description:
      "a running job's lock, renewed every half of it; a crashed renewer's jobs are free after it",
    ...duration('job-lock-duration', { min: 2000, max: 10 * 60_000 }),
  },
  {
    flag: 'stalled-interval',
    env: ['EATR_STALLED_INTERVAL'],
    components: ['renewer'],
    defaultValue: '2s',
    description: "how often a renewer looks for jobs whose lock expired (a crashed renewer's)",
    ...duration('stalled-interval', { min: 500, max: 10 * 60_000 }),
  },
  {
    flag: 'registries',
    env: ['EATR_REGISTRIES'],
    components: BOTH,
    defaultValue: '',
    description: 'registries for every namespace (comma list), besides labels',
    parse: registryHosts,
  },
  {
    flag: 'include-namespaces',
    env: ['EATR_INCLUDE_NAMESPACES'],
    components: BOTH,
    defaultValue: '*',
    description: 'name globs that --registries applies to',
    parse: z.string().transform(list),
  },
  {
    flag: 'exclude-namespaces',
    env: ['EATR_EXCLUDE_NAMESPACES'],
    components: BOTH,
    defaultValue: 'kube-system,kube-public,kube-node-lease',
    description: 'name globs that --registries skips',
    parse: z.string().transform(list),
  },
  {
    flag: 'kube-api-qps',
    env: ['EATR_KUBE_API_QPS'],
    components: BOTH,
    defaultValue: '50',
    description: 'Kubernetes API requests per second this process may send (0 = unlimited)',
    ...nonNegative('kube-api-qps'),
  },
  {
    flag: 'kube-api-burst',
    env: ['EATR_KUBE_API_BURST'],
    components: BOTH,
    defaultValue: '100',
    description: 'Kubernetes API requests sent at once before --kube-api-qps applies',
    ...integer('kube-api-burst', 1, 100_000),
  },
  {
    flag: 'leader-election-namespace',
    env: ['EATR_LEADER_ELECTION_NAMESPACE'],
    components: ['watcher'],
    description: 'namespace of the leader Lease (default: the host namespace)',
    parse: namespaceName('leader-election-namespace').optional(),
  },
  {
    flag: 'lease-name',
    env: ['EATR_LEASE_NAME'],
    components: ['watcher'],
    defaultValue: 'eatr-watcher',
    description: 'name of the leader Lease',
    parse: z.string().min(1),
  },
  {
    flag: 'lease-duration',
    env: ['EATR_LEASE_DURATION'],
    components: ['watcher'],
    defaultValue: '15s',
    description: 'leader Lease duration; a standby takes over after it lapses',
    ...duration('lease-duration', { min: 2000 }),
  },
  {
    flag: 'watch-timeout',
    env: ['EATR_WATCH_TIMEOUT'],
    components: BOTH,
    defaultValue: '5m',
    description: 'restart a watch that saw nothing for this long (half-open connections)',
    ...duration('watch-timeout', { min: 1000 }),
  },
  {
    flag: 'pod-name',
    env: ['POD_NAME'],
    components: BOTH,
    description: 'identity in the Lease and Events (default: host name)',
    parse: z.string().optional(),
  },
  {
    flag: 'https-proxy',
    env: ['HTTPS_PROXY', 'https_proxy'],
    components: ['renewer'],
    description: 'proxy for HTTPS calls to AWS',
    parse: proxyUrl('HTTPS_PROXY'),
  },
  {
    flag: 'http-proxy',
    env: ['HTTP_PROXY', 'http_proxy'],
    components: ['renewer'],
    description: 'proxy for HTTP calls to AWS',
    parse: proxyUrl('HTTP_PROXY'),
  },
  {
    flag: 'no-proxy',
    env: ['NO_PROXY', 'no_proxy'],
    components: ['renewer'],
    description: 'hosts that bypass the proxy',
    parse: z
      .string()
      .optional()
      .transform((v) => list(v ?? '')),
  },
] as const satisfies readonly Setting[];

type Raw = Record<string, string | undefined>;

type DeclaredSetting = (typeof SETTINGS)[number];

/** The zod shape, flag by flag, keeping each parser's own output type (build() sees numbers). */
type Shape = { readonly [S in DeclaredSetting as S['flag']]: S['parse'] };

const schema = z
  .object(Object.fromEntries(SETTINGS.map((s) => [s.flag, s.parse])) as Shape)
  .superRefine((c, ctx) => {
    const sample = parseRegistryHost('123456789012.dkr.ecr.eu-west-1.amazonaws.com');
    if (sample && !isValidSecretName(outputSecretName(c['secret-name-template'], sample))) {
      ctx.addIssue({
        code: 'custom',
        message: `secret-name-template: "${c['secret-name-template']}" does not give a valid Secret name`,
      });
    }
  });

type Parsed = z.output<typeof schema>;

/**
 * A setting's --help line: its doc, range, default and environment variables. The components and the
 * CLI print the same line.
 */
export function settingHelp(s: Setting): string {
  const range = s.range !== undefined ? ` (range: ${s.range})` : '';
  const def = s.defaultValue !== undefined ? ` (default: ${JSON.stringify(s.defaultValue)})` : '';
  return `${s.description}${range}${def} [env: ${s.env.join(', ')}]`;
}

/** Settings both components share. */
export interface CommonConfig {
  readonly component: Component;
  readonly kubeconfig: string | undefined;
  /** One Redis: a standalone URL, a Sentinel group or a Cluster, with optional TLS. */
  readonly redis: RedisConfig;
  readonly queuePrefix: string;
  readonly hostNamespace: string;
  readonly metrics: { readonly port: number; readonly host: string };
  readonly logLevel: LogLevel;
  /** A Secret whose token is older than this is renewed (the seed's -auth-token-renewal-interval). */
  readonly renewalIntervalMs: number;
  readonly shutdownTimeoutMs: number;
  /** Registries every included namespace gets, on top of its labels. */
  readonly globalRegistries: readonly string[];
  readonly includeNamespaces: readonly string[];
  readonly excludeNamespaces: readonly string[];
  readonly podName: string;
  /** Attempts per sync job on transient errors, and the first retry delay (exponential, jittered). */
  readonly jobAttempts: number;
  readonly jobBackoffMs: number;
  /** Client-side limit on Kubernetes API requests of the whole process (qps 0 = unlimited). */
  readonly kubeApi: { readonly qps: number; readonly burst: number };
  /** ServiceAccounts that get imagePullSecrets (`*` for all); the watcher watches them for drift. */
  readonly serviceAccounts: '*' | readonly string[];
  /** Restart a watch that saw nothing for this long. */
  readonly watchTimeoutMs: number;
  /** Output Secret name template ({{registry}}, {{account}}, {{region}}). */
  readonly secretNameTemplate: string;
}

export interface RenewerConfig extends CommonConfig {
  readonly component: 'renewer';
  readonly concurrency: number;
  readonly dockerEmail: string | undefined;
  readonly usePodIdentity: boolean;
  readonly ecrMaxAttempts: number;
  readonly ecrTimeoutMs: number;
  /** Longest retry delay of a job (capped exponential backoff), and the probe interval. */
  readonly jobBackoffMaxMs: number;
  /** BullMQ job lock (renewed every half) and stalled-job check: how soon a crashed renewer's jobs run elsewhere. */
  readonly jobLockDurationMs: number;
  readonly stalledIntervalMs: number;
  readonly proxy: {
    readonly https: string | undefined;
    readonly http: string | undefined;
    readonly noProxy: readonly string[];
  };
}

export interface WatcherConfig extends CommonConfig {
  readonly component: 'watcher';
  readonly sweepIntervalMs: number;
  readonly leaderElection: {
    readonly namespace: string;
    readonly leaseName: string;
    readonly leaseDurationMs: number;
  };
}

/**
 * The `--<name> <value>` option of a setting. A name starting with "no-" (--no-proxy) is a setting like
 * any other: commander would take it for the negation of --proxy and drop its value.
 */
export function settingOption(name: string, help: string): Option {
  const option = new Option(`--${name} <value>`, help);
  option.negate = false;
  return option;
}

// Go's flag package takes -name and -name=value; commander wants --name. Rewrite single-dash long flags.
function normaliseArgv(argv: readonly string[]): string[] {
  return argv.map((arg) => (/^-[a-z][a-z0-9-]+(=.*)?$/i.test(arg) ? `-${arg}` : arg));
}

/** Flag values by setting, and the spelling the user typed for each (e.g. `-auth-token-renewal-interval`). */
function readFlags(
  component: Component,
  argv: readonly string[],
): { raw: Raw; typed: Record<string, string> } {
  const program = new Command(`eatr-${component}`)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: (s) => process.stdout.write(s) })
    .allowExcessArguments(false)
    .helpOption('-h, --help', 'show the settings');
  for (const s of SETTINGS as readonly Setting[]) {
    // Every component takes every setting (the other component's are validated and ignored, and
    // left out of --help), so one command line, the Go controller's included, serves both.
    const option = settingOption(s.flag, settingHelp(s));
    program.addOption(s.components.includes(component) ? option : option.hideHelp());
    for (const alias of s.aliases ?? []) {
      program.addOption(settingOption(alias, `same as --${s.flag}`).hideHelp());
    }
  }
  try {
    program.parse(normaliseArgv(argv), { from: 'user' });
  } catch (error) {
    if (
      error instanceof CommanderError &&
      (error.code === 'commander.helpDisplayed' || error.code === 'commander.help')
    )
      throw error;
    throw new ConfigError(
      error instanceof Error ? error.message.replace(/^error: /, '') : String(error),
    );
  }
  const opts = program.opts<Record<string, string | undefined>>();
  const raw: Raw = {};
  const typed: Record<string, string> = {};
  // A Go-style single dash, as typed, or the usual two.
  const spelling = (name: string) =>
    argv.some((a) => a === `-${name}` || a.startsWith(`-${name}=`)) ? `-${name}` : `--${name}`;
  for (const s of SETTINGS as readonly Setting[]) {
    const key = (name: string) => name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    const used = [s.flag, ...(s.aliases ?? [])].find((name) => opts[key(name)] !== undefined);
    raw[s.flag] = used === undefined ? undefined : opts[key(used)];
    if (used !== undefined) typed[s.flag] = spelling(used);
  }
  return { raw, typed };
}

/**
 * Reads a component's configuration from flags and environment (flags win), validates it and returns
 * it. Throws ConfigError naming the first bad setting. This is the only place that reads process.env.
 */
export function loadConfig(
  component: 'renewer',
  argv?: readonly string[],
  env?: NodeJS.ProcessEnv,
): RenewerConfig;
export function loadConfig(
  component: 'watcher',
  argv?: readonly string[],
  env?: NodeJS.ProcessEnv,
): WatcherConfig;
export function loadConfig(
  component: Component,
  argv: readonly string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): RenewerConfig | WatcherConfig {
  const { raw: flags, typed } = readFlags(component, argv);
  const raw: Raw = {};
  // What the user typed for each setting (a flag spelling or an environment variable), so an error
  // names that, not an internal name.
  const source: Record<string, string> = {};
  for (const s of SETTINGS as readonly Setting[]) {
    const envName = s.env.find((name) => env[name] !== undefined);
    raw[s.flag] =
      flags[s.flag] ?? (envName === undefined ? undefined : env[envName]) ?? s.defaultValue;
    const from = typed[s.flag] ?? envName;
    if (from !== undefined) source[s.flag] = from;
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path.join('.') ?? '';
    const message = issue?.message ?? 'invalid configuration';
    const typedAs = source[String(issue?.path[0] ?? '')];
    if (typedAs !== undefined)
      throw new ConfigError(`${typedAs}: ${message.replace(/^[^:"]+: /, '')}`);
    throw new ConfigError(message.includes(':') || path === '' ? message : `${path}: ${message}`);
  }
  return build(component, result.data, redisConfigOf(result.data));
}

function redisConfigOf(c: Parsed): RedisConfig {
  // An empty value (e.g. a chart that sets the variable to "") counts as not set.
  const given = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v);
  try {
    return resolveRedisConfig({
      url: given(c['redis-url']),
      password: c['redis-password'],
      sentinels: given(c['redis-sentinels']),
      sentinelMaster: given(c['redis-sentinel-master']),
      sentinelPassword: given(c['redis-sentinel-password']),
      clusterNodes: given(c['redis-cluster-nodes']),
      tls: c['redis-tls'],
      tlsCa: given(c['redis-tls-ca']),
      tlsCert: given(c['redis-tls-cert']),
      tlsKey: given(c['redis-tls-key']),
      queuePrefix: c['queue-prefix'],
    });
  } catch (error) {
    if (error instanceof RedisConfigError) throw new ConfigError(error.message);
    throw error;
  }
}

function build(component: Component, c: Parsed, redis: RedisConfig): RenewerConfig | WatcherConfig {
  const common: Omit<CommonConfig, 'component'> = {
    kubeconfig: c.kubeconfig,
    redis,
    queuePrefix: c['queue-prefix'],
    hostNamespace: c['host-namespace'],
    metrics: { port: c['metrics-port'], host: c['metrics-host'] },
    logLevel: c['log-level'],
    renewalIntervalMs: c['renewal-interval'],
    shutdownTimeoutMs: c['shutdown-timeout'],
    globalRegistries: c.registries,
    includeNamespaces: c['include-namespaces'],
    excludeNamespaces: c['exclude-namespaces'],
    podName: c['pod-name'] ?? hostname(),
    jobAttempts: c['job-attempts'],
    jobBackoffMs: c['job-backoff'],
    kubeApi: { qps: c['kube-api-qps'], burst: c['kube-api-burst'] },
    serviceAccounts: c['service-accounts'],
    watchTimeoutMs: c['watch-timeout'],
    secretNameTemplate: c['secret-name-template'],
  };
  if (component === 'renewer') {
    return {
      ...common,
      component,
      concurrency: c.concurrency,
      dockerEmail: c['docker-email'] || undefined,
      usePodIdentity: c['use-pod-identity'],
      ecrMaxAttempts: c['ecr-max-attempts'],
      ecrTimeoutMs: c['ecr-timeout'],
      jobBackoffMaxMs: c['job-backoff-max'],
      jobLockDurationMs: c['job-lock-duration'],
      stalledIntervalMs: c['stalled-interval'],
      proxy: { https: c['https-proxy'], http: c['http-proxy'], noProxy: c['no-proxy'] },
    };
  }
  return {
    ...common,
    component,
    sweepIntervalMs: c['sweep-interval'],
    leaderElection: {
      namespace: c['leader-election-namespace'] ?? c['host-namespace'],
      leaseName: c['lease-name'],
      leaseDurationMs: c['lease-duration'],
    },
  };
}

/**
 * The arguments one component of the all-in-one process should parse: every `flag value` pair this
 * component knows, plus any it does not share with the other one (so an unknown flag still fails).
 */
export function argsForComponent(component: Component, argv: readonly string[]): string[] {
  const names = (c: Component) =>
    new Set(
      (SETTINGS as readonly Setting[])
        .filter((s) => s.components.includes(c))
        .flatMap((s) => [s.flag, ...(s.aliases ?? [])]),
    );
  const mine = names(component);
  const theirs = names(component === 'watcher' ? 'renewer' : 'watcher');
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const match = /^--?([a-z][a-z0-9-]*)(=.*)?$/i.exec(arg);
    if (!match) {
      out.push(arg);
      continue;
    }
    const name = match[1] ?? '';
    const takesNext = match[2] === undefined && name !== 'help' && name !== 'h';
    const keep = mine.has(name) || !theirs.has(name);
    if (keep) out.push(arg);
    if (takesNext && i + 1 < argv.length) {
      if (keep) out.push(argv[i + 1] ?? '');
      i++;
    }
  }
  return out;
}

/**
 * The longest one sync can take: an STS call and an ECR call, each up to `ecr-max-attempts` tries of
 * `ecr-timeout`, plus a few seconds of Kubernetes writes. A shutdown timeout shorter than this can cut
 * a sync off (it is not lost: another renewer runs it again once the lock expires).
 */
export function longestSyncMs(
  config: Pick<RenewerConfig, 'ecrMaxAttempts' | 'ecrTimeoutMs'>,
): number {
  return 2 * config.ecrMaxAttempts * config.ecrTimeoutMs + 5000;
}
