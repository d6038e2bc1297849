import { compareToRatio, formatRatio, ratioOf } from '../../events/ratio.ts';
import { tablesIn, type Pool } from '../../platform/postgres.ts';
import { ratioIn, type RecentRuns } from './recentRuns.ts';

/**
 * The alerts page's queries over the projector's read models: a fixed number of queries per page, whatever the
 * number of alerts (never one per alert). Ratios are computed from the stored rates by events/ratio.ts, exactly.
 */

/** How many of the most recent runs a chart shows. */
export const CHART_RUNS = 60;
/** How many triggers of each alert the history lists (newest first). */
export const HISTORY_LIMIT = 20;

export type Side = 'above' | 'below' | 'at';
export type AlertTrigger = {
  runSeq: number;
  asOf: string | undefined;
  triggeredAt: Date;
  previousRatio: string;
  currentRatio: string;
  direction: 'up' | 'down';
};
export type AlertSummary = {
  alertId: string;
  base: string;
  quote: string;
  threshold: string;
  /** From the latest run that has both currencies; undefined when no run has them yet. */
  current: { ratio: string; shown: string; side: Side; asOf: string; runSeq: number } | undefined;
  triggers: AlertTrigger[];
  triggerCount: number;
  /** The pair's ratios over the recent runs that have both currencies, oldest first. */
  series: { asOf: string; ratio: string }[];
};
export type LatestRun = { runSeq: number; provider: string; base: string; asOf: string; currencies: string[] };

type TriggerRow = {
  alert_id: string;
  run_seq: number;
  as_of: string | null;
  triggered_at: Date;
  previous_ratio: string;
  current_ratio: string;
  direction: 'up' | 'down';
  total: number;
};

type PlainAlertRow = { alert_id: string; base: string; quote: string; threshold_text: string };

/** The user's alerts (not deleted), oldest first, each with its current ratio, trigger history and chart series. */
export async function alertsOf(pool: Pool, schema: string, userId: string, runs: RecentRuns): Promise<AlertSummary[]> {
  const t = tablesIn(schema);
  // One query after another, never in parallel: embedded Postgres (PGlite) serves a single session.
  const alerts = await pool.query<PlainAlertRow>(
    `SELECT alert_id, base, quote, threshold_text FROM ${t('alerts')} WHERE user_id = $1 AND deleted_seq IS NULL ORDER BY set_seq`,
    [userId],
  );
  if (alerts.rows.length === 0) return [];
  const triggers = await pool.query<TriggerRow>(
    `SELECT * FROM (
       SELECT tr.alert_id, tr.run_seq, r.as_of, tr.triggered_at, tr.previous_ratio, tr.current_ratio, tr.direction,
              count(*) OVER (PARTITION BY tr.alert_id) AS total,
              row_number() OVER (PARTITION BY tr.alert_id ORDER BY tr.run_seq DESC) AS n
       FROM ${t('alert_triggers')} tr
       JOIN ${t('alerts')} a ON a.alert_id = tr.alert_id AND a.deleted_seq IS NULL
       LEFT JOIN ${t('rate_runs')} r ON r.run_seq = tr.run_seq
       WHERE tr.user_id = $1
     ) h
     WHERE n <= $2
     ORDER BY alert_id, run_seq DESC`,
    [userId, HISTORY_LIMIT],
  );
  const recent = await runs.latest(pool, schema);

  const triggersByAlert = new Map<string, TriggerRow[]>();
  for (const row of triggers.rows) {
    const list = triggersByAlert.get(row.alert_id) ?? [];
    list.push(row);
    triggersByAlert.set(row.alert_id, list);
  }
  // Per pair: its ratios over the recent runs that have both currencies, oldest first (the newest is the current one).
  const seriesByPair = new Map<string, { runSeq: number; asOf: string; ratio: string; rb: string; rq: string }[]>();
  for (const row of alerts.rows) {
    const key = `${row.base}/${row.quote}`;
    if (seriesByPair.has(key)) continue;
    const points = [];
    for (const run of recent) {
      const r = ratioIn(run, row.base, row.quote);
      if (r) points.push({ runSeq: run.runSeq, asOf: run.asOf, ...r });
    }
    seriesByPair.set(key, points.reverse());
  }

  return alerts.rows.map((row) => {
    const history = triggersByAlert.get(row.alert_id) ?? [];
    const series = seriesByPair.get(`${row.base}/${row.quote}`) ?? [];
    const now = series.at(-1);
    return {
      alertId: row.alert_id,
      base: row.base,
      quote: row.quote,
      threshold: row.threshold_text,
      current: now ? currentRatio(row.threshold_text, now.rb, now.rq, now.asOf, now.runSeq, now.ratio) : undefined,
      triggers: history.map((h) => ({
        runSeq: h.run_seq,
        asOf: h.as_of ?? undefined,
        triggeredAt: h.triggered_at,
        previousRatio: h.previous_ratio,
        currentRatio: h.current_ratio,
        direction: h.direction,
      })),
      triggerCount: history[0]?.total ?? 0,
      series: series.map((p) => ({ asOf: p.asOf, ratio: p.ratio })),
    };
  });
}

