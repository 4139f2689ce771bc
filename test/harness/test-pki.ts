import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Key and certificate files for a test kube-apiserver, all under one folder. */
export interface TestPki {
  readonly caCertPath: string;
  readonly caCertPem: string;
  /** The CA's key, to sign more certificates ({@link signServingCertificate}). */
  readonly caKeyPath: string;
  /** Serving certificate for 127.0.0.1 and localhost, signed by the CA. */
  readonly servingCertPath: string;
  readonly servingKeyPath: string;
  /** Private key the API server signs ServiceAccount tokens with. */
  readonly serviceAccountSigningKeyPath: string;
  /** Its public key, with which the API server verifies them. */
  readonly serviceAccountPublicKeyPath: string;
}

// A config of our own, so the result does not depend on the machine's openssl.cnf defaults.
const OPENSSL_CONFIG = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[serving_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = \${ENV::EATR_TEST_SANS}
authorityKeyIdentifier = keyid
`;

/** The serving certificate's names unless createTestPki is given more. */
const DEFAULT_SANS = ['IP:127.0.0.1', 'DNS:localhost'];

// P-256 keys: generated in milliseconds (RSA takes far longer) and accepted everywhere needed.
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const DAYS = ['-days', '7'];

export async function openssl(
  args: readonly string[],
  sans: readonly string[] = DEFAULT_SANS,
): Promise<void> {
  try {
    await run('openssl', args, { env: { ...process.env, EATR_TEST_SANS: sans.join(', ') } });
  } catch (error) {
    const { code, stderr } = error as NodeJS.ErrnoException & { stderr?: string };
    if (code === 'ENOENT') {
      throw new Error(
        'openssl was not found; install it (Debian/Ubuntu: apt-get install openssl)',
        {
          cause: error,
        },
      );
    }
    throw new Error(`openssl ${args.join(' ')} failed: ${stderr?.trim() ?? String(error)}`, {
      cause: error,
    });
  }
}

export interface TestPkiOptions {
  /** More subjectAltNames of the serving certificate, in openssl's form (`IP:10.88.0.1`). */
  readonly extraSans?: readonly string[];
}

/** Generates a CA, a serving certificate and a ServiceAccount signing key pair with openssl. */
export async function createTestPki(dir: string, options: TestPkiOptions = {}): Promise<TestPki> {
  const path = (name: string) => join(dir, name);
  const sans = [...DEFAULT_SANS, ...(options.extraSans ?? [])];
  const config = path('openssl.cnf');
  await writeFile(config, OPENSSL_CONFIG);
  const pki: Omit<TestPki, 'caCertPem'> = {
    caCertPath: path('ca.crt'),
    caKeyPath: path('ca.key'),
    servingCertPath: path('serving.crt'),
    servingKeyPath: path('serving.key'),
    serviceAccountSigningKeyPath: path('service-account.key'),
    serviceAccountPublicKeyPath: path('service-account.pub'),
  };
  const caKey = pki.caKeyPath;
  const servingCsr = path('serving.csr');

  const ca = ['-config', config, '-extensions', 'ca_ext', '-subj', '/CN=eatr-test-ca'];
  const serving = ['-config', config, '-subj', '/CN=kube-apiserver'];
  const saKey = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  await Promise.all([
    openssl(['req', '-x509', ...ca, ...EC_KEY, ...DAYS, '-keyout', caKey, '-out', pki.caCertPath]),
    openssl([
      'req',
      '-new',
      ...serving,
      ...EC_KEY,
      '-keyout',
      pki.servingKeyPath,
      '-out',
      servingCsr,
    ]),
    (async () => {
      await openssl(['genpkey', ...saKey, '-out', pki.serviceAccountSigningKeyPath]);
      const pub = ['-pubout', '-out', pki.serviceAccountPublicKeyPath];
      await openssl(['pkey', '-in', pki.serviceAccountSigningKeyPath, ...pub]);
    })(),
  ]);
  const signer = [
    '-CA',
    pki.caCertPath,
    '-CAkey',
    caKey,
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
  ];
  const extensions = ['-extfile', config, '-extensions', 'serving_ext'];
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      servingCsr,
      ...signer,
      ...DAYS,
      ...extensions,
      '-out',
      pki.servingCertPath,
    ],
    sans,
  );

  return { ...pki, caCertPem: await readFile(pki.caCertPath, 'utf8') };
}

/**
 * Another serving certificate from the test CA (for a registry named like an ECR host, say):
 * writes `<name>.crt` and `<name>.key` into `dir` and returns their paths.
 */
export async function signServingCertificate(
  pki: TestPki,
  dir: string,
  name: string,
  sans: readonly string[],
): Promise<{ certPath: string; keyPath: string }> {
  const config = join(dir, `${name}.cnf`);
  await writeFile(config, OPENSSL_CONFIG);
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const subject = ['-config', config, '-subj', `/CN=${name}`];
  await openssl(['req', '-new', ...subject, ...EC_KEY, '-keyout', keyPath, '-out', csr], sans);
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      pki.caCertPath,
      '-CAkey',
      pki.caKeyPath,
      '-set_serial',
      `0x${randomBytes(8).toString('hex')}`,
      ...DAYS,
      '-extfile',
      config,
      '-extensions',
      'serving_ext',
      '-out',
      certPath,
    ],
    sans,
  );
  return { certPath, keyPath };
}
