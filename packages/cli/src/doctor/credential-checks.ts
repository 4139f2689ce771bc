import {
  CREDENTIAL_SECRET_PREFIX,
  credentialSecretName,
  describeError,
  parseRegistryHost,
  registryOfCredentialSecret,
} from '@eatr/core';
import {
  SdkEcrTokenClient,
  classifyAwsError,
  createRequestHandler,
  parseCredentialSecret,
  proxyFor,
  type CredentialSpec,
} from '@eatr/renewer';
import type { Cli } from '../context.js';
import type { Check } from '../doctor-model.js';
import { humanDuration } from '../output.js';
import { fail, ok } from './check.js';
import { wantedRegistries } from './namespace-registries.js';

/** Asks ECR for a token with `spec`, as the renewer would, and says how it went and what to fix. */
async function tokenCheck(
  cli: Cli,
  ecr: SdkEcrTokenClient,
  id: string,
  label: string,
  spec: CredentialSpec,
  registry: string,
): Promise<Check> {
  const parsed = parseRegistryHost(registry);
  if (!parsed)
    return fail(
      id,
      `${label}: ${registry} is not an ECR registry host`,
      `name it ${CREDENTIAL_SECRET_PREFIX}<registry host>`,
    );
  const endpoint = `https://api.ecr.${parsed.region}.amazonaws.com`;
  const proxy = proxyFor(endpoint, cli.renewer.proxy);
  const via = proxy === '' ? 'direct' : `via proxy ${new URL(proxy).host}`;
  try {
    const token = await ecr.getAuthorizationToken(spec, parsed.region);
    return ok(
      id,
      `${label}: ECR token for account ${parsed.accountId} in ${parsed.region}, expires in ${humanDuration(token.expiresAt - Date.now())} (${via})`,
    );
  } catch (error) {
    const { failure } = classifyAwsError(error);
    return fail(
      id,
      `${label}: ECR refused (${failure}, ${via}): ${describeError(error)}`,
      failure === 'denied'
        ? 'allow ecr:GetAuthorizationToken (and sts:AssumeRole for aws_role_arn) in IAM, then: eatr renew --all --registry ' +
            registry
        : failure === 'invalid-credentials'
          ? `put valid keys in ${cli.renewer.hostNamespace}/${credentialSecretName(registry)}`
          : 'check the network path to AWS (HTTPS_PROXY, NO_PROXY) and retry',
    );
  }
}

/**
 * Each credential Secret parses and gets a real token from ECR (the renewer's own parser, client and
 * proxy handling), and each registry some namespace asks for has credentials.
 */
export async function credentialChecks(cli: Cli, only: string | undefined): Promise<Check[]> {
  const checks: Check[] = [];
  const host = cli.renewer.hostNamespace;
  const [secrets, wanted] = await Promise.all([
    cli.core.listNamespacedSecret({ namespace: host }).then((l) => l.items),
    wantedRegistries(cli, only),
  ]);
  const handler = createRequestHandler(cli.renewer.proxy, cli.renewer.ecrTimeoutMs);
  const ecr = new SdkEcrTokenClient({
    requestHandler: handler,
    maxAttempts: cli.renewer.ecrMaxAttempts,
  });
  try {
    for (const secret of secrets) {
      const name = secret.metadata?.name ?? '';
      const registry = registryOfCredentialSecret(name);
      if (registry === undefined) continue;
      if (only !== undefined && !wanted.has(registry)) continue; // not this namespace's
      const id = `credentials:${registry}`;
      const label = `credentials ${host}/${name}`;
      let spec: CredentialSpec;
      try {
        spec = parseCredentialSecret(secret.data, { registry, secretName: name });
      } catch (error) {
        checks.push(
          fail(
            id,
            `${label}: ${describeError(error)}`,
            'keys: aws_access_key_id, aws_secret_access_key (optional aws_session_token, aws_role_arn, aws_external_id); see docs/deploy.md',
          ),
        );
        continue;
      }
      checks.push(await tokenCheck(cli, ecr, id, label, spec, registry));
    }
    const withSecret = new Set(
      secrets.map((s) => registryOfCredentialSecret(s.metadata?.name ?? '')),
    );
    for (const [registry, count] of [...wanted].sort(([a], [b]) => a.localeCompare(b))) {
      if (withSecret.has(registry)) continue;
      const used = `${count} namespace${count === 1 ? '' : 's'}`;
      if (cli.renewer.usePodIdentity)
        checks.push(
          await tokenCheck(
            cli,
            ecr,
            `credentials:${registry}`,
            `pod identity for ${registry} (${used})`,
            { keys: undefined },
            registry,
          ),
        );
      else
        checks.push(
          fail(
            `credentials:${registry}`,
            `no credential Secret ${host}/${credentialSecretName(registry)} for ${registry}, which ${used} ${count === 1 ? 'asks' : 'ask'} for`,
            `kubectl -n ${host} create secret generic ${credentialSecretName(registry)} --from-literal=aws_access_key_id=... --from-literal=aws_secret_access_key=... (or --use-pod-identity)`,
          ),
        );
    }
  } finally {
    ecr.destroy();
    handler.destroy();
  }
  return checks;
}
