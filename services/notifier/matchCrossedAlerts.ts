import type { Pool, PoolClient, TableNamer } from '../../platform/postgres.ts';
import type { CrossedAlert, Direction } from './crossing.ts';
import { canonicalDecimal } from '../../events/decimal.ts';
import { ratioOf } from '../../events/ratio.ts';

/**
 * Bounds are numeric divisions (≥ 16 significant digits, correctly rounded), widened by this relative margin so
 * they always contain the exact ratios; the exact recheck then drops what the margin let in. Narrowed by the same
 * margin, they lie strictly inside the exact ratios: a threshold between the narrowed bounds is crossed for sure.
 */
const BELOW = '0.999999999999';
const ABOVE = '1.000000000001';

/**
 * The rate of `currency` in `run` (a row with run_seq and base); the provider's own base is 1 though the response
 * leaves it out. OFFSET 0 keeps it a subquery, looked up once per run rather than once per reference to it.
 */
function rateIn(t: TableNamer, run: string, currency: string): string {
  return `(SELECT COALESCE(
        (SELECT r.rate FROM ${t('rates')} r WHERE r.run_seq = ${run}.run_seq AND r.currency = ${currency}),
        CASE WHEN ${run}.base = ${currency} THEN 1::numeric END) AS rate OFFSET 0)`;
}

/**
 * One statement, set-based, per pair rather than per alert (docs/design.md §4):
 * 1. the distinct pairs of the alerts table, by a loose index scan of (base, quote, threshold): one probe per pair;
 * 2. per pair, c from this run (pairs missing a currency drop out) and p from the most recent earlier run that
 *    has both currencies (pairs with no earlier run, or an unchanged ratio, drop out);
 * 3. per pair, a range scan of the same index over the thresholds between p and c, restricted to alerts set
 *    before the run and not deleted before it, rechecked exactly where the bounds are not sure:
 *    p < t ≤ c is pq < t·pb AND t·cb ≤ cq.
 * It answers one row of two texts, so that rows are not transferred and decoded one by one (see readCrossedAlerts):
 * `pairs`, 8 space-separated tokens per moved pair (number, base, quote, pb, pq, cb, cq, direction), and `alerts`,
 * 4 per crossed alert (pair number, alert id, user id, threshold) by user then alert; with the count of each.
 * Its one parameter is the run's sequence. Exported for EXPLAIN in tests and benchmarks.
 */
export function crossedAlertsSql(t: TableNamer): string {
  return `
    WITH RECURSIVE
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
      SELECT r.currency, r.rate FROM ${t('rates')} r WHERE r.run_seq = $1
      UNION ALL
      SELECT run.base, 1 FROM ${t('rate_runs')} run
      WHERE run.run_seq = $1 AND NOT EXISTS (SELECT FROM ${t('rates')} r WHERE r.run_seq = $1 AND r.currency = run.base)
    ),
    ratios AS (
      SELECT p.base, p.quote, previous.pb, previous.pq, cb.rate AS cb, cq.rate AS cq,
             least(previous.pq / previous.pb, cq.rate / cb.rate) AS low, greatest(previous.pq / previous.pb, cq.rate / cb.rate) AS high
      FROM pairs p
      JOIN current_rates cb ON cb.currency = p.base
      JOIN current_rates cq ON cq.currency = p.quote
      CROSS JOIN LATERAL (
        SELECT pb.rate AS pb, pq.rate AS pq
        FROM ${t('rate_runs')} earlier
        CROSS JOIN LATERAL ${rateIn(t, 'earlier', 'p.base')} pb
        CROSS JOIN LATERAL ${rateIn(t, 'earlier', 'p.quote')} pq
        WHERE earlier.run_seq < $1 AND pb.rate IS NOT NULL AND pq.rate IS NOT NULL
        ORDER BY earlier.run_seq DESC
        LIMIT 1
      ) previous
      WHERE previous.pq * cb.rate <> cq.rate * previous.pb
    ),
    moved AS MATERIALIZED (
      SELECT row_number() OVER () AS pair, base, quote, pb, pq, cb, cq,
             CASE WHEN pq * cb < cq * pb THEN 'up' ELSE 'down' END AS direction,
             low * ${BELOW} AS low, high * ${ABOVE} AS high, low * ${ABOVE} AS surely_above, high * ${BELOW} AS surely_below
      FROM ratios
    ),
    crossed AS (
      SELECT m.pair, a.alert_id, a.user_id, a.threshold_text
      FROM moved m
      CROSS JOIN LATERAL (
        SELECT a.alert_id, a.user_id, a.threshold, a.threshold_text
        FROM ${t('alerts')} a
        WHERE a.base = m.base AND a.quote = m.quote
          AND a.threshold BETWEEN m.low AND m.high
          AND a.set_seq < $1 AND (a.deleted_seq IS NULL OR a.deleted_seq > $1)
        ORDER BY a.threshold -- a per-pair index range scan rather than a join over the whole table
      ) a
      WHERE (a.threshold > m.surely_above AND a.threshold < m.surely_below)
         OR (m.pq < a.threshold * m.pb AND a.threshold * m.cb <= m.cq)
         OR (m.pq > a.threshold * m.pb AND a.threshold * m.cb >= m.cq)
    )
    SELECT p.text AS pairs, p.count AS pair_count, a.text AS alerts, a.count AS alert_count
    FROM (SELECT string_agg(concat_ws(' ', pair, base, quote, pb, pq, cb, cq, direction), ' '), count(*) FROM moved) p(text, count),
         (SELECT string_agg(concat_ws(' ', pair, alert_id, user_id, threshold_text), ' ' ORDER BY user_id COLLATE "C", alert_id COLLATE "C"), count(*)
          FROM crossed) a(text, count)`;
}

