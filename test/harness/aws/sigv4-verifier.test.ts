import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { parseAmzDate, SigV4VerificationError, verifySigV4 } from './sigv4-verifier.js';
import type { ReceivedRequest, SigV4FailureReason, SigningSecret } from './sigv4-verifier.js';

// The example key of AWS's published SigV4 test suite.
const AKID = 'AKIDEXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const AT = Date.UTC(2015, 7, 30, 12, 36, 0);

const lookupOf =
  (secrets: Record<string, SigningSecret>) =>
  (id: string): SigningSecret | undefined =>
    secrets[id];

describe('verifySigV4 against AWS published examples', () => {
  // "get-vanilla" from the AWS Signature Version 4 test suite: the expected signature is AWS's,
  // not computed by the library the verifier uses.
  const getVanilla: ReceivedRequest = {
    method: 'GET',
    path: '/',
    query: '',
    headers: {
      host: 'example.amazonaws.com',
      'x-amz-date': '20150830T123600Z',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    },
    body: new Uint8Array(),
  };

  it('accepts the published signature and reports key, region and service', async () => {
    await expect(
      verifySigV4(getVanilla, {
        service: 'service',
        lookup: lookupOf({ [AKID]: { secretAccessKey: SECRET } }),
        now: AT,
      }),
    ).resolves.toMatchObject({ accessKeyId: AKID, region: 'us-east-1', service: 'service' });
  });

  it('rejects the same request when the path changed after signing', async () => {
    await expect(
      verifySigV4(
        { ...getVanilla, path: '/other' },
        { service: 'service', lookup: lookupOf({ [AKID]: { secretAccessKey: SECRET } }), now: AT },
      ),
    ).rejects.toMatchObject({ reason: 'signature-mismatch' });
  });
});

/** Signs a POST like the SDK does, then returns it in the shape the server receives. */
async function signedPost(options: {
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  service?: string;
  signedAt?: number;
  body?: string;
}): Promise<ReceivedRequest> {
  const body = options.body ?? '{}';
  const signer = new SignatureV4({
    service: options.service ?? 'ecr',
    region: 'eu-west-1',
    credentials: {
      accessKeyId: options.accessKeyId ?? AKID,
      secretAccessKey: options.secretAccessKey ?? SECRET,
      ...(options.sessionToken === undefined ? {} : { sessionToken: options.sessionToken }),
    },
    sha256: Sha256,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 4566,
      path: '/',
      query: {},
      headers: {
        host: '127.0.0.1:4566',
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken',
      },
      body,
    },
    { signingDate: new Date(options.signedAt ?? AT) },
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) headers[name.toLowerCase()] = value;
  return { method: 'POST', path: '/', query: '', headers, body: Buffer.from(body) };
}

function withHeaders(request: ReceivedRequest, changes: Record<string, string | undefined>) {
  return { ...request, headers: { ...request.headers, ...changes } };
}

describe('verifySigV4 on SDK-style signed requests', () => {
  const known = lookupOf({
    [AKID]: { secretAccessKey: SECRET },
    ASIATEMPORARY: { secretAccessKey: 'temp-secret', sessionToken: 'the-session-token' },
  });
  const verify = (request: ReceivedRequest, now = AT) =>
    verifySigV4(request, { service: 'ecr', lookup: known, now });

  it('accepts a request signed with the right key, also 4 minutes off the clock', async () => {
    await expect(verify(await signedPost({}))).resolves.toMatchObject({ region: 'eu-west-1' });
    await expect(verify(await signedPost({}), AT + 4 * 60_000)).resolves.toBeDefined();
    await expect(verify(await signedPost({}), AT - 4 * 60_000)).resolves.toBeDefined();
  });

  it('accepts temporary credentials that carry their session token', async () => {
    const request = await signedPost({
      accessKeyId: 'ASIATEMPORARY',
      secretAccessKey: 'temp-secret',
      sessionToken: 'the-session-token',
    });
    await expect(verify(request)).resolves.toMatchObject({ accessKeyId: 'ASIATEMPORARY' });
  });

  it('ignores headers that were not signed (proxies add some)', async () => {
    const request = withHeaders(await signedPost({}), { via: '1.1 proxy', 'user-agent': 'x' });
    await expect(verify(request)).resolves.toBeDefined();
  });

  it.each<[string, () => Promise<ReceivedRequest>, SigV4FailureReason, number?]>([
    ['wrong secret', () => signedPost({ secretAccessKey: 'not-the-secret' }), 'signature-mismatch'],
    ['unknown key', () => signedPost({ accessKeyId: 'AKIAUNKNOWN' }), 'unknown-access-key'],
    [
      'body changed after signing',
      async () => ({ ...(await signedPost({})), body: Buffer.from('{"registryIds":[]}') }),
      'signature-mismatch',
    ],
    [
      'signed header changed after signing',
      async () =>
        withHeaders(await signedPost({}), {
          'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.DeleteRepository',
        }),
      'signature-mismatch',
    ],
    ['signed for another service', () => signedPost({ service: 'sts' }), 'signature-mismatch'],
    [
      'no Authorization header',
      async () => withHeaders(await signedPost({}), { authorization: undefined }),
      'missing-authentication',
    ],
    [
      'garbled Authorization header',
      async () => withHeaders(await signedPost({}), { authorization: 'AWS4-HMAC-SHA256 nonsense' }),
      'incomplete-signature',
    ],
    [
      'signed header missing from the request',
      async () => withHeaders(await signedPost({}), { 'x-amz-target': undefined }),
      'incomplete-signature',
    ],
    ['signed 6 minutes ago', () => signedPost({ signedAt: AT - 6 * 60_000 }), 'request-expired'],
    ['signed 6 minutes ahead', () => signedPost({ signedAt: AT + 6 * 60_000 }), 'request-expired'],
    [
      'session token missing for temporary credentials',
      () => signedPost({ accessKeyId: 'ASIATEMPORARY', secretAccessKey: 'temp-secret' }),
      'invalid-security-token',
    ],
    [
      'someone else’s session token',
      () =>
        signedPost({
          accessKeyId: 'ASIATEMPORARY',
          secretAccessKey: 'temp-secret',
          sessionToken: 'a-forged-token',
        }),
      'invalid-security-token',
    ],
    [
      'a session token on a long-term key',
      () => signedPost({ sessionToken: 'unexpected' }),
      'invalid-security-token',
    ],
  ])('rejects %s', async (_name, request, reason) => {
    const result = verify(await request());
    await expect(result).rejects.toBeInstanceOf(SigV4VerificationError);
    await expect(result).rejects.toMatchObject({ reason });
  });

  it('words the clock-skew rejection as AWS does, which the SDK relies on to fix its clock', async () => {
    await expect(verify(await signedPost({ signedAt: AT - 6 * 60_000 }))).rejects.toThrow(
      'Signature expired: 20150830T123000Z is now earlier than 20150830T123100Z (20150830T123600Z - 5 min.)',
    );
  });
});

describe('parseAmzDate', () => {
  it.each([
    ['20150830T123600Z', new Date(AT)],
    ['20150830T1236Z', undefined],
    ['2015-08-30T12:36:00Z', undefined],
    ['20150231T000000Z', undefined],
  ])('%s -> %s', (text, expected) => {
    expect(parseAmzDate(text)).toEqual(expected);
  });
});
