import { z } from 'zod';
import { collectRates } from './decimalRates.ts';
import { endpoint, fetchPublication, type ReadPublication } from './providerHttp.ts';
import { currencyCode, rateEntries, readProviderBody } from './providerResponse.ts';
import type { AdapterOptions, RatesProvider } from './ratesProvider.ts';

export const FRANKFURTER_URL = 'https://api.frankfurter.dev/v1';

// GET /latest?base=EUR → {"amount":1.0,"base":"EUR","date":"2026-11-02","rates":{"USD":1.08,…}} (ECB data, no key)
const Latest = z.object({
  base: currencyCode,
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2026-11-02'),
  rates: rateEntries,
});

// Its errors look like {"message":"not found"}.
const ErrorBody = z.object({ message: z.string() });

export const readFrankfurter: ReadPublication = (status, text) => {
  const latest = readProviderBody(status, text, {
    errorOf: (json) => (Latest.safeParse(json).success ? undefined : ErrorBody.safeParse(json).data?.message),
    success: Latest,
  });
  const { rates, dropped } = collectRates(latest.rates, latest.base);
  return { publication: { provider: 'frankfurter', base: latest.base, asOf: latest.date, rates }, dropped };
};

export function frankfurter(options: AdapterOptions): RatesProvider {
  const url = endpoint(options.baseUrl ?? FRANKFURTER_URL, '/latest?base=EUR');
  return {
    name: 'frankfurter',
    url,
    fetchLatest: (signal) =>
      fetchPublication({ provider: 'frankfurter', url, safeUrl: url }, readFrankfurter, { ...options, signal }),
  };
}
