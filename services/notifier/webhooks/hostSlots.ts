/**
 * At most `perHost` deliveries to one host at a time, and at most as many more waiting for one of them (each up to
 * `maxWaitMs`): a slow endpoint holds that many senders, and the others go on to other hosts. A delivery that finds
 * even the queue full gets no slot (it is looked at again shortly), unless the host is moving: a slot of it changed
 * hands within the last `movingMs`. Then it waits up to `movingMs` too, as a host that answers fast frees a slot in
 * moments; a delivery turned away would be looked at again only after half a second or more, long after the slot
 * came free (one host taking a run's webhooks, such as Slack's, sent at a fraction of its pace). A host that stops
 * answering stops moving within `movingMs`, and from then on holds only its own slots and queue.
 */
export class HostSlots {
  private readonly busy = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();
  /** When a slot of each busy host was last taken or passed on. */
  private readonly moved = new Map<string, number>();

  constructor(
    private readonly perHost: number,
    private readonly maxWaitMs = 2_000,
    private readonly movingMs = 100,
    private readonly now: () => number = Date.now,
  ) {}

  /** A slot for `host`, to be released once the request ended; undefined when none came free in time. */
  async take(host: string): Promise<(() => void) | undefined> {
    if ((this.busy.get(host) ?? 0) >= this.perHost) {
      const queue = this.waiting.get(host) ?? [];
      const moving = this.now() - (this.moved.get(host) ?? -Infinity) < this.movingMs;
      if (queue.length >= this.perHost && !moving) return undefined;
      this.waiting.set(host, queue);
      const woken = await new Promise<boolean>((resolve) => {
        const wake = () => (clearTimeout(timer), resolve(true));
        const timer = setTimeout(
          () => {
            queue.splice(queue.indexOf(wake), 1);
            resolve(false);
          },
          queue.length >= this.perHost ? this.movingMs : this.maxWaitMs,
        );
        queue.push(wake);
      });
      // Woken: the slot of the request that ended passed to this one, busy count unchanged.
      if (!woken) return undefined;
    } else this.busy.set(host, (this.busy.get(host) ?? 0) + 1);
    this.moved.set(host, this.now());
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.get(host)?.shift();
      if (next) return next();
      const left = (this.busy.get(host) ?? 1) - 1;
      if (left === 0) {
        this.busy.delete(host);
        this.moved.delete(host);
      } else this.busy.set(host, left);
      if (this.waiting.get(host)?.length === 0) this.waiting.delete(host);
    };
  }
}
