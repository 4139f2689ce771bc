export { Renewer } from './renewer.js';
export type { RenewerOptions } from './wiring.js';
export { SdkEcrTokenClient, type EcrToken, type EcrTokenClient } from './aws/ecr-token-client.js';
export {
  parseCredentialSecret,
  type CredentialSpec,
  type StaticKeys,
} from './credentials/credential-secret.js';
export { TokenCache } from './tokens/token-cache.js';
export { createRequestHandler, proxyFor, type ProxySettings } from './aws/proxy.js';
export { classifyAwsError } from './aws/aws-errors.js';
