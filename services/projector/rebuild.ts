import type { EventStore } from '../../platform/eventStore/index.ts';
import type { Logger } from '../../platform/logger.ts';
import { quoteIdent, tablesIn, type Pool } from '../../platform/postgres.ts';
import { CHECKPOINT, migrateSchema, readCheckpoint, runProjector } from './projector.ts';
import { deferredIndexes, readModelTables } from './migrations.ts';

export type Progress = (applied: number, total: number) => void;

/** A replay works through a long backlog: bigger batches than a live projector's, so fewer transactions. */
const REPLAY_BATCH_SIZE = 5_000;

/** Secondary indexes built at once after a replay: two at a time, one per core of a small machine. */
const INDEX_BUILDS_AT_ONCE = 2;

/**
 * Replay the log from sequence 1 up to `untilSeq` into a new empty schema. Its secondary indexes are built once
 * the tables are full: nobody reads the schema before then, and one sort per index is far cheaper than keeping it
 * up to date row by row.
 */
export async function replayInto(options: {
  store: EventStore;
  pool: Pool;
  schema: string;
  untilSeq: number;
  logger: Logger;
  onProgress?: Progress;
  batchSize?: number;
}) {
  await options.pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(options.schema)} CASCADE`);
  await migrateSchema(options.pool, options.schema, { deferIndexes: true });
  await runProjector({
    store: options.store,
    pool: options.pool,
    schema: options.schema,
    logger: options.logger,
    untilSeq: options.untilSeq,
    batchSize: options.batchSize ?? REPLAY_BATCH_SIZE,
    hooks: { onApplied: (seq) => options.onProgress?.(seq, options.untilSeq) },
  });
  const todo = deferredIndexes(options.schema);
  await Promise.all(
    Array.from({ length: INDEX_BUILDS_AT_ONCE }, async () => {
      for (let index = todo.shift(); index !== undefined; index = todo.shift()) await options.pool.query(index);
    }),
  );
}

/**
 * Rebuild = new empty schema, replay from sequence 1, swap. The live projector notices its checkpoint
 * moved and catches up from the rebuilt one.
 */
export async function rebuildReadModels(options: {
  store: EventStore;
  pool: Pool;
  schema: string;
  logger: Logger;
  onProgress?: Progress;
  batchSize?: number;
}): Promise<number> {
  const target = `${options.schema}_rebuild`;
  const untilSeq = await options.store.lastSeq();
  await replayInto({ ...options, schema: target, untilSeq });
  const client = await options.pool.connect();
  try {
    await client.query('BEGIN');
    const live = await client.query(`SELECT 1 FROM information_schema.schemata WHERE schema_name = $1`, [
      options.schema,
    ]);
    if (live.rowCount) {
      // Hold the live checkpoint so no projector batch commits into the schema being swapped out.
      await client.query(`SELECT seq FROM ${tablesIn(options.schema)('checkpoints')} WHERE name = $1 FOR UPDATE`, [
        CHECKPOINT,
      ]);
      await client.query(`ALTER SCHEMA ${quoteIdent(options.schema)} RENAME TO ${quoteIdent(`${options.schema}_old`)}`);
    }
    await client.query(`ALTER SCHEMA ${quoteIdent(target)} RENAME TO ${quoteIdent(options.schema)}`);
    if (live.rowCount) await client.query(`DROP SCHEMA ${quoteIdent(`${options.schema}_old`)} CASCADE`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
  return untilSeq;
}

export type TableDifference = { table: string; onlyInLive: number; onlyInRebuilt: number; sample: unknown[] };

/** Compare two read-model schemas row for row; an empty list means identical. */
export async function compareSchemas(pool: Pool, live: string, rebuilt: string): Promise<TableDifference[]> {
  const a = tablesIn(live);
  const b = tablesIn(rebuilt);
  const differences: TableDifference[] = [];
  for (const table of readModelTables) {
    const onlyA = await pool.query(`SELECT * FROM ${a(table)} EXCEPT ALL SELECT * FROM ${b(table)}`);
    const onlyB = await pool.query(`SELECT * FROM ${b(table)} EXCEPT ALL SELECT * FROM ${a(table)}`);
    if (onlyA.rowCount || onlyB.rowCount) {
      differences.push({
        table,
        onlyInLive: onlyA.rowCount ?? 0,
        onlyInRebuilt: onlyB.rowCount ?? 0,
        sample: [...onlyA.rows, ...onlyB.rows].slice(0, 3),
      });
    }
  }
  return differences;
}

/**
 * Rebuild beside the live schema up to the live checkpoint and compare row for row. If the live
 * projector moves meanwhile, the replica catches up and compares again.
 */
export async function verifyReadModels(options: {
  store: EventStore;
  pool: Pool;
  schema: string;
  logger: Logger;
  onProgress?: Progress;
}): Promise<{ seq: number; differences: TableDifference[] }> {
  const replica = `${options.schema}_verify`;
  let target = await readCheckpoint(options.pool, options.schema);
  await replayInto({ ...options, schema: replica, untilSeq: target });
  for (let attempt = 0; attempt < 10; attempt++) {
    const live = await readCheckpoint(options.pool, options.schema);
    if (live > target) {
      await runProjector({
        store: options.store,
        pool: options.pool,
        schema: replica,
        logger: options.logger,
        untilSeq: live,
      });
      target = live;
      continue;
    }
    const differences = await compareSchemas(options.pool, options.schema, replica);
    if ((await readCheckpoint(options.pool, options.schema)) !== target) continue;
    await options.pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(replica)} CASCADE`);
    return { seq: target, differences };
  }
  throw new Error('the live read models kept moving; run verify again when traffic is lower');
}
