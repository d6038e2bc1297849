/**
 * Applies batches one after another, in order, while the caller reads and prepares the next ones: `write`
 * resolves once the batch `ahead` places before this one is applied, so the reader runs at most that many
 * batches ahead. After a failure no later batch is applied; `onFailure` hears of it at once (the projector stops
 * its reader, so an idle log cannot hide the error) and `drain` rejects with it.
 */
export class BatchWriter<Batch> {
  private last: Promise<unknown> = Promise.resolve();
  /** Completions of the batches written and not yet waited for, oldest first. */
  private readonly inFlight: Promise<unknown>[] = [];

  constructor(
    private readonly apply: (batch: Batch) => Promise<unknown>,
    private readonly onFailure: (error: unknown) => void,
    private readonly ahead = 1,
  ) {}

  async write(batch: Batch): Promise<void> {
    this.inFlight.push(this.last);
    this.last = this.last.then(() => this.apply(batch));
    this.last.catch(this.onFailure);
    if (this.inFlight.length >= this.ahead) await this.inFlight.shift();
  }

  /** Resolves once every batch written is applied; rejects with the first failure. */
  async drain(): Promise<void> {
    await this.last;
  }
}
