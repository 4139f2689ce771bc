import { EventReason } from '@eatr/core';
import {
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Api,
  type KubernetesObject,
  type V1Secret,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, kubeClients, kubeconfigForServiceAccount, uniqueName } from '../harness/index.js';
import { helm, parseRendered, CHART, KUBE_VERSION, type Rendered } from '../chart/support.js';
import { Scenario, registry } from './support/scenario.js';
import { attempt } from './support/api-attempt.js';

// The chart's ValidatingAdmissionPolicies, installed into the run's real kube-apiserver with the
// renewer's ServiceAccount and RBAC: every write the renewer's token may not make is refused by the
// policy (not by RBAC, which grants it), every write eatr makes passes, and a real renewer running
// with that token serves, adopts and cleans up without one refusal.

const VAP = 'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy';
const DOCKER = 'kubernetes.io/dockerconfigjson';
/** The labels of this release's Secrets (the chart's instance is the release name). */
let MANAGED: Record<string, string>;
const EU = registry('eu-west-1');

let admin: ReturnType<typeof kubeClients>;
let objects: KubernetesObjectApi;
let release: string;
let namespace: string;
let installed: KubernetesObject[] = [];
let renewerKubeconfig: string;
let renewer: CoreV1Api;
let team: string;

function dockerConfig(password: string): Record<string, string> {
  const auth = Buffer.from(`AWS:${password}`).toString('base64');
  const json = JSON.stringify({ auths: { [EU]: { username: 'AWS', password, auth } } });
  return { '.dockerconfigjson': Buffer.from(json).toString('base64') };
}

