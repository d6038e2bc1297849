import type { Pool, PoolClient, TableNamer } from '../../platform/postgres.ts';
import type { CrossedAlert, Direction } from './crossing.ts';
import { ratioOf } from '../../events/ratio.ts';

/**
 * Bounds are numeric divisions (≥ 16 significant digits, correctly rounded), widened by this relative margin so
 * they always contain the exact ratios; the exact recheck then drops what the margin let in.
 */
const BELOW = '0.999999999999';
const ABOVE = '1.000000000001';

/** The rate of `currency` in run `runSeq`; the provider's own base is 1 even though the response leaves it out. */
function rateIn(t: TableNamer, runSeq: string, providerBase: string, currency: string): string {
  return `COALESCE(
      (SELECT r.rate FROM ${t('rates')} r WHERE r.run_seq = ${runSeq} AND r.currency = ${currency}),
      CASE WHEN ${providerBase} = ${currency} THEN 1::numeric END)`;
}

/**
 * One statement, set-based, per pair rather than per alert (DESIGN §4):
 * 1. the distinct pairs of the alerts table, by a loose index scan of (base, quote, threshold): one probe per pair;
 * 2. per pair, c from this run (pairs missing a currency drop out) and p from the most recent earlier run that
 *    has both currencies (pairs with no earlier run, or an unchanged ratio, drop out);
 * 3. per pair, a range scan of the same index over the thresholds between p and c, restricted to alerts set
 *    before the run and not deleted before it, rechecked exactly: p < t ≤ c is pq < t·pb AND t·cb ≤ cq.
 * Its one parameter is the run's sequence. Exported for EXPLAIN in tests and benchmarks.
 */
export function crossedAlertsSql(t: TableNamer): string {
  return `
    WITH RECURSIVE
    run AS MATERIALIZED (
      SELECT run_seq, base AS provider_base FROM ${t('rate_runs')} WHERE run_seq = $1
    ),
    pairs AS (
      (SELECT a.base, a.quote FROM ${t('alerts')} a ORDER BY a.base, a.quote LIMIT 1)
      UNION ALL
      SELECT next.base, next.quote FROM pairs
      CROSS JOIN LATERAL (
        SELECT a.base, a.quote FROM ${t('alerts')} a
        WHERE (a.base, a.quote) > (pairs.base, pairs.quote)
        ORDER BY a.base, a.quote LIMIT 1
      ) next
    ),
    current_rates AS MATERIALIZED (
      SELECT pairs.base, pairs.quote, cb.rate AS cb, cq.rate AS cq
      FROM pairs
      CROSS JOIN run
      CROSS JOIN LATERAL (SELECT ${rateIn(t, 'run.run_seq', 'run.provider_base', 'pairs.base')} AS rate) cb
      CROSS JOIN LATERAL (SELECT ${rateIn(t, 'run.run_seq', 'run.provider_base', 'pairs.quote')} AS rate) cq
      WHERE cb.rate IS NOT NULL AND cq.rate IS NOT NULL
    ),
    moved AS MATERIALIZED (
      SELECT c.base, c.quote, c.cb, c.cq, previous.pb, previous.pq,
             least(previous.pq / previous.pb, c.cq / c.cb) * ${BELOW} AS low,
             greatest(previous.pq / previous.pb, c.cq / c.cb) * ${ABOVE} AS high
      FROM current_rates c
      CROSS JOIN LATERAL (
        SELECT pb.rate AS pb, pq.rate AS pq
        FROM ${t('rate_runs')} earlier
        CROSS JOIN LATERAL (SELECT ${rateIn(t, 'earlier.run_seq', 'earlier.base', 'c.base')} AS rate) pb
        CROSS JOIN LATERAL (SELECT ${rateIn(t, 'earlier.run_seq', 'earlier.base', 'c.quote')} AS rate) pq
        WHERE earlier.run_seq < $1 AND pb.rate IS NOT NULL AND pq.rate IS NOT NULL
        ORDER BY earlier.run_seq DESC
        LIMIT 1
      ) previous
      WHERE previous.pq * c.cb <> c.cq * previous.pb
    )
    SELECT a.alert_id, a.user_id, a.base, a.quote, a.threshold_text, m.pb, m.pq, m.cb, m.cq,
           CASE WHEN m.pq < a.threshold * m.pb THEN 'up' ELSE 'down' END AS direction
    FROM moved m
    CROSS JOIN LATERAL (
      SELECT a.alert_id, a.user_id, a.base, a.quote, a.threshold, a.threshold_text
      FROM ${t('alerts')} a
      WHERE a.base = m.base AND a.quote = m.quote
        AND a.threshold BETWEEN m.low AND m.high
        AND a.set_seq < $1 AND (a.deleted_seq IS NULL OR a.deleted_seq > $1)
      OFFSET 0 -- keeps this a per-pair index range scan rather than a join over the whole table
    ) a
    WHERE (m.pq < a.threshold * m.pb AND a.threshold * m.cb <= m.cq)
       OR (m.pq > a.threshold * m.pb AND a.threshold * m.cb >= m.cq)
    ORDER BY a.user_id COLLATE "C", a.alert_id COLLATE "C"`;
}

type Row = {
  alert_id: string;
  user_id: string;
  base: string;
  quote: string;
  threshold_text: string;
  pb: string;
  pq: string;
  cb: string;
  cq: string;
  direction: Direction;
};

/**
 * Every alert whose threshold run `runSeq` crossed (DESIGN §4), by user then alert, read from the projector's
 * read model. Ratios are computed by ratio.ts from the same rates, so they match the pure rule to the digit.
 */
export async function findCrossedAlerts(db: Pool | PoolClient, t: TableNamer, runSeq: number): Promise<CrossedAlert[]> {
  const { rows } = await db.query<Row>(crossedAlertsSql(t), [runSeq]);
  // Every alert of a pair shares its two ratios: divide once per pair, not once per alert.
  const ratios = new Map<string, { previousRatio: string; currentRatio: string }>();
  const ratiosOf = (r: Row) => {
    const key = `${r.base}/${r.quote}`;
    let found = ratios.get(key);
    if (!found) {
      found = { previousRatio: ratioOf(r.pb, r.pq), currentRatio: ratioOf(r.cb, r.cq) };
      ratios.set(key, found);
    }
    return found;
  };
  return rows.map((r) => ({
    alertId: r.alert_id,
    userId: r.user_id,
    base: r.base,
    quote: r.quote,
    threshold: r.threshold_text,
    direction: r.direction,
    ...ratiosOf(r),
  }));
}
