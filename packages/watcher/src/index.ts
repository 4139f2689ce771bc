export { Watcher, type WatcherOptions } from './watcher.js';
export { LeaseElector, type LeaseElectorOptions } from './leader/lease-elector.js';
