import type { RatesProvider as ProviderName } from '../../../events/index.ts';
import type { Logger } from '../../../platform/logger.ts';

export type { ProviderName };

/** One publication of rates as its provider published it: decimal strings, the provider's own base at "1". */
export type RatesPublication = {
  provider: ProviderName;
  base: string;
  /** Subject-safe id of the publication (a date or a UTC date-time); the same asOf is the same run. */
  asOf: string;
  rates: Record<string, string>;
};

/** One adapter per provider (docs/design.md §7). */
export interface RatesProvider {
  readonly name: ProviderName;
  /** The endpoint it fetches, with any API key masked: safe to log. */
  readonly url: string;
  fetchLatest(signal?: AbortSignal): Promise<RatesPublication>;
}

/** How patient a provider request is; tests shrink every number. */
export type HttpPolicy = {
  /** Budget of one attempt, from sending the request to the last byte of the body. */
  timeoutMs: number;
  attempts: number;
  /** Wait before the 2nd attempt; doubles before each later one. */
  backoffMs: number;
};

export const defaultHttpPolicy: HttpPolicy = { timeoutMs: 10_000, attempts: 3, backoffMs: 500 };

export type AdapterOptions = {
  /** RATES_URL: the base the provider's documented paths are appended to. */
  baseUrl?: string | undefined;
  http?: Partial<HttpPolicy> | undefined;
  logger: Logger;
};

export type FailureKind = 'network' | 'timeout' | 'http-status' | 'provider-error' | 'bad-response' | 'aborted';

/** Fetching rates failed; `reason` is one human line, `url` never holds the API key. */
export class RatesProviderError extends Error {
  override readonly name = 'RatesProviderError';
  /** Worth another attempt: the network, a timeout or the provider's server failed, not the request. */
  readonly retryable: boolean;

  constructor(
    readonly provider: ProviderName,
    readonly url: string,
    readonly kind: FailureKind,
    readonly reason: string,
    options: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super(`${provider} rates from ${url} failed: ${reason}`, { cause: options.cause });
    this.retryable = options.retryable ?? false;
  }
}
