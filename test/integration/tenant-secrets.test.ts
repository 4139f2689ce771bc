import { readFileSync } from 'node:fs';
import type { V1Secret } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EatrProcess } from '../harness/eatr-process.js';
import { uniqueName } from '../harness/index.js';
import { KEYS, Scenario, registry } from './support/scenario.js';

// Anyone who may create a Secret may label it app.kubernetes.io/managed-by=eatr. A tenant who fills
// their own namespace with large Secrets so labelled must not make the renewers (which watch eatr's
// Secrets cluster-wide) run out of memory: the watch asks for metadata only and only for eatr's type,
// and the cache keeps only eatr's labels and annotations.

const EU = registry('eu-west-1');
const MiB = 1024 * 1024;
/** The chart's renewer: a 384Mi limit, and V8's heap at 75 % of it (charts/eatr/templates/_helpers.tpl). */
const CHART_MEMORY_LIMIT = 384 * MiB;
const CHART_NODE_OPTIONS = '--max-old-space-size=288 --max-semi-space-size=2';
/** Per kind of tenant Secret: ~45 MiB each of data and annotations the API server stores. */
const TENANT_SECRETS = 50;
const DATA_BYTES = 900 * 1024;
const ANNOTATION_BYTES = 200 * 1024;

let s: Scenario;
let tenant: string;
beforeEach(async () => {
  s = await Scenario.create([KEYS]);
  await s.createCredentialSecret(EU);
  tenant = uniqueName('tenant');
  await s.core.createNamespace({ body: { metadata: { name: tenant } } });
});
afterEach(async () => {
  // No namespace controller runs here: delete the Secrets, or later tests' renewers list them.
  await s.core.deleteCollectionNamespacedSecret({ namespace: tenant }).catch(() => undefined);
  await s.core.deleteNamespace({ name: tenant }).catch(() => undefined);
  await s.close();
});

/** The process's peak resident memory (VmHWM), from the kernel. */
function peakResident(p: EatrProcess): number {
  const status = readFileSync(`/proc/${p.child.pid ?? 0}/status`, 'utf8');
  const kib = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  if (kib === undefined) throw new Error('no VmHWM in /proc/<pid>/status');
  return Number(kib) * 1024;
}

/** Starts a renewer as the chart does, serves one new namespace, and returns its figures. */
async function serveOne(prefix: string) {
  const started = performance.now();
  const renewer = await s.start('renewer', { NODE_OPTIONS: CHART_NODE_OPTIONS });
  await s.waitFor('the renewer to be ready', () => renewer.ready(), 60_000);
  const readyMs = performance.now() - started;
  const ns = await s.createNamespace(prefix, [EU]);
  await s.enqueue(ns);
  await s.waitForSecret(ns, EU);
  const peak = peakResident(renewer);
  const metrics = await renewer.metrics();
  await renewer.stop();
  return { readyMs, peak, metrics, ns };
}

describe('tenant Secrets labelled as eatr’s', () => {
  it('leave a renewer under the chart’s memory settings ready, serving and far below its limit, and invent no metric series', async () => {
    const before = await serveOne('before-tenant');

    const blob = 'x'.repeat(DATA_BYTES);
    const note = 'y'.repeat(ANNOTATION_BYTES);
    const forged = (i: number, type: string): V1Secret => ({
      metadata: {
        name: `forged-${type === 'Opaque' ? 'opaque' : 'pull'}-${i}`,
        labels: { 'app.kubernetes.io/managed-by': 'eatr' },
        annotations: {
          'tenant.example/note': note,
          // What eatr's expiry metric once took its registry label from.
          'eatr.io/registry': `invented-label-${i}`,
          'eatr.io/expires-at': new Date(Date.now() + 3_600_000).toISOString(),
        },
      },
      type,
      stringData:
        type === 'Opaque' ? { blob } : { '.dockerconfigjson': `{"auths":{},"x":"${blob}"}` },
    });
    for (let i = 0; i < TENANT_SECRETS; i += 10)
      await Promise.all(
        Array.from({ length: 10 }, (_, j) => i + j).flatMap((n) => [
          s.core.createNamespacedSecret({ namespace: tenant, body: forged(n, 'Opaque') }),
          s.core.createNamespacedSecret({
            namespace: tenant,
            body: forged(n, 'kubernetes.io/dockerconfigjson'),
          }),
        ]),
      );

    const after = await serveOne('after-tenant');
    const figures = {
      tenantSecrets: TENANT_SECRETS * 2,
      tenantMiB: Math.round((TENANT_SECRETS * 2 * (DATA_BYTES + ANNOTATION_BYTES)) / MiB),
      peakResidentMiB: { before: before.peak / MiB, after: after.peak / MiB },
      readyMs: { before: Math.round(before.readyMs), after: Math.round(after.readyMs) },
    };
    console.log(
      `[figures] renewer with a tenant's large labelled Secrets: ${JSON.stringify(figures)}`,
    );
    // Behaviour, not a benchmark: at the chart's limit the renewer would be OOM-killed at every start.
    expect(after.peak).toBeLessThan(CHART_MEMORY_LIMIT);
    // Nor do they become metric labels or series: only the Secrets namespaces ask for are reported.
    const expiry = after.metrics
      .split('\n')
      .filter((l) => l.startsWith('eatr_secret_expiry_timestamp_seconds{'));
    expect(expiry.filter((l) => l.includes(tenant) || l.includes('invented-label'))).toEqual([]);
    expect(expiry.some((l) => l.includes(`namespace="${after.ns}"`) && l.includes(EU))).toBe(true);
  }, 180_000);
});
