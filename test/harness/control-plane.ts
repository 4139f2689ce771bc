import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';
import { findKubeBinaries } from './kube-binaries.js';
import type { KubeBinaries } from './kube-binaries.js';
import { writeKubeconfig } from './kubeconfig-file.js';
import { createRunDir } from './run-dir.js';
import type { RunDir } from './run-dir.js';
import { writeServiceAccountKubeconfig } from './service-account-kubeconfig.js';
import type { ServiceAccountKubeconfigOptions } from './service-account-kubeconfig.js';
import { isExecutableFile, ServerProcess, waitUntilReady } from './server-process.js';
import { createTestPki } from './test-pki.js';
import type { TestPki } from './test-pki.js';

/** The Kubernetes version test/tools/kube-binaries.sh builds (`EATR_K8S_VERSION`). */
export const KUBERNETES_VERSION = process.env.EATR_K8S_VERSION ?? '1.34.1';

export interface ControlPlaneOptions {
  /** Default: {@link findKubeBinaries}. */
  readonly binaries?: KubeBinaries;
  /** Per server; default 120 s (kube-apiserver takes 10-60 s on 2 busy cores). */
  readonly startTimeoutMs?: number;
  /**
   * A cluster with a real node (test/e2e): kube-apiserver binds and advertises this address (Pods
   * cannot reach loopback), has it in its serving certificate, and keeps the ServiceAccount
   * admission plugin and the `kubernetes` Service's endpoints, which a controller-manager and a
   * node make work. Default: loopback only, envtest-style.
   */
  readonly nodeAddress?: string;
  /** Fixed kube-apiserver port (default: a free one). */
  readonly apiServerPort?: number;
}

/** Milliseconds spent in each start-up step. */
export interface ControlPlaneTimings {
  /** Finding (or building) the binaries, the certificates and the ports, in parallel. */
  readonly preparationMs: number;
  /** From starting etcd until `/health` said true. */
  readonly etcdReadyMs: number;
  /** From starting kube-apiserver until `/readyz` was 200 and namespace `default` existed. */
  readonly apiServerReadyMs: number;
  readonly totalMs: number;
}

export interface ApiServerRestartOptions {
  /** SIGTERM (graceful shutdown, default) or SIGKILL (a crash). */
  readonly signal?: 'SIGTERM' | 'SIGKILL';
}

export interface ApiServerRestart {
  /** Until the old process was gone. */
  readonly stoppedMs: number;
  /** From starting the new process until it was ready. */
  readonly readyMs: number;
}

const ETCD_NAME = 'eatr-test';

/**
 * etcd and kube-apiserver started the way envtest starts them: loopback only, free ports, RBAC,
 * no controller-manager (no default ServiceAccount, no garbage collection, namespaces stay
 * Terminating), an admin token in group system:masters, and ServiceAccount tokens signed by a key
 * of its own so the TokenRequest API works.
 */
export class ControlPlane {
  readonly apiServerUrl: string;
  readonly etcdUrl: string;
  /** Admin identity (group system:masters). */
  readonly kubeconfigPath: string;
  readonly caCertPem: string;
  readonly timings: ControlPlaneTimings;
  /** The certificates and keys (the e2e node signs more certificates with the CA). */
  readonly pki: TestPki;
  /** Admin bearer token (group system:masters), for the node's components. */
  readonly adminToken: string;
  private readonly dir: RunDir;
  private etcd: ServerProcess | undefined;
  private apiServer: ServerProcess | undefined;
  private readonly startTimeoutMs: number;
  private stopped = false;
  /** Restarts one at a time. */
  private restarting: Promise<unknown> = Promise.resolve();

