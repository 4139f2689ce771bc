import type { TestProject } from 'vitest/node';
import { startHarnessControl } from '../../harness/harness-control.js';
import type { HarnessControl } from '../../harness/harness-control.js';
import { request } from 'node:https';
import type { JsonWebKey } from 'node:crypto';
import { join } from 'node:path';
import { ECR_ACCOUNT, ECR_REGION, ECR_REGISTRY, NodeCluster } from './node-cluster.js';
import { oidcVerifier } from '../../harness/aws/oidc-verifier.js';
import type {} from './provided.js';

/** The access key the e2e tests put into eatr's credential Secret. */
const ACCESS_KEY_ID = 'AKIAE2ETESTKEY000001';
const SECRET_ACCESS_KEY = 'e2e-secret-access-key-0000000000000000000';
/** The role the renewer assumes with its projected ServiceAccount token (web identity). */
const WEB_IDENTITY_ROLE = `arn:aws:iam::${ECR_ACCOUNT}:role/eatr-e2e-web-identity`;
const WEB_IDENTITY_AUDIENCE = 'sts.amazonaws.com';
/** A team's own role (eatr.io/role-arn): its trust policy allows only team-r's default ServiceAccount. */
const TENANT_ROLE = `arn:aws:iam::${ECR_ACCOUNT}:role/eatr-e2e-team-r`;
const TENANT_SUBJECT = 'system:serviceaccount:team-r:default';

/**
 * The e2e global setup: one node for the whole run (test/e2e/node.sh made its namespaces), handed
 * to the tests with `provide`; harness actions (the registry's access log, revoking a token) go
 * through the harness control channel, since the tests run in other processes.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const node = await NodeCluster.start();
  let control: HarnessControl | undefined;
  const teardown = async (): Promise<void> => {
    const memory = await node.residentMemoryMiB().catch(() => -1);
    console.log(
      `[e2e] node resident memory at teardown: ${memory} MiB (every process of the node)`,
    );
    await control?.close();
    await node.stop();
  };
  try {
    const aws = node.aws;
    const registry = node.registry;
    if (aws === undefined || registry === undefined)
      throw new Error('unreachable: node half started');
    aws.addCredentials({
      accessKeyId: ACCESS_KEY_ID,
      secretAccessKey: SECRET_ACCESS_KEY,
      accountId: ECR_ACCOUNT,
    });
    const cp = node.controlPlane;
    if (cp === undefined) throw new Error('unreachable: no control plane');
    // IAM's OIDC provider for this cluster: its issuer and the keys it publishes.
    aws.addRole({
      arn: WEB_IDENTITY_ROLE,
      verifyWebIdentityToken: oidcVerifier(
        {
          issuer: cp.apiServerUrl,
          jwks: () => getJwks(cp.apiServerUrl, cp.caCertPem, cp.adminToken),
        },
        WEB_IDENTITY_AUDIENCE,
      ),
    });
    aws.addRole({
      arn: TENANT_ROLE,
      verifyWebIdentityToken: oidcVerifier(
        {
          issuer: cp.apiServerUrl,
          jwks: () => getJwks(cp.apiServerUrl, cp.caCertPem, cp.adminToken),
        },
        WEB_IDENTITY_AUDIENCE,
      ),
      trustedSubjects: [TENANT_SUBJECT],
    });
    control = await startHarnessControl({
      registryAccesses: () => Promise.resolve(registry.accesses()),
      issuedTokens: () =>
        Promise.resolve(
          aws.issuedTokens().map((t) => ({
            password: t.password,
            accessKeyId: t.accessKeyId,
            accountId: t.accountId,
            expiresAt: t.expiresAt.toISOString(),
          })),
        ),
      revokeToken: (input) => {
        const password = (input as { password?: unknown }).password;
        if (typeof password !== 'string') throw new Error('revokeToken: password must be a string');
        registry.revoke(password);
        return Promise.resolve(true);
      },
      memory: async () => node.residentMemoryMiB(),
      issuedSessions: () =>
        Promise.resolve(
          aws.issuedSessions().map((session) => ({
            roleArn: session.roleArn,
            assumedRoleArn: session.assumedRoleArn,
          })),
        ),
      setTokenLifetime: (input) => {
        const ms = (input as { ms?: unknown }).ms;
        if (typeof ms !== 'number') throw new Error('setTokenLifetime: ms must be a number');
        aws.setTokenLifetime(ms);
        return Promise.resolve(true);
      },
      addCredentials: (input) => {
        const { accessKeyId, secretAccessKey, accountId } = input as Record<string, unknown>;
        if (typeof accessKeyId !== 'string' || typeof secretAccessKey !== 'string') {
          throw new Error('addCredentials: accessKeyId and secretAccessKey must be strings');
        }
        aws.addCredentials({
          accessKeyId,
          secretAccessKey,
          accountId: typeof accountId === 'string' ? accountId : ECR_ACCOUNT,
        });
        return Promise.resolve(true);
      },
      removeCredentials: (input) => {
        const accessKeyId = (input as { accessKeyId?: unknown }).accessKeyId;
        if (typeof accessKeyId !== 'string') {
          throw new Error('removeCredentials: accessKeyId must be a string');
        }
        return Promise.resolve(aws.removeCredentials(accessKeyId));
      },
      restartNodePart: async (input) => {
        const part = (input as { part?: unknown }).part;
        if (part !== 'kubelet' && part !== 'containerd') {
          throw new Error('restartNodePart: part must be kubelet or containerd');
        }
        return node.restart(part);
      },
    });
  } catch (error) {
    await teardown().catch(() => undefined);
    throw error;
  }
  project.provide('e2eKubeconfigPath', node.kubeconfigPath);
  project.provide('e2eImages', { eatr: node.image('eatr'), redis: node.image('redis') });
  project.provide('e2ePrevious', {
    chartPath: join(node.previousRelease, 'charts/eatr'),
    image: node.previousImage,
  });
  project.provide('e2eEcr', {
    registry: ECR_REGISTRY,
    region: ECR_REGION,
    endpointUrl: node.aws?.url ?? '',
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    image: `${ECR_REGISTRY}/team/app:v1`,
    webIdentityRoleArn: WEB_IDENTITY_ROLE,
    tenantRoleArn: TENANT_ROLE,
    caCertPath: node.controlPlane?.pki.caCertPath ?? '',
  });
  project.provide('e2eControlUrl', control.url);
  const t = node.timings;
  console.log(
    `[e2e] node ready in ${t.totalS} s: binaries ${t.binariesS} s, control plane ${t.controlPlaneS} s, ` +
      `images ${t.imagesS} s (then the previous release's ${t.previousImagesS} s), registry+push ${t.registryS} s, containerd..node Ready ${t.nodeReadyS} s; ` +
      `memory ${await node.residentMemoryMiB()} MiB`,
  );
  return teardown;
}

function getJwks(apiServerUrl: string, ca: string, token: string): Promise<JsonWebKey[]> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${apiServerUrl}/openid/v1/jwks`,
      { ca, headers: { authorization: `Bearer ${token}` }, timeout: 5_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          if (res.statusCode !== 200) {
            reject(new Error(`GET /openid/v1/jwks: ${res.statusCode} ${body}`));
            return;
          }
          resolve((JSON.parse(body) as { keys: JsonWebKey[] }).keys);
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}
