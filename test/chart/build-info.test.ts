import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO, run } from './support.js';

// packages/core/scripts/build-info.js, which `pnpm build` runs: where the commit every process reports comes from.
// Each case runs a copy of the script in a folder of its own, as the top of a checkout would be.
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'eatr-build-info-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A checkout-like folder (packages/core/scripts/build-info.js) at `root`; runs the script there. */
async function buildInfo(root: string, env: NodeJS.ProcessEnv = {}) {
  await mkdir(join(root, 'packages/core/scripts'), { recursive: true });
  await cp(
    join(REPO, 'packages/core/scripts/build-info.js'),
    join(root, 'packages/core/scripts/build-info.js'),
  );
  // Only PATH (for git) and what the case sets: no EATR_COMMIT from the test run.
  const result = await run(process.execPath, [join(root, 'packages/core/scripts/build-info.js')], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: dir, ...env },
  });
  const written =
    result.code === 0
      ? (JSON.parse(
          await readFile(join(root, 'packages/core/dist/build-info.json'), 'utf8'),
        ) as unknown)
      : undefined;
  return { ...result, written };
}

const git = async (cwd: string, ...args: string[]) => {
  const result = await run(
    'git',
    ['-c', 'user.name=eatr', '-c', 'user.email=eatr@example.com', ...args],
    { cwd, env: { PATH: process.env.PATH ?? '', HOME: dir } },
  );
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim();
};

async function repository(root: string): Promise<string> {
  await mkdir(root, { recursive: true });
  await git(root, 'init', '--quiet');
  await git(root, 'commit', '--quiet', '--allow-empty', '-m', 'a commit');
  return git(root, 'rev-parse', 'HEAD');
}

describe('packages/core/scripts/build-info.js', () => {
  it('writes the first 12 hex digits of HEAD in a git checkout', async () => {
    const head = await repository(dir);
    const result = await buildInfo(dir);
    expect(result.code, result.stderr).toBe(0);
    expect(result.written).toEqual({ commit: head.slice(0, 12) });
    expect(result.stdout).toContain(`commit ${head.slice(0, 12)} (git)`);
  });

  it('writes unknown without git (a tarball)', async () => {
    const result = await buildInfo(dir);
    expect(result.code, result.stderr).toBe(0);
    expect(result.written).toEqual({ commit: 'unknown' });
  });

  it("does not take the commit of a repository it was unpacked into (not the work tree's top)", async () => {
    await repository(dir);
    const result = await buildInfo(join(dir, 'vendor/eatr'));
    expect(result.code, result.stderr).toBe(0);
    expect(result.written).toEqual({ commit: 'unknown' });
  });

  it('prefers EATR_COMMIT (the image build has no .git), shortened to 12 digits', async () => {
    await repository(dir);
    const given = 'ABCDEF0123456789abcdef0123456789abcdef01';
    const result = await buildInfo(dir, { EATR_COMMIT: given });
    expect(result.code, result.stderr).toBe(0);
    expect(result.written).toEqual({ commit: 'abcdef012345' });
  });

  it('treats an empty EATR_COMMIT (the Dockerfile default) as not given', async () => {
    const result = await buildInfo(dir, { EATR_COMMIT: '' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.written).toEqual({ commit: 'unknown' });
  });

  it.each(['main', '1a2b3c', 'v0.2.0', '1a2b3c4d5e6f"} 1'])(
    'fails the build for EATR_COMMIT=%j rather than put it in a metric label',
    async (given) => {
      const result = await buildInfo(dir, { EATR_COMMIT: given });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('EATR_COMMIT must be a commit id (7-40 hex digits)');
    },
  );
});
