// What integration tests use from the harness. The ECR endpoint is in ./aws/index.js.
export { ControlPlane, KUBERNETES_VERSION } from './control-plane.js';
export type {
  ApiServerRestart,
  ApiServerRestartOptions,
  ControlPlaneOptions,
  ControlPlaneTimings,
} from './control-plane.js';
export { findKubeBinaries } from './kube-binaries.js';
export type { KubeBinaries } from './kube-binaries.js';
export { apiOutcome, kubeClients } from './kube-clients.js';
export type { KubeClients } from './kube-clients.js';
export { kubeconfigWithServer, writeKubeconfig } from './kubeconfig-file.js';
export type { KubeconfigSpec } from './kubeconfig-file.js';
export {
  flushRedis,
  harness,
  kubeconfigForServiceAccount,
  restartApiServer,
  restartRedis,
} from './provided.js';
export type { HarnessCoordinates } from './provided.js';
export { RedisServer } from './redis-server.js';
export { TcpProxy } from './tcp-proxy.js';
export { RecordingApiProxy } from './recording-api-proxy.js';
export type { RecordedExchange } from './recording-api-proxy.js';
export type { RedisServerOptions } from './redis-server.js';
export { writeServiceAccountKubeconfig } from './service-account-kubeconfig.js';
export type { ServiceAccountKubeconfigOptions } from './service-account-kubeconfig.js';
export { uniqueName } from './unique-name.js';
export { apiRequestCounts, requestDelta } from './api-requests.js';
export type { RequestCounts } from './api-requests.js';
