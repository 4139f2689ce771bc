import { describe, expect, it } from 'vitest';
import { LabelSelectorError, parseLabelSelector } from './label-selector.js';

const TEAM_A = { 'kubernetes.io/metadata.name': 'team-a', team: 'a', env: 'prod' };
const TEAM_B = { 'kubernetes.io/metadata.name': 'team-b', team: 'b' };
const BARE = {};

describe('parseLabelSelector', () => {
  it.each<[string, boolean, boolean, boolean]>([
    // selector, matches TEAM_A, TEAM_B, BARE
    ['', true, true, true],
    ['team', true, true, false],
    ['!team', false, false, true],
    ['team=a', true, false, false],
    ['team==a', true, false, false],
    ['team!=a', false, true, true],
    ['team in (a, b)', true, true, false],
    ['team notin (a)', false, true, true],
    ['team in (a),env=prod', true, false, false],
    ['team,  !env', false, true, false],
    ['kubernetes.io/metadata.name in (team-b,team-c)', false, true, false],
    ['env=', false, false, false],
  ])('%j: %s %s %s', (selector, a, b, bare) => {
    const s = parseLabelSelector(selector);
    expect([s.matches(TEAM_A), s.matches(TEAM_B), s.matches(BARE)]).toEqual([a, b, bare]);
    expect(s.matches(undefined)).toBe(bare);
  });

  it.each([
    ['team=a,', 'has an empty requirement'],
    [
      'team in a',
      '"team in a" in selector "team in a": the values of "in" go in parentheses, e.g. team in (a)',
    ],
    ['-team=a', '"-team" in selector "-team=a" is not a label key'],
    ['team=a b', 'is not a label value'],
    ['team in (a,-b)', '"-b" in selector "team in (a,-b)" is not a label value'],
    ['Example.com/x=1', 'is not a label key'],
  ])('refuses %j naming the part that is wrong', (selector, message) => {
    expect(() => parseLabelSelector(selector)).toThrow(LabelSelectorError);
    expect(() => parseLabelSelector(selector)).toThrow(message);
  });
});
