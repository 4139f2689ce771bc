/**
 * The words eatr says that people and tools match on: Kubernetes Event reasons (alerts, `kubectl get
 * events --field-selector reason=...`) and the log messages of decisions that tests, dashboards and
 * runbooks look for. Declared once here; product code and tests import them.
 */

/** Reasons of the Events eatr records on namespaces. */
export const EventReason = {
  /** An image pull Secret was created (or adopted). */
  SecretCreated: 'SecretCreated',
  /** The namespace stopped asking for a registry; its Secret was deleted. */
  SecretDeleted: 'SecretDeleted',
  /** A Secret of the wanted name exists and is not eatr's: left alone. */
  SecretConflict: 'SecretConflict',
  /** The name template gives two registries one Secret name: only the first is served. */
  SecretNameCollision: 'SecretNameCollision',
  /** No token: credentials missing, unusable or refused by AWS. */
  TokenFailed: 'TokenFailed',
  /** The API server refused the ServiceAccount imagePullSecrets change. */
  ServiceAccountFailed: 'ServiceAccountFailed',
  /** The namespace asks for more registries than --max-registries-per-namespace: the rest are not served. */
  TooManyRegistries: 'TooManyRegistries',
  /** The registry's credentials may not be used by this namespace (eatr.io/allowed-namespaces, --default-allowed-namespaces). */
  RegistryNotAllowed: 'RegistryNotAllowed',
  /** The namespace names an IAM role (eatr.io/role-arn) the allowlist does not permit, or a malformed one. */
  RoleNotAllowed: 'RoleNotAllowed',
  /** AWS refused the namespace's role, or its ServiceAccount is gone: its Secret was deleted. */
  RoleRevoked: 'RoleRevoked',
  /** The namespace asks for registries but is not among this install's --served-namespaces. */
  NamespaceNotServed: 'NamespaceNotServed',
  /** The namespace's eatr.io/secret-name annotation gives no valid Secret name: the template is used. */
  SecretNameInvalid: 'SecretNameInvalid',
  /** A ServiceAccount's eatr.io/pull-secrets label is neither true nor false: ignored. */
  PullSecretsLabelInvalid: 'PullSecretsLabelInvalid',
  /** A Pod stuck pulling (created before the namespace's Secret) was deleted for its controller to recreate. */
  StuckPodRecreated: 'StuckPodRecreated',
  /** A Pod stuck pulling has no controller: eatr leaves it alone. */
  StuckPodLeft: 'StuckPodLeft',
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];

/** Log messages (pino `msg`) of decisions, one line each. */
export const LogMessage = {
  syncStarted: 'sync started',
  syncDone: 'sync done',
  syncEnded: 'sync ended',
  syncFailedPermanently: 'sync failed permanently',
  sweepDone: 'sweep done',
  namespaceGone: 'namespace is gone or terminating; nothing to do',
  ignoredLabel: 'label looks like an ECR registry but is not a valid registry host; ignored',
  secretFresh: 'Secret is fresh; nothing to write',
  secretCreated: 'Secret created',
  secretRenewed: 'Secret renewed',
  secretDeleted: 'namespace no longer asks for this registry; deleted its Secret',
  raceLost: 'write lost a race; decided again',
  serviceAccountUpdated: 'ServiceAccount imagePullSecrets updated',
  serviceAccountRefused:
    'cannot change the ServiceAccount imagePullSecrets until it or the wanted entries change',
  transientFailure: 'transient failure; will retry',
  stillBlocked: 'still blocked; reported before',
  conflict: 'Secret exists and is not managed by this eatr release; left untouched',
  credentialsBlocked: 'cannot write the Secret until the credentials change',
  tooManyRegistries:
    'the namespace asks for more registries than --max-registries-per-namespace; the rest are not served',
  refusedByPolicy:
    "the namespace may not use this registry's credentials (access policy); it is not served",
  roleRefused:
    'the namespace names an IAM role it may not use (--tenant-roles) or a malformed one; it is not served',
  secretNameInvalid:
    'eatr.io/secret-name annotation gives no valid Secret name; the configured template is used',
  pullSecretsLabelInvalid:
    'ServiceAccount label eatr.io/pull-secrets is neither true nor false; ignored',
  stuckPodRecreated:
    'Pod was stuck pulling from a registry eatr just served; deleted for its controller to recreate',
  stuckPodLeft:
    'Pod is stuck pulling from a registry eatr just served but has no controller; left alone',
  notServed:
    'the namespace asks for registries but is outside --served-namespaces; eatr leaves it alone',
  roleRevoked:
    'the namespace can no longer prove its IAM role; deleted the Secret issued through it',
  nameCollision:
    'the Secret name template gives this registry the name of another; it is not served',
  registryRecovered: 'registry works again; unblocked its namespaces',
  awsRefusedProbe: 'AWS refused; will ask again soon',
  namespaceNeedsSync: 'namespace needs a sync',
  serviceAccountNeedsSync: 'ServiceAccount changed; syncing its namespace',
  credentialChanged: 'credential Secret changed; enqueueing a sweep',
  secretDeletedByOthers:
    "one of eatr's Secrets was deleted while its namespace still asks for it; enqueueing a sync",
  startupSweep: 'start-up sweep enqueued',
  redisReconnected: 'Redis reconnected (a failover or restart may have lost jobs); sweep enqueued',
} as const;
