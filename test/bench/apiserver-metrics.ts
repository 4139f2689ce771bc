/**
 * API requests counted by the API server itself (`apiserver_request_total` on its /metrics), as
 * deltas around a phase. Kept to the resources eatr touches (Secrets, ServiceAccounts, Namespaces,
 * Events, Leases), minus the benchmark's own requests (counted by RawKube), minus what an idle
 * window of the same length shows (the API server's own lease loop and the watcher's lease
 * renewals), so what remains is the requests the phase made eatr send.
 */
import { sleep } from './common.js';
import type { RawKube } from './raw-kube.js';

export const EATR_RESOURCES: ReadonlySet<string> = new Set([
  'secrets',
  'serviceaccounts',
  'namespaces',
  'events',
  'leases',
]);

type Counts = Map<string, number>;

interface Scrape {
  readonly at: number;
  /** `verb resource[/subresource]` -> requests so far. */
  readonly byKey: Counts;
  /** HTTP code -> requests so far (eatr's resources only). */
  readonly byCode: Counts;
  /** The benchmark's own requests so far. */
  readonly own: Counts;
}

export interface PhaseRequests {
  readonly durationMs: number;
  /** eatr's requests: API server delta, minus the benchmark's own, minus the idle rate. */
  readonly total: number;
  /** Non-zero entries, largest first. */
  readonly byKey: readonly (readonly [string, number])[];
  /** Raw delta of answers that were not 2xx, e.g. `409×3, 429×12` ('' when none). */
  readonly errors: string;
  /** What was subtracted: the benchmark's own requests, and the idle baseline. */
  readonly own: number;
  readonly idle: number;
}

const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

function add(map: Counts, key: string, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

function parse(text: string): { byKey: Counts; byCode: Counts } {
  const byKey: Counts = new Map();
  const byCode: Counts = new Map();
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const close = line.lastIndexOf('}');
    const value = Number(line.slice(close + 1).trim());
    if (!Number.isFinite(value)) continue;
    const labels = new Map<string, string>();
    for (const m of line.slice(0, close).matchAll(LABEL)) labels.set(m[1] ?? '', m[2] ?? '');
    const resource = labels.get('resource') ?? '';
    if (!EATR_RESOURCES.has(resource)) continue;
    const sub = labels.get('subresource') ?? '';
    add(byKey, `${labels.get('verb') ?? '?'} ${resource}${sub ? `/${sub}` : ''}`, value);
    add(byCode, labels.get('code') ?? '?', value);
  }
  return { byKey, byCode };
}

function delta(after: Counts, before: Counts): Counts {
  const out: Counts = new Map();
  for (const [key, n] of after) {
    const d = n - (before.get(key) ?? 0);
    if (d !== 0) out.set(key, d);
  }
  return out;
}

export class RequestMeter {
  /** Idle requests per ms, by key. */
  private idleRate: Counts = new Map();

  constructor(private readonly kube: RawKube) {}

  async scrape(): Promise<Scrape> {
    const own = this.kube.ownRequests();
    const answer = await this.kube.request('GET', '/metrics', { accept: 'text/plain' });
    return { at: performance.now(), own, ...parse(answer.body) };
  }

  /** Measures the idle rate (nothing happening but eatr's and the API server's own loops). */
  async measureIdle(durationMs: number): Promise<PhaseRequests> {
    const start = await this.scrape();
    await sleep(durationMs);
    const end = await this.scrape();
    const raw = this.net(start, end, false);
    const span = end.at - start.at;
    this.idleRate = new Map([...raw.byKey].map(([k, n]) => [k, n / span]));
    return raw;
  }

  /** Counts the requests made while `work` runs. */
  async around<T>(work: () => Promise<T>): Promise<{ value: T; requests: PhaseRequests }> {
    const start = await this.scrape();
    const value = await work();
    const end = await this.scrape();
    return { value, requests: this.net(start, end, true) };
  }

  private net(start: Scrape, end: Scrape, subtractIdle: boolean): PhaseRequests {
    const span = end.at - start.at;
    const raw = delta(end.byKey, start.byKey);
    const own = delta(end.own, start.own);
    let ownTotal = 0;
    let idleTotal = 0;
    const net: Counts = new Map();
    const keys = new Set([...raw.keys(), ...(subtractIdle ? this.idleRate.keys() : [])]);
    for (const key of keys) {
      const mine = Math.min(raw.get(key) ?? 0, own.get(key) ?? 0);
      const idle = subtractIdle ? (this.idleRate.get(key) ?? 0) * span : 0;
      const value = Math.max(0, Math.round((raw.get(key) ?? 0) - mine - idle));
      ownTotal += mine;
      idleTotal += Math.min(idle, (raw.get(key) ?? 0) - mine);
      if (value > 0) net.set(key, value);
    }
    const codes = delta(end.byCode, start.byCode);
    const errors = [...codes]
      .filter(([code]) => !code.startsWith('2'))
      .sort((a, b) => b[1] - a[1])
      .map(([code, n]) => `${code}×${n}`)
      .join(', ');
    return {
      durationMs: span,
      total: [...net.values()].reduce((a, b) => a + b, 0),
      byKey: [...net].sort((a, b) => b[1] - a[1]),
      errors,
      own: ownTotal,
      idle: Math.round(Math.max(0, idleTotal)),
    };
  }
}

/** `PUT secrets 2000, GET namespaces 2000, … (+3 more)` */
export function breakdown(requests: PhaseRequests, top = 8): string {
  const shown = requests.byKey.slice(0, top).map(([k, n]) => `${k} ${n}`);
  const rest = requests.byKey.length - shown.length;
  return `${shown.join(', ') || 'none'}${rest > 0 ? `, … (+${rest} more)` : ''}`;
}
