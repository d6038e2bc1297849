import { setTimeout as sleep } from 'node:timers/promises';
import { event, isRatesEvent, ratesDateOf, subjects, type Namespace, type RatesEvent } from '../../events/index.ts';
import { decideAndAppend, UnstorableMessageError, type EventStore } from '../../platform/eventStore/index.ts';
import type { Logger } from '../../platform/logger.ts';
import { RatesProviderError, type RatesProvider, type RatesPublication } from './providers/ratesProvider.ts';

export type FetchRatesDeps = {
  provider: RatesProvider;
  store: Pick<EventStore, 'append' | 'load'>;
  ns: Namespace;
  logger: Logger;
  now: () => Date;
  signal?: AbortSignal;
  /** How long a fetched publication keeps being offered to a log that cannot take it (NATS down). */
  storeForMs?: number;
};

const STORE_FOR_MS = 15 * 60_000;
const backoffMs = (attempt: number) => Math.min(30_000, 500 * 2 ** attempt);

export type FetchRatesResult = {
  /** Stream sequence of the stored RatesFetched for this publication (ours or the one already there). */
  seq: number;
  /** True when this publication was already stored: the same run, nothing new appended. */
  duplicate: boolean;
  subject: string;
  asOf: string;
};

/**
 * Fetch the provider's latest publication and append it as one RatesFetched run. The subject is one per provider and
 * rates date (the date of `asOf`) and must be empty (expectedSeq 0), so racing schedulers and refetches store a date's
 * rates exactly once: a fetch whose rates date equals a stored run's is that run, not a new one, even where the
 * provider's asOf is a time (exchangerate-host's quotes move all day; open-er-api's publication time).
 * A provider failure is logged and rethrown as RatesProviderError; nothing is appended.
 */
export async function fetchAndAppendRates({
  provider,
  store,
  ns,
  logger,
  now,
  signal,
  storeForMs = STORE_FOR_MS,
}: FetchRatesDeps): Promise<FetchRatesResult> {
  let publication: RatesPublication;
  try {
    publication = await provider.fetchLatest(signal);
  } catch (error) {
    const failure =
      error instanceof RatesProviderError
        ? error
        : new RatesProviderError(
            provider.name,
            provider.url,
            'bad-response',
            error instanceof Error ? error.message : String(error),
            { cause: error },
          );
    const level = failure.kind === 'aborted' ? 'warn' : 'error';
    logger[level](
      { provider: failure.provider, url: failure.url, kind: failure.kind, reason: failure.reason },
      `rates fetch from ${failure.provider} failed: ${failure.reason}`,
    );
    throw failure;
  }

  const { asOf } = publication;
  // One run per rates date (docs/design.md §4b): a publication of a date stored already is that run, whatever its time.
  const ratesDate = ratesDateOf(asOf) ?? asOf;
  const subject = subjects.rates(ns, publication.provider, ratesDate);
  const msgId = `rates-${publication.provider}-${ratesDate}`;
  const fetchedAt = now().toISOString();
  const log = { provider: publication.provider, asOf, subject, currencies: Object.keys(publication.rates).length };
  // A publication fetched while the log is unreachable is not lost until the next schedule: it is offered again
  // (same message id, same expected sequence, so it is stored once) until the log takes it or time runs out.
  const giveUpAt = now().getTime() + storeForMs;
  const fetched = event('RatesFetched', { ...publication, fetchedAt });
  for (let attempt = 0; ; attempt++) {
    try {
      // The subject is new, or another scheduler (or an earlier run) stored this publication: the same run, so success.
      const { seq, duplicate } = await decideAndAppend<{ seq: number; duplicate: boolean }, RatesEvent>(
        store,
        subject,
        {
          accepts: isRatesEvent,
          meta: { occurredAt: fetchedAt, correlationId: msgId, causationId: msgId },
          attempts: 2,
          assumed: { events: [], lastSeq: 0 },
          decide: ({ lastSeq }) =>
            lastSeq > 0
              ? { answer: { seq: lastSeq, duplicate: true } }
              : { append: [fetched], msgId, appended: (stored) => stored },
        },
      );
      logger.info({ ...log, seq, duplicate }, duplicate ? 'rates already stored' : 'rates appended');
      return { seq, duplicate, subject, asOf };
    } catch (error) {
      const wait = backoffMs(attempt);
      // Too big for the server, or refused by its schema: offering it again cannot help.
      if (error instanceof UnstorableMessageError || signal?.aborted || now().getTime() + wait > giveUpAt) throw error;
      logger.warn({ ...log, err: error, attempt: attempt + 1, retryInMs: wait }, 'storing rates failed; retrying');
      await sleep(wait, undefined, signal ? { signal } : {}).catch(() => {
        throw error; // stopped while waiting
      });
    }
  }
}
