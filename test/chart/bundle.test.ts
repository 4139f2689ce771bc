import { cp, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, run } from './support.js';

// The image's production bundle, built by the very script the Dockerfile runs (there is no Docker
// engine here), from a copy of the build context: the workspace manifests and the built packages.
let context: string;
let bundle: string;
let built: { code: number; stderr: string };

const node = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, args, {
    cwd: bundle,
    // Nothing from the test run leaks in: no KUBECONFIG, no REDIS_URL.
    env: { PATH: process.env.PATH ?? '', HOME: context, ...env },
    timeoutMs: 30_000,
  });

beforeAll(async () => {
  context = await mkdtemp(join(tmpdir(), 'eatr-bundle-'));
  bundle = join(context, 'out');
  for (const file of [
    'package.json',
    'pnpm-lock.yaml',
    'pnpm-workspace.yaml',
    'docker/build-bundle.sh',
  ])
    await cp(join(REPO, file), join(context, 'src', file));
  for (const pkg of ['core', 'renewer', 'watcher', 'cli'])
    await cp(join(REPO, 'packages', pkg), join(context, 'src/packages', pkg), {
      recursive: true,
      filter: (source) => !source.includes('node_modules'),
    });
  built = await run('sh', [join(context, 'src/docker/build-bundle.sh'), bundle], {
    cwd: join(context, 'src'),
    timeoutMs: 300_000,
  });
}, 320_000);

afterAll(async () => {
  await rm(context, { recursive: true, force: true });
});

describe('docker/build-bundle.sh (the image contents)', () => {
  it('builds a bundle with the three entrypoints', async () => {
    expect(built.code, built.stderr).toBe(0);
    expect((await readdir(join(bundle, 'bin'))).sort()).toEqual([
      'eatr-renewer.js',
      'eatr-watcher.js',
      'eatr.js',
    ]);
  });

  it('holds production dependencies only: no TypeScript, vitest, eslint or sources', async () => {
    const installed = await readdir(join(bundle, 'node_modules/.pnpm'));
    for (const dev of [
      'typescript@',
      'vitest@',
      'eslint@',
      'prettier@',
      '@types+picomatch@',
      '@vitest+',
    ])
      expect(
        installed.filter((name) => name.startsWith(dev)),
        dev,
      ).toEqual([]);
    for (const needed of [
      'bullmq@',
      'ioredis@',
      '@kubernetes+client-node@',
      '@aws-sdk+client-ecr@',
      'prom-client@',
      'pino@',
    ])
      expect(
        installed.some((name) => name.startsWith(needed)),
        needed,
      ).toBe(true);
    for (const dir of [
      bundle,
      join(bundle, 'node_modules/@eatr/renewer'),
      join(bundle, 'node_modules/@eatr/watcher'),
      join(bundle, 'node_modules/@eatr/core'),
    ]) {
      await expect(stat(join(dir, 'src')), dir).rejects.toThrow();
      await expect(stat(join(dir, 'dist/index.js')), dir).resolves.toBeDefined();
      // The image runs without --enable-source-maps, so source maps would be dead weight.
      const maps = (await readdir(join(dir, 'dist'), { recursive: true })).filter((f) =>
        f.endsWith('.map'),
      );
      expect(maps, dir).toEqual([]);
    }
    const manifest = JSON.parse(await readFile(join(bundle, 'package.json'), 'utf8')) as {
      name: string;
    };
    expect(manifest.name).toBe('@eatr/cli');
  });

  it.each([
    ['eatr-watcher.js', [], 'Usage: eatr-watcher', '--sweep-interval'],
    ['eatr-renewer.js', [], 'Usage: eatr-renewer', '--concurrency'],
    ['eatr.js', ['run'], 'Usage: eatr run', '--concurrency'],
  ])('%s %s --help lists its settings', async (entry, command, usage, flag) => {
    const result = await node([join('bin', entry), ...command, '--help']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(usage);
    expect(result.stdout).toContain(flag);
  });

  it.each([
    ['eatr-watcher.js', [], 'eatr-watcher'],
    ['eatr-renewer.js', [], 'eatr-renewer'],
    ['eatr.js', [], 'eatr'],
    ['eatr.js', ['run'], 'eatr'],
  ])(
    '%s %s --version names the version and the commit pnpm build recorded',
    async (entry, command, name) => {
      // What `pnpm build` wrote (packages/core/scripts/build-info.js): the bundle must carry it, not lose it.
      const { commit } = JSON.parse(
        await readFile(join(REPO, 'packages/core/dist/build-info.json'), 'utf8'),
      ) as { commit: string };
      const { version } = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as {
        version: string;
      };
      expect(commit).toMatch(/^([0-9a-f]{12}|unknown)$/);
      const result = await node([join('bin', entry), ...command, '--version']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe(`${name} ${version} (commit ${commit})\n`);
    },
  );

  it.each([
    [
      'eatr-watcher.js',
      ['--renewal-interval', '13x'],
      'eatr-watcher: invalid configuration: --renewal-interval: "13x" is not a duration',
    ],
    [
      'eatr-renewer.js',
      ['--no-such-flag'],
      "eatr-renewer: invalid configuration: unknown option '--no-such-flag'",
    ],
    [
      'eatr.js',
      ['run', '--concurrency', '0'],
      'eatr: invalid configuration: --concurrency: "0" must be a whole number from 1 to 1000',
    ],
  ])('%s with a bad setting exits 2 naming it', async (entry, args, message) => {
    const result = await node([join('bin', entry), ...args]);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.startsWith(message), result.stderr).toBe(true);
    expect(result.code).toBe(2);
  });

  it('reads settings from the environment as the chart passes them', async () => {
    const result = await node([join('bin', 'eatr-renewer.js')], { EATR_ECR_TIMEOUT: 'soon' });
    expect(result.stderr).toContain(
      'eatr-renewer: invalid configuration: EATR_ECR_TIMEOUT: "soon" is not a duration',
    );
    expect(result.code).toBe(2);
  });
});
