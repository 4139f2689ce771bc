import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { createRunDir } from './run-dir.js';
import type { RunDir } from './run-dir.js';
import { ServerProcess, waitUntilReady } from './server-process.js';

export interface RedisServerOptions {
  /** Default: a free port. */
  readonly port?: number;
  /** Default 15 s. */
  readonly startTimeoutMs?: number;
}

const INSTALL_HINT =
  'Install it with `apt-get install redis-server` (Debian/Ubuntu; `bash test/tools/prereqs.sh` does it), ' +
  'or set REDIS_URL to use a Redis server that is already running.';

/**
 * A private redis-server on a loopback port, with nothing persisted and `noeviction` (what BullMQ
 * requires), in its own temporary folder.
 */
export class RedisServer {
  readonly port: number;
  readonly url: string;
  private readonly dir: RunDir;
  private readonly startTimeoutMs: number;
  private server: ServerProcess | undefined;
  private stopped = false;
  private firstStartMs = 0;

  private constructor(port: number, dir: RunDir, startTimeoutMs: number) {
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
    this.dir = dir;
    this.startTimeoutMs = startTimeoutMs;
  }

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const started = performance.now();
    const port = options.port ?? (await freePort());
    const dir = createRunDir('eatr-redis-');
    const redis = new RedisServer(port, dir, options.startTimeoutMs ?? 15_000);
    try {
      await redis.launch();
    } catch (error) {
      await redis.stop();
      throw error;
    }
    redis.firstStartMs = performance.now() - started;
    return redis;
  }

  /** How long the first start took, until PING answered. */
  get startMs(): number {
    return this.firstStartMs;
  }

  /** Stops the server and removes its folder. Safe to call more than once. */
  async stop(): Promise<void> {
    this.stopped = true;
    const server = this.server;
    this.server = undefined;
    await server?.stop();
    this.dir.remove();
  }

  /**
   * Stops the server and starts an empty one on the same port (a Redis restart or failover); runs
   * `whileDown` in between (an outage).
   */
  async restart(whileDown?: () => Promise<void>): Promise<void> {
    if (this.stopped)
      throw new Error(`redis-server on port ${this.port} was stopped; cannot restart it`);
    const server = this.server;
    this.server = undefined;
    await server?.stop();
    await whileDown?.();
    await this.launch();
  }

  /** Deletes every key of every database. */
  async flushAll(): Promise<void> {
    const answer = await redisCommand(this.port, ['FLUSHALL']);
    if (answer !== '+OK')
      throw new Error(`redis-server on port ${this.port}: FLUSHALL answered ${answer}`);
  }

  private async launch(): Promise<void> {
    const server = await ServerProcess.spawn({
      name: 'redis-server',
      command: 'redis-server',
      // prettier-ignore
      args: [
        '--port', String(this.port),
        '--bind', '127.0.0.1',
        '--save', '',
        '--appendonly', 'no',
        '--maxmemory-policy', 'noeviction',
        '--dir', this.dir.path,
        '--daemonize', 'no',
        '--logfile', '',
      ],
      logPath: join(this.dir.path, 'redis-server.log'),
      cwd: this.dir.path,
      installHint: INSTALL_HINT,
    });
    this.server = server;
    await waitUntilReady(
      server,
      `answering PING on port ${this.port}`,
      async () => (await redisCommand(this.port, ['PING'])) === '+PONG',
      this.startTimeoutMs,
    );
  }
}

/** Sends one command in RESP and returns the first line of the answer (`+PONG`, `-ERR ...`). */
function redisCommand(port: number, args: readonly string[], timeoutMs = 2_000): Promise<string> {
  const request =
    `*${args.length}\r\n` + args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('');
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let answer = '';
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`no answer within ${timeoutMs} ms`)),
    );
    socket.once('connect', () => socket.write(request));
    socket.on('data', (chunk: string) => {
      answer += chunk;
      const end = answer.indexOf('\r\n');
      if (end >= 0) {
        resolve(answer.slice(0, end));
        socket.destroy();
      }
    });
    socket.once('error', reject);
    // A no-op once settled; otherwise the server hung up without answering.
    socket.once('close', () => reject(new Error('connection closed without an answer')));
  });
}
