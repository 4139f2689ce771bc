import { request as httpRequest, Agent } from 'node:http';
import type { ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';
import { Sha256 } from '@aws-crypto/sha256-js';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import type { ECRClientConfig } from '@aws-sdk/client-ecr';
import {
  ECRPUBLICClient,
  GetAuthorizationTokenCommand as GetPublicAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr-public';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rejectionOf } from './expect-rejection.js';
import { FakeAwsEndpoint } from './fake-aws-endpoint.js';
import type { CredentialConfig } from './credential-store.js';
import type { FailureKind } from './failure-injector.js';

const ALICE = { accessKeyId: 'AKIAALICE00000000001', secretAccessKey: 'alice/secret+key' };
const BOB = {
  accessKeyId: 'AKIABOB0000000000002',
  secretAccessKey: 'bob-secret',
  accountId: '210987654321',
};

let aws: FakeAwsEndpoint;
const clients: { destroy(): void }[] = [];

beforeAll(async () => {
  aws = await FakeAwsEndpoint.start({ credentials: [ALICE, BOB] });
});
afterAll(async () => {
  await aws.stop();
});
beforeEach(() => {
  aws.reset();
});
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

/** A plain SDK client, pointed at the endpoint only through the `endpoint` setting. */
function ecr(
  credentials: Pick<CredentialConfig, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>,
  config: Partial<ECRClientConfig> = {},
): ECRClient {
  const client = new ECRClient({ region: 'eu-west-1', endpoint: aws.url, credentials, ...config });
  clients.push(client);
  return client;
}

async function firstAuthorization(client: ECRClient) {
  const out = await client.send(new GetAuthorizationTokenCommand({}));
  const data = out.authorizationData?.[0];
  if (data?.authorizationToken === undefined) throw new Error('no authorization data');
  return {
    ...data,
    decoded: Buffer.from(data.authorizationToken, 'base64').toString('utf8'),
  };
}

describe('GetAuthorizationToken through the real ECR client', () => {
  it('returns a token that decodes to AWS:<password> and expires when the test said', async () => {
    aws.setTokenLifetime(3 * 60 * 60_000);
    const before = Date.now();

    const auth = await firstAuthorization(ecr(ALICE));

    const [issued] = aws.issuedTokens();
    expect(issued).toBeDefined();
    expect(auth.decoded).toBe(`AWS:${issued?.password ?? ''}`);
    expect(auth.expiresAt).toEqual(issued?.expiresAt);
    expect(auth.expiresAt?.getTime()).toBeGreaterThanOrEqual(before + 3 * 60 * 60_000);
    expect(auth.expiresAt?.getTime()).toBeLessThanOrEqual(Date.now() + 3 * 60 * 60_000);
    expect(auth.proxyEndpoint).toBe('https://123456789012.dkr.ecr.eu-west-1.amazonaws.com');
    expect(issued).toMatchObject({ accessKeyId: ALICE.accessKeyId, region: 'eu-west-1' });
  });

  it('is reached by a client configured only through AWS_ENDPOINT_URL_ECR', async () => {
    const saved = process.env.AWS_ENDPOINT_URL_ECR;
    process.env.AWS_ENDPOINT_URL_ECR = aws.env().AWS_ENDPOINT_URL_ECR;
    try {
      const client = new ECRClient({ region: 'eu-west-1', credentials: ALICE });
      clients.push(client);
      await expect(firstAuthorization(client)).resolves.toBeDefined();
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_ECR;
      else process.env.AWS_ENDPOINT_URL_ECR = saved;
    }
    expect(aws.callCount({ accessKeyId: ALICE.accessKeyId })).toBe(1);
  });

  it('defaults to ECR’s 12 hour token lifetime', async () => {
    const before = Date.now();
    const auth = await firstAuthorization(ecr(ALICE));
    expect(auth.expiresAt?.getTime()).toBeGreaterThanOrEqual(before + 12 * 60 * 60_000);
  });

  it('hands out a different password on every call, in the key owner’s account', async () => {
    const first = await firstAuthorization(ecr(BOB));
    const second = await firstAuthorization(ecr(BOB));
    expect(first.decoded).not.toBe(second.decoded);
    expect(aws.issuedTokens().map((t) => `AWS:${t.password}`)).toEqual([
      first.decoded,
      second.decoded,
    ]);
    expect(first.proxyEndpoint).toBe('https://210987654321.dkr.ecr.eu-west-1.amazonaws.com');
  });

  it('lists one proxyEndpoint per requested registry id, all with the same token', async () => {
    const out = await ecr(ALICE).send(
      // Deprecated in the API, but the Rancher seed's recipe passes --registry-ids, so support it.
      // eslint-disable-next-line @typescript-eslint/no-deprecated
      new GetAuthorizationTokenCommand({ registryIds: ['111111111111', '222222222222'] }),
    );
    expect(out.authorizationData?.map((d) => d.proxyEndpoint)).toEqual([
      'https://111111111111.dkr.ecr.eu-west-1.amazonaws.com',
      'https://222222222222.dkr.ecr.eu-west-1.amazonaws.com',
    ]);
    expect(new Set(out.authorizationData?.map((d) => d.authorizationToken)).size).toBe(1);
  });

  it('counts calls per region and names each region’s registry host', async () => {
    const regions = ['eu-west-1', 'eu-west-1', 'us-east-1', 'cn-north-1'];
    const endpoints: (string | undefined)[] = [];
    for (const region of regions) {
      endpoints.push((await firstAuthorization(ecr(ALICE, { region }))).proxyEndpoint);
    }
    expect(aws.callCount({ region: 'eu-west-1' })).toBe(2);
    expect(aws.callCount({ region: 'us-east-1' })).toBe(1);
    expect(aws.callCount({ region: 'cn-north-1', accessKeyId: ALICE.accessKeyId })).toBe(1);
    expect(aws.callCount({ region: 'ap-south-1' })).toBe(0);
    expect(endpoints.slice(2)).toEqual([
      'https://123456789012.dkr.ecr.us-east-1.amazonaws.com',
      'https://123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn',
    ]);
    expect(aws.issuedTokens().map((t) => t.region)).toEqual(regions);
  });
});

describe('authentication failures', () => {
  type Creds = Pick<CredentialConfig, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>;
  it.each<[string, string, number, Creds]>([
    ['wrong secret', 'InvalidSignatureException', 403, { ...ALICE, secretAccessKey: 'guessed' }],
    [
      'unknown access key',
      'UnrecognizedClientException',
      403,
      { accessKeyId: 'AKIANOBODY0000000000', secretAccessKey: 'x' },
    ],
    [
      'a session token the key was not issued with',
      'UnrecognizedClientException',
      403,
      { ...ALICE, sessionToken: 'made-up' },
    ],
  ])('%s -> %s (HTTP %d), not retried, no token', async (_name, errorName, status, credentials) => {
    const error = await rejectionOf(firstAuthorization(ecr(credentials)));
    expect(error.name).toBe(errorName);
    expect(error.$metadata).toMatchObject({ httpStatusCode: status, attempts: 1 });
    expect(aws.issuedTokens()).toEqual([]);
    expect(aws.callCount()).toBe(1);
    expect(aws.calls()[0]).toMatchObject({ status, errorCode: errorName });
  });

  it('rejects a key removed at runtime and accepts it again once re-added', async () => {
    const carol = { accessKeyId: 'AKIACAROL00000000003', secretAccessKey: 'carol-secret' };
    aws.addCredentials(carol);
    await firstAuthorization(ecr(carol));

    aws.removeCredentials(carol.accessKeyId);
    const error = await rejectionOf(firstAuthorization(ecr(carol)));
    expect(error.name).toBe('UnrecognizedClientException');

    aws.addCredentials(carol);
    await expect(firstAuthorization(ecr(carol))).resolves.toMatchObject({
      decoded: expect.stringMatching(/^AWS:/) as unknown,
    });
    expect(aws.issuedTokens()).toHaveLength(2);
  });

  it('a caller whose clock is 10 minutes slow is refused once, then the SDK fixes its clock', async () => {
    const client = ecr(ALICE, { systemClockOffset: -10 * 60_000 });
    await expect(firstAuthorization(client)).resolves.toBeDefined();
    expect(aws.calls().map((c) => c.errorCode)).toEqual(['InvalidSignatureException', undefined]);
  });

  it('refuses a 10-minute-old signature when the caller does not correct its clock', async () => {
    const client = ecr(ALICE, { systemClockOffset: -10 * 60_000, maxAttempts: 1 });
    const error = await rejectionOf(firstAuthorization(client));
    expect(error.name).toBe('InvalidSignatureException');
    expect(error.message).toMatch(/^Signature expired: /);
    expect(aws.issuedTokens()).toEqual([]);
  });
});

describe('injected failures', () => {
  it('two throttles then success: the SDK’s own retries get the token on the third call', async () => {
    aws.failNext(2, 'throttle');
    const auth = await firstAuthorization(ecr(ALICE));
    expect(auth.decoded).toMatch(/^AWS:eatr-fake-ecr-/);
    expect(aws.callCount({ action: 'GetAuthorizationToken' })).toBe(3);
    expect(aws.calls().map((c) => c.errorCode)).toEqual([
      'ThrottlingException',
      'ThrottlingException',
      undefined,
    ]);
    expect(aws.calls().map((c) => c.injected)).toEqual(['throttle', 'throttle', undefined]);
    expect(aws.issuedTokens()).toHaveLength(1);
  }, 15_000);

  // maxAttempts 2 so a retried kind shows as 2 calls and a non-retried one as 1.
  it.each<[FailureKind, string, number, number]>([
    ['throttle', 'ThrottlingException', 400, 2],
    ['server-error', 'ServerException', 500, 2],
    ['access-denied', 'AccessDeniedException', 400, 1],
    ['bad-signature', 'InvalidSignatureException', 403, 1],
  ])(
    'a key set to %s fails with %s (HTTP %d) after %d call(s)',
    async (kind, errorName, status, calls) => {
      aws.setBehaviour(BOB.accessKeyId, kind);
      const error = await rejectionOf(firstAuthorization(ecr(BOB, { maxAttempts: 2 })));
      expect(error.name).toBe(errorName);
      expect(error.$metadata).toMatchObject({ httpStatusCode: status });
      expect(aws.callCount({ accessKeyId: BOB.accessKeyId })).toBe(calls);
      expect(aws.issuedTokens()).toEqual([]);
      // Other keys are unaffected.
      await expect(firstAuthorization(ecr(ALICE))).resolves.toBeDefined();
    },
    15_000,
  );

  it('names the caller in an access-denied message, as AWS does', async () => {
    aws.setBehaviour(BOB.accessKeyId, 'access-denied');
    const error = await rejectionOf(firstAuthorization(ecr(BOB)));
    expect(error.message).toContain(
      'User: arn:aws:iam::210987654321:user/AKIABOB0000000000002 is not authorized to perform: ecr:GetAuthorizationToken',
    );
  });

  it('clearing a behaviour lets the key through again', async () => {
    aws.setBehaviour(ALICE.accessKeyId, 'access-denied');
    await rejectionOf(firstAuthorization(ecr(ALICE)));
    aws.setBehaviour(ALICE.accessKeyId, undefined);
    await expect(firstAuthorization(ecr(ALICE))).resolves.toBeDefined();
  });

  it('failNext applies only to calls matching its filter', async () => {
    aws.failNext(1, 'access-denied', { region: 'us-east-1' });
    await expect(firstAuthorization(ecr(ALICE))).resolves.toBeDefined();
    const error = await rejectionOf(firstAuthorization(ecr(ALICE, { region: 'us-east-1' })));
    expect(error.name).toBe('AccessDeniedException');
    await expect(firstAuthorization(ecr(ALICE, { region: 'us-east-1' }))).resolves.toBeDefined();
  });

  it('a slow answer trips the client timeout; the retry succeeds and both calls are counted', async () => {
    aws.setSlowResponseDelay(3_000);
    aws.failNext(1, 'slow');
    // Without throwOnRequestTimeout, requestTimeout only logs a warning and the call waits on.
    const client = ecr(ALICE, {
      requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true },
    });
    const started = Date.now();
    await expect(firstAuthorization(client)).resolves.toBeDefined();
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(aws.calls()).toMatchObject([
      { injected: 'slow', status: undefined },
      { injected: undefined, status: 200 },
    ]);
  });

  it('a slow answer still arrives when the client waits long enough', async () => {
    aws.setSlowResponseDelay(200);
    aws.setBehaviour(ALICE.accessKeyId, 'slow');
    const started = Date.now();
    await expect(firstAuthorization(ecr(ALICE))).resolves.toBeDefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(aws.callCount()).toBe(1);
  });

  it('reset forgets calls, tokens and pending failures', async () => {
    aws.failNext(5, 'server-error');
    aws.setTokenLifetime(60_000);
    await firstAuthorization(ecr(ALICE, { maxAttempts: 1 })).catch(() => undefined);
    aws.reset();
    const before = Date.now();
    const auth = await firstAuthorization(ecr(ALICE, { maxAttempts: 1 }));
    expect(aws.callCount()).toBe(1);
    expect(aws.issuedTokens()).toHaveLength(1);
    expect(auth.expiresAt?.getTime()).toBeGreaterThanOrEqual(before + 12 * 60 * 60_000);
  });
});

/** An agent that reaches every host through a CONNECT tunnel opened on the endpoint. */
class TunnelAgent extends Agent {
  constructor(private readonly proxyPort: number) {
    super({ keepAlive: false });
  }

  override createConnection(
    options: ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): undefined {
    const target = `${options.host ?? ''}:${String(options.port ?? 80)}`;
    httpRequest({ host: '127.0.0.1', port: this.proxyPort, method: 'CONNECT', path: target })
      .on('connect', (res, socket) => {
        if (res.statusCode === 200) callback?.(null, socket);
        else callback?.(new Error(`CONNECT ${target} answered ${String(res.statusCode)}`), socket);
      })
      .on('error', (error) => {
        callback?.(error, undefined as unknown as Duplex); // the agent ignores the socket on error
      })
      .end();
    return undefined;
  }
}

describe('reached through a proxy', () => {
  // `.invalid` never resolves: the only way these calls can arrive is through the proxy.
  const unreachable = 'http://ecr.eatr.invalid';

  it('records calls that came through a CONNECT tunnel', async () => {
    const client = ecr(ALICE, {
      endpoint: unreachable,
      requestHandler: { httpAgent: new TunnelAgent(aws.port) },
    });
    await expect(firstAuthorization(client)).resolves.toBeDefined();
    expect(aws.calls()).toMatchObject([{ viaProxy: 'connect', status: 200 }]);
  });

  it('records calls sent in absolute form, as an HTTP proxy receives them', async () => {
    const body = '{}';
    const signed = await new SignatureV4({
      service: 'ecr',
      region: 'eu-west-1',
      credentials: ALICE,
      sha256: Sha256,
    }).sign({
      method: 'POST',
      protocol: 'http:',
      hostname: 'ecr.eatr.invalid',
      path: '/',
      query: {},
      headers: {
        host: 'ecr.eatr.invalid',
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken',
      },
      body,
    });
    const answer = await new Promise<{ status: number | undefined; body: string }>(
      (resolve, reject) => {
        const req = httpRequest({
          host: '127.0.0.1',
          port: aws.port,
          method: 'POST',
          path: `${unreachable}/`,
          headers: signed.headers,
        });
        req.on('response', (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            resolve({ status: res.statusCode, body: text });
          });
        });
        req.on('error', reject);
        req.end(body);
      },
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('authorizationToken');
    expect(aws.calls()).toMatchObject([{ viaProxy: 'absolute-form', region: 'eu-west-1' }]);
  });

  it('records direct calls as not proxied', async () => {
    await firstAuthorization(ecr(ALICE));
    expect(aws.calls()[0]?.viaProxy).toBeUndefined();
  });
});

