import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjects } from '../../events/index.ts';
import { openTestWorld, type TestWorld } from '../../test/harness.ts';
import { startScheduler } from './main.ts';
import { startProviderServer } from './testSupport/localProviderServer.ts';

let world: TestWorld;
beforeAll(async () => {
  world = await openTestWorld();
});
afterAll(async () => world?.close());

describe('startScheduler', () => {
  it('fetches on its schedule and stores each publication once, however many ticks see it', async () => {
    const server = await startProviderServer([
      { body: '{"amount":1.0,"base":"EUR","date":"2026-11-06","rates":{"USD":1.0825}}' },
    ]);
    const scheduler = startScheduler({
      config: {
        RATES_PROVIDER: 'frankfurter',
        RATES_URL: server.url,
        RATES_API_KEY: undefined,
        RATES_SCHEDULE: '* * * * * *',
      },
      store: world.store,
      logger: world.logger,
    });
    try {
      const deadline = Date.now() + 8_000;
      while (server.requests.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await scheduler.stop();
      await server.close();
    }
    expect(server.requests.length).toBeGreaterThanOrEqual(2);
    const { history } = await world.store.load(subjects.rates(world.ns, 'frankfurter', '2026-11-06'));
    expect(history).toHaveLength(1);
    expect(history[0]!.events[0]!.data).toMatchObject({ asOf: '2026-11-06', rates: { EUR: '1', USD: '1.0825' } });
  });
});
