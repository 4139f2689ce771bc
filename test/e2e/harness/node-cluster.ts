import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FakeAwsEndpoint } from '../../harness/aws/index.js';
import { ControlPlane } from '../../harness/control-plane.js';
import { freePort } from '../../harness/free-port.js';
import { runKubeBinariesScript } from '../../harness/kube-binaries.js';
import { ServerProcess, waitUntilReady } from '../../harness/server-process.js';
import { EcrNamedRegistry } from './registry.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

export const NODE_NAME = 'eatr-e2e-node';
/** The registry that serves eatr's own images (no authentication), and the ECR-named one. */
export const OPEN_REGISTRY = 'registry.e2e.test';
export const ECR_ACCOUNT = '111111111111';
export const ECR_REGION = 'eu-west-1';
export const ECR_REGISTRY = `${ECR_ACCOUNT}.dkr.ecr.${ECR_REGION}.amazonaws.com`;
/** ECR Public's host, answered by the same registry (its images under the same paths). */
export const PUBLIC_REGISTRY = 'public.ecr.aws';
export const IMAGE_TAG = 'e2e';
/** The tag of the previous release's eatr image (test/compat/previous-release), beside IMAGE_TAG. */
export const PREVIOUS_IMAGE_TAG = 'previous';
const CLUSTER_DNS_DOMAIN = 'cluster.local';

/** Seconds each start-up step took, for the closing figures. */
export interface NodeTimings {
  binariesS: number;
  controlPlaneS: number;
  imagesS: number;
  /** The previous release's images, built after this build's (they share the layer cache). */
  previousImagesS: number;
  registryS: number;
  nodeReadyS: number;
  totalS: number;
}

/**
 * A single-node cluster from real parts, inside the namespaces test/e2e/node.sh made: etcd and
 * kube-apiserver (on the bridge address), kube-controller-manager, kube-scheduler, containerd
 * (+ runc, CNI bridge), kubelet, kube-proxy (nftables), CoreDNS, the ECR stand-in (ECR and STS on
 * the bridge address) and an OCI registry named like an ECR host behind a TLS front that accepts
 * exactly the tokens the stand-in issued.
 */
export class NodeCluster {
  private readonly processes: ServerProcess[] = [];
  controlPlane: ControlPlane | undefined;
  aws: FakeAwsEndpoint | undefined;
  registry: EcrNamedRegistry | undefined;
  readonly timings: NodeTimings = {
    binariesS: 0,
    controlPlaneS: 0,
    imagesS: 0,
    previousImagesS: 0,
    registryS: 0,
    nodeReadyS: 0,
    totalS: 0,
  };
  private containerdSocket = '';
  private crictl = '';
  /** The folder of the node's binaries (kubelet, ...), for restarts. */
  private bin = '';
  /** The previous release's source tree, built (test/tools/previous-release.sh): its chart is here. */
  previousRelease = '';

  private constructor(
    readonly dir: string,
    readonly address: string,
  ) {}

  static async start(): Promise<NodeCluster> {
    const runDir = process.env.EATR_E2E_RUN_DIR;
    const address = process.env.EATR_E2E_NODE_ADDRESS;
    if (process.env.EATR_E2E_INSIDE !== '1' || runDir === undefined || address === undefined) {
      throw new Error(
        'the e2e tier runs on a throw-away node: use `pnpm test:e2e` (test/e2e/node.sh), as root',
      );
    }
    const dir = join(runDir, 'node');
    mkdirSync(dir, { recursive: true });
    const node = new NodeCluster(dir, address);
    try {
      await node.startAll();
    } catch (error) {
      await node.stop().catch((stopError: unknown) => {
        console.error('[e2e] teardown after a failed start failed too', stopError);
      });
      throw error;
    }
    return node;
  }

  get kubeconfigPath(): string {
    if (this.controlPlane === undefined) throw new Error('no control plane');
    return this.controlPlane.kubeconfigPath;
  }

  /** `registry.e2e.test/eatr:e2e` and friends. */
  image(name: 'eatr' | 'redis' | 'pause'): string {
    return `${OPEN_REGISTRY}/${name}:${IMAGE_TAG}`;
  }

  /** `registry.e2e.test/eatr:previous`: the previous release's eatr image. */
  get previousImage(): string {
    return `${OPEN_REGISTRY}/eatr:${PREVIOUS_IMAGE_TAG}`;
  }

