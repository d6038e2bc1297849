import { match } from 'ts-pattern';
import { ConfigError, type Config } from '../../../platform/config.ts';
import { exchangerateHost } from './exchangerateHost.ts';
import { frankfurter } from './frankfurter.ts';
import { openErApi } from './openErApi.ts';
import type { AdapterOptions, RatesProvider } from './ratesProvider.ts';

export type ProviderConfig = Pick<Config, 'RATES_PROVIDER' | 'RATES_URL' | 'RATES_API_KEY'>;

/** The adapter RATES_PROVIDER names, pointed at RATES_URL when set. A missing key fails here, before any request. */
export function createProvider(config: ProviderConfig, options: Omit<AdapterOptions, 'baseUrl'>): RatesProvider {
  const adapter = { ...options, baseUrl: config.RATES_URL };
  return match(config.RATES_PROVIDER)
    .with('frankfurter', () => frankfurter(adapter))
    .with('open-er-api', () => openErApi(adapter))
    .with('exchangerate-host', () => {
      if (!config.RATES_API_KEY) {
        throw new ConfigError(
          'Invalid environment variable RATES_API_KEY: required when RATES_PROVIDER is exchangerate-host',
        );
      }
      return exchangerateHost({ ...adapter, apiKey: config.RATES_API_KEY });
    })
    .exhaustive();
}
