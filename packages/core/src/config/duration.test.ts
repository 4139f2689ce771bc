import { describe, expect, it } from 'vitest';
import { formatDuration, parseGoDuration } from './duration.js';

describe('parseGoDuration', () => {
  it.each([
    ['20s', 20_000],
    ['5s', 5000],
    ['6h', 21_600_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['300ms', 300],
    ['2m3s', 123_000],
    ['0', 0],
    [' 10s ', 10_000],
  ])('%s -> %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBe(ms);
  });

  it.each(['', '10', 'h', '10x', '-5s', '5 s', 'six hours', '1d'])('rejects %j', (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [21_600_000, '6h'],
    [300_000, '5m'],
    [20_000, '20s'],
    [1500, '1500ms'],
    [0, '0s'],
  ])('%d -> %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
