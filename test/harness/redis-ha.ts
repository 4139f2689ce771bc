import { execFile } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis, type RedisOptions } from 'ioredis';
import { freePort } from './free-port.js';
import { createRunDir, type RunDir } from './run-dir.js';
import { ServerProcess, waitUntilReady } from './server-process.js';
import { createTestPki, openssl } from './test-pki.js';

// Redis as production runs it, on loopback ports: a Sentinel group, a Cluster, a TLS server. Each
// keeps its processes and files in one run folder and removes both on stop(). The folders' prefixes
// do not start with RedisServer's `eatr-redis-`, whose orphan clean-up would otherwise look at them.

const run = promisify(execFile);

const INSTALL_HINT =
  'Install it with `apt-get install redis-server redis-sentinel redis-tools` (Debian/Ubuntu; ' +
  '`bash test/tools/prereqs.sh` does it).';

/** What every test Redis runs with: nothing persisted, BullMQ's `noeviction`. */
const BASE_ARGS = [
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'no',
  '--maxmemory-policy',
  'noeviction',
  '--daemonize',
  'no',
  '--logfile',
  '',
];

/** One command on a fresh connection; the reply as ioredis gives it. */
export async function redisCall(
  options: RedisOptions,
  command: string,
  ...args: (string | number)[]
): Promise<unknown> {
  const client = new Redis({
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 2_000,
    ...options,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call(command, ...args);
  } finally {
    client.disconnect();
  }
}

async function spawnRedis(
  name: string,
  dir: string,
  args: readonly string[],
  ready: () => Promise<boolean>,
): Promise<ServerProcess> {
  mkdirSync(dir, { recursive: true });
  const server = await ServerProcess.spawn({
    name,
    command: 'redis-server',
    args,
    logPath: join(dir, `${name}.log`),
    cwd: dir,
    installHint: INSTALL_HINT,
  });
  try {
    await waitUntilReady(server, 'answering PING', ready, 15_000);
  } catch (error) {
    await server.stop({ signal: 'SIGKILL' });
    throw error;
  }
  return server;
}

/** Polls until `check` holds; fails with `what` and the last answer. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${last})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopAll(servers: readonly (ServerProcess | undefined)[], dir: RunDir) {
  await Promise.all(servers.map(async (s) => s?.stop()));
  dir.remove();
}

export interface SentinelGroupOptions {
  /** requirepass of master and replica (masterauth too); none by default. */
  readonly password?: string;
  /** requirepass of the sentinels themselves; none by default. */
  readonly sentinelPassword?: string;
  /** Default `mymaster`. */
  readonly masterName?: string;
}

/**
 * One master, one replica and three sentinels (quorum 2), as the common Redis charts' replication
 * mode runs them. `failover()` makes the sentinels promote the replica.
 */
export class SentinelGroup {
  readonly masterName: string;
  private readonly servers = new Map<number, ServerProcess>();
  private readonly sentinels: ServerProcess[] = [];

  private constructor(
    private readonly dir: RunDir,
    readonly dataPorts: readonly [number, number],
    readonly sentinelPorts: readonly number[],
    private readonly options: SentinelGroupOptions,
  ) {
    this.masterName = options.masterName ?? 'mymaster';
  }

  static async start(options: SentinelGroupOptions = {}): Promise<SentinelGroup> {
    const dir = createRunDir('eatr-sentinel-');
    const ports = [await freePort(), await freePort()] as const;
    const sentinelPorts = [await freePort(), await freePort(), await freePort()];
    const group = new SentinelGroup(dir, ports, sentinelPorts, options);
    try {
      await group.launch();
    } catch (error) {
      await group.stop();
      throw error;
    }
    return group;
  }

