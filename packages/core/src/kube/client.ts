/**
 * The parts of @kubernetes/client-node that eatr uses: every other module imports the library's
 * values from here (its types may be imported directly; ESLint enforces this).
 *
 * Why: the library's entry point loads all of its 225 API groups, 2,700 models, seven auth plugins
 * and undici, about 86 MiB resident in every process, most of a renewer's memory at start. `pnpm
 * build` replaces the compiled file with a bundle of this module (scripts/bundle-kube-client.js):
 * what these exports reach, and nothing else, in one file, so a process loads a fraction of that.
 * The code that runs is the library's own, unchanged.
 */
export {
  AdmissionregistrationV1Api,
  AuthorizationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  V1MicroTime,
  VersionApi,
  Watch,
  setHeaderOptions,
} from '@kubernetes/client-node';