  private constructor(fields: {
    apiServerUrl: string;
    etcdUrl: string;
    kubeconfigPath: string;
    caCertPem: string;
    timings: ControlPlaneTimings;
    pki: TestPki;
    adminToken: string;
    dir: RunDir;
    etcd: ServerProcess;
    apiServer: ServerProcess;
    startTimeoutMs: number;
  }) {
    this.apiServerUrl = fields.apiServerUrl;
    this.etcdUrl = fields.etcdUrl;
    this.kubeconfigPath = fields.kubeconfigPath;
    this.caCertPem = fields.caCertPem;
    this.timings = fields.timings;
    this.pki = fields.pki;
    this.adminToken = fields.adminToken;
    this.dir = fields.dir;
    this.etcd = fields.etcd;
    this.apiServer = fields.apiServer;
    this.startTimeoutMs = fields.startTimeoutMs;
  }

  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const started = performance.now();
    const startTimeoutMs = options.startTimeoutMs ?? 120_000;
    const runDir = createRunDir('eatr-control-plane-');
    const dir = runDir.path;
    let etcd: ServerProcess | undefined;
    let apiServer: ServerProcess | undefined;
    try {
      const [binaries, pki, etcdClientPort, etcdPeerPort, apiServerPort] = await Promise.all([
        options.binaries ?? findKubeBinaries(),
        createTestPki(dir, {
          extraSans:
            options.nodeAddress === undefined
              ? []
              : // the `kubernetes` Service's first address, as in-cluster clients dial it
                [`IP:${options.nodeAddress}`, 'IP:10.0.0.1', 'DNS:kubernetes.default.svc'],
        }),
        freePort(),
        freePort(),
        options.apiServerPort ?? freePort(),
      ]);
      const preparationMs = performance.now() - started;
      const named: ReadonlyArray<readonly [string, string]> = [
        ['etcd', binaries.etcd],
        ['kube-apiserver', binaries.kubeApiServer],
      ];
      for (const [name, path] of named) {
        if (!isExecutableFile(path)) throw new Error(`${name}: ${path} is not an executable file`);
      }

      const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
      const etcdStarted = performance.now();
      etcd = await ServerProcess.spawn({
        name: 'etcd',
        command: binaries.etcd,
        args: await etcdArgs(binaries.etcd, dir, etcdUrl, `http://127.0.0.1:${etcdPeerPort}`),
        logPath: join(dir, 'etcd.log'),
        cwd: dir,
      });
      await waitUntilReady(
        etcd,
        `healthy at ${etcdUrl}`,
        () => etcdHealthy(etcdUrl),
        startTimeoutMs,
      );
      const etcdReadyMs = performance.now() - etcdStarted;

      const adminToken = randomBytes(24).toString('hex');
      const tokenFile = join(dir, 'tokens.csv');
      await writeFile(tokenFile, `${adminToken},eatr-admin,eatr-admin,"system:masters"\n`, {
        mode: 0o600,
      });
      const host = options.nodeAddress ?? '127.0.0.1';
      const apiServerUrl = `https://${host}:${apiServerPort}`;
      const apiServerStarted = performance.now();
      apiServer = await ServerProcess.spawn({
        name: 'kube-apiserver',
        command: binaries.kubeApiServer,
        args: apiServerArgs({
          dir,
          pki,
          etcdUrl,
          port: apiServerPort,
          tokenFile,
          nodeAddress: options.nodeAddress,
        }),
        logPath: join(dir, 'kube-apiserver.log'),
        cwd: dir,
      });
      const ready = { apiServerUrl, caCertPem: pki.caCertPem, adminToken };
      await waitUntilReady(
        apiServer,
        `ready at ${apiServerUrl}`,
        () => apiServerReady(ready),
        startTimeoutMs,
      );
      const apiServerReadyMs = performance.now() - apiServerStarted;

      const kubeconfigPath = join(dir, 'admin.kubeconfig');
      await writeKubeconfig(kubeconfigPath, {
        server: apiServerUrl,
        caCertPem: pki.caCertPem,
        user: 'eatr-admin',
        token: adminToken,
      });
      const timings = {
        preparationMs,
        etcdReadyMs,
        apiServerReadyMs,
        totalMs: performance.now() - started,
      };
      return new ControlPlane({
        apiServerUrl,
        etcdUrl,
        kubeconfigPath,
        caCertPem: pki.caCertPem,
        timings,
        pki,
        adminToken,
        dir: runDir,
        etcd,
        apiServer,
        startTimeoutMs,
      });
    } catch (error) {
      await Promise.allSettled([
        apiServer?.stop({ signal: 'SIGKILL' }),
        etcd?.stop({ signal: 'SIGKILL' }),
      ]);
      runDir.remove();
      throw error;
    }
  }

  /** `binaries+certificates 0.3 s, etcd 0.6 s, kube-apiserver 3.0 s, total 3.9 s` */
  describeTimings(): string {
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const t = this.timings;
    return `binaries+certificates ${s(t.preparationMs)}, etcd ${s(t.etcdReadyMs)}, kube-apiserver ${s(t.apiServerReadyMs)}, total ${s(t.totalMs)}`;
  }

  /**
   * Stops kube-apiserver and starts it again on the same port with the same etcd (data kept):
   * clients see their connections and watches end, then the same URL answer again.
   */
  restartApiServer(options: ApiServerRestartOptions = {}): Promise<ApiServerRestart> {
    const next = this.restarting.then(() => this.doRestartApiServer(options));
    this.restarting = next.catch(() => undefined);
    return next;
  }

  private async doRestartApiServer(options: ApiServerRestartOptions): Promise<ApiServerRestart> {
    const old = this.apiServer;
    if (this.stopped || old === undefined) throw new Error('the control plane was stopped');
    const stopping = performance.now();
    this.apiServer = undefined;
    await old.stop({ signal: options.signal ?? 'SIGTERM' });
    const stoppedMs = performance.now() - stopping;
    const starting = performance.now();
    const { command, args, logPath, cwd } = old.record;
    const apiServer = await ServerProcess.spawn({ name: old.name, command, args, logPath, cwd });
    this.apiServer = apiServer;
    const ready = {
      apiServerUrl: this.apiServerUrl,
      caCertPem: this.caCertPem,
      adminToken: this.adminToken,
    };
    await waitUntilReady(
      apiServer,
      `ready again at ${this.apiServerUrl}`,
      () => apiServerReady(ready),
      this.startTimeoutMs,
    );
    return { stoppedMs, readyMs: performance.now() - starting };
  }

  /** A kubeconfig for a ServiceAccount's own token; see {@link writeServiceAccountKubeconfig}. */
  kubeconfigForServiceAccount(
    namespace: string,
    name: string,
    options?: ServiceAccountKubeconfigOptions,
  ): Promise<string> {
    return writeServiceAccountKubeconfig(this.kubeconfigPath, namespace, name, options);
  }

  /** Stops kube-apiserver, then etcd, and removes every file. Safe to call more than once. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.restarting;
    const { apiServer, etcd } = this;
    this.apiServer = undefined;
    this.etcd = undefined;
    try {
      await apiServer?.stop({ timeoutMs: 5_000 });
    } finally {
      await etcd?.stop({ timeoutMs: 5_000 });
      this.dir.remove();
    }
  }
}

async function etcdArgs(
  binary: string,
  dir: string,
  clientUrl: string,
  peerUrl: string,
): Promise<string[]> {
  const args = [
    `--name=${ETCD_NAME}`,
    `--data-dir=${join(dir, 'etcd-data')}`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=${ETCD_NAME}=${peerUrl}`,
    '--initial-cluster-state=new',
    '--log-level=warn',
  ];
  // Test data need not survive a power cut; skipping fsync saves seconds on slow disks (3.5+).
  const { stdout, stderr } = await promisify(execFile)(binary, ['--help'], {
    maxBuffer: 4 * 1024 * 1024,
  });
  if (`${stdout}${stderr}`.includes('--unsafe-no-fsync')) args.push('--unsafe-no-fsync=true');
  return args;
}

function apiServerArgs(input: {
  dir: string;
  pki: TestPki;
  etcdUrl: string;
  port: number;
  tokenFile: string;
  nodeAddress: string | undefined;
}): string[] {
  const { dir, pki, etcdUrl, port, tokenFile, nodeAddress } = input;
  const certDir = join(dir, 'kube-apiserver-certs');
  mkdirSync(certDir, { recursive: true });
  const host = nodeAddress ?? '127.0.0.1';
  const withoutNode =
    nodeAddress === undefined
      ? [
          // No controller-manager creates `default` ServiceAccounts; the admission plugin would reject
          // every Pod for lacking one.
          '--disable-admission-plugins=ServiceAccount',
          // The loopback advertise address cannot back the `kubernetes` Service's Endpoints.
          '--endpoint-reconciler-type=none',
        ]
      : [
          // `kubectl logs` reaches the kubelet by the node's name (the node's /etc/hosts has it).
          '--kubelet-preferred-address-types=Hostname,InternalIP',
          // The issuer Pods' projected tokens carry, served at /.well-known/openid-configuration.
          '--service-account-jwks-uri=' + `https://${host}:${port}/openid/v1/jwks`,
        ];
  return [
    `--etcd-servers=${etcdUrl}`,
    `--bind-address=${host}`,
    `--advertise-address=${host}`,
    `--secure-port=${port}`,
    `--cert-dir=${certDir}`,
    `--tls-cert-file=${pki.servingCertPath}`,
    `--tls-private-key-file=${pki.servingKeyPath}`,
    `--token-auth-file=${tokenFile}`,
    '--authorization-mode=RBAC',
    '--service-cluster-ip-range=10.0.0.0/24',
    `--service-account-issuer=https://${host}:${port}`,
    `--service-account-key-file=${pki.serviceAccountPublicKeyPath}`,
    `--service-account-signing-key-file=${pki.serviceAccountSigningKeyPath}`,
    ...withoutNode,
    '--allow-privileged=true',
    '--profiling=false',
    '--shutdown-watch-termination-grace-period=5s',
  ];
}

interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

function get(
  url: string,
  options: { ca?: string; token?: string; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        agent: false,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` },
        timeout: options.timeoutMs ?? 2_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} in time`)));
    req.on('error', reject);
    req.end();
  });
}

async function etcdHealthy(url: string): Promise<boolean> {
  const { status, body } = await get(`${url}/health`);
  if (status === 200 && (JSON.parse(body) as { health?: unknown }).health === 'true') return true;
  throw new Error(`GET /health: ${status} ${body.trim()}`);
}

async function apiServerReady(target: {
  apiServerUrl: string;
  caCertPem: string;
  adminToken: string;
}): Promise<boolean> {
  const options = { ca: target.caCertPem, token: target.adminToken };
  const readyz = await get(`${target.apiServerUrl}/readyz`, options);
  if (readyz.status !== 200) {
    // /readyz?verbose lists the checks; keep only the failing ones for the error message.
    const failing = readyz.body.split('\n').filter((line) => line.includes('[-]'));
    throw new Error(`GET /readyz: ${readyz.status} ${failing.join('; ') || readyz.body.trim()}`);
  }
  const ns = await get(`${target.apiServerUrl}/api/v1/namespaces/default`, options);
  if (ns.status === 200) return true;
  throw new Error(`GET namespace default: ${ns.status}`);
}
