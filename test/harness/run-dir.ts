import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  writeFileSync(join(path, OWNER_FILE), `${process.pid}\n`);
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
    try {
      owner = Number.parseInt(readFileSync(join(path, OWNER_FILE), 'utf8'), 10);
    } catch {
      continue; // Not ours, or being created right now.
    }
    if (Number.isInteger(owner) && !isAlive(owner)) rmSync(path, { recursive: true, force: true });
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
