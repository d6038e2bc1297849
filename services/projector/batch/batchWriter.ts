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
  /** Batches written and not yet applied (nor failed). */
  private unapplied = 0;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly apply: (batch: Batch) => Promise<unknown>,
    private readonly onFailure: (error: unknown) => void,
    private readonly ahead = 1,
  ) {}

  async write(batch: Batch): Promise<void> {
    this.inFlight.push(this.last);
    this.unapplied++;
    this.last = this.last.then(() => this.apply(batch));
    this.last.catch(this.onFailure);
    const settled = () => {
      if (--this.unapplied === 0) for (const waiter of this.idleWaiters.splice(0)) waiter();
    };
    this.last.then(settled, settled);
    if (this.inFlight.length >= this.ahead) await this.inFlight.shift();
  }

  /** No batch written is waiting to be applied. */
  get idle(): boolean {
    return this.unapplied === 0;
  }

  /** Calls `then` once no batch written is waiting to be applied (at once if none is). */
  whenIdle(then: () => void): void {
    if (this.unapplied === 0) then();
    else this.idleWaiters.push(then);
  }

  /** Resolves once every batch written is applied; rejects with the first failure. */
  async drain(): Promise<void> {
    await this.last;
  }
}
