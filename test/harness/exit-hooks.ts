/**
 * Synchronous clean-up that must run however this process ends (normal exit, uncaught error,
 * Ctrl-C, SIGTERM), so that no server the harness started outlives the test run.
 *
 * Only synchronous work is possible on `exit`: hooks kill with SIGKILL and remove folders with rmSync.
 */

type Hook = () => void;

const hooks = new Set<Hook>();
let installed = false;

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function runHooks(): void {
  for (const hook of [...hooks].reverse()) {
    hooks.delete(hook);
    try {
      hook();
    } catch {
      // Best effort: one failing hook must not keep the others from running.
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  runHooks();
  // Adding a listener disables Node's default "exit on signal". When nobody else (vitest) handles
  // the signal, restore the default and re-raise it so the process still ends as it should.
  const others = process.listeners(signal).filter((l) => l !== onSignal);
  if (others.length === 0) {
    for (const s of SIGNALS) process.removeListener(s, onSignal);
    process.kill(process.pid, signal);
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runHooks);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

/** Runs `hook` when this process exits, unless the returned function is called first. */
export function onProcessExit(hook: Hook): () => void {
  install();
  hooks.add(hook);
  return () => {
    hooks.delete(hook);
  };
}
