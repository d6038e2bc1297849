import type { Namespace } from '../events/index.ts';
import type { EventStore } from '../platform/eventStore/index.ts';
import type { Logger } from '../platform/logger.ts';
import type { Pool } from '../platform/postgres.ts';
import { waitForProjection } from '../platform/projectionWait.ts';
import { fetchAndAppendRates, type FetchRatesResult } from '../services/scheduler/fetchRates.ts';

type Log = { store: Pick<EventStore, 'append' | 'load'>; ns: Namespace; logger: Logger };

/** When the scheduler fetched a publication of `asOf`: after the ECB's publication that day, or now. */
const fetchedAt = (asOf: string) => (/^\d{4}-\d{2}-\d{2}$/.test(asOf) ? new Date(`${asOf}T16:05:00.000Z`) : new Date());

/**
 * A run of these rates, recorded exactly as the scheduler records a publication (the frankfurter provider, EUR as
 * its base at 1 unless given): the one way every spec makes a run. The same `asOf` again is the same run.
 */
export function appendRun(log: Log, asOf: string, rates: Record<string, string>): Promise<FetchRatesResult> {
  return fetchAndAppendRates({
    provider: {
      name: 'frankfurter',
      url: 'test://rates',
      fetchLatest: async () => ({ provider: 'frankfurter', base: 'EUR', asOf, rates: { EUR: '1', ...rates } }),
    },
    ...log,
    now: () => fetchedAt(asOf),
  });
}

/** A run of these rates, once the read models hold it (what pages and the alert rules read); its stream sequence. */
export async function projectedRun(
  world: Log & { pool: Pool; schema: string },
  asOf: string,
  rates: Record<string, string>,
): Promise<number> {
  const { seq } = await appendRun(world, asOf, rates);
  await waitForProjection(world.pool, world.schema, seq, 5_000);
  return seq;
}
