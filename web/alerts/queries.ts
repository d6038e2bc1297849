import { alertRule, ratesDateOf, type AlertRule } from '../../events/index.ts';
import { compareToRatio, formatRatio, ratioOf } from '../../events/ratio.ts';
import { tablesIn, type Pool } from '../../platform/postgres.ts';
import { addressState, type AddressRefusal } from '../shared/addressState.ts';
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
  rule: AlertRule;
  /** A threshold alert's threshold (as `rule.threshold`); undefined for a change alert. */
  threshold: string | undefined;
  /** Paused by its owner: it triggers on no run until resumed. */
  paused: boolean;
  /** A once alert that triggered since it was armed: it triggers no more until re-armed. */
  done: boolean;
  /** Its expiry date is before the latest run's rates date: it triggers no more. */
  expired: boolean;
  /** From the latest run that has both currencies; undefined when no run has them yet. */
  current: { ratio: string; shown: string; side: Side | undefined; asOf: string; runSeq: number } | undefined;
  triggers: AlertTrigger[];
  triggerCount: number;
  /** The pair's ratios over the recent runs that have both currencies, oldest first. */
  series: { asOf: string; ratio: string }[];
};
/** The latest run: when its rates were fetched is when the rates were last new (a fetch of the same rates date adds no run). */
export type LatestRun = {
  runSeq: number;
  provider: string;
  base: string;
  asOf: string;
  fetchedAt: Date;
  currencies: string[];
};

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

/** An alerts row with its rule, as the pages read it. */
export type AlertRuleRow = {
  kind: 'threshold' | 'change';
  threshold_text: string | null;
  percent_text: string | null;
  runs: number | null;
  direction: AlertRule['direction'];
  repeat: AlertRule['repeat'];
  expires: string | null;
};
type PlainAlertRow = AlertRuleRow & {
  alert_id: string;
  base: string;
  quote: string;
  paused: boolean;
  done: boolean;
};
export const RULE_COLUMNS = 'kind, threshold_text, percent_text, runs, direction, repeat, expires';

/** The rule an alerts row holds. */
export const ruleOfRow = (row: AlertRuleRow): AlertRule =>
  alertRule({
    kind: row.kind,
    threshold: row.threshold_text ?? undefined,
    percent: row.percent_text ?? undefined,
    runs: row.runs ?? undefined,
    direction: row.direction,
    repeat: row.repeat,
    expires: row.expires ?? undefined,
  });

