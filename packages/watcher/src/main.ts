#!/usr/bin/env node
import { createLogger, loadConfig, runProcess } from '@eatr/core';
import { Watcher } from './watcher.js';

await runProcess({
  name: 'eatr-watcher',
  loadConfig: () => loadConfig('watcher', process.argv.slice(2)),
  shutdownTimeoutMs: (config) => config.shutdownTimeoutMs,
  createLogger: (config) => createLogger('watcher', config.logLevel),
  start: (config, log) => Watcher.start(config, log),
});
