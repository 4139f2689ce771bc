import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { REPO } from './support.js';

/** Grafana's built-in variables, replaced by values PromQL accepts before parsing. */
const GRAFANA_VARIABLES: Record<string, string> = {
  __rate_interval: '5m',
  __interval: '1m',
  __range: '1h',
};

export function substituteGrafanaVariables(expr: string): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => GRAFANA_VARIABLES[name] ?? whole);
}

export interface ParsedQuery {
  /** Syntax errors (text around each error node); empty when the query parses. */
  readonly errors: string[];
  /** Metric names the query selects. */
  readonly metrics: string[];
}

/** Parses a PromQL expression with Prometheus' own grammar. */
export function parsePromQL(expr: string): ParsedQuery {
  const tree = parser.parse(expr);
  const errors: string[] = [];
  const metrics = new Set<string>();
  tree.iterate({
    enter: (node) => {
      if (node.type.isError)
        errors.push(`at ${node.from}: "${expr.slice(Math.max(0, node.from - 10), node.to + 10)}"`);
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector')
        metrics.add(expr.slice(node.from, node.to));
      if (node.name === 'LabelName' && expr.slice(node.from, node.to) === '__name__')
        errors.push('selects by __name__: name metrics directly so they can be checked');
    },
  });
  return { errors, metrics: [...metrics] };
}

export interface DocumentedMetric {
  readonly name: string;
  readonly type: string;
}

/** The metrics table of docs/architecture.md. */
export async function documentedMetrics(): Promise<DocumentedMetric[]> {
  const text = await readFile(join(REPO, 'docs/architecture.md'), 'utf8');
  const section = text.slice(text.indexOf('## Metrics'));
  const metrics: DocumentedMetric[] = [];
  for (const match of section.matchAll(
    /^\| `([a-z_:][a-z0-9_:]*)` \| (counter|gauge|histogram|summary) \|/gm,
  ))
    metrics.push({ name: match[1] ?? '', type: match[2] ?? '' });
  return metrics;
}

/** Series names a documented metric produces (a histogram's _bucket, _sum and _count). */
export function seriesNames(metric: DocumentedMetric): string[] {
  return metric.type === 'histogram' || metric.type === 'summary'
    ? [`${metric.name}_bucket`, `${metric.name}_sum`, `${metric.name}_count`, metric.name]
    : [metric.name];
}

/** prom-client's default process and Node.js metrics, which every eatr process serves. */
export function isStandardProcessMetric(name: string): boolean {
  return name.startsWith('process_') || name.startsWith('nodejs_');
}

/** Every `expr` in a Grafana dashboard, with the panel title, plus template variable queries. */
export function dashboardQueries(dashboard: unknown): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  const visit = (panels: unknown) => {
    if (!Array.isArray(panels)) return;
    for (const panel of panels as {
      title?: string;
      targets?: { expr?: string }[];
      panels?: unknown;
    }[]) {
      for (const target of panel.targets ?? [])
        if (typeof target.expr === 'string')
          out.push({ where: panel.title ?? '?', expr: target.expr });
      visit(panel.panels);
    }
  };
  const d = dashboard as {
    panels?: unknown;
    templating?: { list?: { name: string; query?: unknown }[] };
  };
  visit(d.panels);
  for (const variable of d.templating?.list ?? []) {
    const query =
      typeof variable.query === 'string'
        ? variable.query
        : (variable.query as { query?: string } | undefined)?.query;
    // label_values(<selector>, <label>) is Grafana's, not PromQL: check the selector inside it.
    const selector = /^label_values\((.+),\s*\w+\)$/.exec(query ?? '')?.[1];
    if (selector) out.push({ where: `variable ${variable.name}`, expr: selector });
  }
  return out;
}
