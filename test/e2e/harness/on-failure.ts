import { cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { describeCluster } from '../support/kube.js';

/**
 * After a failed e2e test, before anything else runs (the config bails after one failure): the
 * cluster's state is printed and every container log on the node (/var/log/pods, a tmpfs inside
 * the node's namespaces) is copied to the run folder, which node.sh copies out for a failed run.
 */
afterEach(async (context) => {
  if (context.task.result?.state !== 'fail') return;
  console.error(await describeCluster());
  const runDir = process.env.EATR_E2E_RUN_DIR;
  if (runDir === undefined) return;
  const target = join(runDir, 'pod-logs', context.task.name.slice(0, 60).replace(/[^\w.-]+/g, '-'));
  await mkdir(target, { recursive: true });
  await cp('/var/log/pods', target, { recursive: true }).catch((error: unknown) => {
    console.error(`[e2e] could not copy /var/log/pods: ${(error as Error).message}`);
  });
  console.error(
    `[e2e] container logs copied for the failed test (node.sh keeps them: EATR_E2E_LOGS)`,
  );
});
