import { tablesIn, type Pool } from '../../platform/postgres.ts';

/** The mail server's refusal for good of an account's address: its codes, and when. */
export type AddressRefusal = { detail: string; at: Date };

/**
 * An account's address as the read model holds it (sealed), whether its owner paused alert emails, and the mail
 * server's refusal of it: a refusal counts while the refused address is the account's address (users.refused_email =
 * email), so a change of address ends it. The one reading of that rule for the pages (the notifier's digests read it
 * in their recipients' query).
 */
export async function addressState(
  pool: Pool,
  schema: string,
  userId: string,
): Promise<{ sealedEmail: string; paused: boolean; refused?: AddressRefusal } | undefined> {
  const r = await pool.query<{
    email: string;
    paused: boolean;
    refused_detail: string | null;
    refused_at: Date | null;
  }>(
    `SELECT email, alert_emails_paused AS paused,
            CASE WHEN refused_email = email THEN refused_detail END AS refused_detail,
            CASE WHEN refused_email = email THEN refused_at END AS refused_at
     FROM ${tablesIn(schema)('users')} WHERE user_id = $1`,
    [userId],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  return {
    sealedEmail: row.email,
    paused: row.paused,
    ...(row.refused_detail && row.refused_at ? { refused: { detail: row.refused_detail, at: row.refused_at } } : {}),
  };
}
