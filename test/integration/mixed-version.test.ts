import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import type { V1Secret } from '@kubernetes/client-node';
import { LEGACY_QUEUE_NAME, LogMessage } from '@eatr/core';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EatrProcess } from '../harness/eatr-process.js';
import { uniqueName } from '../harness/index.js';
import { eatrCli } from './support/eatr-cli.js';
import { KEYS, OTHER_KEYS, Scenario, decodedAuth, leaseEnv, registry } from './support/scenario.js';

// A rolling upgrade and a rollback between the previous release (built from git history: the commit
// in test/compat/previous-release) and this build, on one redis-server and kube-apiserver: for
// OVERLAP_MS both releases' renewers work the queue (a Deployment rollout with an 80 s termination
// grace guarantees such an overlap) while namespaces are labelled and opted out, keys are rotated,
// the watcher hands over and `eatr renew` runs from both releases' CLIs.

const EU = registry('eu-west-1');
const US = registry('us-east-1');
const OVERLAP_MS = 60_000;
/** The chart's sweep interval: convergence must not wait for it. */
const SWEEP_INTERVAL = '5m';
/**
 * Every namespace converges within this after the last process of the old side stopped: a fifth of
 * the sweep interval, so it comes from events and the jobs the new side took over (including a
 * sync's retry backoff and a watcher's Lease handover), never from the next sweep.
 */
const CONVERGED_WITHIN_MS = 60_000;

type Release = 'previous' | 'current';
let previousBuild: string;

beforeAll(() => {
  const script = fileURLToPath(new URL('../tools/previous-release.sh', import.meta.url));
  previousBuild = execFileSync('bash', [script], { encoding: 'utf8', timeout: 600_000 }).trim();
}, 600_000);

let s: Scenario;
beforeEach(async () => {
  s = await Scenario.create([KEYS, OTHER_KEYS]);
});
afterEach(async () => {
  await s.close();
});

/** Waits until `at` (ms since the epoch): paces the overlap, never synchronises with eatr. */
const until = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));

interface Figures {
  readonly failedJobs: number;
  readonly failedForGoodLines: number;
  readonly deletedWhileLabelled: string[];
  readonly convergedAfterMs: number;
  readonly renewDuringOverlap: { release: Release; code: number | null; renewed: number }[];
}

/**
 * Runs `from`'s watcher and two renewers, then rolls over to `to`'s for OVERLAP_MS of mixed work,
 * stops the last of `from`, and measures what a user would notice.
 */
async function rollOver(from: Release, to: Release): Promise<Figures> {
  const build = (release: Release) => (release === 'previous' ? previousBuild : undefined);
  const env = { ...leaseEnv(uniqueName('lease')), EATR_SWEEP_INTERVAL: SWEEP_INTERVAL };
  const start = (release: Release, component: 'watcher' | 'renewer') =>
    s.start(component, env, [], build(release));

  await s.createCredentialSecret(EU, KEYS);
  await s.createCredentialSecret(US, KEYS);
  const old: EatrProcess[] = [
    await start(from, 'watcher'),
    await start(from, 'renewer'),
    await start(from, 'renewer'),
  ];
  const stay: Record<string, string[]> = {};
  const optOut: string[] = [];
  for (let i = 0; i < 4; i++) {
    const hosts = i % 2 === 0 ? [EU] : [EU, US];
    stay[await s.createNamespace(`stay-${i}`, hosts)] = hosts;
  }
  for (let i = 0; i < 2; i++) optOut.push(await s.createNamespace(`out-${i}`, [EU]));
  const uids = new Map<string, string>();
  const remember = (namespace: string, host: string, secret: V1Secret) => {
    const key = `${namespace}/${host}`;
    if (!uids.has(key)) uids.set(key, secret.metadata?.uid ?? '');
  };
  for (const [ns, hosts] of Object.entries(stay))
    for (const host of hosts) remember(ns, host, await s.waitForSecret(ns, host));
  for (const ns of optOut) await s.waitForSecret(ns, EU);

  // The rollout: the new side starts beside the old one.
  const overlapStart = Date.now();
  await start(to, 'renewer');
  await start(to, 'renewer');
  await start(to, 'watcher');
  const renewDuringOverlap: Figures['renewDuringOverlap'] = [];
  const stayNames = Object.keys(stay);

  for (let i = 0; i < 2; i++) stay[await s.createNamespace(`new-${i}`, [EU, US])] = [EU, US];
  await until(overlapStart + 0.15 * OVERLAP_MS);
  await s.setLabels(optOut[0] ?? '', { [EU]: null });
  await s.rotateCredentials(EU, OTHER_KEYS);
  await until(overlapStart + 0.3 * OVERLAP_MS);
  await old[0]?.stop(); // the watcher's rollout: the new one takes the Lease over
  for (const release of [to, from] satisfies Release[]) {
    const named = release === to ? stayNames.slice(0, 2) : stayNames.slice(2, 4);
    const result = await eatrCli(['renew', ...named], s.env(env), 90_000, build(release));
    // Table rows `NAMESPACE REGISTRY RESULT ...` of the namespaces it named.
    const renewed = result.stdout
      .split('\n')
      .filter(
        (l) => named.some((ns) => l.startsWith(`${ns} `)) && /^\S+\s+\S+\s+renewed\s/.test(l),
      ).length;
    renewDuringOverlap.push({ release, code: result.code, renewed });
  }
  await until(overlapStart + 0.6 * OVERLAP_MS);
  for (let i = 2; i < 4; i++) stay[await s.createNamespace(`new-${i}`, [EU])] = [EU];
  await s.setLabels(optOut[1] ?? '', { [EU]: null });
  await old[1]?.stop(80_000);
  await until(overlapStart + OVERLAP_MS);
  await old[2]?.stop(80_000);
  const oldGone = Date.now();

  // Converged: every labelled namespace has its Secrets, EU's from the rotated keys; the opted-out
  // ones have none.
  const rotated = () =>
    new Set(
      s.aws
        .issuedTokens()
        .filter((t) => t.accessKeyId === OTHER_KEYS.accessKeyId)
        .map((t) => `AWS:${t.password}`),
    );
  await s.waitFor(
    'every namespace to converge',
    async () => {
      const fresh = rotated();
      for (const [ns, hosts] of Object.entries(stay))
        for (const host of hosts) {
          const secret = await s.readSecret(ns, host);
          if (!secret) return false;
          if (host === EU && !fresh.has(decodedAuth(secret, EU))) return false;
          remember(ns, host, secret);
        }
      for (const ns of optOut) if (await s.readSecret(ns, EU)) return false;
      return true;
    },
    CONVERGED_WITHIN_MS + OVERLAP_MS,
  );
  const convergedAfterMs = Math.max(0, Date.now() - oldGone);

  const deletedWhileLabelled: string[] = [];
  for (const [ns, hosts] of Object.entries(stay))
    for (const host of hosts) {
      const secret = await s.readSecret(ns, host);
      if (secret?.metadata?.uid !== uids.get(`${ns}/${host}`))
        deletedWhileLabelled.push(`${ns}/${host}`);
    }
  const legacy = new Queue(LEGACY_QUEUE_NAME, {
    connection: { url: s.redisUrl },
    prefix: s.queuePrefix,
  });
  const failedJobs =
    (await s.queue.getJobCountByTypes('failed')) + (await legacy.getJobCountByTypes('failed'));
  await legacy.close();
  const failedForGoodLines = s.allLogLines.filter((l) => l.includes('failed for good')).length;
  return {
    failedJobs,
    failedForGoodLines,
    deletedWhileLabelled,
    convergedAfterMs,
    renewDuringOverlap,
  };
}