  private async startAll(): Promise<void> {
    const started = performance.now();
    const seconds = (since: number) => Math.round((performance.now() - since) / 100) / 10;

    const binariesStarted = performance.now();
    const bin = await nodeBinaries();
    this.bin = bin;
    this.timings.binariesS = seconds(binariesStarted);
    this.crictl = join(bin, 'crictl');

    const imagesDir = join(this.dir, 'images');
    const previousImagesDir = join(this.dir, 'previous-images');
    const imagesStarted = performance.now();
    const images = run('bash', [join(repoRoot, 'test/e2e/images/build-images.sh'), imagesDir], {
      cwd: repoRoot,
      maxBuffer: 16 * 1024 * 1024,
    }).then(async () => {
      this.timings.imagesS = seconds(imagesStarted);
      // The previous release's images, with its own build-images.sh from its own tree (run.sh
      // built that tree outside the node; here it is found in the cache). One after the other:
      // both scripts fill the same layer cache.
      const previousStarted = performance.now();
      this.previousRelease = await previousReleaseDir();
      await run(
        'bash',
        [join(this.previousRelease, 'test/e2e/images/build-images.sh'), previousImagesDir],
        { cwd: this.previousRelease, maxBuffer: 16 * 1024 * 1024 },
      );
      this.timings.previousImagesS = seconds(previousStarted);
    });
    const controlPlaneStarted = performance.now();
    const controlPlane = ControlPlane.start({
      binaries: { kubeApiServer: join(bin, 'kube-apiserver'), etcd: join(bin, 'etcd') },
      nodeAddress: this.address,
      startTimeoutMs: 180_000,
    }).then((cp) => {
      this.controlPlane = cp;
      this.timings.controlPlaneS = seconds(controlPlaneStarted);
      return cp;
    });
    this.aws = await FakeAwsEndpoint.start({ host: this.address });
    const settled = await Promise.allSettled([images, controlPlane]);
    for (const result of settled) if (result.status === 'rejected') throw result.reason;
    const cp = await controlPlane;

    const registryStarted = performance.now();
    this.registry = await EcrNamedRegistry.start({
      dir: join(this.dir, 'registry'),
      registryBinary: join(bin, 'registry'),
      address: this.address,
      pki: cp.pki,
      openHost: OPEN_REGISTRY,
      ecrHost: ECR_REGISTRY,
      publicHost: PUBLIC_REGISTRY,
      aws: this.aws,
      processes: this.processes,
    });
    for (const name of ['eatr', 'redis', 'pause'] as const) {
      await this.registry.pushLayout(join(imagesDir, name), name, IMAGE_TAG);
    }
    // Only eatr differs between the releases: both charts run this build's Redis image.
    await this.registry.pushLayout(join(previousImagesDir, 'eatr'), 'eatr', PREVIOUS_IMAGE_TAG);
    // The image the workload tests pull from the ECR-named registry (any small image will do).
    await this.registry.pushLayout(join(imagesDir, 'pause'), 'team/app', 'v1');
    this.timings.registryS = seconds(registryStarted);

    const nodeStarted = performance.now();
    await Promise.all([
      this.startContainerd(),
      this.startControllerManager(bin, cp),
      this.startScheduler(bin, cp),
      this.startCoreDns(bin, cp),
    ]);
    await this.startKubelet(bin, cp);
    await this.startKubeProxy(bin, cp);
    await this.waitForNodeReady(cp);
    this.timings.nodeReadyS = seconds(nodeStarted);
    this.timings.totalS = seconds(started);
  }

  private async spawn(
    name: string,
    command: string,
    args: readonly string[],
    env?: Record<string, string>,
  ): Promise<ServerProcess> {
    const server = await ServerProcess.spawn({
      name,
      command,
      args,
      logPath: join(this.dir, `${name}.log`),
      cwd: this.dir,
      ...(env === undefined ? {} : { env }),
    });
    this.processes.push(server);
    return server;
  }

