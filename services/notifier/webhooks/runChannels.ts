import { BatchedLookup } from '../../../platform/batchedLookup.ts';
import { tablesIn, type Pool } from '../../../platform/postgres.ts';
import { sameTurn } from '../../../platform/sameTurn.ts';
import { READ_MODELS_CHECKPOINT } from '../../../platform/projectionWait.ts';
import type { Channel } from './delivery.ts';

/** A channel row as the read model has it (URL and secret sealed), with the log sequence it last changed at. */
export type ChannelRow = Channel & { status: string; updatedSeq: number };

/**
 * What one digest's deliveries read of the read models, all from one snapshot: how far the projector had applied the
 * log then, the run's date, and the user's channels that are active and were added before the run.
 */
export type RunChannels = { checkpoint: number; asOf: string | undefined; channels: ChannelRow[] };

type Asked = { userId: string; runSeq: number };
type Row = {
  i: number;
  checkpoint: number | null;
  as_of: string | null;
  channel_id: string | null;
  url: string;
  format: Channel['format'];
  secret: string;
  status: string;
  updated_seq: number;
};

/**
 * The channels of many digests in one round trip (platform/batchedLookup.ts): under load the deliverer works on
 * dozens of digests at once, and one query per digest (and one more for the projector's checkpoint, one for the run)
 * queued them all behind the pool's few connections; a batch takes the lookups of one event-loop turn (sameTurn.ts).
 * One statement is one snapshot, so the checkpoint it returns says how far the channels it returns are up to date.
 */
export function runChannelsReader(
  pool: Pool,
  schema: string,
): (userId: string, runSeq: number) => Promise<RunChannels> {
  const t = tablesIn(schema);
  const lookup = new BatchedLookup<Asked, RunChannels>(
    async (asked) => {
      // Prepared once per connection (named): the server plans it once, not for every batch.
      const found = await pool.query<Row>({
        name: `webhook-run-channels-${schema}`,
        text: `SELECT asked.i::int AS i, (SELECT seq FROM ${t('checkpoints')} WHERE name = $3) AS checkpoint,
              (SELECT as_of FROM ${t('rate_runs')} r WHERE r.run_seq = asked.run_seq) AS as_of,
              c.channel_id, c.url, c.format, c.secret, c.status, c.updated_seq
       FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS asked(user_id, run_seq, i)
       LEFT JOIN ${t('channels')} c
         ON c.user_id = asked.user_id AND c.status = 'active' AND c.added_seq < asked.run_seq
       ORDER BY asked.i, c.added_seq`,
        values: [asked.map((a) => a.userId), asked.map((a) => a.runSeq), READ_MODELS_CHECKPOINT],
      });
      const answers = asked.map((): RunChannels => ({ checkpoint: 0, asOf: undefined, channels: [] }));
      for (const row of found.rows) {
        const answer = answers[row.i - 1]!;
        answer.checkpoint = Number(row.checkpoint ?? 0);
        answer.asOf = row.as_of ?? undefined;
        if (row.channel_id !== null)
          answer.channels.push({
            channelId: row.channel_id,
            userId: asked[row.i - 1]!.userId,
            url: row.url,
            format: row.format,
            secret: row.secret,
            status: row.status,
            updatedSeq: Number(row.updated_seq),
          });
      }
      return answers;
    },
    { gather: sameTurn },
  );
  return (userId, runSeq) => lookup.lookup({ userId, runSeq });
}

const readers = new WeakMap<Pool, Map<string, ReturnType<typeof runChannelsReader>>>();

/** The one reader of a pool and schema: every caller of the deliverer in this process shares its batches. */
export function sharedRunChannelsReader(pool: Pool, schema: string): ReturnType<typeof runChannelsReader> {
  const bySchema = readers.get(pool) ?? new Map<string, ReturnType<typeof runChannelsReader>>();
  readers.set(pool, bySchema);
  let reader = bySchema.get(schema);
  if (!reader) bySchema.set(schema, (reader = runChannelsReader(pool, schema)));
  return reader;
}
