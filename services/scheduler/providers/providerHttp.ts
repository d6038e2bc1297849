import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../../platform/logger.ts';
import { snippet, UnusableResponse } from './providerResponse.ts';
import {
  defaultHttpPolicy,
  RatesProviderError,
  type HttpPolicy,
  type ProviderName,
  type RatesPublication,
} from './ratesProvider.ts';
import type { CollectedRates } from './decimalRates.ts';

/** One provider endpoint: the real URL (may hold the key), the one safe to log, and the secret to scrub. */
export type ProviderRequest = {
  provider: ProviderName;
  url: string;
  safeUrl: string;
  secret?: string | undefined;
};

/** Read a provider answer into a publication; pure, throws UnusableResponse. */
export type ReadPublication = (
  status: number,
  text: string,
) => { publication: RatesPublication } & Pick<CollectedRates, 'dropped'>;

/** A documented path appended to RATES_URL (or the provider's default base), whatever its trailing slashes. */
export function endpoint(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${path}`;
}

/** GET the endpoint (with timeout and retries), read the answer, log the entries it had to drop. */
export async function fetchPublication(
  request: ProviderRequest,
  read: ReadPublication,
  options: { http?: Partial<HttpPolicy> | undefined; logger: Logger; signal?: AbortSignal | undefined },
): Promise<RatesPublication> {
  const response = await getWithRetry(
    request,
    { ...defaultHttpPolicy, ...options.http },
    options.logger,
    options.signal,
  );
  let result: ReturnType<ReadPublication>;
  try {
    result = read(response.status, response.text);
  } catch (error) {
    if (!(error instanceof UnusableResponse)) throw error;
    // Not retried: an error body (missing key, bad currency) or a malformed answer comes back the same way.
    throw new RatesProviderError(request.provider, request.safeUrl, error.kind, scrub(error.reason, request), {
      cause: error,
    });
  }
  for (const d of result.dropped) {
    options.logger.warn(
      { provider: request.provider, url: request.safeUrl, key: d.key, value: d.value, reason: d.reason },
      `dropped rate ${d.key}: ${d.reason}`,
    );
  }
  // A run of the base currency alone would become the latest run and leave nothing to set alerts on.
  if (Object.keys(result.publication.rates).every((c) => c === result.publication.base)) {
    throw new RatesProviderError(
      request.provider,
      request.safeUrl,
      'bad-response',
      `no usable rate in the answer (${result.dropped.length} dropped)`,
    );
  }
  return result.publication;
}

type HttpAnswer = { status: number; text: string };

export async function getWithRetry(
  request: ProviderRequest,
  policy: HttpPolicy,
  logger: Logger,
  signal?: AbortSignal,
): Promise<HttpAnswer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await getOnce(request, policy.timeoutMs, signal);
    } catch (error) {
      if (!(error instanceof RatesProviderError) || !error.retryable) throw error;
      if (attempt >= policy.attempts) {
        throw new RatesProviderError(
          request.provider,
          request.safeUrl,
          error.kind,
          `${error.reason} (after ${attempt} attempts)`,
          { cause: error },
        );
      }
      const delayMs = policy.backoffMs * 2 ** (attempt - 1);
      logger.warn(
        {
          provider: request.provider,
          url: request.safeUrl,
          attempt,
          attempts: policy.attempts,
          reason: error.reason,
          retryInMs: delayMs,
        },
        'rates request failed, will retry',
      );
      try {
        await sleep(delayMs, undefined, signal ? { signal } : {});
      } catch (abort) {
        throw new RatesProviderError(request.provider, request.safeUrl, 'aborted', 'stopped while waiting to retry', {
          cause: abort,
        });
      }
    }
  }
}

async function getOnce(request: ProviderRequest, timeoutMs: number, signal?: AbortSignal): Promise<HttpAnswer> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const fail = (
    kind: 'network' | 'timeout' | 'http-status' | 'aborted',
    reason: string,
    retryable: boolean,
    cause?: unknown,
  ) => new RatesProviderError(request.provider, request.safeUrl, kind, scrub(reason, request), { retryable, cause });
  try {
    const response = await fetch(request.url, {
      headers: { accept: 'application/json' },
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const text = await response.text(); // inside the timeout too: a body that stalls halfway is a timeout
    // 5xx, 408 and 429 are the server's trouble and may pass; other statuses are read as the answer.
    if (response.status >= 500 || response.status === 408 || response.status === 429) {
      throw fail('http-status', `HTTP ${response.status}: ${snippet(text)}`, true);
    }
    return { status: response.status, text };
  } catch (error) {
    if (error instanceof RatesProviderError) throw error;
    if (signal?.aborted) throw fail('aborted', 'stopped by the caller', false, error);
    if (timeout.aborted) throw fail('timeout', `no complete answer within ${timeoutMs} ms`, true, error);
    throw fail('network', describeNetworkError(error), true, error);
  }
}

/** undici says only "fetch failed"; the useful part (ECONNREFUSED, ENOTFOUND, …) is in its cause. */
function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: string; message?: string } | undefined;
  const detail = cause?.code ?? cause?.message;
  return detail ? `${error.message} (${detail})` : error.message;
}

function scrub(text: string, request: ProviderRequest): string {
  const masked = text.replaceAll(request.url, request.safeUrl);
  return request.secret ? masked.replaceAll(request.secret, '***') : masked;
}
