/** The benchmark's final table: every figure, the API requests per phase, and the goals. */
import { breakdown, type PhaseRequests } from './apiserver-metrics.js';
import type { Ceiling } from './ceiling.js';
import { describeCpu } from './cpu-use.js';
import { fmtLatency, fmtMs, fmtS, type Latency, type Outcome } from './common.js';
import type { Memory } from './eatr-processes.js';
import { describeJobs, type JobsAdded } from './eatr-queue.js';

export interface Backlog {
  readonly createdMs: number;
  readonly drainMs: number;
  readonly ecrCalls: number;
}

export interface Sweep {
  readonly namespaces: number;
  /** From the renewer's `sweep done` log line. */
  readonly duration: string;
  readonly writes: number;
  readonly requests: PhaseRequests;
}

export interface Wave {
  readonly durationMs: number;
  readonly perS: number;
  readonly ecrCalls: number;
  /** Secrets already renewed when the sweep was triggered (work started by the renewers' start). */
  readonly renewedBeforeTrigger: number;
  readonly requests: PhaseRequests | undefined;
  readonly note: string;
  /** CPU seconds per process kind from the trigger to the last write. */
  readonly cpu: ReadonlyMap<string, number>;
}

export interface Restart {
  readonly readyMs: number;
  readonly drainedMs: number;
  readonly jobs: JobsAdded;
  /** The new watcher's `eatr_jobs_enqueued_total` by reason. */
  readonly enqueued: ReadonlyMap<string, number>;
  readonly sweeps: number;
  readonly requests: PhaseRequests;
}

export interface BadCredential {
  readonly namespaces: number;
  readonly settleMs: number;
  readonly sweepMs: number;
  readonly jobs: JobsAdded;
  readonly ecrCalls: number;
  readonly writes: number;
  readonly requests: PhaseRequests;
}

export interface Results {
  readonly n: number;
  readonly renewers: number;
  readonly concurrency: string;
  readonly speedEnv: string;
  startupMs: number;
  startupDetail: string;
  idleLatency?: Outcome<Latency>;
  backlog?: Outcome<Backlog>;
  idle?: Outcome<PhaseRequests>;
  sweep?: Outcome<Sweep>;
  restart?: Outcome<Restart>;
  restartLatency?: Outcome<Latency>;
  ceiling?: Outcome<Ceiling>;
  waveDefault?: Outcome<Wave>;
  waveSpeed?: Outcome<Wave | { readonly unsupported: string }>;
  /** Label→Secret during a wave, per renewer concurrency. */
  waveLatency?: { readonly concurrency: string; readonly latency: Outcome<Latency> }[];
  badCredential?: Outcome<BadCredential>;
  memoryStart?: Outcome<readonly Memory[]>;
  memoryEnd?: Outcome<readonly Memory[]>;
  totalMs: number;
}

const NOT_RUN: Outcome<never> = { ok: false, reason: 'not run (an earlier step failed)' };

/** Resident memory each process may use at N = 10,000 with the chart's Node flags (issue 21). */
const MEMORY_GOAL_MIB: Record<string, number> = { renewer: 150, watcher: 120 };

function show<T>(outcome: Outcome<T> | undefined, render: (value: T) => string): string {
  const o = outcome ?? NOT_RUN;
  return o.ok ? render(o.value) : `FAILED: ${o.reason}`;
}

function value<T>(outcome: Outcome<T> | undefined): T | undefined {
  return outcome?.ok ? outcome.value : undefined;
}

const rate = (n: number) => `${n.toFixed(0)}/s`;

function memoryLine(list: readonly Memory[]): string {
  return list
    .map(
      (m) =>
        `${m.component}: resident ${m.residentMiB.toFixed(0)} MiB, heap used ${m.heapUsedMiB.toFixed(0)} MiB`,
    )
    .join('; ');
}

function isWave(w: Wave | { readonly unsupported: string }): w is Wave {
  return !('unsupported' in w);
}

