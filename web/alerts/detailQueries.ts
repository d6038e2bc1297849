import { ratioOf } from '../../events/ratio.ts';
import type { AlertRule } from '../../events/index.ts';
import { tablesIn, type Pool } from '../../platform/postgres.ts';
import { RULE_COLUMNS, ruleOfRow, type AlertRuleRow } from './queries.ts';

/** How many of the most recent runs the detail chart shows: two years of daily runs. */
export const DETAIL_RUNS = 730;
/** How many of an alert's triggers its detail page lists and marks (the most recent). */
export const DETAIL_TRIGGERS = 500;

export type DetailAlert = {
  alertId: string;
  base: string;
  quote: string;
  rule: AlertRule;
  /** A threshold alert's threshold; undefined for a change alert. */
  threshold: string | undefined;
  setAt: Date;
  deletedAt: Date | undefined;
  paused: boolean;
};

/** One run's ratio of the pair, exact, with the two rates it comes from. */
export type PairRun = { runSeq: number; asOf: string; ratio: string; rb: string; rq: string };

/** A run that triggered the alert, and the digest email that told the owner, if one was sent. */
export type DetailTrigger = {
  runSeq: number;
  asOf: string | undefined;
  triggeredAt: Date;
  previousRatio: string;
  currentRatio: string;
  direction: 'up' | 'down';
  emailedAt: Date | undefined;
};

/** The alert if it is this user's (deleted or not); undefined when it does not exist or is someone else's. */
export async function detailAlertOf(
  pool: Pool,
  schema: string,
  userId: string,
  alertId: string,
): Promise<DetailAlert | undefined> {
  const r = await pool.query<
    AlertRuleRow & { base: string; quote: string; set_at: Date; deleted_at: Date | null; paused: boolean }
  >(
    `SELECT base, quote, ${RULE_COLUMNS}, set_at, deleted_at, paused_seq IS NOT NULL AS paused FROM ${tablesIn(schema)('alerts')} WHERE alert_id = $1 AND user_id = $2`,
    [alertId, userId],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  return {
    alertId,
    base: row.base,
    quote: row.quote,
    rule: ruleOfRow(row),
    threshold: row.threshold_text ?? undefined,
    setAt: row.set_at,
    deletedAt: row.deleted_at ?? undefined,
    paused: row.paused,
  };
}

/**
 * The pair's ratio in each of the latest DETAIL_RUNS runs that have both currencies, oldest first: one query, the
 * ratios computed exactly (events/ratio.ts). The provider's own base has no row in `rates`: its rate is 1.
 */
export async function pairRuns(pool: Pool, schema: string, base: string, quote: string): Promise<PairRun[]> {
  const t = tablesIn(schema);
  const r = await pool.query<{ run_seq: number; as_of: string; rb: string | null; rq: string | null }>(
    `SELECT r.run_seq, r.as_of,
            CASE WHEN r.base = $1 THEN '1' ELSE b.rate::text END AS rb,
            CASE WHEN r.base = $2 THEN '1' ELSE q.rate::text END AS rq
     FROM (SELECT run_seq, as_of, base FROM ${t('rate_runs')} ORDER BY run_seq DESC LIMIT $3) r
     LEFT JOIN ${t('rates')} b ON b.run_seq = r.run_seq AND b.currency = $1
     LEFT JOIN ${t('rates')} q ON q.run_seq = r.run_seq AND q.currency = $2
     ORDER BY r.run_seq`,
    [base, quote, DETAIL_RUNS],
  );
  return r.rows.flatMap((row) =>
    row.rb === null || row.rq === null
      ? []
      : [{ runSeq: row.run_seq, asOf: row.as_of, rb: row.rb, rq: row.rq, ratio: ratioOf(row.rb, row.rq) }],
  );
}

/** The alert's triggers, oldest first, each with its run's date and when its digest was emailed (one query). */
export async function detailTriggers(
  pool: Pool,
  schema: string,
  userId: string,
  alertId: string,
): Promise<DetailTrigger[]> {
  const t = tablesIn(schema);
  const r = await pool.query<{
    run_seq: number;
    as_of: string | null;
    triggered_at: Date;
    previous_ratio: string;
    current_ratio: string;
    direction: 'up' | 'down';
    emailed_at: Date | null;
  }>(
    `SELECT * FROM (
       SELECT tr.run_seq, r.as_of, tr.triggered_at, tr.previous_ratio, tr.current_ratio, tr.direction,
              e.sent_at AS emailed_at
       FROM ${t('alert_triggers')} tr
       LEFT JOIN ${t('rate_runs')} r ON r.run_seq = tr.run_seq
       -- A run's digest to a user is referenced as "<run seq>.<user id>" (services/notifier/digests.ts).
       LEFT JOIN ${t('emails_sent')} e
         ON e.user_id = tr.user_id AND e.kind = 'alert-digest' AND e.reference = tr.run_seq || '.' || tr.user_id
       WHERE tr.alert_id = $1 AND tr.user_id = $2
       ORDER BY tr.run_seq DESC LIMIT $3
     ) latest ORDER BY run_seq`,
    [alertId, userId, DETAIL_TRIGGERS],
  );
  return r.rows.map((row) => ({
    runSeq: row.run_seq,
    asOf: row.as_of ?? undefined,
    triggeredAt: row.triggered_at,
    previousRatio: row.previous_ratio,
    currentRatio: row.current_ratio,
    direction: row.direction,
    emailedAt: row.emailed_at ?? undefined,
  }));
}
