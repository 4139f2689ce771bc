import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onProcessExit } from './exit-hooks.js';

const OWNER_FILE = 'owner.pid';

export interface RunDir {
  readonly path: string;
  /** Removes the folder now (also done when this process exits). Safe to call more than once. */
  remove(): void;
}

/**
 * A private temporary folder `<tmp>/<prefix>XXXXXX` for one server's files, removed when this
 * process exits. Folders of earlier runs whose process was SIGKILLed (no exit hook could run) are
 * removed first; folders of runs still alive, concurrent ones included, are left alone.
 */
export function createRunDir(prefix: string): RunDir {
  removeOrphanedDirs(prefix);
  const path = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(path, OWNER_FILE), `${process.pid}\n${pidNamespace()}\n`);
  const remove = (): void => {
    rmSync(path, { recursive: true, force: true });
  };
  const forget = onProcessExit(remove);
  return {
    path,
    remove: () => {
      remove();
      forget();
    },
  };
}

function removeOrphanedDirs(prefix: string): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(prefix)) continue;
    const path = join(tmpdir(), name);
    let owner: number;
    let namespace: string | undefined;
    try {
      const [pid, ns] = readFileSync(join(path, OWNER_FILE), 'utf8').split('\n');
      owner = Number.parseInt(pid ?? '', 10);
      namespace = ns;
    } catch {
      continue; // Not ours, or being created right now.
    }
    // A pid means something only in the PID namespace it was read in: a run inside the real-node
    // tier's namespaces must not take the host's live runs for dead ones (and the reverse).
    if (namespace && namespace !== pidNamespace()) continue;
    if (Number.isInteger(owner) && !isAlive(owner)) rmSync(path, { recursive: true, force: true });
  }
}

/** This process's PID namespace (`pid:[4026531836]`), or '' where /proc does not say. */
function pidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return '';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie is dead too (in this container PID 1 does not reap orphans).
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}
