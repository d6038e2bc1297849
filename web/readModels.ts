import { tablesIn, type Pool } from '../platform/postgres.ts';

/** The web's queries over the projector's read models. */

export async function isSessionOpen(pool: Pool, schema: string, sessionId: string, userId: string): Promise<boolean> {
  if (!/^[0-9a-f-]{36}$/.test(sessionId)) return false;
  const r = await pool.query(
    `SELECT 1 FROM ${tablesIn(schema)('sessions')} WHERE session_id = $1 AND user_id = $2 AND closed_at IS NULL AND expires_at > now()`,
    [sessionId, userId],
  );
  return (r.rowCount ?? 0) > 0;
}

export async function registeredUserIdsByEmail(pool: Pool, schema: string, email: string): Promise<string[]> {
  const r = await pool.query<{ user_id: string }>(`SELECT user_id FROM ${tablesIn(schema)('users')} WHERE lower(email) = lower($1) AND status = 'registered'`, [email]);
  return r.rows.map((row) => row.user_id);
}
