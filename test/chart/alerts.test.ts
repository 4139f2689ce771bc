import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CHART, run } from './support.js';
import { documentedMetrics, parsePromQL, seriesNames } from './promql.js';

const promtool = process.env.PROMTOOL ?? 'promtool';
const ALERTS = join(CHART, 'files/alerts.yaml');

interface RuleFile {
  groups: {
    name: string;
    rules: { alert?: string; expr: string; labels?: Record<string, string> }[];
  }[];
}

describe('alert rules (files/alerts.yaml, the PrometheusRule spec)', () => {
  it('pass promtool check rules', async () => {
    const result = await run(promtool, ['check', 'rules', ALERTS]);
    expect(result.stdout + result.stderr).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it('pass their promtool unit tests (files/alerts.test.yaml)', async () => {
    const result = await run(promtool, ['test', 'rules', join(CHART, 'files/alerts.test.yaml')]);
    expect(result.stdout + result.stderr, result.stdout + result.stderr).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it('cover what the issue asks for, on documented metrics, each with a severity', async () => {
    const file = parse(await readFile(ALERTS, 'utf8')) as RuleFile;
    const rules = file.groups.flatMap((g) => g.rules);
    const documented = new Set((await documentedMetrics()).flatMap(seriesNames));
    for (const rule of rules) {
      expect(['critical', 'warning', 'info'], rule.alert).toContain(rule.labels?.severity);
      const parsed = parsePromQL(rule.expr);
      expect(parsed.errors, rule.alert).toEqual([]);
      for (const metric of parsed.metrics)
        expect(documented, `${rule.alert}: ${metric}`).toContain(metric);
    }
    const exprOf = (name: string) => rules.find((r) => r.alert === name)?.expr ?? '';
    expect(exprOf('EatrImagePullSecretExpiringSoon')).toBe(
      'max by (namespace, registry) (eatr_secret_expiry_timestamp_seconds) - time() < 7200',
    );
    expect(exprOf('EatrCredentialErrors')).toContain('eatr_credential_errors_total');
    expect(exprOf('EatrSyncsFailing')).toContain('eatr_syncs_total{result="permanent"}');
    expect(exprOf('EatrQueueNotDraining')).toContain('eatr_queue_jobs{state="waiting"}');
    expect(exprOf('EatrNoWatcherLeader')).toBe('max(eatr_leader) < 1 or absent(eatr_leader)');
    expect(exprOf('EatrNoRenewer')).toBe('absent(eatr_build_info{component="renewer"})');
  });
});