function report(name: string, f: Figures) {
  console.log(
    `[figure] ${name}: failed jobs ${f.failedJobs}; Secrets deleted while labelled ${f.deletedWhileLabelled.length}; converged ${f.convergedAfterMs} ms after the last old process stopped; eatr renew during the overlap: ${f.renewDuringOverlap.map((r) => `${r.release} CLI exit ${String(r.code)}, ${r.renewed} renewed`).join('; ')}`,
  );
}

function expectNothingLost(f: Figures) {
  expect(f.failedJobs).toBe(0);
  expect(f.failedForGoodLines).toBe(0);
  expect(f.deletedWhileLabelled).toEqual([]);
  expect(f.convergedAfterMs).toBeLessThan(CONVERGED_WITHIN_MS);
  // Each CLI named two namespaces with one or two registries: three Secrets.
  expect(f.renewDuringOverlap).toEqual([
    expect.objectContaining({ code: 0, renewed: 3 }),
    expect.objectContaining({ code: 0, renewed: 3 }),
  ]);
}

describe('an upgrade and a rollback lose nothing (previous release <-> this build, one queue)', () => {
  it('a rolling upgrade: 0 failed jobs, 0 Secrets deleted while labelled, converged by events', async () => {
    const figures = await rollOver('previous', 'current');
    report('rolling upgrade', figures);
    expectNothingLost(figures);
  }, 300_000);

  it('a rollback: the same', async () => {
    const figures = await rollOver('current', 'previous');
    report('rollback', figures);
    expectNothingLost(figures);
  }, 300_000);

  it("a watcher of this build with only the previous release's renewers (a rollback that reached the renewers first): namespaces are still served, by the sweep", async () => {
    const sweepMs = 5000;
    const env = { ...leaseEnv(uniqueName('lease')), EATR_SWEEP_INTERVAL: `${sweepMs}ms` };
    await s.createCredentialSecret(EU, KEYS);
    const renewer = await s.start('renewer', env, [], previousBuild);
    await s.start('watcher', env);
    // Label only once a scheduled sweep has run, so the next one is what serves the namespace.
    await renewer.waitForLog((l) => l.msg === LogMessage.sweepDone, 3 * sweepMs);
    const ns = await s.createNamespace('sweep-only', [EU]);
    const labelled = Date.now();
    // The watcher's event job waits in this build's queue for a renewer of this build; the
    // previous release's renewers sweep on the schedule the watcher keeps in their queue.
    await s.waitForSecret(ns, EU, undefined, 3 * sweepMs + 10_000);
    console.log(
      `[figure] sweep-only service (sweep every ${sweepMs} ms): ${Date.now() - labelled} ms`,
    );
  }, 60_000);
});
