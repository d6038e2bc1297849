import { tablesIn, type Pool } from '../../platform/postgres.ts';

/**
 * What a user's pages show changes only with a new event about that user (each leaves an activity row, indexed by
 * user) or a new rates run: together they version anything rendered for the user.
 */
export type UserPagesVersion = { userSeq: number; runSeq: number };

export type SessionAsked = { sessionId: string; userId: string };

/** A session id as the command service makes them: a UUID, so the cast in the query below cannot fail a batch. */
export const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * For each session asked, in order: if it is open, the version of its user's pages; undefined when it is closed,
 * expired, unknown or someone else's. One round trip for the whole batch, three index probes per session.
 */
export async function openSessionVersions(
  pool: Pool,
  schema: string,
  asked: readonly SessionAsked[],
): Promise<(UserPagesVersion | undefined)[]> {
  const valid = asked.filter((a) => SESSION_ID.test(a.sessionId));
  const found = new Map<string, UserPagesVersion>();
  if (valid.length > 0) {
    const t = tablesIn(schema);
    const r = await pool.query<{
      session_id: string;
      user_id: string;
      user_seq: number | null;
      run_seq: number | null;
    }>(
      `SELECT s.session_id, s.user_id,
              (SELECT max(seq) FROM ${t('activity')} a WHERE a.user_id = s.user_id) AS user_seq,
              (SELECT max(run_seq) FROM ${t('rate_runs')}) AS run_seq
       FROM ${t('sessions')} s
       WHERE s.session_id = ANY($1::uuid[]) AND s.closed_at IS NULL AND s.expires_at > now()`,
      [[...new Set(valid.map((a) => a.sessionId))]],
    );
    for (const row of r.rows)
      found.set(`${row.session_id} ${row.user_id}`, { userSeq: row.user_seq ?? 0, runSeq: row.run_seq ?? 0 });
  }
  // A session counts only for the user it was opened by.
  return asked.map((a) => found.get(`${a.sessionId} ${a.userId}`));
}
