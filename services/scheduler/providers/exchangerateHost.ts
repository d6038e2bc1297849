import { z } from 'zod';
import { asOfFromUnixSeconds } from './asOf.ts';
import { collectRates } from './decimalRates.ts';
import { endpoint, fetchPublication, type ReadPublication } from './providerHttp.ts';
import { currencyCode, jsonNumber, rateEntries, readProviderBody, unixSeconds } from './providerResponse.ts';
import type { AdapterOptions, RatesProvider } from './ratesProvider.ts';

export const EXCHANGERATE_HOST_URL = 'https://api.exchangerate.host';

// GET /live?access_key=…&source=USD → {"success":true,"timestamp":…,"source":"USD","quotes":{"USDEUR":0.92,…}}
const Live = z.object({
  success: z.literal(true),
  timestamp: unixSeconds,
  source: currencyCode,
  quotes: rateEntries,
});

// {"success":false,"error":{"code":101,"type":"missing_access_key","info":"…"}}
const ErrorBody = z.object({
  success: z.literal(false),
  error: z
    .object({
      code: z.union([jsonNumber.transform((n) => n.value), z.string()]).optional(),
      type: z.string().optional(),
      info: z.string().optional(),
    })
    .optional(),
});

export const readExchangerateHost: ReadPublication = (status, text) => {
  const live = readProviderBody(status, text, {
    errorOf: (json) => {
      const body = ErrorBody.safeParse(json);
      if (!body.success) return undefined;
      const { code, type, info } = body.data.error ?? {};
      return [code !== undefined ? `error ${code}` : 'error', type, info].filter(Boolean).join(' ');
    },
    success: Live,
  });
  // Quotes are named source + currency: "USDEUR" is the EUR rate against USD.
  const currencyOf = (key: string) => (key.length === 6 && key.startsWith(live.source) ? key.slice(3) : undefined);
  const { rates, dropped } = collectRates(live.quotes, live.source, currencyOf);
  return {
    publication: { provider: 'exchangerate-host', base: live.source, asOf: asOfFromUnixSeconds(live.timestamp), rates },
    dropped,
  };
};

export function exchangerateHost(options: AdapterOptions & { apiKey: string }): RatesProvider {
  const base = options.baseUrl ?? EXCHANGERATE_HOST_URL;
  const url = endpoint(base, `/live?access_key=${encodeURIComponent(options.apiKey)}&source=USD`);
  const safeUrl = endpoint(base, '/live?access_key=***&source=USD');
  return {
    name: 'exchangerate-host',
    url: safeUrl,
    fetchLatest: (signal) =>
      fetchPublication({ provider: 'exchangerate-host', url, safeUrl, secret: options.apiKey }, readExchangerateHost, {
        ...options,
        signal,
      }),
  };
}
