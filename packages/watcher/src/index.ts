export { Watcher, type WatcherOptions } from './watcher.js';
export { LeaseElector, type LeaseElectorOptions } from './leader/lease-elector.js';
export { ResilientWatch, type ResilientWatchOptions } from './watch/resilient-watch.js';
