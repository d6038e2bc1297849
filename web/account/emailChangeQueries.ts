import { tablesIn, type Pool } from '../../platform/postgres.ts';

/** The address an account uses now, as the read model has it (a requested change shows only once confirmed). */
export async function currentEmailOf(pool: Pool, schema: string, userId: string): Promise<string | undefined> {
  const r = await pool.query<{ email: string }>(`SELECT email FROM ${tablesIn(schema)('users')} WHERE user_id = $1`, [
    userId,
  ]);
  return r.rows[0]?.email;
}
