import { z } from 'zod';
import { asOfFromUnixSeconds } from './asOf.ts';
import { collectRates } from './decimalRates.ts';
import { endpoint, fetchPublication, type ReadPublication } from './providerHttp.ts';
import { currencyCode, rateEntries, readProviderBody, unixSeconds } from './providerResponse.ts';
import type { AdapterOptions, RatesProvider } from './ratesProvider.ts';

export const OPEN_ER_API_URL = 'https://open.er-api.com/v6';

// GET /latest/USD → {"result":"success","time_last_update_unix":…,"base_code":"USD","rates":{"USD":1,"EUR":0.96,…}}
const Latest = z.object({
  result: z.literal('success'),
  time_last_update_unix: unixSeconds,
  base_code: currencyCode,
  rates: rateEntries,
});

// {"result":"error","error-type":"unsupported-code"}
const ErrorBody = z.object({ result: z.literal('error'), 'error-type': z.string().optional() });

export const readOpenErApi: ReadPublication = (status, text) => {
  const latest = readProviderBody(status, text, {
    errorOf: (json) => {
      const body = ErrorBody.safeParse(json);
      return body.success ? (body.data['error-type'] ?? 'unspecified error') : undefined;
    },
    success: Latest,
  });
  const { rates, dropped } = collectRates(latest.rates, latest.base_code);
  return {
    publication: {
      provider: 'open-er-api',
      base: latest.base_code,
      asOf: asOfFromUnixSeconds(latest.time_last_update_unix),
      rates,
    },
    dropped,
  };
};

export function openErApi(options: AdapterOptions): RatesProvider {
  const url = endpoint(options.baseUrl ?? OPEN_ER_API_URL, '/latest/USD');
  return {
    name: 'open-er-api',
    url,
    fetchLatest: (signal) =>
      fetchPublication({ provider: 'open-er-api', url, safeUrl: url }, readOpenErApi, { ...options, signal }),
  };
}
