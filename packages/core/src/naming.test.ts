import { describe, expect, it } from 'vitest';
import { nameOutputSecrets } from './naming.js';
import { parseRegistryHost, type RegistryHost } from './registry/registry-host.js';

const host = (text: string): RegistryHost => {
  const parsed = parseRegistryHost(text);
  if (!parsed) throw new Error(`not a registry host: ${text}`);
  return parsed;
};
const EU = host('123456789012.dkr.ecr.eu-west-1.amazonaws.com');
const US = host('123456789012.dkr.ecr.us-east-1.amazonaws.com');
const OTHER = host('210987654321.dkr.ecr.eu-west-1.amazonaws.com');

describe('nameOutputSecrets', () => {
  it.each([
    ['{{registry}}', [EU, US, OTHER], [EU.host, US.host, OTHER.host], []],
    [
      'ecr-{{account}}-{{region}}',
      [EU, US, OTHER],
      ['ecr-123456789012-eu-west-1', 'ecr-123456789012-us-east-1', 'ecr-210987654321-eu-west-1'],
      [],
    ],
    [
      'ecr-{{account}}',
      [EU, US, OTHER],
      ['ecr-123456789012', 'ecr-210987654321'],
      [[US.host, 'ecr-123456789012', EU.host]],
    ],
    ['ecr-registry', [EU], ['ecr-registry'], []],
    [
      'ecr-registry',
      [EU, US, OTHER],
      ['ecr-registry'],
      [
        [US.host, 'ecr-registry', EU.host],
        [OTHER.host, 'ecr-registry', EU.host],
      ],
    ],
    ['{{registry}}', [], [], []],
  ])(
    '%s over %#: the first registry keeps a shared name',
    (template, registries, names, collisions) => {
      const result = nameOutputSecrets(template, registries);
      expect(result.named.map((n) => n.secretName)).toEqual(names);
      expect(result.collisions.map((c) => [c.registry.host, c.secretName, c.heldBy])).toEqual(
        collisions,
      );
    },
  );
});
