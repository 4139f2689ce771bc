import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CREDENTIALS_VERSION_ANNOTATION,
  DOCKER_CONFIG_JSON_KEY,
  EventReason,
  ROLE_ARN_ANNOTATION,
  STS_AUDIENCE,
} from '@eatr/core';
import type { StatusRow } from '@eatr/cli';
import { PatchStrategy, setHeaderOptions, type V1Secret } from '@kubernetes/client-node';
import { harness, uniqueName } from '../harness/index.js';
import { clusterOidc } from '../harness/cluster-oidc.js';
import { oidcVerifier } from '../harness/aws/oidc-verifier.js';
import { eatrCli } from './support/eatr-cli.js';
import { KEYS, Scenario, leaseEnv, registry } from './support/scenario.js';

// Tenant roles on a real API server, Redis and an STS stand-in that checks each web identity token
// as IAM does (signature against the cluster's /openid/v1/jwks, issuer, audience, expiry) and each
// role's trust rule on `sub`. The allowlist below is deliberately too wide (team-b may name team-a's
// role): AWS's trust rule must still keep team-b out.

const EU = registry('eu-west-1');
const ROLE_A = 'arn:aws:iam::111122223333:role/team-a-pull';
const ALLOWLIST = JSON.stringify([
  { namespaces: 'team in (a,b)', roleArns: ['arn:aws:iam::111122223333:role/team-*'] },
]);

let s: Scenario;
beforeEach(async () => {
  s = await Scenario.create();
});
afterEach(async () => {
  await s.close();
});

/** Registers ROLE_A with IAM: trusted for the `default` ServiceAccount of `namespaces` only. */
async function createRole(namespaces: readonly string[]): Promise<void> {
  s.aws.addRole({
    arn: ROLE_A,
    verifyWebIdentityToken: oidcVerifier(await clusterOidc(harness().kubeconfigPath), STS_AUDIENCE),
    trustedSubjects: namespaces.map((ns) => `system:serviceaccount:${ns}:default`),
  });
}

async function tenant(team: string, roleArn?: string): Promise<string> {
  const ns = await s.createNamespace(`team-${team}`, []);
  const current = await s.core.readNamespace({ name: ns });
  await s.core.replaceNamespace({
    name: ns,
    body: {
      ...current,
      metadata: {
        ...current.metadata,
        labels: { ...current.metadata?.labels, team, [EU]: 'true' },
        ...(roleArn ? { annotations: { [ROLE_ARN_ANNOTATION]: roleArn } } : {}),
      },
    },
  });
  return ns;
}

