import { decodeEvents, EventDecodeError } from '../../events/index.ts';
import type { EventStore, RawMessage } from '../../platform/eventStore.ts';
import type { Logger } from '../../platform/logger.ts';
import { tablesIn, type Pool, type PoolClient, type TableNamer } from '../../platform/postgres.ts';
import { statementsFor, type Statement } from './applyEvent.ts';
import { batchStatements } from './batchStatements.ts';
import { migrate } from './migrations.ts';

import { READ_MODELS_CHECKPOINT as CHECKPOINT } from '../../platform/projectionWait.ts';

export { CHECKPOINT };

export type ProjectorHooks = {
  onApplied?: (lastSeq: number, count: number) => void;
  onParked?: (seq: number, reason: string) => void;
};

/** The checkpoint moved behind what this reader has delivered (a rebuild swapped the schema): start over from it. */
class CheckpointRewound extends Error {}

const isDataError = (error: unknown) => {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^(22|23|42)/.test(code);
};

function parkStatement(t: TableNamer, raw: RawMessage, reason: string): Statement {
  return {
    text: `INSERT INTO ${t('parked_events')} (seq, subject, reason, headers, body) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
    values: [raw.seq, raw.subject, reason, JSON.stringify(raw.headers), Buffer.from(raw.body).toString('utf8').replaceAll('\u0000', '\uFFFD')],
    appendOnly: true,
  };
}

/** The statements one stored message makes: its events' SQL, or parking it when it cannot be read. */
function messageStatements(t: TableNamer, raw: RawMessage, hooks: ProjectorHooks, logger: Logger): Statement[] {
  let decoded;
  try {
    decoded = decodeEvents(raw.headers, raw.body);
  } catch (error) {
    if (!(error instanceof EventDecodeError)) throw error;
    logger.warn({ seq: raw.seq, subject: raw.subject, reason: error.message }, 'parked an event the projector cannot read');
    hooks.onParked?.(raw.seq, error.message);
    return [parkStatement(t, raw, error.message)];
  }
  return decoded.events.flatMap((event, position) => statementsFor(event, { seq: raw.seq, position, occurredAt: decoded.meta.occurredAt }, t));
}

async function run(client: PoolClient, statements: readonly Statement[]): Promise<void> {
  for (const s of statements) await client.query(s.text, s.values);
}

/**
 * Apply a batch and advance the checkpoint in one transaction, so a crash never applies an event twice
 * or skips one. Messages at or below the checkpoint (another instance got there first) are skipped.
 * A message whose SQL fails on its data is parked (savepoint per message) instead of blocking the rest.
 */
export async function applyBatch(pool: Pool, schema: string, batch: RawMessage[], hooks: ProjectorHooks, logger: Logger, isolate = false): Promise<number> {
  const t = tablesIn(schema);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const row = await client.query<{ seq: number }>(`SELECT seq FROM ${t('checkpoints')} WHERE name = $1 FOR UPDATE`, [CHECKPOINT]);
    const checkpoint = row.rows[0]?.seq ?? 0;
    if (checkpoint < batch[0]!.seq - 1) throw new CheckpointRewound(`checkpoint ${checkpoint} is behind batch start ${batch[0]!.seq}`);
    const todo = batch.filter((m) => m.seq > checkpoint);
    if (!isolate) {
      // The whole batch in as few round trips as its statements allow (see batchStatements).
      await run(client, batchStatements(todo.flatMap((raw) => messageStatements(t, raw, hooks, logger))));
    } else {
      for (const raw of todo) {
        await client.query('SAVEPOINT one_event');
        try {
          await run(client, messageStatements(t, raw, hooks, logger));
          await client.query('RELEASE SAVEPOINT one_event');
        } catch (error) {
          if (!isDataError(error)) throw error;
          await client.query('ROLLBACK TO SAVEPOINT one_event');
          const reason = `read model refused it: ${(error as Error).message}`;
          logger.warn({ seq: raw.seq, subject: raw.subject, reason }, 'parked an event the read models refuse');
          await run(client, [parkStatement(t, raw, reason)]);
          hooks.onParked?.(raw.seq, reason);
        }
      }
    }
    const last = Math.max(checkpoint, batch.at(-1)!.seq);
    await client.query(
      `INSERT INTO ${t('checkpoints')} (name, seq) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET seq = EXCLUDED.seq`,
      [CHECKPOINT, last],
    );
    await client.query('COMMIT');
    if (todo.length > 0) hooks.onApplied?.(last, todo.length);
    return last;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    if (!isolate && isDataError(error)) return applyBatch(pool, schema, batch, hooks, logger, true);
    throw error;
  } finally {
    client.release();
  }
}

export async function readCheckpoint(pool: Pool, schema: string): Promise<number> {
  const r = await pool.query<{ seq: number }>(`SELECT seq FROM ${tablesIn(schema)('checkpoints')} WHERE name = $1`, [CHECKPOINT]);
  return r.rows[0]?.seq ?? 0;
}

export async function migrateSchema(pool: Pool, schema: string): Promise<void> {
  const client = await pool.connect();
  try {
    await migrate(client, schema);
  } finally {
    client.release();
  }
}

const IDLE = Symbol('idle');
const IDLE_FLUSH_MS = 50;
const idle = (ms: number) => new Promise<typeof IDLE>((resolve) => setTimeout(() => resolve(IDLE), ms));

export type ProjectorOptions = {
  store: EventStore;
  pool: Pool;
  schema: string;
  logger: Logger;
  batchSize?: number;
  /** Stop following at this sequence (rebuilds); otherwise follow the log until `signal` aborts. */
  untilSeq?: number;
  signal?: AbortSignal;
  hooks?: ProjectorHooks;
  retryDelayMs?: number;
};

/** Follow the log into the read models. Survives Postgres and NATS outages by retrying from its checkpoint. */
export async function runProjector(options: ProjectorOptions): Promise<void> {
  const { store, pool, schema, logger, signal } = options;
  const batchSize = options.batchSize ?? 500;
  const hooks = options.hooks ?? {};
  const retryDelay = options.retryDelayMs ?? 1_000;
  let migrated = false;
  while (!signal?.aborted) {
    try {
      if (!migrated) {
        await migrateSchema(pool, schema);
        migrated = true;
      }
      const from = (await readCheckpoint(pool, schema)) + 1;
      if (options.untilSeq !== undefined && from > options.untilSeq) return;
      let batch: RawMessage[] = [];
      // Our own stop signal too: leaving this loop early (an error) must close the reader it prefetches from.
      const reading = new AbortController();
      const stopReading = () => reading.abort();
      signal?.addEventListener('abort', stopReading, { once: true });
      if (signal?.aborted) stopReading();
      const reader = store.read({ fromSeq: from, ...(options.untilSeq !== undefined ? { untilSeq: options.untilSeq } : { follow: true }), signal: reading.signal });
      const messages = reader[Symbol.asyncIterator]();
      const prefetch = () => {
        const promise = messages.next();
        promise.catch(() => {}); // observed when awaited; never an unhandled rejection meanwhile
        return promise;
      };
      let next = prefetch();
      try {
      for (;;) {
        // A part-filled batch is applied as soon as the log goes quiet, whatever "pending" last said.
        const step = batch.length === 0 ? await next : await Promise.race([next, idle(IDLE_FLUSH_MS)]);
        if (step === IDLE) {
          await applyBatch(pool, schema, batch, hooks, logger);
          batch = [];
          continue;
        }
        if (step.done) break;
        next = prefetch();
        const raw = step.value;
        batch.push(raw);
        if (batch.length >= batchSize || raw.pending === 0 || raw.seq === options.untilSeq) {
          await applyBatch(pool, schema, batch, hooks, logger);
          batch = [];
        }
      }
      if (batch.length > 0) await applyBatch(pool, schema, batch, hooks, logger);
      } finally {
        reading.abort();
        signal?.removeEventListener('abort', stopReading);
        void messages.return(undefined).catch(() => {});
      }
      if (options.untilSeq !== undefined) return;
    } catch (error) {
      if (signal?.aborted) return;
      if (error instanceof CheckpointRewound) {
        logger.info({ reason: error.message }, 'projector restarting from its checkpoint');
        continue;
      }
      logger.error({ err: error }, `projector failed; retrying in ${retryDelay} ms`);
      await new Promise((r) => setTimeout(r, retryDelay));
    }
  }
}
