import { event, subjects, type Namespace } from '../../events/index.ts';
import { ConcurrencyError, type EventStore } from '../../platform/eventStore.ts';
import type { Logger } from '../../platform/logger.ts';
import { RatesProviderError, type RatesProvider, type RatesPublication } from './providers/ratesProvider.ts';

export type FetchRatesDeps = {
  provider: RatesProvider;
  store: Pick<EventStore, 'append' | 'lastSeqOf'>;
  ns: Namespace;
  logger: Logger;
  now: () => Date;
  signal?: AbortSignal;
};

export type FetchRatesResult = {
  /** Stream sequence of the stored RatesFetched for this publication (ours or the one already there). */
  seq: number;
  /** True when this publication was already stored: the same run, nothing new appended. */
  duplicate: boolean;
  subject: string;
  asOf: string;
};

/**
 * Fetch the provider's latest publication and append it as one RatesFetched run. The subject is one per
 * publication and must be empty (expectedSeq 0), so racing schedulers and refetches store it exactly once.
 * A provider failure is logged and rethrown as RatesProviderError; nothing is appended.
 */
export async function fetchAndAppendRates({ provider, store, ns, logger, now, signal }: FetchRatesDeps): Promise<FetchRatesResult> {
  let publication: RatesPublication;
  try {
    publication = await provider.fetchLatest(signal);
  } catch (error) {
    const failure =
      error instanceof RatesProviderError
        ? error
        : new RatesProviderError(provider.name, provider.url, 'bad-response', error instanceof Error ? error.message : String(error), { cause: error });
    const level = failure.kind === 'aborted' ? 'warn' : 'error';
    logger[level]({ provider: failure.provider, url: failure.url, kind: failure.kind, reason: failure.reason }, `rates fetch from ${failure.provider} failed: ${failure.reason}`);
    throw failure;
  }

  const { asOf } = publication;
  const subject = subjects.rates(ns, publication.provider, asOf);
  const msgId = `rates-${publication.provider}-${asOf}`;
  const fetchedAt = now().toISOString();
  const log = { provider: publication.provider, asOf, subject, currencies: Object.keys(publication.rates).length };
  try {
    const { seq, duplicate } = await store.append(subject, [event('RatesFetched', { ...publication, fetchedAt })], {
      expectedSeq: 0,
      msgId,
      meta: { occurredAt: fetchedAt, correlationId: msgId, causationId: msgId },
    });
    logger.info({ ...log, seq, duplicate }, duplicate ? 'rates already stored' : 'rates appended');
    return { seq, duplicate, subject, asOf };
  } catch (error) {
    if (!(error instanceof ConcurrencyError)) throw error;
    // Another scheduler (or an earlier run) stored this publication: the same run, so this is success.
    const seq = await store.lastSeqOf(subject);
    logger.info({ ...log, seq, duplicate: true }, 'rates already stored');
    return { seq, duplicate: true, subject, asOf };
  }
}
