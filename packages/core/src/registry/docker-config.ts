/** What kubelet and `docker login` read from a `kubernetes.io/dockerconfigjson` Secret. */
export interface DockerConfigJson {
  auths: Record<string, { username: string; password: string; auth: string; email?: string }>;
}

/** ECR's registry user name: every token authenticates as `AWS`. */
export const ECR_USERNAME = 'AWS';

/** Builds the `.dockerconfigjson` value for one registry host and ECR password. */
export function buildDockerConfigJson(host: string, password: string, email?: string): string {
  const entry: DockerConfigJson['auths'][string] = {
    username: ECR_USERNAME,
    password,
    auth: Buffer.from(`${ECR_USERNAME}:${password}`).toString('base64'),
  };
  if (email) entry.email = email;
  const config: DockerConfigJson = { auths: { [host]: entry } };
  return JSON.stringify(config);
}

/**
 * ECR's `authorizationToken` is base64 of `AWS:<password>`; returns the password, or undefined when the
 * token is not of that form.
 */
export function passwordFromAuthorizationToken(token: string): string | undefined {
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const prefix = `${ECR_USERNAME}:`;
  return decoded.startsWith(prefix) && decoded.length > prefix.length
    ? decoded.slice(prefix.length)
    : undefined;
}
