import { describe, expect, it } from 'vitest';
import { classifyKubeError, describeError, PermanentError } from './errors.js';

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
