import { describe, expect, it } from 'vitest';
import type { PostResult } from '../../../platform/webhookHttp/guardedPost.ts';
import { attemptOutcome, defaultRetryPolicy, retryAfterMs } from './retryPolicy.ts';

const now = new Date('2026-11-02T16:00:00.000Z');
const times = { now, firstAttemptAt: now };
const answer = (status: number, retryAfter?: string): PostResult => ({ answered: true, status, retryAfter });
const after = (retryAt: string | undefined) => Date.parse(retryAt!) - now.getTime();

describe('what an attempt comes to', () => {
  it('2xx is delivered; another 4xx, a redirect and a refused address are rejected, not retried', () => {
    expect(attemptOutcome(answer(204), 1, times)).toEqual({ outcome: 'delivered', status: 204, detail: 'HTTP 204' });
    for (const status of [400, 401, 403, 404, 410, 413, 422])
      expect(attemptOutcome(answer(status), 1, times)).toMatchObject({ outcome: 'rejected', status });
    expect(attemptOutcome(answer(302), 1, times)).toMatchObject({
      outcome: 'rejected',
      detail: /redirects are not followed/,
    });
    expect(
      attemptOutcome(
        { answered: false, reason: 'refused destination', detail: '127.0.0.1 is in the loopback range' },
        1,
        times,
      ),
    ).toEqual({ outcome: 'rejected', detail: '127.0.0.1 is in the loopback range' });
  });

  it('timeouts, failed connections, 408, 429 and 5xx are retried after a jittered exponential backoff', () => {
    const retried: PostResult[] = [
      { answered: false, reason: 'timed out', detail: 'timed out' },
      { answered: false, reason: 'connection failed', detail: 'connection failed' },
      answer(408),
      answer(429),
      answer(500),
      answer(503),
    ];
    for (const result of retried)
      expect(attemptOutcome(result, 1, times, undefined, () => 0)).toMatchObject({ outcome: 'retry' });
    // Half of the backoff is fixed, half random: attempt n waits between base·2^(n-1)/2 and base·2^(n-1).
    const wait = (attempt: number, dice: number) =>
      after(attemptOutcome(answer(503), attempt, times, undefined, () => dice).retryAt);
    expect(wait(1, 0)).toBe(5_000);
    expect(wait(1, 1)).toBe(10_000);
    expect(wait(3, 0)).toBe(20_000);
    expect(wait(3, 1)).toBe(40_000);
    expect(wait(40, 1)).toBe(defaultRetryPolicy.capMs);
  });

  it('honours Retry-After, in seconds or as a date, when it asks for longer than the backoff', () => {
    expect(after(attemptOutcome(answer(429, '120'), 1, times, undefined, () => 1).retryAt)).toBe(120_000);
    expect(
      after(attemptOutcome(answer(503, 'Mon, 02 Nov 2026 16:05:00 GMT'), 1, times, undefined, () => 1).retryAt),
    ).toBe(300_000);
    expect(after(attemptOutcome(answer(429, '1'), 1, times, undefined, () => 1).retryAt)).toBe(10_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });

  it('gives up 24 hours after the first attempt: a retry that would fall later is expired', () => {
    const late = { now: new Date(now.getTime() + 24 * 3_600_000 - 1_000), firstAttemptAt: now };
    expect(attemptOutcome(answer(503), 12, late, undefined, () => 0)).toEqual({
      outcome: 'expired',
      status: 503,
      detail: 'HTTP 503',
    });
    expect(attemptOutcome(answer(429, '999999'), 1, times)).toMatchObject({ outcome: 'expired' });
  });
});
