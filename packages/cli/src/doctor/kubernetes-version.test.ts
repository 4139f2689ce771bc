import { describe, expect, it } from 'vitest';
import { judgeKubernetesVersion } from './kubernetes-version.js';

describe('judgeKubernetesVersion', () => {
  it.each<[string, string, boolean, string]>([
    ['1', '34', true, 'is supported (1.25+; tested on 1.34)'],
    ['1', '30+', true, 'is supported'],
    ['1', '28', true, "below 1.30 the chart's admission policies cannot be installed"],
    ['1', '37', true, 'newer than the versions eatr is tested on (1.34)'],
    ['1', '24', false, 'older than 1.25, the oldest eatr supports'],
    ['2', '0', false, 'cannot tell the Kubernetes version'],
  ])('%s.%s: ok=%s', (major, minor, good, text) => {
    const check = judgeKubernetesVersion({ major, minor, gitVersion: `v${major}.${minor}.0` });
    expect(check.ok).toBe(good);
    expect(check.message).toContain(text);
  });
});
