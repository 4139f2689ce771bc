import { describe, expect, it } from 'vitest';
import { bypassesProxy, proxyFor } from './proxy.js';

describe('bypassesProxy', () => {
  it.each<[string, number, string[], boolean]>([
    ['api.ecr.eu-west-1.amazonaws.com', 443, [], false],
    ['anything', 443, ['*'], true],
    ['sts.amazonaws.com', 443, ['amazonaws.com'], true],
    ['sts.amazonaws.com', 443, ['.amazonaws.com'], true],
    ['amazonaws.com', 443, ['.amazonaws.com'], true],
    ['notamazonaws.com', 443, ['amazonaws.com'], false],
    ['10.43.0.1', 443, ['10.43.0.1'], true],
    ['10.43.0.10', 443, ['10.43.0.1'], false],
    ['internal', 8443, ['internal:8443'], true],
    ['internal', 443, ['internal:8443'], false],
    ['localhost', 80, [' localhost ', ''], true],
  ])('%s:%d with %j -> %s', (host, port, noProxy, expected) => {
    expect(bypassesProxy(host, port, noProxy)).toBe(expected);
  });
});

describe('proxyFor', () => {
  const settings = { https: 'http://proxy:3128', http: undefined, noProxy: ['127.0.0.1'] };
  it.each([
    ['https://api.ecr.eu-west-1.amazonaws.com/', 'http://proxy:3128'],
    ['https://127.0.0.1:8443/', ''],
    ['http://169.254.169.254/', ''],
  ])('%s -> %j', (url, expected) => {
    expect(proxyFor(url, settings)).toBe(expected);
  });
});
