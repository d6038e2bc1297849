type Waiting<In, Out> = { item: In; resolve: (value: Out) => void; reject: (error: unknown) => void };

/**
 * Lookups of one kind answered together: a lookup is never added to a query already sent, it waits for the next one,
 * which carries every lookup asked meanwhile. So each answer comes from a query that started after it was asked (it
 * sees every change committed before, as a query of its own would), and under load one round trip answers many
 * requests instead of one each. A few queries may run at once, so one slow round trip does not hold everything up.
 */
export class BatchedLookup<In, Out> {
  private readonly waiting: Waiting<In, Out>[] = [];
  private inFlight = 0;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly gather: (() => Promise<void>) | undefined;
  private gathering = false;

  /**
   * `run` answers a batch, one result per item in the same order. `gather`: what a lookup that could be sent at once
   * waits for first, so that the lookups asked meanwhile go with it (platform/sameTurn.ts: the rest of the turn).
   */
  constructor(
    private readonly run: (items: In[]) => Promise<Out[]>,
    options: { maxBatch?: number; maxInFlight?: number; gather?: () => Promise<void> } = {},
  ) {
    this.maxBatch = options.maxBatch ?? 256;
    this.maxInFlight = options.maxInFlight ?? 2;
    this.gather = options.gather;
  }

  lookup(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (!this.gather) return this.sendWaiting();
      if (this.gathering || this.inFlight >= this.maxInFlight) return;
      this.gathering = true;
      void this.gather().then(() => {
        this.gathering = false;
        this.sendWaiting();
      });
    });
  }

  private sendWaiting(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.length > 0)
      void this.send(this.waiting.splice(0, this.maxBatch));
  }

  private async send(batch: Waiting<In, Out>[]): Promise<void> {
    this.inFlight++;
    try {
      const results = await this.run(batch.map((w) => w.item));
      if (results.length !== batch.length)
        throw new Error(`a batch of ${batch.length} lookups got ${results.length} answers`);
      batch.forEach((w, i) => w.resolve(results[i]!));
    } catch (error) {
      for (const w of batch) w.reject(error);
    } finally {
      this.inFlight--;
      this.sendWaiting();
    }
  }
}
