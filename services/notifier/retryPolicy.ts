/**
 * How a delivery that failed for now (an email, services/notifier/emailDelivery.ts; a webhook, webhooks/retryPolicy.ts)
 * is tried again: exponential backoff from `baseMs`, each wait at most `capMs`, given up `giveUpAfterMs` after its
 * first attempt.
 */
export type RetryPolicy = { baseMs: number; capMs: number; giveUpAfterMs: number };

/** Webhooks: the first retry after 5–10 s, then twice as long each time up to an hour, for 24 h. */
export const defaultRetryPolicy: RetryPolicy = { baseMs: 10_000, capMs: 60 * 60_000, giveUpAfterMs: 24 * 60 * 60_000 };

/**
 * Emails: as webhooks, from a shorter first wait (2.5–5 s, what a mail server's brief outage needs), for 24 h. A mail
 * server that greylists (451) asks for minutes: the waits reach them by the sixth try.
 */
export const emailRetryPolicy: RetryPolicy = { ...defaultRetryPolicy, baseMs: 5_000 };

/**
 * When attempt number `attempt` (1 for the first), which failed for now at `times.now`, is tried again (pure: the clock
 * and the dice passed in): after an exponential backoff with full jitter (half fixed, half random), or later if the
 * other side asked for `askedMs`; `expired` once that would be past `giveUpAfterMs` from the first attempt.
 */
export function retryAfterFailure(
  attempt: number,
  times: { now: Date; firstAttemptAt: Date },
  policy: RetryPolicy,
  random: () => number,
  askedMs?: number,
): { retryAt: string } | 'expired' {
  const backoff = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt - 1, 30));
  const jittered = backoff / 2 + random() * (backoff / 2);
  const retryAt = times.now.getTime() + Math.max(jittered, askedMs ?? 0);
  if (retryAt - times.firstAttemptAt.getTime() > policy.giveUpAfterMs) return 'expired';
  return { retryAt: new Date(retryAt).toISOString() };
}
