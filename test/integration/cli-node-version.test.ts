import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eatrCli } from './support/eatr-cli.js';

// On a Node older than 24, the Kubernetes client's HTTP library fails while loading with an error
// that names neither Node nor its version: the CLI checks first and says what to run instead.
describe('eatr on an older Node', () => {
  let dir: string;
  let preload: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'eatr-node-version-'));
    preload = join(dir, 'node-20.mjs');
    // The version an older Node reports, as the CLI reads it (process.version and process.versions).
    await writeFile(
      preload,
      `Object.defineProperty(process, 'version', { value: 'v20.19.0' });
Object.defineProperty(process, 'versions', { value: { ...process.versions, node: '20.19.0' } });
`,
    );
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 1 with one line naming the version it needs and the one it found', async () => {
    const result = await eatrCli(['status'], { NODE_OPTIONS: `--import ${preload}` });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('eatr: needs Node.js 24 or later; this is v20.19.0');
    expect(result.stderr).not.toMatch(/TypeError|undici/);
  });

  it('runs on Node 24', async () => {
    const result = await eatrCli(['--version'], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^eatr \d+\.\d+\.\d+/);
  });
});
