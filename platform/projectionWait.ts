import { tablesIn, type Pool } from './postgres.ts';

/** Name of the checkpoint row the projector advances with every batch. */
export const READ_MODELS_CHECKPOINT = 'read_models';

/**
 * Wait (bounded) until the projector has applied the log up to `seq`, so a reader sees its own write.
 * Returns false on timeout: the caller shows what it has, it never hangs.
 */
export async function waitForProjection(pool: Pool, schema: string, seq: number, timeoutMs = 2_000): Promise<boolean> {
  const table = tablesIn(schema)('checkpoints');
  const deadline = Date.now() + timeoutMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 50)) {
    const r = await pool.query<{ seq: number }>(`SELECT seq FROM ${table} WHERE name = $1`, [READ_MODELS_CHECKPOINT]);
    if ((r.rows[0]?.seq ?? 0) >= seq) return true;
    if (Date.now() + delay > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
