import { Worker } from 'node:worker_threads';
import { preparePacked, type PackedBatch, type PreparedBatch } from './preparedBatch.ts';
import type { PrepareReply, PrepareRequest } from './prepareWorker.ts';

/** Batches this big (a backlog, a rebuild) are prepared on a worker thread; a live projector's few messages right here. */
export const WORKER_MIN_BATCH = 256;

/**
 * Decodes batches and folds them into statements, big ones on a worker thread started on first need: a rebuild
 * keeps one core busy reading NATS and another decoding, instead of doing both on one. Close it when done.
 */
export class BatchPreparer {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (prepared: PreparedBatch) => void; reject: (error: Error) => void }>();

  constructor(
    private readonly schema: string,
    private readonly minBatch = WORKER_MIN_BATCH,
  ) {}

  /**
   * The batch's statements; a rejected promise if the worker failed (the projector retries from its checkpoint).
   * The worker gets a copy of the batch: the caller keeps it, to prepare it again should part of it be applied already.
   */
  prepare(batch: PackedBatch): Promise<PreparedBatch> {
    if (batch.seqs.length < this.minBatch) return Promise.resolve(preparePacked(batch, this.schema));
    const worker = (this.worker ??= this.start());
    const id = ++this.nextId;
    const request: PrepareRequest = { id, packed: batch, schema: this.schema };
    const prepared = new Promise<PreparedBatch>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    worker.postMessage(request);
    return prepared;
  }

  /** How many batches went to the worker thread so far (tests check big batches do). */
  get sentToWorker(): number {
    return this.nextId;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private start(): Worker {
    const worker = new Worker(new URL('./prepareWorker.boot.mjs', import.meta.url));
    const failAll = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const { reject } of this.waiting.values()) reject(error);
      this.waiting.clear();
    };
    worker.on('message', (reply: PrepareReply) => {
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if ('error' in reply) waiter?.reject(new Error(`preparing a batch failed: ${reply.error}`));
      else waiter?.resolve(reply.prepared);
    });
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`the batch-preparing thread stopped (exit code ${code})`)));
    return worker;
  }
}
