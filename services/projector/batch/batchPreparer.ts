import { Worker } from 'node:worker_threads';
import { preparePacked, type PackedBatch, type PreparedBatch } from './preparedBatch.ts';
import type { PrepareReply, PrepareRequest } from './prepareWorker.ts';

/** Batches this big (a backlog, a rebuild) are prepared on a worker thread; a live projector's few messages right here. */
export const WORKER_MIN_BATCH = 256;

export type BatchPreparerOptions = {
  minBatch?: number;
  /** Told once when the worker thread fails: this preparer works on the calling thread from then on. */
  onWorkerFailure?: (error: Error) => void;
  /** The worker's entry (tests start a broken one). */
  workerUrl?: URL;
};

type Waiting = { batch: PackedBatch; resolve: (prepared: PreparedBatch) => void; reject: (error: Error) => void };

/**
 * Decodes batches and folds them into statements, big ones on a worker thread started on first need: a rebuild
 * keeps one core busy reading NATS and another decoding, instead of doing both on one. A worker that fails (it
 * could not start, or died) costs speed, not progress: its batches and every later one are prepared right here.
 * Close it when done.
 */
export class BatchPreparer {
  private worker: Worker | undefined;
  private workerFailed = false;
  private closing = false;
  private nextId = 0;
  private readonly waiting = new Map<number, Waiting>();

  constructor(
    private readonly schema: string,
    private readonly options: BatchPreparerOptions = {},
  ) {}

  /**
   * The batch's statements, or why they could not be made (then the projector retries from its checkpoint). The
   * worker gets a copy of the batch: the caller keeps it, to prepare it again should part of it be applied already.
   */
  prepare(batch: PackedBatch): Promise<PreparedBatch> {
    if (batch.seqs.length < (this.options.minBatch ?? WORKER_MIN_BATCH) || this.workerFailed)
      return this.prepareHere(batch);
    const worker = (this.worker ??= this.start());
    const id = ++this.nextId;
    const request: PrepareRequest = { id, packed: batch, schema: this.schema };
    const prepared = new Promise<PreparedBatch>((resolve, reject) => this.waiting.set(id, { batch, resolve, reject }));
    worker.postMessage(request);
    return prepared;
  }

  /** How many batches went to the worker thread so far (tests check big batches do). */
  get sentToWorker(): number {
    return this.nextId;
  }

  /** Stop the worker; batches it had not prepared yet are rejected (nobody will apply them). */
  async close(): Promise<void> {
    this.closing = true;
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
    for (const { reject } of this.waiting.values()) reject(new Error('the batch preparer was closed'));
    this.waiting.clear();
  }

  private prepareHere(batch: PackedBatch): Promise<PreparedBatch> {
    try {
      return Promise.resolve(preparePacked(batch, this.schema));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  private start(): Worker {
    const worker = new Worker(this.options.workerUrl ?? new URL('./prepareWorker.boot.mjs', import.meta.url));
    const failed = (error: Error) => {
      if (this.closing || this.workerFailed) return;
      this.workerFailed = true;
      this.worker = undefined;
      void worker.terminate();
      this.options.onWorkerFailure?.(error);
      const orphans = [...this.waiting.values()];
      this.waiting.clear();
      for (const { batch, resolve, reject } of orphans) this.prepareHere(batch).then(resolve, reject);
    };
    worker.on('message', (reply: PrepareReply) => {
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if ('error' in reply) waiter?.reject(new Error(`preparing a batch failed: ${reply.error}`));
      else waiter?.resolve(reply.prepared);
    });
    worker.on('error', failed);
    worker.on('exit', (code) => failed(new Error(`the batch-preparing thread stopped (exit code ${code})`)));
    return worker;
  }
}
