import { describe, expect, it } from 'vitest';
import { parseRedisMemory, redisMemoryRatio } from './redis-memory.js';

const info = (used: string, max: string) =>
  `# Memory\r\nused_memory:${used}\r\nused_memory_human:1.00M\r\nmaxmemory:${max}\r\nmaxmemory_human:200.00M\r\nmaxmemory_policy:noeviction\r\n`;

describe('parseRedisMemory', () => {
  it.each([
    ['a limit', info('1048576', '209715200'), { usedBytes: 1048576, maxBytes: 209715200 }, 0.005],
    [
      'no limit (maxmemory 0)',
      info('1048576', '0'),
      { usedBytes: 1048576, maxBytes: undefined },
      undefined,
    ],
    ['no used_memory', '# Memory\r\n', undefined, undefined],
  ])('%s', (_name, reply, memory, ratio) => {
    const parsed = parseRedisMemory(reply);
    expect(parsed).toEqual(memory);
    if (parsed) expect(redisMemoryRatio(parsed)).toBe(ratio);
  });

  it('does not take used_memory_rss or used_memory_peak for used_memory', () => {
    const reply = 'used_memory_rss:9\r\nused_memory_peak:8\r\nused_memory:7\r\nmaxmemory:70\r\n';
    expect(parseRedisMemory(reply)).toEqual({ usedBytes: 7, maxBytes: 70 });
  });
});
