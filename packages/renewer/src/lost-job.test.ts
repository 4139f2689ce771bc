import { describe, expect, it } from 'vitest';
import { lostJobId } from './lost-job.js';

describe('lostJobId', () => {
  it.each([
    ['Missing key for job sync-a-1. moveToFinished', 'sync-a-1'],
    ['Missing lock for job sync-b-2. moveToFinished', 'sync-b-2'],
    ['Missing key for parent job bull:q:p. moveToFinished', undefined],
    ['Connection is closed.', undefined],
    ['Missing key for job sync-c-3', undefined],
  ])('%s -> %s', (message, jobId) => {
    expect(lostJobId(new Error(message))).toBe(jobId);
  });
});
