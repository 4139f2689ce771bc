import { setTimeout as sleep } from 'node:timers/promises';
import { SingleBar } from 'cli-progress';
import {
  EXPIRES_AT_ANNOTATION,
  desiredRegistries,
  enqueueSync,
  globalRegistriesOf,
  kubeStatus,
  nameOutputSecrets,
  parseRegistryHost,
  syncDeduplicationId,
} from '@eatr/core';
import { BlockedStore } from '@eatr/core';
import type { Cli } from './context.js';
import { UsageError } from './context.js';
import { formatStructured, humanDuration, paint, table, type OutputFormat } from './output.js';
import {
  allRenewed,
  renewRows,
  type RenewRow,
  type RenewTarget,
  type SecretSnapshot,
} from './renew-model.js';

export interface RenewOptions {
  readonly namespaces: readonly string[];
  readonly all: boolean;
  readonly registry: string | undefined;
  readonly wait: boolean;
  readonly timeoutMs: number;
  readonly output: OutputFormat;
}

export interface RenewIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** The progress bar's terminal (stderr); it draws nothing when that is not a terminal. */
  readonly progress: NodeJS.WriteStream;
}

/** The Secrets to renew: each opted-in namespace asked for (or all), for one registry or all. */
async function targetsOf(cli: Cli, options: RenewOptions): Promise<RenewTarget[]> {
  if (!options.all && options.namespaces.length === 0)
    throw new UsageError('name the namespaces to renew, or --all for every opted-in namespace');
  if (options.all && options.namespaces.length > 0)
    throw new UsageError('give namespaces or --all, not both');
  const registry =
    options.registry === undefined ? undefined : parseRegistryHost(options.registry)?.host;
  if (options.registry !== undefined && registry === undefined)
    throw new UsageError(`--registry ${options.registry}: not an ECR registry host`);
  const core = cli.core;
  const namespaces = options.all
    ? (await core.listNamespace()).items
    : await Promise.all(
        options.namespaces.map((name) =>
          core.readNamespace({ name }).catch((error: unknown) => {
            if (kubeStatus(error) === 404) throw new UsageError(`namespace ${name} not found`);
            throw error;
          }),
        ),
      );
  const global = globalRegistriesOf(cli.watcher);
  const targets: RenewTarget[] = [];
  for (const ns of namespaces) {
    const name = ns.metadata?.name ?? '';
    const { registries } = desiredRegistries(name, ns.metadata?.labels, global);
    const { named } = nameOutputSecrets(cli.watcher.secretNameTemplate, registries);
    const wanted = named.filter((n) => registry === undefined || n.registry.host === registry);
    if (wanted.length === 0 && !options.all)
      throw new UsageError(
        `namespace ${name} does not ask eatr for ${registry ?? 'any registry'} (label it <registry host>=true)`,
      );
    for (const n of wanted)
      targets.push({ namespace: name, registry: n.registry.host, secret: n.secretName });
  }
  return targets;
}

async function snapshot(
  cli: Cli,
  namespaces: readonly string[],
): Promise<Map<string, SecretSnapshot>> {
  const out = new Map<string, SecretSnapshot>();
  const core = cli.core;
  await Promise.all(
    namespaces.map(async (namespace) => {
      const list = await core.listNamespacedSecret({ namespace });
      for (const s of list.items)
        out.set(`${namespace}/${s.metadata?.name ?? ''}`, {
          resourceVersion: s.metadata?.resourceVersion,
          expiresAt: s.metadata?.annotations?.[EXPIRES_AT_ANNOTATION],
        });
    }),
  );
  return out;
}

/**
 * Enqueues a forced sync (`force: 'renew'`) per namespace: the renewer renews even fresh Secrets and
 * ignores remembered AWS refusals, so this is also the way out after IAM was fixed. One requestedAt
 * for the wave, so the renewers share one new token per (credentials, region) across it.
 */