/** The statement's one row. */
export type CrossedAlertsText = {
  pairs: string | null;
  pair_count: number;
  alerts: string | null;
  alert_count: number;
};

const PAIR_TOKENS = 8;
const ALERT_TOKENS = 4;

function tokens(text: string | null, count: number, perItem: number, what: string): string[] {
  const found = text === null || text === '' ? [] : text.split(' ');
  // Ids, currency codes and decimals hold no spaces (events/ids.ts); should one ever, fail rather than shift fields.
  if (found.length !== count * perItem)
    throw new Error(`${what}: ${found.length} tokens for ${count} items of ${perItem}`);
  return found;
}

/**
 * The crossed alerts the statement's row describes, in its order. Ratios come from ratio.ts, once per pair rather
 * than once per alert, so they match the pure rule to the digit.
 */
export function readCrossedAlerts(row: CrossedAlertsText): CrossedAlert[] {
  const p = tokens(row.pairs, row.pair_count, PAIR_TOKENS, 'moved pairs');
  const a = tokens(row.alerts, row.alert_count, ALERT_TOKENS, 'crossed alerts');
  const pairAt = new Map<string, number>();
  for (let i = 0; i < p.length; i += PAIR_TOKENS) pairAt.set(p[i]!, i);
  type Pair = Pick<CrossedAlert, 'base' | 'quote' | 'direction' | 'previousRatio' | 'currentRatio'>;
  const pairs = new Map<string, Pair>();
  const pairOf = (key: string): Pair => {
    let found = pairs.get(key);
    if (!found) {
      const i = pairAt.get(key);
      if (i === undefined) throw new Error(`crossed alerts: no moved pair ${key}`);
      const [base, quote, pb, pq, cb, cq, direction] = p.slice(i + 1, i + PAIR_TOKENS) as [
        string,
        string,
        string,
        string,
        string,
        string,
        Direction,
      ];
      found = { base, quote, direction, previousRatio: ratioOf(pb, pq), currentRatio: ratioOf(cb, cq) };
      pairs.set(key, found);
    }
    return found;
  };
  const crossed: CrossedAlert[] = [];
  for (let i = 0; i < a.length; i += ALERT_TOKENS) {
    const { base, quote, direction, previousRatio, currentRatio } = pairOf(a[i]!);
    // A read model built before thresholds were canonical (until its next replay) may hold "001.5": triggers carry "1.5".
    crossed.push({
      alertId: a[i + 1]!,
      userId: a[i + 2]!,
      base,
      quote,
      threshold: canonicalDecimal(a[i + 3]!),
      direction,
      previousRatio,
      currentRatio,
    });
  }
  return crossed;
}

/** Every alert whose threshold run `runSeq` crossed (docs/design.md §4), by user then alert, read from the projector's read model. */
export async function findCrossedAlerts(db: Pool | PoolClient, t: TableNamer, runSeq: number): Promise<CrossedAlert[]> {
  const { rows } = await db.query<CrossedAlertsText>(crossedAlertsSql(t), [runSeq]);
  return readCrossedAlerts(rows[0]!);
}
