import { request, type RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import { describeError, VersionApi } from '@eatr/core';
import type { Cli } from '../context.js';
import { MAX_SKEW_MS, type Check } from '../doctor-model.js';
import { fail, ok } from './check.js';
import { judgeKubernetesVersion } from './kubernetes-version.js';

/** The API server answers, and which Kubernetes it runs (then judged against the supported range). */
export async function apiServerCheck(cli: Cli): Promise<Check[]> {
  const server = cli.kc.getCurrentCluster()?.server ?? '(no cluster in the kubeconfig)';
  try {
    const version = await cli.kc.makeApiClient(VersionApi).getCode();
    return [
      ok('api-server', `API server ${server} reachable (Kubernetes ${version.gitVersion})`),
      judgeKubernetesVersion(version),
    ];
  } catch (error) {
    return [
      fail(
        'api-server',
        `API server ${server} not reachable: ${describeError(error)}`,
        'check --kubeconfig / KUBECONFIG and --context, and that the cluster is up (kubectl version)',
      ),
    ];
  }
}

/** The API server's clock, from the Date header of GET /version. */
async function serverDate(cli: Cli): Promise<number> {
  const server = cli.kc.getCurrentCluster()?.server;
  if (!server) throw new Error('no cluster in the kubeconfig');
  const url = new URL('/version', server);
  const options: RequestOptions = { method: 'GET' };
  await cli.kc.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? request : httpRequest)(url, options, (res) => {
      res.resume();
      const date = Date.parse(res.headers.date ?? '');
      if (Number.isNaN(date)) reject(new Error('no Date header in the reply'));
      else resolve(date);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
    req.once('error', reject);
    req.end();
  });
}

/** This machine's clock agrees with the API server's (eatr judges expiry and Leases by time). */
export async function clockCheck(cli: Cli): Promise<Check> {
  try {
    const before = Date.now();
    const server = await serverDate(cli);
    const after = Date.now();
    // The header has whole seconds: compare with the middle of the request, allow its rounding.
    const skew = server - (before + after) / 2;
    const text = `${skew >= 0 ? '+' : '-'}${(Math.abs(skew) / 1000).toFixed(1)} s`;
    return Math.abs(skew) <= MAX_SKEW_MS + 1000
      ? ok('clock-skew', `clock within ${text} of the API server's`)
      : fail(
          'clock-skew',
          `this machine's clock is ${text} off the API server's`,
          'synchronise clocks with NTP (chrony, systemd-timesyncd); eatr judges expiry and Leases by time',
        );
  } catch (error) {
    return fail(
      'clock-skew',
      `cannot read the API server's clock: ${describeError(error)}`,
      'see the API server check',
    );
  }
}