  /** The eatr settings that reach this group. */
  get env(): Record<string, string> {
    return {
      EATR_REDIS_SENTINELS: this.sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','),
      EATR_REDIS_SENTINEL_MASTER: this.masterName,
      ...(this.options.password ? { EATR_REDIS_PASSWORD: this.options.password } : {}),
      ...(this.options.sentinelPassword
        ? { EATR_REDIS_SENTINEL_PASSWORD: this.options.sentinelPassword }
        : {}),
    };
  }

  private auth(): RedisOptions {
    return this.options.password ? { password: this.options.password } : {};
  }

  private sentinelAuth(): RedisOptions {
    return this.options.sentinelPassword ? { password: this.options.sentinelPassword } : {};
  }

  private async launch(): Promise<void> {
    const [masterPort, replicaPort] = this.dataPorts;
    const password = this.options.password;
    const auth = password ? ['--requirepass', password, '--masterauth', password] : [];
    for (const [i, port] of [masterPort, replicaPort].entries()) {
      const data = join(this.dir.path, `redis-${port}`);
      const replicaOf = i === 1 ? ['--replicaof', '127.0.0.1', String(masterPort)] : [];
      const server = await spawnRedis(
        `redis-server-${port}`,
        data,
        ['--port', String(port), ...BASE_ARGS, '--dir', data, ...auth, ...replicaOf],
        async () => (await redisCall({ port, ...this.auth() }, 'PING')) === 'PONG',
      );
      this.servers.set(port, server);
    }
    await until('the replica to sync', async () => {
      const info = String(
        await redisCall({ port: replicaPort, ...this.auth() }, 'INFO', 'replication'),
      );
      return info.includes('master_link_status:up');
    });
    for (const port of this.sentinelPorts) {
      const data = join(this.dir.path, `sentinel-${port}`);
      mkdirSync(data, { recursive: true });
      // Sentinel rewrites its config file (it records what it learns), so each has its own.
      const conf = join(data, 'sentinel.conf');
      const lines = [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${data}`,
        `sentinel monitor ${this.masterName} 127.0.0.1 ${masterPort} 2`,
        `sentinel down-after-milliseconds ${this.masterName} 1000`,
        `sentinel failover-timeout ${this.masterName} 5000`,
        `sentinel parallel-syncs ${this.masterName} 1`,
        ...(password ? [`sentinel auth-pass ${this.masterName} ${password}`] : []),
        ...(this.options.sentinelPassword ? [`requirepass ${this.options.sentinelPassword}`] : []),
      ];
      writeFileSync(conf, `${lines.join('\n')}\n`);
      const server = await spawnRedis(
        `redis-sentinel-${port}`,
        data,
        [conf, '--sentinel', '--daemonize', 'no', '--logfile', ''],
        async () => (await redisCall({ port, ...this.sentinelAuth() }, 'PING')) === 'PONG',
      );
      this.sentinels.push(server);
    }
    // Failover needs each sentinel to know the replica and the other sentinels (hello messages).
    await this.waitForQuorum();
  }

  /** Until every sentinel sees the replica and enough sentinels to authorise a failover. */
  async waitForQuorum(): Promise<void> {
    for (const port of this.sentinelPorts) {
      await until(`sentinel ${port} to reach quorum`, async () => {
        const o = { port, ...this.sentinelAuth() };
        const ok = String(await redisCall(o, 'SENTINEL', 'CKQUORUM', this.masterName));
        const replicas = (await redisCall(o, 'SENTINEL', 'REPLICAS', this.masterName)) as unknown[];
        const others = (await redisCall(o, 'SENTINEL', 'SENTINELS', this.masterName)) as unknown[];
        return ok.startsWith('OK') && replicas.length >= 1 && others.length >= 2;
      });
    }
  }

  /** The port of the current master, as the first sentinel answers. */
  async masterPort(): Promise<number> {
    const o = { port: this.sentinelPorts[0] ?? 0, ...this.sentinelAuth() };
    const addr = (await redisCall(o, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.masterName)) as [
      string,
      string,
    ];
    return Number(addr[1]);
  }

  /**
   * Asks the sentinels to promote the replica (`SENTINEL FAILOVER`) and waits until the new master
   * accepts writes. Returns the new master's port.
   */
  async failover(): Promise<number> {
    const before = await this.masterPort();
    const o = { port: this.sentinelPorts[0] ?? 0, ...this.sentinelAuth() };
    await redisCall(o, 'SENTINEL', 'FAILOVER', this.masterName);
    let after = before;
    await until('the sentinels to announce a new master', async () => {
      after = await this.masterPort();
      return after !== before;
    });
    await until('the new master to take writes', async () => {
      const info = String(await redisCall({ port: after, ...this.auth() }, 'INFO', 'replication'));
      return info.includes('role:master');
    });
    return after;
  }

  /**
   * SIGKILLs the current master (a crash: no goodbye to its clients) once its replica is in sync,
   * and waits until the sentinels have promoted the replica and it takes writes. Returns the new
   * master's port. The killed server stays down.
   */
  async killMaster(): Promise<number> {
    const before = await this.masterPort();
    const replica = this.dataPorts.find((p) => p !== before) ?? 0;
    await until('the replica to be in sync', async () => {
      const info = String(
        await redisCall({ port: replica, ...this.auth() }, 'INFO', 'replication'),
      );
      return info.includes('master_link_status:up');
    });
    await this.waitForQuorum();
    await this.servers.get(before)?.stop({ signal: 'SIGKILL' });
    await until(
      'the sentinels to promote the replica',
      async () => (await this.masterPort()) === replica,
    );
    await until('the new master to take writes', async () => {
      const info = String(
        await redisCall({ port: replica, ...this.auth() }, 'INFO', 'replication'),
      );
      return info.includes('role:master');
    });
    return replica;
  }

  /** Stops every process and removes the folder. Safe to call twice. */
  async stop(): Promise<void> {
    const all = [...this.sentinels, ...this.servers.values()];
    this.sentinels.length = 0;
    this.servers.clear();
    await stopAll(all, this.dir);
  }
}

/** A Redis Cluster of `masters` masters (no replicas) on loopback ports, every slot assigned. */
export class RedisCluster {
  private readonly servers: ServerProcess[] = [];

  private constructor(
    private readonly dir: RunDir,
    readonly ports: readonly number[],
    private readonly password: string | undefined,
  ) {}

  static async start(options: { masters?: number; password?: string } = {}): Promise<RedisCluster> {
    const dir = createRunDir('eatr-cluster-');
    const ports: number[] = [];
    for (let i = 0; i < (options.masters ?? 3); i++) ports.push(await freePort());
    const cluster = new RedisCluster(dir, ports, options.password);
    try {
      await cluster.launch();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  get env(): Record<string, string> {
    return {
      // One seed node is enough for ioredis to learn the others; give two, as a user would.
      EATR_REDIS_CLUSTER_NODES: this.ports
        .slice(0, 2)
        .map((p) => `127.0.0.1:${p}`)
        .join(','),
      ...(this.password ? { EATR_REDIS_PASSWORD: this.password } : {}),
    };
  }

  private async launch(): Promise<void> {
    const auth = this.password
      ? ['--requirepass', this.password, '--masterauth', this.password]
      : [];
    const o = this.password ? { password: this.password } : {};
    for (const port of this.ports) {
      const data = join(this.dir.path, `node-${port}`);
      const server = await spawnRedis(
        `redis-cluster-${port}`,
        data,
        // prettier-ignore
        [
          '--port', String(port), ...BASE_ARGS, '--dir', data, ...auth,
          '--cluster-enabled', 'yes',
          '--cluster-config-file', join(data, 'nodes.conf'),
          '--cluster-node-timeout', '5000',
        ],
        async () => (await redisCall({ port, ...o }, 'PING')) === 'PONG',
      );
      this.servers.push(server);
    }
    const nodes = this.ports.map((p) => `127.0.0.1:${p}`);
    try {
      await run('redis-cli', [
        ...(this.password ? ['-a', this.password, '--no-auth-warning'] : []),
        '--cluster',
        'create',
        ...nodes,
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ]);
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(`redis-cli --cluster create failed: ${stderr ?? ''}${stdout ?? ''}`, {
        cause: error,
      });
    }
    for (const port of this.ports) {
      await until(`cluster node ${port} to report cluster_state:ok`, async () =>
        String(await redisCall({ port, ...o }, 'CLUSTER', 'INFO')).includes('cluster_state:ok'),
      );
    }
  }

  /** The number of keys each node holds, by port. */
  async keysPerNode(): Promise<Map<number, number>> {
    const o = this.password ? { password: this.password } : {};
    const out = new Map<number, number>();
    for (const port of this.ports) out.set(port, Number(await redisCall({ port, ...o }, 'DBSIZE')));
    return out;
  }

  async stop(): Promise<void> {
    const all = this.servers.splice(0);
    await stopAll(all, this.dir);
  }
}

export interface TlsRedisOptions {
  /** Require a client certificate signed by the test CA (`--tls-auth-clients yes`). */
  readonly requireClientCert?: boolean;
}

/** One generation of the test PKI: a CA, Redis's serving certificate and a client certificate. */
interface TlsGeneration {
  readonly caCertPath: string;
  readonly caCertPem: string;
  readonly servingCertPath: string;
  readonly servingKeyPath: string;
  readonly clientCertPath: string;
  readonly clientKeyPath: string;
}

async function createGeneration(dir: string): Promise<TlsGeneration> {
  mkdirSync(dir, { recursive: true });
  const pki = await createTestPki(dir);
  const client = await createClientCertificate(dir);
  return { ...pki, clientCertPath: client.cert, clientKeyPath: client.key };
}

/**
 * A redis-server that only speaks TLS (`--port 0 --tls-port`), with a test CA, a serving certificate
 * for 127.0.0.1, and a client certificate for `--tls-auth-clients yes`. eatr reads the CA and client
 * certificate from a folder laid out as the kubelet lays out a Secret volume (`ca.crt`, `tls.crt`,
 * `tls.key` linking into `..data`, itself a link to the current generation), so rotate() swaps them
 * the way a Secret update does: all at once.
 */
export class TlsRedis {
  private server: ServerProcess | undefined;
  private generations = 0;
  private current!: TlsGeneration;

  private constructor(
    private readonly dir: RunDir,
    readonly port: number,
    private readonly options: TlsRedisOptions,
  ) {}

  static async start(options: TlsRedisOptions = {}): Promise<TlsRedis> {
    const dir = createRunDir('eatr-tls-redis-');
    try {
      const redis = new TlsRedis(dir, await freePort(), options);
      const volume = join(dir.path, 'volume');
      mkdirSync(volume);
      for (const name of ['ca.crt', 'tls.crt', 'tls.key'])
        symlinkSync(join('..data', name), join(volume, name));
      await redis.mountNext();
      await redis.launch();
      return redis;
    } catch (error) {
      dir.remove();
      throw error;
    }
  }

  /** Settings for eatr: TLS to this server with the test CA, and the client certificate if asked. */
  env(options: { clientCert?: boolean } = {}): Record<string, string> {
    const volume = join(this.dir.path, 'volume');
    return {
      EATR_REDIS_URL: `rediss://127.0.0.1:${this.port}`,
      EATR_REDIS_TLS_CA: join(volume, 'ca.crt'),
      ...(options.clientCert
        ? {
            EATR_REDIS_TLS_CERT: join(volume, 'tls.crt'),
            EATR_REDIS_TLS_KEY: join(volume, 'tls.key'),
          }
        : {}),
    };
  }

  /**
   * A rotation: a new CA, serving and client certificate; the client's files swapped in the volume
   * at once (as the kubelet does on a Secret update), then Redis restarted trusting only the new CA.
   * Returns when the new Redis answers with the new certificates.
   */
  async rotate(): Promise<void> {
    await this.mountNext();
    const server = this.server;
    this.server = undefined;
    await server?.stop();
    await this.launch();
  }

  private async mountNext(): Promise<void> {
    const name = `..gen-${++this.generations}`;
    this.current = await createGeneration(join(this.dir.path, 'volume', name));
    const volume = join(this.dir.path, 'volume');
    copyFileSync(this.current.clientCertPath, join(volume, name, 'tls.crt'));
    copyFileSync(this.current.clientKeyPath, join(volume, name, 'tls.key'));
    // ca.crt is already there (createTestPki); swap ..data in one rename.
    symlinkSync(name, join(volume, '..data_tmp'));
    renameSync(join(volume, '..data_tmp'), join(volume, '..data'));
  }

  private async launch(): Promise<void> {
    const gen = this.current;
    const tls = {
      ca: gen.caCertPem,
      cert: readFileSync(gen.clientCertPath, 'utf8'),
      key: readFileSync(gen.clientKeyPath, 'utf8'),
    };
    this.server = await spawnRedis(
      `redis-tls-${this.port}-${this.generations}`,
      join(this.dir.path, 'data'),
      // prettier-ignore
      [
        '--port', '0', '--tls-port', String(this.port), ...BASE_ARGS,
        '--dir', join(this.dir.path, 'data'),
        '--tls-cert-file', gen.servingCertPath,
        '--tls-key-file', gen.servingKeyPath,
        '--tls-ca-cert-file', gen.caCertPath,
        '--tls-auth-clients', this.options.requireClientCert ? 'yes' : 'no',
      ],
      async () => (await redisCall({ port: this.port, tls }, 'PING')) === 'PONG',
    );
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await stopAll([server], this.dir);
  }
}

const CLIENT_EXT = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
`;

/** A client certificate signed by the CA that createTestPki() left in `dir` (ca.crt, ca.key). */
async function createClientCertificate(dir: string): Promise<{ cert: string; key: string }> {
  const path = (name: string) => join(dir, name);
  writeFileSync(path('client.cnf'), CLIENT_EXT);
  // prettier-ignore
  await openssl([
    'req', '-new', '-config', path('client.cnf'), '-subj', '/CN=eatr-test-client',
    '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', path('client.key'), '-out', path('client.csr'),
  ]);
  // prettier-ignore
  await openssl([
    'x509', '-req', '-in', path('client.csr'), '-CA', path('ca.crt'), '-CAkey', path('ca.key'),
    '-CAcreateserial', '-days', '7', '-extfile', path('client.cnf'), '-extensions', 'client_ext',
    '-out', path('client.crt'),
  ]);
  return { cert: path('client.crt'), key: path('client.key') };
}
