import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { QUEUE_NAME, SYNC_JOB, EventReason, LogMessage } from '@eatr/core';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import {
  KEYS,
  OTHER_KEYS,
  Scenario,
  decodedAuth,
  dumpRedis,
  registry,
} from './support/scenario.js';

const EU = registry('eu-west-1');
const EU_OTHER = registry('eu-west-1', '210987654321');
const US = registry('us-east-1');

let s: Scenario;
beforeEach(async () => {
  s = await Scenario.create();
});
afterEach(async () => {
  await s.close();
});

const password = (host: string, secret: Parameters<typeof decodedAuth>[0]) =>
  decodedAuth(secret, host).replace(/^AWS:/, '');

describe('renewer', () => {
  it('writes a dockerconfigjson Secret for a labelled namespace and adds it to the default ServiceAccount', async () => {
    await s.createCredentialSecret(EU);
    await s.start('renewer');
    const ns = await s.createNamespace('team-a', [EU], ['existing-entry']);
    await s.enqueue(ns);

    const secret = await s.waitForSecret(ns, EU);
    const issued = s.aws.issuedTokens();
    expect(issued).toHaveLength(1);
    expect(secret.type).toBe('kubernetes.io/dockerconfigjson');
    expect(decodedAuth(secret, EU)).toBe(`AWS:${issued[0]?.password}`);
    const config = JSON.parse(
      Buffer.from(secret.data?.['.dockerconfigjson'] ?? '', 'base64').toString(),
    ) as { auths: Record<string, { username: string; password: string }> };
    expect(config.auths[EU]).toMatchObject({ username: 'AWS', password: issued[0]?.password });
    expect(secret.metadata?.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'eatr',
      'eatr.io/instance': 'eatr',
    });
    expect(secret.metadata?.annotations?.['eatr.io/registry']).toBe(EU);
    expect(Date.parse(secret.metadata?.annotations?.['eatr.io/expires-at'] ?? '')).toBe(
      issued[0]?.expiresAt.getTime(),
    );
    expect(Date.parse(secret.metadata?.annotations?.['eatr.io/renew-after'] ?? '')).toBeGreaterThan(
      Date.now(),
    );

    const sa = await s.waitForServiceAccountEntry(ns, EU);
    expect(sa.imagePullSecrets?.map((r) => r.name)).toEqual(['existing-entry', EU]);
    expect((await s.events(ns, EventReason.SecretCreated)).length).toBe(1);
  });

  it('accepts the Rancher recipe key names and its EMAIL', async () => {
    await s.createCredentialSecret(EU, KEYS, { EMAIL: 'ops@example.com' }, 'rancher');
    await s.start('renewer');
    const ns = await s.createNamespace('rancher', [EU]);
    await s.enqueue(ns);
    const secret = await s.waitForSecret(ns, EU);
    const config = JSON.parse(
      Buffer.from(secret.data?.['.dockerconfigjson'] ?? '', 'base64').toString(),
    ) as { auths: Record<string, { email?: string }> };
    expect(config.auths[EU]?.email).toBe('ops@example.com');
  });

  it('calls ECR once for two registries in one region, and once per region', async () => {
    await s.createCredentialSecret(EU);
    await s.createCredentialSecret(EU_OTHER);
    await s.createCredentialSecret(US);
    await s.start('renewer');
    const one = await s.createNamespace('two-regs', [EU, EU_OTHER]);
    const two = await s.createNamespace('two-regs-b', [EU, EU_OTHER]);
    await s.enqueue(one);
    await s.enqueue(two);
    await Promise.all([
      s.waitForSecret(one, EU),
      s.waitForSecret(one, EU_OTHER),
      s.waitForSecret(two, EU),
      s.waitForSecret(two, EU_OTHER),
    ]);
    expect(s.aws.callCount({ action: 'GetAuthorizationToken', region: 'eu-west-1' })).toBe(1);

    const three = await s.createNamespace('two-regions', [EU, US]);
    await s.enqueue(three);
    await s.waitForSecret(three, US);
    expect(s.aws.callCount({ action: 'GetAuthorizationToken', region: 'eu-west-1' })).toBe(1);
    expect(s.aws.callCount({ action: 'GetAuthorizationToken', region: 'us-east-1' })).toBe(1);
  });

  it('renews after the renewal interval and writes nothing before it', async () => {
    await s.createCredentialSecret(EU);
    await s.start('renewer', { EATR_RENEWAL_INTERVAL: '4s' });
    const ns = await s.createNamespace('renew', [EU]);
    await s.enqueue(ns);
    const first = await s.waitForSecret(ns, EU);

    await s.enqueue(ns);
    await s.enqueue(ns);
    await s.drained();
    const untouched = await s.readSecret(ns, EU);
    expect(untouched?.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
    expect(s.aws.callCount({ action: 'GetAuthorizationToken' })).toBe(1);

    // Someone else's label and annotation on eatr's Secret (a backup tool, a reflector) survive a
    // renewal: it is a merge patch of eatr's keys, and the renewer never holds the others.
    await s.core.patchNamespacedSecret(
      {
        namespace: ns,
        name: EU,
        body: {
          metadata: {
            labels: { 'backup.example/include': 'true' },
            annotations: { 'reflector.example/allowed': 'team-b' },
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await s.untilDue(first);
    await s.enqueue(ns);
    const renewed = await s.waitForSecret(ns, EU, (x) => password(EU, x) !== password(EU, first));
    expect(password(EU, renewed)).toBe(s.aws.issuedTokens()[1]?.password);
    expect(renewed.metadata?.labels?.['backup.example/include']).toBe('true');
    expect(renewed.metadata?.annotations?.['reflector.example/allowed']).toBe('team-b');
    // A routine renewal costs one write and no Event (creations and failures get one).
    expect((await s.events(ns, 'SecretRenewed')).length).toBe(0);
  });

  it('deletes its Secret and only its ServiceAccount entry when the label is removed', async () => {
    await s.createCredentialSecret(EU);
    await s.start('renewer');
    const ns = await s.createNamespace('optout', [EU], ['mine']);
    await s.enqueue(ns);
    await s.waitForSecret(ns, EU);
    await s.waitFor(
      'SA entry',
      async () =>
        (await s.core.readNamespacedServiceAccount({ namespace: ns, name: 'default' }))
          .imagePullSecrets?.length === 2,
    );

    await s.setLabels(ns, { [EU]: null });
    await s.enqueue(ns);
    await s.waitFor(
      'the Secret to be deleted',
      async () => (await s.readSecret(ns, EU)) === undefined,
    );
    const sa = await s.waitFor('SA entry removed', async () => {
      const account = await s.core.readNamespacedServiceAccount({ namespace: ns, name: 'default' });
      return account.imagePullSecrets?.length === 1 ? account : undefined;
    });
    expect(sa.imagePullSecrets).toEqual([{ name: 'mine' }]);
    expect(sa.metadata?.annotations?.['eatr.io/image-pull-secrets']).toBeUndefined();
  });

  it('writes its Secret again at once when someone deletes it while the namespace still asks for it', async () => {
    await s.createCredentialSecret(EU);
    // No watcher and no sweep here: only the renewer's own watch can bring the Secret back.
    const renewer = await s.start('renewer');
    const ns = await s.createNamespace('pruned', [EU]);
    await s.enqueue(ns);
    const first = await s.waitForSecret(ns, EU);

    // A person or a GitOps prune deletes it.
    await s.core.deleteNamespacedSecret({ namespace: ns, name: EU });
    const again = await s.waitForSecret(
      ns,
      EU,
      (secret) => secret.metadata?.uid !== first.metadata?.uid,
    );
    expect(again.type).toBe('kubernetes.io/dockerconfigjson');
    expect(
      renewer.logs.filter((l) => l.decision === 'repair' && l.namespace === ns).length,
    ).toBeGreaterThanOrEqual(1);

    // eatr's own delete on opt-out is not repaired: the plan no longer wants the Secret.
    await s.setLabels(ns, { [EU]: null });
    await s.enqueue(ns);
    await s.waitFor(
      'the Secret to be deleted',
      async () => (await s.readSecret(ns, EU)) === undefined,
    );
    expect(renewer.logs.filter((l) => l.decision === 'repair' && l.namespace === ns).length).toBe(
      1,
    );
  });

  it('leaves an unmanaged same-named Secret untouched and raises a Warning Event', async () => {
    await s.createCredentialSecret(EU);
    await s.start('renewer');
    const ns = await s.createNamespace('conflict', [EU]);
    const theirs = await s.core.createNamespacedSecret({
      namespace: ns,
      body: {
        metadata: { name: EU },
        type: 'kubernetes.io/dockerconfigjson',
        stringData: { '.dockerconfigjson': '{"auths":{}}' },
      },
    });
    await s.enqueue(ns);
    const events = await s.waitFor('a conflict Event', async () => {
      const list = await s.events(ns, EventReason.SecretConflict);
      return list.length > 0 ? list : undefined;
    });
    expect(events[0]?.type).toBe('Warning');
    expect((await s.readSecret(ns, EU))?.metadata?.resourceVersion).toBe(
      theirs.metadata?.resourceVersion,
    );
    const sa = await s.core.readNamespacedServiceAccount({ namespace: ns, name: 'default' });
    expect(sa.imagePullSecrets ?? []).toEqual([]);
  });

  it('treats a same-named Opaque Secret as a conflict, not a crash, and adopts it when annotated', async () => {
    await s.createCredentialSecret(EU);
    const renewer = await s.start('renewer');
    const ns = await s.createNamespace('opaque', [EU]);
    await s.core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: EU }, type: 'Opaque', stringData: { note: 'mine' } },
    });
    await s.enqueue(ns);
    await s.waitFor(
      'a conflict Event',
      async () => (await s.events(ns, EventReason.SecretConflict)).length > 0,
    );
    expect((await s.readSecret(ns, EU))?.type).toBe('Opaque');
    expect(await renewer.metricValue('eatr_ownership_conflicts_total', { namespace: ns })).toBe(1);

    const opaque = await s.readSecret(ns, EU);
    await s.core.replaceNamespacedSecret({
      namespace: ns,
      name: EU,
      body: {
        ...opaque,
        metadata: { ...opaque?.metadata, annotations: { 'eatr.io/adopt': 'true' } },
      },
    });
    await s.enqueue(ns);
    const adopted = await s.waitForSecret(
      ns,
      EU,
      (x) => x.type === 'kubernetes.io/dockerconfigjson',
    );
    expect(adopted.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('eatr');
  });

  it('serves one registry per Secret name when the name template is a constant, and warns about the rest', async () => {
    await s.createCredentialSecret(EU);
    await s.createCredentialSecret(US, OTHER_KEYS);
    await s.start('renewer', { EATR_SECRET_NAME_TEMPLATE: 'ecr-registry' }); // the CronJob recipe's style
    const ns = await s.createNamespace('one-name', [EU, US]);
    await s.enqueue(ns);
    const first = await s.waitForSecret(ns, 'ecr-registry');
    expect(first.metadata?.annotations?.['eatr.io/registry']).toBe(EU);
    const events = await s.waitFor('a collision Event', async () => {
      const list = await s.events(ns, EventReason.SecretNameCollision);
      return list.length > 0 ? list : undefined;
    });
    expect(events[0]?.type).toBe('Warning');
    expect(events[0]?.message).toContain(US);

    await s.enqueue(ns);
    await s.drained();
    await s.enqueue(ns);
    await s.drained();
    // The two registries do not take turns: the Secret is never rewritten.
    const later = await s.readSecret(ns, 'ecr-registry');
    expect(later?.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
    expect(s.aws.callCount({ action: 'GetAuthorizationToken', region: 'us-east-1' })).toBe(0);
  });

  it('writes the Secret after ECR throttles twice', async () => {
    await s.createCredentialSecret(EU);
    s.aws.failNext(2, 'throttle');
    await s.start('renewer');
    const ns = await s.createNamespace('throttled', [EU]);
    await s.enqueue(ns);
    await s.waitForSecret(ns, EU, () => true, 30_000);
    expect(s.aws.callCount({ action: 'GetAuthorizationToken' })).toBe(3);
  });

  it('keeps the previous Secret on AccessDenied, raises an Event, and does not retry in a storm', async () => {
    await s.createCredentialSecret(EU);
    const renewer = await s.start('renewer', { EATR_RENEWAL_INTERVAL: '2s' });
    const ns = await s.createNamespace('denied', [EU]);
    await s.enqueue(ns);
    const good = await s.waitForSecret(ns, EU);

    s.aws.setBehaviour(KEYS.accessKeyId, 'access-denied');
    await s.untilDue(good); // so the syncs below ask AWS (and are refused) instead of skipping
    for (let i = 0; i < 5; i++) {
      await s.enqueue(ns);
      await s.drained();
    }
    const events = await s.waitFor('a TokenFailed Event', async () => {
      const list = await s.events(ns, EventReason.TokenFailed);
      return list.length > 0 ? list : undefined;
    });
    expect(events[0]?.type).toBe('Warning');
    expect(events[0]?.message).toContain('AccessDenied');
    const after = await s.readSecret(ns, EU);
    expect(after?.metadata?.resourceVersion).toBe(good.metadata?.resourceVersion);
    expect(password(EU, after ?? {})).toBe(password(EU, good));
    // One good call, then one denied call: the failure is remembered, five more syncs call nothing
    // (the registry's probe may have asked once more, 5 s after the refusal).
    expect(s.aws.callCount({ action: 'GetAuthorizationToken' })).toBeGreaterThanOrEqual(2);
    expect(s.aws.callCount({ action: 'GetAuthorizationToken' })).toBeLessThanOrEqual(3);
    expect(
      await renewer.metricValue('eatr_credential_errors_total', { registry: EU, reason: 'denied' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it("tells the namespace what AWS refused, in a fixed message without AWS's text; the log has it all", async () => {
    // Keys of a CI user in another account: AWS's message names its ARN and account id.
    const ci = {
      accessKeyId: 'AKIAEATROTHERACCT001',
      secretAccessKey: 'eatr-other-account-secret/abcdefgh',
      accountId: '999888777666',
      userName: 'ci-deployer',
    };
    await s.close();
    s = await Scenario.create([ci]);
    await s.createCredentialSecret(EU, ci);
    s.aws.setBehaviour(ci.accessKeyId, 'access-denied');
    const renewer = await s.start('renewer');
    const ns = await s.createNamespace('denied-arn', [EU]);
    await s.enqueue(ns);
    const events = await s.waitFor('a TokenFailed Event', async () => {
      const list = await s.events(ns, EventReason.TokenFailed);
      return list.length > 0 ? list : undefined;
    });
    expect(events.map((e) => e.message)).toEqual([
      `AWS denied the ECR token request for registry ${EU} (AccessDeniedException); see the renewer log`,
    ]);
    const arn = 'arn:aws:iam::999888777666:user/ci-deployer';
    for (const event of await s.events(ns)) {
      expect(event.message).not.toContain('arn:');
      expect(event.message).not.toContain('999888777666');
    }
    // Logged before the Event is written, but the line travels through the process's stdout pipe
    // and may reach this test after the Event is visible: wait for it.
    const logged = await renewer.waitForLog(
      (l) => l.msg === LogMessage.credentialsBlocked && l.namespace === ns,
    );
    expect(String(logged.err)).toContain(
      `User: ${arn} is not authorized to perform: ecr:GetAuthorizationToken`,
    );
  });

  it('reports a broken credential Secret at once, while the Secret it wrote stays valid and untouched', async () => {
    await s.createCredentialSecret(EU);
    const renewer = await s.start('renewer');
    const ns = await s.createNamespace('broken-creds', [EU]);
    await s.enqueue(ns);
    const good = await s.waitForSecret(ns, EU);

    await s.replaceCredentialContent(EU, { aws_access_key_id: KEYS.accessKeyId });
    await s.enqueue(ns); // what the watcher does when the credential Secret changes
    const events = await s.waitFor('a TokenFailed Event', async () => {
      const list = await s.events(ns, EventReason.TokenFailed);
      return list.length > 0 ? list : undefined;
    });
    expect(events[0]?.type).toBe('Warning');
    expect(await renewer.metricValue('eatr_credential_errors_total', { registry: EU })).toBe(1);
    expect((await s.readSecret(ns, EU))?.metadata?.resourceVersion).toBe(
      good.metadata?.resourceVersion,
    );
    expect(s.aws.callCount({ action: 'GetAuthorizationToken' })).toBe(1);
  });

  it('writes the Secret once its missing credential Secret is created', async () => {
    const renewer = await s.start('renewer');
    const ns = await s.createNamespace('nocreds', [EU]);
    await s.enqueue(ns);
    await s.waitFor(
      'a TokenFailed Event',
      async () => (await s.events(ns, EventReason.TokenFailed)).length > 0,
    );
    expect(await s.readSecret(ns, EU)).toBeUndefined();
    expect(
      await renewer.metricValue('eatr_credential_errors_total', { reason: 'missing-credentials' }),
    ).toBe(1);

    await s.createCredentialSecret(EU);
    await s.enqueue(ns); // what the watcher does when the credential Secret appears
    await s.waitForSecret(ns, EU);
  });

  it('one bad credential does not block other registries', async () => {
    await s.createCredentialSecret(EU, {
      accessKeyId: 'AKIAEATRUNKNOWNKEY99',
      secretAccessKey: 'nope',
    });
    await s.createCredentialSecret(US, OTHER_KEYS);
    await s.start('renewer');
    const ns = await s.createNamespace('mixed', [EU, US]);
    await s.enqueue(ns);
    await s.waitForSecret(ns, US);
    await s.waitFor(
      'a TokenFailed Event',
      async () => (await s.events(ns, EventReason.TokenFailed)).length > 0,
    );
    expect(await s.readSecret(ns, EU)).toBeUndefined();
  });

  it('assumes a role with an external id through STS, and goes through HTTP_PROXY', async () => {
    const role = 'arn:aws:iam::210987654321:role/ecr-pull';
    s.aws.addRole({ arn: role, externalId: 'ext-1', trustedAccessKeyIds: [KEYS.accessKeyId] });
    await s.createCredentialSecret(EU, KEYS, { aws_role_arn: role, aws_external_id: 'ext-1' });
    // Unresolvable endpoints: requests can only arrive through the proxy (the fake endpoint is one too).
    await s.start('renewer', {
      AWS_ENDPOINT_URL_ECR: 'http://ecr.eatr.invalid',
      AWS_ENDPOINT_URL_STS: 'http://sts.eatr.invalid',
      HTTP_PROXY: s.aws.url,
      NO_PROXY: 'localhost',
    });
    const ns = await s.createNamespace('role', [EU]);
    await s.enqueue(ns);
    await s.waitForSecret(ns, EU);
    const sts = s.aws.calls({ action: 'AssumeRole' });
    const ecr = s.aws.calls({ action: 'GetAuthorizationToken' });
    expect(sts).toHaveLength(1);
    expect(ecr).toHaveLength(1);
    expect(ecr[0]?.accessKeyId).toMatch(/^ASIA/);
    expect([...sts, ...ecr].every((c) => c.viaProxy !== undefined)).toBe(true);
  });

  it('uses the pod identity (SDK default chain) for registries with no credential Secret when enabled', async () => {
    await s.start('renewer', {
      EATR_USE_POD_IDENTITY: 'true',
      AWS_ACCESS_KEY_ID: OTHER_KEYS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: OTHER_KEYS.secretAccessKey,
    });
    const ns = await s.createNamespace('podid', [EU]);
    await s.enqueue(ns);
    const secret = await s.waitForSecret(ns, EU);
    expect(secret.metadata?.annotations?.['eatr.io/credentials-version']).toBe('pod-identity');
    expect(s.aws.calls({ action: 'GetAuthorizationToken' })[0]?.accessKeyId).toBe(
      OTHER_KEYS.accessKeyId,
    );
  });

  it('writes each due Secret once with two renewers and a burst of duplicate jobs', async () => {
    await s.createCredentialSecret(EU);
    const a = await s.start('renewer', { EATR_CONCURRENCY: '4' });
    const b = await s.start('renewer', { EATR_CONCURRENCY: '4' });
    const namespaces = await Promise.all(
      Array.from({ length: 8 }, (_, i) => s.createNamespace(`burst-${i}`, [EU])),
    );
    // Raw duplicates, not deduplicated: the renewers themselves must not write twice.
    const raw = new Queue(QUEUE_NAME, { connection: { url: s.redisUrl }, prefix: s.queuePrefix });
    await raw.addBulk(
      namespaces.flatMap((namespace) =>
        Array.from({ length: 5 }, () => ({
          name: SYNC_JOB,
          data: { namespace, reason: 'namespace' },
        })),
      ),
    );
    await raw.close();
    await Promise.all(namespaces.map((ns) => s.waitForSecret(ns, EU)));
    await s.drained(30_000);
    const writes =
      (await a.metricValue('secrets_created_total')) +
      (await b.metricValue('secrets_created_total'));
    expect(writes).toBe(namespaces.length);
    for (const ns of namespaces)
      expect((await s.events(ns, EventReason.SecretCreated)).length).toBe(1);
    // Each process holds its own token cache: at most one ECR call each.
    expect(s.aws.callCount({ action: 'GetAuthorizationToken' })).toBeLessThanOrEqual(2);
  });

  it('never puts a token, access key or dockerconfigjson into logs or Redis', async () => {
    await s.createCredentialSecret(EU);
    await s.createCredentialSecret(US, OTHER_KEYS);
    await s.start('renewer', { EATR_LOG_LEVEL: 'trace' });
    const namespaces = await Promise.all([
      s.createNamespace('leak-a', [EU, US]),
      s.createNamespace('leak-b', [EU]),
    ]);
    for (const ns of namespaces) await s.enqueue(ns);
    const secret = await s.waitForSecret(namespaces[0], US);
    await s.drained();

    const dockerconfig = secret.data?.['.dockerconfigjson'] ?? '';
    const forbidden = [
      ...s.aws.issuedTokens().flatMap((t) => [t.password, t.authorizationToken]),
      KEYS.accessKeyId,
      KEYS.secretAccessKey,
      OTHER_KEYS.accessKeyId,
      OTHER_KEYS.secretAccessKey,
      dockerconfig,
      Buffer.from(dockerconfig, 'base64').toString(),
    ];
    // The scan covers real values: a token per registry, and the logs of the syncs that used them.
    expect(s.aws.issuedTokens().length).toBeGreaterThanOrEqual(2);
    const logs = s.allLogLines.join('\n');
    const redis = await dumpRedis(s.redisUrl);
    for (const ns of namespaces) expect(logs).toContain(ns);
    expect(redis).toContain(s.queuePrefix);
    for (const value of forbidden) {
      expect(logs).not.toContain(value);
      expect(redis).not.toContain(value);
    }
  });
});
