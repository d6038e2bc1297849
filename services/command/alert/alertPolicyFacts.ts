import { BatchedLookup } from '../../../platform/batchedLookup.ts';
import { tablesIn, type Pool } from '../../../platform/postgres.ts';
import type { AlertPolicyFacts } from './alertDecider.ts';

type FactsRow = { user_id: string; active_alerts: number; base: string | null; currencies: string[] | null };

/**
 * The facts SetAlert is decided against, from the projector's read models. They live on other subjects than the
 * alert's (the user's other alerts, the runs), and the log has no index to count a user's alerts by, so the read
 * models are where they are kept. They are as fresh as the projector: a user racing their own submits at the cap can
 * pass it by what is in flight, as when the web checked it. Under load one round trip answers the SetAlerts of many
 * users (platform/batchedLookup.ts), since a round trip each would bound the service's throughput (bench: command-append).
 */
export function alertPolicyFactsReader(pool: Pool, schema: string): (userId: string) => Promise<AlertPolicyFacts> {
  const t = tablesIn(schema);
  const lookup = new BatchedLookup<string, AlertPolicyFacts>(async (userIds) => {
    const r = await pool.query<FactsRow>(
      `WITH asked AS (SELECT DISTINCT unnest($1::text[]) AS user_id),
            latest AS (
              SELECT r.base, (SELECT array_agg(x.currency) FROM ${t('rates')} x WHERE x.run_seq = r.run_seq) AS currencies
              FROM ${t('rate_runs')} r ORDER BY r.run_seq DESC LIMIT 1)
       SELECT asked.user_id, latest.base, latest.currencies,
              (SELECT count(*) FROM ${t('alerts')} a WHERE a.user_id = asked.user_id AND a.deleted_seq IS NULL) AS active_alerts
       FROM asked LEFT JOIN latest ON true`,
      [userIds],
    );
    const byUser = new Map(r.rows.map((row) => [row.user_id, factsOf(row)]));
    return userIds.map((userId) => byUser.get(userId)!);
  });
  return (userId) => lookup.lookup(userId);
}

function factsOf(row: FactsRow): AlertPolicyFacts {
  // The provider's base currency has the rate 1 whether or not the provider lists it (docs/design.md §4); no run yet: undefined.
  const latestRunCurrencies = row.base === null ? undefined : [...new Set([...(row.currencies ?? []), row.base])];
  return { activeAlerts: row.active_alerts, latestRunCurrencies };
}