/**
 * What the alerts section shows: the user's alerts and the latest run (unless the caller read it already). Queries
 * one after another, never in parallel: embedded Postgres (PGlite) serves a single session.
 */
export async function alertsSectionOf(
  pool: Pool,
  schema: string,
  userId: string,
  runs: RecentRuns,
  latestKnown?: LatestRun,
) {
  const alerts = await alertsOf(pool, schema, userId, runs);
  const latest = latestKnown ?? (await latestRun(pool, schema));
  return { alerts, latest };
}

/** What the whole alerts page shows: the section's alerts and run, and whether the user paused alert emails. */
export async function alertsPageOf(
  pool: Pool,
  schema: string,
  userId: string,
  runs: RecentRuns,
  latestKnown?: LatestRun,
) {
  const section = await alertsSectionOf(pool, schema, userId, runs, latestKnown);
  return { ...section, paused: await alertEmailsPaused(pool, schema, userId) };
}

/** The ratio rq/rb, shown with at least 6 significant digits on the right side of the threshold, and which side it is on (exact). */
export function currentRatio(
  threshold: string,
  baseRate: string,
  quoteRate: string,
  asOf: string,
  runSeq: number,
  ratio = ratioOf(baseRate, quoteRate),
): NonNullable<AlertSummary['current']> {
  const sign = compareToRatio(threshold, baseRate, quoteRate);
  return {
    ratio,
    shown: formatRatio(ratio, 6, threshold),
    side: sign < 0 ? 'above' : sign > 0 ? 'below' : 'at',
    asOf,
    runSeq,
  };
}

/** The most recent run and the currencies it has (its provider's base included): what the create form offers. */
export async function latestRun(pool: Pool, schema: string): Promise<LatestRun | undefined> {
  const t = tablesIn(schema);
  const r = await pool.query<{ run_seq: number; provider: string; base: string; as_of: string; currencies: string[] }>(
    `SELECT r.run_seq, r.provider, r.base, r.as_of, COALESCE(array_agg(x.currency) FILTER (WHERE x.currency IS NOT NULL), '{}') AS currencies
     FROM (SELECT * FROM ${t('rate_runs')} ORDER BY run_seq DESC LIMIT 1) r
     LEFT JOIN ${t('rates')} x ON x.run_seq = r.run_seq
     GROUP BY r.run_seq, r.provider, r.base, r.as_of`,
  );
  const row = r.rows[0];
  if (!row) return undefined;
  const currencies = [...new Set([...row.currencies, row.base])].sort();
  return { runSeq: row.run_seq, provider: row.provider, base: row.base, asOf: row.as_of, currencies };
}

/** One alert of this user (deleted or not); undefined when it does not exist or is someone else's. */
export async function alertOf(
  pool: Pool,
  schema: string,
  userId: string,
  alertId: string,
): Promise<{ base: string; quote: string; threshold: string; deleted: boolean } | undefined> {
  const r = await pool.query<{ base: string; quote: string; threshold_text: string; deleted: boolean }>(
    `SELECT base, quote, threshold_text, deleted_seq IS NOT NULL AS deleted FROM ${tablesIn(schema)('alerts')} WHERE alert_id = $1 AND user_id = $2`,
    [alertId, userId],
  );
  const row = r.rows[0];
  return row && { base: row.base, quote: row.quote, threshold: row.threshold_text, deleted: row.deleted };
}

export async function alertEmailsPaused(pool: Pool, schema: string, userId: string): Promise<boolean> {
  const r = await pool.query<{ paused: boolean }>(
    `SELECT alert_emails_paused AS paused FROM ${tablesIn(schema)('users')} WHERE user_id = $1`,
    [userId],
  );
  return r.rows[0]?.paused ?? false;
}

/** Wait (bounded) until an alert appears in the read model: for a repeated submission, whose first one may still be projecting. */
export async function waitForAlert(
  pool: Pool,
  schema: string,
  userId: string,
  alertId: string,
  timeoutMs = 2_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 50)) {
    if (await alertOf(pool, schema, userId, alertId)) return true;
    if (Date.now() + delay > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
