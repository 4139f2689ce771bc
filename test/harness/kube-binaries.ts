import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isExecutableFile } from './server-process.js';

export interface KubeBinaries {
  readonly kubeApiServer: string;
  readonly etcd: string;
}

const BUILD_SCRIPT = fileURLToPath(new URL('../tools/kube-binaries.sh', import.meta.url));

/**
 * Finds kube-apiserver and etcd as envtest does: `TEST_ASSET_KUBE_APISERVER` / `TEST_ASSET_ETCD`
 * per binary, else the `KUBEBUILDER_ASSETS` folder, else `test/tools/kube-binaries.sh`, which
 * prints the folder of its cache and builds the binaries first when they are not there yet
 * (10-15 minutes on 2 cores, once per version; its progress goes to stderr).
 */
export async function findKubeBinaries(
  env: NodeJS.ProcessEnv = process.env,
): Promise<KubeBinaries> {
  const assets = env.KUBEBUILDER_ASSETS;
  const fromEnv = (variable: string, name: string): string | undefined => {
    const path = env[variable] ?? (assets === undefined ? undefined : join(assets, name));
    if (path === undefined) return undefined;
    if (!isExecutableFile(path)) {
      const source = env[variable] === undefined ? 'KUBEBUILDER_ASSETS' : variable;
      throw new Error(`${name} from ${source} (${path}) is not an executable file`);
    }
    return path;
  };
  let kubeApiServer = fromEnv('TEST_ASSET_KUBE_APISERVER', 'kube-apiserver');
  let etcd = fromEnv('TEST_ASSET_ETCD', 'etcd');
  if (kubeApiServer === undefined || etcd === undefined) {
    const folder = await runBuildScript();
    kubeApiServer ??= join(folder, 'kube-apiserver');
    etcd ??= join(folder, 'etcd');
    for (const path of [kubeApiServer, etcd]) {
      if (!isExecutableFile(path))
        throw new Error(`${BUILD_SCRIPT} printed ${folder}, but ${path} is missing`);
    }
  }
  return { kubeApiServer, etcd };
}

async function runBuildScript(): Promise<string> {
  const { code, folder } = await runKubeBinariesScript();
  if (code !== 0 || folder === '') {
    throw new Error(
      `bash ${BUILD_SCRIPT} failed (exit code ${code}; its messages are above). ` +
        'Set KUBEBUILDER_ASSETS to a folder holding kube-apiserver and etcd to skip the build.',
    );
  }
  return folder;
}

/**
 * Runs test/tools/kube-binaries.sh with `args` (its progress goes to stderr): its exit code and the
 * folder it printed last ('' when none). `env` defaults to this process's.
 */
export async function runKubeBinariesScript(
  args: string[] = [],
  env?: NodeJS.ProcessEnv,
): Promise<{ code: number | null; folder: string }> {
  const child = spawn('bash', [BUILD_SCRIPT, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    ...(env ? { env } : {}),
  });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (stdout += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  return { code, folder: stdout.trim().split('\n').at(-1)?.trim() ?? '' };
}
