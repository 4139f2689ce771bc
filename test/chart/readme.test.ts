import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CHART, isObject, run } from './support.js';

interface Generator {
  readonly parseValues: (text: string) => {
    values: unknown;
    docs: { path: string; description: string; value: unknown }[];
  };
}

const GENERATOR = join(CHART, 'scripts/gen-readme.mjs');

const generator = async (): Promise<Generator> => (await import(GENERATOR)) as Generator;

/** The README's values table: key path to its Default cell (unescaped, without the backticks). */
function tableDefaults(readme: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of readme.split('\n')) {
    // A row is `| \`path\` | type | \`default\` | description |`; cells escape `|` as `\|`.
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim().replaceAll('\\|', '|'));
    const path = /^`([^`]+)`$/.exec(cells[1] ?? '')?.[1];
    const value = /^`(.*)`$/.exec(cells[3] ?? '')?.[1];
    if (line.startsWith('| `') && path !== undefined && value !== undefined) rows.set(path, value);
  }
  return rows;
}

describe('chart README', () => {
  it('is up to date with values.yaml (gen-readme.mjs --check)', async () => {
    const result = await run(process.execPath, [GENERATOR, '--check']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('lists every leaf value of values.yaml (or its parent object) with its default', async () => {
    const values = parse(await readFile(join(CHART, 'values.yaml'), 'utf8')) as unknown;
    const table = tableDefaults(await readFile(join(CHART, 'README.md'), 'utf8'));
    const problems: string[] = [];
    const seen = new Set<string>();
    const walk = (value: unknown, path: string[]) => {
      const key = path.join('.');
      const documented = table.get(key);
      if (path.length > 0 && documented !== undefined) {
        seen.add(key);
        if (documented !== JSON.stringify(value))
          problems.push(`${key}: README says ${documented}, values.yaml ${JSON.stringify(value)}`);
        return;
      }
      if (isObject(value) && Object.keys(value).length > 0) {
        for (const [child, inner] of Object.entries(value)) walk(inner, [...path, child]);
        return;
      }
      problems.push(`${key}: not in the README table`);
    };
    walk(values, []);
    // Rows inside a documented object (none today) are fine; rows for keys that do not exist are not.
    for (const key of table.keys())
      if (
        !seen.has(key) &&
        !key.split('.').some((_, i, parts) => seen.has(parts.slice(0, i).join('.')))
      )
        problems.push(`${key}: in the README table but not in values.yaml`);
    expect(table.size).toBeGreaterThan(100);
    expect(problems).toEqual([]);
  });

  it('--check fails on a stale README, and a run brings it up to date', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'eatr-readme-'));
    try {
      await copyFile(join(CHART, 'README.md'), join(dir, 'README.md'));
      const values = (await readFile(join(CHART, 'values.yaml'), 'utf8')).replace(
        'renewalInterval: 6h',
        'renewalInterval: 5h',
      );
      await writeFile(join(dir, 'values.yaml'), values);

      const stale = await run(process.execPath, [GENERATOR, '--check', dir]);
      expect(stale.code).toBe(1);
      expect(stale.stderr).toContain('README.md is out of date');

      expect((await run(process.execPath, [GENERATOR, dir])).code).toBe(0);
      expect(await readFile(join(dir, 'README.md'), 'utf8')).toContain(
        '| `config.renewalInterval` | string | `"5h"` |',
      );
      expect(await run(process.execPath, [GENERATOR, '--check', dir])).toMatchObject({
        code: 0,
        stderr: '',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [
      'a comment block above a key, joined into one line',
      'a:\n  # -- first line\n  # second line\n  b: 1\n',
      [{ path: 'a.b', description: 'first line second line', value: 1 }],
    ],
    [
      'the comment above a nested map, and the one above its first key',
      '# -- the map\nm:\n  # -- the key\n  k: [x]\n',
      [
        { path: 'm', description: 'the map', value: { k: ['x'] } },
        { path: 'm.k', description: 'the key', value: ['x'] },
      ],
    ],
    [
      'only the paragraph next to the key',
      '# Header.\n\n# -- doc\n# more\nk: null\n',
      [{ path: 'k', description: 'doc more', value: null }],
    ],
    [
      'quoted and typed scalars as YAML reads them',
      "# -- s\ns: '{x}'\n# -- n\nn: 0.5\n# -- t\nt: 7.4-alpine\n",
      [
        { path: 's', description: 's', value: '{x}' },
        { path: 'n', description: 'n', value: 0.5 },
        { path: 't', description: 't', value: '7.4-alpine' },
      ],
    ],
  ])('reads %s', async (_name, text, docs) => {
    expect((await generator()).parseValues(text).docs).toEqual(docs);
  });

  it.each([
    ['cut off from its key by a blank line', '# -- orphan\n\nk: 1\n'],
    ['inside a list', 'l:\n  # -- item\n  - a: 1\n'],
    ['after the last key', 'm:\n  k: 1\n  # -- dangling\n'],
  ])('refuses a "# --" comment %s', async (_name, text) => {
    const { parseValues } = await generator();
    expect(() => parseValues(text)).toThrow(/"# --" comments but only/);
  });
});
