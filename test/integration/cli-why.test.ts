import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uniqueName } from '../harness/index.js';
import { eatrCli } from './support/eatr-cli.js';
import { Scenario, leaseEnv, registry } from './support/scenario.js';

// `eatr why <pod>` against a real API server and Redis. (This API server runs without the
// ServiceAccount admission plugin, which copies a ServiceAccount's imagePullSecrets into a Pod when it
// is created and never later: a Pod here has the ones its own spec names.)

const EU = registry('eu-west-1');

let s: Scenario;
beforeEach(async () => {
  s = await Scenario.create();
});
afterEach(async () => {
  await s.close();
});

async function createPod(
  namespace: string,
  name: string,
  pullSecrets: string[] = [],
  serviceAccountName?: string,
) {
  await s.core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name },
      spec: {
        ...(serviceAccountName ? { serviceAccountName } : {}),
        containers: [{ name: 'app', image: `${EU}/team/app:v1` }],
        imagePullSecrets: pullSecrets.map((n) => ({ name: n })),
      },
    },
  });
}

/** The table a user sees, printed for docs/operations.md (secret values never appear in it). */
async function printWhy(namespace: string, pod: string) {
  const { stdout } = await eatrCli(['why', pod, '-n', namespace], { ...s.env(), NO_COLOR: '1' });
  console.log(`[figure] $ eatr why ${pod} -n ${namespace}\n${stdout}`);
}

async function why(namespace: string, pod: string) {
  const result = await eatrCli(['why', pod, '-n', namespace, '-o', 'json'], s.env());
  const { checks } = JSON.parse(result.stdout) as {
    checks: { id: string; ok: boolean; message: string; fix?: string }[];
  };
  return { code: result.code, checks };
}

describe('eatr why <pod>', () => {
  it('names what stands between a Pod and its image, in order, until nothing does', async () => {
    await s.createCredentialSecret(EU);
    await s.start('watcher', leaseEnv(uniqueName('lease')));
    await s.start('renewer');
    const ns = await s.createNamespace('why', []);

    // The label's value must be exactly "true".
    await s.setLabels(ns, { [EU]: 'True' });
    await createPod(ns, 'early');
    let answer = await why(ns, 'early');
    await printWhy(ns, 'early');
    expect(answer.code).toBe(1);
    expect(answer.checks[0]).toMatchObject({
      ok: false,
      message: expect.stringContaining(`has the label ${EU}="True"`) as unknown,
      fix: `kubectl label namespace ${ns} ${EU}=true --overwrite`,
    });

    // Labelled: eatr serves the namespace, but the Pod was admitted before the ServiceAccount had
    // the entry, so it still has none.
    await s.setLabels(ns, { [EU]: 'true' });
    await s.waitForServiceAccountEntry(ns, EU);
    answer = await why(ns, 'pod/early');
    await printWhy(ns, 'early');
    expect(answer.code).toBe(1);
    expect(answer.checks[0]?.message).toContain(
      'created before ServiceAccount default got the entry',
    );

    // A Pod created now has the entry (as the admission plugin copies it): nothing stands in the way.
    await createPod(ns, 'late', [EU]);
    answer = await why(ns, 'late');
    expect(answer.code, JSON.stringify(answer.checks)).toBe(0);
    expect(answer.checks).toEqual([
      expect.objectContaining({
        ok: true,
        message: expect.stringContaining(`the Pod references Secret ${EU}`) as unknown,
      }),
    ]);

    // A Pod running as a ServiceAccount eatr does not wire: the fix is the ServiceAccount's label.
    await s.core.createNamespacedServiceAccount({
      namespace: ns,
      body: { metadata: { name: 'builder' } },
    });
    await createPod(ns, 'build', [], 'builder');
    answer = await why(ns, 'build');
    await printWhy(ns, 'build');
    expect(answer.code).toBe(1);
    expect(answer.checks[0]).toMatchObject({
      ok: false,
      message: expect.stringContaining('which eatr does not wire') as unknown,
      fix: expect.stringContaining(
        `kubectl -n ${ns} label serviceaccount builder eatr.io/pull-secrets=true`,
      ) as unknown,
    });
  }, 90_000);

  it('says clearly when the Pod does not exist', async () => {
    const ns = await s.createNamespace('why-missing', []);
    const result = await eatrCli(['why', 'nope', '-n', ns], s.env());
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/nope/);
  });
});
