import { describe, expect, it } from 'vitest';
import { humanDuration, parseOutput, table } from './output.js';

describe('humanDuration', () => {
  it.each([
    [0, '0s'],
    [45_000, '45s'],
    [61_000, '1m1s'],
    [3 * 3_600_000 + 12 * 60_000, '3h12m'],
    [2 * 86_400_000 + 3_600_000, '2d1h'],
    [-120_000, '-2m0s'],
  ])('%d ms is %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});

describe('table', () => {
  it('aligns columns like kubectl: no borders, three spaces, no trailing blanks', () => {
    expect(
      table(
        ['NAME', 'STATE'],
        [
          ['a', 'fresh'],
          ['longer-name', 'x'],
        ],
      ),
    ).toBe(['NAME          STATE', 'a             fresh', 'longer-name   x'].join('\n'));
  });
});

describe('parseOutput', () => {
  it.each([
    [undefined, 'table'],
    ['wide', 'wide'],
    ['json', 'json'],
    ['yaml', 'yaml'],
  ] as const)('-o %s', (value, format) => {
    expect(parseOutput(value)).toBe(format);
  });

  it('names the accepted formats', () => {
    expect(() => parseOutput('xml')).toThrow('-o xml: must be one of wide, json, yaml');
  });
});
