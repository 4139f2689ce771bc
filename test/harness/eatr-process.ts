import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This checkout: the build under test. */
export const CURRENT_BUILD = fileURLToPath(new URL('../..', import.meta.url));

const ENTRYPOINTS = {
  renewer: { path: 'packages/renewer/dist/main.js', args: [] },
  watcher: { path: 'packages/watcher/dist/main.js', args: [] },
  // The watcher and a renewer in one process: `eatr run`.
  'all-in-one': { path: 'packages/cli/dist/main.js', args: ['run'] },
} as const;

export type EatrComponent = keyof typeof ENTRYPOINTS;

export interface EatrProcessOptions {
  /** Environment for the process; nothing else from the test's environment leaks in but PATH and HOME. */
  readonly env: Readonly<Record<string, string>>;
  readonly args?: readonly string[];
  /** Resolve start() once the log says the component started (default true). */
  readonly waitForStart?: boolean;
  /** The built eatr to run: a checkout whose packages are built (default: this one). */
  readonly build?: string;
}

const running = new Set<EatrProcess>();
process.once('exit', () => {
  for (const p of running) p.child.kill('SIGKILL');
});

/**
 * A watcher, renewer or all-in-one process started from the built entrypoints (what users run), with
 * every log line kept for assertions and for the secret-leak scan.
 */
export class EatrProcess {
  readonly lines: string[] = [];
  /** When the process exited (ms since the epoch); undefined while it runs. */
  exitedAt: number | undefined;
  private exit: Promise<number | null>;
  private listeners: (() => void)[] = [];

  private constructor(
    readonly component: EatrComponent,
    readonly child: ChildProcess,
  ) {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const line of parts) if (line.trim() !== '') this.lines.push(line);
      for (const listener of this.listeners) listener();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exit = new Promise((resolve) =>
      child.once('exit', (code) => {
        this.exitedAt = Date.now();
        resolve(code);
      }),
    );
    void this.exit.then(() => running.delete(this));
  }

  static async start(component: EatrComponent, options: EatrProcessOptions): Promise<EatrProcess> {
    const { path, args } = ENTRYPOINTS[component];
    const entry = join(options.build ?? CURRENT_BUILD, path);
    const child = spawn(process.execPath, [entry, ...args, ...(options.args ?? [])], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        AWS_EC2_METADATA_DISABLED: 'true',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const p = new EatrProcess(component, child);
    running.add(p);
    if (options.waitForStart ?? true) {
      const marker = component === 'all-in-one' ? 'eatr running' : `${component} started`;
      await p.waitForLog((l) => l.msg === marker, 30_000);
    }
    return p;
  }

  /** Log lines parsed as JSON (non-JSON lines are skipped). */
  get logs(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const line of this.lines) {
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a JSON log line (e.g. a config error message)
      }
    }
    return out;
  }

  get metricsPort(): number {
    const port = this.logs.find((l) => typeof l.metricsPort === 'number')?.metricsPort;
    if (typeof port !== 'number')
      throw new Error(`${this.component} has not logged its metrics port`);
    return port;
  }

  async metrics(): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`);
    return response.text();
  }

  /** Sum of a metric's samples whose labels include `labels`. */
  async metricValue(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await this.metrics();
    let sum = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return sum;
  }

  /** /healthz answers 200 (the liveness probe would pass). */
  async healthy(): Promise<boolean> {
    const response = await fetch(`http://127.0.0.1:${this.metricsPort}/healthz`).catch(
      () => undefined,
    );
    return response?.status === 200;
  }

  async ready(): Promise<boolean> {
    const response = await fetch(`http://127.0.0.1:${this.metricsPort}/readyz`).catch(
      () => undefined,
    );
    return response?.status === 200;
  }

  /** Waits for a JSON log line matching `predicate`; fails with the last lines on timeout or exit. */
  waitForLog(
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs = 10_000,
  ): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.logs.find(predicate);
        if (found) {
          cleanup();
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `${this.component}: no matching log line within ${timeoutMs} ms; last lines:\n${this.lines.slice(-15).join('\n')}`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
      };
      void this.exit.then((code) => {
        if (this.logs.find(predicate)) return;
        cleanup();
        reject(
          new Error(
            `${this.component} exited (${String(code)}) before a matching log line:\n${this.lines.slice(-15).join('\n')}`,
          ),
        );
      });
      this.listeners.push(check);
      check();
    });
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null when killed). */
  async stop(graceMs = 15_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exit;
    clearTimeout(timer);
    return code;
  }

  /** SIGKILL: a crash, as far as the rest of the system can tell. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exit;
  }

  get exited(): Promise<number | null> {
    return this.exit;
  }
}