/** A refusal by one of the chart's policies, with its message. */
function refusedByPolicy(policy: 'secrets' | 'serviceaccounts', text: string): RegExp {
  const escaped = text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(
    `^403 .*ValidatingAdmissionPolicy '${release}-eatr-renewer-${policy}' .*denied request: .*${escaped}`,
  );
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

beforeAll(async () => {
  admin = kubeClients(harness().kubeconfigPath);
  objects = KubernetesObjectApi.makeApiClient(admin.kubeConfig);
  release = uniqueName('vap');
  MANAGED = { 'app.kubernetes.io/managed-by': 'eatr', 'eatr.io/instance': release };
  namespace = uniqueName('eatr-vap');
  team = uniqueName('vap-team');
  await admin.core.createNamespace({ body: { metadata: { name: namespace } } });
  await admin.core.createNamespace({ body: { metadata: { name: team } } });
  const rendered = await helm([
    'template',
    release,
    CHART,
    '--namespace',
    namespace,
    '--kube-version',
    KUBE_VERSION,
    '--api-versions',
    VAP,
    '--set',
    `hostNamespace=${namespace}`,
  ]);
  if (rendered.code !== 0) throw new Error(`helm template failed:\n${rendered.stderr}`);
  // The renewer's identity and RBAC, and the policies: what an install puts in place for it.
  const wanted = (o: Rendered) =>
    o.kind.startsWith('ValidatingAdmissionPolicy') ||
    (o.metadata.name === `${release}-eatr-renewer` &&
      ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind));
  const picked = parseRendered(rendered.stdout).filter(wanted);
  expect(picked.map((o) => o.kind).sort()).toEqual([
    'ClusterRole',
    'ClusterRoleBinding',
    'ServiceAccount',
    'ValidatingAdmissionPolicy',
    'ValidatingAdmissionPolicy',
    'ValidatingAdmissionPolicyBinding',
    'ValidatingAdmissionPolicyBinding',
  ]);
  for (const { source: _source, ...object } of picked) {
    installed.push(await objects.create(object));
  }
  renewerKubeconfig = await kubeconfigForServiceAccount(namespace, `${release}-eatr-renewer`);
  renewer = kubeClients(renewerKubeconfig).core;
  // The API server loads new policies within a moment: wait until each refuses a dry run.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const secret = await attempt(
      renewer.createNamespacedSecret({
        namespace: team,
        dryRun: 'All',
        body: { metadata: { name: 'probe', labels: MANAGED }, type: 'Opaque' },
      }),
    );
    await admin.core
      .createNamespacedServiceAccount({
        namespace: team,
        body: { metadata: { name: 'probe' } },
      })
      .catch(() => undefined);
    const account = await attempt(
      renewer.patchNamespacedServiceAccount(
        {
          namespace: team,
          name: 'probe',
          dryRun: 'All',
          body: { metadata: { labels: { a: 'b' } } },
        },
        mergePatch,
      ),
    );
    if (
      secret.includes('ValidatingAdmissionPolicy') &&
      account.includes('ValidatingAdmissionPolicy')
    )
      break;
    if (Date.now() > deadline)
      throw new Error(`the policies are not in force after 30 s: ${secret}; ${account}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}, 120_000);

afterAll(async () => {
  for (const object of installed.reverse()) await objects.delete(object).catch(() => undefined);
  installed = [];
});

describe("the chart's admission policy, for the renewer's token", () => {
  it('lets eatr create, renew and delete its own image pull Secret', async () => {
    const name = uniqueName('own');
    const body: V1Secret = {
      metadata: { name, labels: MANAGED },
      type: DOCKER,
      data: dockerConfig('a'),
    };
    expect(await attempt(renewer.createNamespacedSecret({ namespace: team, body }))).toBe(
      'allowed',
    );
    const current = await admin.core.readNamespacedSecret({ namespace: team, name });
    expect(
      await attempt(
        renewer.replaceNamespacedSecret({
          namespace: team,
          name,
          body: { ...current, data: dockerConfig('b') },
        }),
      ),
    ).toBe('allowed');
    expect(await attempt(renewer.deleteNamespacedSecret({ namespace: team, name }))).toBe(
      'allowed',
    );
  });

  it('lets eatr adopt a Secret its owner marked eatr.io/adopt=true: renew it in place, or replace one of another type', async () => {
    const adopt = { 'eatr.io/adopt': 'true' };
    const name = uniqueName('adopt');
    await admin.core.createNamespacedSecret({
      namespace: team,
      body: { metadata: { name, annotations: adopt }, type: DOCKER, data: dockerConfig('old') },
    });
    const current = await admin.core.readNamespacedSecret({ namespace: team, name });
    expect(
      await attempt(
        renewer.replaceNamespacedSecret({
          namespace: team,
          name,
          body: {
            ...current,
            metadata: { ...current.metadata, labels: MANAGED },
            data: dockerConfig('new'),
          },
        }),
      ),
    ).toBe('allowed');
    // Type is immutable: eatr deletes an adoptable Secret of another type and creates its own.
    const opaque = uniqueName('adopt-opaque');
    await admin.core.createNamespacedSecret({
      namespace: team,
      body: { metadata: { name: opaque, annotations: adopt }, type: 'Opaque', data: { a: 'Yg==' } },
    });
    expect(await attempt(renewer.deleteNamespacedSecret({ namespace: team, name: opaque }))).toBe(
      'allowed',
    );
  });

  it('refuses every other Secret write, by the policy, saying what was refused', async () => {
    const foreign = uniqueName('foreign');
    const foreignPull = uniqueName('foreign-pull');
    const own = uniqueName('own');
    await admin.core.createNamespacedSecret({
      namespace: team,
      body: { metadata: { name: foreign }, type: 'Opaque', data: { token: 'c2VjcmV0' } },
    });
    await admin.core.createNamespacedSecret({
      namespace: team,
      body: { metadata: { name: foreignPull }, type: DOCKER, data: dockerConfig('theirs') },
    });
    await admin.core.createNamespacedSecret({
      namespace: team,
      body: { metadata: { name: own, labels: MANAGED }, type: DOCKER, data: dockerConfig('a') },
    });
    const read = (name: string) => admin.core.readNamespacedSecret({ namespace: team, name });

    // RBAC grants all of these: only the policy stands in the way.
    expect(
      await attempt(
        renewer.createNamespacedSecret({
          namespace: team,
          body: { metadata: { name: uniqueName('opaque'), labels: MANAGED }, type: 'Opaque' },
        }),
      ),
    ).toMatch(
      refusedByPolicy(
        'secrets',
        'may write only Secrets of type kubernetes.io/dockerconfigjson: refused CREATE',
      ),
    );
    expect(
      await attempt(
        renewer.createNamespacedSecret({
          namespace: team,
          body: {
            metadata: { name: uniqueName('unlabelled') },
            type: DOCKER,
            data: dockerConfig('x'),
          },
        }),
      ),
    ).toMatch(
      refusedByPolicy(
        'secrets',
        `labelled app.kubernetes.io/managed-by=eatr, and eatr.io/instance=${release} if any: refused CREATE`,
      ),
    );
    const opaque = await read(foreign);
    expect(
      await attempt(
        renewer.replaceNamespacedSecret({
          namespace: team,
          name: foreign,
          body: { ...opaque, data: { token: 'c3RvbGVu' } },
        }),
      ),
    ).toMatch(
      refusedByPolicy('secrets', `refused UPDATE of Secret ${team}/${foreign} of type Opaque`),
    );
    // Someone else's pull Secret: not taken over without the owner's eatr.io/adopt=true.
    const theirs = await read(foreignPull);
    expect(
      await attempt(
        renewer.replaceNamespacedSecret({
          namespace: team,
          name: foreignPull,
          body: {
            ...theirs,
            metadata: { ...theirs.metadata, labels: MANAGED },
            data: dockerConfig('x'),
          },
        }),
      ),
    ).toMatch(
      refusedByPolicy(
        'secrets',
        `may update only a Secret labelled app.kubernetes.io/managed-by=eatr or annotated eatr.io/adopt=true: refused UPDATE of Secret ${team}/${foreignPull}`,
      ),
    );
    const mine = await read(own);
    expect(
      await attempt(
        renewer.replaceNamespacedSecret({
          namespace: team,
          name: own,
          body: { ...mine, metadata: { ...mine.metadata, labels: {} } },
        }),
      ),
    ).toMatch(
      refusedByPolicy('secrets', `refused UPDATE of Secret ${team}/${own} without those labels`),
    );
    for (const name of [foreign, foreignPull])
      expect(await attempt(renewer.deleteNamespacedSecret({ namespace: team, name }))).toMatch(
        refusedByPolicy(
          'secrets',
          `may delete only a Secret labelled app.kubernetes.io/managed-by=eatr or annotated eatr.io/adopt=true: refused DELETE of Secret ${team}/${name}`,
        ),
      );
    // Nothing changed.
    expect((await read(foreign)).data).toEqual({ token: 'c2VjcmV0' });
    expect((await read(foreignPull)).metadata?.labels ?? {}).toEqual({});
    expect((await read(own)).metadata?.labels).toEqual(MANAGED);
  });

  it('lets eatr change only imagePullSecrets (and its own annotation) on a ServiceAccount', async () => {
    const name = uniqueName('sa');
    await admin.core.createNamespacedServiceAccount({
      namespace: team,
      body: {
        metadata: { name, labels: { team: 'a' }, annotations: { owner: 'a' } },
        imagePullSecrets: [{ name: 'mine' }],
        secrets: [{ name: 'token' }],
      },
    });
    const sa = await admin.core.readNamespacedServiceAccount({ namespace: team, name });
    // Exactly the patch eatr sends (namespace-sync.ts): entries, its annotation, the version it read.
    expect(
      await attempt(
        renewer.patchNamespacedServiceAccount(
          {
            namespace: team,
            name,
            body: {
              metadata: {
                resourceVersion: sa.metadata?.resourceVersion,
                annotations: { 'eatr.io/image-pull-secrets': EU },
              },
              imagePullSecrets: [{ name: 'mine' }, { name: EU }],
            },
          },
          mergePatch,
        ),
      ),
    ).toBe('allowed');
    expect(
      await attempt(
        renewer.patchNamespacedServiceAccount(
          {
            namespace: team,
            name,
            body: {
              metadata: { annotations: { 'eatr.io/image-pull-secrets': null } },
              imagePullSecrets: [{ name: 'mine' }],
            },
          },
          mergePatch,
        ),
      ),
    ).toBe('allowed');

    const refusals: [string, object][] = [
      ['secrets', { secrets: [{ name: 'token' }, { name: 'stolen' }] }],
      ['automountServiceAccountToken', { automountServiceAccountToken: false }],
      ['metadata.labels', { metadata: { labels: { team: 'b' } } }],
      ['metadata.annotations', { metadata: { annotations: { owner: 'eatr' } } }],
      [
        'metadata.labels, metadata.annotations',
        { imagePullSecrets: [], metadata: { labels: { x: 'y' }, annotations: { owner: null } } },
      ],
    ];
    for (const [fields, body] of refusals)
      expect(
        await attempt(
          renewer.patchNamespacedServiceAccount({ namespace: team, name, body }, mergePatch),
        ),
      ).toMatch(
        refusedByPolicy(
          'serviceaccounts',
          `may change only imagePullSecrets of a ServiceAccount: refused a change of ${fields} on ServiceAccount ${team}/${name}`,
        ),
      );
    const after = await admin.core.readNamespacedServiceAccount({ namespace: team, name });
    expect(after.secrets).toEqual([{ name: 'token' }]);
    expect(after.metadata?.labels).toEqual({ team: 'a' });
    expect(after.metadata?.annotations).toEqual({ owner: 'a' });
    expect(after.automountServiceAccountToken).toBeUndefined();
    expect(after.imagePullSecrets).toEqual([{ name: 'mine' }]);
  });

  it("refuses every write to another eatr release's Secret, even one marked for adoption; takes over one from 0.1.x", async () => {
    const other = { 'app.kubernetes.io/managed-by': 'eatr', 'eatr.io/instance': 'other-release' };
    const theirs = uniqueName('theirs');
    await admin.core.createNamespacedSecret({
      namespace: team,
      body: {
        metadata: { name: theirs, labels: other, annotations: { 'eatr.io/adopt': 'true' } },
        type: DOCKER,
        data: dockerConfig('theirs'),
      },
    });
    const current = await admin.core.readNamespacedSecret({ namespace: team, name: theirs });
    const refusal = (operation: string) =>
      refusedByPolicy(
        'secrets',
        `eatr renewer of instance ${release} may not touch another eatr release's Secret: refused ${operation} of Secret ${team}/${theirs} (eatr.io/instance=other-release)`,
      );
    expect(
      await attempt(
        renewer.replaceNamespacedSecret({
          namespace: team,
          name: theirs,
          body: {
            ...current,
            metadata: { ...current.metadata, labels: MANAGED },
            data: dockerConfig('x'),
          },
        }),
      ),
    ).toMatch(refusal('UPDATE'));
    expect(
      await attempt(renewer.deleteNamespacedSecret({ namespace: team, name: theirs })),
    ).toMatch(refusal('DELETE'));
    expect(
      (await admin.core.readNamespacedSecret({ namespace: team, name: theirs })).metadata?.labels,
    ).toEqual(other);
    // Nor may it stamp a Secret with another release's name.
    expect(
      await attempt(
        renewer.createNamespacedSecret({
          namespace: team,
          body: {
            metadata: { name: uniqueName('as-other'), labels: other },
            type: DOCKER,
            data: dockerConfig('x'),
          },
        }),
      ),
    ).toMatch(refusedByPolicy('secrets', 'refused CREATE'));

    // 0.1.x wrote no instance label: the release that wants such a Secret stamps it.
    const unstamped = uniqueName('from-0-1');
    await admin.core.createNamespacedSecret({
      namespace: team,
      body: {
        metadata: { name: unstamped, labels: { 'app.kubernetes.io/managed-by': 'eatr' } },
        type: DOCKER,
        data: dockerConfig('old'),
      },
    });
    const old = await admin.core.readNamespacedSecret({ namespace: team, name: unstamped });
    expect(
      await attempt(
        renewer.replaceNamespacedSecret({
          namespace: team,
          name: unstamped,
          body: {
            ...old,
            metadata: { ...old.metadata, labels: MANAGED },
            data: dockerConfig('new'),
          },
        }),
      ),
    ).toBe('allowed');
  });

  it('applies to the renewer only: the same writes by another identity pass', async () => {
    const name = uniqueName('admin-opaque');
    expect(
      await attempt(
        admin.core.createNamespacedSecret({
          namespace: team,
          body: { metadata: { name }, type: 'Opaque', data: { a: 'Yg==' } },
        }),
      ),
    ).toBe('allowed');
    expect(await attempt(admin.core.deleteNamespacedSecret({ namespace: team, name }))).toBe(
      'allowed',
    );
  });
});

