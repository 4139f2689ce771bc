/** Small helpers the benchmark's files share: knobs, timing, waiting, pools, percentiles. */

export function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${name} must be a positive integer, not ${JSON.stringify(raw)}`);
  return n;
}

/** `K=V,K=V` (spaces allowed around items) as an environment object. */
export function parseEnvList(name: string, raw: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const item of raw.split(',')) {
    const text = item.trim();
    if (text === '') continue;
    const eq = text.indexOf('=');
    if (eq < 1) throw new Error(`${name}: "${text}" is not KEY=VALUE`);
    env[text.slice(0, eq).trim()] = text.slice(eq + 1).trim();
  }
  return env;
}

export const ms = (start: number): number => performance.now() - start;
export const fmtMs = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(0)} ms` : 'n/a');
export const fmtS = (n: number): string =>
  Number.isFinite(n) ? `${(n / 1000).toFixed(1)} s` : 'n/a';
export const sleep = (t: number): Promise<void> => new Promise((r) => setTimeout(r, t));

export function percentile(sorted: readonly number[], p: number): number {
  return (
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
  );
}

export function describeError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}

/** Polls `probe` until it returns a value; throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${fmtS(timeoutMs)} waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Runs `work` over `items` with at most `limit` in flight. */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index] as T, index);
      }
    }),
  );
}

/** A value, or why it could not be measured. */
export type Outcome<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** Runs a phase; a failure is kept as the phase's outcome (and logged) instead of ending the run. */
export async function phase<T>(name: string, run: () => Promise<T>): Promise<Outcome<T>> {
  const started = performance.now();
  try {
    const value = await run();
    return { ok: true, value };
  } catch (error) {
    const reason = describeError(error);
    console.log(`!! ${name} FAILED after ${fmtS(ms(started))}: ${reason}`);
    return { ok: false, reason };
  }
}

export interface Latency {
  readonly samples: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  /** Probes whose Secret never appeared in time (not in the percentiles). */
  readonly missing: number;
}

export function latencyOf(values: readonly number[], missing = 0): Latency {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    samples: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    missing,
  };
}

export function fmtLatency(l: Latency): string {
  return (
    `p50 ${fmtMs(l.p50)}, p95 ${fmtMs(l.p95)}, p99 ${fmtMs(l.p99)}, max ${fmtMs(l.max)} ` +
    `(${l.samples} samples${l.missing > 0 ? `, ${l.missing} never arrived` : ''})`
  );
}
