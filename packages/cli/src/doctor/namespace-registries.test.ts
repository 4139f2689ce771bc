import { describe, expect, it } from 'vitest';
import { registriesAskedFor } from './namespace-registries.js';

const A = '111111111111.dkr.ecr.eu-west-1.amazonaws.com';
const B = '222222222222.dkr.ecr.us-east-1.amazonaws.com';
const none = {
  instance: 'eatr',
  maxRegistriesPerNamespace: 20,
  globalRegistries: [],
  includeNamespaces: [],
  excludeNamespaces: [],
  secretNameTemplate: '{{registry}}',
  serviceAccounts: ['default'],
};

describe('registriesAskedFor', () => {
  it('takes the registries a namespace labels true', () => {
    const ns = { metadata: { name: 'team', labels: { [A]: 'true', [B]: 'false' } } };
    expect(registriesAskedFor(ns, none)).toEqual([A]);
  });

  it('adds the global registries where they apply', () => {
    const settings = { ...none, globalRegistries: [B], excludeNamespaces: ['kube-*'] };
    expect(registriesAskedFor({ metadata: { name: 'team' } }, settings)).toEqual([B]);
    expect(registriesAskedFor({ metadata: { name: 'kube-system' } }, settings)).toEqual([]);
  });

  it('follows the plan: a registry the name template leaves unserved, or a terminating namespace, needs nothing', () => {
    const ns = { metadata: { name: 'team', labels: { [A]: 'true', [B]: 'true' } } };
    expect(registriesAskedFor(ns, { ...none, secretNameTemplate: 'ecr' })).toEqual([A]);
    const terminating = { metadata: { ...ns.metadata, deletionTimestamp: new Date() } };
    expect(registriesAskedFor(terminating, none)).toEqual([]);
  });
});
