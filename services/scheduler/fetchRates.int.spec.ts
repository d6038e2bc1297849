import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { event, subjects } from '../../events/index.ts';
import { UnstorableMessageError } from '../../platform/eventStore/index.ts';
import { meta, openTestWorld, type TestWorld } from '../../test/harness.ts';
import { fetchAndAppendRates } from './fetchRates.ts';
import { exchangerateHost } from './providers/exchangerateHost.ts';
import { frankfurter } from './providers/frankfurter.ts';
import {
  capturingLogger,
  quickHttp,
  startProviderServer,
  type ProviderServer,
} from './testSupport/localProviderServer.ts';
import { RatesProviderError, type RatesProvider } from './providers/ratesProvider.ts';

let world: TestWorld;
beforeAll(async () => {
  world = await openTestWorld();
});
afterAll(async () => world?.close());

let server: ProviderServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const clock = () => new Date('2026-11-02T17:00:00.000Z');
const latest = (date: string) =>
  `{"amount":1.0,"base":"EUR","date":"${date}","rates":{"USD":1.0825,"JPY":151.123456789012345,"GBP":0.1,"BTC":1e-7}}`;

async function serveFrankfurter(date: string) {
  server = await startProviderServer([{ body: latest(date) }]);
  return frankfurter({ baseUrl: server.url, http: quickHttp, logger: world.logger });
}

const deps = (provider: ReturnType<typeof frankfurter>) => ({
  provider,
  store: world.store,
  ns: world.ns,
  logger: world.logger,
  now: clock,
});

