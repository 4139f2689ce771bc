import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReloadingTlsFiles, readTlsFiles } from './reloading-tls-files.js';

let dir: string;
const file = (name: string) => join(dir, name);
const pem = (name: string) => readFileSync(file(name), 'utf8');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'eatr-tls-files-'));
  // Two self-signed P-256 certificates with their keys: "generation" a and b of a rotation.
  for (const name of ['a', 'b']) {
    // prettier-ignore
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-days', '1', '-subj', `/CN=${name}`, '-keyout', file(`${name}.key`), '-out', file(`${name}.crt`),
    ], { stdio: 'ignore' });
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The files a Secret volume would hold, set to generation `gen`. */
function mount(gen: 'a' | 'b'): void {
  copyFileSync(file(`${gen}.crt`), file('ca.crt'));
  copyFileSync(file(`${gen}.crt`), file('tls.crt'));
  copyFileSync(file(`${gen}.key`), file('tls.key'));
}

const paths = () => ({ ca: file('ca.crt'), cert: file('tls.crt'), key: file('tls.key') });

function initial() {
  const material = readTlsFiles(paths());
  if (!material) throw new Error('the mounted files do not check out');
  return material;
}

describe('ReloadingTlsFiles', () => {
  it('gives the files as they are at each connect, read at most once a second', () => {
    mount('a');
    let now = 0;
    const files = new ReloadingTlsFiles(paths(), initial(), () => now);
    // What ioredis does with the options at every connect.
    const connect = () => Object.assign({}, files.connectionOptions('redis.example'));
    expect(connect()).toEqual({
      servername: 'redis.example',
      ca: pem('a.crt'),
      cert: pem('a.crt'),
      key: pem('a.key'),
    });
    mount('b');
    now = 500;
    expect(connect().cert).toBe(pem('a.crt'));
    now = 1000;
    expect(connect()).toMatchObject({ ca: pem('b.crt'), cert: pem('b.crt'), key: pem('b.key') });
  });

  it.each([
    [
      'a certificate that does not match its key',
      () => copyFileSync(file('b.key'), file('tls.key')),
    ],
    ['a file that is not PEM', () => writeFileSync(file('ca.crt'), 'half written')],
    ['a file that is gone', () => rmSync(file('tls.key'))],
  ])('keeps the last good set on %s', (_name, breakIt) => {
    mount('a');
    let now = 0;
    const files = new ReloadingTlsFiles(paths(), initial(), () => now);
    breakIt();
    now = 5000;
    expect(Object.assign({}, files.connectionOptions())).toEqual({
      ca: pem('a.crt'),
      cert: pem('a.crt'),
      key: pem('a.key'),
    });
  });

  it('offers only the parts it has files for', () => {
    mount('a');
    const files = new ReloadingTlsFiles({ ca: file('ca.crt') }, { ca: pem('a.crt') });
    expect(Object.keys(files.connectionOptions())).toEqual(['ca']);
  });
});
