import type { PersonalData } from '../../platform/personalData/index.ts';
import { tablesIn, type Pool } from '../../platform/postgres.ts';

/** The address an account uses, and whether the mail server refused it for good (its codes, and when). */
export type CurrentAddress = { email: string; refused?: { detail: string; at: Date } };

/**
 * The address an account uses now, as the read model has it (a requested change shows only once confirmed), opened
 * with the person's key (docs/design.md §9); with the mail server's refusal of it, if it refused this very address.
 */
export async function currentAddressOf(
  deps: { pool: Pool; schema: string; personal: PersonalData },
  userId: string,
): Promise<CurrentAddress> {
  const r = await deps.pool.query<{ email: string; refused_detail: string | null; refused_at: Date | null }>(
    `SELECT email, CASE WHEN refused_email = email THEN refused_detail END AS refused_detail,
            CASE WHEN refused_email = email THEN refused_at END AS refused_at
     FROM ${tablesIn(deps.schema)('users')} WHERE user_id = $1`,
    [userId],
  );
  const row = r.rows[0];
  if (!row) return { email: '' };
  const email = await deps.personal.reveal(userId, 'email', row.email);
  return row.refused_detail && row.refused_at
    ? { email, refused: { detail: row.refused_detail, at: row.refused_at } }
    : { email };
}
