import { randomBytes } from 'node:crypto';

/** ECR tokens live 12 hours. */
export const DEFAULT_TOKEN_LIFETIME_MS = 12 * 60 * 60_000;

/** One token GetAuthorizationToken handed out. */
export interface IssuedToken {
  readonly accessKeyId: string;
  readonly accountId: string;
  readonly region: string;
  /** The registry password (the token decodes to `AWS:<password>`). */
  readonly password: string;
  /** base64 of `AWS:<password>`, as returned in authorizationToken. */
  readonly authorizationToken: string;
  readonly expiresAt: Date;
  /** `https://<account>.dkr.ecr.<region>.<domain>` */
  readonly proxyEndpoint: string;
}

/** The DNS suffix of a region's partition: China, EU sovereign cloud, or the commercial one. */
export function partitionDomain(region: string): string {
  if (region.startsWith('cn-')) return 'amazonaws.com.cn';
  if (region.startsWith('eusc-')) return 'amazonaws.eu';
  return 'amazonaws.com';
}

export function registryEndpoint(accountId: string, region: string): string {
  return `https://${accountId}.dkr.ecr.${region}.${partitionDomain(region)}`;
}

/** Mints distinct registry passwords with a lifetime the test controls. */
export class EcrTokenIssuer {
  private issued: IssuedToken[] = [];
  private counter = 0;
  private lifetimeMs = DEFAULT_TOKEN_LIFETIME_MS;

  setLifetime(ms: number): void {
    if (!(ms > 0)) throw new RangeError('token lifetime must be > 0 ms');
    this.lifetimeMs = ms;
  }

  get lifetime(): number {
    return this.lifetimeMs;
  }

  issue(
    principal: { accessKeyId: string; accountId: string },
    region: string,
    now: number,
    /** ECR Public's tokens are for public.ecr.aws, not an account's registry. */
    service: 'ecr' | 'ecr-public' = 'ecr',
  ): IssuedToken {
    // The counter makes every password distinct and ordered; the random part keeps two endpoints'
    // tokens (one per test file) apart.
    const password = `eatr-fake-ecr-${++this.counter}-${randomBytes(24).toString('base64url')}`;
    const token: IssuedToken = {
      accessKeyId: principal.accessKeyId,
      accountId: principal.accountId,
      region,
      password,
      authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
      expiresAt: new Date(now + this.lifetimeMs),
      proxyEndpoint:
        service === 'ecr-public'
          ? 'https://public.ecr.aws'
          : registryEndpoint(principal.accountId, region),
    };
    this.issued.push(token);
    return token;
  }

  list(): IssuedToken[] {
    return [...this.issued];
  }

  reset(): void {
    this.issued = [];
    this.lifetimeMs = DEFAULT_TOKEN_LIFETIME_MS;
  }
}