describe('a real renewer with the policy in force', () => {
  let s: Scenario;

  afterAll(async () => {
    await s.close();
  });

  it('creates, renews, adopts, wires and cleans up with no refused write', async () => {
    s = await Scenario.create();
    await s.createCredentialSecret(EU);
    const process = await s.start('renewer', {
      KUBECONFIG: renewerKubeconfig,
      EATR_INSTANCE: release,
      // Short: the second sync renews what the first one wrote.
      EATR_RENEWAL_INTERVAL: '2s',
    });
    const ns = await s.createNamespace('vap-served', [EU], ['mine']);
    // One Secret to adopt in place, one of another type to replace.
    const adoptIn = await s.createNamespace('vap-adopt', [EU]);
    await s.core.createNamespacedSecret({
      namespace: adoptIn,
      body: {
        metadata: { name: EU, annotations: { 'eatr.io/adopt': 'true' } },
        type: DOCKER,
        data: dockerConfig('old'),
      },
    });
    const replaceIn = await s.createNamespace('vap-replace', [EU]);
    await s.core.createNamespacedSecret({
      namespace: replaceIn,
      body: {
        metadata: { name: EU, annotations: { 'eatr.io/adopt': 'true' } },
        type: 'Opaque',
        data: { a: 'Yg==' },
      },
    });
    for (const n of [ns, adoptIn, replaceIn]) await s.enqueue(n);
    const first = await s.waitForSecret(ns, EU);
    for (const n of [adoptIn, replaceIn])
      await s.waitForSecret(
        n,
        EU,
        (secret) =>
          secret.type === DOCKER &&
          secret.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'eatr',
      );
    const wired = await s.waitForServiceAccountEntry(ns, EU);
    expect(wired.imagePullSecrets?.map((r) => r.name)).toEqual(['mine', EU]);

    // A renewal (update) once the Secret is due.
    await s.untilDue(first);
    await s.enqueue(ns);
    await s.waitForSecret(
      ns,
      EU,
      (secret) => secret.metadata?.resourceVersion !== first.metadata?.resourceVersion,
    );

    // Opt out: the Secret is deleted and the entry removed.
    await s.setLabels(ns, { [EU]: null });
    await s.enqueue(ns);
    await s.waitFor('the Secret to go', async () => (await s.readSecret(ns, EU)) === undefined);
    await s.waitFor('the entry to go', async () => {
      const sa = await s.core.readNamespacedServiceAccount({ namespace: ns, name: 'default' });
      return sa.imagePullSecrets?.map((r) => r.name).join(',') === 'mine';
    });
    await s.drained();

    const refused = process.lines.filter((l) =>
      /ValidatingAdmissionPolicy|forbidden|\b403\b/i.test(l),
    );
    expect(refused).toEqual([]);
    expect(await s.events(ns, EventReason.ServiceAccountFailed)).toEqual([]);
  }, 90_000);
});
