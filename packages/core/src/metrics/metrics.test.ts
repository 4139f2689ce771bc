import { describe, expect, it } from 'vitest';
import { createRegistry } from './metrics.js';

describe('createRegistry', () => {
  it('exports eatr_build_info = 1 labelled with the component, version and commit', async () => {
    const registry = createRegistry('renewer', { version: '0.2.0', commit: '1a2b3c4d5e6f' });
    const metric = registry.getSingleMetric('eatr_build_info');
    expect(metric).toBeDefined();
    expect((await metric?.get())?.values).toEqual([
      { labels: { component: 'renewer', version: '0.2.0', commit: '1a2b3c4d5e6f' }, value: 1 },
    ]);
  });

  it('gives each registry its own eatr_build_info (a process, or a test, owns one)', async () => {
    const watcher = createRegistry('watcher', { version: '0.2.0', commit: 'unknown' });
    createRegistry('all-in-one', { version: '0.2.0', commit: 'unknown' });
    expect((await watcher.getSingleMetric('eatr_build_info')?.get())?.values).toEqual([
      { labels: { component: 'watcher', version: '0.2.0', commit: 'unknown' }, value: 1 },
    ]);
  });
});
