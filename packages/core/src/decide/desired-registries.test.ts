import { describe, expect, it } from 'vitest';
import { desiredRegistries, type GlobalRegistries } from './desired-registries.js';

const A = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const B = '210987654321.dkr.ecr.us-east-1.amazonaws.com';
const none: GlobalRegistries = { registries: [], include: ['*'], exclude: [] };

describe('desiredRegistries', () => {
  it.each([
    ['no labels', undefined, none, [], []],
    ['one label', { [A]: 'true' }, none, [A], []],
    ['two labels, sorted', { [B]: 'true', [A]: 'true' }, none, [A, B], []],
    ['value not "true"', { [A]: 'false', [B]: 'yes' }, none, [], []],
    ['upper-case host', { [A.toUpperCase()]: 'true' }, none, [A], []],
    [
      'near miss is reported',
      { '12345.dkr.ecr.eu-west-1.amazonaws.com': 'true', team: 'x' },
      none,
      [],
      ['12345.dkr.ecr.eu-west-1.amazonaws.com'],
    ],
    ['global registry', {}, { registries: [B], include: ['*'], exclude: [] }, [B], []],
    [
      'global and label merge',
      { [A]: 'true' },
      { registries: [A, B], include: ['*'], exclude: [] },
      [A, B],
      [],
    ],
    [
      'global excluded by glob',
      {},
      { registries: [B], include: ['*'], exclude: ['team-*'] },
      [],
      [],
    ],
    ['global not included', {}, { registries: [B], include: ['prod-*'], exclude: [] }, [], []],
    [
      'label wins over exclude',
      { [A]: 'true' },
      { registries: [B], include: ['*'], exclude: ['team-*'] },
      [A],
      [],
    ],
  ])('%s', (_name, labels, global, hosts, ignored) => {
    const result = desiredRegistries('team-a', labels, global);
    expect(result.registries.map((r) => r.host)).toEqual(hosts);
    expect(result.ignoredLabels).toEqual(ignored);
  });
});
