// `eatr run`: the watcher and a renewer in one process, with one metrics port: how the seed
// controller ran (`./eatr -auth-token-renewal-interval 20s ...`), for a laptop or a small cluster.
// Accepts the settings of both components. It lives in the CLI (not the watcher) so the watcher
// package does not depend on the renewer.
import {
  BUILD_INFO,
  HealthServer,
  buildConfig,
  createLogger,
  createRegistry,
  parseFlags,
  runProcess,
  withEnvironment,
} from '@eatr/core';
import { Renewer } from '@eatr/renewer';
import { Watcher } from '@eatr/watcher';

export async function runAllInOne(argv: readonly string[]): Promise<void> {
  await runProcess({
    name: 'eatr',
    loadConfig: () => {
      // One set of settings for both components, read by the watcher's parser so that a Go-style
      // -help (which main.ts does not catch) still lists the watcher's settings.
      const { values, sources } = withEnvironment(parseFlags('watcher', argv));
      return {
        watcher: buildConfig('watcher', values, sources),
        renewer: buildConfig('renewer', values, sources),
      };
    },
    shutdownTimeoutMs: (config) => config.renewer.shutdownTimeoutMs,
    createLogger: (config) => createLogger('eatr', config.watcher.logLevel),
    start: async (config, log) => {
      const registry = createRegistry('all-in-one', BUILD_INFO);
      // One logger per component (not children of `log`, which would repeat the `component` key).
      const renewer = await Renewer.start(
        config.renewer,
        createLogger('renewer', config.renewer.logLevel),
        { registry, serveHealth: false },
      );
      const watcher = await Watcher.start(
        config.watcher,
        createLogger('watcher', config.watcher.logLevel),
        { registry, serveHealth: false },
      );
      const health = await HealthServer.start({
        host: config.watcher.metrics.host,
        port: config.watcher.metrics.port,
        registry,
        isReady: () => watcher.isReady && renewer.isReady,
      });
      log.info(
        {
          version: BUILD_INFO.version,
          commit: BUILD_INFO.commit,
          metricsPort: health.port,
          components: ['watcher', 'renewer'],
        },
        'eatr running',
      );
      let closing: Promise<void> | undefined;
      return {
        close: () =>
          (closing ??= (async () => {
            await watcher.close();
            await renewer.close();
            await health.close();
          })()),
      };
    },
  });
}
