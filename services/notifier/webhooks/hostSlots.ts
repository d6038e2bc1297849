/**
 * At most `perHost` deliveries to one host at a time, and at most as many more waiting for one of them: a slow
 * endpoint holds that many senders, and the others go on to other hosts. A delivery that finds even the queue full,
 * or waits longer than `maxWaitMs`, gets no slot: it is looked at again shortly.
 */
export class HostSlots {
  private readonly busy = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(
    private readonly perHost: number,
    private readonly maxWaitMs = 2_000,
  ) {}

  /** A slot for `host`, to be released once the request ended; undefined when none came free in time. */
  async take(host: string): Promise<(() => void) | undefined> {
    if ((this.busy.get(host) ?? 0) >= this.perHost) {
      const queue = this.waiting.get(host) ?? [];
      if (queue.length >= this.perHost) return undefined;
      this.waiting.set(host, queue);
      const woken = await new Promise<boolean>((resolve) => {
        const wake = () => (clearTimeout(timer), resolve(true));
        const timer = setTimeout(() => {
          queue.splice(queue.indexOf(wake), 1);
          resolve(false);
        }, this.maxWaitMs);
        queue.push(wake);
      });
      // Woken: the slot of the request that ended passed to this one, busy count unchanged.
      if (!woken) return undefined;
    } else this.busy.set(host, (this.busy.get(host) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.get(host)?.shift();
      if (next) return next();
      const left = (this.busy.get(host) ?? 1) - 1;
      if (left === 0) this.busy.delete(host);
      else this.busy.set(host, left);
      if (this.waiting.get(host)?.length === 0) this.waiting.delete(host);
    };
  }
}