/** Sets (or removes, with null) the namespace's eatr.io/role-arn, as its admin would. */
async function nameRole(namespace: string, roleArn: string | null): Promise<void> {
  await s.core.patchNamespace(
    { name: namespace, body: { metadata: { annotations: { [ROLE_ARN_ANNOTATION]: roleArn } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

/** The password in an eatr Secret, and the AWS principal that ECR token was issued to. */
function issuedTo(secret: V1Secret): string | undefined {
  const config = JSON.parse(
    Buffer.from(secret.data?.[DOCKER_CONFIG_JSON_KEY] ?? '', 'base64').toString('utf8'),
  ) as { auths: Record<string, { password: string }> };
  const password = Object.values(config.auths)[0]?.password;
  const token = s.aws.issuedTokens().find((t) => t.password === password);
  const session = s.aws.issuedSessions().find((x) => x.accessKeyId === token?.accessKeyId);
  return session?.assumedRoleArn ?? token?.accessKeyId;
}

const start = async () => {
  const env = { EATR_TENANT_ROLES: ALLOWLIST };
  await s.start('watcher', { ...leaseEnv(uniqueName('lease')), ...env });
  await s.start('renewer', env);
  return env;
};

describe('tenant roles (eatr.io/role-arn), checked by the allowlist and by AWS', () => {
  it('serves a namespace from its own role; the allowlist and the role trust policy each refuse; removing the annotation returns to the credential Secret', async () => {
    await s.createCredentialSecret(EU);
    const a = await tenant('a');
    const a2 = await tenant('a');
    await createRole([a, a2]);
    const env = await start();

    // Allowed twice over: the two namespaces' Secrets carry the role's token; STS is asked once
    // per namespace (each proves itself), ECR once for the role in this region.
    const servedAt = Date.now();
    for (const ns of [a, a2]) {
      await nameRole(ns, ROLE_A);
    }
    for (const ns of [a, a2])
      await s.waitForSecret(
        ns,
        EU,
        (x) => issuedTo(x)?.includes(':assumed-role/team-a-pull/') ?? false,
        30_000,
      );
    console.log(
      `[figures] tenant role: 2 namespaces served from their role in ${Date.now() - servedAt} ms`,
    );
    const sessions = s.aws.issuedSessions().filter((x) => x.roleArn === ROLE_A);
    expect(sessions.map((x) => x.assumedRoleArn.split('/').pop()).sort()).toEqual(
      [`eatr-${a}`, `eatr-${a2}`].sort(),
    );
    const roleKeys = new Set(sessions.map((x) => x.accessKeyId));
    const roleTokens = s.aws.issuedTokens().filter((t) => roleKeys.has(t.accessKeyId));
    expect(roleTokens.map((t) => t.region)).toEqual(['eu-west-1']);

    // Allowed by the (too wide) allowlist, refused by the role's trust policy: no Secret, and the
    // Event tells the namespace what the trust policy must say.
    const b = await tenant('b', ROLE_A);
    const refused = await s.waitFor(
      'a TokenFailed Event in team-b',
      async () => (await s.events(b, EventReason.TokenFailed))[0],
      30_000,
    );
    expect(refused.message).toContain(`AWS refused role ${ROLE_A} for ServiceAccount ${b}/default`);
    expect(refused.message).toContain(`sub system:serviceaccount:${b}:default`);
    expect(await s.readSecret(b, EU)).toBeUndefined();

    // Not on the allowlist at all: refused by eatr before any token is requested.
    const c = await tenant('c', ROLE_A);
    const notAllowed = await s.waitFor(
      'a RoleNotAllowed Event in team-c',
      async () => (await s.events(c, EventReason.RoleNotAllowed))[0],
      30_000,
    );
    expect(notAllowed.type).toBe('Warning');
    expect(notAllowed.message).toContain(
      `no --tenant-roles rule lets namespace ${c} use role ${ROLE_A}`,
    );
    expect(await s.readSecret(c, EU)).toBeUndefined();

    // A malformed annotation: that namespace gets a Warning naming it; the others stay served.
    const d = await tenant('a', 'team-a-pull');
    const malformed = await s.waitFor(
      'a RoleNotAllowed Event naming the malformed ARN',
      async () => (await s.events(d, EventReason.RoleNotAllowed))[0],
      30_000,
    );
    expect(malformed.message).toContain('eatr.io/role-arn="team-a-pull" is not an IAM role ARN');
    expect(await s.readSecret(a, EU)).toBeDefined();

    // eatr status, run by the admin: the role a Secret came from, and the refusal.
    const status = await eatrCli(['status', '-A', '-o', 'json'], s.env(env));
    const rows = (JSON.parse(status.stdout) as { items: StatusRow[] }).items;
    expect(rows.find((r) => r.namespace === a)).toMatchObject({
      state: 'fresh',
      credentials: `role ${ROLE_A} (ServiceAccount default)`,
    });
    expect(rows.find((r) => r.namespace === b)).toMatchObject({ state: 'blocked' });
    expect(rows.find((r) => r.namespace === c)).toMatchObject({
      state: 'refused',
      reason: expect.stringContaining('no --tenant-roles rule') as unknown,
    });

    // eatr doctor -n: which of eatr's allowlist and AWS's trust policy refused, and what to change.
    const doctor = async (ns: string) => {
      const result = await eatrCli(['doctor', '-n', ns, '-o', 'json'], s.env(env));
      const { checks } = JSON.parse(result.stdout) as {
        checks: { id: string; ok: boolean; fix?: string }[];
      };
      return checks.filter((x) => x.id.startsWith('role'));
    };
    expect(await doctor(a)).toEqual([
      expect.objectContaining({ id: 'role', ok: true }),
      expect.objectContaining({ id: 'role-service-account', ok: true }),
      expect.objectContaining({ id: 'role-trust', ok: true }),
    ]);
    expect((await doctor(b)).find((x) => x.id === 'role-trust')).toMatchObject({
      ok: false,
      fix: expect.stringContaining(
        `"<issuer>:sub": "system:serviceaccount:${b}:default"`,
      ) as unknown,
    });
    expect(await doctor(c)).toEqual([
      expect.objectContaining({
        id: 'role',
        ok: false,
        fix: expect.stringContaining('config.tenantRoles') as unknown,
      }),
    ]);

    // The annotation removed: the namespace goes back to the credential Secret, renewed at once.
    const before = (await s.readSecret(a, EU))?.metadata?.annotations?.[
      CREDENTIALS_VERSION_ANNOTATION
    ];
    await nameRole(a, null);
    const back = await s.waitForSecret(
      a,
      EU,
      (x) => x.metadata?.annotations?.[CREDENTIALS_VERSION_ANNOTATION] !== before,
      30_000,
    );
    expect(issuedTo(back)).toBe(KEYS.accessKeyId);
  }, 180_000);

  it('a ServiceAccount deleted: the next renewal cannot prove the role, and the Secret is revoked', async () => {
    await s.createCredentialSecret(EU);
    const a = await tenant('a');
    await createRole([a]);
    await start();
    await nameRole(a, ROLE_A);
    await s.waitForSecret(a, EU, (x) => issuedTo(x)?.includes(':assumed-role/') ?? false, 30_000);

    await s.core.deleteNamespacedServiceAccount({ namespace: a, name: 'default' });
    await s.enqueue(a, 'renew');
    await s.waitFor(
      'the Secret revoked',
      async () => (await s.readSecret(a, EU)) === undefined,
      30_000,
    );
    const revoked = await s.waitFor(
      'a RoleRevoked Event',
      async () => (await s.events(a, EventReason.RoleRevoked))[0],
      30_000,
    );
    expect(revoked.message).toContain(`ServiceAccount ${a}/default`);
    expect(revoked.message).toContain('does not exist');
  }, 120_000);

  it('refuses to start with a malformed allowlist, naming the rule and the part', async () => {
    const result = await eatrCli(
      ['status', '-A'],
      s.env({ EATR_TENANT_ROLES: '[{"namespaces":"team=a","roleArns":["arn:aws:s3:::bucket"]}]' }),
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      'EATR_TENANT_ROLES: rule 1: "arn:aws:s3:::bucket" is not an IAM role ARN pattern',
    );
  });

  it('a renewal wave with 3 tenant roles over 300 namespaces: ECR once per role, STS once per namespace', async () => {
    const roles = ['x', 'y', 'z'].map((t) => `arn:aws:iam::111122223333:role/team-${t}`);
    const oidc = await clusterOidc(harness().kubeconfigPath);
    for (const arn of roles)
      s.aws.addRole({ arn, verifyWebIdentityToken: oidcVerifier(oidc, STS_AUDIENCE) });
    await s.createCredentialSecret(EU);
    const env = {
      EATR_TENANT_ROLES: JSON.stringify([
        { namespaces: 'team', roleArns: ['arn:aws:iam::111122223333:role/team-*'] },
      ]),
    };
    await s.start('watcher', { ...leaseEnv(uniqueName('lease')), ...env });
    await s.start('renewer', env);
    const namespaces: string[] = [];
    for (let i = 0; i < 300; i += 25) {
      namespaces.push(
        ...(await Promise.all(
          Array.from({ length: 25 }, (_, j) =>
            tenant(['x', 'y', 'z'][(i + j) % 3] ?? 'x', roles[(i + j) % 3]),
          ),
        )),
      );
    }
    const waitAll = async (since: number) => {
      for (const ns of namespaces)
        await s.waitForSecret(
          ns,
          EU,
          (x) => Date.parse(x.metadata?.annotations?.['eatr.io/renew-after'] ?? '0') > since,
          120_000,
        );
    };
    await waitAll(0);
    await s.drained(60_000);

    // A wave: every namespace renewed at once (as at a key rotation or when all come due), asked
    // for as an operator would, with one request time for the whole wave.
    const calls = (action: string) => s.aws.callCount({ action });
    const [sts0, ecr0] = [calls('AssumeRoleWithWebIdentity'), calls('GetAuthorizationToken')];
    const started = Date.now();
    // (By name: other tests' namespaces share this cluster, and no renewer serves theirs.)
    const renew = await eatrCli(['renew', ...namespaces, '--timeout', '3m'], s.env(env), 180_000);
    expect(renew.code, `${renew.stdout}\n${renew.stderr}`).toBe(0);
    await s.drained(120_000);
    const [sts, ecr] = [
      calls('AssumeRoleWithWebIdentity') - sts0,
      calls('GetAuthorizationToken') - ecr0,
    ];
    console.log(
      `[figures] renewal wave, 3 tenant roles over 300 namespaces: ${ecr} ECR calls, ${sts} STS calls, ${Date.now() - started} ms`,
    );
    expect(ecr).toBe(3);
    expect(sts).toBe(300);
  }, 300_000);
});
