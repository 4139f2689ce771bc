import {
  EXPIRES_AT_ANNOTATION,
  describeAccessRule,
  parseRegistryHost,
  planNamespace,
  type AccessRule,
  type ObservedSecret,
  type PlanSettings,
  PULL_SECRETS_LABEL,
  isWired,
} from '@eatr/core';
import type { Check } from '../doctor-model.js';
import { fail, ok } from '../doctor/check.js';

/** What `eatr why` reads about one Pod (pure input). */
export interface PullFacts {
  readonly namespace: {
    readonly name: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>> | undefined;
  };
  readonly pod: {
    readonly name: string;
    /** Every container's and init container's image. */
    readonly images: readonly string[];
    /** spec.imagePullSecrets: the Pod's own and those copied from its ServiceAccount at creation. */
    readonly imagePullSecrets: readonly string[];
    readonly serviceAccount: string;
    /** The kubelet's last word on each waiting container (ErrImagePull, ImagePullBackOff...). */
    readonly waiting: readonly {
      readonly image: string;
      readonly reason: string;
      readonly message: string;
    }[];
  };
  /** The Pod's ServiceAccount now; undefined when it does not exist. */
  readonly serviceAccount:
    | {
        readonly imagePullSecrets: readonly string[];
        readonly pullSecretsLabel?: string | undefined;
      }
    | undefined;
  /** Secrets of the namespace (eatr's and any named like one). */
  readonly secrets: readonly ObservedSecret[];
  /** Why a Secret is blocked, by Secret name, as the renewers recorded; undefined: unknown. */
  readonly blocked: ReadonlyMap<string, string> | undefined;
  readonly settings: PlanSettings;
  readonly access?: (registryHost: string) => AccessRule;
  readonly now: number;
}

/** The registry host an image names, or undefined for Docker Hub style names (no host part). */
export function imageHost(image: string): string | undefined {
  const first = image.split('/')[0] ?? '';
  return image.includes('/') && (first.includes('.') || first.includes(':')) ? first : undefined;
}

/**
 * Why a Pod can or cannot pull its ECR images with eatr's Secrets, one check per image (pure): the
 * namespace's label (exactly `true`), the access policy or tenant role, the Secret in the Pod's own
 * namespace, whether it is fresh, and whether the Pod references it (imagePullSecrets are copied from
 * the ServiceAccount when a Pod is created, not later).
 */
