import { BatchedLookup } from '../../../platform/batchedLookup.ts';
import { tablesIn, type Pool } from '../../../platform/postgres.ts';
import type { AlertPolicyFacts } from './alertDecider.ts';

type FactsRow = { user_id: string; active_alerts: number; latest_run: string | null };
type RunRow = { base: string; currencies: string[] | null };
type Known = { activeAlerts: number; readAt: number };

/** How long a user's count of alerts and the latest run, as read, stand for the read models. */
export const FACTS_KEPT_MS = 2_000;

export type AlertPolicyFactsSource = {
  facts: (userId: string) => Promise<AlertPolicyFacts>;
  /** This service stored an AlertSet (+1) or AlertDeleted (-1) of the user's: counted at once, not at the next read. */
  counted: (userId: string, change: 1 | -1) => void;
};

/**
 * The facts SetAlert is decided against, from the projector's read models. They live on other subjects than the
 * alert's (the user's other alerts, the runs), and the log has no index to count a user's alerts by, so the read
 * models are where they are kept, and they are as fresh as the projector.
 *
 * A read of them stands for FACTS_KEPT_MS, and the alerts this service sets or deletes meanwhile are counted into it
 * at once: a user's submits one after another are held to the cap however far the projector lags. Submits decided at
 * the same moment, or on other instances within FACTS_KEPT_MS, can pass it by what is in flight. Reads are batched:
 * under load one round trip answers many users (platform/batchedLookup.ts), each user's count and the latest run's
 * sequence; the run's currencies are read again only when that sequence moves. A read per SetAlert halved the
 * service's throughput (bench: command-append).
 */
export function alertPolicyFacts(pool: Pool, schema: string, clock: () => number = Date.now): AlertPolicyFactsSource {
  const t = tablesIn(schema);
  const known = new Map<string, Known>();
  let run: { seq: string | null; currencies: readonly string[] | undefined; readAt: number } | undefined;

  const currenciesOf = async (seq: string | null, readAt: number) => {
    if (run?.seq !== seq) {
      const r = await pool.query<RunRow>(
        `SELECT r.base, (SELECT array_agg(x.currency) FROM ${t('rates')} x WHERE x.run_seq = r.run_seq) AS currencies
         FROM ${t('rate_runs')} r WHERE r.run_seq = $1`,
        [seq],
      );
      run = { seq, currencies: runCurrencies(r.rows[0]), readAt };
    } else run = { ...run, readAt };
    return run.currencies;
  };

  const read = new BatchedLookup<string, AlertPolicyFacts>(async (userIds) => {
    const readAt = clock();
    const r = await pool.query<FactsRow>(
      `SELECT asked.user_id, (SELECT max(run_seq) FROM ${t('rate_runs')})::text AS latest_run,
              (SELECT count(*) FROM ${t('alerts')} a WHERE a.user_id = asked.user_id AND a.deleted_seq IS NULL)::int
                AS active_alerts
       FROM (SELECT DISTINCT unnest($1::text[]) AS user_id) asked`,
      [userIds],
    );
    const latestRunCurrencies = await currenciesOf(r.rows[0]?.latest_run ?? null, readAt);
    for (const row of r.rows) {
      known.delete(row.user_id); // to the back of the map's order, with the newest reads
      known.set(row.user_id, { activeAlerts: row.active_alerts, readAt });
    }
    forgetOlderThan(readAt - FACTS_KEPT_MS);
    return userIds.map((userId) => ({ activeAlerts: known.get(userId)!.activeAlerts, latestRunCurrencies }));
  });

  const forgetOlderThan = (cutoff: number) => {
    // Entries go in read order, so the stale ones are at the front.
    for (const [userId, entry] of known) {
      if (entry.readAt >= cutoff) break;
      known.delete(userId);
    }
  };

  return {
    facts: (userId) => {
      const now = clock();
      const entry = known.get(userId);
      if (entry && run && now - entry.readAt < FACTS_KEPT_MS && now - run.readAt < FACTS_KEPT_MS)
        return Promise.resolve({ activeAlerts: entry.activeAlerts, latestRunCurrencies: run.currencies });
      return read.lookup(userId);
    },
    counted: (userId, change) => {
      const entry = known.get(userId);
      if (entry) entry.activeAlerts += change;
    },
  };
}

// The provider's base currency has the rate 1 whether or not the provider lists it (docs/design.md §4); no run yet: undefined.
function runCurrencies(row: RunRow | undefined): readonly string[] | undefined {
  return row === undefined ? undefined : [...new Set([...(row.currencies ?? []), row.base])];
}