function waveLine(w: Wave, ceiling: Ceiling | undefined): string {
  const ratio =
    ceiling === undefined ? '' : `, ${(w.perS / ceiling.updatePerS).toFixed(2)}× ceiling update/s`;
  return (
    `${rate(w.perS)} (${fmtS(w.durationMs)})${ratio}; ECR calls ${w.ecrCalls}` +
    (w.renewedBeforeTrigger > 0 ? `; ${w.renewedBeforeTrigger} renewed before the trigger` : '') +
    (w.note ? `; ${w.note}` : '') +
    `; CPU ${describeCpu(w.cpu)}`
  );
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const line = (r: readonly string[]) =>
    `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const [head, ...body] = rows;
  return [
    line(head ?? []),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...body.map(line),
  ].join('\n');
}

export function printReport(r: Results): boolean {
  const ceiling = value(r.ceiling);
  const speed = value(r.waveSpeed);
  const rows: string[][] = [
    ['figure', 'value'],
    ['harness start-up', `${fmtMs(r.startupMs)} (${r.startupDetail})`],
    ['label→Secret latency, idle (one at a time)', show(r.idleLatency, (l) => fmtLatency(l))],
    [
      `backlog: ${r.n} labelled namespaces created and queued`,
      show(r.backlog, (b) => fmtS(b.createdMs)),
    ],
    [
      'backlog drained after the renewers started',
      show(
        r.backlog,
        (b) => `${fmtS(b.drainMs)}, ${rate((r.n / b.drainMs) * 1000)}; ECR calls ${b.ecrCalls}`,
      ),
    ],
    [
      'sweep over fresh Secrets',
      show(
        r.sweep,
        (s) => `${s.duration} (${s.namespaces} opted-in namespaces); Secret writes ${s.writes}`,
      ),
    ],
    [
      `API-server ceiling (tight loop, ${ceiling?.concurrency ?? '?'} in flight)`,
      show(
        r.ceiling,
        (c) =>
          `create ${rate(c.createPerS)} (${fmtS(c.createMs)}), update ${rate(c.updatePerS)} (${fmtS(c.updateMs)}), ${c.secrets} Secrets; CPU during the updates ${describeCpu(c.updateCpu)}`,
      ),
    ],
    [`full renewal of ${r.n}, default settings`, show(r.waveDefault, (w) => waveLine(w, ceiling))],
    [
      `full renewal of ${r.n}, speed settings`,
      show(r.waveSpeed, (w) =>
        isWave(w) ? waveLine(w, ceiling) : `n/a (setting unsupported: ${w.unsupported})`,
      ),
    ],
    ...(r.waveLatency ?? []).map((w) => [
      `label→Secret latency during a renewal wave, concurrency ${w.concurrency}`,
      show(w.latency, (l) => fmtLatency(l)),
    ]),
    [
      'label→Secret latency right after a watcher restart',
      show(r.restartLatency, (l) => fmtLatency(l)),
    ],
    [
      'watcher restart',
      show(
        r.restart,
        (x) =>
          `ready in ${fmtS(x.readyMs)}, queue drained in ${fmtS(x.drainedMs)}; ${describeJobs(x.jobs)}; sweeps run ${x.sweeps}`,
      ),
    ],
    [
      `sweep with one bad credential (${value(r.badCredential)?.namespaces ?? '10%'} namespaces)`,
      show(
        r.badCredential,
        (b) =>
          `${fmtS(b.sweepMs)} (settled in ${fmtS(b.settleMs)} first); ${describeJobs(b.jobs)}; ECR calls ${b.ecrCalls}; Secret writes ${b.writes}`,
      ),
    ],
    ['memory at start', show(r.memoryStart, memoryLine)],
    [
      `memory at the end (N = ${r.n}; heap as last seen, no GC forced)`,
      show(r.memoryEnd, memoryLine),
    ],
  ];
  console.log(
    `\n==== eatr benchmark: N = ${r.n} namespaces, ${r.renewers} renewer(s), concurrency ${r.concurrency}, ` +
      `speed settings ${r.speedEnv}; run took ${fmtS(r.totalMs)} ====\n`,
  );
  console.log(table(rows));

  const requestRows: [string, Outcome<PhaseRequests> | undefined, number][] = [
    ['idle baseline (subtracted from the others)', r.idle, 0],
    [
      `renewal wave, default settings (per renewed Secret)`,
      mapOutcome(r.waveDefault, (w) => w.requests),
      r.n,
    ],
    [
      `renewal wave, speed settings (per renewed Secret)`,
      mapOutcome(
        r.waveSpeed,
        (w) => (isWave(w) ? w.requests : undefined),
        'n/a (setting unsupported)',
      ),
      r.n,
    ],
    ['sweep with nothing due', mapOutcome(r.sweep, (s) => s.requests), 0],
    ['watcher restart', mapOutcome(r.restart, (x) => x.requests), 0],
    ['sweep with one bad credential', mapOutcome(r.badCredential, (b) => b.requests), 0],
  ];
  console.log(
    "\nAPI requests per phase, from the API server's apiserver_request_total (secrets, serviceaccounts,\n" +
      "namespaces, events, leases), minus the benchmark's own requests, minus the idle rate:",
  );
  for (const [name, outcome, per] of requestRows) {
    const o = outcome ?? NOT_RUN;
    if (!o.ok) {
      console.log(`  ${name}: ${o.reason.startsWith('n/a') ? o.reason : `FAILED: ${o.reason}`}`);
      continue;
    }
    const p = o.value;
    const unit = per > 0 ? ` = ${(p.total / per).toFixed(2)} per Secret` : '';
    console.log(
      `  ${name}: ${p.total}${unit} in ${fmtS(p.durationMs)} (subtracted: own ${p.own}, idle ${p.idle}` +
        `${p.errors ? `; non-2xx ${p.errors}` : ''})\n      ${breakdown(p)}`,
    );
  }

  const goals = goalRows(r, ceiling, speed);
  console.log('\nGoals (the benchmark asserts none of these):');
  console.log(table([['goal', 'target', 'measured', 'status'], ...goals]));
  const failed = [
    r.idleLatency,
    r.backlog,
    r.idle,
    r.sweep,
    r.restart,
    r.restartLatency,
    r.ceiling,
    r.waveDefault,
    r.waveSpeed,
    ...(r.waveLatency ?? [NOT_RUN]).map((w) => ('latency' in w ? w.latency : w)),
    r.badCredential,
    r.memoryEnd,
  ].filter((o) => o === undefined || !o.ok).length;
  if (failed > 0)
    console.log(`\n${failed} phase(s) failed: eatr did not reach the expected state.`);
  return failed === 0;
}

function mapOutcome<T, U>(
  outcome: Outcome<T> | undefined,
  f: (t: T) => U | undefined,
  missing = 'n/a',
): Outcome<U> | undefined {
  if (outcome === undefined) return undefined;
  if (!outcome.ok) return outcome;
  const u = f(outcome.value);
  return u === undefined ? { ok: false, reason: missing } : { ok: true, value: u };
}

function status(ok: boolean | undefined): string {
  return ok === undefined ? 'n/a' : ok ? 'ok' : 'MISSED';
}

function goalRows(
  r: Results,
  ceiling: Ceiling | undefined,
  speed: Wave | { readonly unsupported: string } | undefined,
): string[][] {
  const rows: string[][] = [];
  const perSecret = value(r.waveDefault)?.requests;
  const speedWave = speed !== undefined && isWave(speed) ? speed : undefined;
  const perSpeed = speedWave?.requests;
  const per = (p: PhaseRequests | undefined) => (p === undefined ? undefined : p.total / r.n);
  const worst = Math.max(per(perSecret) ?? -1, per(perSpeed) ?? -1);
  rows.push([
    'API requests per renewed Secret',
    '≤ 1.1',
    perSecret === undefined
      ? 'n/a'
      : `${per(perSecret)?.toFixed(2) ?? ''} default` +
        (perSpeed === undefined ? '' : `, ${per(perSpeed)?.toFixed(2) ?? ''} speed`),
    status(worst < 0 ? undefined : worst <= 1.1),
  ]);
  const sweep = value(r.sweep);
  const sweepLimit = Math.floor(r.n / 500) + 5;
  rows.push([
    'sweep with nothing due',
    `0 writes, ≤ ${sweepLimit} requests`,
    sweep === undefined ? 'n/a' : `${sweep.writes} writes, ${sweep.requests.total} requests`,
    status(
      sweep === undefined ? undefined : sweep.writes === 0 && sweep.requests.total <= sweepLimit,
    ),
  ]);
  const restart = value(r.restart);
  const syncs = restart ? [...restart.jobs.byName].filter(([n]) => n !== 'sweep') : [];
  const perNamespace = syncs.reduce((a, [, c]) => a + c, 0);
  const sweeps = restart?.jobs.byName.get('sweep') ?? 0;
  rows.push([
    'per watcher restart',
    '1 sweep, 0 per-namespace jobs',
    restart === undefined
      ? 'n/a'
      : `${sweeps} sweep(s), ${perNamespace} per-namespace job(s) (watcher enqueued: ${
          [...restart.enqueued].map(([k, v]) => `${k} ${v}`).join(', ') || 'none'
        })`,
    status(restart === undefined ? undefined : sweeps === 1 && perNamespace === 0),
  ]);
  const ratio =
    speedWave !== undefined && ceiling !== undefined
      ? speedWave.perS / ceiling.updatePerS
      : undefined;
  rows.push([
    'full renewal with speed settings',
    '≥ 0.8× ceiling update/s',
    ratio !== undefined
      ? `${ratio.toFixed(2)}× (${rate(speedWave?.perS ?? 0)} vs ${rate(ceiling?.updatePerS ?? 0)})`
      : speed !== undefined && !isWave(speed)
        ? 'n/a (setting unsupported)'
        : 'n/a',
    status(ratio === undefined ? undefined : ratio >= 0.8),
  ]);
  const lat = (name: string, o: Outcome<Latency> | undefined, limit: number) => {
    const l = value(o);
    rows.push([
      `label→Secret p99 ${name}`,
      `≤ ${limit} ms`,
      l === undefined
        ? 'n/a'
        : `${fmtMs(l.p99)}${l.missing > 0 ? ` (+${l.missing} never arrived)` : ''}`,
      status(l === undefined ? undefined : l.p99 <= limit && l.missing === 0),
    ]);
  };
  lat('idle', r.idleLatency, 100);
  for (const w of r.waveLatency ?? [])
    lat(`during a renewal wave, concurrency ${w.concurrency}`, w.latency, 100);
  lat('after a watcher restart', r.restartLatency, 100);
  const memoryGoal = (
    name: string,
    o: Outcome<readonly Memory[]> | undefined,
    limits: Record<string, number>,
  ) => {
    const mem = value(o);
    const over = mem?.filter((m) => m.residentMiB > (limits[m.component] ?? Infinity));
    rows.push([
      `resident memory ${name}`,
      Object.entries(limits)
        .map(([c, l]) => `${c} ≤ ${l} MiB`)
        .join(', '),
      mem === undefined
        ? 'n/a'
        : mem.map((m) => `${m.component} ${m.residentMiB.toFixed(0)} MiB`).join(', '),
      over === undefined ? 'n/a' : status(over.length === 0),
    ]);
  };
  memoryGoal('at start', r.memoryStart, MEMORY_GOAL_MIB);
  memoryGoal(
    r.n >= 10_000 ? `at the end, N = ${r.n}` : `at the end, N = ${r.n} (the goal is for 10,000)`,
    r.memoryEnd,
    MEMORY_GOAL_MIB,
  );
  return rows;
}
