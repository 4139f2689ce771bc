/**
 * The benchmark's eatr processes: one watcher and BENCH_RENEWERS renewers started from the built
 * entrypoints, with their metrics read directly (port looked up once) and their log lines counted
 * incrementally, so that watching them costs the benchmark little CPU at 10,000 namespaces.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { EatrProcess } from '../harness/eatr-process.js';

/** A renewer refused its settings (exit status 2, "invalid configuration"). */
export class SettingUnsupported extends Error {
  override readonly name = 'SettingUnsupported';
}

const ports = new WeakMap<EatrProcess, number>();

function portOf(p: EatrProcess): number {
  let port = ports.get(p);
  if (port === undefined) {
    port = p.metricsPort;
    ports.set(p, port);
  }
  return port;
}

export async function scrape(p: EatrProcess): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${portOf(p)}/metrics`);
  return response.text();
}

/** Samples of a metric (summed), optionally grouped by one label. */
export function metricSamples(text: string, name: string, byLabel?: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    const label =
      byLabel === undefined ? '' : (new RegExp(`${byLabel}="([^"]*)"`).exec(line)?.[1] ?? '');
    out.set(label, (out.get(label) ?? 0) + value);
  }
  return out;
}

export async function metricValue(p: EatrProcess, name: string): Promise<number> {
  return [...metricSamples(await scrape(p), name).values()].reduce((a, b) => a + b, 0);
}

export async function isReady(p: EatrProcess): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${portOf(p)}/readyz`).catch(() => undefined);
  return response?.status === 200;
}

export async function residentMiB(p: EatrProcess): Promise<number> {
  const pid = p.child.pid;
  if (pid === undefined) return Number.NaN;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

export interface Memory {
  readonly component: string;
  readonly residentMiB: number;
  readonly heapUsedMiB: number;
}

/** Resident set (from /proc) and V8 heap used (`nodejs_heap_size_used_bytes`, as last seen). */
export async function memory(p: EatrProcess): Promise<Memory> {
  const heap = await metricValue(p, 'nodejs_heap_size_used_bytes').catch(() => Number.NaN);
  return { component: p.component, residentMiB: await residentMiB(p), heapUsedMiB: heap / 2 ** 20 };
}

/** Counts log lines containing `needle` across processes, reading only lines not seen before. */
export class LogCounter {
  private readonly seen = new Map<EatrProcess, { index: number; count: number }>();
  constructor(private readonly needle: string) {}

  count(processes: readonly EatrProcess[]): number {
    let total = 0;
    for (const p of processes) {
      const state = this.seen.get(p) ?? { index: 0, count: 0 };
      for (; state.index < p.lines.length; state.index++)
        if (p.lines[state.index]?.includes(this.needle)) state.count++;
      this.seen.set(p, state);
      total += state.count;
    }
    return total;
  }

  /** The last matching line, parsed, among the processes. */
  last(processes: readonly EatrProcess[]): Record<string, unknown> | undefined {
    for (const p of [...processes].reverse()) {
      for (let i = p.lines.length - 1; i >= 0; i--) {
        const line = p.lines[i] ?? '';
        if (line.includes(this.needle)) {
          try {
            return JSON.parse(line) as Record<string, unknown>;
          } catch {
            return undefined;
          }
        }
      }
    }
    return undefined;
  }
}

/** The chart's default memory limits (charts/eatr/values.yaml), which the processes run under. */
export const RENEWER_LIMIT_MIB = 384;
export const WATCHER_LIMIT_MIB = 256;

/** The runtime environment the chart renders for a memory limit (eatr.nodeOptionsEnv in _helpers.tpl). */
export function chartRuntimeEnv(limitMib: number): Record<string, string> {
  return {
    NODE_OPTIONS: `--max-old-space-size=${Math.floor(limitMib * 0.75)} --max-semi-space-size=2`,
    MALLOC_ARENA_MAX: '2',
  };
}

export class EatrProcesses {
  /** Every process started, for the final stop. */
  readonly all: EatrProcess[] = [];
  renewers: EatrProcess[] = [];
  watcher: EatrProcess | undefined;

  constructor(
    private readonly env: Readonly<Record<string, string>>,
    private readonly renewerCount: number,
  ) {}

  get live(): EatrProcess[] {
    return [...this.renewers, ...(this.watcher ? [this.watcher] : [])];
  }

  /** Starts the renewers; throws SettingUnsupported when a renewer exits on a configuration error. */
  async startRenewers(extraEnv: Readonly<Record<string, string>> = {}): Promise<void> {
    const env = { ...this.env, ...chartRuntimeEnv(RENEWER_LIMIT_MIB), ...extraEnv };
    const started = await Promise.allSettled(
      Array.from({ length: this.renewerCount }, () => EatrProcess.start('renewer', { env })),
    );
    const ok = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    this.all.push(...ok);
    const failed = started.find((r) => r.status === 'rejected');
    if (failed === undefined) {
      this.renewers = ok;
      return;
    }
    await Promise.allSettled(ok.map((p) => p.stop()));
    const reason: unknown = failed.reason;
    const message = reason instanceof Error ? reason.message : String(reason);
    const config = /invalid configuration: (.*)/.exec(message)?.[1];
    if (/exited \(2\)/.test(message) || config !== undefined)
      throw new SettingUnsupported(config ?? message.split('\n')[0] ?? message);
    throw reason instanceof Error ? reason : new Error(message);
  }

  async stopRenewers(): Promise<void> {
    await Promise.all(this.renewers.map((p) => p.stop()));
    this.renewers = [];
  }

  async startWatcher(): Promise<EatrProcess> {
    const watcher = await EatrProcess.start('watcher', {
      env: { ...this.env, ...chartRuntimeEnv(WATCHER_LIMIT_MIB) },
    });
    this.all.push(watcher);
    this.watcher = watcher;
    return watcher;
  }

  async stopWatcher(): Promise<void> {
    await this.watcher?.stop();
    this.watcher = undefined;
  }

  async stopAll(): Promise<void> {
    await Promise.allSettled(this.all.map((p) => p.stop()));
  }
}

/** Which of `names` the built renewer does not list among its settings (`--help`). */
export async function unknownRenewerSettings(names: readonly string[]): Promise<string[]> {
  const entry = fileURLToPath(new URL('../../packages/renewer/dist/main.js', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [entry, '--help'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
  }).catch((error: unknown) => {
    const out = (error as { stdout?: unknown }).stdout;
    return { stdout: typeof out === 'string' ? out : '' };
  });
  if (stdout.trim() === '') return [];
  return names.filter((name) => !stdout.includes(name));
}
