import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eatrCli } from './support/eatr-cli.js';

// `eatr sandbox` as a newcomer runs it: from a clean clone of the repository (the committed HEAD),
// README's steps, one command, then Ctrl-C. It starts its own control plane, Redis and ECR stand-in
// (not the shared test ones), and must leave nothing behind.

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

const sandboxEnv = (file: string): Record<string, string> =>
  Object.fromEntries(
    readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => /^export (\w+)='(.*)'$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1] ?? '', m[2] ?? '']),
  );

describe('eatr sandbox', () => {
  let clone = '';
  beforeAll(async () => {
    // README's steps after prereqs.sh, in a fresh clone (the pnpm store makes the install offline).
    clone = join(mkdtempSync(join(tmpdir(), 'eatr-clone-')), 'eatr');
    await run('git', ['clone', '--quiet', REPO, clone]);
    await run('pnpm', ['install', '--frozen-lockfile', '--offline'], { cwd: clone });
    await run('pnpm', ['build'], { cwd: clone });
  }, 180_000);
  afterAll(() => {
    if (clone) rmSync(dirname(clone), { recursive: true, force: true });
  });

  it('from a clean clone: shows a Secret arriving with no cluster, serves the printed commands, and removes everything on Ctrl-C', async () => {
    // Its own process group, as a shell runs a foreground command: Ctrl-C signals the group.
    const child = spawn(process.execPath, ['packages/cli/dist/main.js', 'sandbox'], {
      cwd: clone,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        ...(process.env.KUBEBUILDER_ASSETS
          ? { KUBEBUILDER_ASSETS: process.env.KUBEBUILDER_ASSETS }
          : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const deadline = Date.now() + 150_000;
      while (!output.includes('Press Ctrl-C') && Date.now() < deadline && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 100));
      expect(output).toContain('Press Ctrl-C');
      expect(output).toMatch(/the Secret arrived \d+ ms after the label/);
      expect(output).toMatch(
        /^demo\s+123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com\s+fresh\s/m,
      );

      const envFile = /source (\S+)/.exec(output)?.[1] ?? '';
      expect(existsSync(envFile), output).toBe(true);
      const env = sandboxEnv(envFile);
      const status = await eatrCli(['status'], env);
      expect(status.code).toBe(0);
      expect(status.stdout).toContain('1 Secret in 1 namespace: 1 fresh');
      const doctor = await eatrCli(['doctor'], env);
      // Every check passes but one, truthfully: the sandbox runs eatr without the chart, so no
      // admission policy guards its renewer.
      const failed = doctor.stdout.split('\n').filter((l) => l.startsWith('\u2716'));
      expect(failed, doctor.stdout).toEqual([
        "\u2716 no ValidatingAdmissionPolicy guards the renewer's Secret writes for instance eatr: RBAC alone bounds it",
      ]);
      expect(doctor.stdout.trimEnd().split('\n').at(-1), doctor.stdout).toMatch(
        /^1 of \d+ checks failed\.$/,
      );

      const apiServer =
        /"?server"?:\s*"?(https?:\/\/[^"\s]+)/.exec(
          readFileSync(env.KUBECONFIG ?? '', 'utf8'),
        )?.[1] ?? '';
      expect(apiServer).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      process.kill(-(child.pid ?? 0), 'SIGINT');
      expect(await exited).toBe(0);
      expect(output).toContain('Stopped: nothing of the sandbox is left running.');
      // Its files are gone, and its API server and Redis no longer answer.
      expect(existsSync(dirname(env.KUBECONFIG ?? ''))).toBe(false);
      await expect(fetch(apiServer)).rejects.toThrow();
      const redis = new Redis(env.EATR_REDIS_URL ?? '', {
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      redis.on('error', () => undefined); // the refusal is the point; connect() reports it
      await expect(redis.connect()).rejects.toThrow();
      redis.disconnect();
      const aws = env.AWS_ENDPOINT_URL_ECR ?? '';
      await expect(fetch(aws)).rejects.toThrow();
      // No process is left that ran from the clone (eatr, tsx) or in the sandbox's folder (etcd).
      for (const path of [clone, dirname(env.KUBECONFIG ?? '')]) {
        const left = await run('pgrep', ['-af', path]).then(
          (r) => r.stdout.trim(),
          () => '', // pgrep exits 1 when nothing matches
        );
        expect(left, path).toBe('');
      }
    } finally {
      if (child.exitCode === null) process.kill(-(child.pid ?? 0), 'SIGKILL');
    }
  }, 200_000);
});
