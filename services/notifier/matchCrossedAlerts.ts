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
 * Whether alert `a` takes part in run $1 (docs/design.md §4b, and isActiveAt/triggerOf in crossing.ts): set, edited or
 * resumed before it, not paused or deleted before it, not expired by its rates date, and, if it triggers once, not done
 * (no trigger of another run recorded since it was armed: a probe of alert_triggers' key).
 */
function takesPart(t: TableNamer): string {
  return `a.active_seq < $1 AND (a.paused_seq IS NULL OR a.paused_seq > $1) AND (a.deleted_seq IS NULL OR a.deleted_seq > $1)
          AND (a.expires IS NULL OR a.expires >= (SELECT rates_date FROM run))
          AND (a.repeat = 'every' OR NOT EXISTS (
                SELECT FROM ${t('alert_triggers')} tr WHERE tr.alert_id = a.alert_id AND tr.run_seq > a.armed_seq AND tr.run_seq <> $1))`;
}

/**
 * One statement, set-based, per pair and number of runs back rather than per alert (docs/design.md §4, §4b):
 * 1. the pairs of the alerts table, by a loose index scan of (base, quote, threshold): one probe per pair;
 * 2. per pair, c from this run (pairs missing a currency drop out), how far back its change alerts look at most (one
 *    probe), and p for each number of runs back up to that, from the earlier runs that have both currencies, most
 *    recent first, in one scan: a group per pair and number of runs back (no such run, or an unchanged ratio: none);
 * 3. threshold alerts: per group of 1 run, a range scan of the (base, quote, threshold) index over the thresholds
 *    between p and c, rechecked exactly where the bounds are not sure: p < t ≤ c is pq < t·pb AND t·cb ≤ cq;
 *    change alerts: per group, a range scan of the (base, quote, runs, percent) index over the percents up to the
 *    move, rechecked exactly: |cq·pb − pq·cb|·100 ≥ percent·pq·cb; both only for alerts that take part in the run
 *    (takesPart) and whose direction allows the move.
 * It answers one row of two texts, so that rows are not transferred and decoded one by one (see readCrossedAlerts):
 * `pairs`, 9 space-separated tokens per moved group (number, base, quote, runs, pb, pq, cb, cq, direction), and
 * `alerts`, 7 per triggered alert (group number, alert id, user id, kind, threshold or percent, direction, repeat) by
 * user then alert; with the count of each. Its one parameter is the run's sequence. Exported for EXPLAIN in tests and
 * benchmarks.
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
    run AS MATERIALIZED (
      SELECT CASE WHEN as_of ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}' THEN left(as_of, 10) END AS rates_date
      FROM ${t('rate_runs')} WHERE run_seq = $1
    ),
    current_rates AS MATERIALIZED (
      SELECT r.currency, r.rate FROM ${t('rates')} r WHERE r.run_seq = $1
      UNION ALL
      SELECT run.base, 1 FROM ${t('rate_runs')} run
      WHERE run.run_seq = $1 AND NOT EXISTS (SELECT FROM ${t('rates')} r WHERE r.run_seq = $1 AND r.currency = run.base)
    ),
    ratios AS (
      SELECT p.base, p.quote, previous.runs, previous.pb, previous.pq, cb.rate AS cb, cq.rate AS cq,
             least(previous.pq / previous.pb, cq.rate / cb.rate) AS low, greatest(previous.pq / previous.pb, cq.rate / cb.rate) AS high
      FROM pairs p
      JOIN current_rates cb ON cb.currency = p.base
      JOIN current_rates cq ON cq.currency = p.quote
      -- How far back the pair's change alerts look, at most: one backward probe of their index (1 with none).
      LEFT JOIN LATERAL (
        SELECT a.runs FROM ${t('alerts')} a WHERE a.kind = 'change' AND a.base = p.base AND a.quote = p.quote
        ORDER BY a.runs DESC LIMIT 1
      ) most ON true
      -- The earlier runs that have both currencies, most recent first, numbered: runs = 1 is the previous one.
      CROSS JOIN LATERAL (
        SELECT row_number() OVER (ORDER BY earlier.run_seq DESC) AS runs, pb.rate AS pb, pq.rate AS pq
        FROM ${t('rate_runs')} earlier
        CROSS JOIN LATERAL ${rateIn(t, 'earlier', 'p.base')} pb
        CROSS JOIN LATERAL ${rateIn(t, 'earlier', 'p.quote')} pq
        WHERE earlier.run_seq < $1 AND pb.rate IS NOT NULL AND pq.rate IS NOT NULL
        ORDER BY earlier.run_seq DESC
        LIMIT coalesce(most.runs, 1)
      ) previous
      WHERE previous.pq * cb.rate <> cq.rate * previous.pb
    ),
    moved AS MATERIALIZED (
      SELECT row_number() OVER () AS grp, base, quote, runs, pb, pq, cb, cq,
             CASE WHEN pq * cb < cq * pb THEN 'up' ELSE 'down' END AS direction,
             low * ${BELOW} AS low, high * ${ABOVE} AS high, low * ${ABOVE} AS surely_above, high * ${BELOW} AS surely_below,
             abs(cq * pb - pq * cb) * 100 / (pq * cb) * ${ABOVE} AS most_percent
      FROM ratios
    ),
    crossed AS (
      SELECT m.grp, a.alert_id, a.user_id, a.kind, a.threshold_text AS value, a.direction, a.repeat
      FROM moved m
      CROSS JOIN LATERAL (
        SELECT a.alert_id, a.user_id, a.kind, a.threshold, a.threshold_text, a.direction, a.repeat
        FROM ${t('alerts')} a
        WHERE m.runs = 1 AND a.base = m.base AND a.quote = m.quote
          AND a.threshold BETWEEN m.low AND m.high
          AND ${takesPart(t)}
        ORDER BY a.threshold -- a per-pair index range scan rather than a join over the whole table
      ) a
      WHERE a.direction IN ('either', m.direction)
        AND ((a.threshold > m.surely_above AND a.threshold < m.surely_below)
          OR (m.pq < a.threshold * m.pb AND a.threshold * m.cb <= m.cq)
          OR (m.pq > a.threshold * m.pb AND a.threshold * m.cb >= m.cq))
      UNION ALL
      SELECT m.grp, a.alert_id, a.user_id, a.kind, a.percent_text, a.direction, a.repeat
      FROM moved m
      CROSS JOIN LATERAL (
        SELECT a.alert_id, a.user_id, a.kind, a.percent, a.percent_text, a.direction, a.repeat
        FROM ${t('alerts')} a
        WHERE a.kind = 'change' AND a.base = m.base AND a.quote = m.quote AND a.runs = m.runs
          AND a.percent <= m.most_percent
          AND ${takesPart(t)}
        ORDER BY a.percent -- a per-group range scan of the change alerts' index
      ) a
      WHERE a.direction IN ('either', m.direction) AND abs(m.cq * m.pb - m.pq * m.cb) * 100 >= a.percent * m.pq * m.cb
    )
    SELECT p.text AS pairs, p.count AS pair_count, a.text AS alerts, a.count AS alert_count
    FROM (SELECT string_agg(concat_ws(' ', grp, base, quote, runs, pb, pq, cb, cq, direction), ' '), count(*) FROM moved) p(text, count),
         (SELECT string_agg(concat_ws(' ', grp, alert_id, user_id, kind, value, direction, repeat), ' ' ORDER BY user_id COLLATE "C", alert_id COLLATE "C"), count(*)
          FROM crossed) a(text, count)`;
}

/** The statement's one row. */
export type CrossedAlertsText = {
  pairs: string | null;
  pair_count: number;
  alerts: string | null;
  alert_count: number;
};

const GROUP_TOKENS = 9;
const ALERT_TOKENS = 7;

function tokens(text: string | null, count: number, perItem: number, what: string): string[] {
  const found = text === null || text === '' ? [] : text.split(' ');
  // Ids, currency codes and decimals hold no spaces (events/ids.ts); should one ever, fail rather than shift fields.
  if (found.length !== count * perItem)
    throw new Error(`${what}: ${found.length} tokens for ${count} items of ${perItem}`);
  return found;
}

type Group = Pick<CrossedAlert, 'base' | 'quote' | 'direction' | 'previousRatio' | 'currentRatio'> & { runs: number };

/**
 * The triggered alerts the statement's row describes, in its order. Ratios come from ratio.ts, once per group rather
 * than once per alert, so they match the pure rule to the digit.
 */
export function readCrossedAlerts(row: CrossedAlertsText): CrossedAlert[] {
  const g = tokens(row.pairs, row.pair_count, GROUP_TOKENS, 'moved groups');
  const a = tokens(row.alerts, row.alert_count, ALERT_TOKENS, 'triggered alerts');
  const groupAt = new Map<string, number>();
  for (let i = 0; i < g.length; i += GROUP_TOKENS) groupAt.set(g[i]!, i);
  const groups = new Map<string, Group>();
  const groupOf = (key: string): Group => {
    let found = groups.get(key);
    if (!found) {
      const i = groupAt.get(key);
      if (i === undefined) throw new Error(`triggered alerts: no moved group ${key}`);
      const [base, quote, runs, pb, pq, cb, cq, direction] = g.slice(i + 1, i + GROUP_TOKENS) as [
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        Direction,
      ];
      found = {
        base,
        quote,
        runs: Number(runs),
        direction,
        previousRatio: ratioOf(pb, pq),
        currentRatio: ratioOf(cb, cq),
      };
      groups.set(key, found);
    }
    return found;
  };
  const crossed: CrossedAlert[] = [];
  for (let i = 0; i < a.length; i += ALERT_TOKENS) {
    const { base, quote, runs, direction, previousRatio, currentRatio } = groupOf(a[i]!);
    const [kind, value, alertDirection, repeat] = a.slice(i + 3, i + ALERT_TOKENS) as [
      CrossedAlert['kind'],
      string,
      CrossedAlert['alertDirection'],
      CrossedAlert['repeat'],
    ];
    // A read model built before thresholds were canonical (until its next replay) may hold "001.5": triggers carry "1.5".
    const what = kind === 'threshold' ? { threshold: canonicalDecimal(value) } : { percent: value, runs };
    crossed.push({
      alertId: a[i + 1]!,
      userId: a[i + 2]!,
      base,
      quote,
      kind,
      ...what,
      alertDirection,
      repeat,
      direction,
      previousRatio,
      currentRatio,
    });
  }
  return crossed;
}

/** Every alert run `runSeq` triggered (docs/design.md §4, §4b), by user then alert, read from the projector's read model. */
export async function findCrossedAlerts(db: Pool | PoolClient, t: TableNamer, runSeq: number): Promise<CrossedAlert[]> {
  const { rows } = await db.query<CrossedAlertsText>(crossedAlertsSql(t), [runSeq]);
  return readCrossedAlerts(rows[0]!);
}
