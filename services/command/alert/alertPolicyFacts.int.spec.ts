import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tablesIn } from '../../../platform/postgres.ts';
import { openTestWorld, type TestWorld } from '../../../test/harness.ts';
import { migrateSchema } from '../../projector/projector.ts';
import { alertPolicyFacts, FACTS_KEPT_MS } from './alertPolicyFacts.ts';

let world: TestWorld;
let t: ReturnType<typeof tablesIn>;
let now = 1_000_000;
const clock = () => now;

/** Rows as the projector writes them: an alert of the user's, a run with its rates. */
const addAlert = (userId: string, alertId: string) =>
  world.pool.query(
    `INSERT INTO ${t('alerts')} (alert_id, user_id, base, quote, threshold, threshold_text, set_seq, set_at, active_seq, armed_seq)
     VALUES ($1, $2, 'EUR', 'USD', 1.1, '1.1', 1, now(), 1, 1)`,
    [alertId, userId],
  );
const addRun = async (runSeq: number, currencies: string[]) => {
  await world.pool.query(
    `INSERT INTO ${t('rate_runs')} (run_seq, provider, base, as_of, fetched_at) VALUES ($1, 'frankfurter', 'EUR', $2, now())`,
    [runSeq, `day-${runSeq}`],
  );
  for (const c of currencies)
    await world.pool.query(`INSERT INTO ${t('rates')} (run_seq, currency, rate) VALUES ($1, $2, 1.5)`, [runSeq, c]);
};

beforeAll(async () => {
  world = await openTestWorld();
  await migrateSchema(world.pool, world.schema);
  t = tablesIn(world.schema);
});
afterAll(async () => world?.close());

describe("SetAlert's facts from the read models", () => {
  it("counts a user's alerts and names the latest run's currencies with its base; none before the first run", async () => {
    const source = alertPolicyFacts(world.pool, world.schema, clock);
    expect(await source.facts('nobody')).toEqual({ activeAlerts: 0, latestRunCurrencies: undefined });
    await addRun(10, ['USD', 'JPY']);
    await addAlert('ann', 'ann1');
    await addAlert('ann', 'ann2');
    now += FACTS_KEPT_MS;
    const [ann, bob] = await Promise.all([source.facts('ann'), source.facts('bob')]);
    expect(ann.activeAlerts).toBe(2);
    expect(bob.activeAlerts).toBe(0);
    expect([...(ann.latestRunCurrencies ?? [])].sort()).toEqual(['EUR', 'JPY', 'USD']);
  });

  it('keeps what it read for FACTS_KEPT_MS, then reads again, a newer run included', async () => {
    const source = alertPolicyFacts(world.pool, world.schema, clock);
    expect((await source.facts('cid')).activeAlerts).toBe(0);
    await addAlert('cid', 'cid1');
    await addRun(11, ['USD', 'GBP']);
    now += FACTS_KEPT_MS - 1;
    expect(await source.facts('cid')).toMatchObject({ activeAlerts: 0 });
    now += 1;
    const fresh = await source.facts('cid');
    expect(fresh.activeAlerts).toBe(1);
    expect([...(fresh.latestRunCurrencies ?? [])].sort()).toEqual(['EUR', 'GBP', 'USD']);
  });

  it('counts the alerts this service set or deleted at once, before the read models have them', async () => {
    const source = alertPolicyFacts(world.pool, world.schema, clock);
    expect((await source.facts('dee')).activeAlerts).toBe(0);
    source.counted('dee', 1);
    source.counted('dee', 1);
    expect((await source.facts('dee')).activeAlerts).toBe(2);
    source.counted('dee', -1);
    expect((await source.facts('dee')).activeAlerts).toBe(1);
    // The next read is the read models' word again.
    now += FACTS_KEPT_MS;
    expect((await source.facts('dee')).activeAlerts).toBe(0);
  });
});
