import { describe, expect, it } from 'vitest';
import { isAtLeast } from './resource-version.js';

describe('isAtLeast', () => {
  it.each([
    ['10', '10', true],
    ['11', '10', true],
    ['9', '10', false],
    ['100', '99', true], // numeric, not string order
    ['99', '100', false],
    ['18446744073709551617', '18446744073709551616', true], // beyond 2^64
    ['abc', 'abc', true],
    ['abc', '10', false],
    ['10', 'abc', false],
    ['', '1', false],
  ])('isAtLeast(%j, %j) is %s', (a, b, expected) => {
    expect(isAtLeast(a, b)).toBe(expected);
  });
});
