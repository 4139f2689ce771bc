import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The sandbox script and the repository root, when this CLI runs from a source checkout. */
const SCRIPT = fileURLToPath(new URL('../../../test/sandbox/sandbox.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Runs test/sandbox/sandbox.ts with tsx: the sandbox is the test harness used as a library (the
 * throwaway kube-apiserver + etcd, redis-server, ECR stand-in), so it exists only in a checkout,
 * not in the image. Signals reach it directly (same process group); returns its exit code.
 */
export function runSandbox(): Promise<number> {
  if (!existsSync(SCRIPT)) {
    process.stderr.write(
      'eatr sandbox: runs from a source checkout (git clone, then pnpm install && pnpm build)\n',
    );
    return Promise.resolve(2);
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    // Ctrl-C reaches the whole foreground group; a signal sent to this process alone is passed on.
    // The sandbox stops once however many it gets, and this process waits for it.
    for (const signal of ['SIGINT', 'SIGTERM'] as const)
      process.on(signal, () => child.kill(signal));
    child.once('exit', (code) => resolve(code ?? 1));
  });
}
