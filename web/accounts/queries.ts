import { tablesIn, type Pool } from '../../platform/postgres.ts';

/**
 * The registered accounts with this address (any case): who a forgot-password request emails. Found by the address's
 * lookup hash (platform/personalData); rows projected before addresses were sealed by the address itself.
 */
export async function registeredUserIdsByEmail(
  pool: Pool,
  schema: string,
  email: { address: string; lookup: string },
): Promise<string[]> {
  const r = await pool.query<{ user_id: string }>(
    `SELECT user_id FROM ${tablesIn(schema)('users')}
     WHERE (email_lookup = $2 OR (email_lookup IS NULL AND lower(email) = lower($1))) AND status = 'registered'`,
    [email.address, email.lookup],
  );
  return r.rows.map((row) => row.user_id);
}