describe('fetchAndAppendRates on real JetStream', () => {
  it('appends one RatesFetched whose payload keeps the exact decimal strings', async () => {
    const provider = await serveFrankfurter('2026-11-02');
    const result = await fetchAndAppendRates(deps(provider));
    const subject = subjects.rates(world.ns, 'frankfurter', '2026-11-02');
    expect(result).toEqual({ seq: expect.any(Number), duplicate: false, subject, asOf: '2026-11-02' });
    const { history, lastSeq } = await world.store.load(subject);
    expect(lastSeq).toBe(result.seq);
    expect(history).toHaveLength(1);
    expect(history[0]!.events).toEqual([
      event('RatesFetched', {
        provider: 'frankfurter',
        base: 'EUR',
        asOf: '2026-11-02',
        fetchedAt: '2026-11-02T17:00:00.000Z',
        rates: { EUR: '1', USD: '1.0825', JPY: '151.123456789012345', GBP: '0.1', BTC: '0.0000001' },
      }),
    ]);
    expect(history[0]!.meta.correlationId).toBe('rates-frankfurter-2026-11-02');
  });

  it('stores nothing new for a second fetch of the same publication', async () => {
    const provider = await serveFrankfurter('2026-11-03');
    const first = await fetchAndAppendRates(deps(provider));
    const before = await world.store.lastSeq();
    const second = await fetchAndAppendRates(deps(provider));
    expect(second).toEqual({ ...first, duplicate: true });
    expect(await world.store.lastSeq()).toBe(before);
    expect((await world.store.load(first.subject)).history).toHaveLength(1);
  });

  it('stores nothing new for a publication of the same rates date at another time (a provider whose asOf is a time)', async () => {
    const at = (timestamp: number) =>
      `{"success":true,"timestamp":${timestamp},"source":"USD","quotes":{"USDEUR":0.92,"USDJPY":150.5}}`;
    // 2026-11-05 08:00 and 16:00 UTC: one rates date, two publication times; then the next day.
    server = await startProviderServer([{ body: at(1793865600) }, { body: at(1793894400) }, { body: at(1793952000) }]);
    const provider = exchangerateHost({ baseUrl: server.url, apiKey: 'k', http: quickHttp, logger: world.logger });
    const morning = await fetchAndAppendRates(deps(provider));
    const afternoon = await fetchAndAppendRates(deps(provider));
    const nextDay = await fetchAndAppendRates(deps(provider));
    expect(morning).toMatchObject({ duplicate: false, asOf: '2026-11-05T080000Z' });
    expect(afternoon).toMatchObject({ duplicate: true, seq: morning.seq, subject: morning.subject });
    expect(nextDay).toMatchObject({ duplicate: false, asOf: '2026-11-06T080000Z' });
    expect(morning.subject).toBe(subjects.rates(world.ns, 'exchangerate-host', '2026-11-05'));
    expect((await world.store.load(morning.subject)).history[0]!.events[0]!.data).toMatchObject({
      asOf: '2026-11-05T080000Z',
    });
  });

  it('treats a publication stored long ago (beyond the duplicate window) as already stored', async () => {
    const provider = await serveFrankfurter('2026-11-04');
    const subject = subjects.rates(world.ns, 'frankfurter', '2026-11-04');
    const stored = event('RatesFetched', {
      provider: 'frankfurter',
      base: 'EUR',
      asOf: '2026-11-04',
      fetchedAt: '2026-11-04T17:00:00Z',
      rates: { EUR: '1', USD: '1.08' },
    });
    const { seq } = await world.store.append(subject, [stored], {
      expectedSeq: 0,
      msgId: 'an-expired-msg-id',
      meta: meta(),
    });
    const result = await fetchAndAppendRates(deps(provider));
    expect(result).toEqual({ seq, duplicate: true, subject, asOf: '2026-11-04' });
    expect((await world.store.load(subject)).history).toHaveLength(1);
  });

  it('stores exactly one message when several schedulers fetch at once', async () => {
    server = await startProviderServer([{ body: latest('2026-11-05') }]);
    const url = server.url;
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        fetchAndAppendRates(deps(frankfurter({ baseUrl: url, http: quickHttp, logger: world.logger }))),
      ),
    );
    expect(server.requests).toHaveLength(5);
    expect(new Set(results.map((r) => r.seq)).size).toBe(1);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect((await world.store.load(results[0]!.subject)).history).toHaveLength(1);
  });

  it('appends nothing when the provider fails, logs why without the key, and throws a typed error', async () => {
    server = await startProviderServer([
      {
        body: '{"success":false,"error":{"code":101,"type":"missing_access_key","info":"You have not supplied an API Access Key."}}',
      },
    ]);
    const { logger, lines } = capturingLogger();
    const provider = exchangerateHost({ baseUrl: server.url, apiKey: 'k3y-123', http: quickHttp, logger });
    const before = await world.store.lastSeq();
    const error = await fetchAndAppendRates({ provider, store: world.store, ns: world.ns, logger, now: clock }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RatesProviderError);
    expect(await world.store.lastSeq()).toBe(before);
    const line = lines.find((l) => l.level === 50);
    expect(line).toMatchObject({
      provider: 'exchangerate-host',
      url: `${server.url}/live?access_key=***&source=USD`,
      kind: 'provider-error',
      reason: 'the provider refused: error 101 missing_access_key You have not supplied an API Access Key.',
    });
    expect(JSON.stringify(lines)).not.toContain('k3y-123');
  });

  it('gives up at once on a publication bigger than the server takes, rather than offering it again for 15 minutes', async () => {
    const { logger, lines } = capturingLogger();
    const rates = { USD: `1${'0'.repeat(world.nc.info!.max_payload)}` };
    const provider: RatesProvider = {
      name: 'frankfurter',
      url: 'test://rates',
      fetchLatest: async () => ({ provider: 'frankfurter', base: 'EUR', asOf: '2026-11-09', rates }),
    };
    const before = await world.store.lastSeq();
    const started = Date.now();
    const error = await fetchAndAppendRates({
      provider,
      store: world.store,
      ns: world.ns,
      logger,
      now: () => new Date(),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnstorableMessageError);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(lines.filter((l) => l.msg === 'storing rates failed; retrying')).toEqual([]);
    expect(await world.store.lastSeq()).toBe(before);
  });
});
