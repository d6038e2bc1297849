/**
 * Applies batches one after another, in order, while the caller reads and decodes the next one: `write`
 * resolves once the batch before this one is applied, so the reader runs at most one batch ahead. After a
 * failure no later batch is applied; `onFailure` hears of it at once (the projector stops its reader, so an
 * idle log cannot hide the error) and `drain` rejects with it.
 */
export class BatchWriter<Batch> {
  private last: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly apply: (batch: Batch) => Promise<unknown>,
    private readonly onFailure: (error: unknown) => void,
  ) {}

  async write(batch: Batch): Promise<void> {
    const previous = this.last;
    this.last = previous.then(() => this.apply(batch));
    this.last.catch(this.onFailure);
    await previous;
  }

  /** Resolves once every batch written is applied; rejects with the first failure. */
  async drain(): Promise<void> {
    await this.last;
  }
}
