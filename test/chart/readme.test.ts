import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CHART, run } from './support.js';

interface Generator {
  readonly parseValues: (text: string) => {
    values: unknown;
    docs: { path: string; description: string }[];
  };
  readonly renderReadme: (readme: string, values: string) => string;
}

const generator = async (): Promise<Generator> =>
  (await import(join(CHART, 'scripts/gen-readme.mjs'))) as Generator;

describe('chart README', () => {
  it('is up to date with values.yaml (gen-readme.mjs --check)', async () => {
    const result = await run(process.execPath, [join(CHART, 'scripts/gen-readme.mjs'), '--check']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('reads values.yaml exactly as a full YAML parser does', async () => {
    const text = await readFile(join(CHART, 'values.yaml'), 'utf8');
    const { values } = (await generator()).parseValues(text);
    expect(values).toEqual(parse(text));
  });

  it('documents every leaf value (or its parent object)', async () => {
    const text = await readFile(join(CHART, 'values.yaml'), 'utf8');
    const documented = new Set((await generator()).parseValues(text).docs.map((d) => d.path));
    const undocumented: string[] = [];
    const walk = (value: unknown, path: string[]) => {
      if (path.length > 0 && documented.has(path.join('.'))) return;
      if (
        value !== null &&
        typeof value === 'object' &&
        !Array.isArray(value) &&
        Object.keys(value).length > 0
      ) {
        for (const [key, child] of Object.entries(value)) walk(child, [...path, key]);
        return;
      }
      undocumented.push(path.join('.'));
    };
    walk(parse(text), []);
    expect(undocumented).toEqual([]);
  });

  it('notices a stale table', async () => {
    const { renderReadme } = await generator();
    const readme = await readFile(join(CHART, 'README.md'), 'utf8');
    const values = (await readFile(join(CHART, 'values.yaml'), 'utf8')).replace(
      'renewalInterval: 6h',
      'renewalInterval: 5h',
    );
    const next = renderReadme(readme, values);
    expect(next).not.toBe(readme);
    expect(next).toContain('| `config.renewalInterval` | string | `"5h"` |');
  });
});
