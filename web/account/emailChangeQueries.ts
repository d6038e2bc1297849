import type { PersonalData } from '../../platform/personalData/index.ts';
import { tablesIn, type Pool } from '../../platform/postgres.ts';

/**
 * The address an account uses now, as the read model has it (a requested change shows only once confirmed), opened
 * with the person's key (docs/design.md §9).
 */
export async function currentEmailOf(
  deps: { pool: Pool; schema: string; personal: PersonalData },
  userId: string,
): Promise<string | undefined> {
  const r = await deps.pool.query<{ email: string }>(
    `SELECT email FROM ${tablesIn(deps.schema)('users')} WHERE user_id = $1`,
    [userId],
  );
  const sealed = r.rows[0]?.email;
  return sealed === undefined ? undefined : deps.personal.reveal(userId, 'email', sealed);
}
