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

  /** `run` answers a batch, one result per item in the same order. */
  constructor(
    private readonly run: (items: In[]) => Promise<Out[]>,
    options: { maxBatch?: number; maxInFlight?: number } = {},
  ) {
    this.maxBatch = options.maxBatch ?? 256;
    this.maxInFlight = options.maxInFlight ?? 2;
  }

  lookup(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.sendWaiting();
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