/** The user's alerts (not deleted), oldest first, each with its current ratio, trigger history and chart series. */
export async function alertsOf(pool: Pool, schema: string, userId: string, runs: RecentRuns): Promise<AlertSummary[]> {
  const t = tablesIn(schema);
  // One query after another, never in parallel: embedded Postgres (PGlite) serves a single session.
  // Done: a once alert with a trigger recorded since it was armed (the notifier's rule, services/notifier/crossing.ts).
  const alerts = await pool.query<PlainAlertRow>(
    `SELECT a.alert_id, a.base, a.quote, ${RULE_COLUMNS}, a.paused_seq IS NOT NULL AS paused,
            a.repeat = 'once' AND EXISTS (SELECT FROM ${t('alert_triggers')} tr WHERE tr.alert_id = a.alert_id AND tr.run_seq > a.armed_seq) AS done
     FROM ${t('alerts')} a WHERE a.user_id = $1 AND a.deleted_seq IS NULL ORDER BY a.set_seq`,
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

  const latestDate = recent[0] ? ratesDateOf(recent[0].asOf) : undefined;
  return alerts.rows.map((row) => {
    const history = triggersByAlert.get(row.alert_id) ?? [];
    const series = seriesByPair.get(`${row.base}/${row.quote}`) ?? [];
    const now = series.at(-1);
    const rule = ruleOfRow(row);
    const threshold = rule.kind === 'threshold' ? rule.threshold : undefined;
    return {
      alertId: row.alert_id,
      base: row.base,
      quote: row.quote,
      rule,
      threshold,
      paused: row.paused,
      done: row.done,
      expired: rule.expires !== undefined && latestDate !== undefined && latestDate > rule.expires,
      current: now ? currentRatio(threshold, now.rb, now.rq, now.asOf, now.runSeq, now.ratio) : undefined,
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

/** What the whole alerts page shows: the section's alerts and run, and whether alert emails go. */
export async function alertsPageOf(
  pool: Pool,
  schema: string,
  userId: string,
  runs: RecentRuns,
  latestKnown?: LatestRun,
) {
  const section = await alertsSectionOf(pool, schema, userId, runs, latestKnown);
  return { ...section, emails: await alertEmailsState(pool, schema, userId) };
}

/**
 * The ratio rq/rb, shown with at least 6 significant digits on the right side of the threshold, and which side of it
 * the ratio is on (exact; a change alert has no threshold, and no side).
 */
export function currentRatio(
  threshold: string | undefined,
  baseRate: string,
  quoteRate: string,
  asOf: string,
  runSeq: number,
  ratio = ratioOf(baseRate, quoteRate),
): NonNullable<AlertSummary['current']> {
  const sign = threshold === undefined ? undefined : compareToRatio(threshold, baseRate, quoteRate);
  return {
    ratio,
    shown: formatRatio(ratio, 6, threshold),
    side: sign === undefined ? undefined : sign < 0 ? 'above' : sign > 0 ? 'below' : 'at',
    asOf,
    runSeq,
  };
}

/** The most recent run and the currencies it has (its provider's base included): what the create form offers. */
export async function latestRun(pool: Pool, schema: string): Promise<LatestRun | undefined> {
  const t = tablesIn(schema);
  const r = await pool.query<{
    run_seq: number;
    provider: string;
    base: string;
    as_of: string;
    fetched_at: Date;
    currencies: string[];
  }>(
    `SELECT r.run_seq, r.provider, r.base, r.as_of, r.fetched_at, COALESCE(array_agg(x.currency) FILTER (WHERE x.currency IS NOT NULL), '{}') AS currencies
     FROM (SELECT * FROM ${t('rate_runs')} ORDER BY run_seq DESC LIMIT 1) r
     LEFT JOIN ${t('rates')} x ON x.run_seq = r.run_seq
     GROUP BY r.run_seq, r.provider, r.base, r.as_of, r.fetched_at`,
  );
  const row = r.rows[0];
  if (!row) return undefined;
  const currencies = [...new Set([...row.currencies, row.base])].sort();
  return {
    runSeq: row.run_seq,
    provider: row.provider,
    base: row.base,
    asOf: row.as_of,
    fetchedAt: row.fetched_at,
    currencies,
  };
}

/** One alert of this user (deleted or not); undefined when it does not exist or is someone else's. */
export async function alertOf(
  pool: Pool,
  schema: string,
  userId: string,
  alertId: string,
): Promise<OneAlert | undefined> {
  const r = await pool.query<AlertRuleRow & { base: string; quote: string; deleted: boolean; paused: boolean }>(
    `SELECT base, quote, ${RULE_COLUMNS}, deleted_seq IS NOT NULL AS deleted, paused_seq IS NOT NULL AS paused
     FROM ${tablesIn(schema)('alerts')} WHERE alert_id = $1 AND user_id = $2`,
    [alertId, userId],
  );
  const row = r.rows[0];
  return row && { base: row.base, quote: row.quote, rule: ruleOfRow(row), deleted: row.deleted, paused: row.paused };
}

/** One alert of a user's, as its edit form and its delete question show it. */
export type OneAlert = { base: string; quote: string; rule: AlertRule; deleted: boolean; paused: boolean };

/**
 * The ratio of BASE/QUOTE at the latest run that has both, exactly, and which side of `threshold` it is on: what a
 * new threshold alert is compared with (farSide.ts). Undefined when no recent run has the pair.
 */
export async function pairNow(
  pool: Pool,
  schema: string,
  runs: RecentRuns,
  pair: { base: string; quote: string },
  threshold: string,
): Promise<NonNullable<AlertSummary['current']> | undefined> {
  for (const run of await runs.latest(pool, schema)) {
    const r = ratioIn(run, pair.base, pair.quote);
    if (r) return currentRatio(threshold, r.rb, r.rq, run.asOf, run.runSeq, r.ratio);
  }
  return undefined;
}

/** Whether the user's alert emails go: paused by the user, or held back because the mail server refused the address. */
export type AlertEmailsState = { paused: boolean; refused?: AddressRefusal };

export async function alertEmailsState(pool: Pool, schema: string, userId: string): Promise<AlertEmailsState> {
  const state = await addressState(pool, schema, userId);
  return { paused: state?.paused ?? false, ...(state?.refused ? { refused: state.refused } : {}) };
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
