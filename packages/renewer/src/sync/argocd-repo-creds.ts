/**
 * The data of an Argo CD repository credentials Secret for an ECR registry (Argo CD's declarative
 * setup: `repo-creds` match repositories by URL prefix; ECR hosts Helm charts as OCI artifacts, which
 * Argo CD reads as `type: helm` with `enableOCI`). ECR's user is always `AWS`. Base64, as Secret data.
 */
export function argoCdRepoCredsData(registry: string, password: string): Record<string, string> {
  const fields: Record<string, string> = {
    name: `ecr-${registry}`,
    url: registry,
    type: 'helm',
    enableOCI: 'true',
    username: 'AWS',
    password,
  };
  return Object.fromEntries(
    Object.entries(fields).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
  );
}
