/** An ECR registry, parsed from its host name. */
export interface RegistryHost {
  /** The host as written in the namespace label, lower-cased, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com`. */
  readonly host: string;
  /** The 12-digit AWS account id that owns the registry. */
  readonly accountId: string;
  /** The AWS region, always taken from the host. */
  readonly region: string;
  /** The AWS partition: `aws`, `aws-cn`, `aws-us-gov` or `aws-eusc`. */
  readonly partition: Partition;
  /** True for FIPS endpoints (`dkr-ecr-fips`, `dkr.ecr-fips`). */
  readonly fips: boolean;
  /** True for dual-stack (IPv4 + IPv6) endpoints (`dkr-ecr.<region>.on.aws`). */
  readonly dualStack: boolean;
  /** The API that issues its tokens: `ecr`, or `ecr-public` for ECR Public (`public.ecr.aws`). */
  readonly service: EcrService;
}

export type EcrService = 'ecr' | 'ecr-public';

/** ECR Public's one registry host. */
export const PUBLIC_REGISTRY_HOST = 'public.ecr.aws';
/** ECR Public's API is served in this region only, whatever region the credentials name. */
export const PUBLIC_REGISTRY_REGION = 'us-east-1';

const PUBLIC_REGISTRY: RegistryHost = {
  host: PUBLIC_REGISTRY_HOST,
  // What {{account}} in a Secret name template gives (an ECR Public token is not an account's).
  accountId: 'public',
  region: PUBLIC_REGISTRY_REGION,
  partition: 'aws',
  fips: false,
  dualStack: false,
  service: 'ecr-public',
};

export type Partition = 'aws' | 'aws-cn' | 'aws-us-gov' | 'aws-eusc';

// Region names as AWS forms them: <area>[-<qualifier>]-<direction>-<number>, e.g. eu-west-1,
// us-gov-west-1, cn-northwest-1, ap-southeast-7, eusc-de-east-1.
const REGION = '([a-z]{2,4}(?:-[a-z]+)?-[a-z]+-\\d{1,2})';
const ACCOUNT = '(\\d{12})';

interface HostForm {
  readonly pattern: RegExp;
  readonly fips: boolean;
  readonly dualStack: boolean;
  readonly suffix: string;
}

// Each form of ECR registry host that AWS documents. Anything else is not a registry host.
const FORMS: readonly HostForm[] = [
  { suffix: 'amazonaws.com', fips: false, dualStack: false, pattern: /dkr\.ecr/ },
  { suffix: 'amazonaws.com', fips: true, dualStack: false, pattern: /dkr-ecr-fips/ },
  { suffix: 'amazonaws.com', fips: true, dualStack: false, pattern: /dkr\.ecr-fips/ },
  { suffix: 'amazonaws.com.cn', fips: false, dualStack: false, pattern: /dkr\.ecr/ },
  { suffix: 'amazonaws.eu', fips: false, dualStack: false, pattern: /dkr\.ecr/ },
  { suffix: 'on.aws', fips: false, dualStack: true, pattern: /dkr-ecr/ },
  { suffix: 'on.aws', fips: true, dualStack: true, pattern: /dkr-ecr-fips/ },
].map((form) => ({
  ...form,
  pattern: new RegExp(
    `^${ACCOUNT}\\.${form.pattern.source}\\.${REGION}\\.${form.suffix.replaceAll('.', '\\.')}$`,
  ),
}));

function partitionOf(region: string, suffix: string): Partition | undefined {
  if (suffix === 'amazonaws.com.cn') return region.startsWith('cn-') ? 'aws-cn' : undefined;
  if (suffix === 'amazonaws.eu') return region.startsWith('eusc-') ? 'aws-eusc' : undefined;
  if (region.startsWith('cn-') || region.startsWith('eusc-')) return undefined;
  return region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
}

/**
 * Parses an ECR registry host. Returns undefined for anything that is not one (a near miss such as an
 * 11-digit account, a missing region, or another domain), so callers can log and count it instead of
 * failing.
 */
export function parseRegistryHost(input: string): RegistryHost | undefined {
  const host = input.trim().toLowerCase();
  if (host === PUBLIC_REGISTRY_HOST) return PUBLIC_REGISTRY;
  if (host.length > 253) return undefined;
  for (const form of FORMS) {
    const match = form.pattern.exec(host);
    if (!match) continue;
    const [, accountId, region] = match;
    if (accountId === undefined || region === undefined) continue;
    const partition = partitionOf(region, form.suffix);
    if (partition === undefined) return undefined;
    return {
      host,
      accountId,
      region,
      partition,
      fips: form.fips,
      dualStack: form.dualStack,
      service: 'ecr',
    };
  }
  return undefined;
}

/** True when a label key looks like someone meant an ECR registry (used to report near misses). */
export function looksLikeRegistryHost(key: string): boolean {
  return /ecr/i.test(key) && /(amazonaws\.|on\.aws|ecr\.aws)/i.test(key);
}
