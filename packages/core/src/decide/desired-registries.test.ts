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

describe('desiredRegistries: a yes that is not "true"', () => {
  it.each<[string, Record<string, string>, string[]]>([
    ['True', { [A]: 'True' }, [`${A}=True`]],
    ['yes, 1 and on, sorted by host', { [B]: 'yes', [A]: '1' }, [`${A}=1`, `${B}=yes`]],
    [' TRUE with spaces', { [A]: ' TRUE ' }, [`${A}= TRUE `]],
    ['false and other values are choices, not near misses', { [A]: 'false', [B]: 'no' }, []],
    ['"true" itself is served, not a near miss', { [A]: 'true' }, []],
    ['a label that is not a registry', { team: 'True' }, []],
  ])('%s', (_name, labels, expected) => {
    const result = desiredRegistries('team-a', labels, none);
    expect(result.nearMisses.map((m) => `${m.registry.host}=${m.value}`)).toEqual(expected);
    expect(result.registries.length).toBe(labels[A] === 'true' ? 1 : 0);
  });
});

describe('desiredRegistries: at most `max` registries per namespace', () => {
  const region = (i: number) => `${String(i).padStart(12, '0')}.dkr.ecr.xx-test-1.amazonaws.com`;
  const labels = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [region(i), 'true']));

  it('serves the first labelled ones in host order and reports the rest', () => {
    const result = desiredRegistries('team-a', labels, none, 20);
    expect(result.registries.length).toBe(20);
    expect(result.overCap.length).toBe(280);
    const sorted = Object.keys(labels).sort();
    expect(result.registries.map((r) => r.host)).toEqual(sorted.slice(0, 20));
    // The same twenty whatever order the labels come in.
    const reversed = Object.fromEntries(Object.entries(labels).reverse());
    expect(desiredRegistries('team-a', reversed, none, 20).registries).toEqual(result.registries);
  });

  it("always keeps the operator's global registries, and labels fill what is left", () => {
    const global: GlobalRegistries = { registries: [B], include: ['*'], exclude: [] };
    const result = desiredRegistries('team-a', { ...labels, [A]: 'true' }, global, 3);
    expect(result.registries.map((r) => r.host)).toEqual(
      [B, ...[A, ...Object.keys(labels)].sort().slice(0, 2)].sort(),
    );
    expect(result.overCap.length).toBe(299);
  });

  it('a label for a global registry counts once', () => {
    const global: GlobalRegistries = { registries: [A], include: ['*'], exclude: [] };
    const result = desiredRegistries('team-a', { [A]: 'true', [B]: 'true' }, global, 2);
    expect(result.registries.map((r) => r.host)).toEqual([A, B]);
    expect(result.overCap).toEqual([]);
  });
});
