import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { onProcessExit } from './exit-hooks.js';

/** How a server process was started; enough to start it again the same way. Serialisable. */
export interface ServerProcessRecord {
  /** Short name for messages: `etcd`, `kube-apiserver`, `redis-server`. */
  readonly name: string;
  /** The executable (absolute path, or a name looked up on PATH). */
  readonly command: string;
  readonly args: readonly string[];
  /** stdout and stderr of the process, appended (one file across restarts). */
  readonly logPath: string;
  readonly cwd: string;
  readonly pid: number;
}

export interface SpawnServerOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly logPath: string;
  readonly cwd: string;
  /** Appended to the "not found" error, e.g. how to install the program. */
  readonly installHint?: string;
  /** Environment variables added to this process's own. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface StopOptions {
  /** First signal; SIGKILL follows after `timeoutMs`. Default SIGTERM. */
  readonly signal?: NodeJS.Signals;
  /** Default 10 s. */
  readonly timeoutMs?: number;
}

/** Finds an executable on PATH, as a shell would. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

export function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

const setpriv = findOnPath('setpriv');

/**
 * A long-running server process with its output in a log file. It belongs to the process that
 * spawned it and is killed when that process exits, however it exits (also SIGKILL, through a
 * parent-death signal when `setpriv` is available).
 */
export class ServerProcess {
  readonly record: ServerProcessRecord;
  private readonly child: ChildProcess;

  private constructor(record: ServerProcessRecord, child: ChildProcess) {
    this.record = record;
    this.child = child;
  }

  static async spawn(options: SpawnServerOptions): Promise<ServerProcess> {
    const { name, command, args, logPath, cwd } = options;
    const resolved = command.includes('/') ? command : findOnPath(command);
    if (resolved === undefined || !isExecutableFile(resolved)) {
      const hint = options.installHint === undefined ? '' : ` ${options.installHint}`;
      throw new Error(`${name}: ${command} was not found or is not executable.${hint}`);
    }
    // Output goes to a file, not a pipe: nothing to drain, and it is still there after a failure.
    const fd = openSync(logPath, 'a');
    // PR_SET_PDEATHSIG fires when the spawning *thread* ends; the global setup runs on the main
    // thread of the vitest process, so its servers die with it even when it is SIGKILLed.
    const [file, argv] =
      setpriv !== undefined
        ? [setpriv, ['--pdeathsig', 'KILL', '--', resolved, ...args]]
        : [resolved, [...args]];
    let child: ChildProcess;
    try {
      const env = options.env === undefined ? process.env : { ...process.env, ...options.env };
      child = spawn(file, argv, { cwd, env, stdio: ['ignore', fd, fd] });
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    } catch (error) {
      throw new Error(`${name}: could not start ${resolved}: ${(error as Error).message}`, {
        cause: error,
      });
    } finally {
      closeSync(fd);
    }
    const pid = child.pid;
    if (pid === undefined) throw new Error(`${name}: started without a pid`);
    const server = new ServerProcess(
      { name, command: resolved, args: [...args], logPath, cwd, pid },
      child,
    );
    const forget = onProcessExit(() => {
      server.killNow();
    });
    child.once('exit', forget);
    return server;
  }

  get name(): string {
    return this.record.name;
  }

  get pid(): number {
    return this.record.pid;
  }

  isRunning(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** "exited with code 1", "was killed by SIGKILL" or "is running". */
  describeExit(): string {
    if (this.child.exitCode !== null) return `exited with code ${this.child.exitCode}`;
    if (this.child.signalCode !== null) return `was killed by ${this.child.signalCode}`;
    return 'is running';
  }

  /** Stops the process and waits until it is gone. Safe to call when it already stopped. */
  async stop(options: StopOptions = {}): Promise<void> {
    const { signal = 'SIGTERM', timeoutMs = 10_000 } = options;
    if (!this.isRunning()) return;
    this.signal(signal);
    if (await this.waitForExit(timeoutMs)) return;
    this.signal('SIGKILL');
    if (await this.waitForExit(5_000)) return;
    throw new Error(`${this.name} (pid ${this.pid}) is still running after SIGKILL`);
  }

  /** SIGKILL without waiting, for exit hooks (which cannot wait). */
  killNow(): void {
    if (this.isRunning()) this.signal('SIGKILL');
  }

  /** The last lines the process wrote, indented, for error messages. */
  logTail(lines = 25): string {
    return `last lines of ${this.record.logPath}:\n${readTail(this.record.logPath, lines)}`;
  }

  private signal(signal: NodeJS.Signals): void {
    try {
      process.kill(this.pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }

  private async waitForExit(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.isRunning()) {
      if (Date.now() >= deadline) return false;
      await sleep(25);
    }
    return true;
  }
}

function readTail(path: string, lines: number): string {
  let text: string;
  try {
    const size = statSync(path).size;
    const length = Math.min(size, 32 * 1024);
    const buffer = Buffer.alloc(length);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, buffer, 0, length, size - length);
    } finally {
      closeSync(fd);
    }
    text = buffer.toString('utf8');
  } catch (error) {
    return `  (could not read: ${(error as Error).message})`;
  }
  const tail = text.split('\n').filter((line) => line.trim() !== '');
  if (tail.length === 0) return '  (empty)';
  return tail
    .slice(-lines)
    .map((line) => `  ${line}`)
    .join('\n');
}

/**
 * Polls `check` until it returns true. Fails early, with the server's last log lines, when the
 * server exits; fails with the same lines and the last check error when `timeoutMs` passes.
 */
export async function waitUntilReady(
  server: ServerProcess,
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const started = Date.now();
  let lastProblem: string;
  let delay = 20;
  for (;;) {
    if (!server.isRunning()) {
      throw new Error(
        `${server.name} (pid ${server.pid}) ${server.describeExit()} before ${what}; ${server.logTail()}`,
      );
    }
    try {
      if (await check()) return;
      lastProblem = 'check answered "not yet"';
    } catch (error) {
      lastProblem = (error as Error).message;
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(
        `${server.name} (pid ${server.pid}) was not ${what} after ${timeoutMs / 1000} s ` +
          `(last check: ${lastProblem}); ${server.logTail()}`,
      );
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 250);
  }
}