  private async startContainerd(): Promise<void> {
    const dir = join(this.dir, 'containerd');
    const certs = join(dir, 'certs.d');
    const cniConf = join(this.dir, 'cni', 'net.d');
    mkdirSync(cniConf, { recursive: true });
    this.containerdSocket = join(dir, 'containerd.sock');
    const ca = this.controlPlane?.pki.caCertPath ?? '';
    for (const host of [OPEN_REGISTRY, ECR_REGISTRY, PUBLIC_REGISTRY]) {
      mkdirSync(join(certs, host), { recursive: true });
      await writeFile(
        join(certs, host, 'hosts.toml'),
        `server = "https://${host}"\n\n[host."https://${host}"]\n  capabilities = ["pull", "resolve"]\n  ca = "${ca}"\n`,
      );
    }
    await writeFile(
      join(cniConf, '10-eatr-e2e.conflist'),
      JSON.stringify({
        cniVersion: '0.4.0',
        name: 'eatr-e2e',
        plugins: [
          {
            type: 'bridge',
            bridge: 'cni0',
            isGateway: true,
            ipMasq: false,
            hairpinMode: true,
            ipam: {
              type: 'host-local',
              ranges: [
                [{ subnet: '10.88.0.0/16', rangeStart: '10.88.1.0', gateway: this.address }],
              ],
              // Service addresses are not on the bridge: Pods reach them through the node.
              routes: [{ dst: '0.0.0.0/0' }],
              dataDir: join(this.dir, 'cni', 'ipam'),
            },
          },
        ],
      }),
    );
    const config = join(dir, 'config.toml');
    await writeFile(
      config,
      `version = 2
root = "${join(dir, 'root')}"
state = "${join(dir, 'state')}"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "${this.containerdSocket}"

[plugins."io.containerd.internal.v1.opt"]
  path = "${join(dir, 'opt')}"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${this.image('pause')}"
  # The Pod sandbox lacks CAP_SYS_RESOURCE on this kind of machine: containerd's default
  # oom_score_adj of -998 is refused and every sandbox fails to start.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${cniConf}"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "${certs}"
`,
    );
    const containerd = await this.spawn('containerd', 'containerd', ['--config', config]);
    await waitUntilReady(
      containerd,
      `serving ${this.containerdSocket}`,
      async () => {
        await this.crictlRun(['info'], 5_000);
        return true;
      },
      60_000,
    );
  }

  async crictlRun(args: readonly string[], timeoutMs = 60_000): Promise<string> {
    const { stdout } = await run(
      this.crictl,
      ['--runtime-endpoint', `unix://${this.containerdSocket}`, '--timeout', '30s', ...args],
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
    );
    return stdout;
  }

