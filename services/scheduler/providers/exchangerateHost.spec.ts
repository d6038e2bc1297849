import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../platform/config.ts';
import { eventSchemas } from '../../../events/index.ts';
import { createProvider } from './createProvider.ts';
import { exchangerateHost } from './exchangerateHost.ts';
import {
  capturingLogger,
  quickHttp,
  startProviderServer,
  type ProviderServer,
} from '../testSupport/localProviderServer.ts';
import { describeProviderTransport } from '../testSupport/providerContract.ts';
import { RatesProviderError } from './ratesProvider.ts';

const KEY = 's3cret-key&x=1';

const live = `{"success":true,"terms":"https://exchangerate.host/terms","privacy":"https://exchangerate.host/privacy",
  "timestamp":1793635200,"source":"USD","quotes":{"USDEUR":0.923800,"USDJPY":151.123456789012345,"USDGBP":0.1,
  "USDBTC":1.4e-5,"USDUSD":1,"EURUSD":1.08,"USDXAG":-1}}`;

const missingKey =
  '{"success":false,"error":{"code":101,"type":"missing_access_key","info":"You have not supplied an API Access Key. [Required format: access_key=YOUR_ACCESS_KEY]"}}';

describe('exchangerate-host', () => {
  let server: ProviderServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const make = (baseUrl: string) =>
    exchangerateHost({ baseUrl, apiKey: KEY, http: quickHttp, logger: capturingLogger().logger });

  it('reads live quotes of USD as exact decimal strings, USD at 1, asOf from the timestamp', async () => {
    server = await startProviderServer([{ body: live }]);
    const { logger, lines } = capturingLogger();
    const provider = createProvider(
      { RATES_PROVIDER: 'exchangerate-host', RATES_URL: server.url, RATES_API_KEY: KEY },
      { logger },
    );
    const publication = await provider.fetchLatest();
    expect(server.requests).toEqual([`/live?access_key=${encodeURIComponent(KEY)}&source=USD`]);
    expect(publication).toEqual({
      provider: 'exchangerate-host',
      base: 'USD',
      asOf: '2026-11-02T160000Z',
      rates: { USD: '1', EUR: '0.923800', JPY: '151.123456789012345', GBP: '0.1', BTC: '0.000014' },
    });
    expect(eventSchemas.RatesFetched.safeParse({ ...publication, fetchedAt: '2026-11-02T17:00:00Z' }).success).toBe(
      true,
    );
    expect(lines.filter((l) => l.msg.startsWith('dropped rate')).map((l) => l.key)).toEqual(['EURUSD', 'USDXAG']);
    expect(provider.url).toBe(`${server.url}/live?access_key=***&source=USD`);
  });

  it('turns an error body into an error naming code, type and info, without retrying or leaking the key', async () => {
    server = await startProviderServer([{ body: missingKey }]);
    const error = await make(server.url)
      .fetchLatest()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RatesProviderError);
    const failure = error as RatesProviderError;
    expect(failure.kind).toBe('provider-error');
    expect(failure.message).toContain('error 101 missing_access_key You have not supplied an API Access Key');
    expect(failure.message).toContain(`${server.url}/live?access_key=***&source=USD`);
    expect(failure.message).not.toContain('s3cret');
    expect(server.requests).toHaveLength(1);
  });

  it('reads an error body even when it comes with a 4xx status', async () => {
    server = await startProviderServer([
      {
        status: 401,
        body: '{"success":false,"error":{"code":101,"type":"invalid_access_key","info":"You have not supplied a valid API Access Key."}}',
      },
    ]);
    const error = (await make(server.url)
      .fetchLatest()
      .catch((e: unknown) => e)) as RatesProviderError;
    expect(error.reason).toBe(
      'the provider refused: error 101 invalid_access_key You have not supplied a valid API Access Key.',
    );
    expect(server.requests).toHaveLength(1);
  });

  it('needs RATES_API_KEY, and says so before any request', async () => {
    server = await startProviderServer([{ body: live }]);
    const { url } = server;
    expect(() =>
      createProvider(
        { RATES_PROVIDER: 'exchangerate-host', RATES_URL: url, RATES_API_KEY: undefined },
        { logger: capturingLogger().logger },
      ),
    ).toThrow(
      new ConfigError('Invalid environment variable RATES_API_KEY: required when RATES_PROVIDER is exchangerate-host'),
    );
    expect(server.requests).toHaveLength(0);
  });

  it('refuses a timestamp that is not whole seconds', async () => {
    server = await startProviderServer([
      { body: '{"success":true,"timestamp":"yesterday","source":"USD","quotes":{"USDEUR":0.92}}' },
    ]);
    const error = (await make(server.url)
      .fetchLatest()
      .catch((e: unknown) => e)) as RatesProviderError;
    expect(error.kind).toBe('bad-response');
    expect(error.reason).toMatch(/timestamp must be a number/);
  });

  describeProviderTransport({
    make: (baseUrl, http, logger) => exchangerateHost({ baseUrl, apiKey: KEY, http, logger }),
    success: live,
  });
});
