import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './kube.js';

/**
 * Debian's Prometheus (`/usr/bin/prometheus`), run by the test inside the node's namespaces, so it
 * reaches Pod IPs over the node's bridge as an in-cluster Prometheus would.
 */
export interface Prometheus {
  readonly url: string;
  query(expr: string): Promise<PromResult>;
  /** The alerts pending or firing now (`/api/v1/alerts`). */
  alerts(): Promise<PromAlert[]>;
  get<T>(path: string): Promise<T>;
  /** Replaces the file_sd targets (Prometheus notices the file change and rescrapes). */
  setTargets(targets: string): Promise<void>;
  stop(): Promise<void>;
}

export interface PromSeries {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PromAlert {
  labels: Record<string, string>;
  state: string;
}

export type PromResult =
  | { status: 'success'; data: { resultType: string; result: PromSeries[] | [number, string] } }
  | { status: 'error'; errorType: string; error: string };

export async function startPrometheus(options: {
  config: string;
  rules: string;
  /** file_sd target groups (targets.json). */
  targets: string;
  port: number;
}): Promise<Prometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'eatr-e2e-prometheus-'));
  await writeFile(join(dir, 'prometheus.yml'), options.config);
  await writeFile(join(dir, 'rules.yml'), options.rules);
  await writeFile(join(dir, 'targets.json'), options.targets);
  const url = `http://127.0.0.1:${options.port}`;
  let log = '';
  const child: ChildProcess = spawn(
    '/usr/bin/prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${options.port}`,
      '--log.level=warn',
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`);
    return (await response.json()) as T;
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const failed = new Promise<never>((_, reject) =>
      child.once('exit', () => reject(new Error(`prometheus exited: ${log}`))),
    );
    // Exiting later (on stop) is not a failure.
    failed.catch(() => undefined);
    await eventually(
      'Prometheus ready',
      async () => {
        const response = await Promise.race([
          fetch(`${url}/-/ready`).catch(() => undefined),
          failed,
        ]);
        return response?.ok ? true : undefined;
      },
      60_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    get,
    query: (expr) => get<PromResult>(`/api/v1/query?query=${encodeURIComponent(expr)}`),
    alerts: async () =>
      (await get<{ data: { alerts: PromAlert[] } }>('/api/v1/alerts')).data.alerts,
    // Written aside and renamed, so Prometheus never reads half a file.
    setTargets: async (targets) => {
      await writeFile(join(dir, 'targets.json.tmp'), targets);
      await rename(join(dir, 'targets.json.tmp'), join(dir, 'targets.json'));
    },
    stop,
  };
}
