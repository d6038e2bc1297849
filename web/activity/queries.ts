import { tablesIn, type Pool } from '../../platform/postgres.ts';

/** One line of a user's history, as the projector wrote it for the event (services/projector/reference/activityLine.ts). */
export type ActivityLine = { seq: number; type: string; summary: string; occurred_at: Date };

/** The user's own history from the audit read model, newest first; the 500 latest lines. */
export async function activityOf(pool: Pool, schema: string, userId: string): Promise<ActivityLine[]> {
  const rows = await pool.query<ActivityLine>(
    `SELECT seq, type, summary, occurred_at FROM ${tablesIn(schema)('activity')} WHERE user_id = $1 ORDER BY seq DESC, position DESC LIMIT 500`,
    [userId],
  );
  return rows.rows;
}
