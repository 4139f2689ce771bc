import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { NodeHttpHandler } from '@smithy/node-http-handler';
import type { RoleSession, WebIdentitySts } from '../tokens/role-sessions.js';

/** STS's home region per partition (a role ARN names its partition, not a region). */
const PARTITION_REGION: Readonly<Record<string, string>> = {
  aws: 'us-east-1',
  'aws-cn': 'cn-north-1',
  'aws-us-gov': 'us-gov-west-1',
  'aws-eusc': 'eusc-de-east-1',
};

/**
 * AssumeRoleWithWebIdentity through the AWS SDK (unsigned: the token is the proof). The endpoint
 * comes from the SDK's own settings (`AWS_ENDPOINT_URL_STS`, regional endpoints); the proxy-aware
 * request handler is shared with ECR (which destroys it at shutdown).
 */
export class SdkWebIdentitySts implements WebIdentitySts {
  private readonly clients = new Map<string, STSClient>();

  constructor(
    private readonly options: {
      readonly requestHandler: NodeHttpHandler;
      readonly maxAttempts: number;
      readonly now?: () => number;
    },
  ) {}

  async assumeRoleWithWebIdentity(request: {
    readonly roleArn: string;
    readonly sessionName: string;
    readonly webIdentityToken: string;
  }): Promise<RoleSession> {
    const partition = request.roleArn.split(':')[1] ?? 'aws';
    const response = await this.client(PARTITION_REGION[partition] ?? 'us-east-1').send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: request.roleArn,
        RoleSessionName: request.sessionName,
        WebIdentityToken: request.webIdentityToken,
        DurationSeconds: 3600,
      }),
    );
    const c = response.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration)
      throw Object.assign(new Error('STS returned no usable credentials'), {
        name: 'InvalidResponse',
        $metadata: { httpStatusCode: 502 },
      });
    return {
      keys: {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
      },
      expiresAt: c.Expiration.getTime(),
      fetchedAt: (this.options.now ?? Date.now)(),
    };
  }

  private client(region: string): STSClient {
    let client = this.clients.get(region);
    if (client === undefined) {
      client = new STSClient({
        region,
        requestHandler: this.options.requestHandler,
        maxAttempts: this.options.maxAttempts,
      });
      this.clients.set(region, client);
    }
    return client;
  }
}
