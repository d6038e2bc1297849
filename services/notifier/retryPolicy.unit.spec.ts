import { describe, expect, it } from 'vitest';
import { emailRetryPolicy, retryAfterFailure } from './retryPolicy.ts';

const firstAttemptAt = new Date('2026-11-27T12:00:00.000Z');
const waitAfter = (attempt: number, now: Date, random: number, askedMs?: number) => {
  const retry = retryAfterFailure(attempt, { now, firstAttemptAt }, emailRetryPolicy, () => random, askedMs);
  return retry === 'expired' ? retry : Date.parse(retry.retryAt) - now.getTime();
};

describe('when a delivery that failed for now is tried again', () => {
  it('doubles the wait each time, half of it fixed and half at random, up to the cap', () => {
    expect(waitAfter(1, firstAttemptAt, 0)).toBe(2_500);
    expect(waitAfter(1, firstAttemptAt, 0.999_999)).toBeCloseTo(5_000, -1);
    expect(waitAfter(2, firstAttemptAt, 0)).toBe(5_000);
    expect(waitAfter(5, firstAttemptAt, 1)).toBe(80_000);
    expect(waitAfter(40, firstAttemptAt, 1)).toBe(emailRetryPolicy.capMs);
  });

  it('waits longer when the other side asks so', () => {
    expect(waitAfter(1, firstAttemptAt, 0, 120_000)).toBe(120_000);
  });

  it('gives up once the next try would fall past the bound from the first attempt', () => {
    const late = new Date(firstAttemptAt.getTime() + emailRetryPolicy.giveUpAfterMs - 60_000);
    expect(waitAfter(3, late, 0)).toBe(10_000);
    expect(waitAfter(20, late, 0)).toBe('expired');
  });
});
