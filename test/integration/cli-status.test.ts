import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DOCKER_CONFIG_JSON_TYPE,
  EXPIRES_AT_ANNOTATION,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  REGISTRY_ANNOTATION,
  RENEW_AFTER_ANNOTATION,
} from '@eatr/core';
import type { StatusRow } from '@eatr/cli';
import { freePort } from '../harness/free-port.js';
import { eatrCli } from './support/eatr-cli.js';
import { Scenario, leaseEnv, registry } from './support/scenario.js';

// `eatr status` run as a user runs it (the built CLI, stdout a pipe) against the real
// kube-apiserver and Redis that a renewer and watcher use.

const EU = registry('eu-west-1');
const US = registry('us-east-1'); // no credential Secret: the renewer records it as blocked

let s: Scenario;
beforeEach(async () => {
  s = await Scenario.create();
});
afterEach(async () => {
  await s.close();
});

interface StatusJson {
  items: StatusRow[];
  summary: { unhealthy: boolean; byState: Record<string, number> };
  watcher: { holder?: string; fresh: boolean };
  queue: { counts?: Record<string, number> };
}

async function statusJson(args: string[] = ['-A'], env: Record<string, string> = {}) {
  const result = await eatrCli(['status', ...args, '-o', 'json'], s.env(env));
  if (result.stderr !== '')
    throw new Error(`eatr status failed (${String(result.code)}): ${result.stderr}`);
  return { ...result, json: JSON.parse(result.stdout) as StatusJson };
}

