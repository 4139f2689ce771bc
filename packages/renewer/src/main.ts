#!/usr/bin/env node
import { createLogger, loadConfig, runProcess } from '@eatr/core';
import { Renewer } from './renewer.js';

await runProcess({
  name: 'eatr-renewer',
  loadConfig: () => loadConfig('renewer', process.argv.slice(2)),
  shutdownTimeoutMs: (config) => config.shutdownTimeoutMs,
  createLogger: (config) => createLogger('renewer', config.logLevel),
  start: (config, log) => Renewer.start(config, log),
});
