import { describe, expect, it } from 'vitest';
import { uniqueName } from './unique-name.js';

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

describe('uniqueName', () => {
  it('keeps a simple prefix and adds a random suffix', () => {
    const name = uniqueName('smoke');
    expect(name).toMatch(/^smoke-[a-z0-9]{8}$/);
    expect(uniqueName('smoke')).not.toBe(name);
  });

  it.each([
    'Team_A.Namespace',
    '--leading-and-trailing--',
    '',
    '***',
    'x'.repeat(100),
    `${'a'.repeat(53)}-b`,
  ])('turns %j into a valid DNS-1123 label of at most 63 characters', (prefix) => {
    const name = uniqueName(prefix);
    expect(name).toMatch(DNS_1123_LABEL);
    expect(name.length).toBeLessThanOrEqual(63);
  });

  it('lower-cases and replaces invalid characters', () => {
    expect(uniqueName('Team_A.ns')).toMatch(/^team-a-ns-[a-z0-9]{8}$/);
  });
});
