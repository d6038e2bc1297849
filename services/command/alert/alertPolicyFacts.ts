import { tablesIn, type Pool } from '../../../platform/postgres.ts';
import type { AlertPolicyFacts } from './alertDecider.ts';

/**
 * The facts SetAlert is decided against, from the projector's read models in one round trip. They live on other
 * subjects than the alert's (the user's other alerts, the runs), and the log has no index to count a user's alerts
 * by, so the read models are where they are kept. They are as fresh as the projector: a user racing their own
 * submits at the cap can pass it by what is in flight, as when the web checked it; no run yet reads as undefined.
 */
export async function alertPolicyFacts(pool: Pool, schema: string, userId: string): Promise<AlertPolicyFacts> {
  const t = tablesIn(schema);
  const r = await pool.query<{ active_alerts: number; base: string | null; currencies: string[] | null }>(
    `SELECT (SELECT count(*) FROM ${t('alerts')} WHERE user_id = $1 AND deleted_seq IS NULL) AS active_alerts,
            latest.base, (SELECT array_agg(currency) FROM ${t('rates')} WHERE run_seq = latest.run_seq) AS currencies
     FROM (SELECT 1) AS one
     LEFT JOIN (SELECT run_seq, base FROM ${t('rate_runs')} ORDER BY run_seq DESC LIMIT 1) AS latest ON true`,
    [userId],
  );
  const row = r.rows[0]!;
  // The provider's base currency has the rate 1 whether or not the provider lists it (docs/design.md §4).
  const latestRunCurrencies = row.base === null ? undefined : [...new Set([...(row.currencies ?? []), row.base])];
  return { activeAlerts: row.active_alerts, latestRunCurrencies };
}
