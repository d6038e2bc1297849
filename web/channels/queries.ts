import { tablesIn, type Pool } from '../../platform/postgres.ts';

/** One of the person's channels as the read model has it; `url` still sealed. */
export type ChannelRecord = {
  channelId: string;
  url: string;
  format: 'json' | 'slack' | 'discord';
  status: 'active' | 'paused' | 'deleted';
  pausedFor: 'owner' | 'failing' | null;
  addedAt: Date;
  addedSeq: number;
  last: { reference: string; outcome: string; status: number | null; detail: string; at: Date } | null;
};

type Row = {
  channel_id: string;
  url: string;
  format: ChannelRecord['format'];
  status: ChannelRecord['status'];
  paused_for: ChannelRecord['pausedFor'];
  added_at: Date;
  added_seq: string;
  last_reference: string | null;
  last_outcome: string | null;
  last_status: number | null;
  last_detail: string | null;
  last_attempt_at: Date | null;
};

const recordOf = (r: Row): ChannelRecord => ({
  channelId: r.channel_id,
  url: r.url,
  format: r.format,
  status: r.status,
  pausedFor: r.paused_for,
  addedAt: r.added_at,
  addedSeq: Number(r.added_seq),
  last:
    r.last_outcome && r.last_attempt_at
      ? {
          reference: r.last_reference ?? '',
          outcome: r.last_outcome,
          status: r.last_status,
          detail: r.last_detail ?? '',
          at: r.last_attempt_at,
        }
      : null,
});

/** The person's channels, oldest first; deleted ones only when asked (the data export lists them too). One query. */
export async function channelsOf(
  pool: Pool,
  schema: string,
  userId: string,
  options: { deleted?: boolean } = {},
): Promise<ChannelRecord[]> {
  const found = await pool.query<Row>(
    `SELECT channel_id, url, format, status, paused_for, added_at, added_seq,
            last_reference, last_outcome, last_status, last_detail, last_attempt_at
     FROM ${tablesIn(schema)('channels')} WHERE user_id = $1 ${options.deleted ? '' : "AND status <> 'deleted'"}
     ORDER BY added_seq`,
    [userId],
  );
  return found.rows.map(recordOf);
}
