import { afterEach, describe, expect, it } from 'vitest';
import { eventSchemas } from '../../../events/index.ts';
import { createProvider } from './createProvider.ts';
import { frankfurter } from './frankfurter.ts';
import {
  capturingLogger,
  quickHttp,
  startProviderServer,
  type ProviderServer,
} from '../testSupport/localProviderServer.ts';
import { describeProviderTransport } from '../testSupport/providerContract.ts';
import { RatesProviderError } from './ratesProvider.ts';

// The documented format, with decimals a float would change and entries that must be dropped.
const latest = `{"amount":1.0,"base":"EUR","date":"2026-11-02","rates":{
  "USD":1.0825,"JPY":151.123456789012345,"GBP":0.1,"CHF":0.9400,"BTC":1e-7,"SEK":1.15E1,"XXX":0,"ZZZ":-3.2,"ABC":"n/a"}}`;

describe('frankfurter', () => {
  let server: ProviderServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('reads the latest ECB rates as exact decimal strings, EUR at 1', async () => {
    server = await startProviderServer([{ body: latest }]);
    const { logger, lines } = capturingLogger();
    const provider = createProvider(
      { RATES_PROVIDER: 'frankfurter', RATES_URL: `${server.url}/`, RATES_API_KEY: undefined },
      { logger },
    );
    const publication = await provider.fetchLatest();
    expect(server.requests).toEqual(['/latest?base=EUR']);
    expect(publication).toEqual({
      provider: 'frankfurter',
      base: 'EUR',
      asOf: '2026-11-02',
      rates: {
        EUR: '1',
        USD: '1.0825',
        JPY: '151.123456789012345',
        GBP: '0.1',
        CHF: '0.9400',
        BTC: '0.0000001',
        SEK: '11.5',
      },
    });
    expect(eventSchemas.RatesFetched.safeParse({ ...publication, fetchedAt: '2026-11-02T17:00:00Z' }).success).toBe(
      true,
    );
    const warnings = lines.filter((l) => l.msg.startsWith('dropped rate'));
    expect(warnings.map((l) => [l.key, l.reason])).toEqual([
      ['XXX', 'not positive'],
      ['ZZZ', 'not positive'],
      ['ABC', 'not a number'],
    ]);
    expect(warnings.every((l) => l.level === 40 && l.provider === 'frankfurter')).toBe(true);
  });

  it('reports its error body clearly, without retrying', async () => {
    server = await startProviderServer([{ status: 404, body: '{"message":"not found"}' }]);
    const error = await frankfurter({ baseUrl: server.url, http: quickHttp, logger: capturingLogger().logger })
      .fetchLatest()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RatesProviderError);
    expect((error as RatesProviderError).kind).toBe('provider-error');
    expect((error as Error).message).toBe(
      `frankfurter rates from ${server.url}/latest?base=EUR failed: the provider refused: not found`,
    );
    expect(server.requests).toHaveLength(1);
  });

  it('refuses a date that is not a date', async () => {
    server = await startProviderServer([
      { body: '{"base":"EUR","date":"2026-11-02T16:00:00.000Z","rates":{"USD":1.08}}' },
    ]);
    const error = await frankfurter({ baseUrl: server.url, http: quickHttp, logger: capturingLogger().logger })
      .fetchLatest()
      .catch((e: unknown) => e);
    expect((error as RatesProviderError).reason).toMatch(/date must be a date like 2026-11-02/);
  });

  describeProviderTransport({
    make: (baseUrl, http, logger) => frankfurter({ baseUrl, http, logger }),
    success: latest,
  });
});
