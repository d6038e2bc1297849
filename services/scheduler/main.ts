import type { Config } from '../../platform/config.ts';
import type { EventStore } from '../../platform/eventStore/index.ts';
import type { Logger } from '../../platform/logger.ts';
import { fetchAndAppendRates, type FetchRatesResult } from './fetchRates.ts';
import { createProvider } from './providers/createProvider.ts';
import { RatesProviderError, type HttpPolicy } from './providers/ratesProvider.ts';
import { startSchedule } from './schedule.ts';

export type SchedulerDeps = {
  config: Pick<Config, 'RATES_PROVIDER' | 'RATES_URL' | 'RATES_API_KEY' | 'RATES_SCHEDULE'>;
  store: EventStore;
  logger: Logger;
  now?: () => Date;
  http?: Partial<HttpPolicy>;
  /** Fetch once right away too (harmless: the same publication is the same run), so a fresh start has rates. */
  fetchOnStart?: boolean;
  hooks?: { onStored?: (result: FetchRatesResult) => void; onProviderError?: (error: RatesProviderError) => void };
};

/** The scheduler service: on RATES_SCHEDULE, fetch the provider's rates and append them as one RatesFetched. */
export function startScheduler({
  config,
  store,
  logger: parent,
  now = () => new Date(),
  http,
  fetchOnStart = false,
  hooks,
}: SchedulerDeps): { stop: () => Promise<void> } {
  const logger = parent.child({ service: 'scheduler' });
  const provider = createProvider(config, { logger, http });
  const stopping = new AbortController();
  const run = () =>
    fetchAndAppendRates({ provider, store, ns: store.ns, logger, now, signal: stopping.signal }).then(
      (result) => hooks?.onStored?.(result),
      (error: unknown) => {
        if (!(error instanceof RatesProviderError)) throw error; // already logged with its provider and URL
        hooks?.onProviderError?.(error);
      },
    );
  const stopSchedule = startSchedule({ cron: config.RATES_SCHEDULE, logger, run });
  const first = fetchOnStart
    ? run().catch((error: unknown) => logger.error({ err: error }, 'first rates fetch failed'))
    : Promise.resolve();
  return {
    stop: async () => {
      stopping.abort();
      await Promise.all([stopSchedule(), first]);
    },
  };
}
