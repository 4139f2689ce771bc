import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import type { AssumeRoleCommandInput, Credentials, STSClientConfig } from '@aws-sdk/client-sts';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rejectionOf } from './expect-rejection.js';
import { FakeAwsEndpoint } from './fake-aws-endpoint.js';

const CI = { accessKeyId: 'AKIACIUSER0000000001', secretAccessKey: 'ci-secret' };
const OUTSIDER = { accessKeyId: 'AKIAOUTSIDER00000002', secretAccessKey: 'outsider-secret' };
const CROSS_ACCOUNT = {
  arn: 'arn:aws:iam::555555555555:role/ecr-pull',
  externalId: 'eatr-external-id',
  trustedAccessKeyIds: [CI.accessKeyId],
};
const OPEN_ROLE = { arn: 'arn:aws:iam::123456789012:role/path/open' };
const WEB_ROLE = {
  arn: 'arn:aws:iam::666666666666:role/eatr-irsa',
  webIdentityToken: 'eyJhbGciOiJSUzI1NiJ9.service-account-token.signature',
};

let aws: FakeAwsEndpoint;
const destroyables: { destroy(): void }[] = [];

beforeAll(async () => {
  aws = await FakeAwsEndpoint.start({
    credentials: [CI, OUTSIDER],
    roles: [CROSS_ACCOUNT, OPEN_ROLE, WEB_ROLE],
  });
});
afterAll(async () => {
  await aws.stop();
});
beforeEach(() => {
  aws.reset();
});
afterEach(() => {
  for (const client of destroyables.splice(0)) client.destroy();
});

function sts(config: Partial<STSClientConfig> = {}): STSClient {
  const client = new STSClient({ region: 'eu-west-1', endpoint: aws.url, ...config });
  destroyables.push(client);
  return client;
}

function ecrWith(credentials: Credentials | undefined, region = 'eu-west-1'): ECRClient {
  if (credentials?.AccessKeyId === undefined || credentials.SecretAccessKey === undefined) {
    throw new Error('STS returned no credentials');
  }
  const client = new ECRClient({
    region,
    endpoint: aws.url,
    credentials: {
      accessKeyId: credentials.AccessKeyId,
      secretAccessKey: credentials.SecretAccessKey,
      ...(credentials.SessionToken === undefined ? {} : { sessionToken: credentials.SessionToken }),
    },
    maxAttempts: 1,
  });
  destroyables.push(client);
  return client;
}

const assumeCrossAccount = (input: Partial<AssumeRoleCommandInput> = {}) =>
  sts({ credentials: CI }).send(
    new AssumeRoleCommand({
      RoleArn: CROSS_ACCOUNT.arn,
      RoleSessionName: 'eatr',
      ExternalId: CROSS_ACCOUNT.externalId,
      ...input,
    }),
  );

