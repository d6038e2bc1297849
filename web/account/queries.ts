import { tablesIn, type Pool } from '../../platform/postgres.ts';

export type OpenSession = { sessionId: string; openedAt: Date; expiresAt: Date; current: boolean };

/** The most sessions the page lists: this one first, then the newest. More open at once is rare (7 days each). */
export const SESSIONS_SHOWN = 50;

/**
 * The user's open sessions as the session check counts them (not closed, not expired: web/shared/openSessions.ts),
 * `current` first, then newest first; and how many there are in all, should there be more than are listed.
 */
export async function openSessionsOf(
  pool: Pool,
  schema: string,
  userId: string,
  current: string,
): Promise<{ sessions: OpenSession[]; total: number }> {
  const { rows } = await pool.query<{ session_id: string; opened_at: Date; expires_at: Date; total: number }>(
    `SELECT session_id, opened_at, expires_at, count(*) OVER () AS total FROM ${tablesIn(schema)('sessions')}
     WHERE user_id = $1 AND closed_at IS NULL AND expires_at > now()
     ORDER BY session_id = $2::uuid DESC, opened_at DESC, session_id LIMIT $3`,
    [userId, current, SESSIONS_SHOWN],
  );
  return {
    sessions: rows.map((r) => ({
      sessionId: r.session_id,
      openedAt: r.opened_at,
      expiresAt: r.expires_at,
      current: r.session_id === current,
    })),
    total: rows[0]?.total ?? 0,
  };
}

export type AccountRecord = {
  username: string;
  email: string;
  status: string;
  registeredAt: Date | null;
  alertEmailsPaused: boolean;
};
export type AlertRecord = {
  alertId: string;
  base: string;
  quote: string;
  threshold: string;
  setSeq: number;
  setAt: Date;
  deletedAt: Date | null;
};
export type TriggerRecord = {
  alertId: string;
  runSeq: number;
  previousRatio: string;
  currentRatio: string;
  direction: string;
  triggeredAt: Date;
};

/** What the read models hold of one user for their data export: three queries, whatever the number of alerts. */
export async function exportRecordsOf(
  pool: Pool,
  schema: string,
  userId: string,
): Promise<{ account: AccountRecord | undefined; alerts: AlertRecord[]; triggers: TriggerRecord[] }> {
  const t = tablesIn(schema);
  const [account, alerts, triggers] = await Promise.all([
    pool.query<AccountRecord>(
      `SELECT username, email, status, registered_at AS "registeredAt", alert_emails_paused AS "alertEmailsPaused"
       FROM ${t('users')} WHERE user_id = $1`,
      [userId],
    ),
    pool.query<AlertRecord>(
      `SELECT alert_id AS "alertId", base, quote, threshold_text AS threshold, set_seq AS "setSeq", set_at AS "setAt",
              deleted_at AS "deletedAt"
       FROM ${t('alerts')} WHERE user_id = $1 ORDER BY set_seq, alert_id`,
      [userId],
    ),
    pool.query<TriggerRecord>(
      `SELECT alert_id AS "alertId", run_seq AS "runSeq", previous_ratio AS "previousRatio",
              current_ratio AS "currentRatio", direction, triggered_at AS "triggeredAt"
       FROM ${t('alert_triggers')} WHERE user_id = $1 ORDER BY run_seq, alert_id`,
      [userId],
    ),
  ]);
  return {
    account: account.rows[0],
    alerts: alerts.rows,
    triggers: triggers.rows,
  };
}
