// `eatr sandbox`: eatr working on this machine with no cluster, no Redis and no AWS account. It
// starts the test harness's own parts (a throwaway kube-apiserver + etcd, a redis-server, the local
// ECR stand-in that speaks the AWS protocol), then `eatr run`, labels a demo namespace, shows the
// Secret arriving and `eatr status`, and waits. Ctrl-C stops everything and removes its files.
// Run through `eatr sandbox` (packages/cli), which starts this file with tsx from a checkout.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlPlane, RedisServer, kubeClients } from '../harness/index.js';
import { FakeAwsEndpoint } from '../harness/aws/index.js';
import { EatrProcess } from '../harness/eatr-process.js';

const REGISTRY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const HOST_NAMESPACE = 'ci-cd';
const DEMO = 'demo';
const KEYS = {
  accessKeyId: 'AKIAEATRSANDBOX00001',
  secretAccessKey: 'eatr-sandbox-secret-key/not-a-real-one',
};
const CLI = fileURLToPath(new URL('../../packages/cli/dist/main.js', import.meta.url));

const say = (line = '') => process.stdout.write(`${line}\n`);
const step = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
  const started = performance.now();
  process.stdout.write(`- ${what} ... `);
  const value = await run();
  say(`${((performance.now() - started) / 1000).toFixed(1)} s`);
  return value;
};

function runCli(args: string[], env: Record<string, string>): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('exit', resolve);
  });
}

let redis: RedisServer | undefined;
let controlPlane: ControlPlane | undefined;
let aws: FakeAwsEndpoint | undefined;
let eatr: EatrProcess | undefined;
let stopping: Promise<void> | undefined;

function stopAll(): Promise<void> {
  stopping ??= (async () => {
    say('\nStopping the sandbox ...');
    await eatr?.stop(10_000);
    await Promise.allSettled([aws?.stop(), redis?.stop(), controlPlane?.stop()]);
    say('Stopped: nothing of the sandbox is left running.');
  })();
  return stopping;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    void stopAll().then(() => process.exit(0));
  });

try {
  say('eatr sandbox: a throwaway cluster, Redis and ECR stand-in on this machine.');
  [controlPlane, redis] = await step(
    'starting kube-apiserver + etcd and redis-server (the first run builds kube-apiserver: 10-15 min)',
    () => Promise.all([ControlPlane.start(), RedisServer.start()]),
  );
  aws = await FakeAwsEndpoint.start({ credentials: [KEYS] });
  const dir = dirname(controlPlane.kubeconfigPath);
  const env: Record<string, string> = {
    KUBECONFIG: controlPlane.kubeconfigPath,
    EATR_REDIS_URL: redis.url,
    EATR_HOST_NAMESPACE: HOST_NAMESPACE,
    ...aws.env(),
  };
  const { core } = kubeClients(controlPlane.kubeconfigPath);
  await step(
    `creating the credential Secret ${HOST_NAMESPACE}/eatr-aws-credentials-${REGISTRY}`,
    async () => {
      await core.createNamespace({ body: { metadata: { name: HOST_NAMESPACE } } });
      await core.createNamespacedSecret({
        namespace: HOST_NAMESPACE,
        body: {
          metadata: { name: `eatr-aws-credentials-${REGISTRY}` },
          stringData: {
            aws_access_key_id: KEYS.accessKeyId,
            aws_secret_access_key: KEYS.secretAccessKey,
            aws_region: 'eu-west-1',
          },
        },
      });
    },
  );
  eatr = await step('starting eatr (eatr run: the watcher and a renewer)', () =>
    EatrProcess.start('all-in-one', {
      env: {
        ...env,
        EATR_METRICS_PORT: '0',
        EATR_METRICS_HOST: '127.0.0.1',
        EATR_LOG_LEVEL: 'info',
      },
    }),
  );
  const labelled = Date.now();
  await step(`labelling namespace ${DEMO} with ${REGISTRY}=true`, async () => {
    await core.createNamespace({
      body: { metadata: { name: DEMO, labels: { [REGISTRY]: 'true' } } },
    });
    // No controller-manager runs here to create the default ServiceAccount: make it as it would.
    await core.createNamespacedServiceAccount({
      namespace: DEMO,
      body: { metadata: { name: 'default' } },
    });
  });
  await step(`waiting for the Secret ${DEMO}/${REGISTRY}`, async () => {
    for (;;) {
      const found = await core
        .readNamespacedSecret({ namespace: DEMO, name: REGISTRY })
        .catch(() => undefined);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  say(`  the Secret arrived ${Date.now() - labelled} ms after the label.`);
  say();
  say('$ eatr status');
  await runCli(['status'], env);
  const envFile = join(dir, 'sandbox.env');
  // The Node running the sandbox first on PATH: a new terminal's `node` may be an older one.
  writeFileSync(
    envFile,
    [
      `export PATH='${dirname(process.execPath)}':"$PATH"`,
      ...Object.entries(env).map(([k, v]) => `export ${k}='${v}'`),
    ].join('\n') + '\n',
  );
  const eatrCommand = `node ${CLI}`;
  say();
  say(`kubeconfig: ${controlPlane.kubeconfigPath}`);
  say(`Redis:      ${redis.url}`);
  say(`ECR stand-in: ${aws.url}`);
  say();
  say('In another terminal, try:');
  say(`  source ${envFile}`);
  say(`  ${eatrCommand} status`);
  say(`  ${eatrCommand} renew ${DEMO}`);
  say(`  ${eatrCommand} doctor`);
  say(`  kubectl label namespace default ${REGISTRY}=true   # if you have kubectl`);
  say();
  say('Press Ctrl-C to stop the sandbox and remove everything it made.');
  await eatr.exited;
  if (stopping === undefined) {
    say('eatr exited; stopping the sandbox.');
    await stopAll();
    process.exit(1);
  }
} catch (error) {
  process.stderr.write(`eatr sandbox: ${error instanceof Error ? error.message : String(error)}\n`);
  await stopAll();
  process.exit(1);
}
