import { COMMIT, VERSION } from '@eatr/core';
import { describe, expect, it } from 'vitest';
import { EXIT, runCli } from './program.js';

/** Runs the CLI with its output captured; nothing is connected for --version or --help. */
async function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    out: (text) => out.push(text),
    err: (text) => err.push(text),
  });
  return { code, out: out.join(''), err: err.join('') };
}

describe('eatr --version', () => {
  it.each([['--version'], ['-V']])('%s prints the version and git commit', async (flag) => {
    const result = await cli([flag]);
    expect(result).toEqual({
      code: EXIT.ok,
      out: `eatr ${VERSION} (commit ${COMMIT})\n`,
      err: '',
    });
    expect(result.out).toMatch(/^eatr \d+\.\d+\.\d+\S* \(commit ([0-9a-f]{12}|unknown)\)\n$/);
  });

  it('is listed in --help', async () => {
    const result = await cli(['--help']);
    expect(result.code).toBe(EXIT.ok);
    expect(result.out).toContain('-V, --version');
    expect(result.out).toContain('show the version and git commit');
  });
});
