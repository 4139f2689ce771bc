import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import {
  ECRPUBLICClient,
  GetAuthorizationTokenCommand as GetPublicAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr-public';
import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import type { NodeHttpHandler } from '@smithy/node-http-handler';
import {
  PUBLIC_REGISTRY_REGION,
  passwordFromAuthorizationToken,
  type EcrService,
} from '@eatr/core';
import type { CredentialSpec } from '../credentials/credential-secret.js';

/** A registry token: the password for user `AWS`, and when ECR says it expires. */
export interface EcrToken {
  readonly password: string;
  readonly expiresAt: number;
  /** When eatr received it (local clock). */
  readonly fetchedAt: number;
}

/** The one thing eatr asks of ECR (or of ECR Public, `service` `ecr-public`). */
export interface EcrTokenClient {
  getAuthorizationToken(
    credentials: CredentialSpec,
    region: string,
    service?: EcrService,
  ): Promise<EcrToken>;
}

export interface SdkEcrTokenClientOptions {
  readonly requestHandler: NodeHttpHandler;
  readonly maxAttempts: number;
  /** Builds the ECR client; injectable for tests of the wiring. Default: `new ECRClient(config)`. */
  readonly createClient?: (config: ConstructorParameters<typeof ECRClient>[0]) => ECRClient;
  readonly now?: () => number;
}

const MAX_CLIENTS = 256;

/**
 * GetAuthorizationToken through the AWS SDK, of ECR or of ECR Public. Endpoints come from the SDK's
 * own settings (`AWS_ENDPOINT_URL_ECR`, `AWS_ENDPOINT_URL_ECR_PUBLIC`, `AWS_ENDPOINT_URL_STS`,
 * FIPS/dual-stack flags); every client, STS included, uses the proxy-aware request handler.
 */
export class SdkEcrTokenClient implements EcrTokenClient {
  private readonly clients = new Map<string, ECRClient>();
  private readonly publicClients = new Map<string, ECRPUBLICClient>();
  private podIdentity: AwsCredentialIdentityProvider | undefined;
  private readonly now: () => number;

  constructor(private readonly options: SdkEcrTokenClientOptions) {
    this.now = options.now ?? Date.now;
  }

  async getAuthorizationToken(
    credentials: CredentialSpec,
    region: string,
    service: EcrService = 'ecr',
  ): Promise<EcrToken> {
    const data =
      service === 'ecr-public'
        ? (await this.publicClientFor(credentials).send(new GetPublicAuthorizationTokenCommand({})))
            .authorizationData
        : (await this.clientFor(credentials, region).send(new GetAuthorizationTokenCommand({})))
            .authorizationData?.[0];
    const password = data?.authorizationToken
      ? passwordFromAuthorizationToken(data.authorizationToken)
      : undefined;
    if (!data || !password || !data.expiresAt) {
      throw Object.assign(new Error('ECR returned no usable authorization token'), {
        name: 'InvalidResponse',
        $metadata: { httpStatusCode: 502 },
      });
    }
    return { password, expiresAt: data.expiresAt.getTime(), fetchedAt: this.now() };
  }

  /** Releases every SDK client (sockets). */
  destroy(): void {
    for (const client of [...this.clients.values(), ...this.publicClients.values()])
      client.destroy();
    this.clients.clear();
    this.publicClients.clear();
  }

  // One client per (credentials, region): SDK clients bind credentials at construction and cache
  // assumed-role sessions, so reusing them avoids an STS call per token.
  private clientFor(spec: CredentialSpec, region: string): ECRClient {
    return boundedGet(this.clients, clientKey(spec, region), () => {
      const config = {
        region,
        maxAttempts: this.options.maxAttempts,
        requestHandler: this.options.requestHandler,
        credentials: this.credentialsFor(spec, region),
      };
      return this.options.createClient ? this.options.createClient(config) : new ECRClient(config);
    });
  }

  // ECR Public's API is served in us-east-1 only, whatever region the credentials are for.
  private publicClientFor(spec: CredentialSpec): ECRPUBLICClient {
    return boundedGet(
      this.publicClients,
      clientKey(spec, PUBLIC_REGISTRY_REGION),
      () =>
        new ECRPUBLICClient({
          region: PUBLIC_REGISTRY_REGION,
          maxAttempts: this.options.maxAttempts,
          requestHandler: this.options.requestHandler,
          credentials: this.credentialsFor(spec, PUBLIC_REGISTRY_REGION),
        }),
    );
  }

  private credentialsFor(
    spec: CredentialSpec,
    region: string,
  ): AwsCredentialIdentity | AwsCredentialIdentityProvider {
    const base: AwsCredentialIdentity | AwsCredentialIdentityProvider =
      spec.keys ?? this.podIdentityProvider();
    if (!spec.roleArn) return base;
    return fromTemporaryCredentials({
      masterCredentials: base,
      params: {
        RoleArn: spec.roleArn,
        RoleSessionName: 'eatr',
        ...(spec.externalId ? { ExternalId: spec.externalId } : {}),
        DurationSeconds: 3600,
      },
      clientConfig: {
        region,
        requestHandler: this.options.requestHandler,
        maxAttempts: this.options.maxAttempts,
      },
    });
  }

  // The SDK default chain: environment, web identity token file (OIDC-federated clusters), shared
  // config and credential_process. One instance, so its own cache serves every registry.
  private podIdentityProvider(): AwsCredentialIdentityProvider {
    this.podIdentity ??= fromNodeProviderChain({
      clientConfig: {
        requestHandler: this.options.requestHandler,
        maxAttempts: this.options.maxAttempts,
      },
    });
    return this.podIdentity;
  }
}

/**
 * The client under `key`, created (the oldest dropped past MAX_CLIENTS) when missing. A dropped
 * client is not destroyed: that would destroy the request handler every client (and STS) shares,
 * and break their calls in flight. The GC takes the client itself.
 */
function boundedGet<T>(clients: Map<string, T>, key: string, create: () => T): T {
  const existing = clients.get(key);
  if (existing) return existing;
  if (clients.size >= MAX_CLIENTS) {
    const oldestKey = clients.keys().next().value;
    if (oldestKey !== undefined) clients.delete(oldestKey);
  }
  const client = create();
  clients.set(key, client);
  return client;
}

function clientKey(spec: CredentialSpec, region: string): string {
  return `${region}\u0000${spec.keys?.accessKeyId ?? 'pod'}\u0000${spec.keys?.secretAccessKey ?? ''}\u0000${spec.keys?.sessionToken ?? ''}\u0000${spec.roleArn ?? ''}\u0000${spec.externalId ?? ''}`;
}