  private async startControllerManager(bin: string, cp: ControlPlane): Promise<void> {
    const port = await freePort();
    await this.spawn('kube-controller-manager', join(bin, 'kube-controller-manager'), [
      `--kubeconfig=${cp.kubeconfigPath}`,
      `--authentication-kubeconfig=${cp.kubeconfigPath}`,
      `--authorization-kubeconfig=${cp.kubeconfigPath}`,
      `--service-account-private-key-file=${cp.pki.serviceAccountSigningKeyPath}`,
      `--root-ca-file=${cp.pki.caCertPath}`,
      '--use-service-account-credentials=false',
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${join(this.dir, 'kcm-certs')}`,
      // Pods of a deleted Deployment go quickly; namespaces finish Terminating.
      '--concurrent-gc-syncs=5',
    ]);
  }

  private async startScheduler(bin: string, cp: ControlPlane): Promise<void> {
    const port = await freePort();
    await this.spawn('kube-scheduler', join(bin, 'kube-scheduler'), [
      `--kubeconfig=${cp.kubeconfigPath}`,
      `--authentication-kubeconfig=${cp.kubeconfigPath}`,
      `--authorization-kubeconfig=${cp.kubeconfigPath}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${join(this.dir, 'scheduler-certs')}`,
    ]);
  }

  private async startCoreDns(bin: string, cp: ControlPlane): Promise<void> {
    const corefile = join(this.dir, 'Corefile');
    await writeFile(
      corefile,
      `.:53 {
    bind ${this.address}
    errors
    hosts {
        ${this.address} ${NODE_NAME} ${OPEN_REGISTRY} ${ECR_REGISTRY} ${PUBLIC_REGISTRY}
        fallthrough
    }
    kubernetes ${CLUSTER_DNS_DOMAIN} in-addr.arpa ip6.arpa {
        kubeconfig ${cp.kubeconfigPath}
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 5
}
`,
    );
    const coredns = await this.spawn('coredns', join(bin, 'coredns'), ['-conf', corefile]);
    await waitUntilReady(
      coredns,
      `listening on ${this.address}:53`,
      () => tcpOpen(this.address, 53),
      60_000,
    );
  }

  private async startKubelet(bin: string, cp: ControlPlane): Promise<void> {
    const dir = join(this.dir, 'kubelet');
    mkdirSync(dir, { recursive: true });
    const resolvConf = join(this.dir, 'resolv.conf');
    await writeFile(resolvConf, `nameserver ${this.address}\n`);
    const config = join(this.dir, 'kubelet-config.yaml');
    await writeFile(
      config,
      JSON.stringify({
        apiVersion: 'kubelet.config.k8s.io/v1beta1',
        kind: 'KubeletConfiguration',
        // Inside the node's own network namespace: only the API server reaches this port.
        authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
        authorization: { mode: 'AlwaysAllow' },
        cgroupDriver: 'cgroupfs',
        // node.sh creates it in every hierarchy and removes it after the run.
        cgroupRoot: `/${process.env.EATR_E2E_CGROUP ?? 'eatr-e2e'}`,
        // These machines have cgroup v1; the 1.34 kubelet refuses it unless told.
        failCgroupV1: false,
        failSwapOn: false,
        containerRuntimeEndpoint: `unix://${this.containerdSocket}`,
        clusterDNS: [this.address],
        clusterDomain: CLUSTER_DNS_DOMAIN,
        resolvConf,
        address: this.address,
        readOnlyPort: 0,
        healthzBindAddress: '127.0.0.1',
        healthzPort: 10248,
        serializeImagePulls: false,
        // A shared test machine's disk may be fuller than the defaults allow.
        evictionHard: {
          'memory.available': '100Mi',
          'nodefs.available': '1%',
          'imagefs.available': '1%',
          'nodefs.inodesFree': '1%',
        },
        imageGCHighThresholdPercent: 100,
        imageGCLowThresholdPercent: 99,
        // Fast feedback: Pod status and projected-token refreshes.
        syncFrequency: '10s',
        nodeStatusUpdateFrequency: '5s',
        maxPods: 250,
      }),
    );
    const kubelet = await this.spawn('kubelet', join(bin, 'kubelet'), [
      `--config=${config}`,
      `--kubeconfig=${cp.kubeconfigPath}`,
      `--root-dir=${dir}`,
      `--cert-dir=${join(dir, 'pki')}`,
      `--hostname-override=${NODE_NAME}`,
      `--node-ip=${this.address}`,
      '--v=1',
    ]);
    await waitUntilReady(
      kubelet,
      'healthy on 127.0.0.1:10248',
      async () => (await fetch('http://127.0.0.1:10248/healthz')).ok,
      120_000,
    );
  }

  private async startKubeProxy(bin: string, cp: ControlPlane): Promise<void> {
    const config = join(this.dir, 'kube-proxy-config.yaml');
    const [metrics, healthz] = await Promise.all([freePort(), freePort()]);
    await writeFile(
      config,
      JSON.stringify({
        apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
        kind: 'KubeProxyConfiguration',
        mode: 'nftables',
        clientConnection: { kubeconfig: cp.kubeconfigPath },
        hostnameOverride: NODE_NAME,
        clusterCIDR: '10.88.0.0/16',
        metricsBindAddress: `127.0.0.1:${metrics}`,
        healthzBindAddress: `127.0.0.1:${healthz}`,
        // Leave the (global) conntrack table settings alone.
        conntrack: {
          maxPerCore: 0,
          min: 0,
          tcpEstablishedTimeout: '0s',
          tcpCloseWaitTimeout: '0s',
        },
        // Pods and Services share one bridge: masquerade so replies come back through the node.
        nftables: { masqueradeAll: true },
      }),
    );
    const proxy = await this.spawn('kube-proxy', join(bin, 'kube-proxy'), [
      `--config=${config}`,
      '--v=1',
    ]);
    await waitUntilReady(
      proxy,
      `healthy on 127.0.0.1:${healthz}`,
      async () => (await fetch(`http://127.0.0.1:${healthz}/healthz`)).ok,
      120_000,
    );
  }

  private async waitForNodeReady(cp: ControlPlane): Promise<void> {
    const deadline = Date.now() + 180_000;
    let last = '';
    while (Date.now() < deadline) {
      try {
        const { stdout } = await this.kubectl(
          cp,
          [
            'get',
            'node',
            NODE_NAME,
            '-o',
            'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
          ],
          10_000,
        );
        last = stdout;
        if (stdout === 'True') {
          // Pods of the tests need their namespace's `default` ServiceAccount (controller-manager).
          const sa = await this.kubectl(cp, ['get', 'serviceaccount', 'default', '-n', 'default']);
          if (sa.stdout !== '') return;
        }
      } catch (error) {
        last = (error as Error).message;
      }
      await sleep(1_000);
    }
    throw new Error(`node ${NODE_NAME} was not Ready after 180 s (last: ${last})`);
  }