export async function renew(cli: Cli, options: RenewOptions, io: RenewIo): Promise<number> {
  const targets = await targetsOf(cli, options);
  const namespaces = [...new Set(targets.map((t) => t.namespace))];
  if (namespaces.length === 0) {
    io.err('No namespace asks eatr for a registry: nothing to renew.\n');
    return 0;
  }
  const before = await snapshot(cli, namespaces);
  const workers = await cli.queue.getWorkersCount().catch(() => undefined);
  if (workers === 0)
    io.err(
      `${paint('yellow', 'warning', io.progress)}: no renewer is connected to the queue; the syncs run when one starts\n`,
    );
  const requestedAt = Date.now();
  for (const namespace of namespaces)
    await enqueueSync(cli.queue, { namespace, reason: 'manual', force: 'renew', requestedAt });
  if (!options.wait) {
    io.out(
      `Enqueued forced syncs for ${namespaces.length} namespace${namespaces.length === 1 ? '' : 's'} (${targets.length} Secret${targets.length === 1 ? '' : 's'}).\n`,
    );
    return 0;
  }
  const unfinished = await waitForSyncs(cli, namespaces, options.timeoutMs, io.progress);
  const after = await snapshot(cli, namespaces);
  const blocked = await new BlockedStore(cli.redis, cli.watcher.queuePrefix).all();
  const rows = renewRows(targets, before, after, blocked, unfinished);
  io.out(`${renderRenew(rows, options.output, Date.now())}\n`);
  return allRenewed(rows) ? 0 : 1;
}

/**
 * Waits until no sync is waiting or running for each namespace (BullMQ keeps a namespace's
 * deduplication key until its job finishes), drawing a progress bar on a terminal. Returns the
 * namespaces still unfinished at the timeout.
 */
async function waitForSyncs(
  cli: Cli,
  namespaces: readonly string[],
  timeoutMs: number,
  stream: NodeJS.WriteStream,
): Promise<Set<string>> {
  const pending = new Set(namespaces);
  const bar = new SingleBar({
    stream,
    format: `Renewing {bar} {value}/{total} namespaces | {duration_formatted}`,
    barCompleteChar: '\u2588',
    barIncompleteChar: '\u2591',
    hideCursor: true,
    clearOnComplete: false,
  });
  bar.start(namespaces.length, 0);
  const deadline = Date.now() + timeoutMs;
  try {
    while (pending.size > 0 && Date.now() < deadline) {
      for (const namespace of [...pending]) {
        const id = await cli.queue.getDeduplicationJobId(syncDeduplicationId(namespace));
        if (id === null) pending.delete(namespace);
      }
      bar.update(namespaces.length - pending.size);
      if (pending.size > 0) await sleep(200);
    }
  } finally {
    bar.stop();
  }
  return pending;
}

const RESULT_STYLE = {
  renewed: 'green',
  created: 'green',
  unchanged: 'red',
  pending: 'yellow',
} as const;

export function renderRenew(rows: readonly RenewRow[], format: OutputFormat, now: number): string {
  if (format === 'json' || format === 'yaml') return formatStructured(format, { items: rows });
  const wide = format === 'wide';
  const until = (iso: string | undefined) =>
    iso === undefined ? '-' : humanDuration(Date.parse(iso) - now);
  const body = table(
    [
      'NAMESPACE',
      'REGISTRY',
      ...(wide ? ['SECRET'] : []),
      'RESULT',
      'EXPIRES IN',
      ...(wide ? ['WAS'] : []),
      'REASON',
    ],
    rows.map((r) => [
      r.namespace,
      r.registry,
      ...(wide ? [r.secret] : []),
      paint(RESULT_STYLE[r.result], r.result),
      until(r.expiresAt),
      ...(wide ? [until(r.expiresBefore)] : []),
      r.reason ?? '-',
    ]),
  );
  const written = rows.filter((r) => r.result === 'renewed' || r.result === 'created');
  const tokens = new Set(written.map((r) => r.expiresAt)).size;
  const failed = rows.length - written.length;
  const summary =
    `${written.length} of ${rows.length} Secret${rows.length === 1 ? '' : 's'} renewed` +
    (written.length > 0 ? ` with ${tokens} new token${tokens === 1 ? '' : 's'}` : '') +
    (failed > 0 ? `; ${paint('red', `${failed} not`)} (see REASON, and eatr doctor)` : '');
  return `${body}\n\n${summary}`;
}