describe('eatr status', () => {
  it('tells fresh, expired, missing, conflict and blocked Secrets apart and exits 1 when one is expired or missing', async () => {
    await s.createCredentialSecret(EU);
    await s.start('renewer');
    const fresh = await s.createNamespace('fresh', [EU]);
    await s.enqueue(fresh);
    await s.waitForSecret(fresh, EU);
    await s.waitForServiceAccountEntry(fresh, EU);

    const missing = await s.createNamespace('missing', [EU]); // no sync asked for (no watcher)

    const expired = await s.createNamespace('expired', [EU]);
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    await s.core.createNamespacedSecret({
      namespace: expired,
      body: {
        metadata: {
          name: EU,
          labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
          annotations: {
            [REGISTRY_ANNOTATION]: EU,
            [EXPIRES_AT_ANNOTATION]: hourAgo,
            [RENEW_AFTER_ANNOTATION]: hourAgo,
          },
        },
        type: DOCKER_CONFIG_JSON_TYPE,
        stringData: { '.dockerconfigjson': '{"auths":{}}' },
      },
    });

    const conflict = await s.createNamespace('conflict', [EU]);
    await s.core.createNamespacedSecret({
      namespace: conflict,
      body: { metadata: { name: EU }, stringData: { note: 'not eatr' } },
    });

    const blocked = await s.createNamespace('blocked', [US]);
    await s.enqueue(blocked);
    const { code, json } = await s.waitFor('the blocked record', async () => {
      const result = await statusJson();
      return result.json.items.some((r) => r.namespace === blocked && r.state === 'blocked')
        ? result
        : undefined;
    });

    const mine = new Map(json.items.map((r) => [r.namespace, r]));
    expect(mine.get(fresh)).toMatchObject({
      registry: EU,
      state: 'fresh',
      serviceAccounts: { wired: 1, wanted: 1 },
      // Where its tokens come from: a name, never a value.
      credentials: `${s.hostNamespace}/eatr-aws-credentials-${EU}`,
    });
    expect(mine.get(fresh)?.lastRenewal).toBeDefined();
    expect(mine.get(missing)).toMatchObject({ state: 'missing', serviceAccounts: { wired: 0 } });
    expect(mine.get(expired)).toMatchObject({ state: 'expired', expiresAt: hourAgo });
    expect(mine.get(conflict)).toMatchObject({ state: 'conflict' });
    expect(mine.get(blocked)).toMatchObject({
      registry: US,
      state: 'blocked',
      secretState: 'missing',
      reason: 'missing-credentials',
      credentials: 'none',
    });
    expect(json.summary.unhealthy).toBe(true);
    expect(code).toBe(1);
    // No watcher runs with this scenario's Lease.
    expect(json.watcher.holder).toBeUndefined();

    // One namespace, as a person reads it: a table, a summary, the leader and the queue; no colour
    // codes when stdout is not a terminal; exit 0 when nothing is expired or missing.
    const table = await eatrCli(['status', '-n', fresh], s.env());
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^NAMESPACE\s+REGISTRY\s+STATE\s+EXPIRES IN\s+LAST RENEWAL\s+SERVICEACCOUNTS$/,
    );
    expect(lines[1]).toMatch(
      new RegExp(
        `^${fresh}\\s+${EU.replaceAll('.', '\\.')}\\s+fresh\\s+11h\\d+m\\s+\\d+s ago\\s+1/1$`,
      ),
    );
    expect(table.stdout).toContain('1 Secret in 1 namespace: 1 fresh');
    expect(table.stdout).toContain('Watcher: no leader');
    expect(table.stdout).toMatch(
      /Queue: 0 waiting, 0 active, 0 delayed, 0 failed.*; Redis \d+ MiB/,
    );
    expect(table.stdout).not.toContain('\u001b[');

    const missingOnly = await eatrCli(['status', '-n', missing], s.env());
    expect(missingOnly.code).toBe(1);
    const blockedRow = await eatrCli(['status', '-n', blocked], s.env());
    expect(blockedRow.stdout).toContain('blocked (missing-credentials)');
    const wide = await eatrCli(['status', '-n', conflict, '-o', 'wide'], s.env());
    expect(wide.stdout).toContain('a Secret with this name exists and is not managed by eatr');
    const yaml = await eatrCli(['status', '-n', expired, '-o', 'yaml'], s.env());
    expect(yaml.stdout).toContain('state: expired');
  });

  it('names the watcher leader, follows --context, and fails with a message and exit 2 on bad settings', async () => {
    await s.createCredentialSecret(EU);
    await s.start('renewer');
    await s.start('watcher', leaseEnv('cli-status'));
    const ns = await s.createNamespace('led', [EU]);
    await s.waitForSecret(ns, EU);
    const { json, code } = await s.waitFor('the leader to show', async () => {
      const r = await statusJson(['-n', ns], leaseEnv('cli-status'));
      return r.json.watcher.holder !== undefined ? r : undefined;
    });
    expect(code).toBe(0);
    expect(json.watcher.fresh).toBe(true);
    expect(json.items).toMatchObject([{ namespace: ns, state: 'fresh' }]);

    const bad = await eatrCli(['status'], { ...s.env(), EATR_QUEUE_PREFIX: 'a:b' });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(
      'eatr: EATR_QUEUE_PREFIX: must not be empty or contain ":" or spaces',
    );
    // --context picks a context of the kubeconfig, as kubectl's does: here the file's current
    // context points at a port nothing listens on, and only --context eatr-test works.
    const config = JSON.parse(await readFile(s.kubeconfigPath, 'utf8')) as {
      clusters: { name: string; cluster: Record<string, string> }[];
      contexts: { name: string; context: Record<string, string> }[];
      'current-context': string;
    };
    const closedPort = await freePort(); // free: nothing listens on it
    const real = config.clusters[0];
    const context = config.contexts[0];
    if (!real || !context) throw new Error('unexpected harness kubeconfig');
    config.clusters.push({
      name: 'gone',
      cluster: { ...real.cluster, server: `https://127.0.0.1:${closedPort}` },
    });
    config.contexts.push({ name: 'gone', context: { ...context.context, cluster: 'gone' } });
    config['current-context'] = 'gone';
    const dir = await mkdtemp(join(tmpdir(), 'eatr-cli-'));
    const twoContexts = join(dir, 'kubeconfig');
    await writeFile(twoContexts, JSON.stringify(config));
    try {
      const picked = await eatrCli(['status', '-n', ns, '--context', context.name], {
        ...s.env(leaseEnv('cli-status')),
        KUBECONFIG: twoContexts,
      });
      expect(picked.stderr).toBe('');
      expect(picked.code).toBe(0);
      const current = await eatrCli(['status', '-n', ns], { ...s.env(), KUBECONFIG: twoContexts });
      expect(current.code).toBe(2);
      expect(current.stderr.trim()).toBe(
        `eatr: cannot reach the API server https://127.0.0.1:${closedPort} (context gone): connect ECONNREFUSED 127.0.0.1:${closedPort}`,
      );
      const unknown = await eatrCli(['status', '--context', 'nope'], {
        ...s.env(),
        KUBECONFIG: twoContexts,
      });
      expect(unknown.code).toBe(2);
      expect(unknown.stderr.trim()).toBe('eatr: context "nope" is not in the kubeconfig');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    const both = await eatrCli(['status', '-n', ns, '-A'], s.env());
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('-n and -A cannot be used together');
  });
});
