import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inject } from 'vitest';

const run = promisify(execFile);
export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/** kubectl against the e2e node's cluster; stdout. */
export async function kubectl(args: readonly string[], input?: string): Promise<string> {
  const child = run('kubectl', [`--kubeconfig=${inject('e2eKubeconfigPath')}`, ...args], {
    timeout: 120_000,
    maxBuffer: 32 * 1024 * 1024,
  });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  try {
    return (await child).stdout;
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`kubectl ${args.join(' ')} failed: ${stderr?.trim() ?? String(error)}`, {
      cause: error,
    });
  }
}

export async function kubectlJson<T>(args: readonly string[]): Promise<T> {
  return JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
}

export function apply(manifest: unknown): Promise<string> {
  return kubectl(['apply', '-f', '-'], JSON.stringify(manifest));
}

/** helm (the one kube-binaries.sh built) against the e2e cluster; `input` goes to its stdin. */
export async function helm(args: readonly string[], input?: string): Promise<string> {
  const bin = process.env.EATR_E2E_HELM ?? 'helm';
  const child = run(bin, [`--kubeconfig=${inject('e2eKubeconfigPath')}`, ...args], {
    cwd: repoRoot,
    timeout: 900_000,
    maxBuffer: 32 * 1024 * 1024,
  });
  if (input !== undefined) child.child.stdin?.end(input);
  try {
    return (await child).stdout;
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(
      `helm ${args.join(' ')} failed: ${stderr?.trim() ?? ''} ${stdout?.trim() ?? ''}`,
      { cause: error },
    );
  }
}

export const chartPath = join(repoRoot, 'charts/eatr');

/**
 * The values every e2e release is installed with (the chart's defaults otherwise): where eatr's
 * image (`eatrImage`, `repository:tag`) and Redis' are, and where ECR and STS are (the SDK's
 * documented endpoint variables, through the chart's renewer.extraEnv). The previous release's
 * chart takes the same names (its values.schema.json).
 */
export function releaseValues(eatrImage: string): string[] {
  const ecr = inject('e2eEcr');
  const [eatrRepository, eatrTag] = eatrImage.split(':') as [string, string];
  const [redisRepository, redisTag] = inject('e2eImages').redis.split(':') as [string, string];
  return [
    '--set',
    `image.repository=${eatrRepository}`,
    '--set',
    `image.tag=${eatrTag}`,
    '--set',
    `redis.image.repository=${redisRepository}`,
    '--set',
    `redis.image.tag=${redisTag}`,
    '--set-json',
    `renewer.extraEnv=${JSON.stringify([
      { name: 'AWS_ENDPOINT_URL_ECR', value: ecr.endpointUrl },
      { name: 'AWS_ENDPOINT_URL_ECR_PUBLIC', value: ecr.endpointUrl },
      { name: 'AWS_ENDPOINT_URL_STS', value: ecr.endpointUrl },
    ])}`,
  ];
}

/** Thrown by an `eventually` check to fail at once: waiting longer cannot make it pass. */
export class StopWaiting extends Error {}

/**
 * Polls `check` (which returns a value when done, undefined when not yet) until done or
 * `timeoutMs` (a StopWaiting it throws fails at once); the error names what was awaited and the
 * last state seen.
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 180_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let last: string;
    try {
      const value = await check();
      if (value !== undefined) return value;
      last = 'not yet';
    } catch (error) {
      if (error instanceof StopWaiting) throw error;
      last = (error as Error).message;
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not after ${timeoutMs / 1000} s (last: ${last})`);
    await sleep(1_000);
  }
}

export interface PodList {
  items: Array<{
    metadata: { name: string; namespace: string; labels?: Record<string, string> };
    spec: { containers: Array<{ image: string }> };
    status: {
      phase?: string;
      conditions?: Array<{ type: string; status: string }>;
      containerStatuses?: Array<{
        name: string;
        ready: boolean;
        restartCount: number;
        state?: {
          waiting?: { reason?: string; message?: string };
          running?: unknown;
        };
      }>;
    };
  }>;
}

/** `Ready` condition of a Pod. */
export function isReady(pod: PodList['items'][number]): boolean {
  return pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** What a failed e2e step needs to be understood: Pods, recent Events, logs of unready Pods. */
export async function describeCluster(namespace?: string): Promise<string> {
  const scope = namespace === undefined ? ['-A'] : ['-n', namespace];
  const parts: string[] = [];
  const section = async (title: string, args: readonly string[]) => {
    try {
      parts.push(`--- ${title}\n${await kubectl(args)}`);
    } catch (error) {
      parts.push(`--- ${title}: ${(error as Error).message}`);
    }
  };
  await section('pods', ['get', 'pods', ...scope, '-o', 'wide']);
  await section('events', ['get', 'events', ...scope, '--sort-by=.lastTimestamp']);
  try {
    const pods = await kubectlJson<PodList>(['get', 'pods', ...scope]);
    for (const pod of pods.items.filter((p) => !isReady(p))) {
      const { name, namespace: ns } = pod.metadata;
      await section(`logs ${ns}/${name}`, [
        'logs',
        '-n',
        ns,
        name,
        '--all-containers',
        '--tail=40',
      ]);
    }
  } catch (error) {
    parts.push(`--- pod logs: ${(error as Error).message}`);
  }
  return parts.join('\n');
}

/**
 * Waits until Pod `namespace/name` runs. A refused pull (ErrImagePull, ImagePullBackOff) fails at
 * once: a pull that fails first and succeeds on a retry must not pass as one that worked.
 */
export function podRunning(
  namespace: string,
  name: string,
  what = `the ${namespace} Pod ${name} Running`,
): Promise<PodList['items'][number]> {
  return eventually(what, async () => {
    const p = await kubectlJson<PodList['items'][number]>(['get', 'pod', name, '-n', namespace]);
    const waiting = p.status.containerStatuses?.[0]?.state?.waiting;
    if (waiting?.reason === 'ErrImagePull' || waiting?.reason === 'ImagePullBackOff')
      throw new StopWaiting(`${waiting.reason}: ${waiting.message ?? ''}`);
    return p.status.phase === 'Running' ? p : undefined;
  });
}

/**
 * The release's host namespace as docs/deploy.md makes it (Pod Security `restricted`, so every Pod
 * of the chart must meet it), with the credential Secret for `registry` holding this access key.
 */
export async function prepareHostNamespace(
  namespace: string,
  registry: string,
  key: { accessKeyId: string; secretAccessKey: string },
): Promise<void> {
  await apply({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: namespace,
      labels: {
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'latest',
      },
    },
  });
  await apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `eatr-aws-credentials-${registry}`, namespace },
    stringData: { aws_access_key_id: key.accessKeyId, aws_secret_access_key: key.secretAccessKey },
  });
}
