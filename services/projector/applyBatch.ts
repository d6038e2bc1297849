import type { RawMessage } from '../../platform/eventStore/index.ts';
import type { Logger } from '../../platform/logger.ts';
import { tablesIn, type Pool, type PoolClient, type QueryResult, type TableNamer } from '../../platform/postgres.ts';
import { READ_MODELS_CHECKPOINT as CHECKPOINT } from '../../platform/projectionWait.ts';
import { parkStatement, statementsFor, type Statement } from './reference/eventStatements.ts';
import {
  packBatch,
  prepareBatch,
  unpackBatch,
  type PackedBatch,
  type PreparedBatch,
  type Unreadable,
} from './batch/preparedBatch.ts';
import { parkedRow, readStoredMessage, type StoredMessage } from './storedMessage.ts';

export { CHECKPOINT };

export type ProjectorHooks = {
  onApplied?: (lastSeq: number, count: number) => void;
  onParked?: (seq: number, reason: string) => void;
};

/** The checkpoint moved behind what this reader has delivered (a rebuild swapped the schema): start over from it. */
export class CheckpointRewound extends Error {}

const isDataError = (error: unknown) => {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^(22|23|42)/.test(code);
};

function reportUnreadable({ seq, subject, reason }: Unreadable, hooks: ProjectorHooks, logger: Logger): void {
  logger.warn({ seq, subject, reason }, 'parked an event the projector cannot read');
  hooks.onParked?.(seq, reason);
}

/** One message's statements, one event at a time: its events' SQL, or parking it when it cannot be read. */
function messageStatements(t: TableNamer, message: StoredMessage): Statement[] {
  if (message.unreadable !== undefined) return [parkStatement(parkedRow(message.raw, message.unreadable), t)];
  const { raw, occurredAt } = message;
  return message.events.flatMap((event, position) => statementsFor(event, { seq: raw.seq, position, occurredAt }, t));
}

async function run(client: PoolClient, statements: readonly Statement[]): Promise<void> {
  for (const s of statements) await client.query(s.text, s.values);
}

/** The messages one by one, a savepoint each: a message whose SQL Postgres refuses on its data is parked. */
async function applyOneByOne(
  client: PoolClient,
  t: TableNamer,
  messages: readonly StoredMessage[],
  hooks: ProjectorHooks,
  logger: Logger,
): Promise<void> {
  for (const message of messages) {
    await client.query('SAVEPOINT one_event');
    try {
      await run(client, messageStatements(t, message));
      await client.query('RELEASE SAVEPOINT one_event');
      if (message.unreadable !== undefined)
        reportUnreadable(
          { seq: message.raw.seq, subject: message.raw.subject, reason: message.unreadable },
          hooks,
          logger,
        );
    } catch (error) {
      if (!isDataError(error)) throw error;
      await client.query('ROLLBACK TO SAVEPOINT one_event');
      const { raw } = message;
      const reason = `read model refused it: ${(error as Error).message}`;
      logger.warn({ seq: raw.seq, subject: raw.subject, reason }, 'parked an event the read models refuse');
      await run(client, [parkStatement(parkedRow(raw, reason), t)]);
      hooks.onParked?.(raw.seq, reason);
    }
  }
}

/**
 * Apply a batch and advance the checkpoint in one transaction, so a crash never applies an event twice
 * or skips one. Messages at or below the checkpoint (another instance got there first) are skipped.
 * The batch goes in as a few set-based statements per table; if Postgres refuses them on their data, the
 * batch is applied again one message at a time, parking the messages it refuses.
 */
export async function applyBatch(
  pool: Pool,
  schema: string,
  batch: RawMessage[],
  hooks: ProjectorHooks,
  logger: Logger,
  oneByOne = false,
): Promise<number> {
  return applyPrepared(
    pool,
    schema,
    packBatch(batch),
    prepareBatch(batch.map(readStoredMessage), schema),
    hooks,
    logger,
    oneByOne,
  );
}

/** applyBatch for a batch already prepared (the projector prepares the next batch while this one is applied). */
export async function applyPrepared(
  pool: Pool,
  schema: string,
  batch: PackedBatch,
  prepared: PreparedBatch,
  hooks: ProjectorHooks,
  logger: Logger,
  oneByOne = false,
): Promise<number> {
  const t = tablesIn(schema);
  const client = await pool.connect();
  try {
    // Not waiting for the commit's WAL flush is safe here: a crash loses the batch and its checkpoint together,
    // and the batch is simply applied again. The join settings are for setStatements (see there). The transaction
    // opens and takes the checkpoint's lock in one round trip, and closes with it in another.
    const opened = (await client.query(
      `BEGIN; SET LOCAL synchronous_commit = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off;
       SELECT seq FROM ${t('checkpoints')} WHERE name = ${client.escapeLiteral(CHECKPOINT)} FOR UPDATE`,
    )) as unknown as QueryResult<{ seq: number }>[];
    const checkpoint = opened.at(-1)!.rows[0]?.seq ?? 0;
    const first = batch.seqs[0]!;
    if (checkpoint < batch.after)
      throw new CheckpointRewound(
        `checkpoint ${checkpoint} is behind batch start ${first} (read after ${batch.after})`,
      );
    const whole = checkpoint < first;
    const todo = () => unpackBatch(batch).filter((m) => m.seq > checkpoint);
    const applied = whole ? batch.seqs.length : batch.seqs.filter((seq) => seq > checkpoint).length;
    if (oneByOne) await applyOneByOne(client, t, todo().map(readStoredMessage), hooks, logger);
    else {
      // Part of the batch already applied (by another instance): what is left is prepared again, here.
      const changes = whole ? prepared : prepareBatch(todo().map(readStoredMessage), schema);
      await run(client, changes.statements);
      for (const unreadable of changes.unreadable) reportUnreadable(unreadable, hooks, logger);
    }
    const last = Math.max(checkpoint, batch.seqs.at(-1)!);
    await client.query(
      `INSERT INTO ${t('checkpoints')} (name, seq) VALUES (${client.escapeLiteral(CHECKPOINT)}, ${last})
       ON CONFLICT (name) DO UPDATE SET seq = EXCLUDED.seq; COMMIT`,
    );
    if (applied > 0) hooks.onApplied?.(last, applied);
    return last;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    if (!oneByOne && isDataError(error)) return applyPrepared(pool, schema, batch, prepared, hooks, logger, true);
    throw error;
  } finally {
    client.release();
  }
}
