import { describe, expect, it } from 'vitest';
import { classifyKubeError, describeError, PermanentError, RetryableError } from './errors.js';

const apiError = (code: number, message = 'm') =>
  Object.assign(new Error(`HTTP-Code: ${code}`), { code, body: JSON.stringify({ message }) });

describe('classifyKubeError', () => {
  it.each([
    [404, 'gone'],
    [409, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [503, 'retry'],
    [403, 'permanent'],
    [422, 'permanent'],
  ])('HTTP %d -> %s', (code, expected) => {
    expect(classifyKubeError(apiError(code))).toBe(expected);
  });

  it('treats network errors as retryable', () => {
    expect(
      classifyKubeError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    ).toBe('retry');
  });
});

describe('describeError', () => {
  it('uses the API server message', () => {
    expect(describeError(apiError(422, 'field is immutable'))).toBe('HTTP 422: field is immutable');
  });
  it('keeps the class and context of eatr errors', () => {
    const error = new PermanentError('access denied', 'denied', { namespace: 'a', registry: 'r' });
    expect([error.errorClass, error.reason, error.context, error.name]).toEqual([
      'permanent',
      'denied',
      { namespace: 'a', registry: 'r' },
      'PermanentError',
    ]);
  });
});

describe('EatrError.withContext', () => {
  it('keeps the class, reason, message and cause, and takes the new place', () => {
    const cause = new Error('AccessDenied');
    const shared = new PermanentError('denied', 'denied', { registry: 'a.example' }, { cause });
    const mine = shared.withContext({ namespace: 'team-b', registry: 'b.example' });
    expect(mine).toBeInstanceOf(PermanentError);
    expect(mine).toMatchObject({ errorClass: 'permanent', reason: 'denied', message: 'denied' });
    expect(mine.context).toEqual({ namespace: 'team-b', registry: 'b.example' });
    expect(mine.cause).toBe(cause);
    expect(shared.context).toEqual({ registry: 'a.example' }); // the shared one is unchanged
  });

  it('keeps what the new context does not name', () => {
    const error = new RetryableError('throttled', 'throttled', { registry: 'a.example' });
    expect(error.withContext({ namespace: 'ns' }).context).toEqual({
      registry: 'a.example',
      namespace: 'ns',
    });
  });
});