  kubectl(
    cp: ControlPlane,
    args: readonly string[],
    timeoutMs = 60_000,
  ): Promise<{ stdout: string }> {
    return run('kubectl', [`--kubeconfig=${cp.kubeconfigPath}`, ...args], {
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
    });
  }

  /**
   * Resident memory (MiB) of the node: every process of its PID namespace (control plane, node
   * parts, registry, Pods) except the test runner's own (vitest and its workers).
   */
  async residentMemoryMiB(): Promise<number> {
    const { stdout } = await run('ps', ['-e', '-o', 'rss=,args=']);
    let kib = 0;
    for (const line of stdout.split('\n')) {
      const match = /^\s*(\d+)\s+(.*)$/.exec(line);
      if (match === null || match[2]?.includes('vitest') === true) continue;
      kib += Number(match[1]);
    }
    return Math.round(kib / 1024);
  }

  /**
   * Stops the kubelet or containerd (SIGTERM, as systemd does on `systemctl restart`) and starts it
   * again with the same configuration, then waits until it is healthy. Running containers keep
   * running: their shims are not containerd's children. Returns the seconds it took.
   */
  async restart(part: 'kubelet' | 'containerd'): Promise<number> {
    const started = performance.now();
    const cp = this.controlPlane;
    if (cp === undefined) throw new Error('restart: the node is not started');
    const index = this.processes.findIndex((p) => p.name === part);
    const running = this.processes[index];
    if (running === undefined) throw new Error(`restart: no ${part} process`);
    await running.stop({ timeoutMs: 30_000 });
    this.processes.splice(index, 1);
    if (part === 'kubelet') await this.startKubelet(this.bin, cp);
    else await this.startContainerd();
    return Math.round((performance.now() - started) / 100) / 10;
  }

  /**
   * Removes every Pod (so no shim or container outlives containerd), then stops each process,
   * newest first. The namespaces node.sh made take the rest (mounts, links, netfilter).
   */
  async stop(): Promise<void> {
    const problems: Error[] = [];
    const byName = (name: string) => this.processes.find((p) => p.name === name);
    const kubelet = byName('kubelet');
    // The kubelet would restart what crictl removes.
    await kubelet?.stop({ timeoutMs: 10_000 }).catch((e: unknown) => problems.push(e as Error));
    if (byName('containerd')?.isRunning() === true) {
      await this.crictlRun(['rmp', '-fa'], 120_000).catch((e: unknown) =>
        problems.push(new Error(`crictl rmp -fa: ${(e as Error).message}`)),
      );
    }
    for (const server of [...this.processes].reverse()) {
      await server.stop({ timeoutMs: 10_000 }).catch((e: unknown) => problems.push(e as Error));
    }
    await this.registry?.stop().catch((e: unknown) => problems.push(e as Error));
    await this.aws?.stop().catch((e: unknown) => problems.push(e as Error));
    await this.controlPlane?.stop().catch((e: unknown) => problems.push(e as Error));
    if (problems.length > 0) throw new AggregateError(problems, 'node teardown failed');
  }
}

/** The folder holding every binary of the node (built into the cache on first use). */
async function nodeBinaries(): Promise<string> {
  const { code, folder } = await runKubeBinariesScript(['node'], {
    ...process.env,
    KUBEBUILDER_ASSETS: '',
  });
  if (code !== 0 || folder === '' || !existsSync(join(folder, 'kubelet'))) {
    throw new Error(`test/tools/kube-binaries.sh node failed (exit code ${code})`);
  }
  return folder;
}

/** The previous release's tree (test/compat/previous-release), built once into the cache. */
async function previousReleaseDir(): Promise<string> {
  const { stdout } = await run('bash', [join(repoRoot, 'test/tools/previous-release.sh')], {
    cwd: repoRoot,
    timeout: 600_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const dir = stdout.trim();
  if (!existsSync(join(dir, 'charts/eatr/Chart.yaml'))) {
    throw new Error(`test/tools/previous-release.sh printed ${dir}, which holds no chart`);
  }
  return dir;
}

function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', reject);
  });
}
