import { afterEach, describe, expect, it } from 'vitest';
import { eventSchemas } from '../../../events/index.ts';
import { createProvider } from './createProvider.ts';
import {
  capturingLogger,
  quickHttp,
  startProviderServer,
  type ProviderServer,
} from '../testSupport/localProviderServer.ts';
import { openErApi } from './openErApi.ts';
import { describeProviderTransport } from '../testSupport/providerContract.ts';
import { RatesProviderError } from './ratesProvider.ts';

const latest = `{"result":"success","provider":"https://www.exchangerate-api.com","documentation":"https://www.exchangerate-api.com/docs/free",
  "time_last_update_unix":1793664151,"time_last_update_utc":"Tue, 03 Nov 2026 00:02:31 +0000",
  "time_next_update_unix":1793751061,"time_eol_unix":0,"base_code":"USD",
  "rates":{"USD":1,"EUR":0.96,"JPY":151.123456789012345,"GBP":0.1,"CHF":0.8650,"VES":3.6510e1,"ZWL":0}}`;

describe('open-er-api', () => {
  let server: ProviderServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('reads the latest USD rates as exact decimal strings, asOf from the last update', async () => {
    server = await startProviderServer([{ body: latest }]);
    const { logger, lines } = capturingLogger();
    const provider = createProvider(
      { RATES_PROVIDER: 'open-er-api', RATES_URL: server.url, RATES_API_KEY: undefined },
      { logger },
    );
    const publication = await provider.fetchLatest();
    expect(server.requests).toEqual(['/latest/USD']);
    expect(publication).toEqual({
      provider: 'open-er-api',
      base: 'USD',
      asOf: '2026-11-03T000231Z',
      rates: { USD: '1', EUR: '0.96', JPY: '151.123456789012345', GBP: '0.1', CHF: '0.8650', VES: '36.51' },
    });
    expect(eventSchemas.RatesFetched.safeParse({ ...publication, fetchedAt: '2026-11-03T17:00:00Z' }).success).toBe(
      true,
    );
    expect(lines.filter((l) => l.msg.startsWith('dropped rate')).map((l) => l.key)).toEqual(['ZWL']);
  });

  it('turns its error body into a clear error, without retrying', async () => {
    server = await startProviderServer([{ status: 404, body: '{"result":"error","error-type":"unsupported-code"}' }]);
    const error = await openErApi({ baseUrl: server.url, http: quickHttp, logger: capturingLogger().logger })
      .fetchLatest()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RatesProviderError);
    expect((error as RatesProviderError).kind).toBe('provider-error');
    expect((error as Error).message).toBe(
      `open-er-api rates from ${server.url}/latest/USD failed: the provider refused: unsupported-code`,
    );
    expect(server.requests).toHaveLength(1);
  });

  it('refuses a success without rates', async () => {
    server = await startProviderServer([
      { body: '{"result":"success","time_last_update_unix":1793664151,"base_code":"USD","rates":{}}' },
    ]);
    const error = (await openErApi({ baseUrl: server.url, http: quickHttp, logger: capturingLogger().logger })
      .fetchLatest()
      .catch((e: unknown) => e)) as RatesProviderError;
    expect(error.kind).toBe('bad-response');
    expect(error.reason).toMatch(/rates must list at least one rate/);
  });

  describeProviderTransport({ make: (baseUrl, http, logger) => openErApi({ baseUrl, http, logger }), success: latest });
});
