import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built CLI, run as users run it. */
export const CLI_ENTRY = fileURLToPath(
  new URL('../../../packages/cli/dist/main.js', import.meta.url),
);

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `eatr ARGS` as a child process with pipes for stdout and stderr (so not a terminal: plain
 * output), with `env` and nothing else from the test's environment but PATH and HOME.
 */
export function eatrCli(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  timeoutMs = 60_000,
  /** Another built eatr to run (a checkout whose packages are built), e.g. the previous release. */
  build?: string,
): Promise<CliResult> {
  const entry = build ? join(build, 'packages/cli/dist/main.js') : CLI_ENTRY;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `eatr ${args.join(' ')} did not finish in ${timeoutMs} ms:\n${stdout}\n${stderr}`,
        ),
      );
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
