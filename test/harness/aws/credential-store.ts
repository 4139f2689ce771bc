import { randomBytes } from 'node:crypto';
import { AwsServiceError } from './aws-errors.js';
import type { SigningSecret } from './sigv4-verifier.js';

/** An IAM user's long-term key the endpoint accepts (or a session the test made up itself). */
export interface CredentialConfig {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** When set, requests must carry it as X-Amz-Security-Token. */
  readonly sessionToken?: string;
  /** The account the key belongs to; the ECR proxyEndpoint names it. Default 123456789012. */
  readonly accountId?: string;
  /** IAM user name, for ARNs in messages. Default: the access key id. */
  readonly userName?: string;
}

/** A role that AssumeRole / AssumeRoleWithWebIdentity can assume. */
export interface RoleConfig {
  /** `arn:aws:iam::<12 digits>:role/<name>` */
  readonly arn: string;
  /** When set, AssumeRole must pass exactly this ExternalId. */
  readonly externalId?: string;
  /** Access keys allowed to assume the role; omitted = every key the endpoint knows. */
  readonly trustedAccessKeyIds?: readonly string[];
  /** The web identity token AssumeRoleWithWebIdentity must present; omitted = no web identity trust. */
  readonly webIdentityToken?: string;
  /**
   * Instead of one fixed token: trust any token this accepts (an OIDC provider's keys, issuer and
   * audience, as IAM checks them). Resolves when the token is good; rejects with an AwsServiceError
   * (`invalid-identity-token`) naming what is wrong.
   */
  readonly verifyWebIdentityToken?: (
    token: string,
  ) => Promise<{ readonly sub: string | undefined }>;
  /**
   * With verifyWebIdentityToken: the token subjects the role's trust policy allows (a condition
   * `StringEquals <issuer>:sub`); omitted = any subject of that provider.
   */
  readonly trustedSubjects?: readonly string[];
}

export const DEFAULT_ACCOUNT_ID = '123456789012';

/** Who signed a request, once its key is known. */
export interface Principal extends SigningSecret {
  readonly accessKeyId: string;
  readonly accountId: string;
  /** `arn:aws:iam::...:user/...` or `arn:aws:sts::...:assumed-role/...`. */
  readonly arn: string;
  /** Epoch ms after which temporary credentials are refused; undefined for long-term keys. */
  readonly expiresAt: number | undefined;
}

/** What AssumeRole and AssumeRoleWithWebIdentity hand out. */
export interface IssuedSession {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
  readonly assumedRoleArn: string;
  readonly assumedRoleId: string;
  readonly roleArn: string;
}

export interface AssumeRoleRequest {
  readonly roleArn: string;
  readonly sessionName: string;
  readonly externalId?: string | undefined;
  readonly durationSeconds?: number | undefined;
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** 16 characters from the alphabet real access key ids use. */
function keySuffix(): string {
  return [...randomBytes(16)].map((b) => BASE32[b % 32]).join('');
}

interface Role {
  readonly config: RoleConfig;
  readonly accountId: string;
  readonly name: string;
  readonly roleId: string;
}

/** Long-term keys, roles, and the temporary credentials issued for those roles. */
export class CredentialStore {
  private readonly principals = new Map<string, Principal>();
  private readonly roles = new Map<string, Role>();
  /** When set, overrides the requested DurationSeconds of every new session. */
  private sessionLifetimeMs: number | undefined;

  addCredentials(config: CredentialConfig): void {
    if (config.accessKeyId === '' || config.secretAccessKey === '') {
      throw new TypeError('credentials need a non-empty accessKeyId and secretAccessKey');
    }
    const accountId = config.accountId ?? DEFAULT_ACCOUNT_ID;
    this.principals.set(config.accessKeyId, {
      accessKeyId: config.accessKeyId,
      secretAccessKey: config.secretAccessKey,
      sessionToken: config.sessionToken,
      accountId,
      arn: `arn:aws:iam::${accountId}:user/${config.userName ?? config.accessKeyId}`,
      expiresAt: undefined,
    });
  }

  /** Forgets a key (long-term or temporary): its next call gets UnrecognizedClient. */
  removeCredentials(accessKeyId: string): boolean {
    return this.principals.delete(accessKeyId);
  }

  get(accessKeyId: string): Principal | undefined {
    return this.principals.get(accessKeyId);
  }

