/**
 * CPU time used per process kind on this machine, read from /proc (utime + stime of every process
 * whose command line names one of the kinds below), so a phase can say where the machine's cores
 * went: the API server and etcd, Redis, eatr's processes, or the benchmark itself.
 */
import { readFile, readdir } from 'node:fs/promises';
import { requestDelta } from '../harness/api-requests.js';

const KINDS: readonly [string, RegExp][] = [
  ['kube-apiserver', /kube-apiserver/],
  ['etcd', /(^|\/)etcd(\s|$)/],
  ['redis', /redis-server/],
  ['renewer', /renewer\/dist\/main\.js/],
  ['watcher', /watcher\/dist\/main\.js/],
  ['benchmark', /test\/bench\/run\.ts/],
];

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100;

export type CpuSnapshot = ReadonlyMap<string, number>;

/** CPU seconds used so far by each kind's live processes (and their sum under `all`). */
export async function cpuSnapshot(): Promise<CpuSnapshot> {
  const out = new Map<string, number>();
  for (const pid of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(pid)) continue;
    const [cmdline, stat] = await Promise.all([
      readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''),
      readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''),
    ]);
    const kind = KINDS.find(([, pattern]) => pattern.test(cmdline.replaceAll('\0', ' ')))?.[0];
    if (kind === undefined || stat === '') continue;
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const seconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
    out.set(kind, (out.get(kind) ?? 0) + seconds);
  }
  return out;
}

/** CPU seconds each kind used between two snapshots (processes that ended meanwhile are missed). */
export function cpuUsed(before: CpuSnapshot, after: CpuSnapshot): Map<string, number> {
  return requestDelta(after, before); // the same positive difference of two counter readings
}

/** `kube-apiserver 3.1 s, etcd 0.9 s, …` (largest first). */
export function describeCpu(used: ReadonlyMap<string, number>): string {
  return (
    [...used]
      .sort((a, b) => b[1] - a[1])
      .map(([kind, s]) => `${kind} ${s.toFixed(1)} s`)
      .join(', ') || 'none'
  );
}
