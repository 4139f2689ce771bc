import type { Cli } from '../context.js';
import type { Check } from '../doctor-model.js';
import { humanDuration } from '../output.js';
import { watcherStatus } from '../status.js';
import { fail, ok } from './check.js';

/** A watcher leads: someone holds the Lease and still renews it. */
export async function leaseCheck(cli: Cli): Promise<Check> {
  const w = await watcherStatus(cli);
  if (w.error !== undefined)
    return fail('watcher-lease', `Lease ${w.lease} unreadable: ${w.error}`, 'see the RBAC checks');
  if (w.holder === undefined)
    return fail(
      'watcher-lease',
      `no watcher holds the Lease ${w.lease}`,
      'start eatr-watcher (or eatr run); check --lease-name and --leader-election-namespace match it',
    );
  const ago =
    w.renewedAt === undefined
      ? ''
      : ` (renewed ${humanDuration(Date.now() - Date.parse(w.renewedAt))} ago)`;
  return w.fresh
    ? ok('watcher-lease', `watcher leader ${w.holder}${ago}`)
    : fail(
        'watcher-lease',
        `watcher leader ${w.holder} stopped renewing the Lease${ago}`,
        'see the watcher pods (kubectl logs); a standby takes over once it lapses',
      );
}
