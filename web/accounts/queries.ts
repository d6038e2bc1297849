import { tablesIn, type Pool } from '../../platform/postgres.ts';

/** The registered accounts with this address (any case): who a forgot-password request emails. */
export async function registeredUserIdsByEmail(pool: Pool, schema: string, email: string): Promise<string[]> {
  const r = await pool.query<{ user_id: string }>(
    `SELECT user_id FROM ${tablesIn(schema)('users')} WHERE lower(email) = lower($1) AND status = 'registered'`,
    [email],
  );
  return r.rows.map((row) => row.user_id);
}
