import type { Queue } from 'bullmq';
import { LogMessage, describeError, enqueueCredentialSweep, type Logger } from '@eatr/core';

/**
 * Turns a change of a credential Secret, as this renewer's own watch of the host namespace sees it,
 * into one credential sweep (the renewers compare the keys' digest with each Secret's
 * eatr.io/credentials-version and sync only the namespaces whose token must change). Every renewer
 * sees the change: the queue folds their requests into one sweep (a second one at most, when the
 * first already runs). Requests go out one after another, so a later version is never overtaken.
 */
export class CredentialSweeps {
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly queue: Queue,
    private readonly log: Logger,
  ) {}

  request(registry: string, resourceVersion: string): void {
    this.log.info({ registry, resourceVersion }, LogMessage.credentialChanged);
    this.pending = this.pending.then(async () => {
      try {
        await enqueueCredentialSweep(this.queue, resourceVersion);
      } catch (error) {
        // The next scheduled sweep finds the change too; say so rather than lose it quietly.
        this.log.warn(
          { registry, err: describeError(error) },
          'could not enqueue the credential sweep; the scheduled sweep will pick the change up',
        );
      }
    });
  }
}