  addRole(config: RoleConfig): void {
    const m = ROLE_ARN.exec(config.arn);
    if (!m?.[1] || !m[2]) throw new TypeError(`not an IAM role ARN: ${config.arn}`);
    this.roles.set(config.arn, {
      config,
      accountId: m[1],
      name: m[2],
      roleId: `AROA${keySuffix()}`,
    });
  }

  removeRole(arn: string): boolean {
    return this.roles.delete(arn);
  }

  setSessionLifetime(ms: number | undefined): void {
    if (ms !== undefined && !(ms > 0)) throw new RangeError('session lifetime must be > 0 ms');
    this.sessionLifetimeMs = ms;
  }

  /** AssumeRole: the caller must be trusted by the role and pass its ExternalId. */
  assumeRole(caller: Principal, request: AssumeRoleRequest, now: number): IssuedSession {
    validateSessionRequest(request);
    const role = this.roles.get(request.roleArn);
    const denied = () =>
      new AwsServiceError(
        'access-denied',
        `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${request.roleArn}`,
      );
    if (role === undefined) throw denied();
    const trusted = role.config.trustedAccessKeyIds;
    if (trusted !== undefined && !trusted.includes(caller.accessKeyId)) throw denied();
    if (role.config.externalId !== undefined && role.config.externalId !== request.externalId) {
      throw denied();
    }
    return this.issueSession(role, request, now);
  }

  /** AssumeRoleWithWebIdentity: unsigned; the token must be the one the role trusts. */
  assumeRoleWithWebIdentity(
    request: AssumeRoleRequest & {
      readonly webIdentityToken: string;
      readonly verified?: boolean;
      /** The verified token's `sub`. */
      readonly subject?: string | undefined;
    },
    now: number,
  ): IssuedSession {
    validateSessionRequest(request);
    const role = this.roles.get(request.roleArn);
    if (
      role?.config.webIdentityToken === undefined ||
      role.config.webIdentityToken !== request.webIdentityToken
    ) {
      const trusted = role?.config.trustedSubjects;
      if (
        role?.config.verifyWebIdentityToken !== undefined &&
        request.verified === true &&
        (trusted === undefined || trusted.includes(request.subject ?? ''))
      ) {
        return this.issueSession(role, request, now);
      }
      throw new AwsServiceError(
        'access-denied',
        'Not authorized to perform sts:AssumeRoleWithWebIdentity',
      );
    }
    return this.issueSession(role, request, now);
  }

  /** The role's own web identity check, when it has one (see RoleConfig.verifyWebIdentityToken). */
  webIdentityVerifier(
    roleArn: string,
  ): ((token: string) => Promise<{ readonly sub: string | undefined }>) | undefined {
    return this.roles.get(roleArn)?.config.verifyWebIdentityToken;
  }

  private issueSession(role: Role, request: AssumeRoleRequest, now: number): IssuedSession {
    const lifetimeMs = this.sessionLifetimeMs ?? (request.durationSeconds ?? 3600) * 1000;
    // STS reports whole seconds; keep the stored expiry identical to the reported one.
    const expiration = new Date(Math.floor((now + lifetimeMs) / 1000) * 1000);
    const assumedRoleArn = `arn:aws:sts::${role.accountId}:assumed-role/${role.name}/${request.sessionName}`;
    const session: IssuedSession = {
      accessKeyId: `ASIA${keySuffix()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `FwoGZXIvYXdzE${randomBytes(120).toString('base64')}`,
      expiration,
      assumedRoleArn,
      assumedRoleId: `${role.roleId}:${request.sessionName}`,
      roleArn: role.config.arn,
    };
    this.principals.set(session.accessKeyId, {
      accessKeyId: session.accessKeyId,
      secretAccessKey: session.secretAccessKey,
      sessionToken: session.sessionToken,
      accountId: role.accountId,
      arn: assumedRoleArn,
      expiresAt: expiration.getTime(),
    });
    return session;
  }
}

function validateSessionRequest(request: AssumeRoleRequest): void {
  if (!SESSION_NAME.test(request.sessionName)) {
    throw new AwsServiceError(
      'invalid-parameter',
      `1 validation error detected: Value '${request.sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
    );
  }
  const d = request.durationSeconds;
  if (d !== undefined && (!Number.isInteger(d) || d < 900 || d > 43_200)) {
    throw new AwsServiceError(
      'invalid-parameter',
      `1 validation error detected: Value '${d}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200`,
    );
  }
}