describe('AssumeRole through the real STS client', () => {
  it('with the right ExternalId returns temporary credentials that ECR then accepts', async () => {
    const before = Date.now();
    const out = await assumeCrossAccount();

    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(out.Credentials?.SessionToken).toBeTruthy();
    expect(out.Credentials?.Expiration?.getTime()).toBeGreaterThan(before + 3_590_000);
    expect(out.AssumedRoleUser?.Arn).toBe('arn:aws:sts::555555555555:assumed-role/ecr-pull/eatr');

    const token = await ecrWith(out.Credentials).send(new GetAuthorizationTokenCommand({}));
    // The token is for the role's account, not the caller's.
    expect(token.authorizationData?.[0]?.proxyEndpoint).toBe(
      'https://555555555555.dkr.ecr.eu-west-1.amazonaws.com',
    );
    expect(aws.issuedTokens()).toMatchObject([{ accessKeyId: out.Credentials?.AccessKeyId }]);
    expect(aws.callCount({ action: 'AssumeRole', accessKeyId: CI.accessKeyId })).toBe(1);
    expect(aws.issuedSessions()).toMatchObject([{ roleArn: CROSS_ACCOUNT.arn }]);
  });

  it('honours DurationSeconds', async () => {
    const before = Date.now();
    const out = await assumeCrossAccount({ DurationSeconds: 900 });
    const expiration = out.Credentials?.Expiration?.getTime() ?? 0;
    expect(expiration).toBeGreaterThan(before + 898_000);
    expect(expiration).toBeLessThanOrEqual(Date.now() + 900_000);
  });

  it('a role without an ExternalId condition trusts every known key', async () => {
    const out = await sts({ credentials: OUTSIDER }).send(
      new AssumeRoleCommand({ RoleArn: OPEN_ROLE.arn, RoleSessionName: 'outsider' }),
    );
    expect(out.AssumedRoleUser?.Arn).toBe('arn:aws:sts::123456789012:assumed-role/open/outsider');
  });

  it.each<[string, () => Promise<unknown>, string, number]>([
    ['a wrong ExternalId', () => assumeCrossAccount({ ExternalId: 'guess' }), 'AccessDenied', 403],
    ['no ExternalId', () => assumeCrossAccount({ ExternalId: undefined }), 'AccessDenied', 403],
    [
      'an untrusted caller',
      () =>
        sts({ credentials: OUTSIDER }).send(
          new AssumeRoleCommand({
            RoleArn: CROSS_ACCOUNT.arn,
            RoleSessionName: 'eatr',
            ExternalId: CROSS_ACCOUNT.externalId,
          }),
        ),
      'AccessDenied',
      403,
    ],
    [
      'a role that does not exist',
      () => assumeCrossAccount({ RoleArn: 'arn:aws:iam::555555555555:role/missing' }),
      'AccessDenied',
      403,
    ],
    [
      'a wrong secret',
      () =>
        sts({ credentials: { ...CI, secretAccessKey: 'nope' } }).send(
          new AssumeRoleCommand({ RoleArn: OPEN_ROLE.arn, RoleSessionName: 'eatr' }),
        ),
      'SignatureDoesNotMatch',
      403,
    ],
    [
      'an unknown key',
      () =>
        sts({ credentials: { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' } }).send(
          new AssumeRoleCommand({ RoleArn: OPEN_ROLE.arn, RoleSessionName: 'eatr' }),
        ),
      'InvalidClientTokenId',
      403,
    ],
    [
      'an invalid session name',
      () => assumeCrossAccount({ RoleSessionName: 'no spaces allowed' }),
      'ValidationError',
      400,
    ],
  ])('with %s is refused (%s, HTTP %d), not retried', async (_name, call, code, status) => {
    const error = await rejectionOf(call());
    expect(error.name).toBe(code);
    expect(error.$metadata).toMatchObject({ httpStatusCode: status, attempts: 1 });
    expect(aws.issuedSessions()).toEqual([]);
    expect(aws.callCount({ service: 'sts' })).toBe(1);
  });

  it('a throttled AssumeRole is retried by the SDK and then succeeds', async () => {
    aws.failNext(1, 'throttle', { action: 'AssumeRole' });
    await expect(assumeCrossAccount()).resolves.toMatchObject({
      Credentials: { AccessKeyId: expect.stringMatching(/^ASIA/) as unknown },
    });
    expect(aws.calls({ action: 'AssumeRole' }).map((c) => c.errorCode)).toEqual([
      'Throttling',
      undefined,
    ]);
  }, 15_000);

  it('temporary credentials stop working when they expire', async () => {
    aws.setSessionLifetime(300);
    const out = await assumeCrossAccount();
    await new Promise((resolve) => setTimeout(resolve, 400));
    const error = await rejectionOf(
      ecrWith(out.Credentials).send(new GetAuthorizationTokenCommand({})),
    );
    expect(error.name).toBe('ExpiredTokenException');
    expect(aws.issuedTokens()).toEqual([]);
  });

  it('temporary credentials sent without their session token are refused', async () => {
    const out = await assumeCrossAccount();
    const error = await rejectionOf(
      ecrWith({ ...out.Credentials, SessionToken: undefined } as Credentials).send(
        new GetAuthorizationTokenCommand({}),
      ),
    );
    expect(error.name).toBe('UnrecognizedClientException');
  });
});

describe('AssumeRoleWithWebIdentity through the real STS client', () => {
  const assumeWeb = (token: string) =>
    sts().send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: WEB_ROLE.arn,
        RoleSessionName: 'eatr-renewer',
        WebIdentityToken: token,
      }),
    );

  it('exchanges the trusted token, unsigned, for credentials ECR accepts', async () => {
    const out = await assumeWeb(WEB_ROLE.webIdentityToken);
    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA/);
    expect(aws.calls()).toMatchObject([
      { action: 'AssumeRoleWithWebIdentity', accessKeyId: undefined, status: 200 },
    ]);

    const token = await ecrWith(out.Credentials, 'us-west-2').send(
      new GetAuthorizationTokenCommand({}),
    );
    expect(token.authorizationData?.[0]?.proxyEndpoint).toBe(
      'https://666666666666.dkr.ecr.us-west-2.amazonaws.com',
    );
  });

  it('refuses any other token', async () => {
    const error = await rejectionOf(assumeWeb('eyJhbGciOiJSUzI1NiJ9.someone-else.signature'));
    expect(error.name).toBe('AccessDenied');
    expect(aws.issuedSessions()).toEqual([]);
  });

  it('refuses a role that trusts no web identity', async () => {
    const error = await rejectionOf(
      sts().send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: OPEN_ROLE.arn,
          RoleSessionName: 'eatr-renewer',
          WebIdentityToken: WEB_ROLE.webIdentityToken,
        }),
      ),
    );
    expect(error.name).toBe('AccessDenied');
  });

  it("applies a role's trust rule on the verified token's sub", async () => {
    const arn = 'arn:aws:iam::777777777777:role/team-a';
    // A verifier standing in for the OIDC checks: it reads the subject from the token text.
    aws.addRole({
      arn,
      verifyWebIdentityToken: (token) => Promise.resolve({ sub: token.split('.')[1] }),
      trustedSubjects: ['system:serviceaccount:team-a:default'],
    });
    const assume = (token: string) =>
      sts().send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: arn,
          RoleSessionName: 'eatr-team-a',
          WebIdentityToken: token,
        }),
      );
    expect((await assume('h.system:serviceaccount:team-a:default.s')).Credentials).toBeDefined();
    const error = await rejectionOf(assume('h.system:serviceaccount:team-b:default.s'));
    expect(error.name).toBe('AccessDenied');
    aws.removeRole(arn);
  });
});
