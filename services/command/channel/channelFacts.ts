import { randomBytes } from 'node:crypto';
import { tablesIn, type Pool } from '../../../platform/postgres.ts';

/**
 * How many channels the person has that are not deleted, from the read models (as fresh as the projector: adds that
 * race each other can pass the cap by what is in flight, as alerts can).
 */
export async function channelsOf(pool: Pool, schema: string, userId: string): Promise<number> {
  const t = tablesIn(schema);
  const found = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${t('channels')} WHERE user_id = $1 AND status <> 'deleted'`,
    [userId],
  );
  return found.rows[0]?.n ?? 0;
}

/** A new signing secret as Standard Webhooks writes one: `whsec_` and 32 random bytes in base64. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;
