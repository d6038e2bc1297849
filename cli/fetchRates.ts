import type { Config } from '../platform/config.ts';
import type { Logger } from '../platform/logger.ts';
import { fetchAndAppendRates } from '../services/scheduler/fetchRates.ts';
import { createProvider } from '../services/scheduler/providers/createProvider.ts';
import { RatesProviderError } from '../services/scheduler/providers/ratesProvider.ts';
import { openConnections } from './connect.ts';
import { findInfrastructure } from './runtime.ts';

/** `cra fetch-rates`: fetch now and append RatesFetched; exit 0 once it is stored (or already was). */
export async function fetchRatesCommand(config: Config, logger: Logger): Promise<number> {
  const provider = createProvider(config, { logger });
  const conn = await openConnections(config, await findInfrastructure(config), logger, 'cra-fetch-rates');
  try {
    const result = await fetchAndAppendRates({
      provider,
      store: conn.store,
      ns: conn.ns,
      logger,
      now: () => new Date(),
    });
    process.stdout.write(
      `${result.duplicate ? 'already stored' : 'appended'}: RatesFetched ${provider.name} ${result.asOf} at sequence ${result.seq}\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof RatesProviderError) {
      process.stderr.write(`cra: fetching rates from ${error.provider} failed: ${error.reason}\n`);
      return 1;
    }
    throw error;
  } finally {
    await conn.close();
  }
}