describe('lifecycle', () => {
  it('stop() can be called twice and refuses later connections', async () => {
    const own = await FakeAwsEndpoint.start({ credentials: [ALICE] });
    const client = new ECRClient({
      region: 'eu-west-1',
      endpoint: own.url,
      credentials: ALICE,
      maxAttempts: 1,
    });
    clients.push(client);
    await firstAuthorization(client);
    await own.stop();
    await own.stop();
    const error = await rejectionOf(firstAuthorization(client));
    expect(error).toMatchObject({
      code: expect.stringMatching(/^ECONN(REFUSED|RESET)$/) as unknown,
    });
  });

  it('stop() does not wait for a slow answer', async () => {
    const own = await FakeAwsEndpoint.start({ credentials: [ALICE], slowResponseMs: 60_000 });
    own.failNext(1, 'slow');
    const client = new ECRClient({
      region: 'eu-west-1',
      endpoint: own.url,
      credentials: ALICE,
      maxAttempts: 1,
    });
    clients.push(client);
    const pending = firstAuthorization(client).catch((error: unknown) => error);
    while (own.callCount() === 0) await new Promise((r) => setTimeout(r, 10));
    const started = Date.now();
    await own.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await pending).toBeInstanceOf(Error);
  });
});

describe('ECR Public GetAuthorizationToken through the real ECR Public client', () => {
  const ecrPublic = (region: string, credentials = ALICE) => {
    const client = new ECRPUBLICClient({ region, endpoint: aws.url, credentials });
    clients.push(client);
    return client;
  };

  it('returns a token for public.ecr.aws, signed for its own service name', async () => {
    const out = await ecrPublic('us-east-1').send(new GetPublicAuthorizationTokenCommand({}));
    const decoded = Buffer.from(out.authorizationData?.authorizationToken ?? '', 'base64').toString(
      'utf8',
    );
    expect(decoded).toMatch(/^AWS:eatr-fake-ecr-/);
    expect(aws.issuedTokens().at(-1)?.proxyEndpoint).toBe('https://public.ecr.aws');
    expect(aws.calls()).toMatchObject([
      { service: 'ecr-public', action: 'GetAuthorizationToken', status: 200 },
    ]);
  });

  it('is served in us-east-1 only', async () => {
    const error = await rejectionOf(
      ecrPublic('us-west-2').send(new GetPublicAuthorizationTokenCommand({})),
    );
    expect(error.name).toBe('InvalidParameterException');
  });

  it('refuses a key it does not know', async () => {
    const error = await rejectionOf(
      ecrPublic('us-east-1', { accessKeyId: 'AKIANOBODY0000000009', secretAccessKey: 'x' }).send(
        new GetPublicAuthorizationTokenCommand({}),
      ),
    );
    expect(error.name).toBe('UnrecognizedClientException');
  });
});
