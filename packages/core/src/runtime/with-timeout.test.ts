import { describe, expect, it } from 'vitest';
import { withTimeout } from './with-timeout.js';

describe('withTimeout', () => {
  it('passes through a value that arrives in time', async () => {
    await expect(withTimeout(Promise.resolve(42), 1000, 'late')).resolves.toBe(42);
  });

  it('passes through a rejection that arrives in time', async () => {
    await expect(withTimeout(Promise.reject(new Error('boom')), 1000, 'late')).rejects.toThrow(
      'boom',
    );
  });

  it('rejects with the message when the promise hangs', async () => {
    const hanging = new Promise<never>(() => undefined);
    await expect(withTimeout(hanging, 20, 'list page did not arrive')).rejects.toThrow(
      'list page did not arrive',
    );
  });
});