export function explainPull(f: PullFacts): Check[] {
  const ns = f.namespace.name;
  const plan = planNamespace({
    namespace: {
      name: ns,
      labels: f.namespace.labels,
      annotations: f.namespace.annotations,
      terminating: false,
      secrets: f.secrets,
      serviceAccounts: [],
    },
    settings: f.settings,
    ...(f.access ? { access: f.access } : {}),
    now: f.now,
  });
  const checks: Check[] = [];
  const seen = new Set<string>();
  for (const image of f.pod.images) {
    if (seen.has(image)) continue;
    seen.add(image);
    const id = `image:${image}`;
    const host = imageHost(image);
    const registry = host === undefined ? undefined : parseRegistryHost(host);
    if (registry === undefined) {
      checks.push(ok(id, `${image} is not in an ECR registry: eatr has no part in pulling it`));
      continue;
    }
    const label = `kubectl label namespace ${ns} ${registry.host}=true --overwrite`;
    const planned = plan.secrets.find(
      (s) => s.format === 'pull' && s.registry.host === registry.host,
    );
    if (planned === undefined) {
      const value = Object.entries(f.namespace.labels).find(
        ([k]) => k.toLowerCase() === registry.host,
      )?.[1];
      const refused = plan.refused.find((r) => r.registry.host === registry.host);
      if (plan.notServed.some((r) => r.host === registry.host))
        checks.push(
          fail(
            id,
            `namespace ${ns} is not among the namespaces this eatr install serves (config.servedNamespaces): eatr leaves it alone`,
            `an eatr admin can add ${ns} to config.servedNamespaces (helm upgrade)`,
          ),
        );
      else if (
        plan.roleRefused.some((r) => r.host === registry.host) &&
        plan.role.kind === 'refused'
      )
        checks.push(
          fail(
            id,
            `namespace ${ns} gets no Secret for ${registry.host}: ${plan.role.message}`,
            `run eatr doctor -n ${ns}`,
          ),
        );
      else if (refused)
        checks.push(
          fail(
            id,
            `namespace ${ns} may not use the credentials of ${registry.host}: ${describeAccessRule(refused.rule, registry.host)}`,
            `run eatr doctor -n ${ns}: it names the rule and how an admin can allow the namespace`,
          ),
        );
      else if (plan.overCap.some((r) => r.host === registry.host))
        checks.push(
          fail(
            id,
            `namespace ${ns} asks for more registries than --max-registries-per-namespace (${f.settings.maxRegistries}); ${registry.host} is not served`,
            'remove registry labels the namespace does not pull from',
          ),
        );
      else if (value !== undefined)
        checks.push(
          fail(
            id,
            `namespace ${ns} has the label ${registry.host}=${JSON.stringify(value)}: eatr serves only the value "true" (exactly, lower case)`,
            label,
          ),
        );
      else
        checks.push(
          fail(
            id,
            `namespace ${ns} does not ask for ${registry.host}: it has no label ${registry.host}=true (a Secret in another namespace does not help: Pods use Secrets of their own namespace only)`,
            label,
          ),
        );
      continue;
    }
    const secretName = planned.secretName;
    const secret = f.secrets.find((s) => s.name === secretName);
    const action = plan.actions.find((a) => a.secretName === secretName);
    if (action?.kind === 'conflict') {
      checks.push(
        fail(
          id,
          `Secret ${ns}/${secretName} exists and is not this eatr release's, so eatr leaves it alone`,
          `delete it, or annotate it eatr.io/adopt=true to let eatr manage it`,
        ),
      );
      continue;
    }
    if (secret === undefined) {
      const reason = f.blocked?.get(secretName);
      checks.push(
        fail(
          id,
          `namespace ${ns} asks for ${registry.host} but has no Secret ${secretName} yet${reason ? `: eatr recorded "${reason}"` : ''}`,
          `run eatr doctor -n ${ns} (credentials, access, AWS); eatr status -n ${ns} shows the Secret's state`,
        ),
      );
      continue;
    }
    const expiresAt = Date.parse(secret.annotations[EXPIRES_AT_ANNOTATION] ?? '');
    if (!Number.isNaN(expiresAt) && expiresAt <= f.now) {
      checks.push(
        fail(
          id,
          `Secret ${ns}/${secretName} holds a token that expired at ${new Date(expiresAt).toISOString()}`,
          `eatr renew ${ns}; if it stays expired, eatr doctor -n ${ns}`,
        ),
      );
      continue;
    }
    if (f.pod.imagePullSecrets.includes(secretName)) {
      checks.push(
        ok(
          id,
          `the Pod references Secret ${secretName}, which holds a live token for ${registry.host}`,
        ),
      );
      continue;
    }
    const sa = f.pod.serviceAccount;
    const targets = f.settings.serviceAccounts;
    const saLabel = f.serviceAccount?.pullSecretsLabel;
    const wired = isWired({ name: sa, pullSecretsLabel: saLabel }, targets);
    const wiredText = targets === '*' ? '*' : targets.join(',');
    if (f.serviceAccount?.imagePullSecrets.includes(secretName))
      checks.push(
        fail(
          id,
          `the Pod does not reference Secret ${secretName}: it was created before ServiceAccount ${sa} got the entry, and a Pod takes its ServiceAccount's imagePullSecrets only when it is created`,
          `delete the Pod (its controller creates a new one), or kubectl -n ${ns} rollout restart the workload`,
        ),
      );
    else if (!wired)
      checks.push(
        fail(
          id,
          saLabel === 'false'
            ? `the Pod runs as ServiceAccount ${sa}, which is labelled ${PULL_SECRETS_LABEL}=false (eatr never wires it), and does not list Secret ${secretName} in its imagePullSecrets`
            : `the Pod runs as ServiceAccount ${sa}, which eatr does not wire (--service-accounts is ${wiredText || 'empty'}), and does not list Secret ${secretName} in its imagePullSecrets`,
          `kubectl -n ${ns} label serviceaccount ${sa} ${PULL_SECRETS_LABEL}=true --overwrite, or add imagePullSecrets: [{name: ${secretName}}] to the Pod spec`,
        ),
      );
    else
      checks.push(
        fail(
          id,
          `ServiceAccount ${sa} does not list Secret ${secretName} yet, so neither does the Pod`,
          `run eatr doctor -n ${ns}; once the ServiceAccount has it, recreate the Pod`,
        ),
      );
  }
  const credentialsFine = checks.every((c) => c.ok);
  for (const w of f.pod.waiting)
    if (/ErrImagePull|ImagePullBackOff/.test(w.reason))
      checks.push(
        fail(
          `kubelet:${w.image}`,
          `the kubelet says ${w.reason}: ${w.message}`,
          credentialsFine
            ? `the credentials are in place now; the kubelet retries on its back-off (up to 5 minutes): delete the Pod to pull at once`
            : 'fix what the checks above say, then recreate the Pod',
        ),
      );
  return checks;
}
