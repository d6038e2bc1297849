// The thread a rebuild decodes and folds its batches on, while the main thread reads the log and talks to Postgres.
import { parentPort } from 'node:worker_threads';
import { preparePacked, type PackedBatch, type PreparedBatch } from './preparedBatch.ts';

export type PrepareRequest = { id: number; packed: PackedBatch; schema: string };
export type PrepareReply = { id: number; prepared: PreparedBatch } | { id: number; error: string };

const port = parentPort;
if (!port) throw new Error('prepareWorker.ts runs as a worker thread (see batchPreparer.ts)');
port.on('message', ({ id, packed, schema }: PrepareRequest) => {
  let reply: PrepareReply;
  try {
    reply = { id, prepared: preparePacked(packed, schema) };
  } catch (error) {
    reply = { id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  port.postMessage(reply);
});
