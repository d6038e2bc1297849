import { quoteIdent, tablesIn, type Pool } from '../platform/postgres.ts';

/**
 * How many rows of `userId` each read-model table holds: every table with a user_id column (found in the schema, so a
 * table added later is counted too), and parked messages whose subject or body names the user.
 */
export async function rowsOfUser(pool: Pool, schema: string, userId: string): Promise<Record<string, number>> {
  const keyed = await pool.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.columns WHERE table_schema = $1 AND column_name = 'user_id' ORDER BY table_name`,
    [schema],
  );
  const t = tablesIn(schema);
  const counts: Record<string, number> = {};
  for (const { table_name } of keyed.rows) {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${quoteIdent(schema)}.${quoteIdent(table_name)} WHERE user_id = $1`,
      [userId],
    );
    counts[table_name] = rows[0]!.n;
  }
  const parked = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${t('parked_events')} WHERE strpos(subject, $1) > 0 OR strpos(body, $1) > 0`,
    [userId],
  );
  counts.parked_events = parked.rows[0]!.n;
  return counts;
}

/** No row of `userId` anywhere: what rowsOfUser answers then, for the tables `counted` found. */
export const noRows = (counted: Record<string, number>) =>
  Object.fromEntries(Object.keys(counted).map((table) => [table, 0]));
