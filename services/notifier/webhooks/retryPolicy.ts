import type { EventData } from '../../../events/index.ts';
import type { PostResult } from '../../../platform/webhookHttp/guardedPost.ts';
import { defaultRetryPolicy, retryAfterFailure, type RetryPolicy } from '../retryPolicy.ts';

export { defaultRetryPolicy, type RetryPolicy };

type Attempt = Pick<EventData<'WebhookAttempted'>, 'outcome' | 'status' | 'detail' | 'retryAt'>;

/** Retry-After in seconds or as an HTTP date, in milliseconds from `now`; undefined when it says neither. */
export function retryAfterMs(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d{1,9}$/.test(value.trim())) return Number(value.trim()) * 1_000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

/**
 * What one attempt's result means (pure: the clock and the dice passed in). 2xx: delivered. A timeout, a connection
 * that failed, 408, 429 and 5xx: tried again after the policy's backoff (../retryPolicy.ts), or later if Retry-After
 * asks so; past `giveUpAfterMs` from the first attempt: expired. Any other answer (another 4xx,
 * a redirect, which is never followed) and an address the SSRF guard refuses: rejected, not retried.
 */
export function attemptOutcome(
  result: PostResult,
  attempt: number,
  times: { now: Date; firstAttemptAt: Date },
  policy: RetryPolicy = defaultRetryPolicy,
  random: () => number = Math.random,
): Attempt {
  if (!result.answered && result.reason === 'refused destination')
    return { outcome: 'rejected', detail: result.detail.slice(0, 200) };
  const status = result.answered ? result.status : undefined;
  if (status !== undefined && status >= 200 && status < 300)
    return { outcome: 'delivered', status, detail: `HTTP ${status}` };
  const transient = status === undefined || status === 408 || status === 429 || status >= 500;
  const detail = status === undefined ? (result as { detail: string }).detail : `HTTP ${status}`;
  if (!transient)
    return {
      outcome: 'rejected',
      status,
      detail: status >= 300 && status < 400 ? `HTTP ${status}: redirects are not followed` : detail,
    };
  const asked = result.answered ? retryAfterMs(result.retryAfter, times.now) : undefined;
  const retry = retryAfterFailure(attempt, times, policy, random, asked);
  if (retry === 'expired') return { outcome: 'expired', ...(status ? { status } : {}), detail };
  return { outcome: 'retry', ...(status ? { status } : {}), detail, retryAt: retry.retryAt };
}
