/**
 * The id of the job a BullMQ worker error is about when Redis no longer holds that job or its lock
 * (BullMQ's "Missing key for job X. cmd" and "Missing lock for job X. cmd"); undefined for any other
 * error.
 */
export function lostJobId(error: Error): string | undefined {
  return /^Missing (?:key|lock) for job (\S+)\. /.exec(error.message)?.[1];
}
